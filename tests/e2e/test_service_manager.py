"""The installed kiosk under a real service manager (a user-level systemd of the test's own).

``kiosk install --root DIR`` installs the kiosk; the test runs DIR's ``kiosk.service`` — with
its programs and configuration resolved inside DIR, without the user switch a user manager
cannot do, and without the hardening lines this container cannot set up (probed) — with a
drop-in for the test's display, shorter limits and a log file. Then:

- READY comes after the first frame, and the watchdog pings keep arriving;
- a frozen Kivy loop stops the pings: systemd aborts the kiosk and starts it again;
- after ``kill -9`` the kiosk is started again and the interrupted session's data is gone;
- a new release that never reaches READY is rolled back to the previous one, which starts.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from service_manager import (UserSystemd, available, for_user_manager, hardening_lines, unsupported_options,
                             wait_until)

ROOT = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).resolve().parent / "service_hooks"
WATCHDOG_SEC = 4

pytestmark = [pytest.mark.skipif(bool(available()), reason=available() or "-"),
              pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (pytest-xvfb)"),
              pytest.mark.timeout(400)]


def kiosk_install(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "install", "--root", str(root),
                           "--deps-from", sys.prefix, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def base():
    # not under /tmp: PrivateTmp= would hide it from the service
    (ROOT / ".pytest-tmp").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="service-", dir=ROOT / ".pytest-tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(base) -> Path:
    root = base / "root"
    result = kiosk_install(root, "--release", "good")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def manager(base, request):
    folder = base / f"systemd-{request.node.name[:40]}"
    with UserSystemd(folder) as running:
        yield running


def write_config(root: Path, manager: UserSystemd) -> None:
    state = manager.state / "kiosk"
    (root / "etc/kiosk/kiosk.toml").write_text(f"""
[terminal]
id = "HK-TEST-001"
name = "测试终端"
[display]
width = 1080
height = 1920
[session]
scratch_dir = "{manager.runtime}/kiosk"
[logging]
format = "text"
[catalog]
state_dir = "{state}/catalog"
cache_dir = "{state}/cache"
[devices.idcard]
driver = "simulator"
""", encoding="utf-8")


def install_unit(manager: UserSystemd, root: Path, **overrides: str) -> Path:
    """kiosk.service from ``root`` into the manager, with the test's drop-in; returns its log file."""
    text = (root / "etc/systemd/system/kiosk.service").read_text("utf-8")
    hidden = hidden_from_the_service(root)
    refused = unsupported_options(manager, hardening_lines(text)) | hidden
    (manager.units / "kiosk.service").write_text(for_user_manager(text, root, refused), encoding="utf-8")
    log = manager.base / "kiosk.log"
    settings = {"WatchdogSec": str(WATCHDOG_SEC), "TimeoutStartSec": "60", "RestartSec": "1", **overrides}
    if "PrivateTmp=yes" in hidden:  # without a private /tmp, ProtectSystem=strict leaves /tmp read-only
        settings["ReadWritePaths"] = "/tmp"
    dropin = manager.units / "kiosk.service.d"
    dropin.mkdir(exist_ok=True)
    env = [f"DISPLAY={os.environ['DISPLAY']}", f"PYTHONPATH={HOOKS}", f"KIOSK_TEST_REPORT={report_path(manager)}",
           f"XAUTHORITY={os.environ.get('XAUTHORITY', '/nonexistent')}",
           f"ESCPOS_CAPABILITIES_PICKLE_DIR=/tmp", "KIVY_NO_ARGS=1"]
    (dropin / "test.conf").write_text(
        "[Service]\n" + "".join(f"Environment={e}\n" for e in env)
        + "".join(f"{k}={v}\n" for k, v in settings.items())
        + f"StandardOutput=append:{log}\nStandardError=append:{log}\n", encoding="utf-8")
    manager.systemctl("daemon-reload")
    (manager.base / "refused-hardening.txt").write_text("\n".join(sorted(refused)) + "\n")
    return log


#: what each hardening line hides from the service; a checkout (and its .venv, whose packages the
#: test's release uses) under one of them would be invisible to the kiosk it installed
HIDING = {"PrivateTmp=yes": ("/tmp", "/var/tmp"), "ProtectHome=yes": ("/home", "/root", "/run/user")}


def hidden_from_the_service(root: Path) -> set[str]:
    """The hardening lines to leave out because this checkout lives where they would hide it (CI
    may clone into /tmp); installed on a kiosk, the release lives in /opt and keeps them all."""
    places = [root.resolve(), Path(sys.prefix).resolve()]
    return {line for line, prefixes in HIDING.items()
            if any(str(place) == prefix or str(place).startswith(prefix + "/")
                   for place in places for prefix in prefixes)}


def ready(props: dict[str, str]) -> bool:
    return props["ActiveState"] == "active" and props["SubState"] == "running" and props["MainPID"] != "0"


def start_kiosk(manager: UserSystemd, root: Path, **overrides: str) -> tuple[dict[str, str], Path]:
    write_config(root, manager)
    log = install_unit(manager, root, **overrides)
    manager.systemctl("start", "--no-block", "kiosk.service")
    try:
        return manager.wait_for("kiosk.service", ready, timeout=120), log
    except AssertionError:
        print(log.read_text()[-4000:] if log.exists() else "no log")
        raise


def report_path(manager: UserSystemd) -> Path:
    return manager.state / "kiosk" / "test-report.json"  # in the state folder: the one the kiosk may write


def report(manager: UserSystemd, pid: int) -> dict:
    """Ask the running kiosk (SIGUSR2, see service_hooks) to take a resident's data and report."""
    path = report_path(manager)
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return json.loads(path.read_text())


def test_ready_after_the_first_frame_and_the_watchdog_pings_arrive(manager, installed):
    props, log = start_kiosk(manager, installed)
    assert "service ready" in log.read_text()  # logged right after READY=1, from the first frame
    first = manager.show("kiosk.service", "WatchdogTimestampMonotonic", "WatchdogUSec", "StatusText")
    assert first["WatchdogUSec"] == f"{WATCHDOG_SEC}s" and first["StatusText"] == "home screen drawn"

    def pinged_again() -> bool:
        return manager.show("kiosk.service", "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"] \
            != first["WatchdogTimestampMonotonic"]

    assert wait_until(pinged_again, timeout=30)  # the Kivy clock's pings keep arriving
    now = manager.show("kiosk.service", "MainPID", "NRestarts")
    assert now == {"MainPID": props["MainPID"], "NRestarts": "0"}


def test_a_frozen_ui_loop_is_killed_by_the_watchdog_and_restarted(manager, installed):
    props, log = start_kiosk(manager, installed)
    os.kill(int(props["MainPID"]), signal.SIGUSR1)  # the Kivy thread stops; the others go on
    again = manager.wait_for("kiosk.service", lambda p: ready(p) and p["MainPID"] != props["MainPID"]
                             and int(p["NRestarts"]) >= 1, timeout=120)
    assert again["ActiveState"] == "active"
    text = log.read_text()
    # SIGABRT from the watchdog: faulthandler wrote the stacks, the frozen main thread among them
    assert "Fatal Python error: Aborted" in text and "_freeze" in text


def test_after_kill_9_the_kiosk_restarts_and_the_interrupted_session_is_gone(manager, installed):
    props, _log = start_kiosk(manager, installed)
    before = report(manager, int(props["MainPID"]))
    assert before["held_after"] and Path(before["scratch"]).is_dir()
    scratch = Path(before["scratch"])
    assert any(scratch.iterdir())
    os.kill(int(props["MainPID"]), signal.SIGKILL)
    again = manager.wait_for("kiosk.service", lambda p: ready(p) and p["MainPID"] != props["MainPID"], timeout=120)
    assert int(again["NRestarts"]) >= 1
    assert not scratch.exists()
    assert not list(scratch.parent.glob("kiosk-session-*")) if scratch.parent.exists() else True
    after = report(manager, int(again["MainPID"]))
    assert after["held_before"] is False  # the new kiosk's session starts empty


def test_a_release_that_never_gets_ready_is_rolled_back(manager, base):
    installed = base / "root-rollback"
    result = kiosk_install(installed, "--release", "good")
    assert result.returncode == 0, result.stdout + result.stderr
    # a copy of this source whose UI never draws its first frame (but passes the install's smoke test)
    broken = base / "broken-src"
    if not broken.exists():
        shutil.copytree(ROOT, broken, ignore=shutil.ignore_patterns(".venv", ".git", ".pytest-tmp", "tests",
                                                                    "__pycache__", "benchmarks"))
        launcher = broken / "screens" / "launcher.py"
        text = launcher.read_text("utf-8")
        text = text.replace("    watch_service(app)\n", "    import time\n    time.sleep(10 ** 6)  # broken\n")
        launcher.write_text(text, "utf-8")
    props, log = start_kiosk(manager, installed, TimeoutStartSec="10")
    result = kiosk_install(installed, "--source", str(broken), "--release", "broken")
    assert result.returncode == 0, result.stdout + result.stderr
    opt = installed / "opt/kiosk"
    assert os.readlink(opt / "current") == "releases/broken" and os.readlink(opt / "previous") == "releases/good"
    manager.systemctl("restart", "--no-block", "kiosk.service")  # what `kiosk install` does on a live system
    manager.wait_for("kiosk.service", lambda p: ready(p) and os.readlink(opt / "current") == "releases/good",
                     timeout=200)
    assert (opt / "releases/broken/FAILED").read_text().startswith("did not reach READY")
    assert not (opt / "trial.json").exists()
    assert (manager.state / "kiosk" / "release-ready").read_text().strip() == "good"
    assert "rolled back to good" in log.read_text()
