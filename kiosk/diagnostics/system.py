"""The machine: software versions, disk and memory (read from /proc and statvfs, no extra package)."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from kiosk import __version__

_REPO = Path(__file__).resolve().parents[2]


def git_commit() -> str:
    """The checkout's commit, when the kiosk runs from a git clone (``""`` otherwise)."""
    head = _REPO / ".git"
    if not head.exists():
        return ""
    try:
        out = subprocess.run(["git", "-C", str(_REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=3)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def versions() -> dict[str, str]:
    found = {"kiosk": __version__, "python": platform.python_version(), "platform": platform.platform()}
    commit = git_commit()
    if commit:
        found["commit"] = commit
    for package in ("kivy", "python-escpos", "pyserial", "opencv-python-headless", "zxing-cpp", "pydantic",
                    "requests"):
        try:
            from importlib.metadata import version

            found[package] = version(package)
        except Exception:  # not installed
            continue
    return found


def disk(path: str | Path) -> dict[str, Any]:
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return {"path": str(path)}
    return {"path": str(path), "total_mb": usage.total // 2**20, "free_mb": usage.free // 2**20,
            "used_percent": round(100 * (usage.total - usage.free) / usage.total, 1) if usage.total else 0.0}


def memory() -> dict[str, Any]:
    values: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                key, _, rest = line.partition(":")
                if key in ("MemTotal", "MemAvailable"):
                    values[key] = int(rest.split()[0]) // 1024
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    values["rss"] = int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return {"total_mb": values.get("MemTotal"), "available_mb": values.get("MemAvailable"),
            "kiosk_rss_mb": values.get("rss")}


def uptime_seconds() -> int | None:
    try:
        return int(float(Path("/proc/uptime").read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        return None


def system_info(state_dir: str | Path, started_monotonic: float | None = None) -> dict[str, Any]:
    found = versions()
    info: dict[str, Any] = {"version": found["kiosk"], "python": found["python"], "platform": found["platform"],
                            "versions": found, "disk": disk(state_dir), "memory": memory(),
                            "machine_uptime_seconds": uptime_seconds(), "pid": os.getpid()}
    if started_monotonic is not None:
        info["kiosk_uptime_seconds"] = int(time.monotonic() - started_monotonic)
    return info
