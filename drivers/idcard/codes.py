"""Code tables and checks used on ID cards: nations (GB/T 3304), genders, GB 11643 citizen numbers.

``gb11643_valid`` is the one validator of 18-character citizen numbers in the project (ID card
reader, backend models, anything else that checks one). It holds for the resident ID number and
for the numbers that share its layout: the Hong Kong / Macao / Taiwan residence permit
(810000 / 820000 / 830000…) and the 2023 foreign permanent residence card (starting with 9) —
17 digits, a birth date at positions 7–14 and the ISO 7064 MOD 11-2 check character.
"""
from __future__ import annotations

import datetime as dt

#: GB/T 3304 nation codes as printed on resident ID cards (民族), plus 97 and 98.
NATIONS: dict[str, str] = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝", "08": "壮",
    "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白", "15": "土家", "16": "哈尼",
    "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤", "22": "畲", "23": "高山", "24": "拉祜",
    "25": "水", "26": "东乡", "27": "纳西", "28": "景颇", "29": "柯尔克孜", "30": "土", "31": "达斡尔",
    "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌",
    "40": "普米", "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春", "53": "赫哲",
    "54": "门巴", "55": "珞巴", "56": "基诺",
    "97": "其他", "98": "外国血统中国籍人士",
}

#: GB/T 2261.1 sex codes.
GENDERS: dict[str, str] = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def gb11643_check_char(first17: str) -> str:
    """The check character of an 18-character citizen number from its first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def gb11643_valid(number: str, today: dt.date | None = None) -> bool:
    """True for a citizen number: 17 digits then the right check character (0–9 or X, x accepted),
    with positions 7–14 a real calendar date from 1900 on and not after ``today`` (default: today)."""
    if not isinstance(number, str) or len(number) != 18 or not number.isascii():
        return False
    head, last = number[:17], number[17].upper()
    if not head.isdigit() or gb11643_check_char(head) != last:
        return False
    try:
        born = dt.date(int(head[6:10]), int(head[10:12]), int(head[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year and born <= (today or dt.date.today())


def with_check_char(first17: str) -> str:
    return first17 + gb11643_check_char(first17)
