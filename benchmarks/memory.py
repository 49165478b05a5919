"""What the kiosk's resident set is made of: RSS step by step, and Python memory by package.

    .venv/bin/python benchmarks/memory.py [--backend none|embedded] [--camera on|off] [--settle 3] [--multisamples 0]

Runs in one process, under a private Xvfb when there is no display, the steps the kiosk
takes when it starts, with the demo configuration (``[backend] embedded`` and the
simulated 1920×1080 camera switched as asked), and prints the RSS after each:

1. the interpreter; NumPy and OpenCV imported;
2. a Kivy window of 1080×1920 (what a bare Kivy app costs under llvmpipe; with Kivy's default
   of 2 MSAA samples it costs about 80 MiB more);
3. the kiosk's modules (``kiosk.runtime``, ``screens.app``);
4. ``build_kiosk``: devices started (simulators), backend started (the embedded one when
   asked), after ``--settle`` seconds;
5. the start-up warm-up: catalogue index, word dictionary, pinyin lexicon;
6. with the camera: the camera streaming for 3 s (what a material capture adds: a document
   camera waits in standby until then), and back in standby.

Then the Python objects alive (tracemalloc, traced from the start), summed by top-level
package, largest first, and the resident set by mapping kind (/proc/self/smaps): anonymous
memory and heap (objects, buffers, GL), and the shared libraries and files mapped.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def smaps_summary(top: int = 8) -> list[tuple[str, float]]:
    totals: collections.Counter[str] = collections.Counter()
    current = "[anon]"
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            parts = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                current = re.sub(r".*/site-packages/", "", parts[5]) if len(parts) > 5 else "[anon]"
            elif parts[0] == "Rss:":
                totals[current] += int(parts[1])
    return [(name, kb / 1024) for name, kb in totals.most_common(top)]


def config(backend: str, camera: str, folder: Path) -> Path:
    text = (ROOT / "assets" / "demo.toml").read_text(encoding="utf-8")
    if backend == "none":
        text = re.sub(r"(?m)^embedded\s*=\s*true\s*$", "embedded = false", text)
    if camera == "off":
        text = text.replace('[devices.camera]\ndriver = "simulator"', '[devices.camera]\ndriver = "none"')
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("none", "embedded"), default="none")
    parser.add_argument("--camera", choices=("on", "off"), default="on")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--multisamples", type=int, default=0,
                        help="the window's MSAA samples ([display] multisamples; Kivy's own default is 2)")
    parser.add_argument("--in-display", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not args.in_display:
        from screens.launcher import virtual_display

        with virtual_display(1080, 1920):
            import subprocess

            return subprocess.call([sys.executable, __file__, "--in-display", "--backend", args.backend,
                                    "--camera", args.camera, "--settle", str(args.settle),
                                    "--multisamples", str(args.multisamples)])
    tracemalloc.start(1)
    from kiosk.memory import return_big_buffers

    return_big_buffers()
    steps: list[tuple[str, float]] = [("interpreter", rss_mib())]
    import cv2  # noqa: F401
    import numpy  # noqa: F401

    steps.append(("numpy + cv2 imported", rss_mib()))
    import screens  # noqa: F401  (Kivy's environment)
    from screens.launcher import configure_kivy

    configure_kivy(1080, 1920, fullscreen=True, hide_cursor=False, multisamples=args.multisamples)
    from kivy.core.window import Window  # noqa: F401

    steps.append((f"Kivy window 1080x1920, multisamples {args.multisamples}", rss_mib()))
    from kiosk.config import load_settings
    from kiosk.runtime import build_kiosk
    import screens.app  # noqa: F401

    steps.append(("kiosk modules", rss_mib()))
    folder = Path(tempfile.mkdtemp(prefix="kiosk-mem-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder))
    settings = load_settings(config(args.backend, args.camera, folder))
    embed = None
    if settings.backend.embedded:
        from kiosk.commands.backend import refbackend_module

        embed = refbackend_module("embed").start_for_settings
    kiosk = build_kiosk(settings, background=False, embed_backend=embed)
    time.sleep(args.settle)
    steps.append((f"devices + backend ({args.backend}), camera {args.camera}", rss_mib()))
    kiosk.warm_up()
    time.sleep(1.0)
    steps.append(("catalogue index, word dictionary, pinyin lexicon", rss_mib()))
    camera = kiosk.devices.device("camera") if args.camera == "on" else None
    if camera is not None:  # what a material capture adds: the camera leaves standby and streams
        kiosk.devices.enable("camera")
        camera.wait_frame(0, timeout=15.0)
        time.sleep(3.0)
        steps.append(("camera streaming 3 s (a material being captured)", rss_mib()))
        kiosk.devices.disable("camera")
        time.sleep(1.0)
        steps.append(("camera back in standby", rss_mib()))
    print(f"RSS step by step (backend {args.backend}, camera {args.camera}):")
    last = 0.0
    for name, value in steps:
        print(f"  {name:52s} {value:7.1f} MiB  (+{value - last:6.1f})")
        last = value
    snapshot = tracemalloc.take_snapshot()
    by_package: collections.Counter[str] = collections.Counter()
    for stat in snapshot.statistics("filename"):
        name = stat.traceback[0].filename
        if "site-packages/" in name:
            package = name.split("site-packages/")[1].split("/")[0]
        elif str(ROOT) in name:
            package = "/".join(Path(name).relative_to(ROOT).parts[:2])
        elif "<frozen" in name:
            package = "(code objects of imported modules)"
        else:
            package = "(standard library)"
        by_package[package] += stat.size
    traced = sum(by_package.values())
    print(f"Python objects alive (tracemalloc): {traced / 2 ** 20:.1f} MiB, by package:")
    for package, size in by_package.most_common(12):
        print(f"  {package:52s} {size / 2 ** 20:7.1f} MiB")
    print("resident set by mapping:")
    for name, mib in smaps_summary():
        print(f"  {name:52s} {mib:7.1f} MiB")
    kiosk.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
