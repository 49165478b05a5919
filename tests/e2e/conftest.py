"""Fixtures for the end-to-end tests: a reference backend on loopback, a client for it.

The backend's contract tests (``test_backend_*.py``) run on SQLite and on PostgreSQL."""
import pytest

from backend_support import backend, client, contract_db, parametrize_contract, postgres  # noqa: F401


@pytest.fixture(autouse=True)
def _on_both_databases(contract_db):
    """The database of a contract test (SQLite for every other test here)."""


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__.rpartition(".")[2].startswith("test_backend_"):
        parametrize_contract(metafunc)
