"""Make the bundled simplified-Chinese font Kivy's default for every widget."""
from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
REGULAR = FONT_DIR / "NotoSansSC-Regular.otf"
BOLD = FONT_DIR / "NotoSansSC-Bold.otf"


def register_default_font() -> None:
    """Must run before the first widget is built."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(DEFAULT_FONT, fn_regular=str(REGULAR), fn_bold=str(BOLD))
    LabelBase.register("KioskSans", fn_regular=str(REGULAR), fn_bold=str(BOLD))
