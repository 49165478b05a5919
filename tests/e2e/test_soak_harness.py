"""The soak harness itself, short: a kiosk process killed with -9 mid-submission and restarted,
the backend switched between down, slow and 500, printer faults, and nothing lost or doubled
(``benchmarks/soak.py``; the long run is quoted in docs/security.md)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(400)


def test_a_short_soak_loses_and_doubles_nothing(tmp_path):
    result = subprocess.run([sys.executable, "benchmarks/soak.py", "--sessions", "30", "--kills", "2", "--seed", "5",
                             "--keep", str(tmp_path / "soak")], cwd=ROOT, capture_output=True, text=True,
                            timeout=380, env=dict(os.environ))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "kiosk kill -9: 2, restarts 2, crashes (exits not ours): 0" in out
    stored = int(re.search(r"applications stored: (\d+)", out).group(1))
    assert stored >= 28  # a kill right after a session began can cost that session its application
    assert f"reached the backend exactly once: {stored}, lost: 0, duplicated: 0" in out
    assert re.search(r"ratings stored: \d+, lost: 0, duplicated: 0", out)
    assert "drained pending=0 rejected=0 quarantined=0" in out
