"""Fuzzing the clerk's side of the running reference backend (issue 15), over real HTTP.

- Schemathesis on every ``/api/v1/clerk/…`` operation, with valid *and* invalid data
  (positive and negative generation): never a server error, invalid data refused with a 4xx,
  every answer as the contract says.
- Hypothesis on what the clerk gate sees before anything else: any ``Authorization`` header
  is a 401 or a 429, never a crash and never a way in.
- Hypothesis on the clerk's HTML forms (decide, issue, re-issue, 补正, review) with any field
  values: a page or a redirect, never a 500.

Bounded in the suite; ``KIOSK_FUZZ_EXAMPLES`` (``benchmarks/fuzz.py``) runs them long.
"""
from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backend_support import clerk_decide, jpeg_page, person, pick_item, required_pages, start_reference_backend
from fuzz_profiles import fuzz_examples, fuzz_settings
from kiosk.backend import models as m
from refbackend.throttle import MemoryLoginThrottle, Rule

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"
UNTHROTTLED = {"client": Rule(limit=10 ** 9), "account": Rule(limit=10 ** 9)}
REAL_IDS: dict[str, str] = {}
CLERK: dict[str, str] = {}


def _case(backend, key: str, name: str) -> str:
    client = backend.client()
    item = pick_item("承诺件")
    app = client.create_application(m.ApplicationCreate(item_code=item.code, applicant=person(name)), key + "-a")
    for index, _, content_type, data in required_pages(item, jpeg_page(20 * 1024)):
        client.upload_page(app.application_id, index, 1, data, content_type)
    case = client.submit_application(app.application_id, m.SubmitRequest(declaration_accepted=True), key + "-s")
    client.close()
    return case.acceptance_number


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A backend with cases in several states; the login throttle out of the way of Schemathesis'
    spoiled-credential checks (its own tests are in tests/kiosk/backend/test_http_hardening.py)."""
    backend = start_reference_backend(tmp_path_factory.mktemp("clerk-fuzz") / "backend.sqlite3",
                                      throttle=MemoryLoginThrottle(UNTHROTTLED))
    waiting = _case(backend, "fuzz-case-1", "李雷")
    approved = _case(backend, "fuzz-case-2", "韩梅梅")
    clerk_decide(backend, approved)
    client = backend.client()
    call = client.call_staff(m.StaffCallCreate(screen="home", called_at=datetime.now(timezone.utc)), "fuzz-call-1")
    client.close()
    REAL_IDS.update(acceptance_number=waiting, call_id=call.call_id, code=pick_item("承诺件").code,
                    approved=approved)
    CLERK["header"] = "Basic " + base64.b64encode(f"clerk:{backend.running.clerk_password}".encode()).decode()
    yield backend
    backend.stop()
    CLERK.clear()


schema = schemathesis.openapi.from_path(str(OPENAPI)).include(path_regex=r"^/api/v1/clerk/")
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


CLERK_ME = "Basic clerk-me"


@schema.auth(refresh_interval=None, retry_on=[])
class ClerkLogin:
    """Marks the request; ``RealLogin`` swaps in the password once the backend runs (Schemathesis
    asks for credentials while collecting, before any fixture)."""

    def get(self, case, context):
        return CLERK_ME

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


class RealLogin(requests.auth.AuthBase):
    def __call__(self, request):
        if request.headers.get("Authorization") == CLERK_ME:
            request.headers["Authorization"] = CLERK["header"]
        return request


@pytest.fixture(scope="module")
def clerk_session(reference):
    session = requests.Session()
    session.auth = RealLogin()
    yield session
    session.close()


@schema.parametrize()
@settings(max_examples=fuzz_examples(15), deadline=None, suppress_health_check=list(HealthCheck))
def test_the_clerk_api_keeps_its_contract_on_valid_and_invalid_data(case, reference, clerk_session):
    negative_path = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
    if case.path_parameters and not negative_path:
        for name in case.path_parameters:
            if name in REAL_IDS:
                case.path_parameters[name] = REAL_IDS[name]
    # rules beyond JSON Schema (a reason with every rejection, the GB 11643 check character) may
    # rightly refuse data the schema alone allows: positive_data_acceptance is left out
    case.call_and_validate(base_url=reference.url, session=clerk_session,
                           excluded_checks=[positive_data_acceptance])


# any bytes an HTTP field value may hold (visible ASCII, space and tab inside, obs-text 0x80–0xFF);
# others never reach the application: the HTTP parser answers 400 (h11) or requests refuses to send
_FIELD_BYTES = bytes([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])
_HEADER_BYTES = st.binary(max_size=300).map(lambda b: bytes(c for c in b if c in _FIELD_BYTES).strip(b" \t"))


@fuzz_settings(60)
@given(header=st.one_of(
    _HEADER_BYTES,
    st.text(max_size=80).map(lambda t: b"Basic " + base64.b64encode(t.encode("utf-8", "surrogatepass"))),
    st.tuples(st.text(max_size=30), st.text(max_size=60)).map(
        lambda up: b"Basic " + base64.b64encode(f"{up[0]}:{up[1]}".encode("utf-8", "surrogatepass")))))
def test_no_authorization_header_gets_in_or_crashes_the_gate(reference, header):
    if header == CLERK["header"].encode():
        return
    answer = requests.get(f"{reference.url}/api/v1/clerk/terminals", headers={"Authorization": header}, timeout=10)
    assert answer.status_code in (401, 429), answer.text[:200]
    assert answer.json()["error"]["code"] in ("clerk_login_required", "too_many_logins")


_FORM_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["²", "١", "①", "0", "1", "999", "-1", "1e3",
                                                              "99999999999999999999", "", " 2 "]))
_FORMS = {
    "decide": ["action", "result_name", "reasons", "remedy", "note"],
    "issue": ["slot", "terminal_id", "door"],
    "reissue": ["slot", "terminal_id", "door"],
    "supplement": ["items", "note", "deadline_days"],
    "review": [],
}


@fuzz_settings(40)
@given(data=st.data())
def test_clerk_forms_answer_any_field_values_without_a_server_error(reference, data):
    verb = data.draw(st.sampled_from(sorted(_FORMS)))
    number = data.draw(st.sampled_from([REAL_IDS["acceptance_number"], REAL_IDS["approved"], "NO-SUCH-CASE"]))
    fields = {name: data.draw(st.lists(_FORM_TEXT, max_size=3)) for name in _FORMS[verb]}
    auth = {"Authorization": CLERK["header"]}
    page = requests.get(f"{reference.url}/clerk", headers=auth, timeout=10).text
    csrf = re.search(r'var csrf = "([^"]+)"', page).group(1)  # the live staff-call list's form token
    answer = requests.post(f"{reference.url}/clerk/cases/{number}/{verb}", headers=auth, timeout=10,
                           data={"csrf": csrf, **fields}, allow_redirects=False)
    assert answer.status_code < 500, answer.text[:300]
    assert answer.status_code in (200, 303, 404, 409, 422)
