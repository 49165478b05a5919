"""The base of every journey: an explicit state machine with a problem line and subscriptions.

A ``Flow`` subclass declares its states and, for each, the states it may move to
(``TRANSITIONS``); ``_go`` refuses any other move with ``FlowError``, so a journey cannot
wander into a state nobody designed. Each state change (and each change of ``problem``, the
translation key of what went wrong, with ``problem_values``) is published to the flow's
listeners with the flow itself as the event; listeners run on the thread that made the change
(a device thread, a worker, or the UI thread), so a screen hops to its own thread first.

A flow keeps the subscriptions it takes (``hold``) and cancels all of them when it ends, so a
finished journey never hears another card, code or door event.

This is a small state machine of our own rather than python-statemachine or transitions: a
flow's transitions are triggered from device threads, worker threads and the UI thread at
once, and what a flow needs — a lock around each move, a problem line for the screen, and
the release of its device subscriptions at the end — is a few dozen lines here, where the
libraries would bring their own callback conventions and still not manage subscriptions.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from drivers.events import Listeners, Subscription

log = logging.getLogger(__name__)

Background = Callable[[Callable[[], None]], Any]
"""Runs a callable off the caller's thread (a ``TaskRunner``'s submit; tests run it at once)."""


class FlowError(RuntimeError):
    """A move the flow's transition table does not allow (a bug in the caller)."""


class Flow:
    name = "flow"
    initial = "idle"
    #: state → the states it may move to; "ended" is always allowed
    TRANSITIONS: dict[str, tuple[str, ...]] = {}

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.state = self.initial
        self.problem = ""
        self.problem_values: dict[str, Any] = {}
        self.ended = False
        self._listeners: Listeners[Flow] = Listeners(f"{self.name} flow")
        self._held: list[Subscription] = []

    # -- observers --------------------------------------------------------------------------
    def subscribe(self, listener: Callable[["Flow"], None]) -> Subscription:
        """``listener(flow)`` runs after every change of state or problem."""
        return self._listeners.add(listener)

    def hold(self, subscription: Subscription) -> Subscription:
        """Keep a subscription (to devices, the session…) until the flow ends."""
        with self._lock:
            if self.ended:
                subscription.cancel()
            else:
                self._held.append(subscription)
        return subscription

    # -- moving -----------------------------------------------------------------------------
    def _go(self, state: str, problem: str = "", **values: Any) -> None:
        with self._lock:
            if self.ended:
                return
            if state != self.state and state not in self.TRANSITIONS.get(self.state, ()):
                raise FlowError(f"{self.name}: {self.state} → {state} is not a transition of this flow")
            changed = (state, problem, values) != (self.state, self.problem, self.problem_values)
            if state != self.state:
                log.info("flow moved", extra={"fields": {"flow": self.name, "from": self.state, "to": state,
                                                         "problem": problem}})
            self.state, self.problem, self.problem_values = state, problem, dict(values)
        if changed:
            self._listeners.publish(self)

    def _say(self, problem: str, **values: Any) -> None:
        """Show a problem (or clear it with "") without leaving the state."""
        self._go(self.state, problem, **values)

    def end(self) -> None:
        """Release every held subscription; the flow hears nothing more. Safe to call twice."""
        with self._lock:
            if self.ended:
                return
            self.ended = True
            held, self._held = self._held, []
            self.state = "ended"
        for subscription in held:
            subscription.cancel()
        self._listeners.publish(self)
