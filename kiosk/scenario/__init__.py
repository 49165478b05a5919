"""Testers' scenarios: YAML files of steps played against the real screens.

This package is the part without Kivy: reading and checking a scenario file
(``parse``), the notation of keys for a ``type`` step (``keys``), the folders and
settings that keep a run apart from every other run (``workdir``), and the results and
how they are reported (``report``). Playing the steps is ``screens/scenario_player.py``;
the command is ``kiosk scenario`` (``kiosk/commands/scenario.py``).
"""
from kiosk.scenario.model import KINDS, Scenario, ScenarioError, Step

__all__ = ["KINDS", "Scenario", "ScenarioError", "Step"]
