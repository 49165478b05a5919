"""Play a scenario's steps against a real KioskApp, frame by frame, as a person would.

The player drives the app's event loop itself, one frame at a time (``frame``: what
``EventLoop.idle()`` does, without drawing unless a picture is taken or ``--watch`` asks),
so a step can wait for the screen while the kiosk keeps running: clocks tick, device
events arrive, searches finish. It touches the window with real touch events (down, a
moment, up, at the centre of what shows of a widget) and reads the window through
``screens.scenario_view``.

``start_app(settings)`` builds a ``KioskApp`` the way ``kiosk demo`` does (devices and
backend started in the background), ``ScenarioPlayer(app, …).play(scenario)`` plays the
steps until the first failure, waits until the kiosk has finished what they started
(``Kiosk.wait_idle``) and returns a ``FileResult``; ``stop_app(app)`` stops it cleanly
(devices closed, simulators and embedded backend stopped) and leaves the window empty
for the next scenario's app.
"""
from __future__ import annotations

import itertools
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import screens  # noqa: F401  (prepares Kivy's environment)
from kivy.input.motionevent import MotionEvent

from kiosk.config import Settings
from kiosk.runtime import build_kiosk
from kiosk.scenario.keys import Key
from kiosk.scenario.model import Scenario, Step
from kiosk.scenario.report import Failure, FileResult, Reporter

READY_TIMEOUT = 120.0    # devices, backend, catalogue and pinyin input started before step 1
IDLE_TIMEOUT = 30.0      # print jobs and outbox finished after the last step
TAP_HOLD = 0.05          # seconds a finger rests on the glass (a Button shows "down" this long)
REACH = 0.15             # seconds from seeing a target to touching it: updates already due land first
_finger_ids = itertools.count(1)


class StepFailed(Exception):
    def __init__(self, expected: str, found: str):
        super().__init__(found)
        self.expected = expected
        self.found = found


# -- the app -------------------------------------------------------------------------------

def start_app(settings: Settings, embed_backend: Callable[[Settings], Any] | None = None):
    """A started ``KioskApp`` on the (shared) window, built like ``kiosk demo`` builds it
    (``embed_backend`` starts the reference backend inside it, as ``kiosk demo`` does)."""
    from screens.launcher import configure_kivy

    width, height = settings.display.width, settings.display.height
    configure_kivy(width, height, fullscreen=True, hide_cursor=settings.display.hide_cursor,
                   multisamples=settings.display.multisamples)
    from screens.fonts import register_default_font

    register_default_font()
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from screens.app import KioskApp

    EventLoop.ensure_window()
    if tuple(Window.size) != (width, height):
        Window.size = (width, height)
    app = KioskApp(build_kiosk(settings, background=True, embed_backend=embed_backend))
    app._run_prepare()  # build, put the root on the window, on_start (what App.run does before its loop)
    return app


def stop_app(app) -> None:
    """Stop ``app`` (its kiosk shuts down) and leave the window empty for the next one.

    The app's last deliveries (the session's end, the devices going away) run while it is
    still the running app, and what it had scheduled for later is cancelled, so nothing of it
    reaches the next scenario's app."""
    from kivy.app import App
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.lang.parser import global_idmap

    try:
        for root in Window.children[:]:
            for widget in root.walk(restrict=True):
                if getattr(widget, "focus", False) is True:
                    widget.focus = False
        frame(2)
        app.dispatch("on_stop")
        frame(3)
        _cancel_leftovers()
    finally:
        for child in Window.children[:]:
            Window.remove_widget(child)
        EventLoop.touches.clear()
        for post_processor in EventLoop.postproc_modules:
            for attribute in ("touches", "last_touches"):
                if hasattr(post_processor, attribute):
                    getattr(post_processor, attribute).clear()
        App._running_app = None
        object.__setattr__(global_idmap["app"], "_obj", None)  # kv's `app` proxy caches the app


def _cancel_leftovers() -> None:
    """Cancel what the stopped app still had scheduled to run once (a toast to hide in a few
    seconds, a list to lay out): it would run under the next scenario's app, on widgets that
    are gone. Repeating events (Kivy's own caches) and the window's own stay."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    for event in Clock.get_events():
        owner = getattr(event.get_callback(), "__self__", None)
        if not event.loop and owner is not Window:
            event.cancel()


def frame(count: int = 1, draw: bool = False) -> None:
    """Run ``count`` frames of the running app: clock, input, layout, and drawing if asked.

    Without ``draw`` this is ``EventLoop.idle()`` without its last part (drawing and swapping
    the window's picture, which costs a software-rendered kiosk window almost half a second):
    everything the kiosk does still happens, frame by frame."""
    from kivy.base import EventLoop
    from kivy.clock import Clock
    from kivy.lang import Builder

    for _ in range(count):
        if draw:
            EventLoop.idle()
            continue
        Clock.tick()
        EventLoop.dispatch_input()
        Builder.sync()
        Clock.tick_draw()
        Builder.sync()


def close_window() -> None:
    from kivy.base import EventLoop

    if EventLoop.window is not None:
        EventLoop.window.close()


# -- playing -------------------------------------------------------------------------------

class ScenarioPlayer:
    def __init__(self, app, reporter: Reporter, shots_dir: Path, simulate: Callable[[Any], Any],
                 watch: bool = False):
        """``simulate(request)`` sends a ``sim`` step's request to this kiosk's simulators.
        ``watch``: draw every frame, for a person watching the window (slower); otherwise the
        window is drawn only for pictures, which is all a headless run needs."""
        self.app = app
        self.reporter = reporter
        self.shots_dir = shots_dir
        self.simulate = simulate
        self.watch = watch
        self.result: FileResult | None = None

    # -- time ----------------------------------------------------------------------------
    def pump(self, frames: int = 1) -> None:
        frame(frames, draw=self.watch)

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump()

    def poll(self, timeout: float, expected: str, probe: Callable[[], Any]) -> Any:
        """Pump frames until ``probe()`` returns something other than a ``str`` (success);
        a ``str`` says what is there instead, and the last one is the failure after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            outcome = probe()
            if not isinstance(outcome, str):
                return outcome
            if time.monotonic() >= deadline:
                raise StepFailed(expected, outcome + (f" (waited {timeout:g} s)" if timeout >= 0.5 else ""))
            self.pump()

    # -- the scenario ---------------------------------------------------------------------
    def play(self, scenario: Scenario) -> FileResult:
        result = FileResult(scenario, shots_dir=self.shots_dir)
        started = time.monotonic()
        self.result = result
        self.pump(3)
        if not self.wait_ready():
            self.reporter.note(f"the kiosk was not fully started after {READY_TIMEOUT:g} s; playing anyway")
        for step in scenario.steps:
            began = time.monotonic()
            result.steps_run = step.number
            try:
                note = getattr(self, f"do_{step.kind}")(step) or ""
            except StepFailed as failed:
                result.failure = self.failure(step, failed.expected, failed.found)
            except Exception as exc:  # the kiosk (or the player) broke: report it as this step's failure
                self.reporter.note("the kiosk raised an exception:\n" + traceback.format_exc().rstrip())
                result.failure = self.failure(step, step.describe(),
                                              f"the kiosk raised {type(exc).__name__}: {exc}")
            if result.failure is not None:
                self.reporter.step_failed(step, result.failure)
                self.picture_of_failure(step)
                break
            self.reporter.step_passed(step, time.monotonic() - began, note)
        result.idle = self.finish()
        if not result.idle:
            self.reporter.note(f"the kiosk was still busy {IDLE_TIMEOUT:g} s after the last step (print jobs or "
                               "submissions waiting); stopped anyway")
        result.seconds = time.monotonic() - started
        return result

    def picture_of_failure(self, step: Step) -> None:
        try:
            target = self.picture(f"FAILED-step-{step.number}.png")
        except Exception as exc:  # no picture must not hide the failure itself
            self.reporter.note(f"no picture of the failure: {type(exc).__name__}: {exc}")
            return
        if target is not None:
            self.reporter.note(f"the screen at the failure: {target}")

    def failure(self, step: Step, expected: str, found: str) -> Failure:
        from screens.scenario_view import View

        try:
            self.pump(1)
        except Exception:  # the failure report must come out even if the next frame breaks too
            pass
        return Failure(step=step.number, line=step.line, kind=step.kind, expected=expected, found=found,
                       screen=self.screen_name(), visible=View().texts())

    def screen_name(self) -> str:
        manager = self.app.screens
        return manager.current if manager is not None else ""

    def wait_ready(self) -> bool:
        kiosk = self.app.kiosk

        def ready() -> bool:
            catalog, ime = kiosk.catalog, kiosk.ime
            # a scenario meets a kiosk whose backend has answered: the embedded one is up (a scenario
            # takes it down with `sim: backend down`); a configured one has at least been tried
            network = kiosk.status.get("network")
            settled = (network.available is True if kiosk.settings.backend.embedded
                       else network.reason != "status.network_checking")
            return (kiosk.services_ready.is_set() and settled
                    and (catalog is None or catalog.ready or bool(catalog.error))
                    and (ime is None or ime.ready or bool(ime.error)))
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready():
            if time.monotonic() >= deadline:
                return False
            self.pump()
        self.pump(3)
        return True

    def finish(self) -> bool:
        """Let the kiosk finish what the steps started (print jobs, outbox), frames still running."""
        kiosk = self.app.kiosk
        deadline = time.monotonic() + IDLE_TIMEOUT
        while True:
            if kiosk.wait_idle(timeout=0.02, poll=0.01):
                return True
            if time.monotonic() >= deadline:
                return False
            self.pump()

    # -- touching -------------------------------------------------------------------------
    def touch(self, x: float, y: float) -> None:
        from kivy.base import EventLoop

        finger = _finger(x, y)
        EventLoop.post_dispatch_input("begin", finger)
        self.run_for(TAP_HOLD)
        EventLoop.post_dispatch_input("end", finger)
        self.pump(2)

    def tap_seen(self, seen) -> None:
        x, y = seen.centre
        self.touch(x, y)

    def find_by_id(self, widget_id: str, timeout: float):
        """The visible, enabled widget with ``widget_id``, waiting up to ``timeout``."""
        from screens.scenario_view import View

        def probe():
            view = View()
            matches = view.with_id(widget_id)
            if not matches:
                shown = view.ids_shown()
                return (f"there is no {widget_id} on the {self.screen_name()} screen"
                        + (f" (ids shown: {', '.join(shown)})" if shown else ""))
            shown = sorted((s for s in matches if s.visible is not None), key=lambda s: s.reading_key())
            if not shown:
                return f"{widget_id} is hidden ({matches[0].hidden_because})"
            enabled = [s for s in shown if s.enabled]
            if not enabled:
                return f"{widget_id} is disabled"
            return enabled[0]
        return self.poll(timeout, f"{widget_id} shown and enabled", probe)

    # -- steps ----------------------------------------------------------------------------
    def do_screen(self, step: Step) -> str:
        name = step.value

        def probe():
            manager = self.app.screens
            if manager.current == name and not manager.transition.is_active:
                return True
            return f"the screen is {manager.current!r}"
        self.poll(step.wait_seconds, f"the {name} screen", probe)
        return ""

    def reach(self, find: Callable[[float], Any], timeout: float):
        """Find a target, let a finger's moment pass, and find it again where it is now (a list
        that was about to be rebuilt has been rebuilt by then)."""
        started = time.monotonic()
        find(timeout)
        self.run_for(REACH)
        return find(max(0.0, timeout - (time.monotonic() - started)))

    def do_tap(self, step: Step) -> str:
        self.tap_seen(self.reach(lambda timeout: self.find_by_id(step.value, timeout), step.wait_seconds))
        return ""

    def do_draw(self, step: Step) -> str:
        """A finger writes a short signature (three strokes) across the widget's visible part."""
        seen = self.reach(lambda timeout: self.find_by_id(step.value, timeout), step.wait_seconds)
        x0, y0, x1, y1 = seen.visible or seen.box
        width, height = x1 - x0, y1 - y0
        strokes = [
            [(0.15 + 0.02 * i, 0.35 + 0.30 * (i % 2)) for i in range(12)],      # a zig-zag
            [(0.40 + 0.025 * i, 0.55 - 0.012 * i) for i in range(14)],          # a line up to the right
            [(0.75, 0.30 + 0.035 * i) for i in range(12)],                      # a downstroke
        ]
        for stroke in strokes:
            self.stroke([(x0 + fx * width, y0 + fy * height) for fx, fy in stroke])
        return f"drew on {seen.description()}"

    def stroke(self, points: list[tuple[float, float]]) -> None:
        from kivy.base import EventLoop

        window = EventLoop.window
        finger = _finger(*points[0])
        EventLoop.post_dispatch_input("begin", finger)
        self.pump(1)
        for x, y in points[1:]:
            finger.move({"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)})
            EventLoop.post_dispatch_input("update", finger)
            self.pump(1)
        EventLoop.post_dispatch_input("end", finger)
        self.pump(2)

    def do_tap_text(self, step: Step) -> str:
        from screens.scenario_view import View

        needle = step.value

        def probe():
            view = View()
            matches = view.by_text(needle)
            enabled = [s for s in matches if s.enabled]
            if enabled:
                return enabled[0]
            if matches:
                return f"{matches[0].description()} is disabled"
            hidden = [s for s in view.by_text(needle, shown_only=False) if s.visible is None]
            if hidden:
                return f"{hidden[0].description()} is hidden ({hidden[0].hidden_because})"
            if view.find_text(needle) is not None:
                return f"\"{needle}\" is on screen, but not on anything that can be touched"
            hidden_text = [s for s in view.by_text(needle, shown_only=False)]
            if hidden_text:
                return f"\"{needle}\" is in {hidden_text[0].description()}, which is out of sight"
            return f"nothing on screen shows \"{needle}\""
        target = self.reach(lambda timeout: self.poll(timeout, f"something to touch that shows \"{needle}\"", probe),
                            step.wait_seconds)
        self.tap_seen(target)
        return f"tapped {target.description()}"

    def do_see(self, step: Step) -> str:
        from screens.scenario_view import View

        needle = step.value

        def probe():
            return True if View().find_text(needle) is not None else f"\"{needle}\" is not on screen"
        self.poll(step.wait_seconds, f"\"{needle}\" on screen", probe)
        return ""

    def do_not_see(self, step: Step) -> str:
        from screens.scenario_view import View

        self.pump(2)
        text = View().find_text(step.value)
        if text is not None:
            raise StepFailed(f"no \"{step.value}\" on screen", f"\"{text}\" is on screen")
        return ""

    def do_key(self, step: Step) -> str:
        """A key combination on a hardware keyboard (issue 13: the simulator panel's keys), as SDL
        reports it: key down, then up."""
        from kivy.base import EventLoop

        window = EventLoop.window
        combo = step.parsed
        modifiers = sorted(combo.modifiers)
        window.dispatch("on_key_down", combo.keycode, 0, None, modifiers)
        used = window.dispatch("on_keyboard", combo.keycode, 0, None, modifiers)
        window.dispatch("on_key_up", combo.keycode, 0)
        self.pump(2)
        return f"pressed {combo}" + ("" if used else " (nothing on the kiosk answers these keys)")

    def do_wait(self, step: Step) -> str:
        self.run_for(float(step.value))
        return ""

    def do_sim(self, step: Step) -> str:
        kiosk = self.app.kiosk
        self.poll(30.0, "the kiosk's simulators running",
                  lambda: True if kiosk.services_ready.is_set() else "the kiosk's devices are still starting")
        devices = kiosk.devices
        if devices is None or getattr(devices, "control", None) is None:
            raise StepFailed(f"the simulators to do `{step.value}`",
                             "this kiosk's configuration simulates no devices (driver = \"simulator\")")
        try:
            self.simulate(step.parsed)
        except Exception as exc:
            raise StepFailed(f"the simulators to do `{step.value}`", str(exc) or type(exc).__name__) from None
        self.pump(2)
        return ""

    def do_shot(self, step: Step) -> str:
        from kivy.core.window import Window

        try:
            target = self.picture(step.value)
        except OSError as exc:
            raise StepFailed(f"a picture in {self.shots_dir / step.value}",
                             f"cannot write it: {exc.strerror or exc}") from None
        if target is None:
            raise StepFailed(f"a picture in {self.shots_dir / step.value}", "the window could not be read")
        return str(target)

    def picture(self, name: str) -> Path | None:
        """Draw the window now and save it as ``name`` in the shots folder."""
        from kivy.core.window import Window

        target = (self.shots_dir / name).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        self.pump(2)
        Window.canvas.ask_update()
        Window.dispatch("on_draw")  # draw now and read the picture before it is swapped away
        written = Window.screenshot(name=str(target.with_suffix("")) + "-kivy.png")
        Window.dispatch("on_flip")
        if not written:
            return None
        Path(written).replace(target)
        self.result.shots.append(target)
        return target

    def do_type(self, step: Step) -> str:
        from screens.keyboard import KeyboardDock

        app = self.app

        def attached():
            dock = KeyboardDock.find()
            if dock is not None and dock.shown and dock.keyboard.target is not None:
                return dock.keyboard
            return "no text field has the keyboard (tap a field first)"
        keyboard = self.poll(step.wait_seconds, "a text field with the on-screen keyboard", attached)
        ime = app.kiosk.ime

        def ime_ready():
            if ime is None or ime.ready:
                return True
            return f"the pinyin input is unavailable: {ime.error}" if ime.error else "the pinyin input is still loading"
        for position, key in enumerate(step.parsed, start=1):
            if key.action == "char" and keyboard.page == "pinyin" and "a" <= key.value <= "z":
                self.poll(step.wait_seconds, "the pinyin input method ready", ime_ready)
            try:
                self.press(keyboard, key)
            except StepFailed as failed:
                raise StepFailed(f"{failed.expected} (key {position} of the step)", failed.found) from None
        return ""

    def press(self, keyboard, key: Key) -> None:
        from screens.keyboard import KeySpec, key_widget_id
        from screens.scenario_view import View

        page = keyboard.page
        if key.action == "page":
            wanted = keyboard.letter_page if key.value == "letters" else key.value
            if page == wanted:
                return
            ids = [f"kb.page.{key.value}"]
            if key.value in ("pinyin", "english") and keyboard.letter_page == key.value:
                ids.append("kb.page.letters")
        elif key.action == "candidate":
            ids = [f"kb.candidate.{key.value}"]
        elif key.action in ("next", "prev"):
            ids = [f"kb.candidates.{key.action}"]
        elif key.action == "char":
            ids = [key_widget_id(KeySpec("char", key.value))]
        else:
            ids = [key_widget_id(KeySpec(key.action))]
        view = View()
        for widget_id in ids:
            shown = [s for s in view.with_id(widget_id) if s.visible is not None and s.enabled]
            if shown:
                self.tap_seen(sorted(shown, key=lambda s: s.reading_key())[0])
                return
        expected = f"the key {key.written()} on the keyboard"
        if key.action == "candidate":
            offered = [c for c in keyboard.candidates if c]
            found = ("the candidate bar offers " + " ".join(f"{n}:{c}" for n, c in enumerate(offered, 1))
                     if offered else "the candidate bar is empty (nothing is being composed)")
            raise StepFailed(f"candidate {key.value} on the candidate bar", found)
        if key.action in ("next", "prev"):
            raise StepFailed(expected, "the candidate bar has no further page that way")
        raise StepFailed(expected, f"the keyboard's {page} page has no such key (change pages with {{pinyin}}, "
                                   "{english}, {digits}, {symbols}; capitals need {shift})")


class _Finger(MotionEvent):
    """A touch at a window position, made the way a touch screen's input provider makes one."""

    def depack(self, args):
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


def _finger(x: float, y: float) -> _Finger:
    from kivy.base import EventLoop

    window = EventLoop.window
    finger = _Finger("scenario", next(_finger_ids), {"x": x / (window.width - 1.0),
                                                     "y": y / (window.height - 1.0)},
                     is_touch=True, type_id="touch")
    finger.profile = ["pos"]
    return finger
