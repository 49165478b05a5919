"""What the kiosk's flows call to reach the backend, and how it is assembled from config.

``BackendServices`` ties together the client, the outbox, the catalogue cache and a
background sender. State-changing calls (submit an application, rate, confirm a pickup,
call the staff) always go through the outbox: written first, then sent at once on the
caller's worker thread. The caller gets one of three outcomes:

- ``Delivered(result)``: the backend took it (an acceptance number, a rating receipt…);
- ``Queued(key)``: stored, will be sent automatically — the UI says "已保存，网络恢复后自动提交"
  and still prints the receipt;
- ``Refused(error)``: the backend refused it for good (e.g. a required material missing);
  the stored item is removed and the resident can correct it.

Reads (case status by 查询码 or by holder, pickups waiting, verify pickup, resolve an identity
code) and a grid worker's sign-in go straight to the client; the catalogue is read from the
cache, which a background sync keeps current. ``queued_applications`` lists a holder's
applications still waiting in the outbox (read on the kiosk, network or not); each heartbeat
carries the locker's report and its answer is kept (``last_ack``) and published.

``build_backend(settings)`` is the composition root for this package. With
``[backend] embedded = true`` it is handed an ``EmbeddedBackend`` that the entry layer started
(``refbackend.embed.start_for_settings``); the core never imports the reference backend.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from drivers.events import Listeners, Subscription
from kiosk.backend import models as m
from kiosk.backend.catalog_cache import CatalogCache, SyncResult
from kiosk.backend.client import BackendClient, ProgressCallback
from kiosk.backend.crypto import RecordCipher, load_or_create_data_key
from kiosk.backend.delivery import Deliverer, application_payload, create_key, item_key_of_create
from kiosk.backend.errors import BackendError
from kiosk.backend.outbox import Outbox
from kiosk.backend.models import EmbeddedBackend
from kiosk.backend.signing import TerminalKeyError, parse_key, read_key_file
from kiosk.config import Settings

if TYPE_CHECKING:
    from kiosk.status import StatusBoard

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Delivered(Generic[T]):
    key: str
    result: T


@dataclass(frozen=True)
class Queued:
    key: str
    reason: str  # the transient error, for the technician; the UI shows its own words

    @property
    def local_reference(self) -> str:
        """A short reference for the receipt until the acceptance number exists (e.g. "3F9A0C1D")."""
        return self.key[:8].upper()

    @property
    def application_key(self) -> str:
        """What a rating names this application by until it has an acceptance number."""
        return create_key(self.key)


@dataclass(frozen=True)
class Refused:
    key: str
    code: str
    message: str
    fields: list


@dataclass(frozen=True)
class QueuedApplication:
    """An application stored in the outbox while the network was down: not yet a case."""

    key: str
    item_code: str
    item_name: str
    created_at: float  # Unix time, when the resident submitted it

    @property
    def local_reference(self) -> str:
        """The reference printed on the receipt until the acceptance number exists (e.g. "3F9A0C1D")."""
        return self.key[:8].upper()

    @property
    def application_key(self) -> str:
        """What a rating names this application by until it has an acceptance number."""
        return create_key(self.key)


class BackendServices:
    def __init__(self, client: BackendClient, outbox: Outbox, catalog: CatalogCache, *,
                 heartbeat_seconds: int = 60, catalog_sync_seconds: int = 900,
                 health_source: Callable[[], list[m.DeviceHealth]] | None = None,
                 locker_source: Callable[[], m.LockerReport | None] | None = None):
        self.client = client
        self.outbox = outbox
        self.catalog = catalog
        self.deliverer = Deliverer(client)
        self.health_source = health_source or (lambda: [])
        self.locker_source = locker_source or (lambda: None)
        #: what the last heartbeat answered (results waiting in this terminal's locker…), or None
        self.last_ack: m.HeartbeatAck | None = None
        self._beat_listeners: Listeners[m.HeartbeatAck] = Listeners("heartbeat")
        self.heartbeat_seconds = heartbeat_seconds
        self.catalog_sync_seconds = catalog_sync_seconds
        self.started_at = time.monotonic()
        self.online: bool | None = None
        self._listeners: Listeners[bool] = Listeners("backend online")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._cleanup: list[Callable[[], None]] = []
        self.embedded: EmbeddedBackend | None = None  # when [backend] embedded = true (url, clerk password)
        self.state_dir: Path | None = None  # where the outbox lives; the pickup ledger goes next to it

    # -- state-changing calls (through the outbox) -----------------------------------------
    def submit_application(self, create: m.ApplicationCreate, pages: list[tuple[int, int, str, bytes]],
                           submit: m.SubmitRequest | None = None,
                           progress: ProgressCallback | None = None,
                           on_stored: Callable[[Queued], None] | None = None
                           ) -> Delivered[m.SubmitResult] | Queued | Refused:
        """Store the application with its pages (material index, page no, content type, bytes), then send it.

        Blocking: call it on a worker thread (``TaskRunner``). ``progress(sent, total)`` counts the
        bytes of all pages and runs on that worker thread, so a screen hops to the UI thread first.
        ``on_stored(Queued)`` runs as soon as the application is safely in the outbox, before it is
        sent: a caller that stops waiting for a slow backend already holds its local reference.
        """
        submit = submit or m.SubmitRequest(declaration_accepted=True)
        payload, parts = application_payload(create, submit, pages)
        try:
            key = self.outbox.enqueue("application", payload, parts)
        except Exception as exc:  # a full disk, a broken database: nothing was stored
            log.error("application could not be stored in the outbox", extra={"fields": {"error": repr(exc)[:200]}})
            return Refused("", "not_stored", "the application could not be stored on this terminal", [])
        finally:
            payload.clear()
            parts.clear()
        if on_stored is not None:
            on_stored(Queued(key, "stored, not sent yet"))
        return self._deliver_now(key, progress)

    def rate(self, rating: m.RatingCreate) -> Delivered[m.RatingReceipt] | Queued | Refused:
        """A rating of a case, or of an application still in the outbox (``application_key``): then
        it waits for that application to be delivered first, however long that takes."""
        application = item_key_of_create(rating.application_key) if rating.application_key else None
        key = self.outbox.enqueue("rating", {"rating": rating.model_dump(mode="json")}, after=application)
        return self._deliver_now(key)

    def confirm_pickup(self, pickup_id: str, confirm: m.PickupConfirm) -> Delivered[m.PickupRecord] | Queued | Refused:
        key = self.outbox.enqueue("pickup.confirm", {"pickup_id": pickup_id,
                                                     "confirm": confirm.model_dump(mode="json")})
        return self._deliver_now(key)

    def call_staff(self, screen: str, alert: str | None = None,
                   door: int | None = None) -> Delivered[m.StaffCallReceipt] | Queued | Refused:
        """呼叫工作人员 from ``screen`` (e.g. ``apply.form``): stored, then sent; exactly once, even
        if the network is down now (then ``Queued``: the call goes out when it is back).
        No personal data: the terminal is known from the signature. ``alert`` (``door_left_open``,
        ``door_empty``, ``lock_jammed``, ``locker_silent``, ``pickup_interrupted``) and ``door`` make it the terminal's own
        call for a technician. A malformed screen name raises ``ValueError`` and nothing is stored."""
        call = m.StaffCallCreate(screen=screen, called_at=datetime.now(timezone.utc), alert=alert, door=door)
        key = self.outbox.enqueue("staff.call", {"call": call.model_dump(mode="json")})
        return self._deliver_now(key)

    def audit(self, event: m.AuditEventCreate) -> Delivered[m.AuditReceipt] | Queued | Refused:
        """A technician's event for the audit trail: stored, then sent, exactly once (``Queued``
        while the network is down: it goes out when it is back)."""
        key = self.outbox.enqueue("audit", {"event": event.model_dump(mode="json")})
        return self._deliver_now(key)

    def _deliver_now(self, key: str, progress: ProgressCallback | None = None) -> Any:
        try:
            report = self.outbox.drain(self.deliverer, until_key=key, progress=progress)
        except Exception as exc:  # not a backend answer (a disk error, a bug): the item is stored, it waits
            log.exception("sending from the outbox failed; the item stays queued")
            self._wake.set()
            return Queued(key, f"{type(exc).__name__} while sending")
        self._note_online(report.blocked_by is None)
        if key in report.results:
            return Delivered(key, report.results[key])
        if key in report.errors:
            error = report.errors[key]
            self.outbox.discard(key)  # the resident is here to correct it; nothing to keep
            return Refused(key, error.code, str(error), list(error.fields))
        recent = self.outbox.recent_result(key)
        if recent is not None:  # the background sender got there first
            return Delivered(key, recent)
        if key in report.quarantined:
            return Refused(key, "unreadable", "the stored item could not be read back", [])
        self._wake.set()
        failed = report.failed.get(key)
        reason = str(report.blocked_by or failed) if (report.blocked_by or failed) else "waiting behind earlier items"
        return Queued(key, reason)

    # -- reads -----------------------------------------------------------------------------
    def case_status(self, acceptance_number: str, verification_code: str) -> m.CaseStatus:
        return self._online(self.client.case_status, acceptance_number, verification_code)

    def cases_by_holder(self, id_number: str, id_type: str = "resident_id") -> list[m.CaseSummary]:
        return self._online(self.client.cases_by_holder, id_number, id_type)

    def case_for_holder(self, acceptance_number: str, id_number: str, id_type: str = "resident_id") -> m.CaseStatus:
        """A case of the holder whose card is on the reader (no 查询码 needed)."""
        return self._online(self.client.case_for_holder, acceptance_number, id_number, id_type)

    def queued_applications(self, id_number: str) -> list[QueuedApplication]:
        """This holder's applications still waiting in the outbox (等待网络恢复后提交), oldest first.
        Read from the encrypted outbox on the kiosk itself: works with the network down."""
        wanted = id_number.strip().upper()
        found = []
        for key, created_at, payload in self.outbox.pending_payloads("application"):
            create = payload.get("create") if isinstance(payload.get("create"), dict) else {}
            applicant = create.get("applicant") if isinstance(create.get("applicant"), dict) else {}
            if str(applicant.get("id_number", "")).strip().upper() != wanted:
                continue
            code = str(create.get("item_code", ""))
            item = self.catalog.get(code) if code else None
            found.append(QueuedApplication(key, code, item.name if item is not None else code, created_at))
        return found

    def subscribe_heartbeat(self, listener: Callable[[m.HeartbeatAck], None]) -> Subscription:
        """``listener(ack)`` runs after each heartbeat the backend answered (``ack.pickups_waiting``:
        results waiting in this terminal's locker, as the clerks registered them)."""
        return self._beat_listeners.add(listener)

    def pickups_waiting(self) -> list[m.PickupSlot]:
        return self._online(self.client.pickups_waiting)

    def verify_pickup(self, request: m.PickupVerify) -> list[m.PickupSlot]:
        return self._online(self.client.verify_pickup, request)

    def find_licences(self, id_number: str, kinds: list[str], id_type: str = "resident_id") -> list[m.Licence]:
        """The holder's electronic licences (电子证照) of these kinds (issue 11); a read, never queued."""
        return self._online(self.client.find_licences, id_number, kinds, id_type)

    def resolve_identity(self, code: str) -> m.ResolvedIdentity:
        """The person behind a personal identity code (``HYBID:…``, e.g. from the scanner).

        Raises ``BackendNotFound`` (code ``identity_code_unknown``), ``BackendRejected``
        (``identity_code_expired``), ``BackendUnavailable``; ``ValueError`` for text that is not
        an identity code (nothing is sent)."""
        return self._online(self.client.resolve_identity, code)

    def staff_sign_in(self, kind: str, value: str, pin: str) -> m.GridWorker:
        """A grid worker signs in for 代办: ``kind`` ``"staff_code"`` (the scanned ``HYBSTAFF:…`` text)
        or ``"id_card"`` (the ID number read from the worker's own card), and the 6-digit PIN.

        Sent once, never retried (each wrong PIN counts). Raises ``BackendRejected`` with code
        ``wrong_pin`` and ``attempts_left``, or ``pin_locked`` and ``retry_after_seconds``;
        ``BackendNotFound`` with ``unknown_staff``; ``BackendUnavailable``; ``ValueError`` for a
        malformed credential or PIN (nothing is sent). The PIN is neither stored nor logged."""
        return self._online(self.client.staff_sign_in, kind, value, pin)

    def _online(self, call: Callable[..., T], *args: Any) -> T:
        try:
            result = call(*args)
        except BackendError as exc:
            # 429 is the backend answering "not so fast": it is reachable.
            if exc.transient and exc.status != 429:
                self._note_online(False)
            elif exc.status is not None:
                self._note_online(True)
            raise
        self._note_online(True)
        return result

    def sync_catalog(self) -> SyncResult:
        result = self.catalog.sync(self.client)
        self._note_online(result.ok)
        return result

    def heartbeat(self) -> m.HeartbeatAck:
        """Device health, the release running (``kiosk.deploy.running.software_version``), uptime,
        outbox depth (pending and quarantined) and catalogue version."""
        from kiosk.deploy.running import software_version

        counts = self.outbox.counts()
        beat = m.Heartbeat(sent_at=datetime.now(timezone.utc), software_version=software_version(),
                           uptime_seconds=int(time.monotonic() - self.started_at), devices=self.health_source(),
                           outbox_pending=counts["pending"], outbox_quarantined=counts["quarantined"],
                           catalog_version=self.catalog.version, locker=self._locker_report())
        ack = self._online(self.client.heartbeat, beat)
        self.last_ack = ack
        self._beat_listeners.publish(ack)
        return ack

    def _locker_report(self) -> m.LockerReport | None:
        try:
            return self.locker_source()
        except Exception:  # a locker that cannot say must not stop the heartbeat
            log.exception("locker report for the heartbeat failed")
            return None

    # -- online state ----------------------------------------------------------------------
    def subscribe(self, listener: Callable[[bool], None]) -> Subscription:
        """``listener(online)`` runs when the backend becomes reachable or unreachable."""
        return self._listeners.add(listener)

    def _note_online(self, online: bool) -> None:
        if online == self.online:
            return
        self.online = online
        log.info("backend reachable" if online else "backend unreachable")
        self._listeners.publish(online)
        if online:
            self._wake.set()

    # -- background sender -----------------------------------------------------------------
    def start(self) -> None:
        """Start the thread that drains the outbox, sends heartbeats and syncs the catalogue."""
        if self._thread is None:
            self.outbox.purge_expired()
            self._thread = threading.Thread(target=self._run, name="backend-sender", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        """The sender: survives anything. An unexpected error (a reply cut off, a full disk, a
        bug) is logged through the masking formatter and that task is tried again later."""
        now = time.monotonic()
        next_drain = next_beat = next_sync = now
        backoff = 2.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_sync:
                next_sync = now + min(120.0, self.catalog_sync_seconds)
                with _surviving("catalogue sync"):
                    result = self.sync_catalog()
                    next_sync = now + (self.catalog_sync_seconds if result.ok else min(120.0, self.catalog_sync_seconds))
            if now >= next_drain or self._wake.is_set():
                self._wake.clear()
                backoff = min(backoff * 2, 300.0)
                next_drain = now + backoff  # unless the drain below says otherwise
                with _surviving("outbox drain"):
                    if self.outbox.pending_count():
                        report = self.outbox.drain(self.deliverer, should_stop=self._stop.is_set)
                        self._note_online(report.blocked_by is None)
                        if report.blocked_by is None:
                            backoff = 2.0
                            next_drain = now + 30.0
                    else:
                        self.outbox.compact()
                        backoff = 2.0
                        next_drain = now + 30.0
            if now >= next_beat:
                next_beat = now + self.heartbeat_seconds
                with _surviving("heartbeat"):
                    try:
                        self.heartbeat()
                    except BackendError as exc:
                        log.info("heartbeat not delivered", extra={"fields": {"error": str(exc)}})
            if self._stop.is_set():  # stop() may have set the wake-up that the drain above just cleared
                break
            timeout = max(0.05, min(next_drain, next_beat, next_sync) - time.monotonic())
            self._wake.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.client.close()
        self.outbox.close()
        self.catalog.close()
        for cleanup in reversed(self._cleanup):
            try:
                cleanup()
            except Exception:
                log.exception("backend cleanup failed")
        self._cleanup.clear()


@contextlib.contextmanager
def _surviving(task: str):
    try:
        yield
    except Exception:
        log.exception("backend sender: %s failed; it is tried again later", task)


def health_from_devices(manager: Any) -> Callable[[], list[m.DeviceHealth]]:
    """A heartbeat ``health_source`` from a ``DeviceManager`` (anything with ``describe()``), with
    each device's newest health-history entries when the manager keeps a ``history``."""
    from kiosk.privacy import mask_text

    history = getattr(manager, "history", None)

    def changes(name: str) -> list[m.DeviceHealthChange]:
        if history is None:
            return []
        return [m.DeviceHealthChange(at=datetime.fromtimestamp(c.at, timezone.utc), state=c.state[:40],
                                     code=c.code[:12], summary=mask_text(c.summary)[:120])
                for c in history.timeline(name, limit=20)]

    def collect() -> list[m.DeviceHealth]:
        return [m.DeviceHealth(device=str(info.name)[:40], status=str(info.state)[:40],
                               detail=mask_text(str(info.error or ""))[:300],
                               counters={str(k)[:40]: int(v) for k, v in list(info.counters.items())[:50]},
                               history=changes(str(info.name)))
                for info in manager.describe()[:30]]

    return collect


def locker_report_from_devices(manager: Any) -> Callable[[], m.LockerReport | None]:
    """A heartbeat ``locker_source``: the locker's doors as last polled (no I/O), or None without one."""
    def report() -> m.LockerReport | None:
        locker = manager.locker if manager is not None else None
        if locker is None or not hasattr(locker, "known_states"):
            return None
        states = locker.known_states()
        if not states:
            return None
        sensors = any(state.item_present is not None for state in states.values())
        return m.LockerReport(doors=int(getattr(locker, "doors", len(states)) or len(states)), sensors=sensors,
                              loaded=sorted(d for d, s in states.items() if s.item_present),
                              open=sorted(d for d, s in states.items() if not s.closed))
    return report


def attach_status(services: BackendServices, status: "StatusBoard") -> None:
    """Drive the top bar's network light from what the backend calls actually experience."""
    from kiosk.status import Availability

    services.subscribe(lambda online: status.publish(
        Availability("network", online, "status.network_ok" if online else "status.network_unreachable")))


# ---------------------------------------------------------------------------------------
# Assembly


def default_state_dir() -> Path:
    """Where the outbox, its key and the catalogue cache live unless configured."""
    configured = os.environ.get("KIOSK_STATE_DIR")
    if configured:
        return Path(configured)
    system = Path("/var/lib/kiosk")
    if system.is_dir() and os.access(system, os.W_OK):
        return system
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "kiosk"


class BackendConfigError(Exception):
    """The [backend] section cannot be used as it is; the message says what to change."""


def build_backend(settings: Settings, health_source: Callable[[], list[m.DeviceHealth]] | None = None,
                  embedded: EmbeddedBackend | None = None,
                  locker_source: Callable[[], m.LockerReport | None] | None = None) -> BackendServices:
    """Assemble the backend services from ``[backend]``.

    With ``[backend] embedded = true`` the caller (the entry layer) has already started a backend
    in-process and passes it as ``embedded``; the services then own it and stop it in ``stop()``
    (or at once, when assembling fails). Without it, an embedded configuration is refused.
    """
    cfg = settings.backend
    terminal_id = settings.terminal.id
    cleanup: list[Callable[[], None]] = []
    if embedded is not None:
        cleanup.append(embedded.stop)
    try:
        if cfg.embedded and embedded is None:
            raise BackendConfigError("[backend] embedded = true, but no embedded backend was started: run the "
                                     "kiosk with `kiosk demo` or `kiosk run` (with heyiban-kiosk[refbackend] "
                                     "installed), or set [backend] url")
        state_dir = default_state_dir()
        if cfg.embedded and not cfg.embedded_db:
            # A throwaway demo: its outbox and cache go with it.
            from kiosk.tempdirs import process_tempdir, sweep_stale

            sweep_stale("kiosk-demo-backend-")  # a killed demo's outbox and its key (kiosk/tempdirs.py)
            temp = process_tempdir("kiosk-demo-backend-")
            state_dir = temp
            cleanup.append(lambda: shutil.rmtree(temp, ignore_errors=True))
        if embedded is not None:
            url, key = embedded.url, embedded.terminal_key
        else:
            if not cfg.url:
                raise BackendConfigError("[backend] url is empty: set the acceptance system's URL, or embedded = "
                                         "true for the demo backend")
            try:
                if cfg.terminal_key_file:
                    key = read_key_file(cfg.terminal_key_file)
                elif cfg.terminal_key:
                    key = parse_key(cfg.terminal_key, "[backend] terminal_key")
                else:
                    raise BackendConfigError("[backend] needs terminal_key_file (the terminal's signing key)")
            except TerminalKeyError as exc:
                raise BackendConfigError(str(exc)) from None
            url = cfg.url
        client = BackendClient(url, terminal_id, key, ca_bundle=cfg.ca_bundle, tls_pin_sha256=cfg.tls_pin_sha256,
                               connect_timeout=cfg.connect_timeout,
                               read_timeout=cfg.read_timeout, retries=cfg.retries)
        data_key = load_or_create_data_key(cfg.outbox_key_file or state_dir / "outbox.key")
        outbox = Outbox(cfg.outbox_path or state_dir / "outbox.sqlite3", RecordCipher(data_key))
        catalog = CatalogCache(cfg.catalog_cache_path or state_dir / "catalog.sqlite3")
    except Exception:
        for step in cleanup:
            step()
        raise
    services = BackendServices(client, outbox, catalog, heartbeat_seconds=cfg.heartbeat_seconds,
                               catalog_sync_seconds=cfg.catalog_sync_seconds, health_source=health_source,
                               locker_source=locker_source)
    services._cleanup.extend(cleanup)
    services.embedded = embedded
    # the outbox's folder (a throwaway one for the in-memory demo backend): the pickup ledger goes
    # beside the outbox, also when [backend] outbox_path puts the outbox elsewhere
    services.state_dir = Path(cfg.outbox_path).parent if cfg.outbox_path else state_dir
    return services
