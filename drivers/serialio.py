"""Serial ports for drivers, and pseudo-terminal ports for the simulators that stand in for devices.

``SerialLink`` wraps a pyserial port for a driver: it opens the port exclusively, maps every
OS / pyserial failure onto the device error hierarchy (a missing port is ``NoDeviceError``, a
port that disappears mid-use is ``ConnectionLost``), and offers ``read_some`` (whatever has
arrived, waiting at most a given time) which is what frame decoders want.

``PtyPort`` is the device side of a pseudo-terminal pair for a simulator: the simulator reads
and writes the master, and the application opens ``port.name`` (or the stable symlink
``port.link``) with pyserial exactly as it would open ``/dev/ttyUSB0``. ``write_paced`` sends
bytes at the speed of a real wire (10 bits a byte for 8N1), ``app_baud`` reads the speed the
application configured on its end, and ``vanish``/``restore`` make the port disappear and come
back the way an unplugged USB adapter does.
"""
from __future__ import annotations

import errno
import logging
import os
import pty
import select
import termios
import threading
import time
import tty
from pathlib import Path

import serial

from drivers.base import BusyError, ConnectionLost, NoDeviceError

log = logging.getLogger(__name__)

#: 8N1: a start bit, eight data bits, a stop bit.
BITS_PER_BYTE = 10

_MISSING_ERRNOS = {errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.ENOTDIR}
_BUSY_ERRNOS = {errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK}


def wire_seconds(byte_count: int, baud: int) -> float:
    """How long ``byte_count`` bytes take on an 8N1 line at ``baud``."""
    return byte_count * BITS_PER_BYTE / float(baud)


class SerialLink:
    """A driver's serial port: open, write, read what has arrived; errors as DeviceErrors."""

    #: pyserial's per-call wait; read_some loops on it until its own deadline.
    POLL = 0.05

    def __init__(self, port: str, baud: int, *, exclusive: bool = True):
        self.port = port
        self.baud = int(baud)
        self.exclusive = exclusive
        self._serial: serial.Serial | None = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._serial.is_open

    def open(self) -> None:
        if self.is_open:
            return
        if not self.port:
            raise NoDeviceError("no port configured")
        try:
            self._serial = serial.Serial(self.port, self.baud, bytesize=8, parity="N", stopbits=1,
                                         timeout=self.POLL, write_timeout=2.0, exclusive=self.exclusive)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise self._open_error(exc) from None

    def _open_error(self, exc: Exception):
        number = getattr(exc, "errno", None)
        text = str(exc)
        if number in _MISSING_ERRNOS or "No such file" in text:
            return NoDeviceError(f"port {self.port} does not exist (unplugged, or a wrong port name?)")
        if number == errno.EACCES:
            return NoDeviceError(f"no permission to open {self.port} (add the kiosk user to the dialout group)")
        if number in _BUSY_ERRNOS or "exclusively lock" in text:
            return BusyError(f"port {self.port} is in use by another program (is the kiosk running?)")
        return ConnectionLost(f"cannot open {self.port}: {text}")

    def close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass

    def _require(self) -> serial.Serial:
        if self._serial is None:
            raise ConnectionLost(f"port {self.port} is not open")
        return self._serial

    def set_baud(self, baud: int) -> None:
        ser = self._require()
        try:
            ser.baudrate = int(baud)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ConnectionLost(f"cannot set {baud} baud on {self.port}: {exc}") from None
        self.baud = int(baud)

    def write(self, data: bytes) -> None:
        ser = self._require()
        try:
            ser.write(data)
        except (serial.SerialException, OSError) as exc:
            raise ConnectionLost(f"writing to {self.port} failed: {exc}", raw=data) from None

    def discard_input(self) -> bytes:
        """Drop (and return) whatever is waiting: stale bytes must not be taken for a reply."""
        ser = self._require()
        try:
            waiting = ser.in_waiting
            return ser.read(waiting) if waiting else b""
        except (serial.SerialException, OSError) as exc:
            raise ConnectionLost(f"reading from {self.port} failed: {exc}") from None

    def read_some(self, max_wait: float) -> bytes:
        """Bytes that arrive within ``max_wait`` seconds: returns as soon as any are there."""
        ser = self._require()
        deadline = time.monotonic() + max(0.0, max_wait)
        try:
            while True:
                first = ser.read(1)
                if first:
                    waiting = ser.in_waiting
                    return first + (ser.read(waiting) if waiting else b"")
                if time.monotonic() >= deadline:
                    return b""
        except (serial.SerialException, OSError, TypeError) as exc:
            # TypeError: pyserial's select() on a file descriptor closed under it
            raise ConnectionLost(f"reading from {self.port} failed: {exc}") from None


# ---------------------------------------------------------------------------------------
# The simulator side


class PortGone(Exception):
    """The simulated port has been unplugged."""


def _speed_table() -> dict[int, int]:
    table = {}
    for rate in (50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
                 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000):
        constant = getattr(termios, f"B{rate}", None)
        if constant is not None:
            table[constant] = rate
    return table


_SPEEDS = _speed_table()


class PtyPort:
    """The device end of a pseudo-terminal; the application opens ``link`` (or ``name``)."""

    def __init__(self, link: str | Path | None = None):
        self.link = Path(link) if link else None
        # guards the descriptors; ``_busy`` counts reads and writes using the master right now, so
        # that ``vanish`` closes it only when none is: a number closed under a running select()
        # could be reused at once by another open (a control socket) and read from by mistake
        self._lock = threading.Condition()
        self._busy = 0
        self._master: int | None = None
        self._slave: int | None = None
        self.name = ""
        self._create()

    @property
    def path(self) -> str:
        """What the application should open: the stable symlink when there is one."""
        return str(self.link) if self.link else self.name

    @property
    def present(self) -> bool:
        return self._master is not None

    def _create(self) -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no line editing: a byte pipe like a real UART
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.name = os.ttyname(slave)
        if self.link:
            self.link.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = self.link.with_name(self.link.name + ".new")
            try:
                temporary.unlink()
            except FileNotFoundError:
                pass
            os.symlink(self.name, temporary)
            os.replace(temporary, self.link)

    def vanish(self) -> None:
        """Unplug: the device node goes away and the application's open port hangs up."""
        with self._lock:
            master, slave = self._master, self._slave
            self._master = self._slave = None
            if self.link:
                try:
                    self.link.unlink()
                except FileNotFoundError:
                    pass
            self._lock.wait_for(lambda: self._busy == 0, timeout=2.0)
            for fd in (master, slave):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass

    def _use(self) -> int | None:
        """The master, counted as in use until ``_done`` (None when unplugged)."""
        with self._lock:
            if self._master is not None:
                self._busy += 1
            return self._master

    def _done(self) -> None:
        with self._lock:
            self._busy -= 1
            if not self._busy:
                self._lock.notify_all()

    def restore(self) -> None:
        """Plug back in: a new pseudo-terminal behind the same link."""
        with self._lock:
            if self._master is not None:
                return
            self._create()

    def close(self) -> None:
        self.vanish()

    def fileno(self) -> int:
        if self._master is None:
            raise PortGone(self.path)
        return self._master

    def read(self, timeout: float) -> bytes:
        """Bytes the application sent, waiting at most ``timeout``; b"" when none came."""
        master = self._use()
        if master is None:
            time.sleep(timeout)
            raise PortGone(self.path)
        try:
            try:
                ready, _, _ = select.select([master], [], [], timeout)
            except (OSError, ValueError):
                raise PortGone(self.path) from None
            if not ready:
                return b""
            try:
                return os.read(master, 65536)
            except BlockingIOError:
                return b""
            except OSError as exc:
                if exc.errno == errno.EIO:  # nobody holds the slave: nothing to read
                    time.sleep(min(timeout, 0.05))
                    return b""
                raise PortGone(self.path) from None
        finally:
            self._done()

    def write(self, data: bytes) -> int:
        """Write now; bytes the line cannot take within a moment are lost, as on a real wire."""
        written = 0
        view = memoryview(bytes(data))
        deadline = time.monotonic() + 0.5
        while written < len(view):
            master = self._use()
            if master is None:
                raise PortGone(self.path)
            try:
                written += os.write(master, view[written:])
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                select.select([], [master], [], 0.05)
            except OSError:
                raise PortGone(self.path) from None
            finally:
                self._done()
        return written

    def write_paced(self, data: bytes, baud: int, chunk: int = 64,
                    cancelled: threading.Event | None = None) -> None:
        """Write at the line's real speed (8N1 at ``baud``), so timing matches a real device."""
        start = time.monotonic()
        sent = 0
        data = bytes(data)
        while sent < len(data):
            if cancelled is not None and cancelled.is_set():
                return
            piece = data[sent:sent + chunk]
            self.write(piece)
            sent += len(piece)
            due = start + wire_seconds(sent, baud)
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    def app_baud(self) -> int | None:
        """The speed the application set on its end of the line (None if unknown)."""
        slave = self._slave
        if slave is None:
            return None
        try:
            attrs = termios.tcgetattr(slave)
        except (termios.error, OSError):
            return None
        return _SPEEDS.get(attrs[5])
