"""Giving memory back to the system once a resident's session is over.

A kiosk runs for weeks in one process. A session allocates and frees a great deal (screens,
textures, page images, the application being sent), and glibc's malloc keeps freed memory
inside its heap for reuse, so the process's resident size ratchets up to the highest point any
session reached and stays there (the soak through the screens saw a step of 37 MB after one
session, flat afterwards). Between two residents nobody is waiting, so the kiosk collects
Python's cyclic garbage (Kivy widgets live in cycles) and asks malloc to return its free pages
(``malloc_trim(0)``). Where the C library has no ``malloc_trim`` (musl, macOS) only the
collection runs.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from functools import lru_cache

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Collect cyclic garbage and return malloc's free pages to the system; True when trimmed."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def resident_bytes() -> int:
    """This process's resident set size (Linux), for the benchmarks and the test."""
    import os

    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
