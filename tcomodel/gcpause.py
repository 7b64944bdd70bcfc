"""Python's cyclic garbage collector paused while a model is built or a report written.

A build makes hundreds of thousands of long-lived objects (expression trees, line items, xlsxwriter's cell
table) and few cycles to free. With the collector on, each of its full passes walks every one of them again:
about a seventh of a default build's time (0.44 -> 0.38 s on the 2-core sandbox, benchmarks/README.md).
Reference counting still frees everything that is not in a cycle; the collector resumes, as it was, when the
work is done.
"""

from __future__ import annotations

import functools
import gc


def gc_paused(fn):
    """Run ``fn`` with the cyclic garbage collector off, then restore its previous state (nesting is fine)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        was_on = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_on:
                gc.enable()

    return wrapper
