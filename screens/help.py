"""使用帮助: how to use the kiosk, for someone who has never touched one."""
from __future__ import annotations

from screens.base import KioskScreen


class HelpScreen(KioskScreen):
    pass
