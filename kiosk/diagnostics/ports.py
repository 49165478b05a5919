"""Serial-port discovery: every serial port with its stable by-id names and USB VID:PID.

``discover()`` lists what pyserial's ``list_ports`` sees (USB adapters, ACM devices, built-in
UARTs that answer) and joins the ``/dev/serial/by-id`` links that point at each one, so a
technician can copy the stable name into kiosk.toml. ``used_by`` names the configured device
whose port resolves to the same device node.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BY_ID = Path("/dev/serial/by-id")


def _by_id_links(folder: Path = BY_ID) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return links
    for entry in entries:
        try:
            target = os.path.realpath(entry)
        except OSError:
            continue
        links.setdefault(target, []).append(str(entry))
    return links


def _resolve(port: str) -> str:
    try:
        return os.path.realpath(port) if port else ""
    except OSError:
        return port


def discover(configured: dict[str, str] | None = None, by_id_folder: Path = BY_ID,
             comports: Any = None) -> list[dict[str, Any]]:
    """``configured``: device name → configured port. ``comports`` replaces pyserial's lister (tests)."""
    if comports is None:
        try:
            from serial.tools.list_ports import comports as lister
        except ImportError:  # pyserial without its tools
            lister = lambda: []  # noqa: E731
        comports = lister
    links = _by_id_links(by_id_folder)
    used = {_resolve(port): name for name, port in (configured or {}).items() if port}
    found = []
    for info in sorted(comports(), key=lambda p: p.device):
        device = info.device
        real = _resolve(device)
        vid, pid = getattr(info, "vid", None), getattr(info, "pid", None)
        found.append({
            "device": device,
            "by_id": links.get(real, []),
            "vid_pid": f"{vid:04x}:{pid:04x}" if vid is not None and pid is not None else None,
            "description": (getattr(info, "description", "") or "").replace("n/a", "").strip(),
            "manufacturer": getattr(info, "manufacturer", None) or "",
            "serial_number": getattr(info, "serial_number", None) or "",
            "used_by": used.get(real, ""),
        })
    return found
