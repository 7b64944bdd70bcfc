"""Your own accelerators from a file: CSV or JSON rows with the catalogue's Hardware columns.

The columns are ``HARDWARE_FIELDS`` (the Hardware sheet's fields), checked against the same kinds and
ranges as the shipped catalogue, so a negative bandwidth or a typo'd column is an error naming the
field (exit status 2), never a silently wrong estimate. ``source`` and ``as_of`` may be left out:
they default to the file's path and the day it is read.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
from pathlib import Path
from typing import Any, Mapping

from tcomodel.catalogue.specs import _ID_RE, HARDWARE_FIELDS, Field, HardwareSpec
from tcomodel.errors import InputError, Problem

_DEFAULTED = ("source", "as_of")


def _fmt(x: float) -> str:
    return f"{x:g}"


def _value(f: Field, raw: Any) -> Any:
    """Typed value of one field, or ValueError with a message naming the field and what it accepts."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if f.kind in ("id", "text"):
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            raise ValueError(f"{f.name} must be text, got {raw!r}")
        text = str(raw).strip()
        if f.kind == "id" and not _ID_RE.match(text):
            raise ValueError(f"{f.name} {text!r} is not a lowercase-hyphen id (letters, digits, '-' and '.'), "
                             f"e.g. my-gpu-48gb")
        return text
    if f.kind == "date":
        if isinstance(raw, _dt.date):
            return raw
        try:
            return _dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ValueError(f"{f.name} {raw!r} is not a date (YYYY-MM-DD)") from None
    unit = f" {f.unit}" if f.unit else ""
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise ValueError(f"{f.name} {raw!r} is not a number ({f.description}{', ' + f.unit if f.unit else ''})") from None
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{f.name} {raw!r} is not a finite number")
    if f.kind == "integer":
        if value != int(value):
            raise ValueError(f"{f.name} {raw!r} must be a whole number")
        value = int(value)
    if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
        raise ValueError(f"{f.name} = {_fmt(value)}{unit} is outside the allowed range "
                         f"{_fmt(f.min)} to {_fmt(f.max)}{unit} ({f.description})")
    return value


def hardware_from_mapping(row: Mapping[str, Any], where: str, *, source: str = "",
                          as_of: _dt.date | None = None) -> tuple[HardwareSpec | None, list[Problem]]:
    """One row (column name -> value) as a HardwareSpec, or None and every problem found in it."""
    problems: list[Problem] = []
    known = {f.name for f in HARDWARE_FIELDS}
    unknown = [str(k) for k in row if str(k).strip() not in known]
    if unknown:
        problems.append(Problem(where, None, f"unknown column(s) {', '.join(repr(u) for u in unknown)}; "
                                             f"the columns are: {', '.join(f.name for f in HARDWARE_FIELDS)}"))
    clean = {str(k).strip(): v for k, v in row.items()}
    values: dict[str, Any] = {}
    for f in HARDWARE_FIELDS:
        try:
            v = _value(f, clean.get(f.name))
        except ValueError as exc:
            problems.append(Problem(where, None, str(exc)))
            continue
        if v is None and f.name in _DEFAULTED:
            v = source if f.name == "source" else (as_of or _dt.date.today())
        if v is None and f.required:
            problems.append(Problem(where, None, f"{f.name} is required ({f.description}"
                                                 f"{', ' + f.unit if f.unit else ''})"))
        values[f.name] = v
    if problems:
        return None, problems
    return HardwareSpec.from_row(values), []


def _rows(path: Path, text: str) -> list[tuple[str, Mapping[str, Any]]]:
    """(where, row) pairs from CSV or JSON text; JSON is an object or a list of objects."""
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError([Problem(None, None, f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} "
                                                  f"column {exc.colno})")]) from None
        items = data if isinstance(data, list) else [data]
        out = []
        for i, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                raise InputError([Problem(None, None, f"{path}: entry {i} is not a JSON object with the hardware "
                                                      f"columns ({', '.join(f.name for f in HARDWARE_FIELDS)})")])
            out.append((f"{path} entry {i}" if len(items) > 1 else str(path), item))
        return out
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError([Problem(None, None, f"{path}: empty; expected a header row with the hardware columns "
                                              f"({', '.join(f.name for f in HARDWARE_FIELDS)})")])
    out = []
    for line, row in enumerate(reader, start=2):
        if None in row:  # more cells than header names
            raise InputError([Problem(f"{path}:{line}", None, "more cells than columns in the header row")])
        if all(v is None or str(v).strip() == "" for v in row.values()):
            continue
        out.append((f"{path}:{line}", row))
    return out


def load_hardware_file(path: str | Path) -> list[HardwareSpec]:
    """Every row of a CSV or JSON hardware file as a HardwareSpec; InputError lists every problem (exit 2)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(None, None, f"{p}: file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(None, None, f"{p}: cannot be read ({exc})")]) from None
    rows = _rows(p, text)
    if not rows:
        raise InputError([Problem(None, None, f"{p}: holds no hardware row")])
    specs, problems, seen = [], [], {}
    for where, row in rows:
        spec, probs = hardware_from_mapping(row, where, source=f"hardware file {p}")
        problems.extend(probs)
        if spec is not None:
            if spec.hardware_id in seen:
                problems.append(Problem(where, None, f"hardware_id '{spec.hardware_id}' appears twice "
                                                     f"(first at {seen[spec.hardware_id]})"))
            seen[spec.hardware_id] = where
            specs.append(spec)
    if problems:
        raise InputError(problems, path=str(p))
    return specs
