"""Compare a report's cached formula values with LibreOffice's recalculation of the same file."""

from __future__ import annotations

import math
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from tcomodel.errors import UsageError
from tcomodel.verify.recalc import recalculate

ERROR_VALUES = ("#N/A", "#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "#NUM!", "#NULL!")
# errors that mean a broken formula, never an intended result
BROKEN = ("#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "#NULL!")
ABS_FLOOR = 1e-9  # values this close to 0 compare absolutely (1e-12 vs 0 after cancellation)


@dataclass(frozen=True)
class Mismatch:
    sheet: str
    cell: str
    formula: str
    cached: object
    recalculated: object
    reason: str

    def __str__(self) -> str:
        return (f"{self.sheet}!{self.cell}: cached {self.cached!r}, LibreOffice {self.recalculated!r} "
                f"({self.reason})  {self.formula}")


@dataclass
class VerifyResult:
    path: Path
    formula_cells: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    rel_tol: float = 1e-9

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def agreeing(self) -> int:
        return self.formula_cells - len(self.mismatches)

    def summary(self) -> str:
        if self.ok:
            return f"{self.formula_cells} formula cells agree with LibreOffice within {self.rel_tol:g}"
        return (f"{len(self.mismatches)} of {self.formula_cells} formula cells differ from LibreOffice "
                f"(tolerance {self.rel_tol:g})")


def _is_error(v) -> bool:
    return isinstance(v, str) and v in ERROR_VALUES


def compare_values(cached, recalc, rel_tol: float = 1e-9, abs_floor: float = ABS_FLOOR) -> str | None:
    """None when equal, else the reason they differ."""
    if _is_error(recalc) and recalc in BROKEN and recalc != cached:
        return f"LibreOffice gives {recalc}"
    if _is_error(cached) or _is_error(recalc):
        return None if cached == recalc else "error value differs"
    num = (int, float)
    if isinstance(cached, bool) or isinstance(recalc, bool):
        return None if cached == recalc else "boolean differs"
    if isinstance(cached, num) and isinstance(recalc, num):
        a, b = float(cached), float(recalc)
        if not (math.isfinite(a) and math.isfinite(b)):
            return "not finite"
        d = abs(a - b)
        if d <= max(rel_tol * max(abs(a), abs(b)), abs_floor):
            return None
        return f"relative difference {d / max(abs(a), abs(b)):.3g}"
    # empty cached string vs None and the like
    if (cached in (None, "")) and (recalc in (None, "")):
        return None
    return None if cached == recalc else "value differs"


def _check_xlsx(p: Path) -> None:
    if not p.is_file():
        raise UsageError(f"{p}: file not found")
    if p.suffix.lower() not in (".xlsx", ".xlsm") or not zipfile.is_zipfile(p):
        raise UsageError(f"{p}: not an .xlsx workbook")


def read_formulas(path) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(path, data_only=False, read_only=True)
    out = {}
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    v = c.value
                    if isinstance(v, str) and v.startswith("="):
                        out[(ws.title, c.coordinate)] = v
                    elif v is not None and type(v).__name__ in ("ArrayFormula", "DataTableFormula"):
                        out[(ws.title, c.coordinate)] = str(getattr(v, "text", v))
    finally:
        wb.close()
    return out


def read_values(path) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    out = {}
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        out[(ws.title, c.coordinate)] = c.value
    finally:
        wb.close()
    return out


def verify_report(path, rel_tol: float = 1e-9, workdir=None) -> VerifyResult:
    """Recalculate ``path`` in LibreOffice and compare every formula cell's cached value with it."""
    p = Path(path)
    _check_xlsx(p)
    formulas = read_formulas(p)
    cached = read_values(p)
    with tempfile.TemporaryDirectory(prefix="tcomodel-verify-", dir=workdir) as tmp:
        recalc_path = recalculate(p, tmp)
        recalc = read_values(recalc_path)
    res = VerifyResult(path=p, formula_cells=len(formulas), rel_tol=rel_tol)
    for (sheet, cell), f in formulas.items():
        a, b = cached.get((sheet, cell)), recalc.get((sheet, cell))
        reason = compare_values(a, b, rel_tol)
        if reason:
            res.mismatches.append(Mismatch(sheet, cell, f, a, b, reason))
    return res
