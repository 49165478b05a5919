"""Temporary folders of a killed process are removed by the next one (issue 15: /tmp/kiosk-kivy-*
folders were found after test runs)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.tempdirs import process_tempdir, sweep_stale

ROOT = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_folders_of_gone_processes_are_swept_and_the_others_kept(tmp_path):
    gone = tmp_path / f"kiosk-kivy-{_dead_pid()}-abcd"
    mine = process_tempdir("kiosk-kivy-", tmp_path)
    unnamed = tmp_path / "kiosk-kivy-abcdef"  # no pid in the name: not ours to judge
    other_prefix = tmp_path / f"kiosk-other-{_dead_pid()}-x"
    for folder in (gone, unnamed, other_prefix):
        folder.mkdir()
    (gone / "config.ini").write_text("x")
    assert mine.name.startswith(f"kiosk-kivy-{os.getpid()}-")
    assert sweep_stale("kiosk-kivy-", tmp_path) == [gone]
    assert not gone.exists() and mine.exists() and unnamed.exists() and other_prefix.exists()


def test_the_kivy_home_of_a_killed_kiosk_goes_with_the_next_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KIVY_HOME"}
    env["TMPDIR"] = str(tmp_path)
    start = "import os, sys, time, screens; print(os.environ['KIVY_HOME'], flush=True); time.sleep(60)"
    killed = subprocess.Popen([sys.executable, "-c", start], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    home = Path(killed.stdout.readline().strip())
    assert home.parent == tmp_path and home.is_dir()
    killed.send_signal(signal.SIGKILL)  # no atexit: the folder stays behind
    killed.wait()
    assert home.is_dir()
    nxt = subprocess.run([sys.executable, "-c", "import os, screens; print(os.environ['KIVY_HOME'])"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert not home.exists()
    assert not Path(nxt.stdout.strip()).exists()  # and the next one's own went at its exit
    assert [p.name for p in tmp_path.iterdir()] == []
