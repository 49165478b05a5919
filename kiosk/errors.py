"""Errors that end a command with a one-line message for the person at the terminal."""
from __future__ import annotations


class UserFacingError(Exception):
    """A failure to report as one line, with exit code ``code`` (never a traceback)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code
