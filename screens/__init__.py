"""Kivy screens and widgets: thin views over the core in ``kiosk``.

Importing this package prepares Kivy's environment before Kivy itself is imported:
no command-line parsing, no console or file log of Kivy's own (our logging handles it),
and a private ``KIVY_HOME`` that is removed at exit, so the kiosk writes nothing to ~/.kivy (a killed
process's is removed by the next one: ``kiosk.tempdirs``).
"""
from __future__ import annotations

import atexit
import os
import shutil

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
if "KIVY_HOME" not in os.environ:
    from kiosk.tempdirs import process_tempdir, sweep_stale

    sweep_stale("kiosk-kivy-")  # the Kivy homes of kiosks that were killed (kiosk/tempdirs.py)
    _kivy_home = str(process_tempdir("kiosk-kivy-"))
    os.environ["KIVY_HOME"] = _kivy_home
    atexit.register(shutil.rmtree, _kivy_home, True)
