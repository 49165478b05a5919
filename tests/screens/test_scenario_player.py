"""The scenario player's start: step 1 is played on a kiosk that has settled, not one still starting."""
from __future__ import annotations

import io

from kiosk.scenario.report import Reporter
from kiosk.status import Availability
from screens import scenario_player


def test_step_one_waits_until_the_embedded_backend_has_answered(kiosk_app, tmp_path, monkeypatch):
    """Under load the embedded backend answered its first heartbeat after the first step had
    given up waiting for the network tiles (网络连接中, then 网络未连接: 代办 disabled)."""
    app = kiosk_app.app
    player = scenario_player.ScenarioPlayer(app, Reporter(io.StringIO()), tmp_path, simulate=lambda request: None)
    assert player.wait_ready()  # the demo kiosk settles
    monkeypatch.setattr(scenario_player, "READY_TIMEOUT", 1.5)
    app.kiosk.status.publish(Availability("network", None, "status.network_checking"))
    assert not player.wait_ready()
    app.kiosk.status.publish(Availability("network", False, "status.network_unreachable"))
    assert not player.wait_ready()  # the first try failed: the embedded backend was not listening yet
    app.kiosk.status.publish(Availability("network", True, ""))
    assert player.wait_ready()
