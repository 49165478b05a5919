"""Fixtures for the end-to-end tests: a reference backend on loopback, a client for it."""
from backend_support import backend, client  # noqa: F401  (pytest fixtures)
