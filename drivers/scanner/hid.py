"""HID keyboard-wedge scanners on Linux, read through evdev.

A wedge scanner pretends to be a keyboard and "types" each code followed by Enter. The
driver opens its ``/dev/input/event*`` node, grabs it (so the keystrokes never reach the UI
or a text field), and assembles characters from key events until Enter, with Shift and Caps
Lock applied on a US layout. A wedge can only type what its keyboard layout has keys for, so
Chinese payloads cannot come through this way (use a serial/CDC scanner for them).

evdev is an optional dependency (``pip install heyiban-kiosk[hid]``) imported only when a
wedge is opened. Anything with ``read_events``/``grab``/``ungrab``/``close`` can stand in for
the device (``source_factory``), which is how the tests feed key events.
"""
from __future__ import annotations

import errno
import logging
import select
from typing import Callable, Iterable, Protocol

from drivers.base import (BackgroundLoop, ConnectionLost, DeviceError, HealthLevel, HealthReport, NoDeviceError, State,
                          UnsupportedError)
from drivers.scanner.base import MAX_SCAN_BYTES, CodeScanner, ScanEvent

log = logging.getLogger(__name__)

EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2

# Linux input-event-codes (a stable kernel ABI) → (plain, with Shift) on a US layout.
KEY_ENTER, KEY_KPENTER = 28, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58
KEYMAP: dict[int, tuple[str, str]] = {
    2: ("1", "!"), 3: ("2", "@"), 4: ("3", "#"), 5: ("4", "$"), 6: ("5", "%"), 7: ("6", "^"), 8: ("7", "&"),
    9: ("8", "*"), 10: ("9", "("), 11: ("0", ")"), 12: ("-", "_"), 13: ("=", "+"),
    16: ("q", "Q"), 17: ("w", "W"), 18: ("e", "E"), 19: ("r", "R"), 20: ("t", "T"), 21: ("y", "Y"),
    22: ("u", "U"), 23: ("i", "I"), 24: ("o", "O"), 25: ("p", "P"), 26: ("[", "{"), 27: ("]", "}"),
    30: ("a", "A"), 31: ("s", "S"), 32: ("d", "D"), 33: ("f", "F"), 34: ("g", "G"), 35: ("h", "H"),
    36: ("j", "J"), 37: ("k", "K"), 38: ("l", "L"), 39: (";", ":"), 40: ("'", '"'), 41: ("`", "~"),
    43: ("\\", "|"), 44: ("z", "Z"), 45: ("x", "X"), 46: ("c", "C"), 47: ("v", "V"), 48: ("b", "B"),
    49: ("n", "N"), 50: ("m", "M"), 51: (",", "<"), 52: (".", ">"), 53: ("/", "?"), 55: ("*", "*"),
    57: (" ", " "), 71: ("7", "7"), 72: ("8", "8"), 73: ("9", "9"), 74: ("-", "-"), 75: ("4", "4"),
    76: ("5", "5"), 77: ("6", "6"), 78: ("+", "+"), 79: ("1", "1"), 80: ("2", "2"), 81: ("3", "3"),
    82: ("0", "0"), 83: (".", "."), 98: ("/", "/"),
}
LETTER_CODES = frozenset(code for code, (plain, _) in KEYMAP.items() if plain.isalpha())


class KeyAssembler:
    """Turns key events into complete codes (one per Enter)."""

    def __init__(self, max_length: int = MAX_SCAN_BYTES):
        self.max_length = max_length
        self.shift_keys: set[int] = set()
        self.caps = False
        self.chars: list[str] = []
        self.overflow = False
        self.unknown_keys = 0

    def feed(self, ev_type: int, code: int, value: int) -> tuple[str, bool] | None:
        """Returns (code text, oversized) when Enter completes a code, else None."""
        if ev_type != EV_KEY:
            return None
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            if value == KEY_UP:
                self.shift_keys.discard(code)
            else:
                self.shift_keys.add(code)
            return None
        if value == KEY_UP:
            return None
        if code == KEY_CAPSLOCK:
            if value == KEY_DOWN:
                self.caps = not self.caps
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            text, oversized = "".join(self.chars), self.overflow
            self.chars, self.overflow = [], False
            return (text, oversized) if (text or oversized) else None
        mapping = KEYMAP.get(code)
        if mapping is None:
            self.unknown_keys += 1
            return None
        shifted = bool(self.shift_keys)
        if code in LETTER_CODES and self.caps:
            shifted = not shifted
        if len(self.chars) >= self.max_length:
            self.overflow = True
            return None
        self.chars.append(mapping[1] if shifted else mapping[0])
        return None


class EventSource(Protocol):
    def read_events(self, timeout: float) -> Iterable[tuple[int, int, int]]: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def close(self) -> None: ...


class EvdevSource:
    """An evdev input device as an ``EventSource``."""

    def __init__(self, path: str):
        try:
            import evdev  # optional extra "hid"
        except ImportError:
            raise UnsupportedError("HID wedge scanners need evdev: pip install 'heyiban-kiosk[hid]'") from None
        try:
            self.device = evdev.InputDevice(path)
        except FileNotFoundError:
            raise NoDeviceError(f"no input device at {path}") from None
        except PermissionError:
            raise NoDeviceError(f"no permission to read {path} (add the kiosk user to the input group)") from None
        except OSError as exc:
            raise NoDeviceError(f"cannot open {path}: {exc.strerror}") from None

    def read_events(self, timeout: float) -> list[tuple[int, int, int]]:
        ready, _, _ = select.select([self.device.fd], [], [], timeout)
        if not ready:
            return []
        try:
            return [(event.type, event.code, event.value) for event in self.device.read()]
        except BlockingIOError:
            return []

    def grab(self) -> None:
        self.device.grab()

    def ungrab(self) -> None:
        self.device.ungrab()

    def close(self) -> None:
        self.device.close()


class HidWedgeScanner(CodeScanner):
    def __init__(self, path: str, *, name: str | None = None, grab: bool = True,
                 source_factory: Callable[[str], EventSource] | None = None, max_length: int = MAX_SCAN_BYTES):
        super().__init__(name)
        self.path = path
        self.grab = grab
        self.source_factory = source_factory or EvdevSource
        self.assembler = KeyAssembler(max_length)
        self.source: EventSource | None = None
        self._loop = BackgroundLoop(f"{self.name}-hid", self._read_loop)
        self._stop = self._loop.stop_event
        self.last_error: DeviceError | None = None

    @property
    def port(self) -> str:
        return self.path

    def _open(self) -> None:
        if not self.path:
            raise NoDeviceError("no input device configured")
        source = self.source_factory(self.path)
        if self.grab:
            try:
                source.grab()
            except OSError as exc:
                source.close()
                raise NoDeviceError(f"cannot grab {self.path} (another program holds it?): {exc}") from None
        self.source = source
        self.assembler = KeyAssembler(self.assembler.max_length)
        self.update_detail(grabbed=self.grab)

    def _close(self) -> None:
        self._loop.stop()
        source, self.source = self.source, None
        if source is not None:
            for action in (source.ungrab, source.close) if self.grab else (source.close,):
                try:
                    action()
                except OSError:
                    pass

    def _enable(self) -> None:
        self._loop.start()

    def _disable(self) -> None:
        self._loop.stop()

    @property
    def reading(self) -> bool:
        return self._loop.running

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            source = self.source
            if source is None:
                return
            try:
                events = source.read_events(0.2)
            except OSError as exc:
                lost = ConnectionLost(f"input device {self.path} went away"
                                      + (" (unplugged)" if exc.errno == errno.ENODEV else f": {exc}"))
                self.last_error = lost
                self.count("dropouts")
                self.set_status(State.OFFLINE, None, lost.code)
                return
            try:
                for ev_type, code, value in events:
                    done = self.assembler.feed(ev_type, code, value)
                    if done is not None:
                        text, oversized = done
                        self._publish_scan(ScanEvent.from_bytes(text.encode("utf-8"), self.name, oversized=oversized))
            except Exception:
                self.count("internal_errors")
                log.exception("unexpected error in the HID scanner thread", extra={"fields": {"device": self.name}})

    def _health(self, level: HealthLevel) -> HealthReport:
        self._require_open()
        checks = [("input device", self.source is not None, self.path),
                  ("grabbed", self.grab, "keystrokes kept from the UI" if self.grab else "NOT grabbed"),
                  ("reader thread", self.reading or not self.enabled, "running" if self.reading else "stopped")]
        ok = all(passed for _, passed, _ in checks)
        return HealthReport(self.name, level, ok, "wedge scanner grabbed" if ok else "wedge scanner fault", checks)
