"""What a clerk does to a case, for the testers' handle (``kiosk sim backend review|approve|…``).

Two desks do the same five things (review, ask for 补正, decide, issue into a door, re-issue)
and read a case and its ratings back:

- ``ClerkApi`` goes through the clerk's HTTP API (``/api/v1/clerk/…``, HTTP Basic) exactly as a
  back-office client would, so a scenario that approves and issues a case exercises the same
  validation, state checks and audit as a clerk at a desk. The embedded backend uses it.
- ``StoreDesk`` calls the store's methods directly (tests of the handle without a server).

Both raise ``DeskError`` with the backend's own error code and message.
"""
from __future__ import annotations

from typing import Any, Protocol

import requests

from kiosk.backend import models as m


class DeskError(ValueError):
    """The backend refused what the clerk asked (its error code and message)."""


class ClerkDesk(Protocol):
    def review(self, number: str) -> None: ...
    def supplement(self, number: str, request: m.ClerkSupplement) -> None: ...
    def decide(self, number: str, decision: m.ClerkDecision) -> None: ...
    def issue(self, number: str, issue: m.ClerkIssue, again: bool = False) -> m.IssuedPickup: ...
    def case(self, number: str) -> m.CaseStatus: ...
    def rating_levels(self, number: str) -> list[int]: ...


class StoreDesk:
    """The store's methods, called directly."""

    def __init__(self, store: Any):
        self.store = store

    def review(self, number: str) -> None:
        self._call(self.store.review, number)

    def supplement(self, number: str, request: m.ClerkSupplement) -> None:
        self._call(self.store.request_supplement, number, request)

    def decide(self, number: str, decision: m.ClerkDecision) -> None:
        self._call(self.store.decide, number, decision)

    def issue(self, number: str, issue: m.ClerkIssue, again: bool = False) -> m.IssuedPickup:
        return self._call(self.store.reissue if again else self.store.issue, number, issue)

    def case(self, number: str) -> m.CaseStatus:
        return self._call(self.store.clerk_case, number)

    def rating_levels(self, number: str) -> list[int]:
        """The case's ratings, oldest first."""
        return [rating["level"] for rating in self.store.ratings(number)]

    @staticmethod
    def _call(method: Any, *args: Any) -> Any:
        from refbackend.store import ApiError

        try:
            return method(*args)
        except ApiError as exc:
            raise DeskError(f"{exc.code}: {exc.message}") from None


class ClerkApi:
    """The clerk's HTTP API at ``url`` (the backend itself, not through the network switch)."""

    def __init__(self, url: str, password: str, user: str = "clerk", timeout: float = 10.0):
        self.base = url.rstrip("/") + "/api/v1/clerk"
        self.http = requests.Session()
        self.http.auth = (user, password)
        self.timeout = timeout

    def review(self, number: str) -> None:
        self._send("POST", f"/cases/{number}/review")

    def supplement(self, number: str, request: m.ClerkSupplement) -> None:
        self._send("POST", f"/cases/{number}/supplement", request)

    def decide(self, number: str, decision: m.ClerkDecision) -> None:
        self._send("POST", f"/cases/{number}/decision", decision)

    def issue(self, number: str, issue: m.ClerkIssue, again: bool = False) -> m.IssuedPickup:
        answer = self._send("POST", f"/cases/{number}/{'reissue' if again else 'issue'}", issue)
        return m.IssuedPickup.model_validate(answer)

    def case(self, number: str) -> m.CaseStatus:
        return m.CaseStatus.model_validate(self._send("GET", f"/cases/{number}"))

    def rating_levels(self, number: str) -> list[int]:
        """The case's ratings, oldest first (the API lists them newest first)."""
        listed = m.ClerkRatingList.model_validate(self._send("GET", "/ratings"))
        return [r.level for r in reversed(listed.ratings) if r.acceptance_number == number]

    def _send(self, method: str, path: str, body: m.ContractModel | None = None) -> Any:
        try:
            answer = self.http.request(method, self.base + path, timeout=self.timeout,
                                       json=body.model_dump(mode="json") if body is not None else None)
        except requests.RequestException as exc:
            raise DeskError(f"the clerk API did not answer: {type(exc).__name__}") from None
        if answer.status_code >= 400:
            try:
                error = answer.json()["error"]
                told = f"{error['code']}: {error['message']}"
            except (ValueError, KeyError, TypeError):
                told = f"the clerk API answered {answer.status_code}"
            raise DeskError(told)
        return answer.json()

    def close(self) -> None:
        self.http.close()
