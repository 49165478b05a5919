"""Shared fixtures for driver tests: simulators on ptys, with the real drivers opened on them."""
from __future__ import annotations

import time

import pytest


def _wait_for(predicate, timeout: float = 3.0, interval: float = 0.01):
    """Poll ``predicate`` until it is truthy (returns its value) or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def wait_for():
    """``wait_for(predicate, timeout=3.0)``: poll until truthy (returns the value) or fail."""
    return _wait_for


@pytest.fixture
def sim_link(tmp_path):
    """A short path for a simulator's port link (Unix paths for sockets must stay short)."""
    counter = iter(range(1000))
    return lambda name="port": tmp_path / f"{name}{next(counter)}"
