"""Process-wide memory settings for the long-running kiosk (glibc only; elsewhere nothing).

glibc serves an allocation above its *mmap threshold* with its own mapping and returns it
to the system on free — but after the first such free it raises the threshold (up to
32 MB), so from then on camera frames (6 MB at 1080p), decoded images and NumPy
temporaries are carved out of the heap and arenas, whose freed pages stay resident. The
kiosk sets the threshold once, which also turns that adjustment off: big buffers come and
go as mappings. Measured on the demo (simulated camera, 1920×1080): the camera's share of
the resident set after start went from ≈130 MB to ≈60 MB (benchmarks/startup.py).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 * 1024


def return_big_buffers(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; True when it was set."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, int(threshold)))
    log.debug("mmap threshold set", extra={"fields": {"bytes": threshold, "ok": done}})
    return done
