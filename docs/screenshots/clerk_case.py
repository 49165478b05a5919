"""Render the clerk's case page of a kiosk application in headless Chromium (``make screenshots``).

    .venv/bin/python docs/screenshots/clerk_case.py docs/screenshots/apply/clerk-case.png

Starts the reference backend in this process with the demo catalogue and people, submits a
高龄津贴发放 application the way the kiosk does (a grid worker acting for 欧阳娜娜, the ID card as
one material, the bank card photographed and straightened by the kiosk's vision pipeline, both
consents, 免费邮寄), and screenshots its page with Debian's chromium, seeing only the Latin
DejaVu fonts: the Chinese comes from the font the page serves.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from kiosk.backend import models as m  # noqa: E402
from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.signing import generate_key, parse_key  # noqa: E402
from kiosk.vision.capture import CaptureOptions, MaterialCapture  # noqa: E402
from kiosk.vision.output import encode_jpeg  # noqa: E402
from refbackend.seed import DEMO_PEOPLE_PATH, load_catalog_file, load_people_file, seed_people  # noqa: E402
from refbackend.server import start_embedded  # noqa: E402
from refbackend.store import ReferenceStore  # noqa: E402

TERMINAL = "HK-DEMO-001"


def card_page(frame) -> bytes:
    page = MaterialCapture(CaptureOptions(aspect="id_card")).capture(frame)
    return encode_jpeg(page.image, 200, 85, 1024 * 1024)


def bank_card_page() -> bytes:
    return card_page(cv2.imread(str(ROOT / "tests" / "scenarios" / "pictures" / "bank-card.jpg")))


def id_card_page() -> bytes:
    import numpy as np

    from drivers.camera.scene import document_scene

    made = document_scene(np.random.default_rng(3), 1920, 1080, kind="id_card", desk="wood", effects=[],
                          max_rotation=5.0, perspective=0.01)
    return card_page(made.image)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "clerk-case.png").resolve()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    key_text = generate_key()
    store = ReferenceStore(":memory:")
    store.seed_catalog(load_catalog_file())
    seed_people(store, load_people_file(DEMO_PEOPLE_PATH))
    store.register_terminal(TERMINAL, key_text, "河口街道便民服务中心 · 演示终端", doors=16)
    running = start_embedded(store)
    client = BackendClient(running.url, TERMINAL, parse_key(key_text))
    try:
        create = m.ApplicationCreate(
            item_code="370503-XZ-0004",
            applicant=m.Person(id_number="370503194003050029", name="欧阳娜娜", phone="13805461234",
                               address="山东省东营市河口区仙河镇仙河村12号"),
            agent=m.GridWorker(worker_id="WG-0001", name="王晓梅", phone="13905460001"),
            form={"name": "欧阳娜娜", "id_number": "370503194003050029", "address": "山东省东营市河口区仙河镇仙河村12号",
                  "phone": "13805461234"},
            materials=[m.MaterialProvision(index=0, how="id_card")],
            consent=m.ConsentRecord(terms=True, sensitive=True, agreed_at=dt.datetime.now(dt.timezone.utc),
                                    text="用途：审核并按月发放高龄津贴，核对年龄、户籍和收款账户。"),
            delivery=m.DeliveryChoice(method="post", address="山东省东营市河口区仙河镇仙河村12号", phone="13805461234"))
        application = client.create_application(create, "screenshot-clerk-case:create")
        client.upload_page(application.application_id, 1, 1, bank_card_page(), "image/jpeg")
        client.upload_page(application.application_id, 2, 1, id_card_page(), "image/jpeg")
        result = client.submit_application(application.application_id, m.SubmitRequest(declaration_accepted=True),
                                           "screenshot-clerk-case:submit")
        with tempfile.TemporaryDirectory() as tmp:
            fonts = Path(tmp) / "fonts.conf"
            fonts.write_text("<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig>"
                             f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp}/fc</cachedir>"
                             "</fontconfig>", encoding="utf-8")
            url = (running.url.replace("http://", f"http://clerk:{running.clerk_password}@")
                   + f"/clerk/cases/{result.acceptance_number}")
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            f"--user-data-dir={tmp}/profile", f"--screenshot={out}", "--window-size=1280,2000",
                            "--virtual-time-budget=8000", url], check=True, capture_output=True, timeout=120,
                           env=dict(os.environ, FONTCONFIG_FILE=str(fonts), HOME=tmp))
        print(out)
    finally:
        client.close()
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
