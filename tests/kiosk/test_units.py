"""The services' units as shipped: what a resident's privacy depends on is in them."""
from __future__ import annotations

from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"


@pytest.mark.parametrize("unit", ["kiosk.service", "kiosk-backend.service"])
def test_no_core_dumps_and_private_files(unit):
    """A core dump of the UI or the backend would put residents' data on disk (issue 15)."""
    settings = {}
    for line in (SYSTEMD / unit).read_text("utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings[key.strip()] = value.strip()
    assert settings.get("LimitCORE") == "0"
    assert settings.get("UMask") == "0077" and settings.get("PrivateTmp") == "yes"
