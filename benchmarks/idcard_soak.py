"""Soak the ID card reader thread: random and mutated replies for a while, then report.

The test suite throws ~100 fuzzed replies at the polling thread; this runs the same for as
long as you like (default 60 s) and prints how many exchanges went through, how each ended,
and whether the thread is still alive. Usage::

    python benchmarks/idcard_soak.py [--seconds 60] [--seed 1]
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.idcard import protocol as p  # noqa: E402
from drivers.idcard.cardtext import encode_card_text  # noqa: E402
from drivers.idcard.deck import builtin_deck  # noqa: E402
from drivers.idcard.reader import Ga467Reader  # noqa: E402
from drivers.sim.base import SerialSimulator  # noqa: E402

CARD = builtin_deck()["resident"].card
GOOD = [p.encode_response(p.SW_OK), p.encode_response(p.SW_CARD_FOUND, bytes(4)),
        p.encode_response(p.SW_OK, bytes(8)),
        p.encode_response(p.SW_OK, (256).to_bytes(2, "big") + (1024).to_bytes(2, "big")
                          + encode_card_text(CARD) + CARD.photo_wlt)]


class Chaos(SerialSimulator):
    kind = "chaos"

    def __init__(self, link, seed):
        super().__init__(link=link, baud=115200, wire_time=False, seed=seed)
        self.decoder = p.FrameDecoder("request")
        self.rng = random.Random(seed)
        self.replies = 0

    def reply_bytes(self) -> bytes:
        choice = self.rng.random()
        if choice < 0.3:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 300)))
        frame = bytearray(self.rng.choice(GOOD))
        for _ in range(self.rng.randrange(0, 4)):
            frame[self.rng.randrange(len(frame))] = self.rng.randrange(256)
        if choice < 0.5:
            frame = frame[:self.rng.randrange(1, len(frame) + 1)]
        return bytes(frame)

    def on_bytes(self, data):
        for item in self.decoder.feed(data):
            if isinstance(item, p.Request):
                self.send(self.reply_bytes())
                self.replies += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every fuzzed reply is a warning; the summary says it all
    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="soak-idcard-") as folder:
        chaos = Chaos(Path(folder) / "reader", args.seed).start()
        reader = Ga467Reader(chaos.path, timeout=0.05, poll_interval=0.001, silent_limit=10**9)
        saved = chaos.reply_bytes
        chaos.reply_bytes = lambda: GOOD[0]  # let the open succeed
        reader.open()
        chaos.reply_bytes = saved
        reader.subscribe_cards(lambda e: outcomes.update([e.kind if e.kind == "card" else e.error.code]))
        reader.enable()
        start = time.monotonic()
        time.sleep(args.seconds)
        alive = reader.polling
        reader.close()
        chaos.stop()
    elapsed = time.monotonic() - start
    print(f"{chaos.replies} fuzzed replies in {elapsed:.0f} s ({chaos.replies / elapsed:.0f}/s); "
          f"reader thread alive at the end: {alive}; internal errors: {reader.counters['internal_errors']}")
    print("outcomes: " + ", ".join(f"{k}={v}" for k, v in sorted(outcomes.items())))
    return 0 if alive and not reader.counters["internal_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
