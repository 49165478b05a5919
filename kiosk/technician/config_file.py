"""Write the technician PIN's hash into kiosk.toml, keeping every other line as it was.

``set_pin_hash(path, hash)`` replaces ``pin_hash = …`` in the ``[technician]`` table, or adds
the line under the table's header, or appends the table; the result is validated with
``load_settings`` before it replaces the file (same permissions, written atomically), so a
mistake never leaves a broken configuration behind.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from kiosk.config import ConfigError, parse_settings

_HEADER = re.compile(r"^\s*\[\s*technician\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_PIN_LINE = re.compile(r"^\s*pin_hash\s*=")


def with_pin_hash(text: str, pin_hash: str) -> str:
    lines = text.splitlines(keepends=True)
    line = f'pin_hash = "{pin_hash}"\n'
    start = next((i for i, item in enumerate(lines) if _HEADER.match(item)), None)
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join(lines) + ("\n" if lines else "") + "[technician]\n" + line
    end = next((i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        if _PIN_LINE.match(lines[i]):
            lines[i] = line
            return "".join(lines)
    lines.insert(start + 1, line)
    return "".join(lines)


def set_pin_hash(path: str | Path, pin_hash: str) -> None:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "the file does not exist (give another with --config)") from None
    updated = with_pin_hash(text, pin_hash)
    parse_settings(updated, path)  # raises ConfigError: the file is left as it was
    mode = stat.S_IMODE(path.stat().st_mode)
    handle, temporary = tempfile.mkstemp(prefix=".kiosk-toml-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(updated)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
