"""查找事项 and 办事指南: find a service item by typing or browsing, then read its guide.

``SearchScreen``: a search field with the kiosk keyboard; results appear as the resident
types, the matched part of each name highlighted; with nothing typed, the resident browses
popular items, life events (出生, 上学 … 身后事), departments, or 个人/法人 items.
Touching an item counts a click (it ranks a little higher next time) and opens
``GuideScreen``: conditions, materials, time limit, fees, steps, where to go, phone and
legal basis, in large type. The search is cleared when the resident's session ends.

The search field is focused (and the keyboard shown) when the screen opens, except when
the resident comes back from a guide to the list they were reading. Actionable widgets
carry the ``widget_id`` that testers' scenarios name (docs/scenarios.md): ``search.field``,
``search.clear``, ``search.tab.<tab>``, ``search.result.<N>``, ``search.group.<N>``,
``search.back_to_groups`` and ``guide.back``.

Everything is computed by the core (``kiosk.catalog``); these classes only lay it out.
"""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.utils import escape_markup

from kiosk.catalog.guide import build_guide
from kiosk.catalog.index import SearchResult
from kiosk.catalog.items import CatalogItem
from screens.base import KioskScreen
from screens.registry import terminal_offers
from screens.ui_thread import kivy_deliver
from screens.widgets import KioskButton, KioskLabel

log = logging.getLogger(__name__)

SEARCH_DELAY = 0.12  # seconds after the last key before searching
RESULT_LIMIT = 30
HIGHLIGHT = "C8102E"
TABS = ("hot", "events", "departments", "person", "organisation")


def highlighted(name: str, spans) -> str:
    """``name`` as Kivy markup with the matched spans in bold red."""
    out, last = [], 0
    for start, end in spans:
        if start < last or end > len(name):
            continue
        out.append(escape_markup(name[last:start]))
        out.append(f"[b][color={HIGHLIGHT}]{escape_markup(name[start:end])}[/color][/b]")
        last = end
    out.append(escape_markup(name[last:]))
    return "".join(out)


class ResultRow(ButtonBehavior, BoxLayout):
    """One item in a list: its name (matched part highlighted) and a line about it."""

    title = StringProperty("")
    detail = StringProperty("")
    code = StringProperty("")
    badge = StringProperty("")
    widget_id = StringProperty("")  # search.result.N: the N-th item of the list shown


class GroupButton(KioskButton):
    key = StringProperty("")
    widget_id = StringProperty("")  # search.group.N, search.back_to_groups


class TabButton(KioskButton):
    tab = StringProperty("")
    selected = BooleanProperty(False)
    widget_id = StringProperty("")  # search.tab.<tab>


class SearchScreen(KioskScreen):
    mode = OptionProperty("browse", options=("browse", "results"))
    #: "apply" when opened from the home tile 在本机申请 (issue 11): only items that can be applied for here
    scope = OptionProperty("all", options=("all", "apply"))
    tab = OptionProperty("hot", options=TABS)
    group = StringProperty("")          # the life event or department being listed
    status_text = StringProperty("")
    result_count = NumericProperty(0)
    results = ListProperty([])
    #: set by the guide's 返回 button: the resident goes back to the list, not to typing
    returning_from_guide = BooleanProperty(False)

    def on_kv_post(self, _base):
        app = App.get_running_app()
        self._pending = None
        self._last_query = None
        app.bind(tr=lambda *_: self.refresh())
        app.kiosk.session.subscribe(
            lambda event, _reason: kivy_deliver(self.reset) if event == "ended" else None)
        self.ids.field.bind(text=self._text_changed, composition=self._text_changed)
        self.refresh()

    @property
    def catalog(self):
        return App.get_running_app().kiosk.catalog

    def on_pre_enter(self, *_args) -> None:
        """Pick up a newer catalogue (a backend sync) in the background; show it when built."""
        app = App.get_running_app()
        if self.catalog is not None and self.catalog.ready:
            app.tasks.submit(self.catalog.refresh, on_done=lambda changed: self.refresh() if changed else None)

    def on_enter(self, *_args) -> None:
        """Ready to type: focus the field (which shows the keyboard), unless the resident is
        coming back from a guide to the list they were reading."""
        returning, self.returning_from_guide = self.returning_from_guide, False
        if not returning and self.scope != "apply":  # the few items applied for here show without typing
            self.ids.field.focus = True

    # -- typing --------------------------------------------------------------------------
    def query(self) -> str:
        """What to search for: the text, and the pinyin still being composed after it."""
        field = self.ids.field
        return (field.text + field.composition).strip()

    def _text_changed(self, _field, _text) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._pending = Clock.schedule_once(lambda _dt: self.refresh(), SEARCH_DELAY)

    def set_query(self, text: str) -> None:
        """Show the results for ``text`` now (also used by ``kiosk shot --query``)."""
        self.ids.field.text = text
        if self._pending is not None:
            self._pending.cancel()
        self.refresh()

    def prepare_shot(self, query: str | None = None, keys: str | None = None,
                     open_result: int | None = None) -> None:
        """For ``kiosk shot search``: a query's results, keys typed on the keyboard, or the
        N-th result's guide opened."""
        if query:
            self.set_query(query)
        if open_result:
            if not 1 <= open_result <= len(self.results):
                raise ValueError(f"there is no result {open_result} for {query!r}")
            self.open_item(self.results[open_result - 1].item.code)
            return
        if keys:
            from screens.keyboard import KeyboardDock

            self.ids.field.focus = True
            keyboard = KeyboardDock.find().keyboard
            keyboard.attach(self.ids.field)
            for key in keys:
                keyboard.press_key(key)

    def clear(self) -> None:
        from screens.keyboard import KeyboardDock

        dock = KeyboardDock.find()
        if dock is not None and dock.keyboard.target is self.ids.field:
            dock.keyboard.composer.reset()
            dock.keyboard.refresh_candidates()
        self.ids.field.text = ""
        self.refresh()

    def reset(self) -> None:
        """A new resident: nothing of the previous search stays on screen."""
        self.ids.field.text = ""
        self.tab, self.group = "hot", ""
        self.scope = "all"
        self.refresh()

    def open_for(self, journey: str) -> None:
        """The home tile that opened this screen: ``apply`` limits it to items applied for here."""
        scope = "apply" if journey == "apply" else "all"
        if scope != self.scope:
            self.ids.field.text = ""
            self.tab, self.group = "hot", ""
        self.scope = scope
        if scope == "apply":
            self.ids.field.focus = False
        self.refresh()

    def _only(self):
        return (lambda item: item.can_apply_here) if self.scope == "apply" else None

    # -- showing -------------------------------------------------------------------------
    def refresh(self) -> None:
        app = App.get_running_app()
        catalog = self.catalog
        query = self.query()
        listing = self.ids.listing
        if catalog is None or not catalog.ready:
            self.mode = "results" if query else "browse"
            listing.clear_widgets()
            if catalog is not None and catalog.error:
                self.status_text = app.tr("search.unavailable")
            else:
                self.status_text = app.tr("search.loading")
                Clock.schedule_once(lambda _dt: self.refresh(), 0.3)
            return
        if query:
            self.mode = "results"
            self._show_results(query)
        else:
            self.mode = "browse"
            self._show_browse()
        self._update_tabs()

    def _show_results(self, query: str) -> None:
        app = App.get_running_app()
        results = self.catalog.search(query, RESULT_LIMIT, only=self._only())
        self.results = results
        self.result_count = len(results)
        listing = self.ids.listing
        listing.clear_widgets()
        if results:
            self.status_text = app.tr("search.found", n=len(results))
        elif self.scope == "apply":
            self.status_text = app.tr("apply.search_none", query=query)
        else:
            self.status_text = app.tr("search.none", query=query) + "\n" + app.tr("search.none_tip")
        for number, result in enumerate(results, start=1):
            listing.add_widget(self._row(result.item, result, number))
        self.ids.scroller.scroll_y = 1

    def _show_browse(self) -> None:
        app = App.get_running_app()
        browser = self.catalog.browser
        listing = self.ids.listing
        listing.clear_widgets()
        self.results = []
        self.status_text = app.tr("search.browse_prompt")
        if self.scope == "apply":
            self.status_text = app.tr("apply.search_browse")
            items = [item for item in self.catalog.items if item.can_apply_here]
            items.sort(key=lambda item: -item.popularity)
            for number, item in enumerate(items, start=1):
                listing.add_widget(self._row(item, None, number))
            self.ids.scroller.scroll_y = 1
            return
        if self.tab in ("events", "departments") and not self.group:
            groups = browser.life_events() if self.tab == "events" else browser.departments()
            for number, group in enumerate(groups, start=1):
                button = GroupButton(text=app.tr("search.group", name=group.key, n=group.count), key=group.key,
                                     kind="secondary", widget_id=f"search.group.{number}")
                button.bind(on_release=lambda b: self.open_group(b.key))
                listing.add_widget(button)
        else:
            if self.group:
                back = GroupButton(text=app.tr("search.back_to_groups") + "  " + self.group, kind="secondary",
                                   widget_id="search.back_to_groups")
                back.bind(on_release=lambda _b: self.open_group(""))
                listing.add_widget(back)
            if self.tab == "hot":
                items = self.catalog.hot()
            elif self.tab == "events":
                items = browser.by_life_event(self.group)
            elif self.tab == "departments":
                items = browser.by_department(self.group)
            else:
                items = browser.by_audience(self.tab)
            for number, item in enumerate(items, start=1):
                listing.add_widget(self._row(item, None, number))
        self.ids.scroller.scroll_y = 1

    def _row(self, item: CatalogItem, result: SearchResult | None, number: int) -> ResultRow:
        app = App.get_running_app()
        spans = result.spans if result is not None else ()
        parts = [item.department] if item.department else []
        limit = item.data.get("time_limit") if isinstance(item.data.get("time_limit"), dict) else {}
        if limit.get("kind") == "即办件":
            parts.append(app.tr("guide.fact_on_the_spot"))
        elif isinstance(limit.get("promised_days"), int) and limit.get("promised_days"):
            parts.append(app.tr("guide.fact_days", days=limit["promised_days"]))
        if result is not None and result.via and (result.via_field in ("synonym", "life_event") or
                                                  not result.spans):
            parts.append(app.tr("search.via", text=result.via))  # why an unexpected name came up
        row = ResultRow(title=highlighted(item.name, spans), detail=escape_markup(" · ".join(parts)),
                        code=item.code, badge=app.tr("search.badge_apply") if item.can_apply_here and self.scope == "all"
                        and "apply" in terminal_offers() else "",
                        widget_id=f"search.result.{number}")
        row.bind(on_release=lambda r: self.open_item(r.code))
        return row

    def _update_tabs(self) -> None:
        for button in self.ids.tabs.children:
            button.selected = button.tab == self.tab

    # -- actions -------------------------------------------------------------------------
    def choose_tab(self, tab: str) -> None:
        self.tab, self.group = tab, ""
        if self.ids.field.text:
            self.ids.field.text = ""
        self.ids.field.focus = False
        self.refresh()

    def open_group(self, key: str) -> None:
        self.group = key
        self.refresh()

    def open_item(self, code: str) -> None:
        app = App.get_running_app()
        self.catalog.record_open(code)
        self.ids.field.focus = False
        app.go("guide")
        app.screens.get_screen("guide").show(code)


class GuideScreen(KioskScreen):
    code = StringProperty("")
    item_name = StringProperty("")
    facts = ListProperty([])
    #: the item can be applied for here: the guide offers 在本机申请 (``guide.apply``, issue 11)
    can_apply = BooleanProperty(False)

    def on_kv_post(self, _base):
        App.get_running_app().bind(tr=lambda *_: self.show(self.code) if self.code else None)

    def show(self, code: str) -> None:
        app = App.get_running_app()
        self.code = code
        catalog = app.kiosk.catalog
        item = catalog.item(code) if catalog is not None and catalog.ready else None
        body = self.ids.sections
        body.clear_widgets()
        if item is None:
            self.item_name = app.tr("guide.not_found")
            self.facts = []
            self.can_apply = False
            return
        guide = build_guide(item, app.tr, terminal_offers())
        self.can_apply = item.can_apply_here and "apply" in terminal_offers()
        self.item_name = guide.name
        self.facts = list(guide.facts)
        facts = self.ids.facts
        facts.clear_widgets()
        for fact in guide.facts:
            facts.add_widget(FactChip(text=fact))
        for section in guide.sections:
            body.add_widget(SectionTitle(text=app.tr(section.title_key)))
            for number, line in enumerate(section.lines, start=1):
                prefix = f"{number}. " if section.numbered and len(section.lines) > 1 else ""
                body.add_widget(GuideText(text=prefix + line.text, bold=line.emphasis and not section.numbered))
                if line.detail:
                    body.add_widget(GuideDetail(text=line.detail))
        self.ids.scroller.scroll_y = 1

    def apply(self) -> None:
        """``guide.apply``: start applying for this item (asking for identification first if needed)."""
        from screens.apply import start_application

        start_application(App.get_running_app(), self.code)

    def back(self) -> None:
        app = App.get_running_app()
        if app.screens.has_screen("search"):
            app.screens.get_screen("search").returning_from_guide = True
        app.go("search")


class FactChip(Label):
    pass


class SectionTitle(KioskLabel):
    pass


class GuideText(KioskLabel):
    pass


class GuideDetail(KioskLabel):
    pass
