"""One panel per flow state: the screens of 代办, 办件查询, 自助取件 and 服务评价 show, inside
their ``panel_holder`` (in the ``scroller``), the panel their flow's state names, and let it
update itself as the flow moves on."""
from __future__ import annotations

from typing import Any

from kivy.factory import Factory


class StatePanels:
    """Mixin for a screen with ``ids.panel_holder``, ``ids.scroller`` and a ``state`` property."""

    panel: Any = None

    def follow_flow(self, flow: Any, panels: dict[str, str]) -> None:
        """Show the panel of ``flow``'s state (a new one only when the state changed), then let it update."""
        if flow.state != self.state:
            self.state = flow.state
            self.show_panel(panels.get(flow.state))
        if self.panel is not None and hasattr(self.panel, "update"):
            self.panel.update(self, flow)

    def show_panel(self, name: str | None) -> None:
        """Put the kv rule ``name``'s panel in the holder (none: empty), scrolled to its top, and
        focus its first field when it has one."""
        holder = self.ids.panel_holder
        holder.clear_widgets()
        self.panel = getattr(Factory, name)() if name else None
        self.ids.scroller.scroll_y = 1  # each step starts at its top
        if self.panel is not None:
            self.panel.screen = self
            holder.add_widget(self.panel)
            focus = getattr(self.panel, "first_field", None)
            if focus is not None:
                focus()
