"""Start-up cost of the kiosk: process start → first frame of the home screen, and memory.

    .venv/bin/python benchmarks/startup.py [--runs 5] [--backend both|embedded|none] [--settle 20]
                                           [--camera simulator|none]

For each backend mode — ``embedded`` (the demo configuration: the reference backend runs
inside the kiosk) and ``none`` (the same configuration with ``[backend] embedded = false``:
what a kiosk talking to a remote acceptance system runs) — and RUNS times each, on a
private Xvfb (or $DISPLAY):

1. ``kiosk run --exit-after-first-frame``: the wall time from spawning the process to the
   first drawn frame, and the resident-set size (RSS) at that moment;
2. ``kiosk run`` left running for ``--settle`` seconds, its RSS read from /proc every
   0.25 s: the RSS *after start* (the last sample, when the catalogue index, the word
   cutter and the pinyin lexicon have been loaded by the start-up warm-up) and the peak.

``--camera none`` runs the same without the simulated 1920×1080 document camera (the
simulator renders a desk, tremor and sensor noise for every frame; a real camera's cost is
not measured here). Every run uses the machine's usual cache folder (the pinyin lexicon and the catalogue's
caches are built once by a first, uncounted run), and its own runtime folder. Prints the
medians.
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screens.launcher import virtual_display  # noqa: E402

DEMO = ROOT / "assets" / "demo.toml"


def config_for(mode: str, folder: Path, camera: str = "simulator") -> Path:
    """The demo configuration, with the embedded backend on or off, and the simulated
    document camera (1920×1080) or none."""
    if mode == "embedded" and camera == "simulator":
        return DEMO
    text = DEMO.read_text(encoding="utf-8")
    if mode != "embedded":
        text, count = re.subn(r"(?m)^embedded\s*=\s*true\s*$", "embedded = false", text)
        if count != 1:
            raise SystemExit("assets/demo.toml no longer has one 'embedded = true' line")
    if camera == "none":
        text, count = re.subn(r'(?m)^(\[devices\.camera\]\s*\ndriver\s*=\s*)"simulator"', r'\1"none"', text)
        if count != 1:
            raise SystemExit("assets/demo.toml no longer has a simulated [devices.camera]")
    path = folder / f"demo-{mode}-{camera}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _env() -> dict:
    """The kiosk's environment: a runtime folder of its own under one folder of this run, which
    goes at exit (one per kiosk used to stay behind in /tmp, /tmp/kiosk-bench-*)."""
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = tempfile.mkdtemp(prefix="kiosk-bench-")
        atexit.register(shutil.rmtree, _RUNTIME, True)
    return dict(os.environ, XDG_RUNTIME_DIR=tempfile.mkdtemp(dir=_RUNTIME))


_RUNTIME: str | None = None


def first_frame(config: Path) -> tuple[float, int]:
    started = time.time()
    result = subprocess.run([sys.executable, "-m", "kiosk", "run", "--config", str(config),
                             "--exit-after-first-frame"], capture_output=True, text=True, env=_env(), timeout=180)
    if result.returncode != 0:
        raise SystemExit(f"kiosk failed: {result.stderr[-800:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["first_frame_unix"] - started, report["rss_kb"]


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def settled(config: Path, seconds: float) -> tuple[int, int]:
    """(RSS after ``seconds``, peak RSS) of a kiosk left running, in KiB."""
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    last = 0
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"kiosk exited early with code {process.returncode}")
            last = _status_kb(process.pid, "VmRSS") or last
            time.sleep(0.25)
        peak = _status_kb(process.pid, "VmHWM")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return last, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", choices=("both", "embedded", "none"), default="both")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds a kiosk runs before its RSS is read")
    parser.add_argument("--camera", choices=("simulator", "none"), default="simulator",
                        help="the demo's simulated 1920x1080 document camera, or no camera")
    args = parser.parse_args()
    had_display = bool(os.environ.get("DISPLAY"))
    modes = ("embedded", "none") if args.backend == "both" else (args.backend,)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"display {os.environ.get('DISPLAY') if had_display else 'Xvfb'}, load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder, virtual_display(1080, 1920):
        for mode in modes:
            config = config_for(mode, Path(folder), args.camera)
            first_frame(config)  # warm the page cache and build missing caches; not counted
            runs = [first_frame(config) for _ in range(args.runs)]
            after = [settled(config, args.settle) for _ in range(args.runs)]
            times = [t for t, _ in runs]
            print(f"backend {mode}, camera {args.camera}: {args.runs} runs")
            print(f"  start → first frame: median {statistics.median(times) * 1000:.0f} ms "
                  f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
            print(f"  RSS at first frame: median {statistics.median(r for _, r in runs) / 1024:.1f} MiB")
            print(f"  RSS after start ({args.settle:g} s): median {statistics.median(a for a, _ in after) / 1024:.1f} MiB "
                  f"(min {min(a for a, _ in after) / 1024:.1f}, max {max(a for a, _ in after) / 1024:.1f}); "
                  f"peak median {statistics.median(p for _, p in after) / 1024:.1f} MiB")
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
