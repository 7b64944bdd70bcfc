"""Defined names for input cells: an input's id made a valid Excel/LibreOffice name.

Excel names take letters, digits, ``_`` and ``.``, start with a letter or ``_``, and must not read as a
cell reference (``A1``, ``R1C1``); they are case-insensitive. An id's other characters become ``_``;
an id whose first part reads as a reference (``a100.capex...``) gets a leading ``_``.
"""

from __future__ import annotations

import re

_BAD = re.compile(r"[^A-Za-z0-9_.]")
_REF_LIKE = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*([Cc][0-9]*)?|[Cc][0-9]*)$")
MAX_NAME_CHARS = 255


def defined_name(input_id: str, taken: set[str]) -> str:
    """A defined name for ``input_id`` not in ``taken`` (upper-cased names); adds it to ``taken``."""
    name = _BAD.sub("_", input_id)
    if not name or not (name[0].isalpha() or name[0] == "_") or _REF_LIKE.match(name.split(".")[0]):
        name = "_" + name
    name = name[:MAX_NAME_CHARS - 4]
    candidate, k = name, 2
    while candidate.upper() in taken:
        candidate, k = f"{name}_{k}", k + 1
    taken.add(candidate.upper())
    return candidate
