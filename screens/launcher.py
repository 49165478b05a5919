"""Start the Kivy UI: configure the window before Kivy creates it, then run the app.

``run_kiosk`` is what ``kiosk run`` and ``kiosk demo`` call; ``take_screenshot`` renders
one screen offscreen for ``kiosk shot``; ``play_scenarios`` plays testers' scenarios for
``kiosk scenario run``, each on a fresh kiosk. The last two start a private Xvfb when
there is no display.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import screens  # noqa: F401  (prepares Kivy's environment)
from kiosk.errors import UserFacingError
from kiosk.config import Settings
from kiosk.runtime import build_kiosk


def configure_kivy(width: int, height: int, fullscreen: bool, hide_cursor: bool, multisamples: int = 0) -> None:
    """Window settings that must be in Kivy's Config before the window exists.

    ``multisamples`` is MSAA off (0) by default, not Kivy's 2: the multisampled buffers cost
    about 80 MiB at 1080×1920 under Mesa's software renderer, for smoother edges on the few
    shapes the screens draw (text is unaffected)."""
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "multisamples", str(int(multisamples)))
    # With no window manager, fullscreen=auto keeps a smaller window small: size the
    # window to the screen, borderless, at 0,0 instead.
    Config.set("graphics", "fullscreen", "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    Config.set("graphics", "position", "custom" if fullscreen else "auto")
    Config.set("graphics", "left", "0")
    Config.set("graphics", "top", "0")
    Config.set("graphics", "show_cursor", "0" if hide_cursor else "1")
    Config.set("graphics", "allow_screensaver", "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("kivy", "log_enable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    for provider in ("wm_pen", "wm_touch"):
        Config.remove_option("input", provider) if Config.has_option("input", provider) else None


def _make_app(settings: Settings, window: tuple[int, int] | None = None, fullscreen: bool | None = None,
              embed_backend=None):
    width, height = window or (settings.display.width, settings.display.height)
    if window:
        from dataclasses import replace
        settings = replace(settings, display=replace(settings.display, width=width, height=height))
    configure_kivy(width, height, settings.display.fullscreen if fullscreen is None else fullscreen,
                   settings.display.hide_cursor, settings.display.multisamples)
    from screens.fonts import register_default_font

    register_default_font()
    from screens.app import KioskApp

    return KioskApp(build_kiosk(settings, background=True, embed_backend=embed_backend))


def run_kiosk(settings: Settings, window: tuple[int, int] | None = None,
              exit_after_first_frame: bool = False, embed_backend=None) -> int:
    """``embed_backend(settings)`` starts the embedded backend when [backend] embedded = true.

    Under systemd (``Type=notify``) the kiosk reports READY after the first frame and pings the
    watchdog from the Kivy clock (``screens.service_watch``)."""
    app = _make_app(settings, window, fullscreen=False if window else None, embed_backend=embed_backend)
    # -- service manager (issue 14) --
    from screens.service_watch import watch_service

    watch_service(app)
    # -- end of service manager --
    if exit_after_first_frame:
        def report() -> None:
            rss_kb = _rss_kb()
            print(json.dumps({"first_frame_unix": time.time(), "rss_kb": rss_kb,
                              "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
            app.stop()
        app.after_first_frame.append(report)
    signal.signal(signal.SIGTERM, lambda *_: app.stop())
    app.run()
    return 0


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def take_screenshot(settings: Settings, screen: str, out: Path, language: str | None = None,
                    elderly: bool = False, size: tuple[int, int] | None = None, countdown: bool = False,
                    shot_options: dict | None = None, embed_backend=None) -> Path:
    """``shot_options`` (e.g. query, keys, open) go to the screen's ``prepare_shot``."""
    from screens.registry import SCREENS

    if screen not in SCREENS:
        raise UserFacingError(f"unknown screen {screen!r}; known screens: {', '.join(sorted(SCREENS))}", 2)
    width, height = size or (settings.display.width, settings.display.height)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with virtual_display(width, height):
        app = _make_app(settings, (width, height), fullscreen=True, embed_backend=embed_backend)
        result: dict[str, Path] = {}

        def shoot() -> None:
            from kivy.clock import Clock
            from kivy.core.window import Window

            app.kiosk.services_ready.wait(20)  # the status lights as a running kiosk shows them
            if language:
                app.set_language(language)
            app.set_elderly(elderly)
            options = {k: v for k, v in (shot_options or {}).items() if v is not None}
            if options:
                app.kiosk.warm_up()  # the screen shows catalogue data: have it ready now
            app.go(screen)
            if options:
                prepare = getattr(app.screens.get_screen(screen), "prepare_shot", None)
                if prepare is None:
                    raise UserFacingError(f"the {screen} screen takes no {', '.join(options)} option", 2)
                prepare(**options)
            if countdown:
                app.start_countdown()

            def capture(_dt):
                if app.screens.transition.is_active:  # a busy start can delay the switch
                    Clock.schedule_once(capture, 0.05)
                    return
                Clock.schedule_once(lambda _dt2: Clock.schedule_once(write, 0), 0)  # two more frames

            def write(_dt):
                written = Window.screenshot(name=str(out.with_suffix("")) + "-kivy.png")
                if written:
                    Path(written).replace(out)
                    result["path"] = out
                app.stop()
            Clock.schedule_once(capture, 0.3)
        app.after_first_frame.append(shoot)
        app.run()
    if "path" not in result:
        raise UserFacingError("the screenshot could not be written")
    return result["path"]


def play_scenarios(plans, reporter, simulate, watch: bool = False, private_display: bool = False,
                   state_dir: Path | None = None) -> list:
    """Play each ``kiosk.scenario.model.Plan`` on a fresh kiosk, one after the other.

    Each scenario gets its own folders and control socket (``kiosk.scenario.workdir``), a
    new kiosk (session, devices, simulators, embedded backend) and a new ``KioskApp`` on
    the one window of this process; the app is stopped before the next one starts.
    ``simulate(request, socket_path)`` carries out a ``sim`` step. Returns a
    ``FileResult`` per plan, in order; ``reporter`` prints progress as it goes. ``watch``
    draws every frame (see ``ScenarioPlayer``); ``private_display`` plays on a private Xvfb
    even when there is a display. ``state_dir`` replaces the temporary state folder and is kept.
    """
    from kiosk.scenario.report import FileResult
    from kiosk.scenario.workdir import isolated

    width = max(plan.settings.display.width for plan in plans)
    height = max(plan.settings.display.height for plan in plans)
    results = []
    with virtual_display(width, height, private=private_display):
        from screens.scenario_player import ScenarioPlayer, close_window, start_app, stop_app

        for plan in plans:
            reporter.file_started(plan.scenario, plan.config)
            with isolated(plan.settings, state_dir) as work:
                try:
                    app = start_app(work.settings, plan.embed_backend)
                except Exception as exc:  # a configuration that cannot run, a device that cannot be built
                    result = FileResult(plan.scenario, error=f"the kiosk did not start: {exc}")
                else:
                    socket_path = work.sim_socket
                    player = ScenarioPlayer(app, reporter, plan.shots_dir,
                                            lambda request, path=socket_path: simulate(request, path), watch=watch)
                    try:
                        result = player.play(plan.scenario)
                    except Exception as exc:  # the player itself broke: keep what it had
                        result = player.result or FileResult(plan.scenario)
                        result.error = f"playing stopped: {type(exc).__name__}: {exc}"
                    try:
                        stop_app(app)
                    except Exception as exc:
                        result.error = result.error or f"the kiosk did not stop cleanly: {type(exc).__name__}: {exc}"
            reporter.file_finished(result)
            results.append(result)
        close_window()
    return results


@contextmanager
def virtual_display(width: int, height: int, private: bool = False):
    """Use $DISPLAY when there is one; otherwise (or with ``private``) run a private Xvfb
    for the duration."""
    if (os.environ.get("DISPLAY") and not private) or not shutil.which("Xvfb"):
        if private:
            raise UserFacingError("a private virtual screen needs Xvfb (apt-get install xvfb)", 2)
        yield
        return
    previous = os.environ.get("DISPLAY")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise UserFacingError("could not start Xvfb (a virtual screen)")
        os.environ["DISPLAY"] = f":{number}"
        yield
    finally:
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
