"""The clerk's side of a kiosk application, over loopback HTTP (issue 11).

An application made the way the kiosk makes it (a grid worker acting for 欧阳娜娜, the ID card
as one material, a bank card photographed, both consents, 免费邮寄) reaches the clerk: the API
lists it with its holder; the case page shows the form by its labels, each material with how it
was provided, the consent record, the delivery choice and the agent; the clerk asks for 补正
(everything at once), approves later, or rejects with reasons and 行政救济途径. The page renders
Chinese in a real headless Chromium on a computer without CJK fonts, because it serves the
bundled font.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageChops

from kiosk.backend import models as m
from refbackend.seed import load_catalog_file
from tests.backend_support import jpeg_page, start_reference_backend

HOLDER = "370503194003050029"
ALLOWANCE = "370503-XZ-0004"


@pytest.fixture
def backend(tmp_path):
    running = start_reference_backend(tmp_path / "backend.sqlite3", items=load_catalog_file())
    yield running
    running.stop(wait=False)


def apply(backend, key: str, agent: bool = True) -> m.SubmitResult:
    client = backend.client()
    try:
        create = m.ApplicationCreate(
            item_code=ALLOWANCE,
            applicant=m.Person(id_number=HOLDER, name="欧阳娜娜", phone="13805461234",
                               address="山东省东营市河口区仙河镇仙河村12号"),
            agent=m.GridWorker(worker_id="WG-0001", name="王晓梅", phone="13905460001") if agent else None,
            form={"name": "欧阳娜娜", "id_number": HOLDER, "address": "山东省东营市河口区仙河镇仙河村12号",
                  "phone": "13805461234"},
            materials=[m.MaterialProvision(index=0, how="id_card")],
            consent=m.ConsentRecord(terms=True, sensitive=True, agreed_at=dt.datetime.now(dt.timezone.utc),
                                    text="用途：审核并按月发放高龄津贴。"),
            delivery=m.DeliveryChoice(method="post", address="山东省东营市河口区仙河镇仙河村12号",
                                      phone="13805461234"))
        application = client.create_application(create, f"{key}:create")
        client.upload_page(application.application_id, 1, 1, jpeg_page(60 * 1024), "image/jpeg")
        if agent:
            client.upload_page(application.application_id, 2, 1, jpeg_page(60 * 1024, seed=9), "image/jpeg")
        return client.submit_application(application.application_id, m.SubmitRequest(declaration_accepted=True),
                                         f"{key}:submit")
    finally:
        client.close()


def test_the_clerk_api_lists_cases_with_their_holder(backend):
    result = apply(backend, "apply-clerk-list-1")
    answer = requests.get(f"{backend.url}/api/v1/clerk/cases", auth=backend.clerk_auth(), timeout=10).json()
    case = next(c for c in answer["cases"] if c["acceptance_number"] == result.acceptance_number)
    assert case["item_code"] == ALLOWANCE
    assert case["holder"] == {"id_type": "resident_id", "id_number": HOLDER, "name": "欧阳娜娜"}
    assert case["agent"]["worker_id"] == "WG-0001"
    mine = requests.get(f"{backend.url}/api/v1/clerk/cases", params={"holder_id_number": HOLDER},
                        auth=backend.clerk_auth(), timeout=10).json()["cases"]
    others = requests.get(f"{backend.url}/api/v1/clerk/cases", params={"holder_id_number": "370503198503121231"},
                          auth=backend.clerk_auth(), timeout=10).json()["cases"]
    assert [c["acceptance_number"] for c in mine] == [result.acceptance_number] and others == []
    assert requests.get(f"{backend.url}/api/v1/clerk/cases", timeout=10).status_code == 401


def test_the_case_page_shows_what_the_kiosk_collected(backend):
    result = apply(backend, "apply-clerk-page-1")
    page = requests.get(f"{backend.url}/clerk/cases/{result.acceptance_number}", auth=backend.clerk_auth(),
                        timeout=10).text
    for text in ("联系电话", "户籍地址", "13805461234",            # the form by its labels
                 "已读取身份证核验", "老人本人的银行卡或社保卡", "拍照",  # each material and how
                 "代办人居民身份证",
                 "同意记录", "已单独同意处理敏感个人信息",              # the consent record
                 "免费邮寄", "仙河村12号",                              # the delivery choice
                 "代办：王晓梅（网格员 WG-0001）",                      # the agent
                 "需要补正", "不予批准", "行政复议"):                   # the decisions offered
        assert text in page, text
    assert ">phone<" not in page  # labels, not keys
    assert "/clerk-static/fonts/NotoSansSC-Regular.otf" in page
    font = requests.get(f"{backend.url}/clerk-static/fonts/NotoSansSC-Regular.otf", timeout=30)
    assert font.status_code == 200 and font.headers["content-type"] == "font/otf" and len(font.content) > 1_000_000


def test_supplement_then_approval_and_a_rejection_with_remedies(backend):
    first = apply(backend, "apply-clerk-decide-1").acceptance_number
    page = requests.get(f"{backend.url}/clerk/cases/{first}", auth=backend.clerk_auth(), timeout=10).text
    csrf = re.search(r"name='csrf' value='([^']+)'", page).group(1)
    answer = requests.post(f"{backend.url}/clerk/cases/{first}/supplement", auth=backend.clerk_auth(), timeout=10,
                           data={"csrf": csrf, "items": "银行卡照片不清楚，请重新提供\n请补充户口簿本人页"})
    assert answer.status_code == 200 and "待补正" in answer.text and "请补充户口簿本人页" in answer.text
    status = requests.get(f"{backend.url}/api/v1/clerk/cases/{first}", auth=backend.clerk_auth(), timeout=10).json()
    assert status["state"] == "supplement" and status["state_text"] == "待补正"
    assert status["supplement"]["items"] == ["银行卡照片不清楚，请重新提供", "请补充户口簿本人页"]
    assert status["timeline"][-1]["title"] == "需要补正材料" and "请补充户口簿本人页" in status["timeline"][-1]["detail"]
    page = requests.get(f"{backend.url}/clerk/cases/{first}", auth=backend.clerk_auth(), timeout=10).text
    csrf = re.search(r"name='csrf' value='([^']+)'", page).group(1)
    empty = requests.post(f"{backend.url}/clerk/cases/{first}/supplement", auth=backend.clerk_auth(), timeout=10,
                          data={"csrf": csrf, "items": ""})
    assert empty.status_code == 409 or empty.status_code == 422
    requests.post(f"{backend.url}/api/v1/clerk/cases/{first}/review", auth=backend.clerk_auth(), timeout=10)
    approved = requests.post(f"{backend.url}/api/v1/clerk/cases/{first}/decision", auth=backend.clerk_auth(),
                             json={"approve": True}, timeout=10).json()
    assert approved["state"] == "approved"

    second = apply(backend, "apply-clerk-decide-2", agent=False).acceptance_number
    rejected = requests.post(f"{backend.url}/api/v1/clerk/cases/{second}/decision", auth=backend.clerk_auth(),
                             json={"approve": False, "reasons": ["户籍不在河口区"]}, timeout=10).json()
    assert rejected["state"] == "rejected" and rejected["decision"]["reasons"] == ["户籍不在河口区"]
    assert {r["kind"] for r in rejected["decision"]["remedies"]} == {"行政复议", "行政诉讼"}
    bad = requests.post(f"{backend.url}/api/v1/clerk/cases/{second}/decision", auth=backend.clerk_auth(),
                        json={"approve": False, "reasons": []}, timeout=10)
    assert bad.status_code in (409, 422)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _screenshot(url: str, out: Path, fonts_conf: Path, *extra: str) -> Image.Image:
    env = dict(os.environ, FONTCONFIG_FILE=str(fonts_conf), HOME=str(out.parent))
    result = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             f"--user-data-dir={out.parent / ('profile-' + out.stem)}", *extra,
                             f"--screenshot={out}", "--window-size=1200,1400", "--virtual-time-budget=8000", url],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and out.exists(), result.stderr[-2000:]
    return Image.open(out).convert("L")


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed")
def test_the_case_page_renders_chinese_in_a_headless_browser_without_cjk_fonts(backend, tmp_path):
    number = apply(backend, "apply-clerk-chromium-1").acceptance_number
    # a computer with no CJK font at all: fontconfig sees only the Latin DejaVu faces
    fonts_conf = tmp_path / "fonts.conf"
    fonts_conf.write_text("<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig>"
                          "<dir>/usr/share/fonts/truetype/dejavu</dir>"
                          f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>", encoding="utf-8")
    url = backend.url.replace("http://", f"http://clerk:{backend.running.clerk_password}@") + f"/clerk/cases/{number}"
    served = _screenshot(url, tmp_path / "served.png", fonts_conf)
    boxes = _screenshot(url, tmp_path / "boxes.png", fonts_conf, "--disable-remote-fonts")
    # the header band (河易办 · 综合受理后台) and the case title: with the served font the glyphs are
    # drawn; without it, the same places hold empty boxes
    band = (0, 0, 900, 160)
    difference = ImageChops.difference(served.crop(band), boxes.crop(band))
    changed = sum(difference.histogram()[61:]) / (band[2] * band[3])
    assert changed > 0.01, f"only {changed:.2%} of the header differs: the served font was not used"
    # real glyphs have many more ink transitions per row than hollow boxes
    def transitions(image: Image.Image) -> int:
        crop = image.crop(band)
        width, height = crop.size
        pixels = crop.load()
        return sum(1 for y in range(height) for x in range(1, width) if (pixels[x, y] < 128) != (pixels[x - 1, y] < 128))
    assert transitions(served) > 1.3 * transitions(boxes)
