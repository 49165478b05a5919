"""How long one ID card read takes: find → select → read through the real driver and the simulator.

The simulator paces its replies at the line's speed (8N1: 10 bits a byte) and waits the time
the request would take on a real wire, so the figure includes wire time: at 115200 baud the
1,295-byte read reply alone takes 112 ms. Usage::

    python benchmarks/idcard.py [--runs 30] [--baud 115200]

Prints the median (and spread) over ``--runs`` reads, the pure wire time for comparison, and
the same for the kiosk's default read, which also asks for the appended address (30 03).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.idcard import protocol as p  # noqa: E402
from drivers.idcard.reader import Ga467Reader  # noqa: E402
from drivers.idcard.simulator import Ga467Simulator  # noqa: E402
from drivers.serialio import wire_seconds  # noqa: E402


def wire_bytes(with_address: bool) -> int:
    requests = 3 * len(p.encode_request(*p.FIND_CARD))
    replies = len(p.encode_response(p.SW_CARD_FOUND, bytes(4))) + len(p.encode_response(p.SW_OK, bytes(8))) \
        + len(p.encode_response(p.SW_OK, bytes(4 + 256 + 1024)))
    if with_address:
        requests += len(p.encode_request(*p.READ_APPENDED_ADDRESS))
        replies += len(p.encode_response(p.SW_NO_CONTENT))
    return requests + replies


def measure(reader: Ga467Reader, simulator: Ga467Simulator, runs: int, with_address: bool) -> list[float]:
    reader.read_appended_address = with_address
    times = []
    for _ in range(runs):
        simulator.remove()
        simulator.place("resident")
        start = time.perf_counter()
        if not reader.find_card():
            raise SystemExit("the simulator did not present the card")
        reader.select_card()
        card = reader.read_selected()
        times.append(time.perf_counter() - start)
        assert card.name
    return times


def summary(label: str, times: list[float], wire: float) -> str:
    ms = sorted(t * 1000 for t in times)
    p10, p90 = ms[len(ms) // 10], ms[(len(ms) * 9) // 10 - 1 if len(ms) >= 10 else -1]
    return (f"{label}: median {statistics.median(ms):.1f} ms (n={len(ms)}, p10 {p10:.1f}, p90 {p90:.1f}, "
            f"min {ms[0]:.1f}, max {ms[-1]:.1f}); wire time alone {wire * 1000:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baud", type=int, default=115200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-idcard-") as folder:
        simulator = Ga467Simulator(link=Path(folder) / "reader", baud=args.baud, wire_time=True).start()
        reader = Ga467Reader(simulator.path, args.baud)
        try:
            reader.open()
            measure(reader, simulator, 3, False)  # warm up
            plain = measure(reader, simulator, args.runs, False)
            full = measure(reader, simulator, args.runs, True)
        finally:
            reader.close()
            simulator.stop()
    print(summary(f"find → select → read (30 01) at {args.baud} baud", plain,
                  wire_seconds(wire_bytes(False), args.baud)))
    print(summary(f"find → select → read + appended address (30 03) at {args.baud} baud", full,
                  wire_seconds(wire_bytes(True), args.baud)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
