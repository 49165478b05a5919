"""The diagnostics report as a printed slip (the ``diagnostics`` template of ``kiosk.receipts``).

One line per device (status, code), its detail, the backend's reachability and latency, the
outbox, disk and memory. The slip holds no personal data: the report has none.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk.diagnostics.model import DiagReport
from kiosk.receipts.layout import Target, compile_receipt
from kiosk.receipts.templates import DeviceLine, DiagnosticsData, diagnostics_slip

NAMES = {"idcard": "身份证读卡器 idcard", "scanner": "扫码器 scanner", "printer": "打印机 printer",
         "camera": "高拍仪 camera", "locker": "取件柜 locker", "backend": "网络 backend"}


def slip_data(report: DiagReport) -> DiagnosticsData:
    lines = []
    for device in report.devices:
        if device.name == "backend":
            continue
        state = device.status + (f" {device.code}" if device.code else "")
        detail = "" if device.status in ("ok", "absent") else device.detail[:60]
        lines.append(DeviceLine(NAMES.get(device.name, device.name), state, detail))
    backend = report.device("backend")
    network = backend.detail if backend is not None else "?"
    notes = []
    if backend is not None and isinstance(backend.extra.get("outbox"), dict):
        outbox = backend.extra["outbox"]
        notes.append(f"待发送 outbox: {outbox.get('pending', 0)} waiting, {outbox.get('quarantined', 0)} quarantined")
    disk, memory = report.system.get("disk") or {}, report.system.get("memory") or {}
    if disk:
        notes.append(f"磁盘 disk: {disk.get('free_mb')} MB free of {disk.get('total_mb')} MB")
    if memory:
        notes.append(f"内存 memory: {memory.get('available_mb')} MB free of {memory.get('total_mb')} MB")
    notes.append("healthy" if report.healthy else "NOT healthy")
    return DiagnosticsData(report.terminal_id, report.terminal_name, datetime.now().replace(microsecond=0),
                           tuple(lines), network, tuple(notes))


def slip_bytes(report: DiagReport, printer: Any) -> bytes:
    return compile_receipt(diagnostics_slip(slip_data(report)), Target.for_printer(printer)).data
