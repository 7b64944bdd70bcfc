"""The C heap, kept between numpy's large temporaries (glibc only; elsewhere nothing changes).

numpy takes each array's memory from malloc. glibc serves a block over its mmap threshold (128 KiB at first,
raised as large blocks are freed) with a fresh mmap, and hands the top of its heap back to the system once more
than twice that threshold lies free there. A sweep's chunk allocates and frees thousands of arrays of 0.1-1 MB
([chunk samples, quarters] float64), so the same pages are unmapped and faulted in again, over and over.
Measured on the default scenario (2-core sandbox, benchmarks/README.md "fifth round"): one evaluation of every
line item over 1,000 samples took 13,700 page faults and 26 ms of system time, a third of its 74 ms.

``keep_freed_heap(array_bytes)`` serves blocks up to twice the caller's largest array (at least 4 MiB, at most
glibc's ceiling of 32 MiB) from the heap, and keeps up to 64 MiB free at its top. Measured on the 1M-sample
sweep of every input (same machine and round): 28.1 -> 22.8 s in one process and 18.2 -> 15.0 s with two workers;
peak process-tree PSS 359 -> 367 MiB and 422 -> 406 MiB. A threshold of 32 MiB with 256 MiB kept was as fast but
took the two-worker peak to 482 MiB (each worker then holds its own peak at once). The setting is the process's
and stays (glibc cannot go back to its adaptive threshold); a later call may raise the threshold. Allocation
changes no value.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MIN_MMAP_THRESHOLD_BYTES = 4 * 2**20
MAX_MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's ceiling on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX)
TRIM_THRESHOLD_BYTES = 64 * 2**20

_set_bytes = 0  # the mmap threshold set so far (0: none)


def _glibc_mallopt():
    """glibc's mallopt, or None (another C library, another system)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc's own: musl has a mallopt that does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt


def mmap_threshold_for(array_bytes: int) -> int:
    """The mmap threshold for arrays of up to ``array_bytes``: twice that, within 4..32 MiB."""
    return int(min(MAX_MMAP_THRESHOLD_BYTES, max(MIN_MMAP_THRESHOLD_BYTES, 2 * int(array_bytes))))


def keep_freed_heap(array_bytes: int = 0) -> bool:
    """Set the thresholds above for arrays of up to ``array_bytes`` (see the module's comment). True where they
    are set (glibc), False where nothing changed. A threshold is only ever raised."""
    global _set_bytes
    want = mmap_threshold_for(array_bytes)
    if want <= _set_bytes:
        return True
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    if not (mallopt(M_MMAP_THRESHOLD, want) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1):
        return False
    _set_bytes = want
    return True
