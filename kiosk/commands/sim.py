"""``kiosk sim …``: drive the simulated devices of a running kiosk (or run simulators alone).

While ``kiosk demo`` (or any kiosk with ``driver = "simulator"``) runs, these commands talk
to it over its simulator control socket::

    kiosk sim list                              every simulator and its state
    kiosk sim card list | place KEY | remove    the ID card simulator's deck
    kiosk sim scan TEXT [--encoding gb18030]    the scanner "sees" a code
    kiosk sim door close|open|put|take N        the locker: shut a door, open it with the key,
                                                put an item in, take it out
    kiosk sim fault DEVICE NAME [--off] [--times N] [--seconds S] [--door N]
    kiosk sim clear DEVICE                      remove every fault (and plug back in)
    kiosk sim unplug DEVICE [--seconds S] | replug DEVICE
    kiosk sim camera show FILE                  the simulated camera films this picture until told otherwise
    kiosk sim camera scene document|id_card|qr|empty [--qr TEXT] | camera next-page
    kiosk sim backend down|up|slow|error [--seconds S]
                                                the embedded backend's network: unreachable, back,
                                                answering late (S seconds, default 25), or answering 500
    kiosk sim backend case|review|supplement|approve|reject|issue|reissue|check …
                                                the embedded backend's back office: make a case, act
                                                as the clerk, check what reached it

The words after ``kiosk sim`` are defined once, in ``add_actions``: the command line uses
them, and so do testers' scenarios (a ``sim:`` step), through ``parse_sim_words``. Either
way the words become one ``SimCall`` that ``call_simulator`` sends over the socket.

``kiosk sim serve`` runs simulators without a kiosk, for pointing a driver or another
program at them (``kiosk idcard read --port …``); it prints their port names as JSON.
"""
from __future__ import annotations

import argparse
import json
import shlex
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from drivers.sim.control import SimControlClient, SimControlError, SimControlServer, default_socket_path
from kiosk.errors import UserFacingError


@dataclass(frozen=True)
class SimCall:
    """One request to a kiosk's simulators: ``device`` (None for all), ``action``, parameters."""

    device: str | None
    action: str
    params: dict[str, Any] = field(default_factory=dict)

    def words(self) -> str:
        """A short description for people, e.g. ``idcard place card=resident``."""
        parts = [self.device or "all", self.action] + [f"{k}={v}" for k, v in self.params.items()]
        return " ".join(parts)


class SimWordsError(ValueError):
    """The words do not make a ``kiosk sim`` request; the message says what is wrong."""


class _WordsParser(argparse.ArgumentParser):
    """An argument parser that raises ``SimWordsError`` instead of printing and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise SimWordsError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None):  # type: ignore[override]
        raise SimWordsError(message.strip() if message else f"{self.prog}: not a simulator request")

    def print_help(self, file=None) -> None:  # -h / --help among the words
        raise SimWordsError(f"{self.prog}: help is not a simulator request")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sim", help="drive simulated devices of a running kiosk",
                                   description="drive simulated devices of a running kiosk")
    parser.add_argument("--socket", help="control socket (default: from --config, else "
                                         f"{default_socket_path()})")
    parser.add_argument("--config", help="read the control socket from this kiosk.toml")
    add_actions(parser)
    parser.set_defaults(handler=_run)


def add_actions(parser: argparse.ArgumentParser) -> None:
    """The words after ``kiosk sim``. Each action sets ``to_call`` (namespace → ``SimCall``)."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    actions.add_parser("list", help="every simulator and its state").set_defaults(
        to_call=lambda a: SimCall(None, "list"))
    status = actions.add_parser("status", help="one simulator's state")
    status.add_argument("device")
    status.set_defaults(to_call=lambda a: SimCall(a.device, "status"))

    card = actions.add_parser("card", help="place or remove a card on the simulated reader")
    card.add_argument("what", choices=("place", "remove", "list"))
    card.add_argument("key", nargs="?", help="card from the deck (see `kiosk sim card list`)")
    card.add_argument("--device", default="idcard")
    card.set_defaults(to_call=_card)

    scan = actions.add_parser("scan", help="the simulated scanner reads a code")
    scan.add_argument("payload", help="the code's text (or hex bytes with --hex)")
    scan.add_argument("--encoding", default="utf-8", help="utf-8 (default) or gb18030")
    scan.add_argument("--terminator", choices=("cr", "lf", "crlf"), default=None)
    scan.add_argument("--hex", action="store_true", help="PAYLOAD is hex bytes, sent as they are")
    scan.add_argument("--device", default="scanner")
    scan.set_defaults(to_call=_scan)

    door = actions.add_parser("door", help="act on a door of the simulated locker")
    door.add_argument("what", choices=("close", "open", "put", "take"),
                      help="close: push shut; open: open with the key; put/take: an item")
    door.add_argument("door", type=int)
    door.add_argument("--device", default="locker")
    door.set_defaults(to_call=lambda a: SimCall(a.device, a.what, {"door": a.door}))

    fault = actions.add_parser("fault", help="set (or with --off clear) a fault")
    fault.add_argument("device")
    fault.add_argument("fault", help="no_answer, bad_checksum, garbage, slow, vanish; idcard: sam_failure, "
                                     "card_not_found, select_failure, read_failure; locker: jammed, "
                                     "door_left_open; printer: paper_out, paper_near_end, paper_run_out, "
                                     "cover_open, offline, cutter_error (`kiosk sim status DEVICE`: known_faults)")
    fault.add_argument("--off", action="store_true")
    fault.add_argument("--times", type=int, help="only for the next N replies")
    fault.add_argument("--seconds", type=float, help="slow: delay; vanish: come back after this long")
    fault.add_argument("--door", type=int, help="jammed: only this door")
    fault.set_defaults(to_call=_fault)

    clear = actions.add_parser("clear", help="remove every fault of a simulator")
    clear.add_argument("device")
    clear.set_defaults(to_call=lambda a: SimCall(a.device, "clear"))
    unplug = actions.add_parser("unplug", help="make the simulated port vanish")
    unplug.add_argument("device")
    unplug.add_argument("--seconds", type=float, help="plug back in after this long")
    unplug.set_defaults(to_call=lambda a: SimCall(a.device, "unplug",
                                                  {"seconds": a.seconds} if a.seconds else {}))
    replug = actions.add_parser("replug", help="bring a vanished port back")
    replug.add_argument("device")
    replug.set_defaults(to_call=lambda a: SimCall(a.device, "replug"))

    # -- issue 11: the camera's pictures, the embedded backend's network ------------------------
    camera = actions.add_parser("camera", help="what lies under the simulated document camera")
    camera_actions = camera.add_subparsers(dest="camera_action", metavar="WHAT", required=True)
    show = camera_actions.add_parser("show", help="film this picture (JPEG, PNG …) until told otherwise")
    show.add_argument("file", help="the picture (a scenario's relative path is relative to the scenario)")
    show.set_defaults(to_call=lambda a: SimCall(a.device, "show", {"file": str(Path(a.file).expanduser().resolve())}))
    scene = camera_actions.add_parser("scene", help="film a generated scene again")
    scene.add_argument("scene", choices=("document", "id_card", "qr", "empty"))
    scene.add_argument("--qr", help="qr: the code's text")
    scene.set_defaults(to_call=lambda a: SimCall(a.device, "scene", {"scene": a.scene, **(
        {"qr_text": a.qr} if a.qr else {})}))
    camera_actions.add_parser("next-page", help="lay the next page of the document down").set_defaults(
        to_call=lambda a: SimCall(a.device, "next_page"))
    for sub in camera_actions.choices.values():
        sub.add_argument("--device", default="camera")

    _add_backend_words(actions)

    serve = actions.add_parser("serve", help="run simulators on their own until Ctrl-C")
    serve.add_argument("--idcard", nargs="?", const="", metavar="LINK", help="an ID card reader (port link)")
    serve.add_argument("--card", help="card placed at start")
    serve.add_argument("--scanner", nargs="?", const="", metavar="LINK", help="a serial scanner")
    serve.add_argument("--trigger", choices=("none", "honeywell", "newland"), default="none")
    serve.add_argument("--locker", nargs="?", const="", metavar="LINK", help="a locker cabinet")
    serve.add_argument("--board", choices=("kerong", "8a"), default="kerong")
    serve.add_argument("--doors", type=int, default=16)
    serve.add_argument("--items", default="", help="doors holding items, e.g. 1,2,5")
    serve.add_argument("--pickup-seconds", type=float, default=0.0,
                       help="simulated resident shuts an opened door after this long (0: never)")
    serve.set_defaults(handler=_serve, to_call=None)


NETWORK_ACTIONS = ("down", "up", "slow", "error")
BACKEND_ACTIONS = ("case", "review", "supplement", "approve", "reject", "issue", "reissue", "check") + NETWORK_ACTIONS


def _add_backend_words(actions: argparse._SubParsersAction) -> None:
    """``backend …``: the embedded reference backend (demo and scenarios) as testers need it."""
    backend = actions.add_parser(
        "backend", help="the embedded backend: make a case, act as the clerk, take the network down",
        description="case: make a case (--holder a deck card, --state, --door, --number, --code, --pickup-code); "
                    "review, supplement, approve, reject, issue, reissue: what a clerk does to case NUMBER (or latest, "
                    "the newest case); check NUMBER --state S --ratings N --level L: fails unless the case is so; "
                    "down / up / slow / error: the network to it unreachable / back / answering late (--seconds, "
                    "default 25) / answering 500")
    backend.add_argument("what", choices=BACKEND_ACTIONS)
    backend.add_argument("case_number", nargs="?", metavar="NUMBER",
                         help="the case's acceptance number, or latest (the newest case)")
    backend.add_argument("--holder", default="senior", help="case: whose case, a card of the deck (default senior)")
    backend.add_argument("--state",
                         choices=("accepted", "reviewing", "supplement", "approved", "rejected", "ready", "closed"),
                         help="case: how far it has come (default accepted; ready: its result waits behind --door); "
                              "check: the state it must be in")
    backend.add_argument("--item", help="case: the item code (default 370503-GA-0009 居住证申领)")
    backend.add_argument("--door", type=int, help="case --state ready|closed, issue, reissue: the locker door")
    backend.add_argument("--number", help="case: the acceptance number to give it, e.g. 370503-20260105-000042")
    backend.add_argument("--code", help="case: its 查询码 (6 digits)")
    backend.add_argument("--pickup-code", help="case --state ready: its pickup code (6 digits)")
    backend.add_argument("--missing", action="append", help="case/supplement: a missing material (repeat)")
    backend.add_argument("--reason", action="append", help="case/reject: a reason for refusing (repeat)")
    backend.add_argument("--delivery", choices=("terminal", "counter", "post"), help="case: how the result is delivered")
    backend.add_argument("--ratings", type=int, help="check: how many ratings the case has")
    backend.add_argument("--level", type=int, choices=range(1, 6), help="check: the level of its last rating")
    backend.add_argument("--seconds", type=float, help="slow: how late every answer leaves (default 25 s)")
    backend.set_defaults(to_call=_backend, state=None)


def _backend(args: argparse.Namespace) -> SimCall:
    params: dict[str, Any] = {}
    if args.what == "case":
        params.update(holder=args.holder, state=args.state or "accepted")
        for key in ("item", "door", "number", "code", "pickup_code", "missing", "delivery"):
            if getattr(args, key) is not None:
                params[key] = getattr(args, key)
        if args.reason:
            params["reasons"] = args.reason
    elif args.what in NETWORK_ACTIONS:
        if args.seconds:
            params["seconds"] = args.seconds
    else:
        if not args.case_number:
            raise SimWordsError(f"kiosk sim backend {args.what}: say which case (its acceptance number)")
        params["number"] = args.case_number
        if args.what in ("issue", "reissue"):
            if not args.door:
                raise SimWordsError(f"kiosk sim backend {args.what}: say which door (--door N)")
            params["door"] = args.door
        if args.what == "check":
            for key in ("state", "ratings", "level"):
                if getattr(args, key) is not None:
                    params[key] = getattr(args, key)
        if args.missing:
            params["missing"] = args.missing
        if args.reason:
            params["reasons"] = args.reason
    return SimCall("backend", args.what, params)


def parse_sim_words(words: str | Sequence[str], grammar=add_actions) -> SimCall:
    """``"card place resident"`` (the words after ``kiosk sim``) → the request they make.

    Raises ``SimWordsError`` for words that ``kiosk sim`` would refuse. ``serve``, ``--socket``
    and ``--config`` are not requests to a running kiosk and are refused too. ``grammar`` is
    the function that adds the words to a parser (``add_actions``; tests add words of their own).
    """
    if isinstance(words, str):
        try:
            words = shlex.split(words)
        except ValueError as exc:
            raise SimWordsError(f"cannot split the words: {exc}") from None
    if not words:
        raise SimWordsError("say what to do, e.g. `card place resident` or `unplug scanner`")
    parser = _WordsParser(prog="kiosk sim", add_help=False)
    grammar(parser)
    args = parser.parse_args(list(words))
    if args.to_call is None:
        raise SimWordsError("`kiosk sim serve` runs simulators on their own; it is not a request to a kiosk")
    return args.to_call(args)


def call_simulator(call: SimCall, socket_path: str | Path, timeout: float = 10.0) -> dict[str, Any]:
    """Send ``call`` to the kiosk whose control socket is ``socket_path``; its answer.

    Raises ``SimControlError`` (no kiosk there, no such device, the simulator refused).
    """
    return SimControlClient(socket_path, timeout=timeout).call(call.device, call.action, **call.params)


def _socket(args: argparse.Namespace) -> Path:
    if args.socket:
        return Path(args.socket)
    if args.config:
        from kiosk.config import load_settings

        configured = load_settings(args.config).devices.sim_control
        if configured:
            return Path(configured)
    return default_socket_path()


def _run(args: argparse.Namespace) -> int:
    try:
        call = args.to_call(args)
    except SimWordsError as exc:
        raise UserFacingError(str(exc), 2) from None
    try:
        result = call_simulator(call, _socket(args))
    except SimControlError as exc:
        raise UserFacingError(str(exc), 1) from None
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _card(args: argparse.Namespace) -> SimCall:
    if args.what == "place":
        if not args.key:
            raise SimWordsError("say which card: kiosk sim card place KEY (see kiosk sim card list)")
        return SimCall(args.device, "place", {"card": args.key})
    return SimCall(args.device, "remove" if args.what == "remove" else "deck")


def _scan(args: argparse.Namespace) -> SimCall:
    params: dict[str, Any] = {"encoding": args.encoding}
    if args.hex:
        params["hex"] = args.payload
    else:
        params["payload"] = args.payload
    if args.terminator:
        params["terminator"] = args.terminator
    return SimCall(args.device, "scan", params)


def _fault(args: argparse.Namespace) -> SimCall:
    params: dict[str, Any] = {"fault": args.fault, "on": not args.off}
    if args.times:
        params["times"] = args.times
    if args.seconds is not None:
        params["seconds"] = args.seconds
    if args.door is not None:
        params["door"] = args.door
    return SimCall(args.device, "fault", params)


def _serve(args: argparse.Namespace) -> int:
    from drivers.sim.base import SimulatorError

    simulators: dict[str, Any] = {}
    try:
        if args.idcard is not None:
            from drivers.idcard.simulator import Ga467Simulator

            simulators["idcard"] = Ga467Simulator("idcard", link=args.idcard or None, card=args.card)
        if args.scanner is not None:
            from drivers.scanner.simulator import ScannerSimulator

            simulators["scanner"] = ScannerSimulator("scanner", link=args.scanner or None, trigger=args.trigger)
        if args.locker is not None:
            from drivers.locker.simulator import LockerSimulator

            items = [int(part) for part in args.items.replace(" ", "").split(",") if part]
            simulators["locker"] = LockerSimulator("locker", link=args.locker or None, board=args.board,
                                                   doors=args.doors, items=items,
                                                   auto_pickup_seconds=args.pickup_seconds)
    except (SimulatorError, ValueError) as exc:
        for simulator in simulators.values():
            simulator.stop()
        raise UserFacingError(str(exc), 2) from None
    if not simulators:
        raise UserFacingError("say which simulators to run: --idcard, --scanner, --locker", 2)
    server = SimControlServer(_socket(args))
    try:
        server.start()
    except SimControlError as exc:
        for simulator in simulators.values():
            simulator.stop()
        raise UserFacingError(str(exc), 1) from None
    for name, simulator in simulators.items():
        server.register(name, simulator.start())
    print(json.dumps({"socket": str(server.path), **{name: sim.path for name, sim in simulators.items()}}),
          flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        for simulator in simulators.values():
            simulator.stop()
    return 0
