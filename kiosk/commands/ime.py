"""``kiosk ime``: build the pinyin input lexicon, and try the input method from a shell.

``kiosk ime build`` (run at install; the kiosk also runs it on a first start) writes the
lexicon to the ``[catalog] cache_dir`` folder and says how big it is and how long it took.
``kiosk ime candidates LETTERS... [--context address] [--count N] [--json]`` shows what the
on-screen keyboard would offer for each input (``-`` reads inputs from stdin, one a line);
with ``--json`` one line per input: ``{"letters": "shenfenzhengming", "candidates": ["身份证明", …]}``
(only candidates that take all the letters typed; the first ``--count``).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from kiosk.catalog.service import CatalogPaths
from kiosk.config import DEFAULT_CONFIG_PATH, DEMO_CONFIG_PATH, load_settings
from kiosk.errors import UserFacingError
from kiosk.ime.engine import CONTEXTS, ImeEngine
from kiosk.ime.lexicon import DEFAULT_MIN_FREQ, LEXICON_FILE, Lexicon, LexiconError, build_lexicon


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ime", help="build or try the pinyin input lexicon")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    build = actions.add_parser("build", help="build the pinyin lexicon into the cache folder")
    _where(build)
    build.add_argument("--min-freq", type=int, default=DEFAULT_MIN_FREQ,
                       help=f"keep words seen at least this often in jieba's dictionary (default {DEFAULT_MIN_FREQ})")
    build.set_defaults(handler=_build)

    try_ = actions.add_parser("candidates", help="show the candidates for typed letters")
    try_.add_argument("letters", nargs="+", help="pinyin as typed, e.g. zhengming, sfz, xi'an; - reads stdin")
    try_.add_argument("--context", choices=CONTEXTS, default="general")
    try_.add_argument("--count", type=int, default=10, help="candidates per input (default 10)")
    try_.add_argument("--json", action="store_true", help="one JSON line per input")
    _where(try_)
    try_.set_defaults(handler=_candidates)


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", help="lexicon folder (default: [catalog] cache_dir of --config)")
    parser.add_argument("--config", help=f"configuration file (default {DEFAULT_CONFIG_PATH} if present, "
                                         "else the demo configuration)")


def _cache_dir(args: argparse.Namespace) -> Path:
    if args.cache_dir:
        return Path(args.cache_dir)
    config = args.config or (str(DEFAULT_CONFIG_PATH) if DEFAULT_CONFIG_PATH.exists() else str(DEMO_CONFIG_PATH))
    return CatalogPaths.from_settings(load_settings(config).catalog).cache_dir


def _build(args: argparse.Namespace) -> int:
    path = _cache_dir(args) / LEXICON_FILE
    try:
        report = build_lexicon(path, min_freq=args.min_freq)
    except LexiconError as exc:
        raise UserFacingError(str(exc), 2) from None
    print(f"{report.path}: {report.rows} entries, {report.bytes / 1e6:.1f} MB, built in {report.seconds:.1f} s")
    return 0


def _inputs(values: list[str]):
    import sys

    for value in values:
        if value == "-":
            for line in sys.stdin:
                if line.strip():
                    yield line.strip()
        else:
            yield value


def _candidates(args: argparse.Namespace) -> int:
    import json

    path = _cache_dir(args) / LEXICON_FILE
    try:
        engine = ImeEngine(Lexicon(path))
    except LexiconError as exc:
        raise UserFacingError(str(exc), 2) from None
    missing = 0
    for raw in _inputs(args.letters):
        letters = raw.strip().lower()
        started = time.perf_counter()
        candidates = engine.candidates(letters, args.context)
        ms = (time.perf_counter() - started) * 1000
        if args.json:
            whole = [c.text for c in candidates if c.consumed >= len(letters)][:max(0, args.count)]
            print(json.dumps({"letters": letters, "candidates": whole}, ensure_ascii=False), flush=True)
            missing += not whole
            continue
        if not candidates:
            print(f"{letters}: no candidates (not pinyin?)")
            missing += 1
            continue
        shown = "  ".join(f"{n}.{c.text}" + ("" if c.consumed >= len(letters) else f"(+{letters[c.consumed:]})")
                          for n, c in enumerate(candidates[:args.count], start=1))
        print(f"{letters} ({ms:.1f} ms): {shown}")
    return 1 if missing else 0
