"""Fixtures for the backend unit tests: a reference backend on loopback (SQLite and PostgreSQL), a client."""
import pytest

from backend_support import backend, client, contract_db, parametrize_contract, postgres  # noqa: F401



@pytest.fixture(autouse=True)
def _on_both_databases(contract_db):
    """Every test here that starts a reference backend runs on SQLite and on PostgreSQL."""


def pytest_generate_tests(metafunc):
    parametrize_contract(metafunc)
