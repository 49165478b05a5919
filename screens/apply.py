"""申请 at the kiosk: six thin screens over ``kiosk.flows.apply.ApplyFlow`` (``kiosk.apply``).

``start_application(app, code)`` (``guide.apply``) starts the flow and shows the screen of its
state; when nobody is signed in that is the identify screen, which comes back to
``apply.form`` once the resident is. Each screen shows the flow's state, calls its methods,
and moves to the screen of the flow's new state by itself:

- ``apply.form``: the fields (card data in full, typed fields with the kiosk keyboard: digits
  for phones and ID numbers, pinyin for text; choices as buttons), each checked as it is left;
  or, for an applicant who does not meet a condition, the kind message with the date;
- ``apply.materials``: the materials list, the current material with its example picture,
  the live preview with the page outline, 拍照 (each tap a page), the pages with 重拍 and 删除,
  告知承诺 on a signature pad, and the 一次性告知单;
- ``apply.consent``: purpose, what is collected and how long it is kept, one box per consent;
- ``apply.delivery``: 窗口领取 (which centre), 免费邮寄 (the address), 本机自助柜取件;
- ``apply.review``: everything with a 修改 per part, 提交 and the upload's progress bar;
- ``apply.done``: the acceptance number large (or the local reference when it waits for the
  network), 即办 or the promised date, what happens next, and the receipt's printing.

Every actionable widget carries its ``widget_id`` (docs/scenarios.md).
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.apply.examples import example_path
from screens.base import KioskScreen
from screens.keyboard import KioskTextInput
from screens.preview import CameraPreview  # noqa: F401  (apply.kv uses it)
from screens.signature import SignaturePad  # noqa: F401  (apply.kv uses it)
from screens.ui_thread import kivy_deliver
from screens.widgets import KioskButton, KioskLabel  # noqa: F401  (apply.kv uses KioskLabel)

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).resolve().parent / "apply.kv"

#: the flow's state → the screen that shows it
SCREEN_OF = {
    "ineligible": "apply.form", "form": "apply.form",
    "materials": "apply.materials", "signing": "apply.materials", "notice": "apply.materials",
    "consent": "apply.consent",
    "delivery": "apply.delivery", "post_address": "apply.delivery",
    "review": "apply.review", "submitting": "apply.review", "refused": "apply.review",
    "done": "apply.done",
}
STEP_OF = {"apply.form": 1, "apply.materials": 2, "apply.consent": 3, "apply.delivery": 4, "apply.review": 5,
           "apply.done": 6}
INPUT_KINDS = {"text": "chinese", "phone": "phone", "id_number": "id_number", "digits": "digits", "date": "digits"}
HINT_KEYS = {"searching": "apply.hint_searching", "hold_still": "apply.hint_hold_still", "ready": "apply.hint_ready",
             "captured": "apply.hint_captured", "full": "apply.hint_full", "replace": "apply.hint_replace"}


def start_application(app, code: str) -> None:
    """Start applying for item ``code`` and show where the journey stands."""
    try:
        flow = app.kiosk.new_apply_flow(code)
    except ValueError:
        log.warning("item cannot be applied for here", extra={"fields": {"item": code}})
        return
    if flow.state == "identify":
        app.go("identify")
        app.screens.get_screen("identify").next_screen = "apply.form"
    else:
        app.go(SCREEN_OF.get(flow.state, "apply.form"))


class ApplyScreen(KioskScreen):
    """What every apply screen shares: the flow, the step line, the problem line, moving on."""

    flow = ObjectProperty(None, allownone=True)
    item_name = StringProperty("")
    step_text = StringProperty("")
    problem_text = StringProperty("")
    state = StringProperty("")

    def on_kv_post(self, _base):
        self._subscription = None

    def on_pre_enter(self, *_args) -> None:
        app = App.get_running_app()
        self.flow = app.kiosk.apply
        if self.flow is not None:
            self._subscription = self.flow.subscribe(lambda _flow: kivy_deliver(self.refresh))
        self.refresh()

    def on_leave(self, *_args) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        self.left()

    def left(self) -> None:
        """The screen is no longer shown (a subclass stops its preview here)."""

    def refresh(self) -> None:
        app = App.get_running_app()
        flow = self.flow
        if self.manager is None or self.manager.current != self.name:
            return
        if flow is None or flow.ended:  # declined, left with the notice, or the session ended
            app.go_home()
            return
        target = SCREEN_OF.get(flow.state)
        if target is not None and target != self.name:
            app.go(target)
            return
        self.item_name = flow.item.name
        step = STEP_OF.get(self.name, 1)
        self.step_text = app.tr("apply.step", n=step, total=6, name=app.tr(f"apply.step_{step}"))
        self.problem_text = app.tr(flow.problem, **flow.problem_values) if flow.problem else ""
        self.state = flow.state
        self.show(app, flow)

    def show(self, app, flow) -> None:
        """Lay out this screen for the flow's state."""


class ApplyMaterialRow(ButtonBehavior, BoxLayout):
    """One material in the list: its name with a mark, and how it is provided."""

    text = StringProperty("")
    detail = StringProperty("")
    current = BooleanProperty(False)
    widget_id = StringProperty("")  # materials.item.N


class ApplyPageCard(BoxLayout):
    """A captured page's preview with 重拍 and 删除."""

    source = StringProperty("")
    title = StringProperty("")


class ApplyReviewCard(BoxLayout):
    """One part of the review with its 修改 button."""

    title = StringProperty("")
    body = StringProperty("")


# -- 1 填写信息 ------------------------------------------------------------------------------

class ApplyFormScreen(ApplyScreen):
    ineligible_text = StringProperty("")
    ineligible_condition = StringProperty("")

    def on_kv_post(self, base):
        super().on_kv_post(base)
        self._built_for = None
        self._inputs: dict[str, KioskTextInput] = {}
        self._problems: dict[str, KioskLabel] = {}
        self._choices: dict[str, list[KioskButton]] = {}
        self._panels = {"form": self.ids.form_panel.__self__, "ineligible": self.ids.ineligible_panel.__self__}
        self.ids.body.clear_widgets()

    def show(self, app, flow) -> None:
        panel = self._panels["ineligible" if flow.state == "ineligible" else "form"]
        if panel.parent is None:
            self.ids.body.clear_widgets()
            self.ids.body.add_widget(panel)
        if flow.state == "ineligible":
            self.ineligible_condition = app.tr("apply.condition", text=flow.problem_values.get("condition", ""))
            self.ineligible_text = app.tr(flow.problem, **flow.problem_values)
            self.problem_text = ""
            return
        if self._built_for is not flow:
            self._build(app, flow)
        for key, label in self._problems.items():
            problem = flow.field_problems.get(key)
            label.text = app.tr(problem.key, **problem.values) if problem else ""
        for key, buttons in self._choices.items():
            for button in buttons:
                button.kind = "toggle_on" if flow.values.get(key) == button.option else "secondary"

    def _build(self, app, flow) -> None:
        holder = self.ids.fields
        holder.clear_widgets()
        self._inputs, self._problems, self._choices = {}, {}, {}
        self._built_for = flow
        for spec in flow.spec.fields:
            holder.add_widget(Factory.ApplyFieldLabel(text=spec.label + ("" if spec.required else
                                                                         app.tr("apply.optional"))))
            value = flow.values.get(spec.key, "")
            if not flow.field_editable(spec.key):
                box = Factory.ApplyReadOnly(text=value or "—")
                holder.add_widget(box)
            elif spec.type == "choice":
                row = Factory.ApplyChoiceRow()
                self._choices[spec.key] = []
                for number, option in enumerate(spec.options, start=1):
                    button = Factory.ApplyChoiceButton(text=option, widget_id=f"form.{spec.key}.{number}")
                    button.option = option
                    button.bind(on_release=lambda b, key=spec.key: self.choose(key, b.option))
                    row.add_widget(button)
                    self._choices[spec.key].append(button)
                holder.add_widget(row)
            else:
                # (text is set once the field exists: set in the constructor, it loops Kivy's layout)
                field = KioskTextInput(widget_id=f"form.{spec.key}",
                                       input_kind=INPUT_KINDS.get(spec.type, "chinese"),
                                       max_length=8 if spec.type == "date" else spec.max_length,
                                       hint_text=spec.hint, enter_label=app.tr("apply.field_done"),
                                       ime_context="address" if spec.key == "address" else "general")
                field.text = value
                field.bind(focus=lambda f, focused, key=spec.key: None if focused else self.leave_field(key, f))
                field.bind(on_text_validate=lambda f, key=spec.key: self.leave_field(key, f))
                self._inputs[spec.key] = field
                holder.add_widget(field)
            problem = Factory.ApplyFieldProblem()
            self._problems[spec.key] = problem
            holder.add_widget(problem)
        self.ids.scroller.scroll_y = 1

    def leave_field(self, key: str, field) -> None:
        if self.flow is not None and self.flow.state == "form":
            self.flow.set_field(key, field.text)

    def choose(self, key: str, option: str) -> None:
        self.flow.set_field(key, option)

    def next(self) -> None:
        for key, field in self._inputs.items():
            self.flow.set_field(key, field.text)
        self.flow.next()

    def left(self) -> None:
        self._built_for = None


# -- 2 材料 ------------------------------------------------------------------------------------

class ApplyMaterialsScreen(ApplyScreen):
    position_text = StringProperty("")
    auto_text = StringProperty("")
    shows_camera = BooleanProperty(False)
    material_name = StringProperty("")
    material_note = StringProperty("")
    material_status = StringProperty("")
    hint_text = StringProperty("")
    example = StringProperty("")
    pages_text = StringProperty("")
    capturing = BooleanProperty(False)
    camera_ok = BooleanProperty(True)
    automatic = BooleanProperty(False)
    can_commit = BooleanProperty(False)
    commitment_text = StringProperty("")
    notice_text = StringProperty("")
    missing_text = StringProperty("")
    page_count = NumericProperty(0)

    def on_kv_post(self, base):
        super().on_kv_post(base)
        self._hint_event = None
        self._attached = None
        self._pages_shown = None
        # one panel at a time is in the tree: a hidden, disabled widget would still take touches
        self._panels = {state: self.ids[name].__self__ for state, name in (
            ("materials", "capture_panel"), ("signing", "signing_panel"), ("notice", "notice_panel"),
            ("checklist", "checklist_panel"))}
        self.ids.panels.clear_widgets()

    def _attach_panels(self, state: str) -> None:
        wanted = [self._panels[state]] if state in self._panels else []
        if state == "materials":
            wanted.append(self._panels["checklist"])
        holder = self.ids.panels
        if list(reversed(holder.children)) != wanted:
            holder.clear_widgets()
            for panel in wanted:
                holder.add_widget(panel)
            self.ids.scroller.scroll_y = 1

    def show(self, app, flow) -> None:
        self._attach_panels(flow.state)
        self._list(app, flow)
        material = flow.material
        self.capturing = flow.capturing
        self.camera_ok = flow.camera_ok
        if flow.state == "signing":
            self._detach()
            self.commitment_text = material.spec.commitment if material is not None else ""
            return
        if flow.state == "notice":
            self._detach()
            key = flow.notice_key
            self.notice_text = app.tr("apply.notice_printed" if key == "receipt.printed" else key) if key else ""
            lines = []
            for number, material in enumerate(flow.missing_materials(), start=1):
                lines.append(f"{number}. {material.name}")
                if material.spec.where_to_get:
                    lines.append("    " + app.tr("apply.notice_where", where=material.spec.where_to_get))
            self.missing_text = "\n".join(lines)
            return
        if material is None:
            return
        if getattr(self, "_material_shown", None) is not material:  # a new material: no hint of the last one
            self._material_shown = material
            self.hint_text = ""
        askable = [m for m in flow.materials if not m.automatic]
        if material in askable:
            self.position_text = app.tr("apply.material_position", n=askable.index(material) + 1, total=len(askable))
        else:
            self.position_text = ""
        automatic = [m for m in flow.materials if m.automatic and m is not material]
        self.auto_text = app.tr("apply.material_auto", names="；".join(
            f"{m.name}（{m.receipt_text()}）" for m in automatic)) if automatic else ""
        self.material_name = material.name
        self.material_note = material.note
        self.automatic = material.automatic
        self.can_commit = flow.can_commit and material.how != "commitment"
        self.example = str(example_path(material.spec.example) or "")
        if material.how == "id_card":
            self.material_status = app.tr("apply.material_id_card")
        elif material.how == "e_licence":
            self.material_status = app.tr("apply.material_licence", name=material.licence.name)
        elif material.how == "commitment":
            self.material_status = app.tr("apply.material_committed")
        else:
            self.material_status = ""
        expected = material.spec.pages
        self.page_count = len(material.pages) if material.how == "pages" else 0
        self.pages_text = (app.tr("apply.pages_taken", n=self.page_count, expected=expected) if self.page_count
                           else app.tr("apply.pages_expected", expected=expected))
        self.shows_camera = (not material.automatic and material.how != "commitment" and flow.camera_ok
                             and flow.camera is not None)
        self._pages(app, flow, material)
        if flow.looking_up:
            self.hint_text = app.tr("apply.looking_up")
        if not material.automatic and flow.state == "materials":
            self._attach(flow)
        else:
            self._detach()

    def _list(self, app, flow) -> None:
        holder = self.ids.checklist
        holder.clear_widgets()
        for position, material in enumerate(flow.materials):
            mark = "✓" if material.provided else ("·" if material.how == "skipped" else "○")
            how = material.receipt_text() or (app.tr("apply.material_skipped") if material.how == "skipped" else
                                              app.tr("apply.material_todo"))
            row = ApplyMaterialRow(text=f"{mark} {material.name}", detail=how, current=position == flow.current,
                                   widget_id=f"materials.item.{position + 1}")
            row.bind(on_release=lambda _r, p=position: self.flow.choose_material(p))
            holder.add_widget(row)

    def _pages(self, app, flow, material) -> None:
        shown = (id(material), tuple(p.preview for p in material.pages), flow.retaking())
        if shown == self._pages_shown:
            return
        self._pages_shown = shown
        holder = self.ids.pages
        holder.clear_widgets()
        if material.how != "pages":
            return
        retaking = flow.retaking()
        for number, page in enumerate(material.pages, start=1):
            card = ApplyPageCard(source=str(page.preview),
                                         title=app.tr("apply.page_n", n=number) + (
                                             app.tr("apply.retaking") if retaking == number - 1 else ""))
            card.ids.retake_button.widget_id = f"materials.retake.{number}"
            card.ids.retake_button.bind(on_release=lambda _b, i=number - 1: self.flow.retake(i))
            card.ids.remove_button.widget_id = f"materials.remove.{number}"
            card.ids.remove_button.bind(on_release=lambda _b, i=number - 1: self.flow.remove_page(i))
            holder.add_widget(card)

    # -- the live preview ------------------------------------------------------------------
    def _attach(self, flow) -> None:
        live = flow.live()
        preview = self.ids.preview
        if live is None:
            self._detach()
            return
        if self._attached is not live[0] or preview._poll is None:
            preview.attach(*live)
            self._attached = live[0]
        if self._hint_event is None:
            self._hint_event = Clock.schedule_interval(lambda _dt: self._update_hint(), 0.25)

    def _detach(self) -> None:
        if "preview" in self.ids:
            self.ids.preview.detach()
        self._attached = None
        if self._hint_event is not None:
            self._hint_event.cancel()
            self._hint_event = None

    def _update_hint(self) -> None:
        app = App.get_running_app()
        flow = self.flow
        if flow is None or flow.ended or flow.state != "materials":
            return
        if flow.capturing:
            self.hint_text = app.tr("apply.hint_capturing")
            return
        if flow.looking_up:
            self.hint_text = app.tr("apply.looking_up")
            return
        live = flow.live()
        result = live[1]() if live is not None else None
        state = result.hint.state if result is not None and result.hint is not None else "searching"
        if state == "captured" and self.page_count:
            self.hint_text = app.tr("apply.hint_captured", n=self.page_count)
        else:
            self.hint_text = app.tr(HINT_KEYS.get(state, "apply.hint_searching"))

    def left(self) -> None:
        self._detach()
        self._pages_shown = None

    # -- actions ---------------------------------------------------------------------------
    def sign(self) -> None:
        pad = self.ids.pad
        if self.flow.sign(pad.strokes()):
            pad.clear()

    def clear_pad(self) -> None:
        self.ids.pad.clear()

    def go_home(self) -> None:
        app = App.get_running_app()
        if self.flow is not None:
            self.flow.leave()
        app.go_home()


# -- 3 同意 ------------------------------------------------------------------------------------

class ApplyConsentScreen(ApplyScreen):
    purpose = StringProperty("")
    collected = StringProperty("")
    retention = StringProperty("")
    terms = BooleanProperty(False)
    sensitive = BooleanProperty(False)
    asks_sensitive = BooleanProperty(False)
    all_ticked = BooleanProperty(False)

    def show(self, app, flow) -> None:
        self.purpose, self.collected, self.retention = flow.spec.purpose, flow.spec.collected, flow.spec.retention
        boxes = flow.consent_boxes
        self.asks_sensitive = "sensitive" in boxes
        self.terms = bool(flow.consent.get("terms"))
        self.sensitive = bool(flow.consent.get("sensitive"))
        self.all_ticked = all(flow.consent.get(box) for box in boxes)

    def decline(self) -> None:
        app = App.get_running_app()
        self.flow.decline()
        app.go_home()
        # after the session's end has cleared the last toast
        Clock.schedule_once(lambda _dt: app.show_toast(app.tr("apply.declined"), kind="ok"), 0.3)


# -- 4 领取方式 --------------------------------------------------------------------------------

class ApplyDeliveryScreen(ApplyScreen):
    offers_window = BooleanProperty(False)
    offers_post = BooleanProperty(False)
    offers_locker = BooleanProperty(False)
    centre = StringProperty("")
    choosing_centre = BooleanProperty(False)
    address_problem = StringProperty("")

    def show(self, app, flow) -> None:
        options = flow.delivery_options()
        self.offers_window, self.offers_post, self.offers_locker = (m in options for m in ("window", "post", "locker"))
        self.centre = flow.delivery.centre or flow.default_centre()
        problem = flow.address_problem
        self.address_problem = app.tr(problem.key, **problem.values) if problem else ""
        if flow.state == "post_address":
            if not self.ids.address.text and not self.ids.address.focus:
                self.ids.address.text = flow.delivery.address
            if not self.ids.post_phone.text and not self.ids.post_phone.focus:
                self.ids.post_phone.text = flow.delivery.phone
        self._centres(app, flow)

    def _centres(self, app, flow) -> None:
        holder = self.ids.centres
        holder.clear_widgets()
        if not self.choosing_centre:
            return
        for number, centre in enumerate(flow.centres(), start=1):
            button = KioskButton(text=centre, widget_id=f"delivery.centre.{number}",
                                 kind="toggle_on" if centre == self.centre else "secondary")
            button.bind(on_release=lambda _b, c=centre: self.pick_centre(c))
            holder.add_widget(button)

    def toggle_centres(self) -> None:
        self.choosing_centre = not self.choosing_centre
        self.refresh()

    def pick_centre(self, centre: str) -> None:
        self.choosing_centre = False
        self.flow.choose_centre(centre)

    def choose(self, method: str) -> None:
        self.choosing_centre = False
        self.flow.choose_delivery(method)

    def next(self) -> None:
        self.flow.submit_address(self.ids.address.text, self.ids.post_phone.text)

    def left(self) -> None:
        self.choosing_centre = False
        if "address" in self.ids:
            self.ids.address.text = ""
            self.ids.post_phone.text = ""


# -- 5 确认提交 --------------------------------------------------------------------------------

class ApplyReviewScreen(ApplyScreen):
    promise_text = StringProperty("")
    progress = NumericProperty(0)
    progress_text = StringProperty("")
    submitting = BooleanProperty(False)

    def on_kv_post(self, base):
        super().on_kv_post(base)
        self._progress_panel = self.ids.progress_panel.__self__
        self.ids.parts.clear_widgets()

    def show(self, app, flow) -> None:
        self.submitting = flow.state == "submitting"
        sent, total = flow.progress
        self.progress = (100.0 * sent / total) if total else 0
        self.progress_text = app.tr("apply.uploading", percent=int(self.progress), sent=_mb(sent), total=_mb(total)) \
            if total else app.tr("apply.preparing")
        if self.submitting:
            if self._progress_panel.parent is None:
                self.ids.parts.clear_widgets()
                self.ids.parts.add_widget(self._progress_panel)
        else:
            self._build(app, flow)

    def _build(self, app, flow) -> None:
        from kiosk.apply.form import shown

        holder = self.ids.parts
        holder.clear_widgets()
        limit = flow.item.data.get("time_limit") or {}
        when = (app.tr("apply.done_on_the_spot") if limit.get("kind") == "即办件"
                else app.tr("apply.review_promise", days=limit.get("promised_days", 0)))
        details = [f"{spec.label}：{shown(spec, flow.values.get(spec.key, '')) or '—'}" for spec in flow.spec.fields]
        if flow.agent is not None:
            details.insert(0, app.tr("apply.review_agent", agent=flow.agent.name))
        sections = [("apply.review_form", details, "form")]
        if flow.materials:
            lines = []
            for material in flow.materials:
                how = material.receipt_text() or app.tr("apply.material_skipped")
                lines.append(f"{material.name}：{how}")
            sections.append(("apply.review_materials", lines, "materials"))
        consent = "apply.review_consent_sensitive" if "sensitive" in flow.consent_boxes else "apply.review_consent_terms"
        sections.append(("apply.review_consent", [app.tr(consent)], "consent"))
        sections.append(("apply.review_delivery", [flow.delivery_text()], "delivery"))
        self.promise_text = when
        for title_key, lines, part in sections:
            card = ApplyReviewCard(title=app.tr(title_key), body="\n".join(lines))
            if part is not None:
                card.ids.edit.widget_id = f"review.edit.{part}"
                card.ids.edit.bind(on_release=lambda _b, p=part: self.flow.edit(p))
            else:
                card.ids.edit.opacity, card.ids.edit.disabled, card.ids.edit.width = 0, True, 0
            holder.add_widget(card)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f}"


# -- 6 完成 ------------------------------------------------------------------------------------

class ApplyDoneScreen(ApplyScreen):
    shows_home_button = BooleanProperty(True)
    waiting = BooleanProperty(False)
    number = StringProperty("")
    number_label = StringProperty("")
    code_text = StringProperty("")
    headline = StringProperty("")
    when_text = StringProperty("")
    next_text = StringProperty("")
    receipt_text = StringProperty("")
    receipt_bad = BooleanProperty(False)

    def show(self, app, flow) -> None:
        result = flow.result
        self.waiting = result is None
        if result is not None:
            self.headline = app.tr("apply.done_title")
            self.number_label = app.tr("apply.acceptance_number")
            self.number = result.acceptance_number
            self.code_text = app.tr("apply.verification_code", code=result.verification_code)
            if result.kind == "即办件":
                self.when_text = app.tr("apply.done_on_the_spot")
            elif result.promised_date is not None:
                day = result.promised_date
                self.when_text = app.tr("apply.done_promised", days=(flow.item.data.get("time_limit") or {}).get(
                    "promised_days", 0), date=f"{day.year}年{day.month}月{day.day}日")
        else:
            self.headline = app.tr("apply.waiting_title_slow" if flow.waiting_reason == "slow"
                                   else "apply.waiting_title_down")
            self.number_label = app.tr("apply.local_reference")
            self.number = flow.local_reference
            self.code_text = ""
            self.when_text = app.tr("apply.waiting_explain")
        method = flow.delivery.method
        self.next_text = app.tr(f"apply.next_{method}", centre=flow.delivery.centre) if method else ""
        key = flow.receipt_key
        self.receipt_bad = key in ("receipt.paper_out", "receipt.cover_open", "receipt.printer_offline",
                                   "receipt.printer_unavailable")
        self.receipt_text = (app.tr(key) if key else "") + ("\n" + app.tr("apply.photo_the_number")
                                                           if self.receipt_bad else "")

    def finish(self) -> None:
        App.get_running_app().go_home()


if str(KV_FILE) not in Builder.files:
    Builder.load_file(str(KV_FILE))
