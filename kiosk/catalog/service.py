"""The catalogue as the rest of the kiosk sees it: items, search, browse, clicks, guides.

``CatalogService`` is built from the ``[catalog]`` settings by the composition root. The
index is built on first use or by ``load()`` on a worker thread at start-up, so the UI
never waits on it; ``set_records`` swaps in a new catalogue (for instance from the
backend's catalogue cache) atomically, and a search running meanwhile finishes on the old
one.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from kiosk.catalog.browse import Browser
from kiosk.catalog.clicks import ClickStore
from kiosk.catalog.index import SearchIndex, SearchResult
from kiosk.catalog.items import CatalogError, CatalogItem, items_from_dicts, load_catalog_file
from kiosk.catalog.query import WordSplitter
from kiosk.catalog.synonyms import DEFAULT_SYNONYMS_PATH, SynonymTable, load_synonyms

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"
DEMO_CATALOG_PATH = ASSETS / "catalog" / "hekou_items.json"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "heyiban-kiosk"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "heyiban-kiosk"


@dataclass(frozen=True)
class CatalogPaths:
    catalog: Path
    synonyms: Path
    state_dir: Path
    cache_dir: Path

    @classmethod
    def from_settings(cls, catalog_settings) -> "CatalogPaths":
        s = catalog_settings
        return cls(Path(s.file) if s.file else DEMO_CATALOG_PATH,
                   Path(s.synonyms) if s.synonyms else DEFAULT_SYNONYMS_PATH,
                   Path(s.state_dir) if s.state_dir else default_state_dir(),
                   Path(s.cache_dir) if s.cache_dir else default_cache_dir())


@dataclass(frozen=True)
class _Loaded:
    items: list[CatalogItem]
    by_code: dict[str, CatalogItem]
    index: SearchIndex
    problems: list[str]
    build_seconds: float


# Indexes built from files, by (file, size, mtime, synonyms file, size, mtime): a second
# service over unchanged files (a restarted UI in the same process, a test) reuses the index.
_built_from_files: dict[tuple, _Loaded] = {}
_built_lock = threading.Lock()


def _file_key(*paths: Path) -> tuple:
    key = []
    for path in paths:
        stat = path.stat()
        key += [str(path.resolve()), stat.st_size, stat.st_mtime_ns]
    return tuple(key)


class CatalogService:
    def __init__(self, paths: CatalogPaths, hot_items: int = 12, persist_clicks: bool = True):
        self.paths = paths
        self.hot_items = hot_items
        self.clicks = ClickStore(paths.state_dir if persist_clicks else None)
        self.splitter = WordSplitter(cache_dir=paths.cache_dir)
        self._synonyms: SynonymTable | None = None
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self.error: str = ""
        self._source: tuple[Callable[[], int], Callable[[], Iterable[dict[str, Any]]]] | None = None
        self._source_version: int | None = None

    @classmethod
    def from_settings(cls, settings) -> "CatalogService":
        return cls(CatalogPaths.from_settings(settings.catalog), hot_items=settings.catalog.hot_items)

    # -- loading ---------------------------------------------------------------------------
    def _synonym_table(self) -> SynonymTable:
        if self._synonyms is None:
            self._synonyms = load_synonyms(self.paths.synonyms)
        return self._synonyms

    def _build(self, items: list[CatalogItem], problems: list[str]) -> _Loaded:
        started = time.perf_counter()
        index = SearchIndex(items, self._synonym_table(), splitter=self.splitter)
        seconds = time.perf_counter() - started
        log.info("catalogue indexed", extra={"fields": {"items": len(items), "texts": index.text_count,
                                                        "seconds": round(seconds, 3)}})
        return _Loaded(items, {i.code: i for i in items}, index, problems, seconds)

    def load(self, warm_up: bool = True) -> "CatalogService":
        """Read the catalogue file and build the index (idempotent; raises CatalogError or
        SynonymError with a readable message). ``warm_up`` also opens the word dictionary
        and builds the guide-text index (with the thesaurus) now, not on the first query."""
        with self._lock:
            if self._loaded is None:
                try:
                    self._loaded = self._load_files()
                    self.error = ""
                except Exception as exc:
                    self.error = str(exc)
                    raise
        if warm_up:
            self.splitter.load()
            self._current().index.guide_scorer()
        return self

    def _load_files(self) -> _Loaded:
        try:
            key = _file_key(self.paths.catalog, self.paths.synonyms)
        except OSError:
            key = None  # the loaders below say what is wrong with the files
        with _built_lock:
            loaded = _built_from_files.get(key) if key else None
        if loaded is None:
            report = load_catalog_file(self.paths.catalog)
            loaded = self._build(report.items, report.problems)
            if key:
                with _built_lock:
                    _built_from_files.clear()  # keep one: a kiosk has one catalogue
                    _built_from_files[key] = loaded
        return loaded

    def set_records(self, records: Iterable[dict[str, Any]]) -> list[str]:
        """Replace the catalogue with schema dicts (e.g. from the backend cache); returns
        the problems found. Raises CatalogError when no record is usable."""
        report = items_from_dicts(records)
        if not report.items:
            raise CatalogError("no usable item in the catalogue records")
        loaded = self._build(report.items, report.problems)
        with self._lock:
            self._loaded = loaded
            self.error = ""
        return report.problems

    def attach_source(self, version: Callable[[], int], records: Callable[[], Iterable[dict[str, Any]]]) -> None:
        """Take the catalogue from another source when it has one (the backend's catalogue
        cache): ``refresh`` re-indexes whenever ``version()`` changes; until the source has
        items, the file stays in use."""
        self._source = (version, records)

    def refresh(self) -> bool:
        """Re-index from the attached source if its version changed; True when it did.
        Meant for a worker thread (a 10,000-item catalogue takes about a second)."""
        if self._source is None:
            return False
        version_of, records_of = self._source
        try:
            version = version_of()
            if version == self._source_version:
                return False
            records = list(records_of())
            if not records:
                return False
            problems = self.set_records(records)
            self._current().index.guide_scorer()
        except Exception as exc:  # a broken cache must not take the file catalogue away
            log.error("catalogue source unusable; keeping the current catalogue",
                      extra={"fields": {"error": str(exc)}})
            return False
        self._source_version = version
        log.info("catalogue taken from the backend cache", extra={"fields": {
            "version": version, "items": len(records), "problems": len(problems)}})
        return True

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    def _current(self) -> _Loaded:
        loaded = self._loaded
        if loaded is None:
            self.load(warm_up=False)
            loaded = self._loaded
        assert loaded is not None
        return loaded

    # -- use ---------------------------------------------------------------------------------
    @property
    def items(self) -> list[CatalogItem]:
        return self._current().items

    @property
    def browser(self) -> Browser:
        return Browser(self._current().items, self.clicks.counts)

    @property
    def problems(self) -> list[str]:
        return self._current().problems

    @property
    def build_seconds(self) -> float:
        return self._current().build_seconds

    def item(self, code: str) -> CatalogItem | None:
        return self._current().by_code.get(code)

    def search(self, query: str, limit: int = 10, only: Callable[[CatalogItem], bool] | None = None
               ) -> list[SearchResult]:
        """The best ``limit`` results; with ``only``, among the items it accepts (e.g. the items that
        can be applied for here), searched over the whole catalogue first so none is cut off."""
        loaded = self._current()
        if only is None:
            return loaded.index.search(query, limit, clicks=self.clicks.counts())
        results = loaded.index.search(query, max(limit, len(loaded.items)), clicks=self.clicks.counts())
        return [result for result in results if only(result.item)][:limit]

    def hot(self) -> list[CatalogItem]:
        return self.browser.hot(self.hot_items)

    def record_open(self, code: str) -> None:
        """A resident opened the guide of ``code``: it ranks a little higher from now on."""
        if self.item(code) is not None:
            self.clicks.record(code)

    def vocabulary(self) -> list[str]:
        """Words of this catalogue worth offering first when typing a search (for the IME)."""
        loaded = self._current()
        words = {w for item in loaded.items for w in item.keywords}
        words.update(w for g in self._synonym_table().groups for w in g.everyday + g.official)
        return sorted(w for w in words if 2 <= len(w) <= 8)

    def close(self) -> None:
        self.clicks.close()
