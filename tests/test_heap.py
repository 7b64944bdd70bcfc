"""tcomodel.heap: glibc keeps the pages of freed numpy temporaries instead of faulting them in again."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from tcomodel import heap

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# a chunk's pattern in miniature: eight 1 MiB arrays alive at once, then all freed, over and over. Untuned, glibc's
# adaptive threshold (1 MiB after the first free) trims the heap's top once 2 MiB lie free there, so every round
# faults its 8 MiB in again (2,048 pages of 4 KiB).
_PROBE = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from tcomodel import heap
    if sys.argv[1] == "tuned":
        assert heap.keep_freed_heap(2**20)
    rounds = 50
    for _ in range(3):
        xs = [np.ones(2**17) for _ in range(8)]
        del xs
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        xs = [np.ones(2**17) for _ in range(8)]
        del xs
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / rounds)
""")


def _faults_per_round(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return float(out.stdout)


def test_mmap_threshold_is_twice_the_largest_array_within_glibc_bounds():
    assert heap.mmap_threshold_for(0) == 4 * 2**20
    assert heap.mmap_threshold_for(3 * 2**20) == 6 * 2**20
    assert heap.mmap_threshold_for(10**9) == 32 * 2**20  # glibc refuses more than DEFAULT_MMAP_THRESHOLD_MAX


@pytest.mark.skipif(not GLIBC, reason="the setting exists in glibc only; elsewhere keep_freed_heap changes nothing")
def test_tuned_heap_keeps_freed_pages():
    untuned, tuned = _faults_per_round("untuned"), _faults_per_round("tuned")
    assert untuned > 1500  # the 8 MiB faulted in again each round (2,048 pages)
    assert tuned < 50  # kept: a round reuses the pages of the last


def test_threshold_is_only_raised(monkeypatch):
    calls = []
    monkeypatch.setattr(heap, "_set_bytes", 0)
    monkeypatch.setattr(heap, "_glibc_mallopt", lambda: (lambda option, value: calls.append((option, value)) or 1))
    assert heap.keep_freed_heap(3 * 2**20)
    assert heap.keep_freed_heap(2**20)  # smaller: already covered, no call
    assert heap.keep_freed_heap(5 * 2**20)
    assert calls == [(heap.M_MMAP_THRESHOLD, 6 * 2**20), (heap.M_TRIM_THRESHOLD, 64 * 2**20),
                     (heap.M_MMAP_THRESHOLD, 10 * 2**20), (heap.M_TRIM_THRESHOLD, 64 * 2**20)]


def test_a_refused_setting_is_reported(monkeypatch):
    monkeypatch.setattr(heap, "_set_bytes", 0)
    monkeypatch.setattr(heap, "_glibc_mallopt", lambda: (lambda option, value: 0))  # mallopt's failure
    assert heap.keep_freed_heap(2**20) is False
    monkeypatch.setattr(heap, "_glibc_mallopt", lambda: None)
    assert heap.keep_freed_heap(2**20) is False
