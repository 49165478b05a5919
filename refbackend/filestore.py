"""The reference backend's file store: page images and pickup photos as files, not database rows.

A directory (``--files DIR``; next to a SQLite database file by default) holds
``pages/<application>/<material>-<page>-<sha256 prefix>.<ext>`` and ``photos/<pickup>.jpg``.
Folders are created 0700 and every file 0600, written to a temporary name, flushed to disk
and renamed, so a reader never sees half a file. The database keeps the path relative to the
store, so the directory can be moved or mounted elsewhere. Names carry no personal data.
An in-memory database keeps its pages in memory too (``MemoryFileStore``); a command that
needs no images on PostgreSQL runs without a store (``NoFileStore``).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_EXT = {"image/jpeg": "jpg", "application/pdf": "pdf"}
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _check(name: str) -> str:
    if not _SAFE.match(name):
        raise ValueError("a file store name is 1–64 letters, digits, _ or -")
    return name


def page_path(application_id: str, material_index: int, page_no: int, content_type: str, sha256: str) -> str:
    """Where a page goes, relative to the store (no personal data in it)."""
    return (f"pages/{_check(application_id)}/{int(material_index)}-{int(page_no)}-{sha256[:16]}."
            f"{_EXT[content_type]}")


def photo_path(pickup_id: str) -> str:
    return f"photos/{_check(pickup_id)}.jpg"


class FileStoreError(Exception):
    """The file store cannot be used (the message names the folder and the reason)."""


class FileStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            probe = self.root / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise FileStoreError(f"cannot use {self.root} as the file store: {exc.strerror}") from None


    def _write(self, relative: str, data: bytes) -> str:
        target = self.root / relative
        folder = self.root
        for part in Path(relative).parent.parts:  # each folder 0700 (mkdir's parents would get 0755)
            folder = folder / part
            folder.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return relative

    def put_page(self, application_id: str, material_index: int, page_no: int, content_type: str, data: bytes,
                 sha256: str) -> str:
        """Write a page; the name is derived from its content, so writing it twice is harmless."""
        return self._write(page_path(application_id, material_index, page_no, content_type, sha256), data)

    def put_photo(self, pickup_id: str, data: bytes) -> str:
        return self._write(photo_path(pickup_id), data)

    def read(self, relative: str) -> bytes:
        path = self._resolve(relative)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FileStoreError(f"a stored file is missing from {self.root}") from None

    def remove(self, relative: str) -> None:
        try:
            self._resolve(relative).unlink()
        except FileNotFoundError:
            pass

    def _resolve(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents:
            raise FileStoreError("a stored path points outside the file store")
        return path

    def close(self) -> None:
        """Nothing to release: every write is complete when it returns."""


class MemoryFileStore:
    """The pages of an in-memory database (the embedded demo, tests): kept in memory with it, so
    that nothing a resident scanned reaches the disk; gone when the store is closed."""

    root = None

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    def put_page(self, application_id: str, material_index: int, page_no: int, content_type: str, data: bytes,
                 sha256: str) -> str:
        relative = page_path(application_id, material_index, page_no, content_type, sha256)
        self._files[relative] = bytes(data)
        return relative

    def put_photo(self, pickup_id: str, data: bytes) -> str:
        self._files[photo_path(pickup_id)] = bytes(data)
        return photo_path(pickup_id)

    def read(self, relative: str) -> bytes:
        try:
            return self._files[relative]
        except KeyError:
            raise FileStoreError("a stored file is missing from the in-memory store") from None

    def remove(self, relative: str) -> None:
        self._files.pop(relative, None)

    def close(self) -> None:
        self._files.clear()


class NoFileStore:
    """Stands in where no file store was given (a command that only registers terminals or workers
    on a PostgreSQL database): any image read or write says how to give one."""

    root = None

    def _refuse(self, *_args, **_kwargs):
        raise FileStoreError("no file store for page images: start the backend with --files DIR")

    put_page = put_photo = read = _refuse

    def remove(self, relative: str) -> None:
        pass

    def close(self) -> None:
        pass
