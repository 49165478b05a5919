"""The diagnostics report and how a device's state is judged.

``kiosk diag --json`` prints ``DiagReport.to_json()``; the ``diag`` screen and the printed
diagnostics slip show the same report. The document (documented in docs/diagnostics.md)::

    {"schema": 1, "generated_at": …, "level": "internal", "terminal": {"id", "name"},
     "healthy": true,
     "devices": [{"name", "status", "code", "detail", "driver", "port", "state", "simulated",
                  "last_error", "counters", "checks", "history"}, …],
     "backend": {…}, "serial_ports": [{…}], "system": {…}}

``devices`` always lists the six names of ``DEVICE_NAMES`` in that order; ``status`` is
``ok``, ``degraded`` (works, but needs attention soon: paper near its end, a check that
failed without stopping the device), ``fault`` (cannot do its job) or ``absent`` (the
configuration sets it to ``"none"``). ``healthy`` is false, and ``kiosk diag`` exits 1, when
any device is ``fault``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drivers.base import ERROR_CODES

#: every name a report lists, in this order
DEVICE_NAMES = ("idcard", "scanner", "printer", "camera", "locker", "backend")
STATUSES = ("ok", "degraded", "fault", "absent")
SCHEMA_VERSION = 1

_USABLE = ("online", "busy")


@dataclass
class ErrorInfo:
    """A device error as a technician reads it: stable code, plain text, the device's bytes."""

    code: str
    text: str
    raw: bytes = b""

    @property
    def explanation(self) -> str:
        return ERROR_CODES.get(self.code, "")

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "explanation": self.explanation, "raw": self.raw.hex(" ")}

    @classmethod
    def of(cls, error: Any) -> "ErrorInfo | None":
        """From a ``DeviceError`` (or None)."""
        if error is None:
            return None
        code = str(getattr(error, "code", "") or "")
        text = str(error)
        if code and text.startswith(code + ": "):
            text = text[len(code) + 2:]
        return cls(code, text, bytes(getattr(error, "raw", b"") or b""))


@dataclass
class Check:
    name: str
    passed: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass
class DeviceDiag:
    name: str
    status: str                 # one of STATUSES
    code: str | None = None     # a DEV-… code when something is wrong
    detail: str = ""            # one line a technician reads first
    driver: str = "none"
    port: str = ""
    state: str = ""             # the device model's common state (online, offline, …)
    simulated: bool = False
    level: str = "internal"     # of the health check in ``checks``
    last_error: ErrorInfo | None = None
    counters: dict[str, int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # backend: latency, outbox…

    def to_json(self) -> dict[str, Any]:
        document = {"name": self.name, "status": self.status, "code": self.code, "detail": self.detail,
                    "driver": self.driver, "port": self.port, "state": self.state, "simulated": self.simulated,
                    "level": self.level,
                    "last_error": self.last_error.to_json() if self.last_error else None,
                    "counters": dict(sorted(self.counters.items())),
                    "checks": [check.to_json() for check in self.checks],
                    "history": list(self.history)}
        document.update(self.extra)
        return document


@dataclass
class DiagReport:
    generated_at: str
    level: str
    terminal_id: str
    terminal_name: str
    devices: list[DeviceDiag]
    serial_ports: list[dict[str, Any]] = field(default_factory=list)
    system: dict[str, Any] = field(default_factory=dict)

    def device(self, name: str) -> DeviceDiag | None:
        return next((d for d in self.devices if d.name == name), None)

    @property
    def healthy(self) -> bool:
        return all(device.status != "fault" for device in self.devices)

    @property
    def exit_code(self) -> int:
        """0 when no configured device is at fault (absent devices do not count), else 1."""
        return 0 if self.healthy else 1

    def to_json(self) -> dict[str, Any]:
        backend = self.device("backend")
        return {"schema": SCHEMA_VERSION, "generated_at": self.generated_at, "level": self.level,
                "terminal": {"id": self.terminal_id, "name": self.terminal_name},
                "healthy": self.healthy,
                "devices": [device.to_json() for device in self.devices],
                "backend": backend.extra if backend else {},
                "serial_ports": list(self.serial_ports),
                "system": dict(self.system)}

    def text(self) -> str:
        """The report for a person at a shell."""
        marks = {"ok": "OK   ", "degraded": "WARN ", "fault": "FAULT", "absent": "  -  "}
        lines = [f"kiosk diagnostics — terminal {self.terminal_id} ({self.terminal_name}), {self.generated_at}, "
                 f"level {self.level}"]
        for device in self.devices:
            where = f"{device.driver}" + (f" on {device.port}" if device.port else "")
            line = f"{marks.get(device.status, device.status)} {device.name:<8} {where}"
            if device.status != "absent":
                line += f": {device.detail}" if device.detail else ""
                if device.code:
                    line += f" [{device.code} {ERROR_CODES.get(device.code, '')}]".rstrip(" ]") + "]"
            lines.append(line)
            for check in device.checks:
                lines.append(f"        {'✓' if check.passed else '✗'} {check.name}: {check.detail}")
            error = device.last_error
            if error is not None and device.status != "ok":
                raw = f"; raw {error.raw.hex(' ')}" if error.raw else ""
                lines.append(f"        last error {error.code}: {error.text}{raw}")
        if self.serial_ports:
            lines.append("serial ports:")
            for port in self.serial_ports:
                ids = ", ".join(port.get("by_id") or []) or "no by-id name"
                used = f" — {port['used_by']}" if port.get("used_by") else ""
                lines.append(f"  {port['device']} {port.get('vid_pid') or '—'} {port.get('description') or ''}"
                             f" ({ids}){used}")
        system = self.system
        if system:
            disk = system.get("disk") or {}
            memory = system.get("memory") or {}
            lines.append(f"system: kiosk {system.get('version')}, Python {system.get('python')}, "
                         f"disk {disk.get('free_mb', '?')} MB free of {disk.get('total_mb', '?')} MB, "
                         f"memory {memory.get('available_mb', '?')} MB available of {memory.get('total_mb', '?')} MB")
        lines.append("healthy" if self.healthy else "NOT healthy: a configured device is at fault")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Judging a device


def judge(state: str, health_ok: bool | None, detail: dict[str, Any] | None = None,
          checks: list[Check] | None = None) -> str:
    """``ok``, ``degraded`` or ``fault`` for a configured device.

    - usable (online, busy) and its health check passed: ``ok``, or ``degraded`` when it
      warns (paper near its end, a door left open, a check that failed);
    - usable but its health check failed: ``fault``;
    - anything else (offline, no device, hardware error, needs a person, not built, not
      started): ``fault``.
    """
    detail = detail or {}
    if state not in _USABLE:
        return "fault"
    if health_ok is False:
        return "fault"
    if detail.get("paper") == "near_end" or detail.get("left_open"):
        return "degraded"
    if any(not check.passed for check in checks or []):
        return "degraded"
    return "ok"
