"""``kiosk codes scan IMAGE... [--json]``: read QR and bar codes from pictures.

One line per picture; with ``--json`` each line is
``{"image": PATH, "codes": [{"format", "text", "corners"}], "ms": N}``, plus
``"refused": [{"format", "problem", "corners"}]`` for codes found whose bytes hold no
trustworthy text (``problem``: ``undecodable``, ``garbage`` or ``empty``, see
``drivers.codetext``), and ``"error"`` for a file that is not a readable picture (the other
files are still read). Without ``--json`` a line per code. The exit code is 0 when every
file could be read, 1 otherwise; finding no code, or only refused ones, is not an error.
"""
from __future__ import annotations

import argparse
import json
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("codes", help="read QR and bar codes from pictures")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    scan = actions.add_parser("scan", help="read the codes in one or more pictures",
                              description="read the QR and bar codes in one or more pictures")
    scan.add_argument("images", nargs="+", metavar="IMAGE")
    scan.add_argument("--json", action="store_true", help="print one JSON object per picture")
    scan.add_argument("--mode", choices=("still", "frame"), default="still",
                      help="still: every preprocessing step (default); frame: the quick steps a live camera uses")
    scan.set_defaults(handler=_scan)


def _scan(args: argparse.Namespace) -> int:
    from kiosk.vision.codes import read_codes
    from kiosk.vision.imageio import ImageLoadError, load_image

    failures = 0
    for path in args.images:
        started = time.perf_counter()
        record: dict = {"image": path, "codes": []}
        try:
            image = load_image(path)
            codes = read_codes(image, mode=args.mode, refused=True)
            record["codes"] = [code.as_json() for code in codes if not code.problem]
            refused = [code.as_json() for code in codes if code.problem]
            if refused:
                record["refused"] = refused
        except ImageLoadError as exc:
            failures += 1
            record["error"] = str(exc)
        record["ms"] = round((time.perf_counter() - started) * 1000, 1)
        if args.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        elif "error" in record:
            print(f"{path}: {record['error']}", flush=True)
        elif not record["codes"] and not record.get("refused"):
            print(f"{path}: no code found ({record['ms']} ms)", flush=True)
        else:
            for code in record["codes"]:
                print(f"{path}: {code['format']} {code['text']!r} at {code['corners']} ({record['ms']} ms)",
                      flush=True)
            for code in record.get("refused", []):
                print(f"{path}: {code['format']} at {code['corners']} holds no readable text "
                      f"({code['problem']}; {record['ms']} ms)", flush=True)
    return 1 if failures else 0
