"""Which scenario file an output was built from, so a report of one scenario never silently replaces a
report of another at the same path.

A build report records the scenario workbook's resolved path and its ``scenario_name`` as custom document
properties; the JSON results carry the same two as ``scenario_file`` and ``scenario``. Before writing,
``refuse_other_scenario`` reads what an existing target records and refuses (OutputError, exit 2) when it
was built from another scenario file, unless forced. A file that is not a tcomodel output is left to the
usual rules of ``fileio``.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from tcomodel.errors import OutputError
from tcomodel.fileio import resolve_target

SCENARIO_FILE_PROPERTY = "tcomodel_scenario_file"
SCENARIO_NAME_PROPERTY = "tcomodel_scenario_name"
KIND_PROPERTY = "tcomodel_workbook"  # as xlsxmanifest writes it
TITLE_PREFIX = "tcomodel report: "  # older reports record their scenario only in the title
_MAX_JSON_BYTES = 64 * 1024 * 1024  # a larger file is not one of our results


def scenario_file(path: str | os.PathLike) -> str:
    """The identity of a scenario workbook: its absolute, symlink-free path."""
    return str(Path(path).resolve())


def _xlsx_origin(path: Path) -> dict | None:
    """{'kind', 'file', 'name'} of a tcomodel workbook (file None for reports written before it was recorded)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            custom = z.read("docProps/custom.xml") if "docProps/custom.xml" in names else b""
            core = z.read("docProps/core.xml") if "docProps/core.xml" in names else b""
        props = {p.get("name"): "".join(p.itertext()) for p in ElementTree.fromstring(custom)} if custom else {}
        title = next((e.text or "" for e in ElementTree.fromstring(core).iter() if e.tag.endswith("}title")), "") \
            if core else ""
    except (OSError, zipfile.BadZipFile, ElementTree.ParseError, KeyError, ValueError):
        return None
    if not props.get(KIND_PROPERTY):
        return None
    name = props.get(SCENARIO_NAME_PROPERTY)
    if name is None and title.startswith(TITLE_PREFIX):
        name = title[len(TITLE_PREFIX):]
    return {"kind": props[KIND_PROPERTY], "file": props.get(SCENARIO_FILE_PROPERTY), "name": name}


def _json_origin(path: Path) -> dict | None:
    try:
        if path.stat().st_size > _MAX_JSON_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("scenario"), str) or "options" not in data:
        return None
    file = data.get("scenario_file")
    return {"kind": "json", "file": file if isinstance(file, str) else None, "name": data["scenario"]}


def recorded_origin(path: str | os.PathLike) -> dict | None:
    """What an existing output records about its scenario, or None when it is not a tcomodel output."""
    real = resolve_target(path)
    if not real.is_file():
        return None
    return _json_origin(real) if real.suffix.lower() == ".json" else _xlsx_origin(real)


def refuse_other_scenario(targets, scenario_path: str | os.PathLike, scenario_name: str, *, kind: str = "build",
                          force: bool = False):
    """Raise OutputError when a target holds a tcomodel output of a different scenario file (or an xlsx
    written by another command than ``kind``).

    The same file (resolved path) is the same scenario, whatever its name now; an older output that recorded
    only the scenario's name counts as the same when the name matches. ``force`` skips the check."""
    if force:
        return
    mine = scenario_file(scenario_path)
    for target in targets:
        if target is None:
            continue
        origin = recorded_origin(target)
        if origin is None:
            continue
        if origin["kind"] not in ("json", kind):
            raise OutputError(f"{target} holds a tcomodel {origin['kind']} workbook, not a {kind} of {mine}; "
                              "give another output path, or pass --force to replace it")
        same = origin["file"] == mine if origin["file"] is not None else origin["name"] == scenario_name
        if not same:
            theirs = origin["file"] or f"a scenario named {origin['name']!r}"
            raise OutputError(f"{target} holds the output of another scenario file ({theirs}), not of {mine}; "
                              "give another output path (-o / --json), or pass --force to replace it")
