"""The HTTP client: timeouts, retries only where safe, TLS always verified, progress for uploads."""
from __future__ import annotations

import datetime
import ipaddress
import json
import socket

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend_support import FaultProxy, jpeg_page, person, pick_item
from kiosk.backend import models as m
from kiosk.backend.client import BackendClient
from kiosk.backend.errors import (BackendAuthError, BackendNotFound, BackendProtocolError, BackendRejected,
                                  BackendUnavailable)
from kiosk.backend.signing import generate_key, parse_key
from refbackend.server import start_embedded


@pytest.fixture
def proxy(backend):
    proxy = FaultProxy(backend.url)
    yield proxy
    proxy.close()


def beat():
    return m.Heartbeat(sent_at=datetime.datetime.now(datetime.timezone.utc), software_version="t", uptime_seconds=1)


def test_safe_calls_are_retried_through_server_errors_with_growing_pauses(backend, proxy):
    pauses = []
    client = backend.client(proxy.url, sleep=pauses.append, retries=3, backoff=0.5)
    proxy.mode, proxy.status, proxy.count = "error", 503, 2
    assert client.pickups_waiting() == []
    assert len(proxy.seen) == 3
    assert len(pauses) == 2 and pauses[1] > pauses[0] * 0.5 and all(0 < p <= 8 for p in pauses)


def test_a_call_that_is_not_safe_to_repeat_is_sent_once(backend, proxy):
    client = backend.client(proxy.url, retries=3)
    proxy.mode, proxy.status, proxy.count = "error", 500, 5
    with pytest.raises(BackendUnavailable) as caught:
        client.heartbeat(beat())
    assert caught.value.status == 500
    assert len(proxy.seen) == 1


def test_retries_give_up_and_say_why(backend, proxy):
    client = backend.client(proxy.url, retries=2)
    proxy.mode, proxy.status, proxy.count = "error", 502, 10
    with pytest.raises(BackendUnavailable, match="502"):
        client.pickups_waiting()
    assert len(proxy.seen) == 3


def test_a_slow_backend_times_out(backend, proxy):
    client = backend.client(proxy.url, read_timeout=0.3, retries=0)
    proxy.mode, proxy.delay, proxy.count = "slow", 1.5, 1
    with pytest.raises(BackendUnavailable) as caught:
        client.pickups_waiting()
    assert caught.value.code == "timeout"


def test_nothing_listening_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = BackendClient(f"http://127.0.0.1:{port}", "HK-TEST-001", parse_key(generate_key()), retries=1,
                           sleep=lambda s: None)
    with pytest.raises(BackendUnavailable) as caught:
        client.pickups_waiting()
    assert caught.value.code == "unreachable"


def test_wrong_key_is_an_auth_error_with_the_servers_code(backend):
    client = BackendClient(backend.url, backend.terminal_id, parse_key(generate_key()), sleep=lambda s: None)
    with pytest.raises(BackendAuthError) as caught:
        client.pickups_waiting()
    assert caught.value.code == "bad_signature" and caught.value.status == 401


def test_a_fast_clock_is_an_auth_error_naming_the_skew(backend):
    import time

    client = backend.client(clock=lambda: time.time() + 3600)
    with pytest.raises(BackendAuthError) as caught:
        client.pickups_waiting()
    assert caught.value.code == "clock_skew"


def test_an_answer_off_contract_is_a_protocol_error(backend, proxy):
    client = backend.client(proxy.url)
    proxy.mode, proxy.status, proxy.count = "error", 200, 1
    with pytest.raises(BackendProtocolError):
        client.pickups_waiting()


def test_an_answer_off_contract_names_no_key_it_brought():
    # a backend (or something posing as one) that answers with a personal value as a key: the
    # error, which may be logged, says where the problem is without repeating the key
    class Answer:
        status_code = 200
        content = json.dumps({"level": 5, "370503199001011234": None, "王秀英": 1}).encode()

    with pytest.raises(BackendProtocolError) as caught:
        BackendClient._parse(Answer(), m.RatingCreate, "rating")
    said = str(caught.value)
    assert "does not fit the contract" in said and "370503" not in said and "王秀英" not in said


def test_a_request_off_contract_is_refused_naming_no_key_it_brought(backend):
    # the reference backend's 422 names the problem's place, not the sender's personal keys
    client = backend.client()
    body = json.dumps({"level": 5, "370503199001011234": "x", "王秀英": 1}).encode()
    with pytest.raises(BackendRejected) as caught:
        client._request("POST", "/ratings", raw=body, content_type="application/json", repeatable=False)
    said = f"{caught.value} {caught.value.fields}"
    assert caught.value.status == 422 and "(unknown key)" in said
    assert "370503" not in said and "王秀英" not in said


def test_upload_progress_rises_to_the_total(client):
    item = pick_item()
    application = client.create_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                            "progress-test-0001")
    page = jpeg_page()
    seen = []
    receipt = client.upload_page(application.application_id, 0, 1, page, "image/jpeg",
                                 lambda sent, total: seen.append((sent, total)))
    assert receipt.page.size == len(page)
    assert len(seen) > 2
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    assert seen[-1] == (len(page), len(page))


def test_refusals_carry_code_and_fields_without_personal_data(client):
    item = pick_item()
    applicant = person("司马相如")
    application = client.create_application(m.ApplicationCreate(item_code=item.code, applicant=applicant),
                                            "refusal-test-0001")
    with pytest.raises(BackendRejected) as caught:
        client.submit_application(application.application_id, m.SubmitRequest(declaration_accepted=True),
                                  "refusal-test-0002")
    error = caught.value
    assert error.code == "missing_materials" and error.fields
    assert applicant.id_number not in str(error) and applicant.name not in str(error)
    with pytest.raises(BackendNotFound):
        client.catalog_item("370503-NONE-0000")


def test_tls_is_verified_and_a_private_ca_can_be_configured(tmp_path, backend):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hekou test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    tls = start_embedded(backend.store, tls_cert=str(tmp_path / "cert.pem"), tls_key=str(tmp_path / "key.pem"))
    try:
        assert tls.url.startswith("https://")
        untrusting = backend.client(tls.url, retries=0)
        assert untrusting.session.verify is True
        with pytest.raises(BackendUnavailable) as caught:
            untrusting.pickups_waiting()
        assert caught.value.code == "tls"
        trusting = backend.client(tls.url, ca_bundle=str(tmp_path / "ca.pem"))
        assert trusting.pickups_waiting() == []
        untrusting.close()
        trusting.close()
    finally:
        tls.stop(close_store=False)


def test_the_client_ignores_proxy_settings_from_the_environment(backend, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    client = backend.client()
    assert client.pickups_waiting() == []
