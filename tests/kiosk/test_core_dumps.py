"""No core dump of a kiosk process: it would carry residents' data out of memory (issue 15)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_kiosk_command_starts_by_forbidding_core_dumps():
    # a process allowed to dump core (as a shell with `ulimit -c unlimited` starts it) runs the CLI
    probe = ("import resource\n"
             "resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, resource.RLIM_INFINITY))\n"
             "from kiosk import cli\n"
             "cli.main([])\n"
             "print(resource.getrlimit(resource.RLIMIT_CORE))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1] == "(0, 0)", result.stdout + result.stderr
