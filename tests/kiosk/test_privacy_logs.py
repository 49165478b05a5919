"""Nothing personal reaches a log line: ID numbers, phones and names are masked at one place."""
from __future__ import annotations

import io
import json
import logging

import pytest

from kiosk.logs import setup_logging
from kiosk.privacy import mask_id_number, mask_name, mask_phone, mask_text

ID = "370502199001011234"


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    handler = setup_logging("DEBUG", "json", stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_mask_shapes():
    assert mask_id_number(ID) == "3705**********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("John Smith") == "J*** S****"


def test_free_text_is_masked():
    text = mask_text(f"读卡成功 {ID} 电话13812345678 姓名：王小二")
    assert ID not in text and "3705**********1234" in text
    assert "13812345678" not in text and "138****5678" in text
    assert "王小二" not in text and "王*二" in text


def test_lowercase_x_check_digit_and_15_digit_numbers():
    assert "37050219900101123x" not in mask_text("id 37050219900101123x")
    assert "370502900101123" not in mask_text("old id 370502900101123")


def test_message_args_and_fields_are_masked(log_stream):
    log = logging.getLogger("kiosk.test")
    log.info("card read for %s", ID, extra={"fields": {"name": "李四", "phone": "13900001111",
                                                        "address": "山东省东营市河口区六合街道幸福村88号",
                                                        "item_name": "居民身份证换领"}})
    entry = lines(log_stream)[-1]
    raw = log_stream.getvalue()
    assert ID not in raw and "李四" not in raw and "13900001111" not in raw and "幸福村88号" not in raw
    assert entry["msg"] == "card read for 3705**********1234"
    assert entry["name"] == "李*"
    assert entry["phone"] == "139****1111"
    assert entry["item_name"] == "居民身份证换领"  # not personal: kept


def test_exception_text_is_masked(log_stream):
    log = logging.getLogger("kiosk.test")
    try:
        raise ValueError(f"lookup failed for {ID}")
    except ValueError:
        log.exception("oops")
    assert ID not in log_stream.getvalue()
    assert "3705**********1234" in lines(log_stream)[-1]["exc"]


def test_nested_fields_and_text_format():
    stream = io.StringIO()
    handler = setup_logging("INFO", "text", stream)
    try:
        logging.getLogger("x").warning("upload", extra={"fields": {"form": {"id_number": ID, "name": "赵六"}}})
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    assert ID not in out and "赵六" not in out
    assert "WARNING" in out
