"""tcomodel.heap: glibc keeps the pages of freed numpy temporaries instead of faulting them in again."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tcomodel import heap

ROOT = Path(__file__).resolve().parents[1]
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


def _clean_env(**extra) -> dict:
    """The environment without anything that sets malloc itself (those make keep_freed_heap stand aside)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "LD_PRELOAD", heap.OPT_OUT_VARIABLE)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _faults_per_round(mode: str, **env) -> float:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True,
                         env=_clean_env(**env), cwd=ROOT)
    return float(out.stdout)


def test_mmap_threshold_is_twice_the_largest_array_within_bounds():
    assert heap.mmap_threshold_for(0) == 4 * 2**20
    assert heap.mmap_threshold_for(3 * 2**20) == 6 * 2**20
    assert heap.mmap_threshold_for(10**9) == 32 * 2**20  # the adaptive maximum; glibc before 2.35 refuses more


@pytest.mark.skipif(not GLIBC, reason="the setting exists in glibc only; elsewhere keep_freed_heap changes nothing")
def test_tuned_heap_keeps_freed_pages():
    pages_per_round = 8 * 2**20 // resource.getpagesize()
    untuned, tuned = _faults_per_round("untuned"), _faults_per_round("tuned")
    assert untuned > 0.7 * pages_per_round  # the 8 MiB faulted in again each round
    assert tuned < 50  # kept: a round reuses the pages of the last


@pytest.mark.skipif(not GLIBC, reason="the setting exists in glibc only")
def test_the_users_malloc_settings_and_the_opt_out_are_left_alone():
    pages_per_round = 8 * 2**20 // resource.getpagesize()
    # the probe asserts that keep_freed_heap sets something: with these it must not (the probe's assert fails)
    for env in ({heap.OPT_OUT_VARIABLE: "0"}, {"MALLOC_TOP_PAD_": str(2**20)}):
        with pytest.raises(subprocess.CalledProcessError):
            _faults_per_round("tuned", **env)
    assert _faults_per_round("untuned", **{heap.OPT_OUT_VARIABLE: "0"}) > 0.7 * pages_per_round


def test_threshold_is_only_raised(monkeypatch):
    calls = []
    for v in (heap.OPT_OUT_VARIABLE, "GLIBC_TUNABLES", *heap._USER_SETTINGS):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setattr(heap, "_set_bytes", 0)
    monkeypatch.setattr(heap, "_glibc_mallopt", lambda: (lambda option, value: calls.append((option, value)) or 1))
    assert heap.keep_freed_heap(3 * 2**20)
    assert heap.keep_freed_heap(2**20)  # smaller: already covered, no call
    assert heap.keep_freed_heap(5 * 2**20)
    assert calls == [(heap.M_MMAP_THRESHOLD, 6 * 2**20), (heap.M_TRIM_THRESHOLD, 64 * 2**20),
                     (heap.M_MMAP_THRESHOLD, 10 * 2**20), (heap.M_TRIM_THRESHOLD, 64 * 2**20)]


def test_a_refused_setting_or_another_system_changes_nothing(monkeypatch):
    for v in (heap.OPT_OUT_VARIABLE, "GLIBC_TUNABLES", *heap._USER_SETTINGS):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setattr(heap, "_set_bytes", 0)
    monkeypatch.setattr(heap, "_glibc_mallopt", lambda: (lambda option, value: 0))  # mallopt's failure
    assert heap.keep_freed_heap(2**20) is False
    monkeypatch.setattr(heap, "_glibc_mallopt", lambda: None)
    assert heap.keep_freed_heap(2**20) is False
    monkeypatch.undo()
    monkeypatch.setattr(sys, "platform", "darwin")
    assert heap._glibc() is None and heap._glibc_mallopt() is None


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_release_gives_freed_pages_back():
    probe = textwrap.dedent("""
        import resource, sys
        import numpy as np
        from tcomodel import heap
        assert heap.keep_freed_heap(8 * 2**20)  # 8 MiB arrays come from the heap
        keep = []
        xs = [np.ones(2**20) for _ in range(20)]  # 20 x 8 MiB, under a small live block, then freed
        keep.append(np.ones(2**15))  # 256 KiB: from the heap, above the arrays (numpy caches tiny buffers)
        del xs
        def rss_mib():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * resource.getpagesize() / 2**20
        before = rss_mib()
        released = heap.release_freed_heap()
        print(before, rss_mib(), released)
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env=_clean_env(), cwd=ROOT).stdout.split()
    before, after, released = float(out[0]), float(out[1]), out[2] == "True"
    assert released and before - after > 100  # the 160 MiB the arrays held, back to the system
