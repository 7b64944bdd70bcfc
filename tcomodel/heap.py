"""The C heap, kept between numpy's large temporaries (glibc only; elsewhere nothing changes).

numpy takes each array's memory from malloc. glibc serves a block over its mmap threshold (128 KiB at first,
raised as large blocks are freed) with a fresh mmap, and hands the top of its heap back to the system once more
than twice that threshold lies free there. A sweep's chunk allocates and frees thousands of arrays of 0.1-1 MB
([chunk samples, quarters] float64), so the same pages are unmapped and faulted in again, over and over.
Measured on the default scenario (2-core sandbox, benchmarks/README.md "fifth round"): one evaluation of every
line item over 1,000 samples took 13,700 page faults and 26 ms of system time, a third of its 74 ms.

``keep_freed_heap(array_bytes)`` serves blocks up to twice the caller's largest array (at least 4 MiB, at most
32 MiB, the adaptive threshold's own maximum) from the heap, and keeps up to 64 MiB free at its top; `run_sweep`
calls it before its chunks (and before forking its workers, which inherit it) and ``release_freed_heap`` after
them (glibc's malloc_trim), so a long-lived process does not keep what the chunks freed. Measured on the
1M-sample sweep of every input (same machine and round; chunks of ~10,000 samples, 1.6 MB rows): 28.1 -> 22.8 s
in one process and 18.2 -> 15.0 s with two workers, peak process-tree PSS 359 -> 367 MiB and 422 -> 406 MiB; at
100,000 samples with two workers, and for chunks of 91 KB rows, no change. A threshold of 32 MiB with 256 MiB
kept was as fast but took the two-worker peak to 482 MiB (each worker then holds its own peak at once).

The setting is the process's (glibc cannot go back to its adaptive threshold once any mallopt is made).
Nothing changes where the user set glibc's malloc themselves (MALLOC_*_ or malloc GLIBC_TUNABLES in the
environment) or TCOMODEL_KEEP_FREED_HEAP=0 (to measure without it). Allocation changes no value.
"""

from __future__ import annotations

import os
import sys
import threading

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MIN_MMAP_THRESHOLD_BYTES = 4 * 2**20
# the adaptive threshold's maximum on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX); glibc before 2.35 refuses more
MAX_MMAP_THRESHOLD_BYTES = 32 * 2**20
TRIM_THRESHOLD_BYTES = 64 * 2**20
OPT_OUT_VARIABLE = "TCOMODEL_KEEP_FREED_HEAP"  # "0": leave the allocator alone (to measure without it)
# the user's own malloc settings win: with any of these set, nothing is changed
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")

_lock = threading.Lock()
_set_bytes = 0  # the mmap threshold this module has set so far (0: none)


def _glibc():
    """glibc itself (ctypes), or None: another C library (musl has a mallopt that does nothing), another system,
    or a Python without ctypes."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc's own
        mallopt, malloc_trim = libc.mallopt, libc.malloc_trim
    except (ImportError, OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim.restype = ctypes.c_int
    return libc


def _glibc_mallopt():
    libc = _glibc()
    return None if libc is None else libc.mallopt


def mmap_threshold_for(array_bytes: int) -> int:
    """The mmap threshold for arrays of up to ``array_bytes``: twice that, within 4..32 MiB."""
    return int(min(MAX_MMAP_THRESHOLD_BYTES, max(MIN_MMAP_THRESHOLD_BYTES, 2 * int(array_bytes))))


def _left_alone() -> bool:
    return (os.environ.get(OPT_OUT_VARIABLE) == "0" or any(os.environ.get(v) for v in _USER_SETTINGS)
            or "malloc" in os.environ.get("GLIBC_TUNABLES", ""))


def keep_freed_heap(array_bytes: int = 0) -> bool:
    """Set the thresholds above for arrays of up to ``array_bytes`` (see the module's comment). True where they
    are set (glibc), False where nothing changed (another C library; the user's own malloc settings, or
    TCOMODEL_KEEP_FREED_HEAP=0, in the environment). Never lowers a threshold this module set before (glibc's own
    adaptive one is replaced, as any mallopt call does)."""
    global _set_bytes
    if _left_alone():
        return False
    want = mmap_threshold_for(array_bytes)
    with _lock:
        if want <= _set_bytes:
            return True
        mallopt = _glibc_mallopt()
        if mallopt is None:
            return False
        if not (mallopt(M_MMAP_THRESHOLD, want) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1):
            return False
        _set_bytes = want
        return True


def release_freed_heap() -> bool:
    """Give the heap's free pages back to the system (glibc's malloc_trim): after a sweep, what its chunks kept
    is not held by a long-lived process (the trim threshold only bounds free space at the heap's top; a live
    block above freed ones keeps them all). True where glibc trimmed anything."""
    if _set_bytes == 0:
        return False
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))
