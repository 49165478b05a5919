"""Long fuzz runs of every parser property: the suite runs them bounded, this runs them long.

Runs the hypothesis properties of the device parsers (GA/T 467 frames and card text, lock-board
frames, scanner lines, ESC/POS simulator input and printer status, the code-text decoder),
scanned payloads, configuration files, scenario files, the backend contract's JSON and the clerk's
side of a running reference backend (its API by Schemathesis, login headers, form fields) with
``--examples`` examples each (default 5000), and prints how many properties ran, how many
examples that was, and the time. Any failure is printed with hypothesis' smallest example.

    .venv/bin/python benchmarks/fuzz.py [--examples 5000]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ["tests/drivers/test_idcard_fuzz.py", "tests/drivers/test_idcard_protocol.py",
         "tests/drivers/test_idcard_cardtext.py", "tests/drivers/test_locker.py", "tests/drivers/test_scanner.py",
         "tests/drivers/printer/test_printer_simulator.py", "tests/drivers/printer/test_printer_status.py",
         "tests/drivers/test_codetext.py", "tests/kiosk/test_payloads.py", "tests/kiosk/test_fuzz_parsers.py",
         # the clerk's side of the running reference backend: Schemathesis (valid and invalid data),
         # any Authorization header, any form field (issue 15)
         "tests/e2e/test_clerk_fuzz.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiosk-fuzz-") as folder:
        env = dict(os.environ, KIOSK_FUZZ_EXAMPLES=str(args.examples), TMPDIR=folder,
                   ESCPOS_CAPABILITIES_PICKLE_DIR=folder)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "0",
                                 "--hypothesis-show-statistics", *FILES], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        seconds = time.monotonic() - started
    passed = re.search(r"(\d+) passed", result.stdout)
    failed = re.search(r"(\d+) failed", result.stdout)
    examples = sum(int(n) for n in re.findall(r"- (\d+) passing, \d+ failing", result.stdout))
    properties = len(re.findall(r"- (\d+) passing, \d+ failing", result.stdout))
    print(f"tests passed: {passed.group(1) if passed else 0}, failed: {failed.group(1) if failed else 0}; "
          f"hypothesis properties: {properties}")
    print(f"examples run: {examples} ({args.examples} asked per property), {seconds:.0f} s")
    if result.returncode != 0:
        print(result.stdout[-6000:])
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
