"""Typed kiosk settings, loaded from one TOML file and validated at start-up.

Every section is a frozen dataclass; field metadata says what a value must be
(``help``), and its bounds or choices. ``load_settings`` turns any problem — bad TOML
syntax, a missing key, a wrong type, an unknown key, a value out of range — into one
``ConfigError`` whose message names the file, the line, the key and what is expected,
so that a technician can fix the file without reading a traceback.

Numbers must be finite (no ``nan`` or ``inf``: a NaN timeout never times out) and within
the field's bounds, or within ±2**53 where a field gives none. A file larger than
``MAX_CONFIG_BYTES`` or nested deeper than TOML parsing can follow is refused with the same
one-line message; lines are looked up only for the message, so a large file is quick.

``check_secret_permissions`` refuses a configuration that holds a secret (an inline
``terminal_key``, or a ``terminal_key_file``) readable by other users.

Later sections (devices, backend, …) are added by declaring a dataclass and a field on
``Settings``; the validator is generic over the dataclasses.
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import stat
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_CONFIG_PATH = Path("/etc/kiosk/kiosk.toml")
#: a kiosk.toml is a few kilobytes; anything this large is not one
MAX_CONFIG_BYTES = 1024 * 1024
#: the largest whole number a field without its own bounds takes
MAX_PLAIN_NUMBER = 2 ** 53
DEMO_CONFIG_PATH = Path(__file__).resolve().parent.parent / "assets" / "demo.toml"


class ConfigError(Exception):
    """A configuration file that cannot be used, with a message meant for a technician."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, key: str | None = None):
        self.path = str(path)
        self.line = line
        self.key = key
        self.detail = message
        where = f"{self.path}"
        if line is not None:
            where += f", line {line}"
        if key:
            where += f", key {key}"
        super().__init__(f"{where}: {message}")


def _spec(default: Any = dataclasses.MISSING, *, help: str, min: float | None = None,
          max: float | None = None, pattern: str | None = None, default_factory: Any = None) -> Any:
    meta = {"help": help, "min": min, "max": max, "pattern": pattern}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class TerminalSettings:
    id: str = _spec(help="the terminal's id, e.g. \"HK-LH-001\" (letters, digits and dashes)",
                    pattern=r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
    name: str = _spec(help="the terminal's display name, e.g. \"六合街道便民服务中心 1号机\"")
    service_phone: str = _spec("", help="the service hotline shown to residents, e.g. \"0546-12345\"")
    opening_hours: str = _spec("", help="opening hours shown on the help screen, e.g. \"周一至周五 8:30-17:30\"")


@dataclass(frozen=True)
class DisplaySettings:
    width: int = _spec(1080, help="window width in pixels (the screen's width on a kiosk)", min=320, max=7680)
    height: int = _spec(1920, help="window height in pixels (the screen's height on a kiosk)", min=240, max=7680)
    fullscreen: bool = _spec(True, help="true for a borderless window at 0,0 covering the screen")
    hide_cursor: bool = _spec(True, help="true to hide the mouse pointer (touch screens)")
    language: Literal["zh", "en"] = _spec("zh", help="the language shown after each session: \"zh\" or \"en\"")
    elderly_mode: bool = _spec(False, help="true to start in 长辈模式 (larger type and buttons)")
    multisamples: int = _spec(0, help="MSAA samples of the window (0 = off). Each sample costs a screen-sized "
                                      "buffer: 2 cost 80 MiB at 1080x1920 with Mesa's software renderer",
                              min=0, max=8)


@dataclass(frozen=True)
class SessionSettings:
    idle_seconds: int = _spec(90, help="seconds without a touch before the countdown appears", min=10, max=3600)
    countdown_seconds: int = _spec(15, help="seconds the countdown runs before the session ends", min=3, max=300)
    scratch_dir: str = _spec("", help="folder for a session's temporary files (images); empty for the system "
                                      "default. Use a tmpfs such as /run/kiosk on a kiosk")


@dataclass(frozen=True)
class LoggingSettings:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _spec("INFO", help="one of DEBUG, INFO, WARNING, ERROR")
    format: Literal["json", "text"] = _spec("json", help="\"json\" (one object a line, for journald) or \"text\"")


@dataclass(frozen=True)
class BackendSettings:
    url: str = _spec("", help="base URL of the acceptance system, e.g. \"https://zwfw.example.gov.cn/kiosk\"; "
                              "empty when the kiosk has none configured",
                     pattern=r"(https?://[^\s]+)?")
    embedded: bool = _spec(False, help="true to start the reference backend inside the kiosk process on a random "
                                       "loopback port and use it instead of url (the demo)")
    embedded_db: str = _spec("", help="SQLite file for the embedded backend; empty keeps it in memory")
    terminal_key_file: str = _spec("", help="file holding this terminal's signing key (base64, mode 0600), e.g. "
                                            "\"/etc/kiosk/terminal.key\"")
    terminal_key: str = _spec("", help="the signing key itself (base64); only for tests and demos, prefer "
                                       "terminal_key_file", pattern=r"([A-Za-z0-9+/=_-]{43,})?")
    tls_pin_sha256: str = _spec("", help="optional: the SHA-256 fingerprint (64 hex digits, colons allowed) of the "
                                         "backend's certificate; with it, any other certificate is refused even "
                                         "if a trusted CA signed it",
                                pattern=r"|([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}")
    ca_bundle: str = _spec("", help="PEM file of the CA(s) that signed the backend's certificate; empty for the "
                                    "system's CAs. TLS verification is always on")
    connect_timeout: float = _spec(3.05, help="seconds to wait for a connection", min=0.1, max=60)
    read_timeout: float = _spec(20.0, help="seconds to wait for an answer", min=0.2, max=600)
    retries: int = _spec(3, help="extra attempts for calls that are safe to repeat", min=0, max=10)
    outbox_path: str = _spec("", help="SQLite file of the outbox (submissions waiting to be sent); empty for "
                                      "<state dir>/outbox.sqlite3")
    outbox_key_file: str = _spec("", help="file with the key that encrypts personal data in the outbox (created "
                                          "when missing); empty for <state dir>/outbox.key")
    catalog_cache_path: str = _spec("", help="SQLite file of the cached service catalogue; empty for "
                                             "<state dir>/catalog.sqlite3")
    heartbeat_seconds: int = _spec(60, help="seconds between heartbeats to the backend", min=10, max=3600)
    catalog_sync_seconds: int = _spec(900, help="seconds between catalogue syncs", min=30, max=86400)


_FAULT_LIST = r"([a-z_]+(:[0-9.]+)?(\s*,\s*[a-z_]+(:[0-9.]+)?)*)?"
_PORT_HELP = ("the serial port, e.g. \"/dev/ttyUSB0\" or a stable \"/dev/serial/by-id/...\" name; with "
              "driver = \"simulator\": where the simulator's pseudo-terminal link is made (empty: automatic)")


@dataclass(frozen=True)
class IdCardDeviceSettings:
    driver: Literal["none", "ga467", "simulator"] = _spec(
        "none", help="\"ga467\" for a GA/T 467 serial reader, \"simulator\" for the simulated reader, "
                     "\"none\" when the terminal has no ID card reader")
    port: str = _spec("", help=_PORT_HELP)
    baud: int = _spec(115200, help="line speed of the reader: 115200 (the GA/T 467 default), 57600, 38400, "
                                   "19200 or 9600", min=9600, max=115200)
    timeout_seconds: float = _spec(1.0, help="seconds to wait for the reader's answer (wire time is added)",
                                   min=0.05, max=30)
    poll_seconds: float = _spec(0.3, help="seconds between looks for a card", min=0.05, max=10)
    read_fingerprint: bool = _spec(False, help="true to read the fingerprint template too (command 30 10)")
    simulator_card: str = _spec("", help="simulator: the card placed on the reader at start, e.g. \"resident\" "
                                         "(empty: none)", pattern=r"[A-Za-z0-9_-]{0,64}")
    simulator_deck: str = _spec("", help="simulator: a TOML file of extra [[card]] tables (empty: built-in deck)")
    simulator_faults: str = _spec("", help="simulator: faults at start, e.g. \"slow:1.5, read_failure\"",
                                  pattern=_FAULT_LIST)


@dataclass(frozen=True)
class ScannerDeviceSettings:
    driver: Literal["none", "serial", "hid", "simulator"] = _spec(
        "none", help="\"serial\" for a serial/USB-CDC scanner, \"hid\" for a keyboard-wedge scanner (evdev), "
                     "\"simulator\" for the simulated scanner, \"none\" for no scanner")
    port: str = _spec("", help=_PORT_HELP + "; for driver = \"hid\": the input device, e.g. "
                               "\"/dev/input/by-id/usb-...-event-kbd\"")
    baud: int = _spec(9600, help="line speed of a serial scanner", min=1200, max=921600)
    prefix: str = _spec("", help="text the scanner puts before each code (removed), e.g. \"]Q1\"")
    suffix: str = _spec("", help="text the scanner puts after each code before the line end (removed)")
    trigger: Literal["none", "honeywell", "newland"] = _spec(
        "none", help="\"none\" for scanners that scan by themselves; \"honeywell\" or \"newland\" for scanners "
                     "that scan on a serial trigger command")
    grab: bool = _spec(True, help="hid: grab the device so its keystrokes never reach the screen")
    simulator_faults: str = _spec("", help="simulator: faults at start, e.g. \"garbage\"", pattern=_FAULT_LIST)


@dataclass(frozen=True)
class LockerDeviceSettings:
    driver: Literal["none", "serial", "simulator"] = _spec(
        "none", help="\"serial\" for lock-control boards on a serial (RS-485) port, \"simulator\" for the "
                     "simulated cabinet, \"none\" when the terminal has no locker")
    board: Literal["kerong", "8a"] = _spec("kerong", help="the board protocol: \"kerong\" (Kerong CU) or \"8a\" "
                                                          "(the common 0x8A board)")
    port: str = _spec("", help=_PORT_HELP)
    baud: int = _spec(0, help="line speed; 0 for the board's default (kerong 19200, 8a 9600)", min=0, max=115200)
    address: int = _spec(-1, help="address of the first board as set on its switches (kerong 0-15, 8a 1-32); "
                                  "-1 for the board's first address", min=-1, max=32)
    doors: int = _spec(16, help="number of doors (they continue on the next board addresses)", min=1, max=512)
    timeout_seconds: float = _spec(0.5, help="seconds to wait for a board's answer", min=0.05, max=10)
    poll_seconds: float = _spec(0.5, help="seconds between door status queries", min=0.1, max=10)
    door_open_alert_seconds: float = _spec(60.0, help="seconds a door may stay open before staff are alerted",
                                           min=5, max=3600)
    latch_inverted: bool = _spec(False, help="true if the board reports the latch the other way round "
                                             "(latch bit 0 = locked)")
    simulator_items: str = _spec("", help="simulator: doors holding an item at start, e.g. \"1,2,5\"",
                                 pattern=r"(\d+(\s*,\s*\d+)*)?")
    simulator_pickup_seconds: float = _spec(3.0, help="simulator: seconds until the simulated resident takes "
                                                      "the item and shuts the door (0: never)", min=0, max=3600)
    simulator_faults: str = _spec("", help="simulator: faults at start, e.g. \"jammed:3\"", pattern=_FAULT_LIST)


@dataclass(frozen=True)
class CatalogSettings:
    file: str = _spec("", help="the service catalogue: a JSON array or JSON Lines file of items; empty for the "
                               "bundled demo catalogue assets/catalog/hekou_items.json")
    synonyms: str = _spec("", help="the everyday-words table (TOML); empty for the bundled "
                                   "assets/catalog/synonyms.toml")
    state_dir: str = _spec("", help="folder for data kept across restarts (how often each item was opened); "
                                    "empty for ~/.local/state/heyiban-kiosk. Use /var/lib/kiosk on a kiosk")
    cache_dir: str = _spec("", help="folder for rebuildable caches (the pinyin input lexicon, jieba's "
                                    "dictionary cache); empty for ~/.cache/heyiban-kiosk. Use /var/cache/kiosk "
                                    "on a kiosk")
    hot_items: int = _spec(12, help="how many popular items the search screen offers before anything is typed",
                           min=1, max=100)


@dataclass(frozen=True)
class PrinterSettings:
    driver: Literal["none", "escpos", "simulator"] = _spec(
        "none", help="\"escpos\" for a real printer, \"simulator\" for the built-in simulated printer, "
                     "\"none\" when the terminal has no printer")
    transport: Literal["usb", "serial", "network", "file"] = _spec(
        "usb", help="how an escpos printer is connected: \"usb\", \"serial\", \"network\" (raw port 9100) or "
                    "\"file\" (a device node such as /dev/usb/lp0: cannot report paper status)")
    usb_vendor_id: int = _spec(0, help="USB vendor id, e.g. 0x0416 (transport usb)", min=0, max=0xFFFF)
    usb_product_id: int = _spec(0, help="USB product id, e.g. 0x5011 (transport usb)", min=0, max=0xFFFF)
    usb_in_endpoint: int = _spec(0x82, help="USB IN endpoint for status answers, usually 0x81 or 0x82",
                                 min=0x81, max=0x8F)
    usb_out_endpoint: int = _spec(0x01, help="USB OUT endpoint for print data, usually 0x01 or 0x02",
                                  min=0x01, max=0x0F)
    serial_port: str = _spec("", help="serial port, e.g. \"/dev/ttyS1\" or \"/dev/ttyUSB0\" (transport serial)")
    serial_baudrate: int = _spec(9600, help="serial speed in baud, e.g. 9600, 19200, 115200", min=1200, max=921600)
    network_host: str = _spec("", help="printer IP address or host name (transport network)")
    network_port: int = _spec(9100, help="printer TCP port (transport network), usually 9100", min=1, max=65535)
    file_path: str = _spec("", help="device node or file the print data is written to (transport file)")
    paper_width: Literal[58, 80] = _spec(80, help="paper roll width in mm: 58 (32 columns) or 80 (48 columns)")
    encoding: Literal["gb18030", "gbk", "utf-8"] = _spec(
        "gb18030", help="how the printer reads Chinese: \"gb18030\", \"gbk\" or \"utf-8\"")
    profile: str = _spec("default", help="python-escpos printer profile, e.g. \"default\", \"TM-T20II\", "
                                         "\"ZJ-5870\", \"POS-5890\"", pattern=r"[A-Za-z0-9_.-]{1,40}")
    qr: Literal["auto", "native", "raster"] = _spec(
        "auto", help="QR codes: \"native\" (GS ( k), \"raster\" (an image, for printers without native QR) or "
                     "\"auto\" (from the profile)")
    timeout_seconds: float = _spec(2.0, help="seconds to wait for a status answer", min=0.1, max=60)
    job_timeout_seconds: float = _spec(30.0, help="seconds a receipt may take to print before it counts as failed",
                                       min=1, max=600)
    simulator_out: str = _spec("", help="folder where the simulated printer saves each receipt as PNG, with its "
                                        "text beside it (driver simulator); empty: keep in memory only")
    simulator_faults: str = _spec("", help="simulator: faults at start, e.g. \"paper_near_end\" or "
                                           "\"cover_open, slow:1.5\"", pattern=_FAULT_LIST)
    logo: str = _spec("", help="a PNG printed at the top of receipts; empty for the bundled 河易办 logo, "
                               "\"none\" for no logo")


@dataclass(frozen=True)
class CameraSettings:
    driver: Literal["opencv", "simulator", "none"] = _spec(
        "none", help="\"opencv\" for a real camera (V4L2), \"simulator\" for generated frames, \"none\" when the "
                       "kiosk has no document camera")
    device: str = _spec("0", help="camera index (\"0\"), device path (\"/dev/video0\", or a /dev/v4l/by-id/… link "
                                  "that survives replugging) or a video file/URL for testing",
                        pattern=r"\S(.*\S)?")
    width: int = _spec(1920, help="capture width in pixels (the camera's largest MJPG size is best)", min=160, max=8192)
    height: int = _spec(1080, help="capture height in pixels", min=120, max=8192)
    fourcc: str = _spec("MJPG", help="pixel format as four characters, e.g. \"MJPG\" or \"YUYV\"",
                        pattern=r"[A-Za-z0-9 ]{4}")
    fps: int = _spec(30, help="frames per second to ask the camera for", min=1, max=120)
    output_dpi: int = _spec(200, help="resolution of captured pages in dots per inch (A4 at 200 dpi is 1654×2339)",
                            min=72, max=600)
    jpeg_quality: int = _spec(85, help="JPEG quality of captured pages, 30–100", min=30, max=100)
    max_file_kb: int = _spec(1024, help="largest file written for one page (JPEG) or one material (PDF), in KB; "
                                        "quality and then size are lowered to fit", min=50, max=51200)
    enhance: Literal["none", "color", "scan", "gray"] = _spec(
        "scan", help="page look: \"scan\" (white paper, keeps stamps and photos), \"color\" (shadows removed), "
                     "\"gray\" or \"none\"")
    steady_seconds: float = _spec(1.0, help="seconds the page outline must stay still before it is captured "
                                            "automatically; 0 turns auto-capture off", min=0, max=10)
    scan_codes: bool = _spec(False, help="true to read QR codes from this camera's frames as well")
    simulator_scene: Literal["document", "id_card", "qr", "empty"] = _spec(
        "document", help="simulator only: what lies under the camera: \"document\", \"id_card\", \"qr\" or \"empty\"")
    simulator_fault: Literal["none", "no_device", "unplug", "slow"] = _spec(
        "none", help="simulator only: a fault to start with: \"none\", \"no_device\", \"unplug\" (stream stops "
                     "after a few seconds) or \"slow\" (3 frames a second)")
    simulator_control: str = _spec("", help="simulator only: a JSON file a tester writes to change scene and faults "
                                            "while the kiosk runs, e.g. /run/kiosk/camera-sim.json; empty for none")


@dataclass(frozen=True)
class DevicesSettings:
    idcard: IdCardDeviceSettings = _spec(default_factory=IdCardDeviceSettings, help="the ID card reader")
    scanner: ScannerDeviceSettings = _spec(default_factory=ScannerDeviceSettings, help="the code scanner")
    locker: LockerDeviceSettings = _spec(default_factory=LockerDeviceSettings, help="the pickup locker")
    printer: PrinterSettings = _spec(default_factory=PrinterSettings, help="the receipt printer")
    camera: CameraSettings = _spec(default_factory=CameraSettings, help="the document camera (高拍仪)")
    health_seconds: float = _spec(10.0, help="seconds between health checks of each device", min=1, max=3600)
    reopen_max_seconds: float = _spec(30.0, help="longest wait between attempts to reopen a device that "
                                                 "dropped out", min=1, max=3600)
    sim_control: str = _spec("", help="Unix socket for `kiosk sim` while devices are simulated (empty: "
                                      "$XDG_RUNTIME_DIR/kiosk-sim.sock)")


# -- voice prompts and the pickup journey (issue 12) ---------------------------------------


@dataclass(frozen=True)
class VoiceSettings:
    enabled: bool = _spec(True, help="true to speak the prompts where a resident must act (place the card, take "
                                     "the result, close the door); a resident can turn it off for their session")
    command: str = _spec("espeak-ng", help="the text-to-speech program (espeak-ng); silent when it is not installed",
                         pattern=r"[A-Za-z0-9_./-]{1,200}")
    voice: str = _spec("cmn", help="the espeak-ng voice for Chinese prompts, e.g. \"cmn\" (Mandarin)",
                       pattern=r"[A-Za-z0-9_+-]{1,40}")
    english_voice: str = _spec("en", help="the espeak-ng voice for English prompts", pattern=r"[A-Za-z0-9_+-]{1,40}")
    rate: int = _spec(140, help="speaking speed in words a minute (espeak-ng -s); slower is easier to follow",
                      min=80, max=300)


@dataclass(frozen=True)
class PickupSettings:
    close_reminder_seconds: int = _spec(25, help="seconds after a door opened before the resident is reminded to "
                                                 "close it (the technician is alerted after "
                                                 "devices.locker.door_open_alert_seconds)", min=5, max=600)
    rate_after_seconds: int = _spec(8, help="seconds the 取件完成 screen shows before the rating comes up",
                                    min=2, max=10)


# -- technicians (issue 13) ---------------------------------------------------------------


@dataclass(frozen=True)
class TechnicianSettings:
    pin_hash: str = _spec("", help="the technician PIN's hash, written by `kiosk config set-pin` (never the PIN "
                                   "itself); empty: the hidden entry shows \"not set up\"",
                          pattern=r"(scrypt\$\d{4,7}\$\d{1,2}\$\d{1,2}\$[A-Za-z0-9+/=]{16,64}\$[A-Za-z0-9+/=]{16,128})?")
    corner: Literal["top_left", "top_right", "bottom_left", "bottom_right"] = _spec(
        "top_left", help="the screen corner of the hidden entry: \"top_left\", \"top_right\", \"bottom_left\" "
                         "or \"bottom_right\"")
    taps: int = _spec(5, help="taps in the corner that open the PIN pad", min=3, max=10)
    tap_seconds: float = _spec(3.0, help="seconds within which the taps must come", min=1, max=10)
    corner_size: int = _spec(150, help="size of the corner area in pixels", min=40, max=400)
    free_attempts: int = _spec(3, help="wrong PINs before the entry locks", min=1, max=10)
    lockout_seconds: int = _spec(30, help="first lockout in seconds; each further wrong PIN doubles it (at most "
                                          "an hour)", min=5, max=3600)
    sim_panel_keys: str = _spec("ctrl+shift+s", help="keys that show or hide the testers' simulator control panel "
                                                     "(only when a device is simulated), e.g. \"ctrl+shift+s\"",
                                pattern=r"((ctrl|shift|alt|meta)\+)*([a-z0-9]|f([1-9]|1[0-2]))")
    sim_payloads: str = _spec("", help="a TOML file of [[payload]] tables (key, label, text or hex): the codes the "
                                       "simulator panel offers to scan; empty for the bundled "
                                       "assets/sim/payloads.toml")
    sim_pictures: str = _spec("", help="a folder of pictures (and sub-folders of pages) the simulator panel offers "
                                       "to show to the simulated camera; empty for the bundled assets/sim/pictures")


# -- end of technicians' block -------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    terminal: TerminalSettings
    display: DisplaySettings = _spec(default_factory=DisplaySettings, help="screen and language")
    session: SessionSettings = _spec(default_factory=SessionSettings, help="inactivity and scratch files")
    logging: LoggingSettings = _spec(default_factory=LoggingSettings, help="log level and format")
    backend: BackendSettings = _spec(default_factory=BackendSettings, help="the acceptance system")
    catalog: CatalogSettings = _spec(default_factory=CatalogSettings, help="service catalogue, search and input")
    devices: DevicesSettings = _spec(default_factory=DevicesSettings,
                                     help="ID card reader, scanner, locker, printer, camera")
    voice: VoiceSettings = _spec(default_factory=VoiceSettings, help="spoken prompts (espeak-ng)")
    pickup: PickupSettings = _spec(default_factory=PickupSettings, help="collecting results from the locker")
    technician: TechnicianSettings = _spec(default_factory=TechnicianSettings,
                                           help="the technicians' hidden entry (issue 13)")
    source: str = field(default="", compare=False)


# ---------------------------------------------------------------------------------------
# Loading


def load_settings(path: Path | str, overrides: dict[str, Any] | None = None) -> Settings:
    """Read and validate ``path``. Raises ``ConfigError`` with a readable message."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw_bytes = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, "the file does not exist (give another with --config)") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot be read: {exc.strerror}") from None
    if len(raw_bytes) > MAX_CONFIG_BYTES:
        raise ConfigError(path, f"is larger than {MAX_CONFIG_BYTES // 1024} KB: this is not a kiosk configuration")
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw_bytes[: exc.start].count(b"\n") + 1
        raise ConfigError(path, "is not UTF-8 text (save it as UTF-8)", line=line) from None
    return parse_settings(text, path, overrides)


def parse_settings(text: str, path: Path | str = "<config>", overrides: dict[str, Any] | None = None) -> Settings:
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(path, f"is larger than {MAX_CONFIG_BYTES // 1024} KB: this is not a kiosk configuration")
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ConfigError(path, "values are nested too deeply to read") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(path, f"TOML syntax error: {detail}", line=line) from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise ConfigError(path, f"a value cannot be read: a number far too large ({str(exc)[:60]})") from None
    for dotted, value in (overrides or {}).items():
        *tables, key = dotted.split(".")
        node = data
        for table in tables:
            node = node.setdefault(table, {})
        node[key] = value
    locator = _Locator(text)
    settings = _build(Settings, data, (), path, locator)
    return dataclasses.replace(settings, source=str(path))


def check_secret_permissions(settings: "Settings") -> None:
    """Refuse a secret that other users of the machine can read: a configuration file holding
    an inline ``terminal_key``, or the ``terminal_key_file`` itself (the fix: ``chmod 600``)."""
    backend = settings.backend
    candidates = []
    if backend.terminal_key and settings.source:
        candidates.append((Path(settings.source), "backend.terminal_key", "holds the terminal's signing key"))
    if backend.terminal_key_file:
        candidates.append((Path(backend.terminal_key_file), "backend.terminal_key_file", "is the terminal's key"))
    for path, key, what in candidates:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue  # a missing key file is reported where it is read
        if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigError(settings.source or path, f"{path} {what} and other users can read it: "
                                                       f"run chmod 600 {path}", key=key)


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _build(cls: type, data: Any, prefix: tuple[str, ...], path: Path | str, locator: "_Locator") -> Any:
    section = "[" + ".".join(prefix) + "]" if prefix else "the top level"
    if not isinstance(data, dict):
        raise ConfigError(path, f"{section} must be a table", line=locator.table_line(prefix),
                          key=".".join(prefix))
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(path, f"unknown key in {section}; known keys are: {known}",
                              line=locator.key_line(prefix, key), key=".".join(prefix + (key,)))
    values: dict[str, Any] = {}
    for name, f in fields.items():
        dotted = ".".join(prefix + (name,))
        hint = hints[name]
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                what = _describe(hint, f)
                raise ConfigError(path, f"missing; expected {what}",
                                  line=locator.table_line(prefix), key=dotted)
            continue
        value = data[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, prefix + (name,), path, locator)
        else:
            values[name] = _check_value(hint, f, value, dotted, path,
                                        lambda name=name: locator.key_line(prefix, name))
    return cls(**values)


def _describe(hint: Any, f: dataclasses.Field) -> str:
    if dataclasses.is_dataclass(hint):
        return f"a table [{f.name}] ({f.metadata.get('help', '')})"
    return f.metadata.get("help") or _type_name(hint)


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(hint))
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}.get(hint, str(hint))


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_PLAIN_NUMBER:
        return "a number far too large"
    if isinstance(value, str):
        return '"' + value[:60] + ('…"' if len(value) > 60 else '"')
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return str(value)


def _check_value(hint: Any, f: dataclasses.Field, value: Any, dotted: str, path: Path | str,
                 line: Any) -> Any:
    """``line()`` finds the key's line; it is only called for a message."""
    expected = f.metadata.get("help") or _type_name(hint)

    def fail(why: str = "") -> ConfigError:
        got = f"got {_shown(value)}"
        return ConfigError(path, f"expected {expected}; {got}{why}", line=line() if callable(line) else line,
                           key=dotted)

    origin = typing.get_origin(hint)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise fail()
        return value
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported config type for {dotted}")
    if hint is bool:
        if not isinstance(value, bool):
            raise fail()
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail()
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail()
        if isinstance(value, int) and abs(value) > MAX_PLAIN_NUMBER:
            raise fail()
        value = float(value)
        if not math.isfinite(value):
            raise fail(" (a finite number)")
    elif hint is str:
        if not isinstance(value, str):
            raise fail()
        pattern = f.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise fail()
    else:
        if not isinstance(value, hint):
            raise fail()
    low, high = f.metadata.get("min"), f.metadata.get("max")
    if hint is int and (low is None or high is None) and abs(value) > MAX_PLAIN_NUMBER:
        raise fail()
    if low is not None and value < low:
        raise fail(f" (at least {low:g})")
    if high is not None and value > high:
        raise fail(f" (at most {high:g})")
    return value


class _Locator:
    """Finds the line of a table header or a key in TOML text, for error messages."""

    _HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def _walk(self):
        table: tuple[str, ...] = ()
        for number, line in enumerate(self.lines, start=1):
            header = self._HEADER.match(line)
            if header:
                table = tuple(part.strip().strip("\"'") for part in header.group(1).split("."))
                yield number, table, None
                continue
            key = self._KEY.match(line)
            if key:
                yield number, table, key.group(1).strip("\"'")

    def table_line(self, prefix: tuple[str, ...]) -> int | None:
        if not prefix:
            return None
        for number, table, key in self._walk():
            if key is None and table == prefix:
                return number
        return None

    def key_line(self, prefix: tuple[str, ...], name: str) -> int | None:
        for number, table, key in self._walk():
            if key == name and table == prefix:
                return number
        # a dotted key or inline table: fall back to the table's own line
        return self.table_line(prefix)
