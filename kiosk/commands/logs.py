"""``kiosk logs bundle --out FILE.tar.gz``: what a technician sends to the developers.

The bundle holds the kiosk's log lines (from journald, ``journalctl -u kiosk``, when there is one,
and any ``--log FILE``), each line masked again with ``kiosk.privacy``; the configuration with
its secrets replaced (``terminal_key``, ``pin_hash`` and every key whose name says key, secret,
password or token); the health history; the newest flight-recorder logs (PII-free); the
versions of the software. Before the archive is written every member is checked once more:
a configured secret or an unmasked ID or phone number stops the bundle (exit 1).
"""
from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, load_settings
from kiosk.errors import UserFacingError
from kiosk.privacy import mask_text

_SECRET_KEY = re.compile(r"^(\s*)([A-Za-z0-9_]*(key|secret|password|token|pin_hash)[A-Za-z0-9_]*)(\s*=\s*)(.*)$",
                         re.IGNORECASE)
_UNMASKED = re.compile(r"(?<![0-9])(\d{17}[0-9Xx]|1[3-9]\d{9})(?![0-9])")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("logs", help="collect logs for the developers")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    bundle = actions.add_parser("bundle", help="redacted logs, config without secrets, health history, versions",
                                description="write a .tar.gz with the redacted logs, the configuration without "
                                            "secrets, the health history, flight-recorder logs and versions")
    bundle.add_argument("--out", required=True, help="the archive to write (FILE.tar.gz)")
    bundle.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help=f"kiosk.toml (default {DEFAULT_CONFIG_PATH})")
    bundle.add_argument("--log", action="append", default=[], help="also include this log file (masked); repeatable")
    bundle.add_argument("--since", default="2 days ago", help="journald: from when (default \"2 days ago\")")
    bundle.add_argument("--flights", type=int, default=20, help="newest flight-recorder logs to include (default 20)")
    bundle.set_defaults(handler=_bundle)


def redact_config(text: str) -> str:
    lines = []
    for line in text.splitlines():
        match = _SECRET_KEY.match(line)
        if match and match.group(5).strip() not in ('""', "''", ""):
            line = f'{match.group(1)}{match.group(2)}{match.group(4)}"<removed>"'
        lines.append(line)
    return "\n".join(lines) + "\n"


def _journal(since: str) -> str:
    if shutil.which("journalctl") is None:
        return ""
    try:
        done = subprocess.run(["journalctl", "-u", "kiosk", "--no-pager", "-o", "cat", "--since", since],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _masked_lines(text: str) -> str:
    return "".join(mask_text(line) + "\n" for line in text.splitlines())


def _secrets(settings) -> list[str]:
    found = [settings.backend.terminal_key, settings.technician.pin_hash]
    key_file = settings.backend.terminal_key_file
    if key_file:
        try:
            found.append(Path(key_file).read_text(encoding="utf-8").strip())
        except OSError:
            pass
    return [secret for secret in found if secret and len(secret) >= 8]


def _bundle(args: argparse.Namespace) -> int:
    from kiosk.backend.service import default_state_dir
    from kiosk.diagnostics.system import versions
    from kiosk.flight import default_folder

    settings = load_settings(args.config)
    state = default_state_dir()
    members: dict[str, bytes] = {}
    members["versions.json"] = json.dumps(versions(), ensure_ascii=False, indent=2).encode()
    members["config/kiosk.toml"] = redact_config(Path(args.config).read_text(encoding="utf-8")).encode()
    history = state / "health-history.json"
    if history.is_file():
        members["health-history.json"] = history.read_bytes()
    journal = _journal(args.since)
    if journal:
        members["logs/journal-kiosk.log"] = _masked_lines(journal).encode()
    for number, extra in enumerate(args.log, start=1):
        try:
            text = Path(extra).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UserFacingError(f"cannot read {extra}: {exc.strerror or exc}", 2) from None
        members[f"logs/{number:02d}-{Path(extra).name}"] = _masked_lines(text).encode()
    flights = sorted(default_folder().glob("*.jsonl"))[-args.flights:] if args.flights else []
    for flight in flights:
        members[f"flight/{flight.name}"] = _masked_lines(flight.read_text(encoding="utf-8")).encode()
    secrets = _secrets(settings)
    for name, data in members.items():
        text = data.decode("utf-8", errors="replace")
        if any(secret in text for secret in secrets) or _UNMASKED.search(text):
            raise UserFacingError(f"{name} still holds a secret or personal data; no bundle was written", 1)
    out = Path(args.out)
    try:
        with tarfile.open(out, "w:gz") as archive:
            for name, data in sorted(members.items()):
                info = tarfile.TarInfo(f"kiosk-bundle/{name}")
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                archive.addfile(info, io.BytesIO(data))
    except OSError as exc:
        raise UserFacingError(f"cannot write {out}: {exc.strerror or exc}", 2) from None
    print(f"{out}: {len(members)} files (logs masked, secrets removed)")
    return 0
