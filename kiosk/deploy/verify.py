"""``systemd-analyze verify`` on the units an install wrote into a root.

``systemd-analyze verify --root=DIR`` needs the whole system's units inside DIR, so the units
are checked as copies instead: every ``Exec*=`` program that the installation owns
(``/opt/kiosk/…``, ``/usr/local/bin/…``) is rewritten to its path inside the root; programs of
the system (``/usr/bin/Xorg``, ``/bin/sh``) stay as they are and must exist on this machine.
verify then checks the syntax, the dependencies between the units, and that each program
exists and is executable.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: paths the installation puts into the root
OWNED_PREFIXES = ("/opt/kiosk/", "/usr/local/bin/")
_EXEC = re.compile(r"^(Exec(?:Start|StartPre|StartPost|Condition|Reload|Stop|StopPost)\s*=\s*)([-@:+!]*)(\S+)(.*)$")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    units: list[str]
    output: str


def resolve_inside(text: str, root: Path) -> str:
    """The unit ``text`` with its owned ``Exec*=`` programs' paths moved inside ``root``."""
    lines = []
    for line in text.splitlines():
        match = _EXEC.match(line)
        if match and match.group(3).startswith(OWNED_PREFIXES):
            head, prefixes, program, rest = match.groups()
            line = f"{head}{prefixes}{root.resolve()}{program}{rest}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def verify_units(units: list[Path], root: Path) -> VerifyResult:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return VerifyResult(False, [], "systemd-analyze is missing (Debian package systemd)")
    if not units:
        return VerifyResult(False, [], "no installed units found")
    with tempfile.TemporaryDirectory(prefix="kiosk-verify-") as folder:
        copies = []
        for unit in units:
            copy = Path(folder) / unit.name
            copy.write_text(resolve_inside(unit.read_text("utf-8"), root), encoding="utf-8")
            copies.append(str(copy))
        result = subprocess.run([tool, "verify", "--man=no", *copies], capture_output=True, text=True, timeout=120)
    output = (result.stdout + result.stderr).replace(folder + "/", "")
    return VerifyResult(result.returncode == 0 and not output.strip(), [u.name for u in units], output.strip())
