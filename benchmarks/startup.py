"""Start-up cost of the kiosk: process start → first frame of the home screen, and memory.

Runs `kiosk demo --exit-after-first-frame` RUNS times (default 5) on a private Xvfb
(or $DISPLAY), and prints the median wall time from spawning the process to the first
drawn frame, and the median resident-set size at that moment.

    .venv/bin/python benchmarks/startup.py [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from screens.launcher import virtual_display


def one_run() -> tuple[float, int]:
    env = dict(os.environ, XDG_RUNTIME_DIR=tempfile.mkdtemp(prefix="kiosk-bench-"))
    started = time.time()
    result = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--exit-after-first-frame"],
                            capture_output=True, text=True, env=env, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"kiosk failed: {result.stderr[-800:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["first_frame_unix"] - started, report["rss_kb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    had_display = bool(os.environ.get("DISPLAY"))
    with virtual_display(1080, 1920):
        one_run()  # warm the page cache; not counted
        runs = [one_run() for _ in range(args.runs)]
    times = [t for t, _ in runs]
    rss = [r for _, r in runs]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"display {os.environ.get('DISPLAY') if had_display else 'Xvfb'}")
    print(f"runs: {args.runs}")
    print(f"start → first frame: median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
    print(f"resident set after start: median {statistics.median(rss) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
