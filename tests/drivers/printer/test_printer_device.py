"""ReceiptPrinter through real transports (pty, TCP 9100 on loopback, file) against the simulator."""
from __future__ import annotations

import os

import pytest

from drivers.base import (DeviceTimeout, HardwareError, HealthLevel, NoDeviceError, ProtocolError, State,
                          UnsupportedError)
from drivers.printer import (CoverOpenError, PaperOutError, PrinterOfflineError, ReceiptPrinter, create_printer,
                             simulated_printer)
from drivers.printer import commands as c
from drivers.printer.simulator import PrinterSimulator
from drivers.printer.simulator.server import PtyPrinterServer, TcpPrinterServer
from drivers.printer.transports import Link

JOB = c.initialize() + c.encode_text("受理回执：测试") + b"\n" + c.feed_lines(3) + c.cut()


@pytest.fixture
def pty_printer():
    simulator = PrinterSimulator(58)
    server = PtyPrinterServer(simulator).start()
    printer = create_printer(transport="serial", serial_port=server.port, paper_width=58, timeout_seconds=0.5,
                             job_timeout_seconds=5)
    yield printer, simulator
    printer.close()
    server.stop()


def test_prints_over_a_serial_pty_and_confirms_the_job(pty_printer):
    printer, simulator = pty_printer
    events = []
    printer.subscribe(events.append)
    printer.open()
    assert printer.status.state is State.ONLINE
    assert printer.status.detail["paper"] == "ok" and printer.status.detail["status_readable"] is True
    result = printer.print_job(JOB)
    assert result.confirmed and result.bytes_sent == len(JOB)
    assert simulator.text_lines[0] == "受理回执：测试" and simulator.cuts == 1
    assert State.BUSY in [event.current.state for event in events]
    assert printer.counters["jobs_printed"] == 1


def test_prints_over_tcp_9100_on_loopback():
    simulator = PrinterSimulator(80)
    with TcpPrinterServer(simulator, port=0) as server:
        printer = create_printer(transport="network", network_host="127.0.0.1", network_port=server.port,
                                 timeout_seconds=1)
        with printer:
            assert printer.print_job(JOB).confirmed
    assert simulator.text_lines[0] == "受理回执：测试"


def test_paper_out_before_a_job_refuses_it_and_sends_nothing(pty_printer):
    printer, simulator = pty_printer
    printer.open()
    simulator.set_paper("out")
    received = simulator.bytes_received
    with pytest.raises(PaperOutError) as caught:
        printer.print_job(JOB)
    assert not caught.value.during_job and caught.value.code == "DEV-007"
    assert caught.value.raw  # the status bytes travel with the error
    assert simulator.bytes_received - received == 12  # only the four DLE EOT requests
    assert printer.status.state is State.USER_ERROR and printer.status.detail["paper"] == "out"


def test_paper_out_half_way_is_noticed_during_the_job(pty_printer):
    printer, simulator = pty_printer
    printer.open()
    simulator.run_out_after(40)
    long_job = c.initialize() + b"".join(f"line {n}\n".encode() for n in range(30)) + c.cut()
    with pytest.raises(PaperOutError) as caught:
        printer.print_job(long_job)
    assert caught.value.during_job
    assert printer.status.detail["paper"] == "out"
    report = printer.check_health(HealthLevel.INTERNAL)
    assert not report.ok and "paper out" in report.text()
    simulator.load_paper()
    assert printer.print_job(long_job).confirmed
    assert simulator.text_lines[-30:] == [f"line {n}" for n in range(30)]


@pytest.mark.parametrize("fault, error", [("cover", CoverOpenError), ("offline", PrinterOfflineError)])
def test_cover_open_and_offline_refuse_the_job(fault, error):
    with simulated_printer() as printer:
        simulator = printer.link.simulator
        if fault == "cover":
            simulator.set_cover(True)
        else:
            simulator.set_online(False)
        with pytest.raises(error):
            printer.print_job(JOB)
        assert simulator.text_lines == []


def test_cutter_fault_is_a_hardware_error():
    with simulated_printer() as printer:
        printer.link.simulator.set_cutter_error(True)
        with pytest.raises(HardwareError):
            printer.print_job(JOB)
        assert printer.status.state is State.HARDWARE_ERROR


def test_near_end_prints_and_tells_the_technician():
    with simulated_printer() as printer:
        printer.link.simulator.set_paper("near_end")
        result = printer.print_job(JOB)
        assert result.confirmed and result.paper.value == "near_end"
        assert printer.status.state is State.ONLINE and printer.status.detail["paper"] == "near_end"
        assert "change the paper roll soon" in printer.check_health().summary


def test_file_transport_reports_unknown_never_ok(tmp_path):
    target = tmp_path / "lp0"
    with create_printer(transport="file", file_path=str(target)) as printer:
        assert printer.status.detail["paper"] == "unknown" and printer.status.detail["status_readable"] is False
        result = printer.print_job(JOB)
        assert result.confirmed is False and result.paper.value == "unknown"
        report = printer.check_health()
        assert not report.ok and "unknown" in report.summary
    assert target.read_bytes() == JOB


def test_a_printer_that_does_not_answer_times_out_on_open():
    simulator = PrinterSimulator(80)
    server = PtyPrinterServer(simulator)  # not started: nobody answers
    try:
        printer = create_printer(transport="serial", serial_port=server.port, timeout_seconds=0.2)
        with pytest.raises(DeviceTimeout):
            printer.open()
        assert printer.status.state is State.OFFLINE and not printer.is_open
    finally:
        server.stop()


def test_missing_port_is_no_device():
    printer = create_printer(transport="serial", serial_port="/dev/nonexistent-printer")
    with pytest.raises(NoDeviceError):
        printer.open()
    assert printer.status.state is State.NO_DEVICE


class EchoLink(Link):
    """Like python-escpos' Dummy: reads back the last byte written."""

    kind = "echo"

    def __init__(self):
        super().__init__()
        self.last = b""

    def open(self):
        self.printer = object()

    def write(self, data):
        self.last = data[-1:]

    def read(self, count, timeout):
        data, self.last = self.last, b""
        return data


def test_an_echo_is_not_taken_for_a_paper_ok_status():
    printer = ReceiptPrinter(EchoLink(), status_timeout=0.1)
    with pytest.raises((ProtocolError, DeviceTimeout)):
        printer.open()
    assert printer.status.state is not State.ONLINE


def test_unplugged_simulator_loses_the_connection():
    with simulated_printer() as printer:
        printer.link.simulator.unplug()
        with pytest.raises(Exception) as caught:
            printer.print_job(JOB)
        assert caught.value.code in ("DEV-010", "DEV-003")


def test_profile_decides_qr_and_cut_commands():
    native = simulated_printer(profile="TM-T20II")
    assert native.native_qr and native.qr_bytes(b"x", 4).startswith(b"\x1d(k")
    assert native.cut_bytes() == b"\x1dVB\x00"
    no_qr = simulated_printer(profile="ZJ-5870", paper_width=58)
    assert not no_qr.native_qr and no_qr.qr_bytes(b"x", 4).startswith(b"\x1dv0")
    assert no_qr.cut_bytes() == c.feed_lines(5)  # no cutter: feed past the tear bar
    forced = simulated_printer(profile="ZJ-5870", qr="native")
    assert forced.native_qr
    with pytest.raises(UnsupportedError):
        simulated_printer(profile="no-such-printer")
    with pytest.raises(UnsupportedError):
        create_printer(transport="usb")


def test_external_health_check_prints_a_slip():
    with simulated_printer() as printer:
        report = printer.check_health(HealthLevel.EXTERNAL)
        assert report.ok and ("test slip", True, "printed and confirmed") in report.checks
        assert "打印机自检 PRINTER SELF-TEST" in printer.link.simulator.text_lines


def test_usb_transport_without_a_device_is_no_device():
    if not os.path.exists("/dev/bus/usb"):
        printer = create_printer(transport="usb", usb_vendor_id=0x0416, usb_product_id=0x5011)
        with pytest.raises(NoDeviceError):
            printer.open()
    else:  # a machine with USB: just check the link is built with the ids
        printer = create_printer(transport="usb", usb_vendor_id=0x0416, usb_product_id=0x5011)
        assert printer.link.description == "usb 0416:5011"
