"""Code scanners: serial/USB-CDC line scanners, HID keyboard wedges (evdev), and the scanner simulator."""
from drivers.scanner.base import CodeScanner, ScanEvent
from drivers.scanner.serial_scanner import SerialScanner

__all__ = ["CodeScanner", "ScanEvent", "SerialScanner"]
