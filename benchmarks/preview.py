"""Preview benchmark: live camera preview at 1280×720 with page detection running.

    python benchmarks/preview.py [--seconds 10] [--camera-fps 30] [--screenshot out.png]

Starts a Kivy window (under ``xvfb-run`` automatically when there is no display) with the
``CameraPreview`` widget fed by the simulated document camera (1280×720, 30 fps, a page on a
desk), a ``LiveDetector`` detecting the page on its own thread (``--detect-rate``, 8 Hz by default) and
``MaterialCapture`` judging steadiness, exactly as the capture screen wires them. Prints,
after a one-second warm-up: camera frames shown per second (the preview fps), frames drawn
by Kivy per second, detections per second and the median detection time. Median of
``--runs`` runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--camera-fps", type=float, default=30.0)
    parser.add_argument("--detect-rate", type=float, default=8.0,
                        help="page detections per second at most (the capture screen's setting; 0: detection off)")
    parser.add_argument("--screenshot", help="save a screenshot of the preview at the end of the first run")
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.one_run:
        results = []
        for run in range(args.runs):
            command = [sys.executable, __file__, "--one-run", "--seconds", str(args.seconds), "--camera-fps",
                       str(args.camera_fps), "--detect-rate", str(args.detect_rate)]
            if args.screenshot and run == 0:
                command += ["--screenshot", args.screenshot]
            if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
                command = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"] + command
            output = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            line = [ln for ln in output.stdout.splitlines() if ln.startswith("RESULT ")]
            if not line:
                print(output.stdout, output.stderr, file=sys.stderr)
                return 1
            values = dict(item.split("=") for item in line[-1][7:].split())
            results.append({k: float(v) for k, v in values.items()})
            print(f"run {run + 1}: preview {results[-1]['preview_fps']:.1f} fps, kivy {results[-1]['draw_fps']:.1f} "
                  f"fps, detection {results[-1]['detect_hz']:.1f} Hz, {results[-1]['detect_ms']:.1f} ms median")
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(f"median of {len(results)} runs at 1280x720 with detection at up to {args.detect_rate:g} Hz: preview {med['preview_fps']:.1f} fps "
              f"(camera {args.camera_fps:g} fps), Kivy draws {med['draw_fps']:.1f} fps, detection "
              f"{med['detect_hz']:.1f} Hz at {med['detect_ms']:.1f} ms median; target >= 15 fps: "
              f"{'OK' if med['preview_fps'] >= 15 else 'MISSED'}")
        return 0
    return _one_run(args)


def _one_run(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", KIVY_LOG_MODE="MIXED",
                      KIVY_HOME=tempfile.mkdtemp(prefix="kivy-bench-"))
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "720")
    Config.set("graphics", "maxfps", "30")
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    from drivers.camera.device import DocumentCamera
    from drivers.camera.simulator import SimulatedSource
    from kiosk.vision.capture import CaptureOptions, MaterialCapture
    from kiosk.vision.live import LiveDetector
    from screens.preview import CameraPreview

    class PreviewBench(App):
        def build(self):
            Window.size = (1280, 720)
            self.preview = CameraPreview()
            return self.preview

        def on_start(self):
            self.camera = DocumentCamera(SimulatedSource(1280, 720, fps=args.camera_fps, scene="document"))
            self.camera.open()
            self.camera.enable()
            self.detector = LiveDetector(self.camera.latest, MaterialCapture(CaptureOptions(steady_seconds=1.0)),
                                         max_rate=args.detect_rate)
            if args.detect_rate > 0:
                self.detector.start()
            self.preview.attach(self.camera.latest, lambda: self.detector.latest, fps=30)
            self.draws = 0
            self.marks = None
            Clock.schedule_interval(self._count, 0)
            Clock.schedule_once(self._start_measuring, 1.0)
            Clock.schedule_once(self._finish, 1.0 + args.seconds)

        def _count(self, _dt):
            self.draws += 1

        def _start_measuring(self, _dt):
            self.marks = (time.perf_counter(), self.draws, self.preview.frames_shown, self.detector.detections)
            self.detect_ms = []
            Clock.schedule_interval(self._sample, 0.05)

        def _sample(self, _dt):
            result = self.detector.latest
            if result is not None and (not self.detect_ms or self.detect_ms[-1][0] != result.seq):
                self.detect_ms.append((result.seq, result.ms))

        def _finish(self, _dt):
            t0, draws0, shown0, det0 = self.marks
            elapsed = time.perf_counter() - t0
            preview_fps = (self.preview.frames_shown - shown0) / elapsed
            draw_fps = (self.draws - draws0) / elapsed
            detect_hz = (self.detector.detections - det0) / elapsed
            detect_ms = statistics.median(ms for _, ms in self.detect_ms) if self.detect_ms else float("nan")
            if args.screenshot:
                Window.screenshot(name=args.screenshot)
            self.detector.stop()
            self.camera.close()
            print(f"RESULT preview_fps={preview_fps:.2f} draw_fps={draw_fps:.2f} detect_hz={detect_hz:.2f} "
                  f"detect_ms={detect_ms:.2f}", flush=True)
            self.stop()

    PreviewBench().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
