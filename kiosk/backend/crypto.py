"""Encryption at rest for personal data the kiosk must keep for a while (the outbox).

AES-256-GCM (``cryptography``) with a random 96-bit nonce per record. Each record is
bound to its place by associated data (the item key and the part's name), so a row
copied over another, or bytes flipped on disk, fail to decrypt instead of yielding
someone else's data. Stored format: ``b"K1" + nonce(12) + ciphertext+tag``.

The key is 32 bytes kept in a key file (base64), readable by the kiosk user only; the
file is created on first use when it does not exist yet.
"""
from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

_MAGIC = b"K1"
_NONCE_BYTES = 12


class DecryptError(Exception):
    """A record that cannot be decrypted: corrupted, truncated, or made with another key."""


class KeyFileError(Exception):
    """The data key file is unusable; the message names the file and the problem, never the key."""


class RecordCipher:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("the data key has 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _MAGIC + nonce + self._aead.encrypt(nonce, plaintext, context.encode("utf-8"))

    def decrypt(self, record: bytes, context: str) -> bytes:
        if not isinstance(record, (bytes, bytearray)) or len(record) < len(_MAGIC) + _NONCE_BYTES + 16:
            raise DecryptError("record too short")
        if bytes(record[:2]) != _MAGIC:
            raise DecryptError("unknown record format")
        nonce = bytes(record[2:2 + _NONCE_BYTES])
        try:
            return self._aead.decrypt(nonce, bytes(record[2 + _NONCE_BYTES:]), context.encode("utf-8"))
        except InvalidTag:
            raise DecryptError("authentication tag mismatch (corrupted, or encrypted with another key)") from None


def load_or_create_data_key(path: Path | str) -> bytes:
    """Read the 32-byte key from ``path``; create the file (mode 0600) if it is missing."""
    path = Path(path)
    if path.exists():
        try:
            text = path.read_text("ascii").strip()
            key = base64.b64decode(text, validate=True)
        except (OSError, UnicodeDecodeError, binascii.Error, ValueError) as exc:
            raise KeyFileError(f"data key file {path} cannot be read as base64 ({type(exc).__name__})") from None
        if len(key) != 32:
            raise KeyFileError(f"data key file {path} holds {len(key)} bytes; 32 expected")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return load_or_create_data_key(path)
    with open(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key).decode("ascii") + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    log.warning("created a new data key file for the outbox", extra={"fields": {"path": str(path)}})
    return key
