"""``kiosk run``, ``kiosk demo`` and ``kiosk shot``: the commands that start the Kivy UI.

The UI package is imported lazily here — the one place where the core reaches up into
``screens`` — so that every other command works on a machine without a display. With
``[backend] embedded = true`` these commands also hand the kiosk the reference backend's
``refbackend.embed.start_for_settings`` (imported lazily; without the extra they say how to
install it).
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, DEMO_CONFIG_PATH, load_settings
from kiosk.logs import setup_logging


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{3,4})[xX×](\d{3,4})", text)
    if not match:
        raise argparse.ArgumentTypeError("expected WIDTHxHEIGHT, e.g. 1080x1920")
    return int(match.group(1)), int(match.group(2))


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, default, summary in (
        ("run", DEFAULT_CONFIG_PATH, "start the kiosk full screen with the configured devices"),
        ("demo", DEMO_CONFIG_PATH, "start the kiosk with simulated devices and the demo configuration"),
    ):
        parser = subparsers.add_parser(name, help=summary, description=summary)
        parser.add_argument("--config", default=str(default), help=f"configuration file (default {default})")
        parser.add_argument("--window", type=_size, metavar="WxH",
                            help="open a normal window of this size instead of full screen (development)")
        parser.add_argument("--exit-after-first-frame", action="store_true",
                            help="quit once the home screen is drawn and print start-up figures as JSON")
        parser.set_defaults(handler=_run, demo_cases=name == "demo")  # kiosk demo: cases to follow and collect

    shot = subparsers.add_parser("shot", help="render one screen offscreen and save it as PNG",
                                 description="render one screen offscreen (Xvfb) and save it as PNG")
    shot.add_argument("screen", help="screen name, e.g. home, help")
    shot.add_argument("--out", required=True, help="PNG file to write")
    shot.add_argument("--lang", choices=("zh", "en"), default=None)
    shot.add_argument("--elderly", action="store_true", help="render in 长辈模式")
    shot.add_argument("--config", default=str(DEMO_CONFIG_PATH))
    shot.add_argument("--size", type=_size, metavar="WxH", help="window size (default from the config)")
    shot.add_argument("--countdown", action="store_true", help="show the inactivity countdown over the screen")
    shot.add_argument("--query", help="search screen: show the results for this text")
    shot.add_argument("--keys", help="screens with a text field: type these keys on the on-screen keyboard "
                                     "(e.g. zhengm: pinyin with its candidates)")
    shot.add_argument("--open", type=int, metavar="N", help="search screen: open the guide of the N-th result")
    shot.set_defaults(handler=_shot)


def _embed_backend(settings, demo_cases: bool = False):
    """``refbackend.embed.start_for_settings`` when [backend] embedded = true (imported here, lazily);
    with ``demo_cases`` (``kiosk demo``) ``start_demo``, which also seeds cases to follow and collect."""
    if not settings.backend.embedded:
        return None
    from kiosk.commands.backend import refbackend_module

    embed = refbackend_module("embed")
    return embed.start_demo if demo_cases else embed.start_for_settings


def _run(args: argparse.Namespace) -> int:
    from kiosk.memory import return_big_buffers

    return_big_buffers()  # before anything allocates camera frames (see kiosk/memory.py)
    settings = load_settings(args.config)
    setup_logging(settings.logging.level, settings.logging.format)
    from screens.launcher import run_kiosk

    return run_kiosk(settings, window=args.window, exit_after_first_frame=args.exit_after_first_frame,
                     embed_backend=_embed_backend(settings, getattr(args, "demo_cases", False)))


def _shot(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    setup_logging("WARNING", "text")
    from screens.launcher import take_screenshot

    path = take_screenshot(settings, args.screen, Path(args.out), language=args.lang, elderly=args.elderly,
                           size=args.size, countdown=args.countdown,
                           shot_options={"query": args.query, "keys": args.keys, "open_result": args.open},
                           embed_backend=_embed_backend(settings))
    print(path)
    return 0
