"""The control interface every simulator answers, whatever device it plays.

``kiosk sim`` (through ``drivers.sim.control``), a scenario's ``sim:`` step and the testers'
simulator panel all drive simulators through two methods:

- ``state()``: a JSON-able dict with at least ``kind``, ``name``, ``plugged_in``, ``faults``
  (the faults set now, each ``{"fault": NAME, …params}``), ``known_faults`` (every name the
  ``fault`` verb accepts, ``vanish`` included) and ``actions`` (every verb ``control`` accepts);
- ``control(action, params)``: carry out one verb and return the new ``state()``, or raise
  ``SimulatorError`` with a message for the tester.

The common verbs are the same for every simulator (``COMMON_VERBS``): ``status``; ``fault``
{fault, on, times, …} to set or clear one fault; ``clear`` every fault (and plug back in);
``unplug`` {seconds} (the device is gone, for ``seconds`` or until ``replug``); ``replug``.
A fault name means the same in the configuration (``simulator_faults = "slow:1.5,
read_failure"``), in ``kiosk sim fault DEVICE NAME`` and on the panel, because all three go
through ``set_fault``. ``vanish`` as a fault is the same as ``unplug``.

``SimulatorControl`` implements all of this on top of a few hooks (``fault_names``,
``actions``, ``_unplug``/``_replug``, ``plugged_in``); a simulator adds its own verbs by
overriding ``control`` and listing them in ``actions``.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: verbs every simulator answers
COMMON_VERBS = ("status", "fault", "clear", "unplug", "replug")
#: verbs that only read: they change nothing (the flight recorder skips them, the panel has no button for them)
QUERY_VERBS = frozenset({"list", "status", "deck"})
#: the fault that unplugs the device (``unplug`` is accepted as a synonym)
UNPLUG_FAULT = "vanish"


class SimulatorError(Exception):
    """A control request the simulator cannot carry out (unknown card, door out of range…)."""


@dataclass
class Fault:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    times: int | None = None  # None: until cleared

    def describe(self) -> dict[str, Any]:
        return {"fault": self.name, **self.params, **({"times": self.times} if self.times is not None else {})}


def parse_fault_list(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``"slow:0.5, garbage, jammed:3"`` → [("slow", {"value": 0.5}), ("garbage", {}), ("jammed", {"value": 3})]."""
    faults = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition(":")
        params: dict[str, Any] = {}
        if value:
            number = float(value)
            params["value"] = int(number) if number.is_integer() else number
        faults.append((name.strip(), params))
    return faults


class SimulatorControl:
    """The common verbs and fault bookkeeping; subclasses provide the device's side."""

    kind = "device"
    #: the faults ``set_fault`` accepts besides ``vanish`` (each simulator lists its own)
    fault_names: tuple[str, ...] = ()
    #: the simulator's own verbs besides ``COMMON_VERBS``
    actions: tuple[str, ...] = ()

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.kind
        self.faults: dict[str, Fault] = {}
        self._lock = threading.RLock()
        self._replugging: threading.Timer | None = None

    # -- what a subclass provides ------------------------------------------------------------
    @property
    def plugged_in(self) -> bool:
        raise NotImplementedError

    def _unplug(self) -> None:
        raise NotImplementedError

    def _replug(self) -> None:
        raise NotImplementedError

    # -- faults --------------------------------------------------------------------------------
    def known_faults(self) -> tuple[str, ...]:
        return tuple(self.fault_names) + (UNPLUG_FAULT,)

    def set_fault(self, name: str, on: bool = True, times: int | None = None, **params: Any) -> None:
        """Set (``on``) or clear one fault; ``times`` limits it to the next N replies."""
        if name in (UNPLUG_FAULT, "unplug"):
            if on:
                self.unplug(params.get("value") or params.get("seconds"))
            else:
                self.replug()
            return
        if name not in self.fault_names:
            raise SimulatorError(f"unknown fault {name!r} for the {self.kind} simulator; known: "
                                 f"{', '.join(self.known_faults())}")
        self._set_fault(name, on, times, params)

    def _set_fault(self, name: str, on: bool, times: int | None, params: dict[str, Any]) -> None:
        with self._lock:
            if on:
                self.faults[name] = Fault(name, dict(params), times)
            else:
                self.faults.pop(name, None)

    def has_fault(self, name: str) -> bool:
        return name in self.faults

    def take_fault(self, name: str) -> Fault | None:
        """Consume one use of a fault; the fault, or None when it is not set."""
        with self._lock:
            fault = self.faults.get(name)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[name]
            return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
        if not self.plugged_in:
            self.replug()

    def apply_fault_list(self, text: str) -> None:
        """Set the faults of a configuration's ``simulator_faults`` (``"slow:1.5, read_failure"``)."""
        for name, params in parse_fault_list(text):
            self.set_fault(name, **params)

    def active_faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self.faults.values()]

    # -- plugging ----------------------------------------------------------------------------------
    def unplug(self, seconds: float | None = None) -> None:
        """The device is gone (for ``seconds``, then back; None: until ``replug``)."""
        self._cancel_replug()
        self._unplug()
        log.info("simulated device unplugged", extra={"fields": {"simulator": self.name}})
        if seconds:
            self._replugging = threading.Timer(float(seconds), self.replug)
            self._replugging.daemon = True
            self._replugging.start()

    def replug(self) -> None:
        self._cancel_replug()
        self._replug()
        log.info("simulated device plugged back in", extra={"fields": {"simulator": self.name}})

    def _cancel_replug(self) -> None:
        timer, self._replugging = self._replugging, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()

    # -- the interface -------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "plugged_in": self.plugged_in,
            "faults": self.active_faults(),
            "known_faults": list(self.known_faults()),
            "actions": list(COMMON_VERBS + tuple(self.actions)),
        }

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Carry out one of the common verbs; returns the simulator's state (or raises SimulatorError)."""
        if action == "status":
            return self.state()
        if action == "fault":
            name = str(params.get("fault", ""))
            extra = {k: v for k, v in params.items() if k not in ("fault", "on", "times")}
            times = params.get("times")
            self.set_fault(name, bool(params.get("on", True)), int(times) if times else None, **extra)
            return self.state()
        if action == "clear":
            self.clear_faults()
            return self.state()
        if action == "unplug":
            self.unplug(params.get("seconds"))
            return self.state()
        if action == "replug":
            self.replug()
            return self.state()
        raise SimulatorError(f"the {self.kind} simulator has no action {action!r}; actions: "
                             f"{', '.join(COMMON_VERBS + tuple(self.actions))}")
