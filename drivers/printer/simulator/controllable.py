"""The in-process printer simulator behind the common simulator control interface.

The other simulators sit behind pseudo-terminals; the printer simulator is fed directly
by ``SimulatorLink``. This adapter gives it the interface every simulator answers
(``drivers.sim.interface``): ``state``, ``control`` with the common verbs (status, fault,
clear, unplug, replug) and faults by name, so that ``kiosk sim fault printer paper_out``,
``simulator_faults = "paper_near_end"`` in ``[devices.printer]`` and the testers' panel all
do the same thing.

Faults: ``paper_out``, ``paper_near_end``, ``cover_open``, ``offline``, ``cutter_error`` (the
printer's own state, read back through ``DLE EOT``), ``paper_run_out`` (the roll ends after
``value``/``seconds`` more dots, default 300: mid-job), and the common answer faults
``no_answer`` (status requests go unanswered), ``garbage`` (random bytes instead of the
answer), ``slow`` (answers leave ``value``/``seconds`` late, default 2 s) and ``vanish``
(unplugged: writes fail and the printer cannot be opened until ``replug``). An ESC/POS
status answer carries no checksum, so ``bad_checksum`` does not exist here. The extra verb
``command`` runs one line of the printer simulator's own control language
(``drivers.printer.simulator.server``), e.g. ``paper run-out 300``.
"""
from __future__ import annotations

import random
import threading
from typing import Any

from drivers.printer.simulator.printer import PrinterSimulator
from drivers.printer.simulator.server import apply_control
from drivers.printer.status import Paper
from drivers.sim.interface import SimulatorControl, SimulatorError

#: the printer's own state faults: fault name → (control line when on, control line when off)
FAULTS = {
    "paper_out": ("paper out", "paper ok"),
    "paper_near_end": ("paper near_end", "paper ok"),
    "cover_open": ("cover open", "cover closed"),
    "offline": ("offline", "online"),
    "cutter_error": ("cutter error", "cutter ok"),
}
#: the answer faults every simulator shares (an ESC/POS status has no checksum to break)
ANSWER_FAULTS = ("no_answer", "garbage", "slow")
DEFAULT_RUN_OUT_DOTS = 300


class ControllablePrinterSimulator(SimulatorControl):
    kind = "printer"
    fault_names = ANSWER_FAULTS + tuple(FAULTS) + ("paper_run_out",)
    actions = ("command",)

    def __init__(self, simulator: PrinterSimulator, name: str = "printer", seed: int | None = None):
        super().__init__(name)
        self.simulator = simulator
        self._random = random.Random(seed)
        simulator.answer_filter = self._filter_answer

    def start(self) -> "ControllablePrinterSimulator":
        return self

    def stop(self) -> None:
        self._cancel_replug()

    # -- the device's side of the interface -----------------------------------------------------
    @property
    def plugged_in(self) -> bool:
        return self.simulator.connected

    def _unplug(self) -> None:
        self.simulator.unplug()

    def _replug(self) -> None:
        self.simulator.plug()

    def _set_fault(self, name: str, on: bool, times: int | None, params: dict[str, Any]) -> None:
        if name in FAULTS:
            on_line, off_line = FAULTS[name]
            self._run(on_line if on else off_line)
            return
        if name == "paper_run_out":
            if on:
                dots = params.get("value", params.get("seconds", params.get("dots"))) or DEFAULT_RUN_OUT_DOTS
                self._run(f"paper run-out {int(dots)}")
            else:
                self._run("paper ok")
        super()._set_fault(name, on, times, params)

    def clear_faults(self) -> None:
        for _on, off_line in FAULTS.values():
            self._run(off_line)
        super().clear_faults()

    def active_faults(self) -> list[dict[str, Any]]:
        printer = self.simulator
        paper = printer.paper_state
        derived = [("paper_out", paper is Paper.OUT), ("paper_near_end", paper is Paper.NEAR_END),
                   ("cover_open", printer.cover_open), ("offline", not printer.online),
                   ("cutter_error", printer.cutter_error)]
        stored = super().active_faults()
        if paper is Paper.OUT:  # a roll that ran out is now plainly out of paper
            stored = [fault for fault in stored if fault["fault"] != "paper_run_out"]
        return [{"fault": name} for name, on in derived if on] + stored

    # -- answers ------------------------------------------------------------------------------------
    def _filter_answer(self, answer: bytes) -> bytes:
        if self.take_fault("no_answer"):
            return b""
        if self.take_fault("garbage"):
            # noise without bit 4, which every DLE EOT status byte has: the driver sees it is not a status
            answer = bytes(self._random.randrange(256) & 0xEF for _ in range(len(answer)))
        slow = self.take_fault("slow")
        if slow:
            delay = float(slow.params.get("value", slow.params.get("seconds", 2.0)))
            timer = threading.Timer(delay, self.simulator.answer_later, args=(answer,))
            timer.daemon = True
            timer.start()
            return b""
        return answer

    # -- the interface ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = super().state()
        report = self.simulator.report()
        report.pop("online", None)  # "online" below is the control interface's sense: not stopped
        state.update(report, online=not self.simulator.stopped)
        return state

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if action == "command":
            self._run(str(params.get("line", "")))
            return self.state()
        return super().control(action, params)

    def _run(self, line: str) -> None:
        answer = apply_control(self.simulator, line)
        if answer.startswith("error"):
            raise SimulatorError(answer[6:])
