"""Temporary folders of a process that go with it, even when it is killed.

A folder made with ``process_tempdir(prefix)`` is named ``<prefix><pid>-<random>``. Its maker
removes it when it stops (``atexit`` or its own clean-up), but a process killed with SIGKILL, a
power cut or a crash never gets to. So every process that makes such folders first calls
``sweep_stale(prefix)``: folders of that prefix whose process no longer runs are removed (the
Kivy home of a killed kiosk, the throwaway outbox of a killed demo with its key beside it).
A folder whose pid still runs, or whose name carries no pid, is left alone.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def process_tempdir(prefix: str, dir: str | Path | None = None) -> Path:
    """A new private (0700) folder ``<prefix><pid>-XXXXXXXX`` in ``dir`` (default: the temp folder)."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=dir))


def sweep_stale(prefix: str, dir: str | Path | None = None) -> list[Path]:
    """Remove the ``process_tempdir`` folders of ``prefix`` left by processes that are gone; the
    folders removed."""
    folder = Path(dir or tempfile.gettempdir())
    removed = []
    try:
        candidates = list(folder.glob(f"{prefix}*"))
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(prefix):].split("-", 1)[0]
        if not pid_text.isascii() or not pid_text.isdigit() or "-" not in path.name[len(prefix):]:
            continue
        if _running(int(pid_text)) or path.is_symlink() or not path.is_dir():
            continue
        try:
            if path.stat().st_uid != os.getuid():
                continue  # another user's: not ours to judge
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
