"""The ID card reader: the ``IdCardReader`` interface and its GA/T 467 serial driver.

``Ga467Reader`` talks to a USB-serial SAM reader (or to the simulator's pty, which it cannot
tell apart). A read is find → select → read; after a read the card must leave the field
before the reader finds it again. ``read_card(wait)`` does one read on demand; ``enable()``
starts a polling thread that reads every card placed on the reader and hands it to the
listeners registered with ``subscribe_cards`` as a ``CardEvent``.

The polling thread survives anything the line throws at it: garbage, bad checksums, impossible
lengths, truncated frames and card-level failures become ``CardEvent(kind="error")`` and a
counter; only a port that vanished (``ConnectionLost``) or a reader that stays silent ends it,
with the status set to offline so that the device manager reopens the reader.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from drivers.base import (BackgroundLoop, ConnectionLost, Device, DeviceError, DeviceTimeout, HardwareError,
                          HealthLevel, HealthReport, Listeners, Subscription, NotOpenError, ProtocolError, State,
                          UserActionRequired)
from drivers.idcard import protocol as p
from drivers.idcard.card import IdCard
from drivers.idcard.cardtext import FINGERPRINT_LEN, PHOTO_LEN, TEXT_LEN, parse_address, parse_card_text
from drivers.serialio import SerialLink, wire_seconds

log = logging.getLogger(__name__)


class NoCardError(UserActionRequired):
    """No card on the reader (or the card has not left the field since its last read)."""


class CardReadError(UserActionRequired):
    """The card was there but could not be read: select, authentication or read failed."""


class SamError(HardwareError):
    """The reader's security module (SAM) reports a fault."""


class ReaderRejected(ProtocolError):
    """The reader says our frame was wrong (checksum, length, unknown command)."""


_CARD_FAULTS = {p.SW_SELECT_FAILED, p.SW_READ_FAILED, p.SW_AUTH_1, p.SW_AUTH_2, p.SW_AUTH_3, p.SW_UNKNOWN_CARD}
_SAM_FAULTS = {p.SW_SAM_SELF_TEST, p.SW_SAM_NOT_AUTHORISED, p.SW_UNAUTHORISED, p.SW_RANDOM_FAILED}
_REJECTIONS = {p.SW_CHECKSUM, p.SW_LENGTH, p.SW_BAD_COMMAND, p.SW_UNRECOGNISED}


def error_for(response: p.Response, action: str) -> DeviceError:
    """The device error for a reply whose SW3 is not the one ``action`` wanted."""
    message = f"{action}: {response.meaning} (SW3={response.sw3:02X})"
    if response.sw3 == p.SW_NO_CARD:
        cls: type[DeviceError] = NoCardError
    elif response.sw3 in _CARD_FAULTS:
        cls = CardReadError
    elif response.sw3 in _SAM_FAULTS:
        cls = SamError
    elif response.sw3 in _REJECTIONS:
        cls = ReaderRejected
    else:
        cls = ProtocolError
    error = cls(message, raw=response.raw)
    error.sw3 = response.sw3  # type: ignore[attr-defined]
    return error


@dataclass(frozen=True, repr=False)
class CardEvent:
    kind: str  # "card": a card was read; "error": a read went wrong (the thread carries on)
    card: IdCard | None = None
    error: DeviceError | None = None

    def __repr__(self) -> str:
        return f"CardEvent({self.kind}, {self.card!r}, {self.error!r})"


class IdCardReader(Device):
    """Interface of every ID card reader driver."""

    device_class = "idcard"

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self._card_listeners: Listeners[CardEvent] = Listeners("card", self.name)

    def subscribe_cards(self, listener: Callable[[CardEvent], None]) -> Subscription:
        return self._card_listeners.add(listener)

    def unsubscribe_cards(self, listener: Callable[[CardEvent], None]) -> None:
        self._card_listeners.remove(listener)

    def _publish_card(self, event: CardEvent) -> None:
        self._card_listeners.publish(event)

    def read_card(self, wait: float = 0.0) -> IdCard:
        raise NotImplementedError


class Ga467Reader(IdCardReader):
    """GA/T 467 SAM reader on a serial port (115200 8N1 by default)."""

    def __init__(self, port: str, baud: int = 115200, *, name: str | None = None, timeout: float = 1.0,
                 poll_interval: float = 0.3, read_fingerprint: bool = False, read_appended_address: bool = True,
                 silent_limit: int = 3):
        super().__init__(name)
        self.link = SerialLink(port, baud)
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.read_fingerprint = read_fingerprint
        self.read_appended_address = read_appended_address
        self.silent_limit = max(1, int(silent_limit))
        self._io = threading.RLock()
        self._loop = BackgroundLoop(f"{self.name}-poll", self._poll_loop, join_timeout=self.timeout + 3.0)
        self._stop = self._loop.stop_event
        self.last_error: DeviceError | None = None
        self.sam_id = ""
        self._logged: tuple[str, float] = ("", 0.0)

    @property
    def port(self) -> str:
        return self.link.port

    # -- lifecycle -------------------------------------------------------------------------
    def _open(self) -> None:
        self.link.open()
        try:
            self.sam_status()
        except SamError as exc:
            # the line works; the SAM does not: open, but in hardware error until it recovers
            self.last_error = exc
            self.set_status(State.HARDWARE_ERROR, {"sam": "fault", "card": "absent"}, exc.code)
            return
        except DeviceError:
            self.link.close()
            raise
        try:
            self.sam_id = self.read_sam_id()
        except DeviceError as exc:  # not every reader answers 12 FF; status already proved it is there
            log.info("SAM id not available", extra={"fields": {"device": self.name, "error": exc.code}})
        self.update_detail(sam="ok", card="absent")

    def _close(self) -> None:
        self._stop_polling()
        self.link.close()

    def _enable(self) -> None:
        self._loop.start()

    def _disable(self) -> None:
        self._stop_polling()

    def _stop_polling(self) -> None:
        self._loop.stop()

    @property
    def polling(self) -> bool:
        return self._loop.running

    # -- one exchange ------------------------------------------------------------------------
    def transact(self, cmd: int, para: int, data: bytes = b"", reply_bytes: int = 64,
                 timeout: float | None = None) -> p.Response:
        """Send one request and return the reader's reply frame (whatever its SW3)."""
        if not self.link.is_open:
            raise NotOpenError(f"{self.name} is not open")
        frame = p.encode_request(cmd, para, data)
        wait = (self.timeout if timeout is None else timeout) + wire_seconds(len(frame) + reply_bytes,
                                                                             self.link.baud)
        with self._io:
            stale = self.link.discard_input()
            if stale:
                self.count("stale_bytes", len(stale))
            self.link.write(frame)
            decoder = p.FrameDecoder("response")
            received = bytearray()
            deadline = time.monotonic() + wait
            # a reader sends its reply in one burst: once only garbage has come (no frame begun)
            # and the line has gone quiet, waiting for the full timeout would only delay the error
            quiet = max(0.03, wire_seconds(32, self.link.baud))
            last_byte = 0.0
            while True:
                now = time.monotonic()
                remaining = deadline - now
                if remaining <= 0 or (received and not decoder.pending and now - last_byte > quiet):
                    break
                chunk = self.link.read_some(min(remaining, quiet))
                if not chunk:
                    continue
                last_byte = time.monotonic()
                received += chunk
                items = decoder.feed(chunk)
                for item in items:
                    if isinstance(item, p.FrameFault):
                        self.count("bad_frames")
                        raise item.error
                    if isinstance(item, p.Response):
                        if decoder.skipped:
                            self.count("garbage_bytes", decoder.skipped)
                        return item
            if received:
                self.count("bad_frames")
                what = "garbage" if decoder.skipped == len(received) else "an incomplete frame"
                raise ProtocolError(f"reader sent {what} ({len(received)} bytes) instead of a reply",
                                    raw=bytes(received[:512]))
            raise DeviceTimeout(f"no answer from the reader on {self.port} at {self.link.baud} baud "
                                f"within {wait:.1f} s")

    def _expect(self, response: p.Response, wanted: int, action: str) -> p.Response:
        if response.sw3 != wanted:
            raise error_for(response, action)
        return response

    # -- commands -----------------------------------------------------------------------------
    def sam_status(self) -> None:
        self._expect(self.transact(*p.SAM_STATUS), p.SW_OK, "SAM status")

    def reset_sam(self) -> None:
        self._expect(self.transact(*p.RESET_SAM, timeout=self.timeout + 2.0), p.SW_OK, "SAM reset")

    def read_sam_id(self) -> str:
        response = self._expect(self.transact(*p.SAM_ID, reply_bytes=32), p.SW_OK, "SAM id")
        return p.format_sam_id(response.data)

    def find_card(self) -> bool:
        response = self.transact(*p.FIND_CARD)
        if response.sw3 == p.SW_CARD_FOUND:
            return True
        if response.sw3 == p.SW_NO_CARD:
            return False
        raise error_for(response, "find card")

    def select_card(self) -> None:
        self._expect(self.transact(*p.SELECT_CARD), p.SW_OK, "select card")

    def read_selected(self) -> IdCard:
        """Read text + photo (+ fingerprint) of the selected card and parse it."""
        if self.read_fingerprint:
            command, size, count = p.READ_TEXT_PHOTO_FINGERPRINT, 2400, 3
        else:
            command, size, count = p.READ_TEXT_PHOTO, 1300, 2
        response = self._expect(self.transact(*command, reply_bytes=size), p.SW_OK, "read card")
        data = response.data
        if len(data) < 2 * count:
            raise ProtocolError("read reply too short for its length fields", raw=response.raw)
        lengths = [int.from_bytes(data[2 * i:2 * i + 2], "big") for i in range(count)]
        body = data[2 * count:]
        if lengths[0] != TEXT_LEN or lengths[1] > PHOTO_LEN or (count == 3 and lengths[2] > 2 * FINGERPRINT_LEN) \
                or sum(lengths) != len(body):
            raise ProtocolError(f"read reply lengths {lengths} do not match its {len(body)} data bytes",
                                raw=response.raw)
        text = body[:TEXT_LEN]
        photo = body[TEXT_LEN:TEXT_LEN + lengths[1]]
        fingerprint = body[TEXT_LEN + lengths[1]:] if count == 3 else b""
        card = parse_card_text(text, photo, fingerprint)
        if self.read_appended_address:
            address = self.read_appended()
            if address:
                card = _with_appended(card, address)
        return card

    def read_appended(self) -> str:
        response = self.transact(*p.READ_APPENDED_ADDRESS, reply_bytes=80)
        if response.sw3 == p.SW_NO_CONTENT:
            return ""
        return parse_address(self._expect(response, p.SW_OK, "read appended address").data)

    def set_reader_baud(self, baud: int) -> None:
        """Switch reader and port to another speed (the reader answers at the old one)."""
        paras = {rate: para for para, rate in p.BAUD_PARAS.items()}
        if baud not in paras:
            raise ValueError(f"the reader supports {sorted(paras)} baud")
        self._expect(self.transact(p.SET_BAUD, paras[baud]), p.SW_OK, "set baud")
        self.link.set_baud(baud)
        self.update_detail(baud=baud)

    def read_card(self, wait: float = 0.0) -> IdCard:
        """find → select → read, trying for up to ``wait`` seconds while no card is there."""
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            card = self._poll_once()
            if card is not None:
                return card
            if time.monotonic() + self.poll_interval > deadline:
                raise NoCardError("no card on the reader (place the card flat on the reader)")
            time.sleep(self.poll_interval)

    # -- polling -------------------------------------------------------------------------------
    def _poll_loop(self) -> None:
        silent = 0
        while not self._stop.is_set():
            try:
                if self.status.state is State.HARDWARE_ERROR:
                    self.sam_status()
                    self.last_error = None
                    self.set_status(State.ONLINE, dict(self.status.detail, sam="ok"))
                else:
                    card = self._poll_once()
                    if card is not None:
                        log.info("card read", extra={"fields": {"device": self.name,
                                                                "card_type": card.card_type.value}})
                        self._publish_card(CardEvent("card", card=card))
                silent = 0
            except ConnectionLost as exc:
                self._went_offline(exc)
                return
            except DeviceTimeout as exc:
                silent += 1
                self.count("timeouts")
                if silent >= self.silent_limit:
                    self._went_offline(exc)
                    return
            except SamError as exc:
                self.count("sam_faults")
                self.last_error = exc
                if self.status.state is not State.HARDWARE_ERROR:
                    self.set_status(State.HARDWARE_ERROR, dict(self.status.detail, sam="fault"), exc.code)
                    self._publish_card(CardEvent("error", error=exc))
            except DeviceError as exc:
                silent = 0
                self.count("failures")
                self.last_error = exc
                self._log_failure(exc)
                self._publish_card(CardEvent("error", error=exc))
            except Exception as exc:  # a bug must not kill the reader thread
                self.count("internal_errors")
                log.exception("unexpected error in the card reader thread", extra={"fields": {"device": self.name}})
                self._publish_card(CardEvent("error", error=ProtocolError(f"internal error: {type(exc).__name__}")))
            self._stop.wait(self.poll_interval)

    def _log_failure(self, exc: DeviceError) -> None:
        """Warn once per kind of failure a minute: a faulty line must not flood the journal."""
        now = time.monotonic()
        if exc.code != self._logged[0] or now - self._logged[1] > 60.0:
            self._logged = (exc.code, now)
            log.warning("card read failed", extra={"fields": {"device": self.name, "code": exc.code,
                                                              "error": str(exc)}})

    def _poll_once(self) -> IdCard | None:
        """find → select → read once; None while no (new) card is on the reader."""
        with self._io:
            if not self.find_card():
                if self.status.detail.get("card") == "present":
                    self.update_detail(card="absent")
                return None
            self.update_detail(card="present")
            self.select_card()
            card = self.read_selected()
        self.count("reads")
        self.update_detail(card="read")
        return card

    def _went_offline(self, exc: DeviceError) -> None:
        self.last_error = exc
        self.count("dropouts")
        log.warning("card reader went offline", extra={"fields": {"device": self.name, "code": exc.code,
                                                                  "error": str(exc)}})
        self.set_status(State.OFFLINE, dict(self.status.detail), exc.code)

    # -- health --------------------------------------------------------------------------------
    def _health(self, level: HealthLevel) -> HealthReport:
        self._require_open()
        checks: list[tuple[str, bool, str]] = [("port", True, f"{self.port} at {self.link.baud} baud")]
        ok = True
        try:
            self.sam_status()
            checks.append(("SAM status", True, "90 ok"))
        except DeviceError as exc:
            ok = False
            checks.append(("SAM status", False, str(exc)))
        if ok:
            try:
                self.sam_id = self.read_sam_id()
                checks.append(("SAM id", True, self.sam_id))
            except DeviceError as exc:
                checks.append(("SAM id", False, str(exc)))
        if ok and level is HealthLevel.INTERACTIVE:
            try:
                card = self.read_card(wait=15.0)
                checks.append(("read a card", True, f"{card.card_type.value}, photo {len(card.photo_wlt)} bytes"))
            except DeviceError as exc:
                ok = False
                checks.append(("read a card", False, str(exc)))
        if self.polling:
            checks.append(("polling", True, f"every {self.poll_interval:.1f} s"))
        summary = "reader answers" if ok else (checks[-1][2] if checks else "reader fault")
        return HealthReport(self.name, level, ok, summary, checks)


def _with_appended(card: IdCard, address: str) -> IdCard:
    from dataclasses import replace

    return replace(card, appended_address=address)
