"""Fixtures for the backend unit tests: a reference backend on loopback, a client for it."""
from __future__ import annotations

import pytest

from backend_support import start_reference_backend


@pytest.fixture
def backend(tmp_path):
    running = start_reference_backend(tmp_path / "backend.sqlite3")
    yield running
    running.stop(wait=False)


@pytest.fixture
def client(backend):
    client = backend.client()
    yield client
    client.close()
