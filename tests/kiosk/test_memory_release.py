"""Between residents the kiosk gives freed memory back: its size does not stay at a session's peak."""
from __future__ import annotations

from kiosk.memory_release import release_free_memory, resident_bytes


def test_memory_freed_by_a_session_goes_back_to_the_system():
    keep, freed = [], []
    for index in range(120_000):  # ~120 MB in small blocks, inside malloc's heap
        (keep if index % 64 == 0 else freed).append(bytearray(1000))
    peak = resident_bytes()
    freed.clear()  # what a session frees: holes between blocks still in use, not at the heap's end
    still_held = resident_bytes()
    assert release_free_memory()
    after = resident_bytes()
    assert peak - still_held < 40 << 20  # malloc keeps most of it by itself...
    assert still_held - after > 60 << 20  # ...and returns it when asked
    assert len(keep) == 120_000 // 64
