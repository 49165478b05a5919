"""The reference backend's file store: page images and pickup photos as files, not database rows.

A directory (``--files DIR``; next to a SQLite database by default) holds
``pages/<application>/<material>-<page>-<sha256 prefix>.<ext>`` and ``photos/<pickup>.jpg``.
Folders are created 0700 and every file 0600, written to a temporary name, flushed to disk
and renamed, so a reader never sees half a file. The database keeps the path relative to the
store, so the directory can be moved or mounted elsewhere. Names carry no personal data.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

_EXT = {"image/jpeg": "jpg", "application/pdf": "pdf"}
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FileStoreError(Exception):
    """The file store cannot be used (the message names the folder and the reason)."""


class FileStore:
    def __init__(self, root: str | Path, temporary: bool = False):
        self.root = Path(root)
        self.temporary = temporary
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            probe = self.root / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise FileStoreError(f"cannot use {self.root} as the file store: {exc.strerror}") from None

    @classmethod
    def scratch(cls) -> "FileStore":
        """A store in a new temporary folder, removed by ``close()`` (an in-memory database's pages)."""
        return cls(tempfile.mkdtemp(prefix="refbackend-files-"), temporary=True)

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

    @staticmethod
    def _check(*names: str) -> None:
        for name in names:
            if not _SAFE.match(name):
                raise ValueError("a file store name is 1–64 letters, digits, _ or -")

    def page_path(self, application_id: str, material_index: int, page_no: int, content_type: str,
                  sha256: str) -> str:
        self._check(application_id)
        return f"pages/{application_id}/{int(material_index)}-{int(page_no)}-{sha256[:16]}.{_EXT[content_type]}"

    def put_page(self, application_id: str, material_index: int, page_no: int, content_type: str, data: bytes,
                 sha256: str) -> str:
        """Write a page; the name is derived from its content, so writing it twice is harmless."""
        return self._write(self.page_path(application_id, material_index, page_no, content_type, sha256), data)

    def put_photo(self, pickup_id: str, data: bytes) -> str:
        self._check(pickup_id)
        return self._write(f"photos/{pickup_id}.jpg", data)

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
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)


class NoFileStore:
    """Stands in where no file store was given (a command that only registers terminals or workers
    on a PostgreSQL database): any image read or write says how to give one."""

    root = None
    temporary = False

    def _refuse(self, *_args, **_kwargs):
        raise FileStoreError("no file store for page images: start the backend with --files DIR")

    put_page = put_photo = read = _refuse

    def remove(self, relative: str) -> None:
        pass

    def close(self) -> None:
        pass
