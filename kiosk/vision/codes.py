"""Read QR and bar codes from camera frames and still images, better than any one decoder.

Two decoders, zxing-cpp and zbar (through pyzbar's ctypes wrapper, in *binary* mode: raw
bytes instead of zbar's Shift-JIS guess), and a ladder of preprocessing steps. Every step
runs its decoders and every symbol found is an *observation* of a code, keyed by symbology
and bytes; observations add up over the steps, and the ladder stops at the first step after
which every code seen is *confirmed*:

- a 2-D code (QR, Data Matrix, Aztec, PDF417) by one observation: its Reed–Solomon check
  makes a misread vanishingly rare;
- EAN/UPC and GTIN-14 ITF by one observation whose check digit is right;
- Code 128 and Code 93 (mandatory check characters) by one observation from 6 characters
  on, shorter ones by two;
- Code 39, Codabar and ITF (no mandatory check) by one observation from ``UNCHECKED_LONG``
  characters on, shorter ones by two observations — two decoders, or two preprocessing
  steps — and none below ``MIN_LENGTH`` (zbar is also told these minimum lengths,
  ``ZBAR_CFG_MIN_LEN``): a one-character Code 39 on a textured desk is the typical false
  positive.

Only the symbologies that have such a rule are read (``SYMBOLOGIES``; zxing-cpp is asked for
them alone): zxing-cpp's DX film-edge codes, for one, turn up in striped fabric.

Codes still unconfirmed when the ladder ends are dropped. So a short 1-D false positive
seen early no longer stops the ladder before the QR code it hides is read.

Still mode's ladder: the grey image with both decoders looking for QR codes only (zxing-cpp
tries rotations, downscaling and inversion itself); every symbology; contrast-equalised
(CLAHE); adaptive threshold; rescaled (×2 for small frames, ×0.5 for large blurred ones);
sharpened; turned by 45° (zbar reads 1-D codes only along rows and columns).
``mode="frame"`` (live camera frames) runs zxing-cpp on the grey frame, zbar on a half-size
copy and zxing-cpp on a CLAHE copy, QR codes only, to keep the frame rate.

Text: zxing-cpp reports the ECI designators of a code (``TextMode.HexECI``); the bytes and
their ECI segments go through the one code decoder, ``drivers.codetext`` — ECI first, the
evidence in the bytes otherwise — with the decoders' own readings of the same bytes
(``decoder_readings``: what zxing-cpp and zbar make of them without an ECI) to break a tie.
A code found but refused is skipped, or, with ``refused=True``, returned after the readable
ones with ``text=""`` and the decoder's ``problem``. Corners are in the input image's pixels.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import cv2
import numpy as np

from drivers.codetext import CodeText, decode_code_segments

log = logging.getLogger(__name__)

ZBAR_CFG_BINARY = 4  # zbar_config_e.ZBAR_CFG_BINARY (zbar ≥ 0.22): keep QR bytes as they are
ZBAR_CFG_MIN_LEN = 0x20  # zbar_config_e.ZBAR_CFG_MIN_LEN: shortest 1-D code zbar reports

#: Fewest characters a 1-D code of these symbologies may have (shorter ones are noise).
MIN_LENGTH = {"CODE_39": 4, "CODE_93": 3, "CODE_128": 3, "CODABAR": 4, "ITF": 6}
#: Symbologies with no mandatory check character: confirmed only by two observations.
NO_CHECK = frozenset({"CODE_39", "CODABAR", "ITF"})
#: Symbologies with mandatory check characters: one observation from this length on.
CHECKED_LONG = {"CODE_128": 6, "CODE_93": 6}
#: Symbologies without: one observation from this length on, two below it.
UNCHECKED_LONG = {"CODE_39": 6, "CODABAR": 8, "ITF": 10}
GTIN = frozenset({"EAN_13", "EAN_8", "UPC_A", "UPC_E", "ISBN_10", "ISBN_13"})
TWO_D = frozenset({"QR_CODE", "MICRO_QR_CODE", "RMQR_CODE", "DATA_MATRIX", "AZTEC", "PDF_417", "MAXICODE"})
#: Every symbology read, each with its confirmation rule above; anything else a decoder reports
#: is dropped (zxing-cpp's DX film-edge codes turn up in striped fabric, zbar's SQ codes in noise).
SYMBOLOGIES = TWO_D | GTIN | frozenset(MIN_LENGTH)
#: zxing-cpp's names for them (ISBNs come as EAN-13).
ZXING_FORMATS = ("QRCode", "MicroQRCode", "RMQRCode", "DataMatrix", "Aztec", "PDF417", "MaxiCode", "EAN13",
                 "EAN8", "UPCA", "UPCE", "Code128", "Code39", "Code93", "Codabar", "ITF")


@dataclass(frozen=True)
class Code:
    format: str  # QR_CODE, EAN_13, CODE_128, DATA_MATRIX, PDF_417, …
    text: str  # "" when the bytes hold no trustworthy text (see ``problem``)
    corners: tuple[tuple[float, float], ...]  # in the input image's pixels
    encoding: str  # as drivers.codetext reports it: ascii | utf-8 | gb18030 | …; "" when refused
    decoder: str  # zxing | zbar | zxing+zbar: the decoders that saw it
    raw: bytes = field(repr=False, default=b"")
    problem: str = ""  # "" for a readable code; else empty | undecodable | garbage (drivers.codetext)
    votes: int = 1  # observations: (step, decoder) pairs that read these bytes

    def as_json(self) -> dict:
        corners = [[round(x, 1), round(y, 1)] for x, y in self.corners]
        if self.problem:
            return {"format": self.format, "problem": self.problem, "corners": corners}
        return {"format": self.format, "text": self.text, "corners": corners}


@dataclass
class ReadStats:
    stage: str = ""  # the step that produced the result ("" when nothing was read)
    attempts: int = 0
    rejected: int = 0  # decoded symbols whose bytes were not trustworthy text
    ms: float = 0.0


# ---------------------------------------------------------------------------------------
# The two decoders, as raw symbols: (format, raw bytes, corners, decoder)


@dataclass(frozen=True)
class _Symbol:
    format: str
    raw: bytes
    corners: np.ndarray  # (n, 2) in the image the decoder saw
    decoder: str
    segments: tuple = ()  # ((eci or None, bytes), …) when the decoder knows the ECI segments (zxing-cpp)


_ECI_IDENTIFIERS = frozenset({"]Q2", "]Q4", "]Q6", "]d4", "]d5", "]d6", "]z3", "]z4", "]z5", "]L1"})


def eci_segments(hex_eci: str) -> tuple[str, tuple[tuple[int | None, bytes], ...]]:
    """zxing-cpp's ``TextMode.HexECI`` text → (symbology identifier, ((eci or None, bytes), …)).

    The text is the hex of ``]Xn`` then the content; when the identifier says the ECI
    protocol is in use, ``\\nnnnnn`` starts an ECI segment and ``\\\\`` stands for one backslash.
    """
    data = bytes.fromhex(hex_eci)
    ident, body = (data[:3].decode("latin-1"), data[3:]) if data[:1] == b"]" else ("", data)
    if ident not in _ECI_IDENTIFIERS:
        return ident, ((None, body),)
    segments: list[tuple[int | None, bytearray]] = [(None, bytearray())]
    i = 0
    while i < len(body):
        if body[i] == 0x5C and body[i + 1:i + 7].isdigit() and len(body[i + 1:i + 7]) == 6:
            segments.append((int(body[i + 1:i + 7]), bytearray()))
            i += 7
            continue
        if body[i] == 0x5C and body[i + 1:i + 2] == b"\\":
            i += 1
        segments[-1][1].append(body[i])
        i += 1
    return ident, tuple((eci, bytes(chunk)) for eci, chunk in segments if chunk or eci is not None)


_ZXING_NAMES = {"QRCode": "QR_CODE", "MicroQRCode": "MICRO_QR_CODE", "RMQRCode": "RMQR_CODE",
                "DataMatrix": "DATA_MATRIX", "PDF417": "PDF_417", "Aztec": "AZTEC", "EAN13": "EAN_13",
                "EAN8": "EAN_8", "UPCA": "UPC_A", "UPCE": "UPC_E", "Code128": "CODE_128", "Code39": "CODE_39",
                "Code93": "CODE_93", "Codabar": "CODABAR", "ITF": "ITF", "DataBar": "DATABAR",
                "DataBarExpanded": "DATABAR_EXPANDED", "MaxiCode": "MAXICODE"}
_ZBAR_NAMES = {"QRCODE": "QR_CODE", "EAN13": "EAN_13", "EAN8": "EAN_8", "UPCA": "UPC_A", "UPCE": "UPC_E",
               "CODE128": "CODE_128", "CODE39": "CODE_39", "CODE93": "CODE_93", "CODABAR": "CODABAR",
               "I25": "ITF", "PDF417": "PDF_417", "DATABAR": "DATABAR", "DATABAR_EXP": "DATABAR_EXPANDED",
               "ISBN10": "ISBN_10", "ISBN13": "ISBN_13", "SQCODE": "SQ_CODE"}


def _zxing_format(fmt) -> str:
    name = getattr(fmt, "name", None) or str(fmt)
    return _ZXING_NAMES.get(name, name.upper().replace(" ", "_").replace("-", "_"))


@functools.lru_cache(maxsize=1)
def _zxing_formats() -> tuple:
    import zxingcpp

    return tuple(getattr(zxingcpp.BarcodeFormat, name) for name in ZXING_FORMATS
                 if hasattr(zxingcpp.BarcodeFormat, name))


def zxing_symbols(grey: np.ndarray, qr_only: bool = False) -> list[_Symbol]:
    import zxingcpp

    out = []
    mode = getattr(getattr(zxingcpp, "TextMode", None), "HexECI", None)
    kwargs = {"text_mode": mode} if mode is not None else {}
    found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode if qr_only else _zxing_formats(),
                                   **kwargs)
    for result in found:
        if not getattr(result, "valid", True):
            continue
        pos = result.position
        corners = np.array([[pos.top_left.x, pos.top_left.y], [pos.top_right.x, pos.top_right.y],
                            [pos.bottom_right.x, pos.bottom_right.y], [pos.bottom_left.x, pos.bottom_left.y]],
                           np.float64)
        segments: tuple = ()
        if mode is not None:
            try:
                segments = eci_segments(result.text)[1]
            except ValueError:
                segments = ()
        out.append(_Symbol(_zxing_format(result.format), bytes(result.bytes), corners, "zxing", segments))
    return out


_ZBAR_OFF: tuple = ()


def _zbar_raw(grey: np.ndarray, binary: bool = True, qr_only: bool = False) -> list:
    from ctypes import c_void_p, cast

    from pyzbar import pyzbar as pz
    from pyzbar.wrapper import (ZBarSymbol, zbar_image_scanner_set_config, zbar_image_set_data,
                                zbar_image_set_format, zbar_image_set_size, zbar_scan_image)

    global _ZBAR_OFF
    if not _ZBAR_OFF:
        _ZBAR_OFF = tuple(getattr(ZBarSymbol, name) for name in ("DATABAR", "DATABAR_EXP") if hasattr(ZBarSymbol, name))
    grey = np.ascontiguousarray(grey)
    pixels = grey.tobytes()
    height, width = grey.shape
    with pz._image_scanner() as scanner:
        if binary:
            zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1)
        if qr_only:  # ZBAR_NONE (0) addresses every symbology
            zbar_image_scanner_set_config(scanner, 0, 0, 0)
            zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, 0, 1)
        else:
            for name, shortest in (("CODE39", MIN_LENGTH["CODE_39"]), ("CODE93", MIN_LENGTH["CODE_93"]),
                                   ("CODE128", MIN_LENGTH["CODE_128"]), ("CODABAR", MIN_LENGTH["CODABAR"]),
                                   ("I25", MIN_LENGTH["ITF"])):
                if hasattr(ZBarSymbol, name):
                    zbar_image_scanner_set_config(scanner, getattr(ZBarSymbol, name), ZBAR_CFG_MIN_LEN, shortest)
        for noisy in _ZBAR_OFF:  # zbar's DataBar decoder prints assertion noise on busy frames
            zbar_image_scanner_set_config(scanner, noisy, 0, 0)
        with pz._image() as image:
            zbar_image_set_format(image, pz._FOURCC["L800"])
            zbar_image_set_size(image, width, height)
            zbar_image_set_data(image, cast(pixels, c_void_p), len(pixels), None)
            if zbar_scan_image(scanner, image) < 0:
                return []
            return list(pz._decode_symbols(pz._symbols_for_image(image)))


def zbar_symbols(grey: np.ndarray, qr_only: bool = False) -> list[_Symbol]:
    try:
        decoded = _zbar_raw(grey, binary=True, qr_only=qr_only)
    except (AttributeError, ImportError):  # a pyzbar without the private helpers
        from pyzbar import pyzbar

        decoded = pyzbar.decode(grey, symbols=[pyzbar.ZBarSymbol.QRCODE] if qr_only else None)
    out = []
    for item in decoded:
        # without binary mode zbar hands over its own conversion (UTF-8 of a Shift-JIS guess):
        # the one decoder repairs that mojibake as it does for a scanner that sends it
        corners = np.array([[p.x, p.y] for p in item.polygon], np.float64).reshape(-1, 2)
        out.append(_Symbol(_ZBAR_NAMES.get(item.type, str(item.type)), bytes(item.data), corners, "zbar"))
    return out


# ---------------------------------------------------------------------------------------
# Preprocessing steps: each returns (image for the decoders, matrix mapping its pixels back)


Step = tuple[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]], tuple[str, ...]]


def _identity(grey):
    return grey, None


def _clahe(grey):
    return cv2.createCLAHE(clipLimit=2.5, tileGridSize=(8, 8)).apply(grey), None


def _adaptive(grey):
    block = max(15, (min(grey.shape) // 30) | 1)
    return cv2.adaptiveThreshold(cv2.GaussianBlur(grey, (3, 3), 0), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, block, 5), None


def _scaled(factor: float):
    def step(grey):
        resized = cv2.resize(grey, None, fx=factor, fy=factor,
                             interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
        back = np.array([[1 / factor, 0, 0], [0, 1 / factor, 0]], np.float64)
        return resized, back
    return step


def _rescale(grey):
    # small frames (or far-away codes) gain from ×2; big blurred ones from ×0.5
    return _scaled(2.0)(grey) if max(grey.shape) <= 1000 else _scaled(0.5)(grey)


def _sharpen(grey):
    blurred = cv2.GaussianBlur(grey, (0, 0), 2.0)
    return cv2.addWeighted(grey, 1.8, blurred, -0.8, 0), None


def _turn45(grey):
    h, w = grey.shape
    size = int(np.ceil(np.hypot(h, w)))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 45, 1.0)
    matrix[:, 2] += [(size - w) / 2, (size - h) / 2]
    turned = cv2.warpAffine(grey, matrix, (size, size), borderValue=255)
    return turned, cv2.invertAffineTransform(matrix)


# "…_qr" decoders look for QR codes only: on a textured 1920×1080 frame zxing-cpp takes about
# 5 ms for QR alone and 80–90 ms with every 1-D symbology, zbar 50 ms against 150 ms.
# Live frames mostly hold no code at all, so every step counts: zbar looks at a half-size
# copy there (12 ms instead of 45 ms on 1920×1080; a code held up to the camera is large).
FRAME_STEPS: tuple[Step, ...] = (
    ("grey", _identity, ("zxing_qr",)),
    ("half", _scaled(0.5), ("zbar_qr",)),
    ("clahe", _clahe, ("zxing_qr",)),
)
STILL_STEPS: tuple[Step, ...] = (
    ("grey", _identity, ("zxing_qr", "zbar_qr")),
    ("grey_all", _identity, ("zxing", "zbar")),  # 1-D barcodes, Data Matrix, Aztec, PDF417
    ("clahe", _clahe, ("zxing_qr", "zbar_qr")),
    ("adaptive", _adaptive, ("zxing_qr", "zbar_qr")),
    ("rescale", _rescale, ("zxing", "zbar")),
    ("sharpen", _sharpen, ("zxing_qr", "zbar_qr")),
    ("turn45", _turn45, ("zxing", "zbar")),  # zbar reads 1-D codes only along rows and columns
)
_DECODERS = {"zxing": zxing_symbols, "zbar": zbar_symbols,
             "zxing_qr": lambda grey: zxing_symbols(grey, qr_only=True),
             "zbar_qr": lambda grey: zbar_symbols(grey, qr_only=True)}


def to_grey(image: np.ndarray) -> np.ndarray:
    if image is None or not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("not an image")
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
        elif image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        else:
            image = image[..., 0]
    return np.ascontiguousarray(image)


@functools.lru_cache(maxsize=256)
def decoder_readings(raw: bytes) -> tuple[str, ...]:
    """What zxing-cpp and zbar make of ``raw`` themselves, in a QR code without an ECI.

    Each decoder guesses the charset of such bytes in its own way (zxing-cpp: ISO 8859-1,
    Shift_JIS or UTF-8; zbar: UTF-8 or Shift_JIS). The bytes are written into a clean QR
    code (byte mode, no ECI) and read back by both; ``drivers.codetext`` uses their texts
    only to break a tie between equally plausible charsets.
    """
    if raw.isascii() or len(raw) > 1200:
        return ()
    try:
        import qrcode
        import zxingcpp
        from pyzbar import pyzbar

        symbol = qrcode.QRCode(border=4, box_size=1, error_correction=qrcode.constants.ERROR_CORRECT_L)
        symbol.add_data(raw)
        symbol.make(fit=True)
        image = np.where(np.array(symbol.get_matrix(), dtype=bool), 0, 255).astype(np.uint8)
        image = np.kron(image, np.ones((3, 3), np.uint8))
        readings = [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode,
                                                            text_mode=zxingcpp.TextMode.Plain)]
        readings += [d.data.decode("utf-8", "replace") for d in pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])]
    except Exception:  # no reading is no vote
        return ()
    return tuple(readings)


def gtin_check_ok(digits: str) -> bool:
    """The GS1 mod-10 check digit of an EAN/UPC/GTIN number (the last digit) is right."""
    if not digits.isdigit() or len(digits) < 7:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _decode(symbol: _Symbol) -> CodeText:
    segments = symbol.segments or ((None, symbol.raw),)
    readings = decoder_readings(symbol.raw) if all(eci is None for eci, _ in segments) else ()
    return decode_code_segments(segments, readings)


def _corners(symbol: _Symbol, back: np.ndarray | None) -> tuple[tuple[float, float], ...]:
    corners = symbol.corners
    if back is not None and len(corners):
        corners = np.hstack([corners, np.ones((len(corners), 1))]) @ back.T
    return tuple((float(x), float(y)) for x, y in corners)


class _Seen:
    """Everything observed of one code (symbology + bytes) over the ladder."""

    def __init__(self, symbol: _Symbol, back: np.ndarray | None, decoded: CodeText):
        self.symbol, self.decoded = symbol, decoded
        self.corners = _corners(symbol, back)
        self.observations: set[tuple[str, str]] = set()
        self.decoders: list[str] = []

    def see(self, step: str, symbol: _Symbol) -> None:
        self.observations.add((step, symbol.decoder))
        if symbol.decoder not in self.decoders:
            self.decoders.append(symbol.decoder)

    @property
    def confirmed(self) -> bool:
        fmt, votes = self.symbol.format, len(self.observations)
        text = self.decoded.text or ""
        if fmt not in SYMBOLOGIES:
            return False
        if fmt in TWO_D:
            return True
        if fmt in GTIN:
            return gtin_check_ok(text) or (fmt in ("UPC_E", "ISBN_10") and votes >= 2)
        if fmt == "ITF" and len(text) == 14 and gtin_check_ok(text):
            return True
        if len(text) < MIN_LENGTH.get(fmt, 1):
            return False
        if len(text) >= CHECKED_LONG.get(fmt, UNCHECKED_LONG.get(fmt, 10 ** 6)):
            return True
        return votes >= 2 if (fmt in NO_CHECK or fmt in CHECKED_LONG) else True

    def code(self) -> Code:
        return Code(self.symbol.format, self.decoded.text or "", self.corners, self.decoded.encoding,
                    "+".join(self.decoders), self.symbol.raw, self.decoded.problem, len(self.observations))


def read_codes(image: np.ndarray, mode: str = "still", stats: ReadStats | None = None,
               steps: Iterable[Step] | None = None, refused: bool = False) -> list[Code]:
    """Every confirmed, trustworthy code, from the ladder's steps up to the first that leaves none pending.

    With ``refused=True``, codes found but refused by the text decoder follow (``text=""``,
    ``problem`` set), each once.
    """
    started = time.perf_counter()
    stats = stats if stats is not None else ReadStats()
    grey = to_grey(image)
    ladder = steps if steps is not None else (FRAME_STEPS if mode == "frame" else STILL_STEPS)
    seen: dict[tuple[str, bytes], _Seen] = {}
    for name, prepare, decoders in ladder:
        prepared, back = prepare(grey)
        for decoder in decoders:
            stats.attempts += 1
            try:
                symbols = _DECODERS[decoder](prepared)
            except Exception as exc:  # a decoder crash on a strange picture costs this attempt only
                log.warning("decoder failed", extra={"fields": {"decoder": decoder, "error": type(exc).__name__}})
                continue
            for symbol in symbols:
                key = (symbol.format, symbol.raw)
                entry = seen.get(key)
                if entry is None or (symbol.segments and not entry.symbol.segments):
                    decoded = _decode(symbol)
                    fresh = _Seen(symbol, back, decoded)
                    if entry is not None:  # zxing-cpp knows the ECI segments: its decision counts
                        fresh.observations, fresh.decoders = entry.observations, entry.decoders
                    else:
                        stats.rejected += not decoded.ok
                    entry = seen[key] = fresh
                entry.see(name, symbol)
        readable = [e for e in seen.values() if e.decoded.ok]
        if readable and all(e.confirmed for e in readable):
            stats.stage = f"{name}/{'+'.join(decoders)}"
            break
    stats.ms = (time.perf_counter() - started) * 1000
    found = _distinct([e.code() for e in seen.values() if e.decoded.ok and e.confirmed])
    if not refused:
        return found
    return found + [e.code() for e in seen.values() if not e.decoded.ok]


def _distinct(codes: list[Code]) -> list[Code]:
    out: list[Code] = []
    for code in codes:
        if not any(c.text == code.text and c.format == code.format for c in out):
            out.append(code)
    return out
