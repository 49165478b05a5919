"""The technician PIN: 6–12 digits, stored only as a salted scrypt hash in kiosk.toml.

``hash_pin("135790")`` → ``"scrypt$16384$8$1$<salt>$<hash>"`` (base64); ``pin_matches`` checks a
PIN against it in constant time. Neither the PIN nor the hash is ever logged.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

PIN_PATTERN = re.compile(r"\d{6,12}")
HASH_PATTERN = r"scrypt\$\d{4,7}\$\d{1,2}\$\d{1,2}\$[A-Za-z0-9+/=]{16,64}\$[A-Za-z0-9+/=]{16,128}"
_N, _R, _P = 16384, 8, 1


class PinError(ValueError):
    """A PIN that does not follow the rules; the message says which."""


def check_pin_rules(pin: str) -> str:
    if not PIN_PATTERN.fullmatch(pin or ""):
        raise PinError("the technician PIN is 6 to 12 digits")
    if len(set(pin)) == 1 or pin in "01234567890123" or pin in "98765432109876":
        raise PinError("choose a PIN that is not one digit repeated or a run like 123456")
    return pin


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    check_pin_rules(pin)
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()])


def pin_matches(pin: str, stored: str) -> bool:
    """True when ``pin`` is the PIN ``stored`` was made from (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(str(pin).encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
