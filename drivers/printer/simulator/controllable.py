"""The in-process printer simulator as a device-manager simulator: ``kiosk sim`` verbs for it.

The other simulators sit behind pseudo-terminals; the printer simulator is fed directly
by ``SimulatorLink``. This adapter gives it the same control surface (``state``,
``control``, ``start``, ``stop``) so that ``kiosk sim fault printer paper_out`` works on a
running kiosk like ``kiosk sim fault idcard no_answer`` does.
"""
from __future__ import annotations

from typing import Any

from drivers.printer.simulator.printer import PrinterSimulator
from drivers.printer.simulator.server import apply_control
from drivers.sim.base import SimulatorError

#: fault name → (apply when on, apply when off)
FAULTS = {
    "paper_out": ("paper out", "paper ok"),
    "paper_near_end": ("paper near_end", "paper ok"),
    "cover_open": ("cover open", "cover closed"),
    "offline": ("offline", "online"),
    "cutter_error": ("cutter error", "cutter ok"),
}


class ControllablePrinterSimulator:
    kind = "printer"

    def __init__(self, simulator: PrinterSimulator, name: str = "printer"):
        self.simulator = simulator
        self.name = name

    def start(self) -> "ControllablePrinterSimulator":
        return self

    def stop(self) -> None:
        pass

    def state(self) -> dict[str, Any]:
        report = self.simulator.report()
        return {"kind": self.kind, "name": self.name, **report}

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if action == "status":
            return self.state()
        if action == "fault":
            name = str(params.get("fault", ""))
            if name == "paper_run_out":
                self._run(f"paper run-out {int(params.get('seconds') or params.get('dots') or 300)}")
                return self.state()
            if name not in FAULTS:
                raise SimulatorError(f"the printer simulator has no fault {name!r}; "
                                     f"known: {', '.join(sorted(FAULTS))}, paper_run_out")
            on_line, off_line = FAULTS[name]
            self._run(on_line if params.get("on", True) else off_line)
            return self.state()
        if action == "clear":
            for _on, off_line in FAULTS.values():
                self._run(off_line)
            return self.state()
        if action == "command":
            self._run(str(params.get("line", "")))
            return self.state()
        raise SimulatorError(f"the printer simulator has no action {action!r}")

    def _run(self, line: str) -> None:
        answer = apply_control(self.simulator, line)
        if answer.startswith("error"):
            raise SimulatorError(answer[6:])
