"""``kiosk docscan IMAGE [--json] [--out RECTIFIED.png]``: find the page in a picture.

Prints the page's corners in image pixels (TL, TR, BR, BL) or null when there is no
document — never a guess — and how long the detection took. With ``--out`` the page is
also straightened (and optionally enhanced) and written.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kiosk.errors import UserFacingError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("docscan", help="find the document page in a picture",
                                   description="find the document page in a picture and optionally straighten it")
    parser.add_argument("image", help="picture file (JPEG, PNG, …)")
    parser.add_argument("--json", action="store_true", help='print {"corners": [[x,y]×4] or null, "ms": N}')
    parser.add_argument("--out", help="write the straightened page here (.png, .jpg or .pdf)")
    parser.add_argument("--aspect", choices=("auto", "a4", "id_card", "free"), default="auto",
                        help="page proportions for --out (default: auto — A4 or ID card when it looks like one)")
    parser.add_argument("--enhance", choices=("none", "color", "scan", "gray"), default="none",
                        help="clean-up for --out (default none)")
    parser.add_argument("--dpi", type=int, default=200, help="resolution of --out for A4 / ID card (default 200)")
    parser.set_defaults(handler=_docscan)


def _docscan(args: argparse.Namespace) -> int:
    from kiosk.vision.detect import detect_document
    from kiosk.vision.imageio import ImageLoadError, load_image

    if not 72 <= args.dpi <= 600:
        raise UserFacingError("--dpi must be between 72 and 600", 2)
    try:
        image = load_image(args.image)
    except ImageLoadError as exc:
        raise UserFacingError(str(exc), 2) from None
    started = time.perf_counter()
    found = detect_document(image)
    ms = round((time.perf_counter() - started) * 1000, 1)
    corners = found.as_list() if found else None
    if args.json:
        print(json.dumps({"corners": corners, "ms": ms}))
    elif corners:
        print(f"{args.image}: page at {corners} (TL, TR, BR, BL; found by {found.method}, "
              f"edge support {found.score:.2f}) in {ms} ms")
    else:
        print(f"{args.image}: no document found ({ms} ms)")
    if args.out:
        if found is None:
            raise UserFacingError(f"no document in {args.image}: nothing written to {args.out}", 3)
        _write(image, found.corners, args)
    return 0


def _write(image, corners, args: argparse.Namespace) -> None:
    import cv2

    from kiosk.vision.enhance import enhance
    from kiosk.vision.output import encode_jpeg, encode_pdf, write_atomic
    from kiosk.vision.rectify import rectify

    page = enhance(rectify(image, corners, args.aspect, args.dpi), args.enhance)
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        data = encode_pdf([page], args.dpi, 85, 50 << 20)
    elif suffix in (".jpg", ".jpeg"):
        data = encode_jpeg(page, args.dpi, 90, 50 << 20)
    elif suffix in (".png", ".bmp", ".tif", ".tiff", ".webp"):
        ok, encoded = cv2.imencode(suffix, page)
        if not ok:
            raise UserFacingError(f"cannot encode {suffix} pictures", 2)
        data = encoded.tobytes()
    else:
        raise UserFacingError(f"--out must end in .png, .jpg or .pdf (got {out.name})", 2)
    try:
        write_atomic(out, data)
    except OSError as exc:
        raise UserFacingError(f"cannot write {out}: {exc.strerror}", 2) from None
