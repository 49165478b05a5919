"""The smallest text, touch target, primary-button height and contrast found on every screen.

Runs ``tests/screens/test_accessibility.py`` (its walks of the general, apply, follow/pickup/
rate and technician screen states, each in normal and 长辈模式, measured on the drawn window)
and prints, per mode, the minimum of each figure over all walks next to what an elderly
resident needs on a 1080×1920 screen. Exit code 1 when a screen falls short.

    .venv/bin/python benchmarks/accessibility.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDED = {"text_px": ("text size", "px", {False: 32, True: 43}),
          "touch_px": ("smallest touch target side", "px", {False: 90, True: 90}),
          "primary_height_px": ("primary button height", "px", {True: 120}),
          "contrast": ("text contrast", ":1", {False: 4.5, True: 4.5})}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kiosk-a11y-") as folder:
        report = Path(folder) / "report.jsonl"
        env = dict(os.environ, KIOSK_A11Y_REPORT=str(report), TMPDIR=folder,
                   ESCPOS_CAPABILITIES_PICKLE_DIR=folder)
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 "tests/screens/test_accessibility.py"], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        rows = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    for elderly in (False, True):
        walks = [row for row in rows if row["elderly"] == elderly]
        if not walks:
            continue
        minima: dict[str, float] = {}
        for row in walks:
            for key, value in row["minima"].items():
                minima[key] = min(value, minima.get(key, value))
        print(f"{'长辈模式 (elderly)' if elderly else 'normal'}: {sum(r['states'] for r in walks)} screen states")
        for key, (label, unit, needed) in NEEDED.items():
            if key in minima:
                print(f"  {label:28} min {minima[key]:>7}{unit}   needed ≥ {needed[elderly]}{unit}")
    if result.returncode != 0:
        print(result.stdout[-3000:])
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
