"""Vision benchmark: document detection and QR reading on the generated, labelled material.

    python benchmarks/vision.py [--docs 120] [--full 16] [--codes 150] [--seed 6]
                                [--doc-per-class 30] [--doc-seed 9100] [--per-class 30]

Prints, in one run:
- documents (1280×720 camera frames): detection rate (IoU ≥ 0.9 with the true page),
  mean IoU over pages, false outlines on empty desks, median ms per frame;
- documents by difficulty class (issue 16, ``tests/document_material.py``: standard, small
  pages of 5–10 % of the frame, dark and textured desks, clutter touching the page, an ID
  card among other rectangles, strong shadows, empty desks with objects): the pipeline
  and, in the same run, the textbook anchor (Canny and the largest 4-gon), per class; on
  the held-apart seed 9100 unless ``--doc-seed`` says otherwise (1600 is the tuning seed);
- full-resolution captures (2592×1944, a 5-MP document camera): median ms for detection
  alone and for the whole capture (detection, perspective correction to A4 at 200 dpi,
  deskew, scan look, JPEG under 1 MB);
- QR codes (1920×1080 frames): decode rate (exact text) and median ms per frame for the
  pipeline (still and frame mode), pyzbar alone and zxing-cpp alone; mojibake counts; the
  pipeline's time on frames that hold no code (what a live scanner mostly sees);
- 300 clean random Chinese strings: how many each reader returns exactly.
Exits non-zero if the pipeline decodes fewer frames than the best single decoder.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from drivers.camera import scene  # noqa: E402
from drivers.codetext import looks_like_mojibake  # noqa: E402
from kiosk.vision.codes import read_codes  # noqa: E402
from kiosk.vision.detect import detect_document  # noqa: E402
from kiosk.vision.enhance import enhance  # noqa: E402
from kiosk.vision.geometry import quad_iou  # noqa: E402
from kiosk.vision.output import encode_jpeg  # noqa: E402
from kiosk.vision.rectify import deskew, rectify  # noqa: E402
from tests.vision_material import (CODE_CLASSES, COMMON_HANZI, charset_code_set, code_set,  # noqa: E402
                                   document_set)


# Issue 16 document classes: the detector is tuned on TUNING_DOC_SEED only; the held-apart
# seed is for measuring (its failures are not looked at while tuning).
TUNING_DOC_SEED = 1600
HELD_APART_DOC_SEED = 9100


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


def median(values):
    return statistics.median(values) if values else float("nan")


def documents(n: int, seed: int) -> None:
    started = time.perf_counter()
    items = document_set(n=n, seed=seed)
    print(f"documents: {len(items)} frames 1280x720 generated in {time.perf_counter() - started:.0f} s "
          f"(seed {seed})")
    ious, ms, false_outlines, empties = [], [], 0, 0
    for item in items:
        found, took = timed(detect_document, item.image)
        ms.append(took)
        if item.quad is None:
            empties += 1
            false_outlines += found is not None
        else:
            ious.append(0.0 if found is None else quad_iou(found.corners, item.quad))
    hits = sum(iou >= 0.9 for iou in ious)
    print(f"  detection rate      {hits}/{len(ious)} = {100 * hits / len(ious):.1f} %  (IoU >= 0.9)")
    print(f"  mean IoU            {np.mean(ious):.4f}  (all pages, misses count as 0)")
    print(f"  empty desks         {false_outlines}/{empties} given an outline (must be 0: null, never a guess)")
    print(f"  median ms / frame   {median(ms):.1f}  (p90 {np.percentile(ms, 90):.1f})")


def canny_largest_quad(image: np.ndarray) -> np.ndarray | None:
    """The textbook anchor: grey, blur, Canny, contours by area, the largest one that
    approxPolyDP makes a 4-gon (on a copy 640 px wide)."""
    scale = 640 / image.shape[1]
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    edges = cv2.Canny(grey, 75, 200)
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        approx = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32) / scale
    return None


def hard_documents(n_per_class: int, seed: int, label: str) -> bool:
    """Issue 16: the harder generator per difficulty class, pipeline against the Canny anchor."""
    from tests.document_material import DOC_CLASSES, hard_document_set

    started = time.perf_counter()
    items = hard_document_set(n_per_class, seed)
    print(f"documents by difficulty class ({label} seed {seed}): {n_per_class} frames 1280x720 per class, "
          f"generated in {time.perf_counter() - started:.0f} s")
    detectors = {"pipeline": lambda img: (lambda d: None if d is None else d.corners)(detect_document(img)),
                 "canny + largest 4-gon": canny_largest_quad}
    rows: dict = {}
    ms: dict = {name: [] for name in detectors}
    for cls, item in items:
        for name, detect in detectors.items():
            found, took = timed(detect, item.image)
            ms[name].append(took)
            row = rows.setdefault((cls, name), {"hits": 0, "ious": [], "false": 0, "n": 0})
            row["n"] += 1
            if item.quad is None:
                row["false"] += found is not None
            else:
                iou = 0.0 if found is None else quad_iou(found, item.quad)
                row["ious"].append(iou)
                row["hits"] += iou >= 0.9
    print(f"  {'class':14s} " + "   ".join(f"{name:>30s}" for name in detectors))
    ahead = True
    for cls in DOC_CLASSES:
        cells = []
        for name in detectors:
            row = rows[(cls, name)]
            if cls == "empty":
                cells.append(f"{row['false']:>3d}/{row['n']} given an outline".rjust(30))
            else:
                cells.append(f"{row['hits']:>3d}/{row['n']} IoU>=0.9, mean {np.mean(row['ious']):.3f}".rjust(30))
        ours, anchor = rows[(cls, "pipeline")], rows[(cls, "canny + largest 4-gon")]
        ok = ours["false"] < max(1, anchor["false"]) if cls == "empty" else (
            ours["hits"] > anchor["hits"] or (ours["hits"] == anchor["hits"] and np.mean(ours["ious"]) >= np.mean(anchor["ious"])))
        ahead &= ok
        print(f"  {cls:14s} " + "   ".join(cells) + ("" if ok else "   <- pipeline not ahead"))
    for name in detectors:
        pages = [r for (c, n), r in rows.items() if n == name and c != "empty"]
        hits = sum(r["hits"] for r in pages)
        total = sum(len(r["ious"]) for r in pages)
        print(f"  {name}: {hits}/{total} = {100 * hits / total:.1f} % with IoU >= 0.9, mean IoU "
              f"{np.mean([v for r in pages for v in r['ious']]):.3f}, median {median(ms[name]):.1f} ms per frame")
    print(f"  pipeline ahead of the anchor on every class (empty desks: fewer outlines): {'OK' if ahead else 'FAIL'}")
    return ahead


def full_resolution(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 1)
    detect_ms, capture_ms, hits = [], [], 0
    for _ in range(n):
        item = scene.document_scene(rng, 2592, 1944, kind=str(rng.choice(["text", "form"])))
        found, took = timed(detect_document, item.image)
        detect_ms.append(took)
        if found is None:
            continue
        hits += quad_iou(found.corners, item.quad) >= 0.9
        started = time.perf_counter()
        page = rectify(item.image, found.corners, "a4", 200)
        page, _ = deskew(page)
        page = enhance(page, "scan")
        encode_jpeg(page, 200, 85, 1 << 20)
        capture_ms.append(took + (time.perf_counter() - started) * 1000)
    print(f"full-resolution captures: {n} frames 2592x1944")
    print(f"  detection rate      {hits}/{n}")
    print(f"  median ms detect    {median(detect_ms):.1f}")
    print(f"  median ms capture   {median(capture_ms):.1f}  (detect + A4 200 dpi warp + deskew + scan look + JPEG)")


def _pyzbar_text(grey):
    from pyzbar import pyzbar

    return [d.data.decode("utf-8", "replace") for d in pyzbar.decode(grey)]


def _zxing_text(grey):
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(grey)]


def codes(n: int, seed: int) -> bool:
    started = time.perf_counter()
    items = code_set(n=n, seed=seed + 60)
    print(f"QR codes: {len(items)} frames 1920x1080 generated in {time.perf_counter() - started:.0f} s "
          "(Chinese, ASCII, mixed, receipt and GB18030 payloads on paper, phones and receipts)")
    readers = {
        "pipeline (still)": lambda img, grey: [c.text for c in read_codes(img, mode="still")],
        "pipeline (frame)": lambda img, grey: [c.text for c in read_codes(img, mode="frame")],
        "pyzbar alone": lambda img, grey: _pyzbar_text(grey),
        "zxing-cpp alone": lambda img, grey: _zxing_text(grey),
    }
    results = {}
    for name, reader in readers.items():
        correct = mojibake = wrong = 0
        ms = []
        for item in items:
            grey = cv2.cvtColor(item.image, cv2.COLOR_BGR2GRAY)
            texts, took = timed(reader, item.image, grey)
            ms.append(took)
            if item.text in texts:
                correct += 1
            elif texts:
                wrong += 1
                mojibake += any(looks_like_mojibake(t) for t in texts)
        results[name] = correct
        print(f"  {name:18s} decoded {correct:3d}/{len(items)} = {100 * correct / len(items):5.1f} %   "
              f"wrong text {wrong:2d} (mojibake {mojibake:2d})   median ms {median(ms):6.1f}")
    rng = np.random.default_rng(seed + 7)
    empty = [scene.document_scene(rng, 1920, 1080, kind=str(rng.choice(["none", "text"]))).image for _ in range(12)]
    for mode in ("frame", "still"):
        ms = [timed(read_codes, image, mode=mode)[1] for image in empty]
        print(f"  frames without a code (desk or page), pipeline ({mode}): median ms {median(ms):.1f}")
    best_single = max(results["pyzbar alone"], results["zxing-cpp alone"])
    ok = results["pipeline (still)"] >= best_single
    print(f"  pipeline vs best single decoder: {results['pipeline (still)']} vs {best_single} -> "
          f"{'OK' if ok else 'FAIL'}")
    return ok


def charset_classes(n_per_class: int, seed: int) -> bool:
    """Issue 16: codes per charset class (with and without ECI), 1-D codes and code-free textures."""
    started = time.perf_counter()
    frames = charset_code_set(n_per_class=n_per_class, seed=seed)
    print(f"codes per class: {n_per_class} frames 1280x720 per class, generated in "
          f"{time.perf_counter() - started:.0f} s (seed {seed}; texts from the held-apart word lists)")
    readers = {
        "pipeline": lambda img, grey: [c.text for c in read_codes(img, mode="still")],
        "zxing-cpp": lambda img, grey: _zxing_text(grey),
        "pyzbar": lambda img, grey: _pyzbar_text(grey),
    }
    table: dict = {}
    ms: dict = {name: [] for name in readers}
    for cls, _, image, text in frames:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        for name, reader in readers.items():
            texts, took = timed(reader, image, grey)
            ms[name].append(took)
            row = table.setdefault((cls, name), [0, 0, 0])  # right, wrong, nothing
            if text is None:
                row[1] += bool(texts)  # a false positive
                row[2] += not texts
            elif text in texts:
                row[0] += 1
            elif texts:
                row[1] += 1
            else:
                row[2] += 1
    print(f"  {'class':14s} " + "   ".join(f"{name:>22s}" for name in readers))
    print(f"  {'':14s} " + "   ".join(f"{'right/wrong/nothing':>22s}" for _ in readers))
    ahead = True
    totals = {name: [0, 0, 0] for name in readers}
    for cls in CODE_CLASSES:
        cells = []
        for name in readers:
            right, wrong, nothing = table[(cls, name)]
            for i, v in enumerate((right, wrong, nothing)):
                totals[name][i] += v
            cells.append(f"{right:>10d}/{wrong:>4d}/{nothing:>5d}")
        pipe = table[(cls, "pipeline")]
        if cls == "no code":
            ok = pipe[1] == 0
        else:
            ok = pipe[1] == 0 and all(pipe[0] >= table[(cls, other)][0] for other in readers if other != "pipeline")
        ahead &= ok
        print(f"  {cls:14s} " + "   ".join(cells) + ("" if ok else "   <- pipeline not ahead / wrong"))
    print(f"  {'all':14s} " + "   ".join(f"{t[0]:>10d}/{t[1]:>4d}/{t[2]:>5d}" for t in totals.values()))
    print("  median ms: " + ", ".join(f"{name} {median(v):.1f}" for name, v in ms.items()))
    print(f"  pipeline ahead of each decoder on every class, 0 wrong, 0 false positives: {'OK' if ahead else 'FAIL'}")
    return ahead


def clean_chinese(count: int = 300, seed: int = 300) -> None:
    rng = np.random.default_rng(seed)
    tallies = {"pipeline": 0, "pyzbar alone": 0, "zxing-cpp alone": 0}
    for _ in range(count):
        text = "".join(COMMON_HANZI[i] for i in rng.integers(0, len(COMMON_HANZI), int(rng.integers(2, 13))))
        image = cv2.resize(scene.qr_matrix(text), None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST)
        tallies["pipeline"] += [c.text for c in read_codes(image)] == [text]
        tallies["pyzbar alone"] += _pyzbar_text(image) == [text]
        tallies["zxing-cpp alone"] += _zxing_text(image) == [text]
    print(f"clean QR codes, {count} random Chinese strings (UTF-8, no ECI): " +
          ", ".join(f"{name} {n}/{count}" for name, n in tallies.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=120)
    parser.add_argument("--full", type=int, default=16)
    parser.add_argument("--codes", type=int, default=150)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--per-class", type=int, default=30, help="frames per code class (issue 16 set)")
    parser.add_argument("--doc-per-class", type=int, default=30,
                        help="frames per document difficulty class (issue 16 set; 0: skip)")
    parser.add_argument("--doc-seed", type=int, default=HELD_APART_DOC_SEED,
                        help=f"seed of the document classes: {HELD_APART_DOC_SEED} is the held-apart measuring set, "
                             f"{TUNING_DOC_SEED} the tuning set")
    args = parser.parse_args()
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads, numpy {np.__version__}")
    if args.docs > 0:
        documents(args.docs, args.seed)
    ok_docs = True
    if args.doc_per_class > 0:
        ok_docs = hard_documents(args.doc_per_class, args.doc_seed,
                                 "held-apart" if args.doc_seed == HELD_APART_DOC_SEED else
                                 "tuning" if args.doc_seed == TUNING_DOC_SEED else "other")
    if args.full > 0:
        full_resolution(args.full, args.seed)
    ok = codes(args.codes, args.seed) if args.codes > 0 else True
    if args.per_class > 0:
        ok &= charset_classes(args.per_class, args.seed + 1610)
    clean_chinese()
    return 0 if ok and ok_docs else 1


if __name__ == "__main__":
    sys.exit(main())
