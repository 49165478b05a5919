"""A GA/T 467 ID card reader on a pseudo-terminal, with a deck of virtual cards and faults.

It answers the same frames a USB-serial SAM reader answers, at the same wire speed, so the
real ``Ga467Reader`` runs against it unchanged. A tester places a card from the deck
(``place("resident-expired")``) and removes it; as on a real reader, a card that has been
read is not found again until it has left the field.

Faults (besides the common ones in ``drivers.sim.base``): ``sam_failure`` (SW3 60 to every
command), ``card_not_found`` (find answers 80 although a card is there), ``select_failure``
(81) and ``read_failure`` (41). A request with a bad checksum or length is answered with
SW3 10 / 11 and an unknown command with 21, as a reader does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.idcard import protocol as p
from drivers.idcard.cardtext import encode_address, encode_card_text
from drivers.idcard.deck import VirtualCard, builtin_deck, load_deck
from drivers.sim.base import SerialSimulator, SimulatorError

DEFAULT_SAM_ID = p.encode_sam_id(5, 1, 20210518, 3705031, 1234567890)


class Ga467Simulator(SerialSimulator):
    kind = "idcard"
    extra_faults = ("sam_failure", "card_not_found", "select_failure", "read_failure")
    actions = ("place", "remove", "deck")

    def __init__(self, name: str | None = None, *, link: str | Path | None = None, baud: int = 115200,
                 deck: dict[str, VirtualCard] | str | Path | None = None, card: str | None = None,
                 wire_time: bool = True, seed: int | None = None):
        super().__init__(name, link=link, baud=baud, wire_time=wire_time, seed=seed)
        if deck is None or deck == "":
            self.deck = builtin_deck()
        elif isinstance(deck, dict):
            self.deck = dict(deck)
        else:
            self.deck = load_deck(deck)
        self.sam_id = DEFAULT_SAM_ID
        self.decoder = p.FrameDecoder("request")
        self.card: VirtualCard | None = None
        self.found = False
        self.selected = False
        self.read_done = False  # the card was read and has not left the field since
        self.reads = 0
        if card:
            self.place(card)

    # -- the tester's hands ----------------------------------------------------------------------
    def place(self, key: str) -> VirtualCard:
        if key not in self.deck:
            raise SimulatorError(f"no card {key!r} in the deck; cards: {', '.join(sorted(self.deck))}")
        with self._lock:
            self.card = self.deck[key]
            self.found = self.selected = self.read_done = False
        return self.card

    def remove(self) -> None:
        with self._lock:
            self.card = None
            self.found = self.selected = self.read_done = False

    def on_replug(self) -> None:
        with self._lock:
            self.decoder.reset()
            self.found = self.selected = False

    # -- the wire ------------------------------------------------------------------------------
    def on_bytes(self, data: bytes) -> None:
        for item in self.decoder.feed(data):
            if isinstance(item, p.FrameFault):
                code = p.SW_CHECKSUM if item.error.code == "DEV-005" else p.SW_LENGTH
                self.wait_request_time(len(item.error.raw))
                self.reply(p.encode_response(code))
            else:
                self.wait_request_time(len(item.raw))
                self.handle(item)

    def handle(self, request: p.Request) -> None:
        command = (request.cmd, request.para)
        if command != p.SAM_ID and self.take_fault("sam_failure"):
            self.reply(p.encode_response(p.SW_SAM_SELF_TEST))
            return
        if command in (p.SAM_STATUS, p.RESET_SAM, p.SET_MAX_RF_BYTES):
            if command == p.RESET_SAM:
                self.found = self.selected = False
            self.reply(p.encode_response(p.SW_OK))
        elif command == p.SAM_ID:
            self.reply(p.encode_response(p.SW_OK, self.sam_id))
        elif command == p.FIND_CARD:
            self.reply(self._find())
        elif command == p.SELECT_CARD:
            self.reply(self._select())
        elif command in (p.READ_TEXT_PHOTO, p.READ_TEXT_PHOTO_FINGERPRINT):
            self.reply(self._read(fingerprint=command == p.READ_TEXT_PHOTO_FINGERPRINT))
        elif command == p.READ_APPENDED_ADDRESS:
            self.reply(self._appended())
        elif request.cmd == p.SET_BAUD and request.para in p.BAUD_PARAS:
            self.reply(p.encode_response(p.SW_OK))  # answered at the old speed, then switch
            self.baud = p.BAUD_PARAS[request.para]
        else:
            self.reply(p.encode_response(p.SW_BAD_COMMAND))

    def _find(self) -> bytes:
        with self._lock:
            present = self.card is not None and not self.read_done
            if not present or self.take_fault("card_not_found"):
                self.found = self.selected = False
                return p.encode_response(p.SW_NO_CARD)
            self.found = True
            self.selected = False
        return p.encode_response(p.SW_CARD_FOUND, b"\x00\x00\x00\x00")

    def _select(self) -> bytes:
        with self._lock:
            if self.card is None or not self.found or self.take_fault("select_failure"):
                return p.encode_response(p.SW_SELECT_FAILED)
            self.selected = True
        return p.encode_response(p.SW_OK, bytes(8))

    def _read(self, fingerprint: bool) -> bytes:
        with self._lock:
            card = self.card
            if card is None:
                return p.encode_response(p.SW_NO_CARD)
            if not self.selected or self.take_fault("read_failure"):
                self.selected = False
                return p.encode_response(p.SW_READ_FAILED)
            text = encode_card_text(card.card)
            photo = card.card.photo_wlt
            if fingerprint:
                lengths = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + \
                    len(card.fingerprint).to_bytes(2, "big")
                data = lengths + text + photo + card.fingerprint
            else:
                data = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo
            self.read_done = True  # must leave the field before it is found again
            self.found = False
            self.reads += 1
        return p.encode_response(p.SW_OK, data)

    def _appended(self) -> bytes:
        card = self.card
        if card is None:
            return p.encode_response(p.SW_NO_CARD)
        if not card.card.appended_address:
            return p.encode_response(p.SW_NO_CONTENT)
        return p.encode_response(p.SW_OK, encode_address(card.card.appended_address))

    # -- control ----------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = super().state()
        state.update(card=self.card.key if self.card else None, card_read=self.read_done, reads=self.reads)
        return state

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if action == "place":
            self.place(str(params.get("card", "")))
            return self.state()
        if action == "remove":
            self.remove()
            return self.state()
        if action == "deck":
            return {"cards": [{"key": c.key, "label": c.label, "card_type": c.card.card_type.value,
                               "expired": c.card.is_expired()} for c in self.deck.values()]}
        return super().control(action, params)
