"""Build a ``DiagReport`` from a device manager and the backend services.

``device_diag`` judges one device from its status, last error, counters and a health report;
``backend_diag`` times a heartbeat (reachability, signature, latency) and reads the outbox;
``collect`` puts everything together. The ``diag`` screen calls these on a worker thread with
the running kiosk's manager; ``kiosk diag`` calls them with devices it opened for the purpose.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from drivers.base import ERROR_CODES, HealthLevel, HealthReport
from kiosk.diagnostics.model import DEVICE_NAMES, Check, DeviceDiag, DiagReport, ErrorInfo, judge
from kiosk.privacy import mask_text

HISTORY_IN_REPORT = 20


def configured_drivers(settings: Any) -> dict[str, str]:
    """Device name → configured driver ("none" for an absent device)."""
    drivers = {name: getattr(settings.devices, name).driver for name in DEVICE_NAMES if name != "backend"}
    backend = settings.backend
    drivers["backend"] = "embedded" if backend.embedded else ("remote" if backend.url else "none")
    return drivers


def configured_ports(settings: Any) -> dict[str, str]:
    ports = {}
    for name in ("idcard", "scanner", "locker"):
        ports[name] = getattr(settings.devices, name).port
    printer = settings.devices.printer
    ports["printer"] = printer.serial_port if printer.transport == "serial" else ""
    return ports


def _history(manager: Any, name: str) -> list[dict[str, Any]]:
    history = getattr(manager, "history", None)
    if history is None:
        return []
    return [change.to_json() for change in history.timeline(name, limit=HISTORY_IN_REPORT)]


def device_diag(manager: Any, name: str, driver: str, report: HealthReport | None = None) -> DeviceDiag:
    """What a technician needs to know about one configured device (``driver`` not "none")."""
    infos = {info.name: info for info in manager.describe()} if manager is not None else {}
    info = infos.get(name)
    device = manager.device(name) if manager is not None else None
    if device is None:
        why = info.error if info is not None else "not built"
        return DeviceDiag(name, "fault", "DEV-002" if "not found" in why else None, mask_text(why)[:300], driver,
                          info.port if info else "", "not built", history=_history(manager, name))
    status = device.status
    if report is None:
        report = manager.last_report(name) if hasattr(manager, "last_report") else None
    checks = [Check(check, passed, mask_text(str(detail))[:300]) for check, passed, detail in
              (report.checks if report is not None else [])]
    companion = manager.device(f"{name}_scanner") if manager is not None else None
    if companion is not None:
        checks.append(Check("code scanning", companion.status.usable, companion.status.state.value))
    verdict = judge(status.state.value, report.ok if report is not None else None, status.detail, checks)
    error = ErrorInfo.of(getattr(device, "last_error", None))
    code = status.error_code or (error.code if error and verdict != "ok" else "") or None
    if verdict == "ok":
        code = None
    if report is not None:
        detail = report.summary
    elif status.usable:
        detail = status.state.value
    elif status.error_code:
        detail = ERROR_CODES.get(status.error_code, status.state.value)
    else:
        detail = status.state.value
    if verdict != "ok" and info is not None and info.error and report is None:
        detail = info.error
    return DeviceDiag(name, verdict, code, mask_text(str(detail))[:300], driver, str(getattr(device, "port", "")),
                      status.state.value, bool(info.simulated) if info else False,
                      report.level.value if report is not None else "internal", error,
                      dict(device.counters), checks, _history(manager, name))


def backend_diag(backend: Any, driver: str) -> DeviceDiag:
    """Reachability (a signed heartbeat), latency and the outbox."""
    if backend is None:
        if driver == "none":
            return DeviceDiag("backend", "absent", None, "not configured", driver)
        return DeviceDiag("backend", "fault", None, "not started", driver)
    extra: dict[str, Any] = {"url": getattr(getattr(backend, "client", None), "base_url", "")}
    try:
        extra["outbox"] = backend.outbox.counts()
    except Exception as exc:  # a damaged outbox is itself a finding
        extra["outbox"] = {"error": type(exc).__name__}
    started = time.monotonic()
    try:
        ack = backend.heartbeat()
    except Exception as exc:
        extra["reachable"] = False
        extra["latency_ms"] = None
        code = getattr(exc, "code", "") or type(exc).__name__
        return DeviceDiag("backend", "fault", None, mask_text(f"not reachable: {code}: {exc}")[:300], driver,
                          checks=[Check("heartbeat", False, mask_text(str(exc))[:300])], extra=extra)
    latency = (time.monotonic() - started) * 1000
    extra.update({"reachable": True, "latency_ms": round(latency, 1),
                  "clock_offset_seconds": round(time.time() - ack.server_time.timestamp(), 1),
                  "catalog_version": ack.catalog_version, "pickups_waiting": ack.pickups_waiting})
    checks = [Check("heartbeat", True, f"signature accepted, {latency:.0f} ms")]
    pending = extra["outbox"].get("pending", 0) if isinstance(extra["outbox"], dict) else 0
    quarantined = extra["outbox"].get("quarantined", 0) if isinstance(extra["outbox"], dict) else 0
    checks.append(Check("outbox", not quarantined, f"{pending} waiting, {quarantined} quarantined"))
    status = "degraded" if quarantined else "ok"
    return DeviceDiag("backend", status, None, f"reachable, {latency:.0f} ms", driver, checks=checks, extra=extra)


def collect(settings: Any, manager: Any, backend: Any, *, level: HealthLevel | str = HealthLevel.INTERNAL,
            run_checks: bool = True, state_dir: str = "/", started_monotonic: float | None = None,
            discover_ports: bool = True) -> DiagReport:
    """The whole report. ``run_checks``: run each device's health check at ``level`` now
    (otherwise the supervisor's newest internal check is used)."""
    from kiosk.diagnostics.ports import discover
    from kiosk.diagnostics.system import system_info

    level = HealthLevel(level)
    drivers = configured_drivers(settings)
    devices = []
    for name in DEVICE_NAMES:
        driver = drivers[name]
        if name == "backend":
            devices.append(backend_diag(backend, driver))
        elif driver == "none":
            devices.append(DeviceDiag(name, "absent", None, "not configured (driver = \"none\")", "none"))
        else:
            device = manager.device(name) if manager is not None else None
            report = device.check_health(level) if run_checks and device is not None else None
            devices.append(device_diag(manager, name, driver, report))
    return DiagReport(datetime.now().astimezone().isoformat(timespec="seconds"), level.value, settings.terminal.id,
                      settings.terminal.name, devices,
                      discover(configured_ports(settings)) if discover_ports else [],
                      system_info(state_dir, started_monotonic))
