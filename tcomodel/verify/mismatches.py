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
from tcomodel.xlsxmanifest import MANIFEST_SHEET, NotATcomodelWorkbook, formula_hash, read_manifest

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


@dataclass(frozen=True)
class FormulaChange:
    """A formula cell that is no longer what tcomodel wrote (from the workbook's formula manifest)."""

    sheet: str
    cell: str | None
    reason: str  # "formula replaced by a constant", "formula changed", "sheet missing", ...
    found: object = None

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{where}: {self.reason}" + ("" if self.found is None else f": {self.found!r}")


class NotAReportError(UsageError):
    """The workbook was not written by tcomodel (no formula manifest): verify has nothing to check against."""


@dataclass
class VerifyResult:
    path: Path
    formula_cells: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    rel_tol: float = 1e-9
    kind: str = "build"  # which command wrote it: build, sweep or compare
    recorded_formulas: int = 0
    formula_changes: list[FormulaChange] = field(default_factory=list)
    cases: object = None  # verify.case_checks.CaseReport: inputs vs the scenario, each case vs the engine

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.formula_changes and (self.cases is None or self.cases.ok)

    def cases_summary(self) -> str:
        c = self.cases
        if c is None:
            return ""
        if c.note and not c.checked:
            lines = [f"cases: not checked ({c.note})"]
        else:
            per_case = ", ".join(f"{k} {'agrees' if not v else f'{len(v)} differ'}" for k, v in c.mismatches.items())
            lines = [f"cases against a fresh engine build of {c.scenario} ({c.cells} formula cells each): {per_case}"]
        if c.input_differences:
            lines.append(f"{len(c.input_differences)} input cell(s) differ from the scenario workbook {c.scenario}")
        elif c.scenario is not None:
            lines.append(f"every input cell equals the scenario workbook {c.scenario}")
        return "\n".join(lines)

    @property
    def agreeing(self) -> int:
        return self.formula_cells - len(self.mismatches)

    def summary(self) -> str:
        if not self.mismatches:
            values = f"{self.formula_cells} formula cells agree with LibreOffice within {self.rel_tol:g}"
        else:
            values = (f"{len(self.mismatches)} of {self.formula_cells} formula cells differ from LibreOffice "
                      f"(tolerance {self.rel_tol:g})")
        if not self.formula_changes:
            formulas = f"all {self.recorded_formulas} formulas as tcomodel {self.kind} wrote them"
        else:
            formulas = (f"{len(self.formula_changes)} formula problem(s) against the {self.recorded_formulas} "
                        f"formulas tcomodel {self.kind} wrote")
        return f"{values}; {formulas}"


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
            if ws.title == MANIFEST_SHEET:
                continue
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


def check_formulas(recorded: dict[tuple[str, str], str], formulas: dict[tuple[str, str], str],
                   cached: dict[tuple[str, str], object], sheets: list[str]) -> list[FormulaChange]:
    """Every difference between the formulas tcomodel recorded and those in the workbook now."""
    out = []
    present = set(sheets)
    missing_sheets = sorted({s for s, _ in recorded} - present)
    out += [FormulaChange(s, None, "sheet missing") for s in missing_sheets]
    for (sheet, cell), digest in recorded.items():
        if sheet in missing_sheets:
            continue
        now = formulas.get((sheet, cell))
        if now is None:
            v = cached.get((sheet, cell))
            out.append(FormulaChange(sheet, cell, "formula replaced by a constant" if v is not None
                                     else "formula deleted (cell empty)", v))
        elif formula_hash(now) != digest:
            out.append(FormulaChange(sheet, cell, "formula changed", now))
    for (sheet, cell), f in formulas.items():
        if (sheet, cell) not in recorded:
            out.append(FormulaChange(sheet, cell, "formula not written by tcomodel", f))
    return out


def _sheet_names(path) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def verify_report(path, rel_tol: float = 1e-9, workdir=None, scenario=None, cases: bool = True) -> VerifyResult:
    """Check a workbook written by tcomodel (build, sweep or compare): every formula is still the one
    tcomodel recorded in the workbook's manifest, and LibreOffice's recalculation of every formula cell
    matches its cached value. Raises NotAReportError for any other workbook."""
    if not (isinstance(rel_tol, (int, float)) and not isinstance(rel_tol, bool) and math.isfinite(rel_tol)
            and rel_tol >= 0):
        raise UsageError(f"--rel-tol must be a number >= 0 (got {rel_tol!r})")
    p = Path(path)
    _check_xlsx(p)
    try:
        kind, recorded, intact = read_manifest(p)
    except NotATcomodelWorkbook as exc:
        raise NotAReportError(f"{p}: not a tcomodel report ({exc}); verify checks workbooks written by "
                              "tcomodel build, sweep or compare (one written before tcomodel recorded its "
                              "formulas must be built again)") from None
    except Exception as exc:  # noqa: BLE001  a corrupt or encrypted file
        raise UsageError(f"{p}: cannot be read as an .xlsx workbook ({exc.__class__.__name__}: {exc})") from None
    formulas = read_formulas(p)
    cached = read_values(p)
    res = VerifyResult(path=p, formula_cells=len(formulas), rel_tol=rel_tol, kind=kind,
                       recorded_formulas=len(recorded))
    if not intact:
        res.formula_changes.append(FormulaChange(MANIFEST_SHEET, None, "the formula manifest itself was edited"))
    res.formula_changes += check_formulas(recorded, formulas, cached, _sheet_names(p))
    with tempfile.TemporaryDirectory(prefix="tcomodel-verify-", dir=workdir) as tmp:
        recalc_path = recalculate(p, tmp)
        recalc = read_values(recalc_path)
    for (sheet, cell), f in formulas.items():
        a, b = cached.get((sheet, cell)), recalc.get((sheet, cell))
        reason = compare_values(a, b, rel_tol)
        if reason:
            res.mismatches.append(Mismatch(sheet, cell, f, a, b, reason))
    from tcomodel.verify.case_switch import has_case_switch

    if cases and kind == "build" and has_case_switch(p):  # a report with Low / Base / High
        from tcomodel.verify.case_checks import CaseReport, check_cases, find_scenario

        found, note = find_scenario(p, scenario)
        res.cases = CaseReport(note=note) if found is None else check_cases(
            p, found, rel_tol, read_values=read_values, read_formulas=read_formulas, recalculate=recalculate,
            compare_values=compare_values, mismatch=Mismatch, workdir=workdir)
    return res
