"""The results pickup cabinet: the ``Locker`` interface and its RS-485 serial driver.

``SerialLocker`` drives one or more lock-control boards on a serial bus, through a board
protocol strategy (``drivers.locker.protocols``: Kerong CU or the "0x8A" board). Doors are
numbered from 1 across the boards; door N lives on board ``address + (N-1) // locks_per_board``.

- ``open_door(n)`` unlocks and checks that the latch let go; a latch that stays shut is a
  *jammed lock* (``LockJammed``, a ``jammed`` event, status hardware error).
- ``query_door(n)`` / ``query_all()`` read latches (and, on Kerong boards, the infrared item
  sensors).
- ``enable()`` starts a polling thread that turns changes into ``DoorEvent``s (``opened``,
  ``closed``, ``item_placed``, ``item_removed``), raises ``left_open`` when a door stays open
  longer than ``door_open_alert_seconds`` (status user error: a person must close it), and
  ``board_silent`` when the board stops answering, or answers only with frames that fail their
  checks, ``silent_limit`` polls in a row (status offline; the device manager reopens
  the port with backoff and the driver says ``board_back`` when it answers again).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from drivers.base import (BackgroundLoop, ChecksumError, ConnectionLost, Device, DeviceError, DeviceTimeout,
                          HardwareError, HealthLevel, HealthReport, Listeners, Subscription, NotOpenError, ProtocolError,
                          State)
from drivers.locker import protocols as lp
from drivers.serialio import SerialLink, wire_seconds

log = logging.getLogger(__name__)


class LockJammed(HardwareError):
    """The latch stayed shut after an unlock command."""


@dataclass(frozen=True)
class DoorState:
    door: int
    closed: bool  # latch shut (the door is closed and locked)
    item_present: bool | None = None  # None: the board has no item sensor


@dataclass(frozen=True)
class DoorEvent:
    kind: str  # opened, closed, item_placed, item_removed, left_open, jammed, board_silent, board_back
    door: int | None = None
    state: DoorState | None = None


class Locker(Device):
    """Interface of every locker driver."""

    device_class = "locker"
    doors = 0

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._door_listeners: Listeners[DoorEvent] = Listeners("door", self.name)

    def subscribe_doors(self, listener: Callable[[DoorEvent], None]) -> Subscription:
        return self._door_listeners.add(listener)

    def unsubscribe_doors(self, listener: Callable[[DoorEvent], None]) -> None:
        self._door_listeners.remove(listener)

    def _publish_door(self, event: DoorEvent) -> None:
        self._door_listeners.publish(event)

    def open_door(self, door: int) -> DoorState:
        raise NotImplementedError

    def query_door(self, door: int) -> DoorState:
        raise NotImplementedError

    def query_all(self) -> dict[int, DoorState]:
        raise NotImplementedError

    def known_states(self) -> dict[int, DoorState]:
        """The doors as last seen (polled or after an unlock), without asking the boards."""
        return {}


class SerialLocker(Locker):
    def __init__(self, port: str, board: str = "kerong", *, address: int | None = None, doors: int = 16,
                 baud: int | None = None, name: str | None = None, timeout: float = 0.5,
                 poll_interval: float = 0.5, door_open_alert_seconds: float = 60.0, latch_inverted: bool = False,
                 jam_check_seconds: float = 0.6, silent_limit: int = 3):
        super().__init__(name)
        self.protocol = lp.protocol_for(board)
        low, high = self.protocol.board_range
        self.address = low if address is None else int(address)
        if doors < 1:
            raise ValueError("a locker needs at least one door")
        last_board = self.address + (doors - 1) // self.protocol.locks_per_board
        if not (low <= self.address and last_board <= high):
            raise ValueError(f"{self.protocol.name} boards have addresses {low}–{high}; {doors} doors from "
                             f"address {self.address} need boards up to {last_board}")
        self.doors = int(doors)
        self.link = SerialLink(port, baud or self.protocol.default_baud)
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.door_open_alert_seconds = float(door_open_alert_seconds)
        self.latch_inverted = latch_inverted
        self.jam_check_seconds = float(jam_check_seconds)
        self.silent_limit = max(1, int(silent_limit))
        self._io = threading.RLock()
        self._loop = BackgroundLoop(f"{self.name}-poll", self._poll_loop, join_timeout=self.timeout * 4 + 2.0)
        self._stop = self._loop.stop_event
        self._known: dict[int, DoorState] = {}
        self._open_since: dict[int, float] = {}
        self._left_open: set[int] = set()
        self._jammed: set[int] = set()
        self._was_silent = False
        self.last_error: DeviceError | None = None

    @property
    def port(self) -> str:
        return self.link.port

    @property
    def boards(self) -> list[int]:
        return sorted({self.protocol.locate(door, self.address)[0] for door in range(1, self.doors + 1)})

    # -- lifecycle -------------------------------------------------------------------------------
    def _open(self) -> None:
        self.link.open()
        try:
            states = self.query_all()
        except DeviceError:
            self.link.close()
            raise
        self._known = states
        now = time.monotonic()
        self._open_since = {door: now for door, state in states.items() if not state.closed}
        self._left_open.clear()
        if self._was_silent:
            self._was_silent = False
            self._publish_door(DoorEvent("board_back"))
        self._refresh_status(force_state=False)

    def _close(self) -> None:
        self._stop_polling()
        self.link.close()

    def _enable(self) -> None:
        self._loop.start()

    def _disable(self) -> None:
        self._stop_polling()

    def _stop_polling(self) -> None:
        self._loop.stop()

    @property
    def polling(self) -> bool:
        return self._loop.running

    # -- the wire --------------------------------------------------------------------------------
    def transact(self, kind: str, board: int, lock: int | None = None) -> lp.BoardState:
        if not self.link.is_open:
            raise NotOpenError(f"{self.name} is not open")
        frame = self.protocol.request(kind, board, lock)
        wait = self.timeout + wire_seconds(len(frame) + 16, self.link.baud)
        quiet = max(0.05, wire_seconds(40, self.link.baud))
        with self._io:
            stale = self.link.discard_input()
            if stale:
                self.count("stale_bytes", len(stale))
            self.link.write(frame)
            decoder = self.protocol.reply_decoder(kind)
            received = bytearray()
            faults: list[lp.Fault] = []
            deadline = time.monotonic() + wait
            last_byte = 0.0
            while True:
                now = time.monotonic()
                if now >= deadline or (faults and now - last_byte > quiet):
                    break
                chunk = self.link.read_some(min(deadline - now, quiet))
                if not chunk:
                    continue
                last_byte = time.monotonic()
                received += chunk
                for item in decoder.feed(chunk):
                    if isinstance(item, lp.Fault):
                        faults.append(item)
                    elif isinstance(item, lp.BoardState) and item.board == board:
                        return self._apply_polarity(item)
            self.count("bad_frames" if received else "timeouts")
            checksum = next((f.error for f in faults if isinstance(f.error, ChecksumError)), None)
            if checksum is not None:
                raise checksum
            if received:
                raise ProtocolError(f"board {board} sent {len(received)} bytes that are not a reply",
                                    raw=bytes(received[:256]))
            raise DeviceTimeout(f"board {board} did not answer on {self.port} at {self.link.baud} baud")

    def _apply_polarity(self, state: lp.BoardState) -> lp.BoardState:
        if not self.latch_inverted:
            return state
        unlock_ok = None if state.unlock_ok is None else not state.unlock_ok
        return lp.BoardState(state.board, {k: not v for k, v in state.closed.items()}, state.items, unlock_ok,
                             state.raw)

    def _door_state(self, door: int, state: lp.BoardState) -> DoorState:
        _board, lock = self.protocol.locate(door, self.address)
        items = state.items.get(lock) if state.items is not None else None
        return DoorState(door, bool(state.closed.get(lock, True)), items)

    def _check_door(self, door: int) -> tuple[int, int]:
        if not isinstance(door, int) or not 1 <= door <= self.doors:
            raise ValueError(f"door must be 1–{self.doors}")
        return self.protocol.locate(door, self.address)

    # -- operations ----------------------------------------------------------------------------------
    def query_door(self, door: int) -> DoorState:
        board, lock = self._check_door(door)
        return self._door_state(door, self.transact(lp.QUERY, board, lock))

    def query_all(self) -> dict[int, DoorState]:
        states: dict[int, DoorState] = {}
        for board in self.boards:
            reply = self.transact(lp.QUERY_ALL, board)
            for door in range(1, self.doors + 1):
                if self.protocol.locate(door, self.address)[0] == board:
                    states[door] = self._door_state(door, reply)
        return states

    def open_door(self, door: int) -> DoorState:
        """Unlock door ``door``; ``LockJammed`` if its latch stays shut."""
        board, lock = self._check_door(door)
        self._require_open()
        # the lock is held until the new state is recorded, so that a poll that started
        # before the unlock cannot report the door shut after it was opened
        with self._io:
            reply = self._unlock(door, board, lock)
            state = self._door_state(door, reply)
            opened = reply.unlock_ok if reply.unlock_ok is not None else not state.closed
            deadline = time.monotonic() + self.jam_check_seconds
            while not opened and time.monotonic() < deadline:
                time.sleep(0.1)
                state = self.query_door(door)
                opened = not state.closed
            self.count("unlocks")
            if not opened:
                self.count("jams")
                self._jammed.add(door)
                error = LockJammed(f"door {door}: the lock stayed shut after the unlock command", raw=reply.raw)
                self.last_error = error
                self._publish_door(DoorEvent("jammed", door, state))
                self._refresh_status(error.code)
                raise error
            self._jammed.discard(door)
            self._note(DoorState(door, False, state.item_present))
        return DoorState(door, False, state.item_present)

    def _unlock(self, door: int, board: int, lock: int) -> lp.BoardState:
        """Send the unlock; when its answer is lost or garbled, ask the door and unlock once more
        only if the latch is still shut.

        On RS-485 an answer can be lost while the board did pulse the latch (the door is open:
        one more pulse is not sent), or the request itself can be lost (the latch is still
        shut: a second pulse on it is what a resident pressing again would do). A board that
        does not answer the question either is silent: the first error stands."""
        try:
            return self.transact(lp.UNLOCK, board, lock)
        except (DeviceTimeout, ProtocolError) as lost:
            try:
                asked = self.transact(lp.QUERY, board, lock)
            except (DeviceTimeout, ProtocolError):
                raise lost from None
            self.count("unlock_answers_lost")
            if not self._door_state(door, asked).closed:
                return asked
            self.count("unlock_retries")
            return self.transact(lp.UNLOCK, board, lock)

    def known_states(self) -> dict[int, DoorState]:
        return dict(self._known)

    # -- change tracking -----------------------------------------------------------------------------
    def _note(self, state: DoorState) -> None:
        """Record a door's new state and publish what changed."""
        previous = self._known.get(state.door)
        self._known[state.door] = state
        if previous is None or previous.closed != state.closed:
            if state.closed:
                self._open_since.pop(state.door, None)
                self._left_open.discard(state.door)
                self._publish_door(DoorEvent("closed", state.door, state))
            else:
                self._open_since.setdefault(state.door, time.monotonic())
                self._jammed.discard(state.door)
                self._publish_door(DoorEvent("opened", state.door, state))
        if previous is not None and state.item_present is not None and previous.item_present is not None \
                and previous.item_present != state.item_present:
            self._publish_door(DoorEvent("item_placed" if state.item_present else "item_removed", state.door, state))
        self._refresh_status()

    def _check_left_open(self) -> None:
        now = time.monotonic()
        for door, since in list(self._open_since.items()):
            if door not in self._left_open and now - since >= self.door_open_alert_seconds:
                self._left_open.add(door)
                self.count("left_open")
                self._publish_door(DoorEvent("left_open", door, self._known.get(door)))
        self._refresh_status()

    def _refresh_status(self, error_code: str = "", force_state: bool = True) -> None:
        open_doors = sorted(d for d, s in self._known.items() if not s.closed)
        detail = {"doors": self.doors, "open": open_doors, "left_open": sorted(self._left_open),
                  "jammed": sorted(self._jammed)}
        if self._jammed:
            self.set_status(State.HARDWARE_ERROR, detail, error_code or "DEV-006")
        elif self._left_open:
            self.set_status(State.USER_ERROR, detail, "DEV-007")
        elif force_state and self.status.state in (State.HARDWARE_ERROR, State.USER_ERROR):
            self.set_status(State.ONLINE, detail)
        else:
            self.set_status(self.status.state, detail, self.status.error_code)

    def reset_alerts(self) -> None:
        """A technician cleared the cabinet: forget jammed doors and open-door alerts."""
        self._jammed.clear()
        self._left_open.clear()
        now = time.monotonic()
        self._open_since = {door: now for door in self._open_since}
        self._refresh_status()

    # -- polling ------------------------------------------------------------------------------------
    def _poll_loop(self) -> None:
        silent = 0
        while not self._stop.is_set():
            try:
                with self._io:
                    for state in self.query_all().values():
                        self._note(state)
                    self._check_left_open()
                silent = 0
            except ConnectionLost as exc:
                self._went_offline(exc, "board_silent")
                return
            except DeviceError as exc:
                if not isinstance(exc, DeviceTimeout):  # timeouts are counted by transact
                    self.count("failures")
                    self.last_error = exc
                    log.warning("locker poll failed", extra={"fields": {"device": self.name, "code": exc.code,
                                                                        "error": str(exc)}})
                # A board whose every answer fails its checks tells us no more than a silent one:
                # nobody can see its doors (a resident who shut one would be asked to shut it).
                if isinstance(exc, (DeviceTimeout, ProtocolError)):
                    silent += 1
                    if silent >= self.silent_limit:
                        self._went_offline(exc, "board_silent")
                        return
            except Exception:
                self.count("internal_errors")
                log.exception("unexpected error in the locker thread", extra={"fields": {"device": self.name}})
            self._stop.wait(self.poll_interval)

    def _went_offline(self, exc: DeviceError, event: str) -> None:
        self.last_error = exc
        self.count("dropouts")
        self._was_silent = True
        log.warning("locker board silent", extra={"fields": {"device": self.name, "error": str(exc)}})
        self._publish_door(DoorEvent(event))
        self.set_status(State.OFFLINE, None, exc.code)

    # -- health ---------------------------------------------------------------------------------------
    def _pulse_empty_door(self, states: dict[int, DoorState], checks: list[tuple[str, bool, str]]) -> bool:
        """External check: unlock one closed door that is known to be empty."""
        empty = [door for door, state in sorted(states.items()) if state.closed and state.item_present is False]
        if not empty:
            reason = "the board has no item sensor" if not self.protocol.has_item_sensor else "no empty closed door"
            checks.append(("unlock test", True, f"skipped: {reason}; use `kiosk locker open N` on an empty door"))
            return True
        try:
            self.open_door(empty[0])
            checks.append(("unlock test", True, f"door {empty[0]} unlocked (close it again)"))
            return True
        except DeviceError as exc:
            checks.append(("unlock test", False, str(exc)))
            return False

    def _health(self, level: HealthLevel) -> HealthReport:
        self._require_open()
        checks: list[tuple[str, bool, str]] = [
            ("port", True, f"{self.port} at {self.link.baud} baud, {self.protocol.name} board(s) {self.boards}")]
        ok = True
        try:
            states = self.query_all()
            open_doors = [d for d, s in states.items() if not s.closed]
            checks.append(("boards answer", True, f"{len(states)} doors, open: {open_doors or 'none'}"))
            if self.protocol.has_item_sensor:
                full = [d for d, s in states.items() if s.item_present]
                checks.append(("item sensors", True, f"items in doors {full or 'none'}"))
        except DeviceError as exc:
            ok = False
            checks.append(("boards answer", False, str(exc)))
        if ok and level is not HealthLevel.INTERNAL:
            ok = self._pulse_empty_door(states, checks) and ok
        if self._jammed:
            ok = False
            checks.append(("locks", False, f"jammed: {sorted(self._jammed)}"))
        if self._left_open:
            checks.append(("doors", False, f"left open: {sorted(self._left_open)}"))
        summary = "boards answer" if ok else next((d for _, passed, d in checks if not passed), "fault")
        return HealthReport(self.name, level, ok, summary, checks)
