"""The charset rule at the byte level: GB 2312 text against half-width katakana, where it is hardest.

    .venv/bin/python benchmarks/charset.py [--payloads 20000] [--random 300000]

No camera here: the bytes go straight to ``drivers.codetext.decode_code_text``, with the
Shift_JIS text as the decoders' reading (zxing-cpp and zbar read every such byte string as
Shift_JIS, so this is the hardest case for the rule). Three sets:

- **generated GB payloads** (``tests/charset_material.payload_text``: Chinese words by
  frequency, names, addresses and numbers), the tuning half (seed 77) and the held-apart half
  (seed 78): a wrong text is Chinese shown as something else;
- **random hanzi**: two or three hanzi drawn one by one from generated Chinese text (so they
  seldom form a word) whose GB 2312 bytes also spell half-width katakana — the adversarial
  case, where nothing but evidence can decide;
- **katakana words** of ``tests/charset_material`` (tuning and held-apart halves), read when
  the decoders read them so.

Compared in the same run on the same bytes: **zxing-cpp** (its guess: Shift_JIS when the bytes are
valid Shift_JIS, else ISO 8859-1 — always the
katakana) and **the decoders' agreement** (the issue's tie-breaker: the katakana whenever the
hanzi form no Chinese word and the decoders read katakana). Prints wrong texts and refusals.
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers import codetext as ct  # noqa: E402
from tests.charset_material import HALFWIDTH_WORDS, chinese_text, payload_text  # noqa: E402


def katakana_of(raw: bytes) -> str | None:
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError:
        return None


def agreement(raw: bytes, reading: str | None) -> str | None:
    """The decoders' agreement: the pipeline, except that ambiguous bytes go to the decoders' reading."""
    decoded = ct.decode_code_text(raw, readings=[reading] if reading else [])
    if decoded.ok or reading is None:
        return decoded.text
    gb = raw.decode("gb18030", "replace")
    pairs, hits = ct._word_pairs(gb)
    return reading if pairs and hits == 0 and all(ct._halfwidth(ch) or ch.isascii() for ch in reading) else None


RULES = {
    "pipeline": lambda raw, reading: ct.decode_code_text(raw, readings=[reading] if reading else []).text,
    "decoders' agreement": agreement,
    "zxing-cpp": lambda raw, reading: reading if reading is not None else raw.decode("latin-1"),
}


def score(pairs: list[tuple[str, bytes]]) -> dict[str, collections.Counter]:
    out = {name: collections.Counter() for name in RULES}
    for text, raw in pairs:
        reading = katakana_of(raw)
        for name, rule in RULES.items():
            got = rule(raw, reading)
            out[name]["right" if got == text else "refused" if got is None else "wrong"] += 1
    return out


def show(title: str, total: int, result: dict[str, collections.Counter]) -> None:
    print(f"\n{title}: {total}")
    for name, counts in result.items():
        print(f"  {name:20} right {counts['right']:6}  wrong {counts['wrong']:5}  refused {counts['refused']:6}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payloads", type=int, default=20000)
    parser.add_argument("--random", type=int, default=300000, help="random hanzi strings drawn per size")
    args = parser.parse_args()

    for seed, part in ((77, "tune"), (78, "held")):
        rng = np.random.default_rng(seed)
        texts = [payload_text(rng, "gb18030", part) for _ in range(args.payloads)]
        show(f"generated GB payloads ({part}, seed {seed})", len(texts),
             score([(t, t.encode("gb18030")) for t in texts]))

    rng = np.random.default_rng(11)
    pool = "".join(chinese_text(rng, 12, 12) for _ in range(30000))
    for size in (2, 3):
        rng = np.random.default_rng(12 + size)
        pairs = []
        for _ in range(args.random):
            text = "".join(pool[int(rng.integers(0, len(pool)))] for _ in range(size))
            raw = text.encode("gb18030")
            reading = katakana_of(raw)
            if reading and all(ct._halfwidth(ch) for ch in reading):
                pairs.append((text, raw))
        show(f"random {size} hanzi whose bytes also spell half-width katakana", len(pairs), score(pairs))

    for part, words in (("tune", HALFWIDTH_WORDS[0::2]), ("held", HALFWIDTH_WORDS[1::2])):
        result = score([(w, w.encode("cp932")) for w in words])
        show(f"half-width katakana words ({part})", len(words), result)
        missed = [w for w in words if RULES["pipeline"](w.encode("cp932"), w) != w]
        print(f"  pipeline did not read: {' '.join(missed) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
