"""Health history: a ring buffer of status changes per device, for technicians.

``HealthHistory.record_event`` takes every ``StatusEvent`` the device manager sees and keeps
the last ``per_device`` changes of each device (time, common state, error code and a short
masked summary of the class part: paper, doors…). The diagnostics screen draws it as a
timeline, heartbeats carry the newest entries to the backend, and ``kiosk logs bundle``
packs the file it is saved to (``path``: rewritten atomically on each change, so a shell
command can read what the running kiosk saw).

Nothing personal is kept: a status detail never holds personal data, and the summary is
passed through ``kiosk.privacy.mask_text`` all the same.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from kiosk.atomic_file import write_json_atomically
from kiosk.privacy import mask_text

log = logging.getLogger(__name__)

#: class-part keys worth a word on the timeline (the rest is noise: counters, ports)
_DETAIL_KEYS = ("paper", "cover", "cutter", "left_open", "jammed", "sam")


@dataclass(frozen=True)
class HealthChange:
    at: float          # Unix time
    device: str
    state: str         # drivers.base.State value, or "not built"
    code: str = ""     # DEV-… code, when the state is an error
    summary: str = ""  # e.g. "paper near_end" (masked, at most 120 characters)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarise_detail(detail: dict[str, Any]) -> str:
    """The few words of a status detail that a technician reads on a timeline."""
    parts = []
    for key in _DETAIL_KEYS:
        if key in detail and detail[key] not in (None, "", [], {}, False):
            value = detail[key]
            if isinstance(value, (list, tuple, set)):
                value = ",".join(str(v) for v in sorted(value))
            parts.append(f"{key} {value}" if value is not True else key)
    return mask_text(", ".join(parts))[:120]


class HealthHistory:
    def __init__(self, per_device: int = 50, path: str | Path | None = None, clock=time.time):
        self.per_device = per_device
        self.path = Path(path) if path else None
        self.clock = clock
        self._lock = threading.Lock()
        self._rings: dict[str, deque[HealthChange]] = {}

    # -- recording ----------------------------------------------------------------------
    def record(self, device: str, state: str, code: str = "", summary: str = "", at: float | None = None) -> None:
        change = HealthChange(self.clock() if at is None else at, str(device), str(state), str(code or ""),
                              mask_text(str(summary or ""))[:120])
        with self._lock:
            ring = self._rings.setdefault(change.device, deque(maxlen=self.per_device))
            last = ring[-1] if ring else None
            if last is not None and (last.state, last.code, last.summary) == (change.state, change.code,
                                                                               change.summary):
                return
            ring.append(change)
        self._save()

    def record_event(self, event: Any) -> None:
        """A ``drivers.base.StatusEvent``."""
        current = event.current
        state = "online" if current.state.value == "busy" else current.state.value  # a print job is no change
        self.record(event.device, state, current.error_code, summarise_detail(current.detail))

    # -- reading -------------------------------------------------------------------------
    def devices(self) -> list[str]:
        with self._lock:
            return sorted(self._rings)

    def timeline(self, device: str | None = None, limit: int | None = None) -> list[HealthChange]:
        """Changes oldest first: of one device, or of all devices merged by time."""
        with self._lock:
            if device is not None:
                changes = list(self._rings.get(device, ()))
            else:
                changes = sorted((c for ring in self._rings.values() for c in ring), key=lambda c: c.at)
        return changes[-limit:] if limit else changes

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {name: [c.to_json() for c in ring] for name, ring in sorted(self._rings.items())}

    # -- the file ------------------------------------------------------------------------
    def _save(self) -> None:
        if self.path is None:
            return
        try:
            write_json_atomically(self.path, self.to_json())
        except OSError as exc:  # a full disk must not stop the kiosk: the history stays in memory
            log.warning("health history not saved", extra={"fields": {"error": exc.strerror or str(exc)}})

    @classmethod
    def load(cls, path: str | Path, per_device: int = 50) -> "HealthHistory":
        """A history read back from its file (an empty one when the file is missing or unreadable)."""
        history = cls(per_device)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return history
        if isinstance(data, dict):
            for changes in data.values():
                history._extend(changes if isinstance(changes, list) else [])
        return history

    def _extend(self, changes: Iterable[Any]) -> None:
        for item in changes:
            if not isinstance(item, dict):
                continue
            try:
                self.record(str(item["device"]), str(item["state"]), str(item.get("code", "")),
                            str(item.get("summary", "")), float(item["at"]))
            except (KeyError, TypeError, ValueError):
                continue
