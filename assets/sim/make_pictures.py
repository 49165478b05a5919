"""Make the pictures the simulator panel offers to show to the simulated camera (assets/sim/pictures).

Run once from the repository root: ``.venv/bin/python assets/sim/make_pictures.py``. The
pictures are photographs as a document camera would take them, generated with the camera
simulator's own scene generator (``drivers.camera.scene``) from fixed seeds: a letter, a
form, an ID card, a receipt's QR code (the demo receipt number), and a two-page letter in
its own folder (the panel shows a folder one page at a time). Everything on them is invented.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drivers.camera import scene

OUT = Path(__file__).resolve().parent / "pictures"
WIDTH, HEIGHT = 1280, 720


def _save(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 80])


def _page(seed: int, kind: str) -> np.ndarray:
    made = scene.document_scene(np.random.default_rng(seed), WIDTH, HEIGHT, kind=kind, desk="wood",
                                effects=["vignette"], max_rotation=6.0, perspective=0.015)
    return made.image


def main() -> None:
    _save(OUT / "letter.jpg", _page(11, "text"))
    _save(OUT / "form.jpg", _page(12, "form"))
    _save(OUT / "id-card.jpg", _page(13, "id_card"))
    receipt = scene.code_scene(np.random.default_rng(14), WIDTH, HEIGHT, "370503-20260612-000123",
                               "370503-20260612-000123", carrier="receipt", effects=[])
    _save(OUT / "receipt-qr.jpg", receipt.image)
    _save(OUT / "two-page-letter" / "page-1.jpg", _page(21, "text"))
    _save(OUT / "two-page-letter" / "page-2.jpg", _page(22, "form"))


if __name__ == "__main__":
    main()
