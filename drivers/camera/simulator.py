"""A camera simulator: a ``FrameSource`` that films a synthetic desk, for testers and tests.

It plugs into the same ``DocumentCamera`` device as a real camera, so the capture thread,
counters, status and recovery code all run. What lies under the camera is a *scene*:

- ``document``: an A4 page (a letter or a form) in perspective on a desk;
- ``id_card``: an ID card;
- ``qr``: a QR code held up on a phone or a slip (``qr_text`` sets its content);
- ``empty``: the desk alone.

Frames arrive at the configured rate with a little hand tremor and sensor noise, so the
outline is "steady" the way a real one is. ``next_page()`` lays the next page down (for
multi-page materials). Faults: ``no_device`` (open fails), ``unplug`` (the stream stops:
now, or ``unplug_after`` seconds after opening), ``slow`` (3 frames a second). A tester can
drive all of this while the kiosk runs through a control file: write JSON such as
``{"scene": "qr", "qr_text": "河易办", "fault": "none", "next_page": true}`` to the path
given as ``control_path``; it is read once a second.

Like the wire-level simulators, it also answers the simulator control interface
(``state()`` and ``control(action, params)``, see ``drivers.sim.control``), so ``kiosk sim``
drives it while the kiosk runs: ``camera show FILE`` (that picture lies under the camera
until told otherwise), ``camera scene NAME``, ``camera next-page``, and the common
``fault camera NAME``, ``unplug camera [--seconds S]``, ``replug camera``, ``clear camera``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from typing import TYPE_CHECKING

from drivers.base import ConnectionLost, NoDeviceError
from drivers.camera.sources import StreamFormat
from drivers.sim.base import SimulatorError

if TYPE_CHECKING:  # OpenCV, NumPy and the scene renderer are loaded when the camera is opened
    import numpy as np

log = logging.getLogger(__name__)

SCENES = ("document", "id_card", "qr", "empty")
FAULTS = ("none", "no_device", "unplug", "slow")
#: what ``fault`` on the control interface takes, listed in ``state()`` like every simulator's
KNOWN_FAULTS = ("slow", "no_device", "vanish")
SLOW_FPS = 3.0
MAX_PICTURE_PIXELS = 40_000_000  # a picture larger than this is refused, not decoded
PICTURE_BACKGROUND = (70, 72, 76)  # the camera's base plate around a picture that does not fill the frame
NOISE_SHIFTS = 24  # horizontal offsets the one noise field is read at


class SimulatedSource:
    def __init__(self, width: int = 1920, height: int = 1080, fps: float = 30.0, *, scene: str = "document",
                 fault: str = "none", seed: int = 2024, qr_text: str = "河易办受理回执|HK2024060100123",
                 unplug_after: float = 3.0, control_path: str | os.PathLike | None = None,
                 tremor: float = 0.4, noise: float = 2.5):
        if scene not in SCENES:
            raise ValueError(f"scene must be one of {', '.join(SCENES)}")
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.scene = scene
        self.fault = fault
        self.qr_text = qr_text
        self.unplug_after = unplug_after
        self.control_path = Path(control_path) if control_path else None
        self.tremor = tremor
        self.noise = noise
        self._seed = seed
        self._rng = None  # made on the first open (NumPy is not loaded before)
        self._lock = threading.Lock()
        self._base: np.ndarray | None = None
        self._truth: np.ndarray | None = None
        self._page_no = 0
        self._noise_frames: list[tuple[np.ndarray, np.ndarray]] = []
        self._opened_at: float | None = None
        self._next_due = 0.0
        self._frame_index = 0
        self._control_checked = 0.0
        self._control_mtime = 0.0
        self.is_open = False
        self.name = "camera"
        self.picture = ""  # the file shown with ``show_picture``, while it is shown
        self._replugging: threading.Timer | None = None

    # -- tester's controls -----------------------------------------------------------------
    def set_scene(self, scene: str, qr_text: str | None = None) -> None:
        if scene not in SCENES:
            raise ValueError(f"scene must be one of {', '.join(SCENES)}")
        with self._lock:
            self.scene = scene
            if qr_text is not None:
                self.qr_text = qr_text
            self._base = None

    def next_page(self) -> None:
        with self._lock:
            self._page_no += 1
            self._base = None

    def set_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
        with self._lock:
            self.fault = fault
            if fault == "unplug":
                self.unplug_after = 0.0

    def show_picture(self, path: str | os.PathLike) -> None:
        """Film this picture (fitted into the frame) until another scene or picture is chosen."""
        import cv2
        import numpy as np

        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SimulatorError(f"cannot read the picture {path}: {exc.strerror or exc}") from None
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_2 if len(data) > 20_000_000
                             else cv2.IMREAD_COLOR)
        if image is None:
            raise SimulatorError(f"{path} is not a picture (JPEG, PNG …) that can be read")
        if image.shape[0] * image.shape[1] > MAX_PICTURE_PIXELS:
            raise SimulatorError(f"{path} is too large ({image.shape[1]}×{image.shape[0]})")
        fitted = self._fit(image)
        with self._lock:
            self.scene = "picture"
            self.picture = str(path)
            self._base, self._truth = fitted, None

    def _fit(self, image: np.ndarray) -> np.ndarray:
        import cv2
        import numpy as np

        h, w = image.shape[:2]
        scale = min(self.width / w, self.height / h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        frame = np.empty((self.height, self.width, 3), np.uint8)
        frame[:] = PICTURE_BACKGROUND
        x, y = (self.width - size[0]) // 2, (self.height - size[1]) // 2
        frame[y:y + size[1], x:x + size[0]] = resized
        return frame

    # -- the simulator control interface (drivers.sim.control) --------------------------------
    def start(self) -> "SimulatedSource":
        return self

    def stop(self) -> None:
        if self._replugging is not None:
            self._replugging.cancel()

    def state(self) -> dict:
        return {"kind": "camera", "name": self.name, "scene": self.scene, "picture": self.picture,
                "fault": self.fault, "plugged_in": self.fault not in ("no_device", "unplug"),
                "known_faults": list(KNOWN_FAULTS),
                "width": self.width, "height": self.height, "frames": self._frame_index, "pid": os.getpid()}

    def control(self, action: str, params: dict) -> dict:
        """``show`` {file}, ``scene`` {scene, qr_text}, ``next_page``, ``fault`` {fault, on}, ``clear``,
        ``unplug`` {seconds}, ``replug``, ``status``."""
        try:
            if action == "show":
                self.show_picture(str(params.get("file", "")))
            elif action == "scene":
                self.set_scene(str(params.get("scene", "")), params.get("qr_text"))
                self.picture = ""
            elif action == "next_page":
                self.next_page()
            elif action == "fault":
                name = str(params.get("fault", ""))
                if name in ("vanish", "unplug"):
                    self.unplug(params.get("seconds")) if params.get("on", True) else self.replug()
                else:
                    self.set_fault(name if params.get("on", True) else "none")
            elif action == "clear":
                self.replug()
            elif action == "unplug":
                self.unplug(params.get("seconds"))
            elif action == "replug":
                self.replug()
            elif action != "status":
                raise SimulatorError(f"the camera simulator has no action {action!r}")
        except ValueError as exc:
            raise SimulatorError(str(exc)) from None
        return self.state()

    def unplug(self, seconds: float | None = None) -> None:
        """The camera is gone (no frames, and it cannot be opened) — for ``seconds``, or until ``replug``."""
        self.set_fault("no_device")
        log.info("simulated camera unplugged")
        if seconds:
            self._replugging = threading.Timer(float(seconds), self.replug)
            self._replugging.daemon = True
            self._replugging.start()

    def replug(self) -> None:
        self.set_fault("none")

    def truth(self) -> np.ndarray | None:
        """Where the page (or the code's carrier) is in the frame: TL, TR, BR, BL."""
        with self._lock:
            self._ensure_base()
            return None if self._truth is None else self._truth.copy()

    # -- FrameSource -------------------------------------------------------------------------
    def probe(self) -> StreamFormat:
        """Is the simulated camera plugged in? Renders nothing and loads neither OpenCV nor NumPy."""
        self._poll_control(force=True)
        if self.fault == "no_device":
            raise NoDeviceError("simulated camera: no device")
        return StreamFormat(self.width, self.height, "MJPG", self.fps)

    def open(self) -> StreamFormat:
        self._poll_control(force=True)
        if self.fault == "no_device":
            raise NoDeviceError("simulated camera: no device")
        import numpy as np

        with self._lock:
            if self._rng is None:
                self._rng = np.random.default_rng(self._seed)
            self._ensure_base()
            if not self._noise_frames:
                # one field of sensor noise a little wider than the frame, kept as a (brighten,
                # darken) uint8 pair (saturating cv2.add/subtract is cheap); each frame takes it
                # from another horizontal offset, so consecutive frames differ (≈13 MB at 1080p)
                noise = self._rng.standard_normal((self.height, self.width + NOISE_SHIFTS, 1), dtype=np.float32)
                noise = np.clip(noise * self.noise, -20, 20)
                noise = np.repeat(noise, 3, axis=2)
                self._noise_frames.append((np.clip(noise, 0, None).astype(np.uint8),
                                           np.clip(-noise, 0, None).astype(np.uint8)))
        self._opened_at = time.monotonic()
        self._next_due = self._opened_at
        self.is_open = True
        # a slow camera still promises its nominal rate: the shortfall shows as dropped frames
        return StreamFormat(self.width, self.height, "MJPG", self.fps)

    def read(self) -> np.ndarray | None:
        if not self.is_open:
            raise ConnectionLost("simulated camera is closed")
        self._poll_control()
        if self.fault == "unplug" and time.monotonic() - (self._opened_at or 0) >= self.unplug_after:
            raise ConnectionLost("simulated camera unplugged")
        if self.fault == "no_device":
            raise ConnectionLost("simulated camera gone")
        rate = SLOW_FPS if self.fault == "slow" else self.fps
        now = time.monotonic()
        if self._next_due > now:
            time.sleep(self._next_due - now)
        self._next_due = max(self._next_due + 1.0 / rate, time.monotonic() - 1.0 / rate)
        with self._lock:
            self._ensure_base()
            base = self._base
        self._frame_index += 1
        return self._film(base)

    def close(self) -> None:
        """Stop filming, and let go of what only filming needs: the noise field and the rendered
        desk (made again, the same, on the next open; a picture shown stays)."""
        self.is_open = False
        with self._lock:
            self._noise_frames.clear()
            if self.scene != "picture":
                self._base = None

    # -- rendering ---------------------------------------------------------------------------
    def _ensure_base(self) -> None:
        if self._base is not None:
            return
        import numpy as np

        from drivers.camera import scene as scenes

        if self.scene == "picture":  # the picture was replaced by a next_page: back to the desk
            self.scene, self.picture = "document", ""
        rng = np.random.default_rng(1000 + self._page_no + 17 * SCENES.index(self.scene))
        if self.scene in ("document", "id_card", "empty"):
            kind = {"document": ("text", "form")[self._page_no % 2], "id_card": "id_card", "empty": "none"}[self.scene]
            made = scenes.document_scene(rng, self.width, self.height, kind=kind, desk="wood", effects=["vignette"],
                                         max_rotation=8.0, perspective=0.015)  # a 高拍仪 looks straight down
            self._base, self._truth = made.image, made.quad
        else:
            made = scenes.code_scene(rng, self.width, self.height, self.qr_text, self.qr_text, carrier="phone",
                                     effects=[])
            self._base, self._truth = made.image, made.quad

    def _film(self, base: np.ndarray) -> np.ndarray:
        import cv2
        import numpy as np

        if self.tremor > 0:
            dx, dy = self._rng.normal(0, self.tremor, 2)
            matrix = np.float32([[1, 0, dx], [0, 1, dy]])
            frame = cv2.warpAffine(base, matrix, (self.width, self.height), borderMode=cv2.BORDER_REPLICATE)
        else:
            frame = base.copy()
        if self._noise_frames:
            brighten, darken = self._noise_frames[0]
            shift = (self._frame_index * 7) % NOISE_SHIFTS
            frame = cv2.subtract(cv2.add(frame, brighten[:, shift:shift + self.width]),
                                 darken[:, shift:shift + self.width])
        return frame

    def _poll_control(self, force: bool = False) -> None:
        if self.control_path is None:
            return
        now = time.monotonic()
        if not force and now - self._control_checked < 1.0:
            return
        self._control_checked = now
        try:
            mtime = self.control_path.stat().st_mtime
            if mtime == self._control_mtime:
                return
            self._control_mtime = mtime
            command = json.loads(self.control_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("camera simulator: control file ignored", extra={"fields": {"error": str(exc)[:120]}})
            return
        if not isinstance(command, dict):
            return
        try:
            if "scene" in command or "qr_text" in command:
                self.set_scene(command.get("scene", self.scene), command.get("qr_text"))
            if "fault" in command:
                self.set_fault(command["fault"])
            if command.get("next_page"):
                self.next_page()
        except ValueError as exc:
            log.warning("camera simulator: bad control command", extra={"fields": {"error": str(exc)}})
