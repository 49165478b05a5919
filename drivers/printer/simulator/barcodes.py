"""1-D barcodes of ``GS k``: the printer's data bytes → modules (``"1"`` bar, ``"0"`` space) and HRI text.

``encode(m, data)`` follows the ESC/POS reference for each symbology (``m`` 0–6 in format A,
65–73 in format B): what digits a UPC/EAN accepts and when the printer computes the check
digit, Code 39's start/stop characters, ITF's even digit count, Codabar's start/stop letters,
and CODE128's code-set selectors in the data (``{A`` ``{B`` ``{C`` ``{S`` ``{1``–``{4``
``{{``, with code set C carrying one value 0–99 per byte). Bar patterns come from the
symbology tables of python-barcode (installed with python-escpos). Data a printer would refuse
raises ``BarcodeError`` with the reason; nothing is printed for it, as on a printer.

Code 93 (m 72) and GS1 DataBar (m 75–78) are not drawn: they raise ``BarcodeError`` too, so the
command is listed as not modelled.
"""
from __future__ import annotations

from barcode.charsets import codabar as _codabar
from barcode.charsets import code39 as _code39
from barcode.charsets import code128 as _code128
from barcode.charsets import ean as _ean
from barcode.charsets import itf as _itf

NAMES = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
         65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
         72: "CODE93", 73: "CODE128", 74: "GS1-128", 75: "GS1 DataBar Omnidirectional",
         76: "GS1 DataBar Truncated", 77: "GS1 DataBar Limited", 78: "GS1 DataBar Expanded"}

_UPCE_PARITY = ("BBBAAA", "BBABAA", "BBAABA", "BBAAAB", "BABBAA", "BAABBA", "BAAABB", "BABABA", "BABAAB",
                "BAABAB")  # number system 0, by check digit (A odd / L code, B even / G code)


class BarcodeError(ValueError):
    """Data this symbology cannot carry (the printer prints nothing)."""


def ean_check(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _digits(data: bytes, name: str) -> str:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise BarcodeError(f"{name} takes digits only") from None
    if not text.isdigit():
        raise BarcodeError(f"{name} takes digits only")
    return text


def _ean13(code13: str) -> str:
    first, left, right = int(code13[0]), code13[1:7], code13[7:]
    parity = _ean.LEFT_PATTERN[first]
    bars = _ean.EDGE + "".join(_ean.CODES[p][int(d)] for p, d in zip(parity, left))
    bars += _ean.MIDDLE + "".join(_ean.CODES["C"][int(d)] for d in right) + _ean.EDGE
    return bars


def _with_check(digits: str, lengths: tuple[int, int], name: str) -> str:
    short, full = lengths
    if len(digits) == short:
        return digits + ean_check(digits)
    if len(digits) == full:
        if ean_check(digits[:-1]) != digits[-1]:
            raise BarcodeError(f"{name}: wrong check digit")
        return digits
    raise BarcodeError(f"{name} takes {short} or {full} digits, got {len(digits)}")


def upca(data: bytes) -> tuple[str, str]:
    code = _with_check(_digits(data, "UPC-A"), (11, 12), "UPC-A")
    return _ean13("0" + code), code


def ean13(data: bytes) -> tuple[str, str]:
    code = _with_check(_digits(data, "EAN13"), (12, 13), "EAN13")
    return _ean13(code), code


def ean8(data: bytes) -> tuple[str, str]:
    code = _with_check(_digits(data, "EAN8"), (7, 8), "EAN8")
    bars = _ean.EDGE + "".join(_ean.CODES["A"][int(d)] for d in code[:4])
    bars += _ean.MIDDLE + "".join(_ean.CODES["C"][int(d)] for d in code[4:]) + _ean.EDGE
    return bars, code


def _upce_expand(system: str, six: str) -> str:
    d1, d2, d3, d4, d5, d6 = six
    if d6 in "012":
        body = d1 + d2 + d6 + "0000" + d3 + d4 + d5
    elif d6 == "3":
        body = d1 + d2 + d3 + "00000" + d4 + d5
    elif d6 == "4":
        body = d1 + d2 + d3 + d4 + "00000" + d5
    else:
        body = d1 + d2 + d3 + d4 + d5 + "0000" + d6
    return system + body


def _upce_compress(upc11: str) -> str | None:
    system, m = upc11[0], upc11[1:]
    if m[2] in "012" and m[3:7] == "0000":
        return m[0] + m[1] + m[7] + m[8] + m[9] + m[2]
    if m[3:8] == "00000":
        return m[0] + m[1] + m[2] + m[8] + m[9] + "3"
    if m[4:9] == "00000":
        return m[0] + m[1] + m[2] + m[3] + m[9] + "4"
    if m[5:9] == "0000" and m[9] in "56789":
        return m[0:5] + m[9]
    return None if system else None


def upce(data: bytes) -> tuple[str, str]:
    digits = _digits(data, "UPC-E")
    if len(digits) in (6, 7, 8):
        system, six = ("0", digits) if len(digits) == 6 else (digits[0], digits[1:7])
        check = ean_check(_upce_expand(system, six))
        if len(digits) == 8 and digits[7] != check:
            raise BarcodeError("UPC-E: wrong check digit")
    elif len(digits) in (11, 12):
        system = digits[0]
        compressed = _upce_compress(digits[:11])
        if compressed is None:
            raise BarcodeError("UPC-E: this UPC-A number cannot be zero-suppressed")
        six = compressed
        check = ean_check(digits[:11])
        if len(digits) == 12 and digits[11] != check:
            raise BarcodeError("UPC-E: wrong check digit")
    else:
        raise BarcodeError(f"UPC-E takes 6, 7, 8, 11 or 12 digits, got {len(digits)}")
    if system not in "01":
        raise BarcodeError("UPC-E: number system must be 0 or 1")
    parity = _UPCE_PARITY[int(check)]
    if system == "1":
        parity = parity.translate(str.maketrans("AB", "BA"))
    bars = _ean.EDGE + "".join(_ean.CODES[p][int(d)] for p, d in zip(parity, six)) + "010101"
    return bars, system + six + check


def code39(data: bytes) -> tuple[str, str]:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise BarcodeError("CODE39 takes 0-9 A-Z space $ % * + - . /") from None
    if text.startswith("*") and text.endswith("*") and len(text) >= 2:
        text = text[1:-1]
    if not text or any(char not in _code39.MAP for char in text):
        raise BarcodeError("CODE39 takes 0-9 A-Z space $ % + - . / (start/stop * added by the printer)")
    parts = [_code39.EDGE] + [_code39.MAP[char][1] for char in text] + [_code39.EDGE]
    return _code39.MIDDLE.join(parts), f"*{text}*"


def _wide_narrow(pattern: str, ratio: int = 3) -> str:
    """``"NnWw"`` notation (upper case bars, lower case spaces) → modules."""
    out = []
    for element in pattern:
        width = ratio if element in "Ww" else 1
        out.append(("1" if element.isupper() else "0") * width)
    return "".join(out)


def itf(data: bytes) -> tuple[str, str]:
    digits = _digits(data, "ITF")
    if not digits or len(digits) % 2:
        raise BarcodeError("ITF takes an even number of digits")
    modules = _wide_narrow(_itf.START)
    for a, b in zip(digits[::2], digits[1::2]):
        bars, spaces = _itf.CODES[int(a)], _itf.CODES[int(b)]
        modules += "".join(("111" if bar == "W" else "1") + ("000" if space == "W" else "0")
                           for bar, space in zip(bars, spaces))
    return modules + _wide_narrow(_itf.STOP), digits


def codabar(data: bytes) -> tuple[str, str]:
    try:
        text = data.decode("ascii").upper()
    except UnicodeDecodeError:
        raise BarcodeError("CODABAR takes 0-9 - $ : / . + between start/stop letters A-D") from None
    if len(text) < 3 or text[0] not in "ABCD" or text[-1] not in "ABCD":
        raise BarcodeError("CODABAR data starts and ends with a start/stop letter A-D")
    body = text[1:-1]
    if any(char not in _codabar.CODES for char in body):
        raise BarcodeError("CODABAR takes 0-9 - $ : / . + between start/stop letters A-D")
    patterns = [_codabar.STARTSTOP[text[0]]] + [_codabar.CODES[c] for c in body] + [_codabar.STARTSTOP[text[-1]]]
    return "0".join(_wide_narrow(p) for p in patterns), text


def _code128_values(data: bytes) -> tuple[list[int], str]:
    """Values (start code first, no check) and HRI text of ESC/POS CODE128 data."""
    if len(data) < 2 or data[0] != ord("{") or data[1] not in b"ABC":
        raise BarcodeError("CODE128 data starts with a code set: {A, {B or {C")
    sets = {ord("A"): "A", ord("B"): "B", ord("C"): "C"}
    current = sets[data[1]]
    values = [{"A": 103, "B": 104, "C": 105}[current]]
    hri: list[str] = []
    i = 2
    shift = False
    while i < len(data):
        byte = data[i]
        if byte == ord("{"):
            if i + 1 >= len(data):
                raise BarcodeError("CODE128: '{' at the end of the data")
            code = data[i + 1]
            i += 2
            if code == ord("{"):
                byte = ord("{")
            elif code in sets:
                target = sets[code]
                if target != current:
                    values.append({"A": 101, "B": 100, "C": 99}[target])
                    current = target
                continue
            elif code == ord("S"):
                if current == "C":
                    raise BarcodeError("CODE128: SHIFT in code set C")
                values.append(98)
                shift = True
                continue
            elif code in b"1234":
                function = code - ord("0")
                if function == 4 and current == "C":
                    raise BarcodeError("CODE128: FNC4 in code set C")
                values.append({1: 102, 2: 97, 3: 96, 4: 101 if current == "A" else 100}[function])
                continue
            else:
                raise BarcodeError(f"CODE128: unknown control {{{chr(code)}")
        else:
            i += 1
        if current == "C" and not shift:
            if byte > 99:
                raise BarcodeError("CODE128 code set C takes values 0-99, one per byte")
            values.append(byte)
            hri.append(f"{byte:02d}")
            continue
        charset = current if not shift else ("B" if current == "A" else "A")
        shift = False
        if charset == "A":
            if byte > 95:
                raise BarcodeError("CODE128 code set A takes ASCII 0-95")
            values.append(byte - 32 if byte >= 32 else byte + 64)
        else:
            if not 32 <= byte <= 127:
                raise BarcodeError("CODE128 code set B takes ASCII 32-127")
            values.append(byte - 32)
        hri.append(chr(byte) if 32 <= byte < 127 else " ")
    if len(values) < 2:
        raise BarcodeError("CODE128 without data")
    return values, "".join(hri)


def code128(data: bytes) -> tuple[str, str]:
    values, hri = _code128_values(data)
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    modules = "".join(_code128.CODES[v] for v in values + [check]) + _code128.STOP + "11"  # + termination bar
    return modules, hri


_ENCODERS = {0: upca, 1: upce, 2: ean13, 3: ean8, 4: code39, 5: itf, 6: codabar,
             65: upca, 66: upce, 67: ean13, 68: ean8, 69: code39, 70: itf, 71: codabar, 73: code128}


def encode(m: int, data: bytes) -> tuple[str, str]:
    """Modules and HRI text of ``GS k m`` with ``data``. Raises ``BarcodeError``."""
    encoder = _ENCODERS.get(m)
    if encoder is None:
        raise BarcodeError(f"{NAMES.get(m, f'barcode system {m}')} is not drawn by the simulator")
    return encoder(data)
