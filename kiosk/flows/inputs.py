"""Who hears a placed ID card or a scanned code right now: the newest flow that claimed them.

The kiosk has one card reader and one code path, and at any moment exactly one journey should
act on what arrives: the kiosk-wide sign-in (``IdentifyFlow``) on most screens, the 代办 flow
while a grid worker signs in (their staff card must not sign them in as a resident), later the
follow or pickup flows. ``InputRouter.claim`` puts a flow's handlers on top of a stack and
returns a ``Subscription``; cancelling it (the flow ends) gives the inputs back to the claim
below. Events arrive on device threads and are handed on there.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from drivers.events import Subscription

log = logging.getLogger(__name__)

CardHandler = Callable[[Any], None]  # a drivers.idcard.reader.CardEvent
PayloadHandler = Callable[[Any], None]  # a kiosk.payloads.Payload


@dataclass(eq=False)
class _Claim:
    owner: str
    on_card: CardHandler | None
    on_payload: PayloadHandler | None


class InputRouter:
    def __init__(self, devices: Any | None = None):
        """``devices``: anything with ``subscribe_cards`` and ``subscribe_payloads`` (the device manager)."""
        self._lock = threading.Lock()
        self._claims: list[_Claim] = []
        self._subscriptions: list[Subscription] = []
        if devices is not None:
            self._subscriptions = [devices.subscribe_cards(self.card), devices.subscribe_payloads(self.payload)]

    def claim(self, owner: str, on_card: CardHandler | None = None,
              on_payload: PayloadHandler | None = None) -> Subscription:
        claim = _Claim(owner, on_card, on_payload)
        with self._lock:
            self._claims.append(claim)

        def release() -> None:
            with self._lock:
                if claim in self._claims:
                    self._claims.remove(claim)
        return Subscription(release)

    def owner(self) -> str:
        with self._lock:
            return self._claims[-1].owner if self._claims else ""

    def card(self, event: Any) -> None:
        handler = self._top(lambda claim: claim.on_card)
        if handler is not None:
            handler(event)

    def payload(self, payload: Any) -> None:
        handler = self._top(lambda claim: claim.on_payload)
        if handler is not None:
            handler(payload)
        else:
            log.info("scanned code not wanted by any journey", extra={"fields": {"kind": payload.kind}})

    def _top(self, pick: Callable[[_Claim], Any]) -> Any:
        with self._lock:
            for claim in reversed(self._claims):
                handler = pick(claim)
                if handler is not None:
                    return handler
        return None

    def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()
        with self._lock:
            self._claims.clear()
