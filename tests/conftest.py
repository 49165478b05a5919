"""Test-wide environment: set before any test module imports Kivy or python-escpos."""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-test-kivy-"))
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", tempfile.gettempdir())
# Outbox, catalogue cache and health history of kiosks built by tests: never /var/lib/kiosk.
os.environ.setdefault("KIOSK_STATE_DIR", tempfile.mkdtemp(prefix="kiosk-test-state-"))
