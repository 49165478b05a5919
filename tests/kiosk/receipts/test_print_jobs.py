"""The print queue keeps every receipt until it has printed in full, whatever the printer does."""
from __future__ import annotations

import threading

import zxingcpp

from drivers.base import State
from drivers.printer import create_printer, simulated_printer
from drivers.printer.simulator.server import PtyPrinterServer
from drivers.printer.simulator import PrinterSimulator
from kiosk.i18n import load_strings
from kiosk.receipts import samples
from kiosk.receipts.jobs import MESSAGE_KEYS, JobState, PrintQueue
from kiosk.receipts.layout import Target
from kiosk.receipts.printing import build_slip


def _acceptance(width: int = 58):
    return build_slip("acceptance", Target(width))


def test_paper_out_mid_job_keeps_the_job_and_reprints_it_in_full_after_paper_is_back():
    simulator = PrinterSimulator(58)
    server = PtyPrinterServer(simulator).start()
    printer = create_printer(transport="serial", serial_port=server.port, paper_width=58, timeout_seconds=0.5,
                             job_timeout_seconds=10)
    changes = []
    queue = PrintQueue(printer, on_change=lambda job: changes.append((job.state, job.message_key)))
    try:
        printer.open()
        slip = _acceptance()
        simulator.run_out_after(500)  # the roll ends part-way down the receipt
        job = queue.submit("acceptance", slip.data)

        # the resident is told, nothing is lost
        assert job.state is JobState.WAITING and job.interrupted
        assert job.message_key == "receipt.paper_out"
        assert queue.pending() == [job] and job.data == slip.data
        half = simulator.text_lines
        assert 0 < len(half) < len(slip.lines)  # a torn-off half receipt came out

        # the technician sees the fault
        assert printer.status.state is State.USER_ERROR and printer.status.detail["paper"] == "out"
        assert "paper out" in printer.check_health().text()
        assert "1 receipt(s) waiting (paper_out)" in queue.summary()

        # retrying while the paper is still out changes nothing
        assert queue.retry() == [] and job.state is JobState.WAITING

        simulator.load_paper()
        first_line = len(simulator.text_lines)
        assert queue.retry() == [job]
        assert job.state is JobState.PRINTED and job.message_key == "receipt.reprinted"
        assert simulator.text_lines[first_line:] == list(slip.lines)  # the whole receipt, from the top
        assert queue.pending() == [] and queue.summary() == "print queue empty"
        # and the reprint's QR scans (the torn-off half may have lost its QR code)
        decoded = [r.text for r in zxingcpp.read_barcodes(simulator.render())]
        assert samples.FOLLOW_URL in decoded
        assert (JobState.WAITING, "receipt.paper_out") in changes
    finally:
        printer.close()
        server.stop()


def test_jobs_keep_their_order_behind_a_waiting_one():
    printer = simulated_printer(paper_width=58)
    simulator = printer.link.simulator
    queue = PrintQueue(printer)
    simulator.set_paper("out")
    first = queue.submit("acceptance", _acceptance().data)
    second = queue.submit("pickup", build_slip("pickup", Target(58)).data)
    assert first.state is JobState.WAITING and not first.interrupted
    assert second.state is JobState.WAITING and second.message_key == "receipt.paper_out"
    assert second.attempts == 0
    assert simulator.text_lines == []
    simulator.load_paper()
    assert queue.retry() == [first, second]
    assert simulator.text_lines[0].strip() == "受理回执"
    assert "取件凭证" in [line.strip() for line in simulator.text_lines]
    printer.close()


def test_printer_back_online_retries_by_itself():
    printer = simulated_printer()
    simulator = printer.link.simulator
    queue = PrintQueue(printer)
    printer.subscribe(queue.on_printer_status)
    simulator.set_cover(True)
    job = queue.submit("test", build_slip("test", Target(80)).data)
    assert job.message_key == "receipt.cover_open"
    done = threading.Event()
    queue.subscribe(lambda changed: done.set() if changed.state is JobState.PRINTED else None)
    simulator.set_cover(False)
    printer.refresh_status()  # the device manager's periodic poll
    assert done.wait(5)
    assert job.state is JobState.PRINTED
    printer.close()


def test_unreachable_printer_keeps_the_job(tmp_path):
    printer = create_printer(transport="serial", serial_port=str(tmp_path / "nothing"))
    queue = PrintQueue(printer)
    job = queue.submit("acceptance", _acceptance().data)
    assert job.state is JobState.WAITING and job.message_key == "receipt.printer_unavailable"
    assert job.error_code == "DEV-002"


def test_printer_that_cannot_confirm_ends_as_sent(tmp_path):
    printer = create_printer(transport="file", file_path=str(tmp_path / "lp0"))
    queue = PrintQueue(printer)
    job = queue.submit("acceptance", _acceptance().data)
    assert job.state is JobState.SENT and job.message_key == "receipt.sent"
    printer.close()


def test_every_message_key_has_both_languages():
    strings = load_strings()
    for key in MESSAGE_KEYS.values():
        assert set(strings[key]) == {"zh", "en"}, key
