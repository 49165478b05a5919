"""The flight recorder: every session keeps a PII-free event log, and a log becomes a scenario.

``FlightRecorder`` writes one JSON line per event to ``<folder>/<session id>.jsonl``:

- ``screen`` (a screen shown), ``tap`` (a touch on a widget with an id; keys of the on-screen
  keyboard are kept only for the search field — in any other field they are written as
  ``kb.key.*``, because what a resident types there is personal);
- ``sim`` (a request to the simulators: the tester's faults, cards, scans; a scanned
  payload's text is kept only when it is not personal, i.e. not an identity or staff code);
- ``availability`` (a device or the network became available or not, with the reason key)
  and ``session`` (started, ended and why).

Events that happen while no session is open (a fault set on the home screen, the tap that
starts the session) are kept in a short buffer and written at the top of the next session's
log, so the log begins where the resident began. The folder is ``<state dir>/flight`` or
``$KIOSK_FLIGHT_DIR``; logs older than ``keep`` sessions are removed.

``scenario_from_log(path)`` turns a log into the YAML of a scenario for ``kiosk scenario run``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from kiosk.privacy import mask_text

log = logging.getLogger(__name__)

PRE_SESSION = 40
PERSONAL_PAYLOAD_PREFIXES = ("HYBID:", "HYBSTAFF:")


def default_folder() -> Path:
    configured = os.environ.get("KIOSK_FLIGHT_DIR")
    if configured:
        return Path(configured)
    from kiosk.backend.service import default_state_dir

    return default_state_dir() / "flight"


class FlightRecorder:
    def __init__(self, folder: str | Path | None = None, keep: int = 200, clock=time.time):
        self.folder = Path(folder) if folder else default_folder()
        self.keep = keep
        self.clock = clock
        self._lock = threading.Lock()
        self._file = None
        self.path: Path | None = None
        self._pending: deque[dict[str, Any]] = deque(maxlen=PRE_SESSION)
        self.search_field_focused = False

    # -- sessions ------------------------------------------------------------------------
    def on_session(self, event: str, reason: str = "", session_id: str = "") -> None:
        if event == "started":
            self._open(session_id or f"{int(self.clock() * 1000)}")
            self.record("session", what="started")
        elif event == "ended":
            self.record("session", what="ended", reason=reason)
            self._close()

    def _open(self, session_id: str) -> None:
        with self._lock:
            self._close_locked()
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
                self.path = self.folder / f"{stamp}-{session_id}.jsonl"
                self._file = open(self.path, "a", encoding="utf-8")
            except OSError as exc:
                log.warning("flight recorder cannot write", extra={"fields": {"error": exc.strerror or str(exc)}})
                self._file, self.path = None, None
                return
            for entry in self._pending:
                self._write_locked(entry)
            self._pending.clear()
        self._prune()

    def _close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _prune(self) -> None:
        try:
            logs = sorted(self.folder.glob("*.jsonl"))
        except OSError:
            return
        for old in logs[:-self.keep]:
            old.unlink(missing_ok=True)

    # -- events ---------------------------------------------------------------------------
    def record(self, kind: str, **fields: Any) -> None:
        entry = {"at": round(self.clock(), 3), "kind": kind,
                 **{k: (mask_text(v) if isinstance(v, str) else v) for k, v in fields.items()}}
        with self._lock:
            if self._file is None:
                self._pending.append(entry)
                return
            self._write_locked(entry)

    def _write_locked(self, entry: dict[str, Any]) -> None:
        try:
            self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._file.flush()
        except (OSError, ValueError):
            pass

    def screen(self, name: str) -> None:
        self.record("screen", screen=name)

    def tap(self, widget_id: str, field: str = "") -> None:
        """A touch on ``widget_id``; ``field`` is the id of the text field the keyboard types into."""
        if widget_id.startswith(("kb.key.", "kb.candidate.", "kb.space", "kb.sep")) and field != "search.field":
            widget_id = "kb.key.*"
        self.record("tap", widget=widget_id, **({"field": field} if field else {}))

    def sim(self, request: dict[str, Any]) -> None:
        request = dict(request)
        payload = str(request.get("payload", ""))
        if payload.startswith(PERSONAL_PAYLOAD_PREFIXES) or "hex" in request:
            request["payload"] = "<personal>"
            request.pop("hex", None)
        self.record("sim", request=request)

    def availability(self, component: str, available: bool | None, reason: str) -> None:
        self.record("availability", component=component, available=available, reason=reason)

    def close(self) -> None:
        self._close()


# ---------------------------------------------------------------------------------------
# A log → a scenario

_KEY_WORDS = {"kb.back": "{back}", "kb.enter": "{enter}", "kb.space": "{space}", "kb.sep": "'", "kb.shift": "{shift}",
              "kb.hide": "{hide}", "kb.page.digits": "{digits}", "kb.page.symbols": "{symbols}",
              "kb.page.english": "{english}", "kb.page.pinyin": "{pinyin}", "kb.page.letters": "{letters}",
              "kb.candidates.next": "{next}", "kb.candidates.prev": "{prev}"}


def sim_words(request: dict[str, Any]) -> str | None:
    """The ``kiosk sim`` words that make ``request`` (None when they cannot be said)."""
    import shlex

    device, action = request.get("device"), request.get("action", "")
    params = {k: v for k, v in request.items() if k not in ("device", "action")}
    if action in ("place",):
        return f"card place {shlex.quote(str(params.get('card', '')))}"
    if action == "remove":
        return "card remove"
    if action == "scan":
        payload = str(params.get("payload", ""))
        if payload == "<personal>" or not payload:
            return None
        words = f"scan {shlex.quote(payload)}"
        if params.get("encoding") and params["encoding"] != "utf-8":
            words += f" --encoding {params['encoding']}"
        return words
    if action in ("close", "open", "put", "take") and "door" in params:
        return f"door {action} {params['door']}"
    if action == "fault":
        words = f"fault {device} {params.get('fault')}"
        if params.get("on") is False:
            words += " --off"
        for option in ("times", "seconds", "door"):
            if params.get(option) is not None:
                words += f" --{option} {params[option]}"
        return words
    if action in ("clear", "replug", "status"):
        return f"{action} {device}"
    if action == "unplug":
        return f"unplug {device}" + (f" --seconds {params['seconds']}" if params.get("seconds") else "")
    if action == "list":
        return None
    # a verb this recorder does not know (added later): device, action and plain values
    values = " ".join(shlex.quote(str(v)) for v in params.values())
    return f"{device} {action} {values}".strip() if device else None


def scenario_from_log(path: str | Path, check_sim=None) -> str:
    """The YAML text of a scenario that replays the log at ``path``: its screens, taps, typing
    on the search field and simulator requests, each screen change checked with ``screen:``."""
    entries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise ValueError(f"{path}, line {number}: not a JSON event") from None
        if isinstance(entry, dict):
            entries.append(entry)
    out = [f"name: replay of {Path(path).name}", "steps:"]
    keys: list[str] = []
    last_screen = None

    def quote(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    def flush_keys() -> None:
        if keys:
            out.append(f"  - type: {quote(''.join(keys))}")
            keys.clear()

    for entry in entries:
        kind = entry.get("kind")
        if kind == "tap":
            widget = str(entry.get("widget", ""))
            if widget == "kb.key.*":
                flush_keys()
                out.append("  # typed into a personal field: not recorded")
                continue
            if widget.startswith("kb.key."):
                keys.append(widget[len("kb.key."):])
                continue
            if widget.startswith("kb.candidate."):
                keys.append("{" + widget.rsplit(".", 1)[1] + "}")
                continue
            if widget in _KEY_WORDS:
                keys.append(_KEY_WORDS[widget])
                continue
            flush_keys()
            out.append(f"  - tap: {quote(widget)}")
        elif kind == "screen":
            flush_keys()
            screen = str(entry.get("screen", ""))
            if screen and screen != last_screen:
                out.append(f"  - screen: {quote(screen)}")
                last_screen = screen
        elif kind == "sim":
            flush_keys()
            words = sim_words(entry.get("request") or {})
            if words is None:
                out.append("  # a simulator request that cannot be replayed (personal payload)")
                continue
            if check_sim is not None:
                try:
                    check_sim(words)
                except Exception:
                    out.append(f"  # not replayable here: sim {words}")
                    continue
            out.append(f"  - sim: {quote(words)}")
        elif kind == "availability" and entry.get("available") is False:
            flush_keys()
            out.append(f"  # {entry.get('component')} unavailable: {entry.get('reason')}")
    flush_keys()
    ended = next((e for e in reversed(entries) if e.get("kind") == "session"), None)
    if ended is not None and ended.get("what") == "ended" and last_screen not in (None, "home") \
            and ended.get("reason") in ("home", "sign_out", "idle", "technician"):
        out.append("  - screen: home")  # the session ended by going home
    if out[-1] == "steps:":
        out.append("  - screen: home")
    return "\n".join(out) + "\n"
