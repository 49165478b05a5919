"""How long the fuzz properties run: bounded in the test suite, long in benchmarks/fuzz.py.

``KIOSK_FUZZ_EXAMPLES`` (set by ``benchmarks/fuzz.py``) raises the number of examples of every
property that uses ``fuzz_settings``.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def fuzz_settings(default: int = 150):
    examples = int(os.environ.get("KIOSK_FUZZ_EXAMPLES", default))
    return settings(max_examples=examples, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz_examples(default: int) -> int:
    """The number of examples for a property with its own ``@settings``: ``default`` in the suite."""
    return int(os.environ.get("KIOSK_FUZZ_EXAMPLES", default))
