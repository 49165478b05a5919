"""A resident's session: who they are and what they entered, and the wipe that ends it.

One ``Session`` object owns every piece of personal data the kiosk holds for the
resident in front of it: the identity read from a card or QR code (and, in 代办, the grid
worker acting for them), the form fields, and a private scratch folder for camera images and
other files. ``signed_in_banner()`` is what the top bar shows, masked. ``end()`` — on finish, on
"返回首页", or when the inactivity countdown runs out — clears all of it from memory and
deletes the scratch folder. Leftover folders from a crash are removed at start-up.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from drivers.events import Listeners, Subscription
from kiosk.privacy import mask_name

log = logging.getLogger(__name__)

SCRATCH_PREFIX = "kiosk-session-"


def default_scratch_root() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime and Path(runtime).is_dir() else Path(tempfile.gettempdir())
    return base / "kiosk"


@dataclass(repr=False)
class Identity:
    """Who the resident is, as far as the kiosk knows. Never logged unmasked."""

    source: str  # "idcard" | "code" (an e-ID code on a phone) | "manual" (typed in 代办)
    id_number: str = ""
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: the contract's id type: resident_id, hk_macao_permit, taiwan_permit, foreign_permanent, passport
    id_type: str = "resident_id"
    address: str = ""
    phone: str = ""
    birth_date: str = ""  # YYYY-MM-DD, when known
    valid_to: str = ""  # YYYY-MM-DD or 长期, when read from a card

    def __repr__(self) -> str:
        return f"Identity(source={self.source!r}, id_type={self.id_type!r})"

    def wipe(self) -> None:
        self.extra.clear()
        self.id_number = self.name = self.address = self.phone = self.birth_date = self.valid_to = ""


@dataclass(repr=False)
class Agent:
    """A village grid worker (网格员) acting for the resident (代办), as the backend confirmed."""

    worker_id: str
    name: str
    phone: str = ""

    def __repr__(self) -> str:
        return f"Agent(worker_id={self.worker_id!r})"


class Session:
    """The current resident's data. Thread-safe; listeners hear ``started`` and ``ended``."""

    def __init__(self, scratch_root: Path | str | None = None, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.RLock()
        self._clock = clock
        self.scratch_root = Path(scratch_root) if scratch_root else default_scratch_root()
        self._listeners: Listeners = Listeners("session")
        self._reset()

    def _reset(self) -> None:
        self.session_id: str | None = None
        self.started_at: float | None = None
        self.identity: Identity | None = None
        self.agent: Agent | None = None
        self.values: dict[str, Any] = {}
        self._scratch: Path | None = None

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.session_id is not None

    def start(self) -> str:
        """Start a session if none is running; returns its id."""
        with self._lock:
            if self.session_id is None:
                self.session_id = uuid.uuid4().hex[:12]
                self.started_at = self._clock()
                log.info("session started", extra={"fields": {"session": self.session_id}})
                self._notify("started", "")
            return self.session_id

    def end(self, reason: str) -> None:
        """End the session and wipe everything it held. Safe to call when none is running."""
        with self._lock:
            if (self.session_id is None and self._scratch is None and not self.values and self.identity is None
                    and self.agent is None):
                return
            sid = self.session_id
            duration = (self._clock() - self.started_at) if self.started_at is not None else 0.0
            scratch = self._scratch
            self.values.clear()
            if self.identity is not None:
                self.identity.wipe()
            self._reset()
        if scratch is not None:
            _remove_tree(scratch)
        log.info("session ended", extra={"fields": {"session": sid, "reason": reason,
                                                    "seconds": round(duration, 1)}})
        self._notify("ended", reason)

    # -- data ------------------------------------------------------------------------------
    def set_identity(self, identity: Identity, agent: Agent | None = None) -> None:
        """Sign the resident in (with the grid worker acting for them, in 代办)."""
        with self._lock:
            self.start()
            self.identity = identity
            self.agent = agent
        log.info("resident signed in", extra={"fields": {"session": self.session_id, "source": identity.source,
                                                         "agent": agent is not None}})
        self._notify("identified", identity.source)

    @property
    def signed_in(self) -> bool:
        return self.identity is not None

    def signed_in_banner(self) -> tuple[str, dict[str, str]] | None:
        """(translation key, values) for the top bar: the masked name, and who acts for whom in 代办."""
        with self._lock:
            identity, agent = self.identity, self.agent
            if identity is None:
                return None
            if agent is not None:
                return "signin.banner_agent", {"agent": mask_name(agent.name), "name": mask_name(identity.name)}
            return "signin.banner", {"name": mask_name(identity.name)}

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self.start()
            self.values[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self.values.get(key, default)

    def scratch_dir(self) -> Path:
        """This session's private folder (mode 0700), created on first use."""
        with self._lock:
            self.start()
            if self._scratch is None:
                self.scratch_root.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=self.scratch_root))
            return self._scratch

    def holds_personal_data(self) -> bool:
        with self._lock:
            scratch_has_files = self._scratch is not None and self._scratch.exists() and any(self._scratch.iterdir())
            return bool(self.identity or self.agent or self.values or scratch_has_files)

    # -- events ----------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[str, str], None]) -> Subscription:
        """``listener(event, reason)`` hears ``started``, ``identified`` and ``ended``."""
        return self._listeners.add(listener)

    def _notify(self, event: str, reason: str) -> None:
        self._listeners.publish(event, reason)

    # -- start-up hygiene ------------------------------------------------------------------
    def remove_leftovers(self) -> int:
        """Delete scratch folders left by a crashed run. Returns how many were removed."""
        if not self.scratch_root.is_dir():
            return 0
        removed = 0
        for entry in self.scratch_root.glob(SCRATCH_PREFIX + "*"):
            if entry != self._scratch:
                _remove_tree(entry)
                removed += 1
        if removed:
            log.warning("removed leftover session folders", extra={"fields": {"count": removed}})
        return removed


def _remove_tree(path: Path) -> None:
    # Overwrite before unlinking where cheap: scratch files are images of documents.
    try:
        for file in path.rglob("*"):
            if file.is_file() and not file.is_symlink():
                try:
                    size = file.stat().st_size
                    if size <= 64 * 1024 * 1024:
                        with open(file, "r+b") as handle:
                            handle.write(b"\0" * size)
                except OSError:
                    pass
    finally:
        shutil.rmtree(path, ignore_errors=True)
