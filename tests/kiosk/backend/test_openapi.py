"""The committed contract (docs/api/openapi.json) is the one the code defines and the backend serves."""
from __future__ import annotations

import json
from pathlib import Path

import requests

from refbackend.app import openapi_document

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.json"
REGENERATE = "run `python -m kiosk.cli backend openapi --out docs/api/openapi.json` and commit the result"


def test_committed_openapi_is_current():
    committed = json.loads(COMMITTED.read_text("utf-8"))
    assert committed == openapi_document(), f"docs/api/openapi.json is out of date: {REGENERATE}"


def test_backend_serves_the_committed_contract(backend):
    served = requests.get(f"{backend.url}/openapi.json", timeout=10).json()
    assert served == json.loads(COMMITTED.read_text("utf-8"))


def test_every_terminal_operation_declares_the_signature_and_its_refusal():
    document = openapi_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            scheme = "clerkBasic" if path.startswith("/api/v1/clerk/") else "terminalSignature"
            assert operation["security"] == [{scheme: []}], f"{method} {path}"
            assert "401" in operation["responses"], f"{method} {path}"
