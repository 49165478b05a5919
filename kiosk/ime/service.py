"""The pinyin input method as the kiosk runs it: open the lexicon, building it if needed.

The lexicon lives in the ``[catalog] cache_dir`` folder. On a fresh kiosk (or after the
lexicon format changed) ``ensure_ready`` builds it once — in a separate, niced process
(``kiosk ime build``), so that the user interface keeps its two cores' worth of
smoothness during the ≈6 s it takes, and the ≈200 MB the build needs are given back
afterwards. A file lock keeps two kiosk processes from building at the same time.
Until it is ready, ``engine`` is None and the keyboard offers its other pages.
"""
from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterable

from kiosk.ime.engine import ImeEngine
from kiosk.ime.lexicon import LEXICON_FILE, TAG_EXTRA, Lexicon, LexiconError, build_lexicon

log = logging.getLogger(__name__)

BUILD_NICENESS = 10

# Opened lexicons by (file, size, mtime): a second service in the same process (a restarted
# UI, a test) shares the open lexicon and its warmed-up keys.
_opened: dict[tuple, ImeEngine] = {}
_opened_lock = threading.Lock()


class ImeService:
    def __init__(self, cache_dir: Path | str, in_subprocess: bool = True):
        self.cache_dir = Path(cache_dir)
        self.path = self.cache_dir / LEXICON_FILE
        self.in_subprocess = in_subprocess
        self.error = ""
        self._engine: ImeEngine | None = None
        self._lock = threading.Lock()
        self._vocabulary: list[str] = []

    @property
    def engine(self) -> ImeEngine | None:
        return self._engine

    @property
    def ready(self) -> bool:
        return self._engine is not None

    def ensure_ready(self) -> ImeEngine | None:
        """Open (building first if needed) the lexicon; None with ``error`` set on failure."""
        with self._lock:
            if self._engine is not None:
                return self._engine
            try:
                lexicon = self._open_or_build()
            except (LexiconError, OSError) as exc:
                self.error = str(exc)
                log.error("pinyin input unavailable", extra={"fields": {"error": self.error}})
                return None
            stat = self.path.stat()
            key = (str(self.path.resolve()), stat.st_size, stat.st_mtime_ns)
            with _opened_lock:
                engine = _opened.get(key)
                if engine is None:
                    engine = ImeEngine(lexicon)
                    engine.warm_up()
                    _opened.clear()
                    _opened[key] = engine
                else:
                    lexicon.close()
            if self._vocabulary:
                engine.lexicon.add_words(self._vocabulary, TAG_EXTRA)
            self._engine = engine
            self.error = ""
            return engine

    def add_vocabulary(self, words: Iterable[str]) -> None:
        """Words to rank up in search fields (the catalogue's keywords and everyday words)."""
        words = list(words)
        with self._lock:
            self._vocabulary.extend(words)
            if self._engine is not None:
                self._engine.lexicon.add_words(words, TAG_EXTRA)

    def _open_or_build(self) -> Lexicon:
        try:
            return Lexicon(self.path)
        except LexiconError as first:
            log.info("pinyin lexicon needs building", extra={"fields": {"reason": str(first)}})
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / (LEXICON_FILE + ".lock"), "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # another process may be building it right now
            try:
                return Lexicon(self.path)
            except LexiconError:
                pass
            if self.in_subprocess:
                self._build_in_subprocess()
            else:
                build_lexicon(self.path)
        return Lexicon(self.path)

    def _build_in_subprocess(self) -> None:
        command = [sys.executable, "-m", "kiosk", "ime", "build", "--cache-dir", str(self.cache_dir)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                                  preexec_fn=lambda: os.nice(BUILD_NICENESS))
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("lexicon build process failed to run; building here",
                        extra={"fields": {"error": str(exc)}})
            build_lexicon(self.path)
            return
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise LexiconError(f"building the pinyin lexicon failed: {last}")

    def close(self) -> None:
        """Nothing to do: the open lexicon is shared and read-only."""
