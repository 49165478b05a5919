"""The printer simulator: consumes ESC/POS, renders the paper to PNG, answers status, takes faults.

``PrinterSimulator`` works on bytes directly; ``server`` puts it behind a pty or a TCP
port (9100 on 127.0.0.1) so the real driver talks to it through a real transport.
"""
from drivers.printer.simulator.printer import PrinterSimulator

__all__ = ["PrinterSimulator"]
