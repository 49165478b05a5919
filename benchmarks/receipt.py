"""Receipt printing figures: build time and size of the acceptance receipt, native vs raster QR.

    python benchmarks/receipt.py [--runs 50]

Prints, for 58 and 80 mm paper: the median time to build the acceptance receipt's bytes
(template + layout + ESC/POS encoding, logo raster included), its size in bytes with a
native ``GS ( k`` QR and with the raster fallback, the simulator's median time to print and
render it to PNG, and the median time of one ``DLE EOT`` status round trip over a pty.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", tempfile.gettempdir())

from drivers.printer import create_printer  # noqa: E402
from drivers.printer.simulator import PrinterSimulator  # noqa: E402
from drivers.printer.simulator.server import PtyPrinterServer  # noqa: E402
from kiosk.receipts import samples  # noqa: E402
from kiosk.receipts.layout import Target, compile_receipt  # noqa: E402
from kiosk.receipts.templates import acceptance_receipt  # noqa: E402


def median_ms(fn, runs: int) -> float:
    fn()  # warm caches (font, logo file)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def build(width: int, native_qr: bool) -> bytes:
    return compile_receipt(acceptance_receipt(samples.sample_acceptance()), Target(width, "gb18030", native_qr)).data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print(f"acceptance receipt, median of {args.runs} runs, 1 process on this machine ({os.cpu_count()} cores)")
    print(f"{'paper':>6} {'QR':>7} {'build ms':>9} {'bytes':>7} {'QR+caption':>12} {'simulate+PNG ms':>16}")
    for width in (58, 80):
        for native in (True, False):
            data = build(width, native)
            build_ms = median_ms(lambda: build(width, native), args.runs)

            def simulate() -> None:
                simulator = PrinterSimulator(width)
                simulator.feed(data)
                simulator.render()

            simulate_ms = median_ms(simulate, max(5, args.runs // 5))
            qr_bytes = _qr_size(width, native)
            print(f"{width:>4}mm {'native' if native else 'raster':>7} {build_ms:>9.2f} {len(data):>7} "
                  f"{qr_bytes:>12} {simulate_ms:>16.1f}")
    simulator = PrinterSimulator(80)
    with PtyPrinterServer(simulator) as server:
        printer = create_printer(transport="serial", serial_port=server.port, timeout_seconds=1)
        with printer:
            status_ms = median_ms(printer.refresh_status, args.runs)
    print(f"DLE EOT 1-4 status round trip over a pty (driver + simulator thread): {status_ms:.2f} ms median")
    return 0


def _qr_size(width: int, native: bool) -> int:
    """Bytes of the QR (with its caption): the receipt minus the same receipt without it."""
    from kiosk.receipts.layout import Qr, Receipt

    receipt = acceptance_receipt(samples.sample_acceptance())
    without = Receipt(receipt.kind, tuple(e for e in receipt.elements if not isinstance(e, Qr)))
    target = Target(width, "gb18030", native)
    return len(compile_receipt(receipt, target).data) - len(compile_receipt(without, target).data)


if __name__ == "__main__":
    sys.exit(main())
