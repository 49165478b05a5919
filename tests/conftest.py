"""Test-wide environment: set before any test module imports Kivy or python-escpos."""
from __future__ import annotations

import os
import tempfile

import pytest

# Parallel workers (pytest-xdist) each get their own temporary folder: simulators put their
# pseudo-terminal links and control sockets there under fixed names.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _worker_tmp = os.path.join(tempfile.gettempdir(), "worker-" + os.environ["PYTEST_XDIST_WORKER"])
    os.makedirs(_worker_tmp, exist_ok=True)
    os.environ["TMPDIR"] = _worker_tmp
    tempfile.tempdir = _worker_tmp
    # python-escpos writes its capabilities pickle on first import: two workers' kiosks starting at
    # once in one folder read a half-written pickle, and the printer (and what starts after it) failed
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = _worker_tmp

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-test-kivy-"))
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", tempfile.gettempdir())
# Outbox, catalogue cache and health history of kiosks built by tests: never /var/lib/kiosk.
os.environ.setdefault("KIOSK_STATE_DIR", tempfile.mkdtemp(prefix="kiosk-test-state-"))



def pytest_xdist_node_collection_finished(node, ids):
    """Stop when ``--dist loadgroup`` does not group: the scenario batches (tests/e2e/test_scenarios.py)
    would then be played once per worker (pytest 9.2 with pytest-xdist 3.8 ignores ``xdist_group``,
    xdist #1386; pyproject.toml pins pytest below 9.2)."""
    if node.config.getvalue("dist") != "loadgroup":
        return
    ungrouped = [nodeid for nodeid in ids if "test_every_scenario_passes[" in nodeid and "@" not in nodeid]
    if ungrouped:
        pytest.exit(f"--dist loadgroup does not group {ungrouped[0]} with this pytest and pytest-xdist", returncode=4)


@pytest.fixture(autouse=True, scope="session")
def _core_limit_of_the_test_process_stays():
    """``kiosk.cli.main`` sets its process's core-dump limit to 0/0 for good (kiosk/privacy.py), and
    nothing here may raise it again. Tests call ``main`` in the pytest process itself, which would
    leave every later subprocess at 0: the probe of tests/kiosk/test_core_dumps.py, which starts a
    kiosk command above 0 to see it lowered, could then not start. Subprocesses keep the real rule."""
    import kiosk.privacy

    real = kiosk.privacy.forbid_core_dumps
    kiosk.privacy.forbid_core_dumps = lambda: None
    yield
    kiosk.privacy.forbid_core_dumps = real
