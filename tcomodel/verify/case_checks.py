"""What `tcomodel verify` checks against the scenario a report was built from (given, or found at the path the
report records):

1. every input cell of the report (the constant cells of the Inputs sheet: Low, Base, High, per-quarter
   rows) equals what the scenario workbook gives now, cell for cell against a fresh build;
2. each case: the report with its Case switched (Low, Base, High) and recalculated in LibreOffice equals the
   engine's own build of that case, formula cell by formula cell.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from tcomodel.errors import UsageError
from tcomodel.finance.cases import CASE_LABEL, CASES
from tcomodel.verify.case_switch import case_cell, has_case_switch, set_case
from tcomodel.provenance import SCENARIO_FILE_PROPERTY
from tcomodel.xlsxmanifest import BUILD_DATE_PROPERTY, CASE_PROPERTY, read_properties

INPUT_SHEETS = ("Inputs", "InputsByQuarter")


@dataclass(frozen=True)
class InputDifference:
    sheet: str
    cell: str
    label: str
    in_report: object
    in_scenario: object

    def __str__(self) -> str:
        return (f"{self.sheet}!{self.cell} ({self.label}): {self.in_report!r} in the report, "
                f"{self.in_scenario!r} from the scenario workbook")


@dataclass
class CaseReport:
    scenario: Path | None = None
    note: str = ""  # why the cases were not checked, when they were not
    input_differences: list[InputDifference] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # case labels compared
    mismatches: dict = field(default_factory=dict)  # case label -> [Mismatch]
    cells: int = 0  # formula cells compared per case

    @property
    def ok(self) -> bool:
        return not self.input_differences and not any(self.mismatches.values())


def find_scenario(report: Path, given=None) -> tuple[Path | None, str]:
    """The scenario workbook to check against: ``given``, else the path the report records. (path, note)."""
    if given is not None:
        p = Path(given)
        if not p.is_file():
            raise UsageError(f"--scenario {given}: file not found")
        return p, ""
    recorded = read_properties(report).get(SCENARIO_FILE_PROPERTY)
    if not recorded:
        return None, "the report does not record its scenario workbook; give --scenario to check the cases"
    p = Path(recorded)
    if not p.is_file():
        return None, f"its scenario workbook {recorded} is not there; give --scenario to check the cases"
    return p, ""


def _constant_cells(values: dict, formulas: dict, skip, sheets=INPUT_SHEETS) -> dict:
    return {k: v for k, v in values.items() if k[0] in sheets and k not in formulas and k != skip}


def check_cases(report: Path, scenario: Path, rel_tol: float, *, read_values, read_formulas, recalculate,
                compare_values, mismatch, workdir=None) -> CaseReport:
    """Rebuild every case from ``scenario`` (same build date) and compare; see the module docstring."""
    from tcomodel.api import build

    out = CaseReport(scenario=scenario)
    if not has_case_switch(report):
        out.note = "the report has no case switch (built by an older tcomodel): cases not checked"
        return out
    props = read_properties(report)
    built_case = str(props.get(CASE_PROPERTY) or "base")
    build_date = dt.date.fromisoformat(str(props.get(BUILD_DATE_PROPERTY) or dt.date.today().isoformat()))
    here_values, here_formulas = read_values(report), read_formulas(report)
    with tempfile.TemporaryDirectory(prefix="tcomodel-cases-", dir=workdir) as tmp:
        tmp = Path(tmp)
        refs = {}
        for case in CASES:
            path = tmp / f"engine-{case}.xlsx"
            build(scenario, xlsx_path=path, build_date=build_date, case=case)
            refs[case] = path
        base_values = read_values(refs[built_case])
        switch = case_cell(report)  # a switched and saved report is still the same inputs
        mine = _constant_cells(here_values, here_formulas, switch)
        theirs = _constant_cells(base_values, read_formulas(refs[built_case]), switch)
        labels = {(s, c): v for (s, c), v in here_values.items() if s in INPUT_SHEETS and c.startswith("A")}

        def where(key):  # (sheet, row, column) for reading order
            col, row = coordinate_from_string(key[1])
            return key[0], row, column_index_from_string(col)

        for key in sorted(set(mine) | set(theirs), key=where):
            a, b = mine.get(key), theirs.get(key)
            if compare_values(a, b, rel_tol) is not None:
                label = labels.get((key[0], f"A{where(key)[1]}"), "")
                out.input_differences.append(InputDifference(key[0], key[1], str(label), a, b))
        if out.input_differences:
            out.note = "the report's inputs differ from the scenario workbook: cases not compared"
            return out
        for case in CASES:
            label = CASE_LABEL[case]
            switched = set_case(report, tmp / f"switched-{case}.xlsx", label)
            recalc = read_values(recalculate(switched, tmp / f"recalc-{case}"))
            ref_values, ref_formulas = read_values(refs[case]), read_formulas(refs[case])
            out.cells = len(ref_formulas)
            bad = []
            for key, formula in ref_formulas.items():
                reason = compare_values(ref_values.get(key), recalc.get(key), rel_tol)
                if reason:
                    bad.append(mismatch(key[0], key[1], formula, ref_values.get(key), recalc.get(key), reason))
            out.checked.append(label)
            out.mismatches[label] = bad
    return out
