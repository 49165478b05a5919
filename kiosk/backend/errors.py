"""What can go wrong talking to the acceptance system, as exceptions a flow can act on.

- ``BackendUnavailable``: no answer, a timeout, a 5xx or 429 — try again later; the outbox
  keeps the item.
- ``BackendAuthError``: 401 — the terminal's key or clock is wrong; a technician's problem,
  the outbox keeps the item.
- ``BackendRejected``: 4xx — the request itself is wrong and will never be accepted as is
  (also a wrong PIN, 403 ``wrong_pin``, a locked grid worker, 423 ``pin_locked``, and an
  expired identity code, 410 ``identity_code_expired``).
- ``BackendProtocolError``: an answer that does not fit the contract.

Messages carry the method, the path, the status and the server's error code and message
(which by contract never hold personal data), never a request body.
"""
from __future__ import annotations


class BackendError(Exception):
    """Base class. ``code`` is the server's error code (or a local one), ``status`` the HTTP status.

    ``attempts_left`` (after a ``wrong_pin``) and ``retry_after_seconds`` (after a ``pin_locked``)
    are what the server said, or None.
    """

    transient = True

    def __init__(self, message: str, *, code: str = "", status: int | None = None, fields: list | None = None,
                 attempts_left: int | None = None, retry_after_seconds: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.fields = fields or []
        self.attempts_left = attempts_left
        self.retry_after_seconds = retry_after_seconds


class BackendUnavailable(BackendError):
    """The backend could not be reached or did not answer properly in time."""


class BackendAuthError(BackendError):
    """The backend refused the terminal's signature (key, clock skew, replay)."""


class BackendRejected(BackendError):
    """The backend understood the request and refuses it for good (4xx other than 401/408/429)."""

    transient = False


class BackendNotFound(BackendRejected):
    """404: no such item, case, application or pickup (or the verification did not match)."""


class BackendProtocolError(BackendError):
    """The answer does not fit the contract (a server bug or a proxy in the way)."""
