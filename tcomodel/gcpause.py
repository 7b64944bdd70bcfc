"""Python's cyclic garbage collector paused while a model is built or a report written.

A build makes hundreds of thousands of long-lived objects (expression trees, line items, xlsxwriter's cell
table) and few cycles to free. With the collector on, each of its full passes walks every one of them again:
about a fifth of a default build's time (0.41 -> 0.33 s measured on the 2-core sandbox). Reference counting
still frees everything that is not in a cycle; the collector resumes, as it was, when the work is done.
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
