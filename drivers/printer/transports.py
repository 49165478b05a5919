"""Byte pipes to a printer, on python-escpos' transports: USB, serial, network (9100), file.

The driver needs two things python-escpos does not give uniformly: a read with a timeout,
and to know whether the pipe can read at all. ``Link`` adds both. python-escpos opens,
writes and closes; the read path is ours per transport (serial ``read``, socket ``recv``,
USB ``read`` on the IN endpoint). A file (or ``/dev/usb/lp0`` opened write-only) cannot
read back, so its status is "unknown".

``SimulatorLink`` connects the driver to an in-process ``PrinterSimulator``: a python-escpos
printer class whose ``_raw`` feeds the simulator and whose ``_read`` returns the simulator's
answers (python-escpos' own ``Dummy._read`` just echoes the last byte written).
"""
from __future__ import annotations

import logging
import select
import socket
import time
from typing import Any

from drivers.base import ConnectionLost, NoDeviceError, UnsupportedError
from drivers.printer.profiles import prepare_escpos_import

log = logging.getLogger(__name__)

TRANSPORTS = ("usb", "serial", "network", "file")


def _escpos_printer_module():
    prepare_escpos_import()
    import escpos.printer

    return escpos.printer


def _escpos_escpos_class():
    prepare_escpos_import()
    from escpos.escpos import Escpos

    return Escpos


class Link:
    """One connection to a printer. Subclasses wrap one python-escpos printer object."""

    can_read = True
    kind = "link"

    def __init__(self) -> None:
        self.printer: Any = None

    @property
    def description(self) -> str:
        return self.kind

    def open(self) -> None:
        from escpos.exceptions import DeviceNotFoundError

        self.printer = self._make()
        try:
            self.printer.open(raise_not_found=True)
        except DeviceNotFoundError as exc:
            self.printer = None
            raise NoDeviceError(f"no printer at {self.description}: {str(exc).splitlines()[-1][:120]}") from None
        except (OSError, RuntimeError, ValueError) as exc:
            self.printer = None
            raise NoDeviceError(f"no printer at {self.description}: {exc}") from None

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception:  # a pipe that is already gone cannot be closed more
                log.debug("closing %s failed", self.description, exc_info=True)

    def write(self, data: bytes) -> None:
        if self.printer is None:
            raise ConnectionLost(f"{self.description} is not open")
        try:
            self.printer._raw(data)
        except Exception as exc:  # serial, socket and usb each raise their own kind
            raise ConnectionLost(f"writing to {self.description} failed: {exc}", raw=data[:32]) from None

    def read(self, count: int, timeout: float) -> bytes:
        """Up to ``count`` bytes, waiting at most ``timeout`` seconds for the first ones."""
        raise UnsupportedError(f"{self.description} cannot read from the printer")

    def discard_input(self) -> bytes:
        """Drop answers nobody waited for (late replies), so the next read is fresh."""
        if not self.can_read:
            return b""
        stale = bytearray()
        while True:
            chunk = self.read(64, 0.0)
            if not chunk:
                return bytes(stale)
            stale += chunk

    def _make(self) -> Any:
        raise NotImplementedError


class UsbLink(Link):
    kind = "usb"

    def __init__(self, vendor_id: int, product_id: int, in_ep: int = 0x82, out_ep: int = 0x01,
                 timeout: float = 2.0) -> None:
        super().__init__()
        self.vendor_id, self.product_id = vendor_id, product_id
        self.in_ep, self.out_ep, self.timeout = in_ep, out_ep, timeout

    @property
    def description(self) -> str:
        return f"usb {self.vendor_id:04x}:{self.product_id:04x}"

    def _make(self) -> Any:
        return _escpos_printer_module().Usb(self.vendor_id, self.product_id, timeout=int(self.timeout * 1000),
                                           in_ep=self.in_ep, out_ep=self.out_ep)

    def read(self, count: int, timeout: float) -> bytes:
        import usb.core

        if self.printer is None:
            raise ConnectionLost(f"{self.description} is not open")
        try:
            return bytes(self.printer.device.read(self.in_ep, max(count, 64), max(1, int(timeout * 1000))))[:count]
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            raise ConnectionLost(f"reading from {self.description} failed: {exc}") from None


class SerialLink(Link):
    kind = "serial"

    def __init__(self, port: str, baudrate: int = 9600, timeout: float = 2.0) -> None:
        super().__init__()
        self.port, self.baudrate, self.timeout = port, baudrate, timeout

    @property
    def description(self) -> str:
        return f"serial {self.port} @ {self.baudrate}"

    def _make(self) -> Any:
        # dsrdtr=False: most receipt printers' cables and every pty have no DSR line to wait for
        return _escpos_printer_module().Serial(devfile=self.port, baudrate=self.baudrate, timeout=self.timeout,
                                               dsrdtr=False)

    def read(self, count: int, timeout: float) -> bytes:
        import serial

        if self.printer is None:
            raise ConnectionLost(f"{self.description} is not open")
        port = self.printer.device
        try:
            if port.timeout != timeout:
                port.timeout = timeout
            return bytes(port.read(count))
        except (serial.SerialException, OSError) as exc:
            raise ConnectionLost(f"reading from {self.description} failed: {exc}") from None


class NetworkLink(Link):
    kind = "network"

    def __init__(self, host: str, port: int = 9100, timeout: float = 5.0) -> None:
        super().__init__()
        self.host, self.port, self.timeout = host, port, timeout

    @property
    def description(self) -> str:
        return f"tcp {self.host}:{self.port}"

    def _make(self) -> Any:
        return _escpos_printer_module().Network(host=self.host, port=self.port, timeout=self.timeout)

    def read(self, count: int, timeout: float) -> bytes:
        if self.printer is None:
            raise ConnectionLost(f"{self.description} is not open")
        sock: socket.socket = self.printer.device
        try:
            ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
            if not ready:
                return b""
            data = sock.recv(count)
        except OSError as exc:
            raise ConnectionLost(f"reading from {self.description} failed: {exc}") from None
        if not data:
            raise ConnectionLost(f"{self.description} closed the connection")
        return data


class FileLink(Link):
    """A file or a write-only device node: bytes go out, nothing comes back."""

    kind = "file"
    can_read = False

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    @property
    def description(self) -> str:
        return f"file {self.path}"

    def _make(self) -> Any:
        return _escpos_printer_module().File(devfile=self.path, auto_flush=True)


class SimulatorLink(Link):
    """The in-process simulator behind a python-escpos printer object with a real read path."""

    kind = "simulator"

    def __init__(self, simulator: Any) -> None:
        super().__init__()
        self.simulator = simulator

    @property
    def description(self) -> str:
        return "simulator (in process)"

    def _make(self) -> Any:
        simulator = self.simulator

        class _SimulatedPrinter(_escpos_escpos_class()):
            def open(self, raise_not_found: bool = True) -> None:
                if not simulator.connected:
                    raise OSError("simulated printer unplugged")
                self.device = simulator

            def close(self) -> None:
                self._device = False

            def _raw(self, msg: bytes) -> None:
                if not simulator.connected:
                    raise OSError("simulated printer unplugged")
                simulator.feed(msg)

            def _read(self) -> bytes:
                return simulator.take_output(16)

        return _SimulatedPrinter()

    def read(self, count: int, timeout: float) -> bytes:
        if self.printer is None:
            raise ConnectionLost(f"{self.description} is not open")
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if not self.simulator.connected:
                raise ConnectionLost(f"{self.description}: simulated printer unplugged")
            data = self.simulator.take_output(count)
            if data or time.monotonic() >= deadline:
                return data
            time.sleep(0.005)


def make_link(transport: str, **params: Any) -> Link:
    """A ``Link`` for ``transport`` (usb, serial, network, file) from its parameters."""
    if transport == "usb":
        return UsbLink(params["vendor_id"], params["product_id"], params.get("in_ep", 0x82),
                       params.get("out_ep", 0x01), params.get("timeout", 2.0))
    if transport == "serial":
        return SerialLink(params["port"], params.get("baudrate", 9600), params.get("timeout", 2.0))
    if transport == "network":
        return NetworkLink(params["host"], params.get("port", 9100), params.get("timeout", 5.0))
    if transport == "file":
        return FileLink(params["path"])
    raise UnsupportedError(f"unknown printer transport {transport!r}; use one of {', '.join(TRANSPORTS)}")
