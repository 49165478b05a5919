"""Structured logging to stderr (journald on a kiosk), with personal data masked.

``setup_logging`` installs one handler on the root logger. Its formatter is the single
place where records are masked (``kiosk.privacy``): the message after %-formatting, every
``extra=`` field and any exception text. Output is one JSON object a line (for journald)
or a short text line for people at a terminal.

It also routes exceptions nobody caught — on the main thread and on every other thread —
through that formatter (``sys.excepthook``, ``threading.excepthook``), so a crash never writes
an unmasked traceback to stderr, and it drops repeats of one message beyond
``RepeatLimit.per_minute`` a minute (a device error in a tight loop must not flood journald),
saying how many it dropped once the minute is over.

Usage everywhere else: ``log = logging.getLogger(__name__)`` and
``log.info("card read", extra={"fields": {"card_type": "resident", "id_number": n}})``.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

from kiosk.privacy import mask_field, mask_text

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class MaskingFormatter(logging.Formatter):
    """Formats a record as JSON or text after masking every personal field in it."""

    def __init__(self, style: str = "json"):
        super().__init__()
        self.style = style

    def masked_parts(self, record: logging.LogRecord) -> tuple[str, dict[str, Any], str]:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} (unformattable arguments)"
        fields: dict[str, Any] = {}
        extra_fields = record.__dict__.get("fields")
        if isinstance(extra_fields, dict):
            fields.update(extra_fields)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key != "fields" and not key.startswith("_"):
                fields[key] = value
        masked_fields = {str(k): mask_field(str(k), _plain(v)) for k, v in fields.items()}
        exc_text = ""
        if record.exc_info:
            exc_text = mask_text(self.formatException(record.exc_info))
        elif record.exc_text:
            exc_text = mask_text(record.exc_text)
        return mask_text(message), masked_fields, exc_text

    def format(self, record: logging.LogRecord) -> str:
        message, fields, exc_text = self.masked_parts(record)
        if self.style == "json":
            entry: dict[str, Any] = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
                + f".{int(record.msecs):03d}",
                "level": record.levelname,
                "logger": record.name,
                "msg": message,
            }
            entry.update({k: v for k, v in fields.items() if k not in entry})
            if exc_text:
                entry["exc"] = exc_text
            return json.dumps(entry, ensure_ascii=False, default=str)
        line = f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {record.levelname:<7} " \
               f"{record.name}: {message}"
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        if exc_text:
            line += "\n" + exc_text
        return line


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


class RepeatLimit(logging.Filter):
    """Lets at most ``per_minute`` records with the same logger, level and message through a minute."""

    def __init__(self, per_minute: int = 20, clock=time.monotonic):
        super().__init__()
        self.per_minute = per_minute
        self.clock = clock
        self._window = clock()
        self._counts: dict[tuple[str, int, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        if now - self._window >= 60:
            dropped = {key: count - self.per_minute for key, count in self._counts.items() if count > self.per_minute}
            self._window, self._counts = now, {}
            for (name, _level, message), count in dropped.items():
                logging.getLogger(name).warning("a message repeated too often; %d repeats were not logged", count,
                                                extra={"fields": {"message": message[:120]}})
        key = (record.name, record.levelno, str(record.msg))
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key] <= self.per_minute


def _log_uncaught(exc_type, exc, traceback) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, traceback)
        return
    logging.getLogger("kiosk.uncaught").critical("uncaught exception", exc_info=(exc_type, exc, traceback))


def _log_uncaught_in_thread(args) -> None:
    if args.exc_type is SystemExit:
        return
    logging.getLogger("kiosk.uncaught").error(
        "uncaught exception in a thread", extra={"fields": {"thread": getattr(args.thread, "name", "?")}},
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def setup_logging(level: str = "INFO", style: str = "json", stream: IO[str] | None = None) -> logging.Handler:
    """Route all logging, and every uncaught exception, through one masking handler.
    Returns the handler (tests read it)."""
    import threading

    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk_handler", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(MaskingFormatter(style))
    handler.addFilter(RepeatLimit())
    handler._kiosk_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # Kivy's own logger propagates to the root in KIVY_LOG_MODE=MIXED; keep it quieter.
    logging.getLogger("kivy").setLevel(max(root.level, logging.WARNING))
    return handler
