"""Build the document camera from plain configuration values (the ``[devices.camera]`` keys).

The device manager calls ``build_camera(**fields)`` with the section's values; drivers do
not read the kiosk's config themselves.
"""
from __future__ import annotations

from drivers.camera.device import DocumentCamera
from drivers.camera.simulator import SimulatedSource
from drivers.camera.sources import OpenCVSource


def build_camera(driver: str, device: str = "0", width: int = 1920, height: int = 1080, fourcc: str = "MJPG",
                 fps: int = 30, simulator_scene: str = "document", simulator_fault: str = "none",
                 simulator_control: str = "", name: str = "camera", **_ignored) -> DocumentCamera | None:
    """The camera for ``driver`` ("opencv", "simulator" or "none" → None)."""
    if driver == "none":
        return None
    if driver == "simulator":
        source = SimulatedSource(width, height, fps, scene=simulator_scene, fault=simulator_fault,
                                 control_path=simulator_control or None)
    elif driver == "opencv":
        source = OpenCVSource(device, width, height, fourcc, fps)
    else:
        raise ValueError(f"unknown camera driver {driver!r} (opencv, simulator or none)")
    return DocumentCamera(source, name=name)
