"""A locker cabinet on a pseudo-terminal: lock-control boards with doors, latches and items.

It answers Kerong CU or "0x8A" board frames (``board=``) for every board its doors need, at
the board's baud rate. Each door has a latch (shut = closed and locked) and, on Kerong
boards, an infrared item sensor. Unlocking a door releases its latch and the door springs
open; a simulated resident then takes the item and pushes the door shut after
``auto_pickup_seconds`` (0: never — a tester closes it with ``close(door)``).

Faults (besides the common ones): ``jammed`` (the latch of door ``value``, or of every door,
stays shut on unlock) and ``door_left_open`` (the simulated resident walks away without
closing the door). A silent board is the common ``no_answer`` fault.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.locker import protocols as lp
from drivers.sim.base import SerialSimulator, SimulatorError


@dataclass
class SimDoor:
    closed: bool = True
    item: bool = False
    opened_at: float | None = None


class LockerSimulator(SerialSimulator):
    kind = "locker"
    extra_faults = ("jammed", "door_left_open")
    actions = ("close", "open", "put", "take")

    def __init__(self, name: str | None = None, *, link: str | Path | None = None, board: str = "kerong",
                 address: int | None = None, doors: int = 16, baud: int | None = None,
                 items: list[int] | tuple[int, ...] = (), auto_pickup_seconds: float = 3.0,
                 wire_time: bool = True, seed: int | None = None):
        self.protocol = lp.protocol_for(board)
        super().__init__(name, link=link, baud=baud or self.protocol.default_baud, wire_time=wire_time, seed=seed)
        self.address = self.protocol.board_range[0] if address is None else int(address)
        self.doors = {number: SimDoor(item=number in items) for number in range(1, int(doors) + 1)}
        self.auto_pickup_seconds = float(auto_pickup_seconds)
        self.decoder = self.protocol.request_decoder()
        self.unlocks = 0

    # -- physical state -----------------------------------------------------------------------------
    def _door(self, number: Any) -> SimDoor:
        try:
            return self.doors[int(number)]
        except (KeyError, TypeError, ValueError):
            raise SimulatorError(f"no door {number!r}; doors are 1–{len(self.doors)}") from None

    def close(self, door: int) -> None:
        """Someone pushes the door shut: the latch catches."""
        with self._lock:
            entry = self._door(door)
            entry.closed, entry.opened_at = True, None

    def force_open(self, door: int) -> None:
        """Someone opens the door with the mechanical key."""
        with self._lock:
            entry = self._door(door)
            entry.closed, entry.opened_at = False, time.monotonic()

    def put(self, door: int) -> None:
        with self._lock:
            self._door(door).item = True

    def take(self, door: int) -> None:
        with self._lock:
            self._door(door).item = False

    def _jammed(self, door: int) -> bool:
        fault = self.faults.get("jammed")
        if fault is None:
            return False
        target = fault.params.get("value", fault.params.get("door"))
        if target in (None, "", 0, "all"):
            return True
        try:
            return int(target) == door
        except (TypeError, ValueError):
            return False

    def unlock(self, door: int) -> bool:
        with self._lock:
            entry = self._door(door)
            self.unlocks += 1
            if self._jammed(door):
                self.take_fault("jammed")
                return False
            entry.closed = False
            entry.opened_at = time.monotonic()
            return True

    def tick(self) -> None:
        if self.auto_pickup_seconds <= 0 or self.has_fault("door_left_open"):
            return
        now = time.monotonic()
        with self._lock:
            for entry in self.doors.values():
                if not entry.closed and entry.opened_at is not None and \
                        now - entry.opened_at >= self.auto_pickup_seconds:
                    entry.item = False
                    entry.closed, entry.opened_at = True, None

    # -- the wire ---------------------------------------------------------------------------------------
    def _number(self, board: int, lock: int) -> int | None:
        index = (board - self.address) * self.protocol.locks_per_board + (lock - self.protocol.first_lock)
        number = index + 1
        return number if number in self.doors and 0 <= lock - self.protocol.first_lock \
            < self.protocol.locks_per_board else None

    def _board_maps(self, board: int) -> tuple[dict[int, bool], dict[int, bool]]:
        closed: dict[int, bool] = {}
        items: dict[int, bool] = {}
        first = self.protocol.first_lock
        for lock in range(first, first + self.protocol.locks_per_board):
            number = self._number(board, lock)
            if number is not None:
                closed[lock] = self.doors[number].closed
                items[lock] = self.doors[number].item
        return closed, items

    def _has_board(self, board: int) -> bool:
        first = self.protocol.first_lock
        return any(self._number(board, lock) is not None
                   for lock in range(first, first + self.protocol.locks_per_board))

    def on_bytes(self, data: bytes) -> None:
        for item in self.decoder.feed(data):
            if not isinstance(item, lp.BoardRequest):
                continue  # boards stay silent on frames they do not understand
            self.wait_request_time(len(item.raw))
            if not self._has_board(item.board):
                continue  # nobody at that address on the bus
            unlock_ok = True
            if item.kind == lp.UNLOCK:
                number = self._number(item.board, item.lock or 0)
                if number is None:
                    continue
                unlock_ok = self.unlock(number)
            elif item.kind == lp.QUERY and self._number(item.board, item.lock or 0) is None:
                continue
            with self._lock:
                closed, items = self._board_maps(item.board)
            self.reply(self.protocol.reply(item.kind, item.board, item.lock, closed, items, unlock_ok))

    def on_replug(self) -> None:
        self.decoder = self.protocol.request_decoder()

    # -- control ---------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = super().state()
        with self._lock:
            state.update(board=self.protocol.name, address=self.address, unlocks=self.unlocks,
                         doors={str(n): {"closed": d.closed, "item": d.item} for n, d in self.doors.items()})
        return state

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        verbs = {"close": self.close, "open": self.force_open, "put": self.put, "take": self.take}
        if action in verbs:
            verbs[action](params.get("door"))
            return self.state()
        return super().control(action, params)
