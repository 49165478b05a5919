"""Cameras: the document camera (高拍仪) on OpenCV, its simulator, and the camera code scanner.

- ``DocumentCamera`` is the device (drivers/base.py model); it captures on its own thread
  from a ``FrameSource`` and holds the latest frame while it streams (a camera in standby,
  the kiosk's document camera between captures, holds none and is only probed).
- ``OpenCVSource`` talks to a real camera through ``cv2.VideoCapture`` (V4L2 on Linux).
- ``SimulatedSource`` renders realistic frames (a page in perspective on a desk, a QR code
  held up) with faults on command, so the whole capture flow runs without a camera.
- ``CameraCodeScanner`` (in ``drivers.camera.scanner``) reads codes from frames with an injected
  image decoder and publishes ``ScanEvent``s like every code scanner.
"""
from drivers.camera.device import DocumentCamera, Frame
from drivers.camera.sources import FrameSource, OpenCVSource

__all__ = ["DocumentCamera", "Frame", "FrameSource", "OpenCVSource"]
