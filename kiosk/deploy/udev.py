"""The udev rule line that gives a plugged-in device its stable ``/dev/kiosk-<name>`` link.

``rule_for(name, walk)`` reads the output of ``udevadm info --attribute-walk --name=DEVICE``:
the device's own subsystem, and the first USB device above it with a vendor and product id.
With a serial number the rule matches VID:PID and serial (the device may use any port);
without one (CH340, PL2303) it matches VID:PID and the USB port path (``KERNELS=="1-1.2"``),
so the device must stay in that port.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

NAMES = ("idcard", "scanner", "locker", "printer")
_LINE = re.compile(r'^\s*([A-Z]+)(?:\{([^}]+)\})?=="(.*)"\s*$')


class UdevError(Exception):
    pass


@dataclass(frozen=True)
class UsbParent:
    kernel: str
    vendor: str
    product: str
    serial: str
    description: str


def parse_walk(text: str) -> list[dict[str, str]]:
    """The blocks of an attribute walk, device first, each as {"KERNEL": …, "ATTRS{idVendor}": …}."""
    blocks: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.strip().startswith("looking at"):
            blocks.append({})
            continue
        match = _LINE.match(line)
        if match and blocks:
            key, attr, value = match.groups()
            blocks[-1][f"{key}{{{attr}}}" if attr else key] = value
    return blocks


def usb_parent(blocks: list[dict[str, str]]) -> UsbParent:
    for block in blocks[1:]:
        if block.get("SUBSYSTEMS") == "usb" and "ATTRS{idVendor}" in block and "ATTRS{idProduct}" in block:
            words = [block.get("ATTRS{manufacturer}", ""), block.get("ATTRS{product}", "")]
            return UsbParent(block.get("KERNELS", ""), block["ATTRS{idVendor}"], block["ATTRS{idProduct}"],
                             block.get("ATTRS{serial}", "").strip(), " ".join(w for w in words if w).strip())
    raise UdevError("the device is not on USB (no parent with idVendor/idProduct): name it by its own path")


def rule_for(name: str, walk: str, by: str = "auto") -> str:
    """One rules line (with a comment line above it) for ``/dev/kiosk-<name>``."""
    if name not in NAMES:
        raise UdevError(f"unknown device name {name!r} (known: {', '.join(NAMES)})")
    blocks = parse_walk(walk)
    if not blocks:
        raise UdevError("not the output of `udevadm info --attribute-walk`")
    subsystem = blocks[0].get("SUBSYSTEM", "")
    if subsystem not in ("tty", "input", "usbmisc"):
        raise UdevError(f"a {subsystem or 'unknown'} device: expected a serial port (tty), an input device or a "
                        "USB printer node")
    parent = usb_parent(blocks)
    if by == "auto":
        by = "serial" if parent.serial else "port"
    if by == "serial" and not parent.serial:
        raise UdevError(f"{parent.vendor}:{parent.product} has no serial number: match it by port")
    match = [f'SUBSYSTEM=="{subsystem}"']
    if subsystem == "input":
        match.append('KERNEL=="event*"')
    if by == "port":
        match.append(f'KERNELS=="{parent.kernel}"')
    match += [f'ATTRS{{idVendor}}=="{parent.vendor}"', f'ATTRS{{idProduct}}=="{parent.product}"']
    if by == "serial":
        match.append(f'ATTRS{{serial}}=="{parent.serial}"')
    group = "input" if subsystem == "input" else "dialout"
    how = f"serial number {parent.serial}" if by == "serial" else f"USB port {parent.kernel} (keep it in that port)"
    comment = f"# {name}: {parent.description or 'USB device'} {parent.vendor}:{parent.product}, by {how}"
    return comment + "\n" + ", ".join(match + [f'SYMLINK+="kiosk-{name}"', f'GROUP="{group}"', 'MODE="0660"'])


def attribute_walk(device: str) -> str:
    tool = shutil.which("udevadm")
    if tool is None:
        raise UdevError("udevadm is missing (Debian package udev)")
    result = subprocess.run([tool, "info", "--attribute-walk", f"--name={device}"], capture_output=True, text=True,
                            timeout=30)
    if result.returncode != 0:
        raise UdevError(f"udevadm info {device}: {result.stderr.strip() or 'failed'}")
    return result.stdout
