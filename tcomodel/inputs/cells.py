"""Parsing one cell of a scenario workbook into a typed value, or a message saying what is wrong."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import total_ordering

from tcomodel.inputs.schema import Field

EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")

_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]\s*([1-4])\s*$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@total_ordering
@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, written 2026Q1."""

    year: int
    q: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        m = _QUARTER_RE.match(text)
        if not m:
            raise ValueError(f"'{text}' is not a quarter; write YYYYQn, e.g. 2026Q1")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def from_date(cls, d: dt.date) -> "Quarter":
        return cls(d.year, (d.month - 1) // 3 + 1)

    @property
    def index(self) -> int:
        return self.year * 4 + self.q - 1

    def __add__(self, n: int) -> "Quarter":
        i = self.index + n
        return Quarter(i // 4, i % 4 + 1)

    def __sub__(self, other: "Quarter") -> int:
        return self.index - other.index

    def __lt__(self, other: "Quarter") -> bool:
        return self.index < other.index

    @property
    def start_date(self) -> dt.date:
        return dt.date(self.year, 3 * (self.q - 1) + 1, 1)

    @property
    def end_date(self) -> dt.date:
        nxt = self + 1
        return nxt.start_date - dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"


class CellProblem(ValueError):
    """Raised by ``parse_value`` with the message for the user (the caller adds sheet and cell)."""


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_value(f: Field, value, formula: str | None = None):
    """Return the typed value of a cell for field ``f`` (None when blank and optional).

    ``value`` is the cached value (openpyxl data_only=True); ``formula`` the formula text when the
    cell holds one. Raises CellProblem with a message that says what is wrong and what is allowed.
    """
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        raise CellProblem(f"{f.name} holds the Excel error {value.strip()}; expected {f.allowed()}")
    if formula is not None and value is None:
        raise CellProblem(
            f"{f.name} is a formula ({formula[:60]}) with no saved value; open and save the file in Excel or "
            f"LibreOffice so the value is stored, or type the value; expected {f.allowed()}"
        )
    if is_blank(value):
        if f.required:
            raise CellProblem(f"{f.name} is empty but required; expected {f.allowed()}")
        return None
    kind = f.kind
    if kind in ("number", "integer", "share"):
        return _parse_number(f, value)
    if kind == "quarter":
        if isinstance(value, (dt.datetime, dt.date)):
            return Quarter.from_date(value if isinstance(value, dt.date) else value.date())
        if not isinstance(value, str):
            raise CellProblem(f"{f.name} '{value}' is not a quarter; expected {f.allowed()}")
        try:
            return Quarter.parse(value)
        except ValueError:
            raise CellProblem(f"{f.name} '{value}' is not a quarter; expected {f.allowed()}") from None
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise CellProblem(f"{f.name} '{value}' is not a date; expected {f.allowed()}")
    if kind in ("id", "ref"):
        if not isinstance(value, str):
            raise CellProblem(f"{f.name} '{value}' is not an id; expected {f.allowed()}")
        text = value.strip()
        if not _ID_RE.match(text):
            hint = f" (did you mean '{text.lower()}'?)" if _ID_RE.match(text.lower()) else ""
            raise CellProblem(f"{f.name} '{text}' is not a valid id{hint}; expected {Field(f.name, 'id').allowed()}")
        return text
    if kind == "choice":
        text = str(value).strip().lower() if isinstance(value, str) else None
        if text not in f.choices:
            raise CellProblem(f"{f.name} '{value}' is not one of {', '.join(f.choices)}")
        return text
    # text
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_number(f: Field, value) -> float:
    number: float | None = None
    if isinstance(value, bool):
        raise CellProblem(f"{f.name} is TRUE/FALSE; expected {f.allowed()}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        percent = text.endswith("%")
        if percent:
            text = text[:-1]
        try:
            number = float(text)
        except ValueError:
            raise CellProblem(f"{f.name} holds text '{value}'; expected {f.allowed()}") from None
        if percent:
            number /= 100.0
    else:
        raise CellProblem(f"{f.name} '{value}' is not a number; expected {f.allowed()}")
    if math.isnan(number) or math.isinf(number):
        raise CellProblem(f"{f.name} is not a finite number; expected {f.allowed()}")
    if f.kind == "share" and not 0.0 <= number <= 1.0:
        hint = f" (for {number:g}% write {number / 100:g} or {number:g}%)" if 1.0 < number <= 100.0 else ""
        raise CellProblem(f"{f.name} {number:g} is not between 0 and 1{hint}; expected {f.allowed()}")
    if f.kind == "integer" and not float(number).is_integer():
        raise CellProblem(f"{f.name} {number:g} is not a whole number; expected {f.allowed()}")
    if f.min is not None and number < f.min:
        what = "negative" if number < 0 <= f.min else "too small"
        raise CellProblem(f"{f.name} {number:g} is {what}; expected {f.allowed()}")
    if f.max is not None and number > f.max:
        raise CellProblem(f"{f.name} {number:g} is too large; expected {f.allowed()}")
    return int(number) if f.kind == "integer" else number
