"""``kiosk catalog``: search a catalogue file and check it, as the kiosk would.

``kiosk catalog search QUERY... --catalog FILE --json [--limit K]`` builds the index for
FILE (a JSON array or JSON Lines of items with at least ``code`` and ``name``) and prints
one JSON line per query: ``{"query": Q, "results": [{"code": …, "name": …}], "ms": N}``.
A QUERY of ``-`` reads one query per line from standard input. Without ``--json`` the
results are listed for reading, with the match kind and the highlighted part.
``kiosk catalog check FILE`` says what in a catalogue file would be skipped or ignored.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kiosk.catalog.index import SearchIndex
from kiosk.catalog.items import CatalogError, load_catalog_file
from kiosk.catalog.query import WordSplitter
from kiosk.catalog.service import DEMO_CATALOG_PATH, default_cache_dir
from kiosk.catalog.synonyms import DEFAULT_SYNONYMS_PATH, SynonymError, load_synonyms
from kiosk.errors import UserFacingError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("catalog", help="search or check a service catalogue file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    search = actions.add_parser("search", help="search a catalogue the way the kiosk does",
                                description="Build the search index for a catalogue file and run queries.")
    search.add_argument("queries", nargs="+", metavar="QUERY", help="what a resident would type; - reads stdin")
    search.add_argument("--catalog", metavar="FILE", default=str(DEMO_CATALOG_PATH),
                        help="JSON array or JSON Lines of items (default: the demo catalogue)")
    search.add_argument("--synonyms", metavar="FILE", default=str(DEFAULT_SYNONYMS_PATH),
                        help="everyday-words table (default: assets/catalog/synonyms.toml)")
    search.add_argument("--json", action="store_true", help="one JSON line per query")
    search.add_argument("--limit", type=_positive, default=10, metavar="K", help="results per query (default 10)")
    search.set_defaults(handler=_search)

    check = actions.add_parser("check", help="list the problems of a catalogue file and of the synonyms table")
    check.add_argument("file", nargs="?", default=str(DEMO_CATALOG_PATH))
    check.add_argument("--synonyms", metavar="FILE", default=str(DEFAULT_SYNONYMS_PATH))
    check.set_defaults(handler=_check)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("expected a number from 1 to 1000")
    return value


def _load(catalog: str, synonyms: str):
    try:
        report = load_catalog_file(catalog)
        table = load_synonyms(synonyms)
    except (CatalogError, SynonymError) as exc:
        raise UserFacingError(str(exc), 2) from None
    return report, table


def _queries(arguments: list[str]):
    for query in arguments:
        if query == "-":
            for line in sys.stdin:
                yield line.rstrip("\n")
        else:
            yield query


def _search(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    report, table = _load(args.catalog, args.synonyms)
    splitter = WordSplitter(cache_dir=default_cache_dir())
    index = SearchIndex(report.items, table, splitter=splitter)
    build_ms = (time.perf_counter() - started) * 1000
    if not args.json:
        print(f"{Path(args.catalog).name}: {len(report.items)} items indexed in {build_ms:.0f} ms"
              + (f" ({len(report.problems)} records skipped or trimmed: kiosk catalog check)" if report.problems
                 else ""), file=sys.stderr)
    for query in _queries(args.queries):
        started = time.perf_counter()
        results = index.search(query, args.limit)
        ms = (time.perf_counter() - started) * 1000
        if args.json:
            print(json.dumps({"query": query, "results": [r.to_json() for r in results], "ms": round(ms, 2)},
                             ensure_ascii=False), flush=True)
            continue
        print(f"{query}  ({ms:.1f} ms, {len(results)} found)")
        for number, result in enumerate(results, start=1):
            name = _marked(result.item.name, result.spans)
            via = f"  ← {result.via_field}: {result.via}" if result.via else ""
            print(f"  {number:2}. {name}  [{result.item.code}] {result.match}{via}")
    return 0


def _marked(name: str, spans) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(name[last:start] + "【" + name[start:end] + "】")
        last = end
    return "".join(out) + name[last:]


def _check(args: argparse.Namespace) -> int:
    report, table = _load(args.file, args.synonyms)
    print(f"{args.file}: {len(report.items)} usable items")
    for problem in report.problems:
        print(f"  {problem}")
    # a synonym group whose official words and events match no item finds nothing
    texts = [" ".join((item.name, item.result) + item.keywords).lower() for item in report.items]
    events = {event for item in report.items for event in item.life_events}
    idle = [group for group in table.groups
            if not any(word in text for word in group.official for text in texts)
            and not set(group.events) & events]
    print(f"{args.synonyms}: {len(table.groups)} synonym groups, {len(idle)} match no item of this catalogue")
    for group in idle:
        print(f"  {'/'.join(group.everyday[:3])} → {'/'.join(group.official or group.events)}: no item")
    missing_pictures = _check_applications(report.items)
    return 1 if report.problems or missing_pictures else 0


def _check_applications(items) -> list[str]:
    """Print which items can be applied for at the kiosk (a valid application definition, issue 11)
    and what is still missing; returns the problems (example pictures that do not exist)."""
    from kiosk.apply.examples import example_path

    here = [item for item in items if item.can_apply_here]
    undefined = [item for item in items if item.can_apply and item.application is None]
    print(f"applications: {len(here)} items can be applied for at the kiosk"
          + (f" ({', '.join(item.name for item in here)})" if here else ""))
    if undefined:
        print(f"  {len(undefined)} more allow kiosk applications but carry no application definition; "
              "the kiosk shows them as window-only until one is added")
    problems = []
    for item in here:
        for material in item.application.materials:
            if material.example and example_path(material.example) is None:
                problems.append(f"{item.code}: material {material.index}: example picture "
                                f"{material.example!r} not found")
    for problem in problems:
        print(f"  {problem}")
    return problems
