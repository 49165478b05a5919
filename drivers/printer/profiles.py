"""What a printer model can do, taken from python-escpos' capability database.

A profile answers the questions the driver has: native ``GS ( k`` QR or not, which cuts,
the vendor and model name for the test page. Any profile name python-escpos knows
(``default``, ``TM-T20II``, ``ZJ-5870``, ``POS-5890``…) can be configured.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache

from drivers.base import UnsupportedError


_escpos_imported = False


def prepare_escpos_import() -> None:
    """Import python-escpos without litter: its capabilities module calls ``mkdtemp()`` on every
    import (even when ``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set), leaving an empty folder in /tmp.
    The import runs with the capabilities cache folder as the temporary directory (the one
    ``ESCPOS_CAPABILITIES_PICKLE_DIR`` names, else ``kiosk-escpos-<uid>`` in the temporary folder,
    kept between runs: it holds python-escpos's printer capabilities, nothing of a session), and
    the empty folder it made there is removed."""
    global _escpos_imported
    if _escpos_imported:
        return
    folder = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR") or \
        os.path.join(tempfile.gettempdir(), f"kiosk-escpos-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = folder
    before = set(os.listdir(folder))
    saved, tempfile.tempdir = tempfile.tempdir, folder
    try:
        import escpos.capabilities  # noqa: F401
    finally:
        tempfile.tempdir = saved
    for name in set(os.listdir(folder)) - before:
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.listdir(path):
            os.rmdir(path)
    _escpos_imported = True


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    vendor: str
    model: str
    native_qr: bool
    raster: bool
    full_cut: bool
    partial_cut: bool

    @property
    def can_cut(self) -> bool:
        return self.full_cut or self.partial_cut


@lru_cache(maxsize=None)
def known_profiles() -> tuple[str, ...]:
    prepare_escpos_import()
    from escpos import capabilities

    return tuple(sorted(capabilities.CAPABILITIES["profiles"]))


@lru_cache(maxsize=None)
def load_profile(name: str) -> PrinterProfile:
    prepare_escpos_import()
    from escpos import capabilities

    if name not in capabilities.CAPABILITIES["profiles"]:
        raise UnsupportedError(f"unknown printer profile {name!r}; known: {', '.join(known_profiles())}")
    profile = capabilities.get_profile(name)
    data = profile.profile_data
    return PrinterProfile(
        name=name,
        vendor=str(data.get("vendor", "")),
        model=str(data.get("name", name)),
        native_qr=bool(profile.supports("qrCode")),
        raster=bool(profile.supports("bitImageRaster")),
        full_cut=bool(profile.supports("paperFullCut")),
        partial_cut=bool(profile.supports("paperPartCut")),
    )
