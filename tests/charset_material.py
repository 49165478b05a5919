"""Payload texts in the charsets a kiosk meets in QR codes, for the code-text tests and benchmarks.

``payload_text(rng, charset)`` gives a text that can be written in ``charset``: Chinese
(words drawn from jieba's dictionary by frequency, names, addresses, receipt lines) for
GB18030 and UTF-8; Japanese (kanji + kana phrases, half-width katakana words and names,
with ASCII around them) for Shift_JIS; West-European words with accents for ISO 8859-1.
The word lists below are split in two: ``part="tune"`` draws from the even entries (used by
the tests and while writing the rules), ``part="held"`` from the odd ones (only
``benchmarks/vision.py`` uses it).
"""
from __future__ import annotations

import functools
import os

import numpy as np

JAPANESE_PHRASES = (
    "東京都千代田区", "ご来店ありがとうございます", "大阪市北区梅田", "お問い合わせはこちら", "山田太郎",
    "会員番号", "ポイントカード", "割引券", "領収書", "京都府京都市", "本日のおすすめ", "営業時間のお知らせ",
    "佐藤花子", "横浜市中区", "予約確認", "お客様番号", "名古屋駅前店", "ラーメン一杯無料", "入場券",
    "鈴木一郎", "福岡県博多区", "診察券", "整理番号", "お支払い金額", "北海道札幌市", "コーヒー無料券",
    "田中美咲", "神奈川県", "ご利用ありがとうございました", "乗車券", "渡辺健太", "広島市", "商品券",
)
HALFWIDTH_WORDS = (
    "ｶﾀｶﾅ", "ﾃｽﾄ", "ｺｰﾋｰ", "ﾗｰﾒﾝ", "ｻｰﾋﾞｽ", "ﾎﾟｲﾝﾄ", "ｸｰﾎﾟﾝ", "ﾁｹｯﾄ", "ﾔﾏﾀﾞ ﾀﾛｳ", "ｽｽﾞｷ ｲﾁﾛｳ",
    "ｶｲｲﾝ", "ﾊﾞﾝｺﾞｳ", "ﾄｳｷｮｳ", "ｵｵｻｶ", "ﾒﾆｭｰ", "ﾜﾘﾋﾞｷ", "ｼｮｳﾋﾝ", "ｹｰｷ", "ｼﾞｭｰｽ", "ﾋﾞｰﾙ", "ﾊﾟﾝ",
    "ﾃﾞﾝﾜ", "ﾀﾅｶ ﾐｻｷ", "ｻﾄｳ ﾊﾅｺ", "ﾌｧｲﾙ", "ｳｪﾌﾞ", "ｷｬﾝﾍﾟｰﾝ", "ﾁｪｯｸ", "ｼｮｯﾌﾟ", "ﾃﾞｨｽｶｳﾝﾄ", "ﾘｮｳｼｭｳｼｮ",
    "ｶｰﾄﾞ", "ﾏﾂﾓﾄ", "ｷｮｳﾄ", "ｵﾁｬ",
)
LATIN_WORDS = (
    "café", "Müller", "naïve", "Größe", "señor", "façade", "crème brûlée", "Ångström", "über", "résumé",
    "Straße", "garçon", "niño", "São Paulo", "Zoë", "Bjørn", "déjà vu", "Köln", "Málaga", "Dvořák"[:3],
    "piñata", "jalapeño", "Österreich", "Ærø", "élève", "Françoise", "Gödel", "año", "Zürich", "Île",
)
CHINESE_EXTRA = ("东营市河口区", "六合街道", "义和镇", "仙河镇", "孤岛镇", "新户镇", "王秀英", "张桂英", "刘建国",
                 "受理回执", "取件码", "办件编号", "政务服务中心", "不动产登记", "营业执照", "社会保障卡")


@functools.lru_cache(maxsize=1)
def _jieba_words() -> tuple[list[str], np.ndarray]:
    import jieba

    words, freqs = [], []
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word, freq = line.split()[:2]
            if 1 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in word) and int(freq) >= 50:
                try:
                    word.encode("gb2312")
                except UnicodeEncodeError:
                    continue
                words.append(word)
                freqs.append(int(freq))
    weights = np.sqrt(np.array(freqs, np.float64))
    return words, weights / weights.sum()


def _pick(rng: np.random.Generator, items: tuple[str, ...], part: str) -> str:
    pool = items[0::2] if part == "tune" else items[1::2]
    return pool[int(rng.integers(0, len(pool)))]


def chinese_text(rng: np.random.Generator, lo: int = 2, hi: int = 12) -> str:
    words, weights = _jieba_words()
    target = int(rng.integers(lo, hi + 1))
    text = ""
    while len(text) < target:
        text += words[int(rng.choice(len(words), p=weights))] if rng.random() < 0.85 else \
            CHINESE_EXTRA[int(rng.integers(0, len(CHINESE_EXTRA)))]
    return text[:max(target, lo)]


def payload_text(rng: np.random.Generator, charset: str, part: str = "tune") -> str:
    """A text for a code written in ``charset`` (utf-8, gb18030, shift_jis or iso-8859-1)."""
    shape = int(rng.integers(0, 4))
    number = str(int(rng.integers(10, 10 ** 6)))
    if charset in ("gb18030", "utf-8") and (charset == "gb18030" or rng.random() < 0.7):
        core = chinese_text(rng)
    elif charset in ("shift_jis", "utf-8"):
        core = _pick(rng, JAPANESE_PHRASES, part) if rng.random() < 0.5 else _pick(rng, HALFWIDTH_WORDS, part)
    else:
        core = " ".join(_pick(rng, LATIN_WORDS, part) for _ in range(int(rng.integers(1, 4))))
    if shape == 1:
        return f"{core} {number}"
    if shape == 2:
        return f"No.{number} {core}"
    if shape == 3 and charset != "iso-8859-1":
        return f"{core}：{number}" if charset != "shift_jis" or rng.random() < 0.5 else f"{core}:{number}"
    return core
