"""What to tell the resident about a backend outcome: a translation key (assets/i18n/strings.toml).

Flows call ``message_key(outcome_or_error)`` and show ``translator(key, number=...)``; the
technician's detail (error codes, statuses) stays in the log and never reaches the screen.
``message_values(outcome_or_error)`` gives the values some of these texts need:
``backend.submitted`` takes ``number``, ``backend.staff_wrong_pin`` ``attempts_left``
("PIN 错误，还可尝试 3 次"), ``backend.staff_pin_locked`` ``minutes`` (rounded up).
"""
from __future__ import annotations

from kiosk.backend.errors import BackendAuthError, BackendError, BackendNotFound, BackendUnavailable

_REFUSALS = {
    "missing_materials": "backend.refused_missing_materials",
    "not_at_kiosk": "backend.refused_not_at_kiosk",
    "declaration_required": "backend.refused_declaration",
    "too_many_attempts": "backend.too_many_attempts",
    "case_not_found": "backend.case_not_found",
    "pickup_not_found": "backend.pickup_not_found",
    "already_picked_up": "backend.pickup_not_found",
    "identity_code_unknown": "backend.identity_code_unknown",
    "identity_code_expired": "backend.identity_code_expired",
    "unknown_staff": "backend.staff_unknown",
    "wrong_pin": "backend.staff_wrong_pin",
    "pin_locked": "backend.staff_pin_locked",
}


def message_key(outcome: object) -> str:
    """The key for a ``Delivered``/``Queued``/``Refused`` outcome or a ``BackendError``."""
    from kiosk.backend.service import Delivered, Queued, Refused

    if isinstance(outcome, Delivered):
        return "backend.submitted"
    if isinstance(outcome, Queued):
        return "backend.queued"
    code = getattr(outcome, "code", "")
    if code in _REFUSALS:
        return _REFUSALS[code]
    if isinstance(outcome, Refused):
        return "backend.refused"
    if isinstance(outcome, BackendAuthError):
        return "backend.terminal_problem"
    if isinstance(outcome, BackendNotFound):
        return "backend.not_found"
    if isinstance(outcome, BackendUnavailable) or (isinstance(outcome, BackendError) and outcome.transient):
        return "backend.unavailable"
    return "backend.refused"


def message_values(outcome: object) -> dict[str, object]:
    """The values for ``translator(message_key(outcome), **message_values(outcome))``: ``number``
    (a delivered submission's acceptance number), ``attempts_left``, ``minutes``."""
    values: dict[str, object] = {}
    number = getattr(getattr(outcome, "result", None), "acceptance_number", None)
    if number:
        values["number"] = number
    attempts_left = getattr(outcome, "attempts_left", None)
    if attempts_left is not None:
        values["attempts_left"] = int(attempts_left)
    retry_after = getattr(outcome, "retry_after_seconds", None)
    if retry_after is not None:
        values["minutes"] = max(1, -(-int(retry_after) // 60))
    return values
