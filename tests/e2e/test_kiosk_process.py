"""The kiosk as a process: it starts, draws, survives Esc/Alt+F4, stops on SIGTERM, shoots screens."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
KIOSK = [sys.executable, "-m", "kiosk.cli"]


def kiosk_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    return env


def test_version_and_help():
    version = subprocess.run(KIOSK + ["--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and version.stdout.startswith("kiosk ")
    run_help = subprocess.run(KIOSK + ["run", "--help"], capture_output=True, text=True, timeout=30)
    assert run_help.returncode == 0 and "--config" in run_help.stdout


def test_demo_reaches_first_frame_and_reports(tmp_path):
    result = subprocess.run(KIOSK + ["demo", "--exit-after-first-frame"], capture_output=True, text=True,
                            timeout=120, env=kiosk_env(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rss_kb"] > 10_000 and report["first_frame_unix"] > 0


@pytest.mark.skipif(not shutil.which("xdotool"), reason="xdotool is installed by make setup")
def test_escape_and_alt_f4_do_not_close_the_running_kiosk(tmp_path):
    proc = subprocess.Popen(KIOSK + ["demo"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=kiosk_env(tmp_path), text=True)
    try:
        window = None
        deadline = time.monotonic() + 60
        while window is None and time.monotonic() < deadline:
            found = subprocess.run(["xdotool", "search", "--pid", str(proc.pid)], capture_output=True, text=True)
            window = found.stdout.split()[0] if found.stdout.split() else None
            time.sleep(0.2)
        assert window, "the kiosk window did not appear"
        time.sleep(0.5)
        for keys in (["Escape"], ["alt+F4"], ["F1"], ["Escape"]):
            subprocess.run(["xdotool", "key", "--window", window] + keys, check=True, timeout=10)
            subprocess.run(["xdotool", "mousemove", "540", "900", "click", "1", "key", "Escape"], timeout=10)
        # (a window manager's close request is covered in tests/screens/test_shell.py: xdotool can
        # only destroy a window, which no window manager does)
        time.sleep(1.5)
        assert proc.poll() is None, "the kiosk left on a key press or close request"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, proc.stderr.read()[-2000:]


@pytest.mark.parametrize("args", [["home"], ["home", "--elderly", "--lang", "en"], ["help", "--countdown"]])
def test_shot_writes_a_full_size_png(tmp_path, args):
    out = tmp_path / "shot.png"
    result = subprocess.run(KIOSK + ["shot"] + args + ["--out", str(out)], capture_output=True, text=True,
                            timeout=120, env=kiosk_env(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    image = Image.open(out)
    assert image.size == (1080, 1920)
    top, page = image.getpixel((540, 10)), image.getpixel((8, 1000))  # the page margin
    if "--countdown" in args:
        # the screen is dimmed and a white card sits in the middle
        card = image.getpixel((110, 960))
        assert sum(top[:3]) < 150 and min(card[:3]) > 240
    else:
        # not blank: the top bar is dark blue, the page light
        assert top[2] > top[0] + 40 and sum(page[:3]) > 600


def test_shot_of_unknown_screen_is_one_line(tmp_path):
    result = subprocess.run(KIOSK + ["shot", "nowhere", "--out", str(tmp_path / "x.png")], capture_output=True,
                            text=True, timeout=60, env=kiosk_env(tmp_path))
    assert result.returncode == 2 and "unknown screen" in result.stderr and "Traceback" not in result.stderr
