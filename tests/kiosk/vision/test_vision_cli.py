"""``kiosk docscan`` and ``kiosk codes scan`` as a technician or tester runs them."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from drivers.camera import scene
from kiosk.cli import main
from kiosk.vision.geometry import quad_iou


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(31)
    page = scene.document_scene(rng, 1280, 720, kind="form", desk="wood", effects=["noise"])
    cv2.imwrite(str(folder / "page.jpg"), page.image)
    empty = scene.document_scene(rng, 1280, 720, kind="none", desk="cluttered", effects=[])
    cv2.imwrite(str(folder / "empty.png"), empty.image)
    code = scene.code_scene(rng, 1920, 1080, "河易办受理回执|HK1", "河易办受理回执|HK1", carrier="receipt", effects=[])
    cv2.imwrite(str(folder / "receipt.png"), code.image)
    (folder / "garbage.png").write_bytes(b"\x89PNG not really")
    binary = cv2.resize(scene.qr_matrix(b"\x80\xff\x81\x30\xfe\x01"), None, fx=6, fy=6,
                        interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(folder / "binary.png"), binary)
    mojibake = cv2.resize(scene.qr_matrix("豐ｳ譏灘萱"), None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(folder / "mojibake.png"), mojibake)
    return folder, page.quad


def test_docscan_json_gives_corners_and_writes_the_page(pictures, capsys):
    folder, quad = pictures
    out = folder / "flat.png"
    assert main(["docscan", str(folder / "page.jpg"), "--json", "--out", str(out), "--aspect", "a4"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"corners", "ms"} and result["ms"] >= 0
    assert quad_iou(result["corners"], quad) > 0.9
    flat = cv2.imread(str(out))
    assert flat.shape[0] > flat.shape[1]  # an upright A4 page


def test_docscan_no_document_is_null_and_nothing_written(pictures, capsys):
    folder, _ = pictures
    assert main(["docscan", str(folder / "empty.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["corners"] is None
    assert main(["docscan", str(folder / "empty.png"), "--json", "--out", str(folder / "none.png")]) == 3
    assert not (folder / "none.png").exists()


def test_docscan_bad_input_is_one_line(pictures, capsys):
    folder, _ = pictures
    assert main(["docscan", str(folder / "garbage.png"), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a picture" in err and "Traceback" not in err


def test_codes_scan_prints_one_json_line_per_picture(pictures, capsys):
    folder, _ = pictures
    paths = [str(folder / n) for n in ("receipt.png", "empty.png", "garbage.png", "missing.png")]
    assert main(["codes", "scan", *paths, "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["image"] for line in lines] == paths
    receipt, empty, garbage, missing = lines
    assert [(c["format"], c["text"]) for c in receipt["codes"]] == [("QR_CODE", "河易办受理回执|HK1")]
    assert len(receipt["codes"][0]["corners"]) == 4 and receipt["ms"] >= 0
    assert empty["codes"] == [] and "error" not in empty
    assert "error" in garbage and "error" in missing


def test_codes_scan_reports_codes_it_cannot_read_and_repairs_zbar_mojibake(pictures, capsys):
    folder, _ = pictures
    assert main(["codes", "scan", str(folder / "binary.png"), str(folder / "mojibake.png"), "--json"]) == 0
    binary, mojibake = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert binary["codes"] == [] and [(c["format"], c["problem"]) for c in binary["refused"]] == [
        ("QR_CODE", "undecodable")]
    assert [c["text"] for c in mojibake["codes"]] == ["河易办"] and "refused" not in mojibake
    assert main(["codes", "scan", str(folder / "binary.png")]) == 0
    assert "QR_CODE" in (out := capsys.readouterr().out) and "no readable text (undecodable" in out
