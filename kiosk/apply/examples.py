"""Example pictures of materials (``assets/apply/examples/<name>.png``), shown next to the live
camera so a resident sees what to lay down. ``make_examples.py`` in that folder draws them."""
from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "apply" / "examples"


def example_path(name: str) -> Path | None:
    """The picture for ``name`` (e.g. ``bank_card``), or None when there is none."""
    if not name or "/" in name or name.startswith("."):
        return None
    path = EXAMPLES_DIR / f"{name}.png"
    return path if path.is_file() else None
