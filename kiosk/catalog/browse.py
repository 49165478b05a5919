"""Browsing the catalogue without typing: by life event, department, 个人/法人, and hot items.

Lists are ordered the way a resident expects: life events in the order of a life (出生 →
上学 → … → 身后事), departments by how many items they offer, items by popularity plus local
clicks. Only events and departments that have items are offered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from kiosk.catalog.index import click_boost
from kiosk.catalog.items import CatalogItem

#: the schema's life events, in the order of a life
LIFE_EVENTS = ("出生", "上学", "就业", "创业", "结婚", "生育", "住房", "就医", "社保", "养老", "退休",
               "残疾人服务", "退役军人", "身后事", "出行", "经营", "农业生产")
AUDIENCES = ("person", "organisation")


@dataclass(frozen=True)
class Group:
    key: str
    count: int


class Browser:
    def __init__(self, items: Iterable[CatalogItem], clicks: Callable[[], dict[str, int]] | None = None):
        self.items = list(items)
        self._clicks = clicks or (lambda: {})

    def _ordered(self, items: Iterable[CatalogItem]) -> list[CatalogItem]:
        clicks = self._clicks()
        return sorted(items, key=lambda it: (-(it.popularity + click_boost(clicks.get(it.code, 0))),
                                             len(it.name), it.code))

    def hot(self, count: int = 12) -> list[CatalogItem]:
        return self._ordered(self.items)[:count]

    def life_events(self) -> list[Group]:
        counts: dict[str, int] = {}
        for item in self.items:
            for event in set(item.life_events):
                counts[event] = counts.get(event, 0) + 1
        known = [Group(e, counts[e]) for e in LIFE_EVENTS if e in counts]
        others = sorted((Group(e, n) for e, n in counts.items() if e not in LIFE_EVENTS), key=lambda g: -g.count)
        return known + others

    def by_life_event(self, event: str) -> list[CatalogItem]:
        return self._ordered(i for i in self.items if event in i.life_events)

    def departments(self) -> list[Group]:
        counts: dict[str, int] = {}
        for item in self.items:
            if item.department:
                counts[item.department] = counts.get(item.department, 0) + 1
        return sorted((Group(d, n) for d, n in counts.items()), key=lambda g: (-g.count, g.key))

    def by_department(self, department: str) -> list[CatalogItem]:
        return self._ordered(i for i in self.items if i.department == department)

    def by_audience(self, audience: str) -> list[CatalogItem]:
        """"person" (个人办事: 自然人) or "organisation" (法人办事: 法人, 非法人组织)."""
        if audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {AUDIENCES}")
        if audience == "person":
            return self._ordered(i for i in self.items if i.for_persons)
        return self._ordered(i for i in self.items if i.for_organisations)
