"""The report only presents: it imports nothing that computes (roofline/, finance.sensitivity), its formulas are
rendered by the sheet package, and what it shows beyond line items is computed by run_model onto ModelRun."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from tcomodel.finance import run_model
from tcomodel.finance.sensitivity import tornado
from tcomodel.inputs import load_scenario
from tcomodel.report import write_report
from tcomodel.roofline import check_claim
from tcomodel.sheet import IFERROR, Layout, evaluate, index, item, quote_sheet, render, row_input, row_max, text

ROOT = Path(__file__).parents[1]
REPORT = ROOT / "tcomodel" / "report"
CLAIMS = ROOT / "assumptions" / "hardware-guide-claims.xlsx"
FORBIDDEN = ("tcomodel.roofline", "tcomodel.finance.sensitivity")


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    out = []
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Import):
            out += [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.module:
            out += [n.module] + [f"{n.module}.{a.name}" for a in n.names]
    return out


def test_report_imports_nothing_that_computes():
    files = sorted(REPORT.glob("*.py"))
    assert len(files) >= 10  # one module per sheet, not one class
    bad = [(f.name, m) for f in files for m in _imports(f) if m.startswith(FORBIDDEN)]
    assert bad == []


def test_report_writes_no_formula_text_and_quotes_no_sheet_name():
    for f in REPORT.glob("*.py"):
        src = f.read_text()
        assert re.findall(r"""["']=[A-Z$'(]""", src) == [], f.name  # a string that starts a formula
        for needle in ("'!", "=MAX(", "IFERROR(INDEX(", "xl_rowcol_to_cell", "xl_col_to_name"):
            assert needle not in src, (f.name, needle)


def test_no_report_function_is_longer_than_100_lines():
    for f in REPORT.glob("*.py"):
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.FunctionDef):
                assert n.end_lineno - n.lineno + 1 <= 100, (f.name, n.name)


@pytest.fixture(scope="module")
def run():
    return run_model(load_scenario(CLAIMS))


def test_run_carries_claim_verdicts_and_decode_curves(run):
    sc = run.scenario
    assert len(run.claim_checks) == len(sc.claims) > 0
    cl, d = sc.claims[0], run.claim_checks[0]
    assert d == check_claim(cl.hardware_id, cl.model_id, cl.precision or "int4", cl.claimed_tok_s, gpus=cl.gpus or 1,
                            bits_per_weight=cl.bits_per_weight, hardware_catalogue=sc.hardware,
                            model_catalogue=sc.models)
    assert set(run.decode_curves) == set(run.operating.estimates) != set()
    for curve in run.decode_curves.values():
        batches = [p["batch"] for p in curve]
        # powers of two up to the memory limit, which ends the curve
        assert batches[0] == 1 and all(b == 2 * a for a, b in zip(batches[:-1], batches[1:-1]))
        assert batches == sorted(set(batches)) and len(batches) > 2


def test_tornado_tables_are_the_largest_swings_of_the_best_self_hosted_switch(run):
    m, t = run.model, run.tornado
    assert [tt.metric for tt in run.tornado_tables] == ["npv", "levelized"]
    focus = run.tornado_tables[0].option
    self_hosted = [o for o, om in m.options.items() if o != m.baseline and om.kind != "hosted_api"]
    assert focus in self_hosted and t.base_npv[focus] == max(t.base_npv[o] for o in self_hosted)
    assert t.base_npv == tornado(run).base_npv  # the run's tornado is the tornado of the run
    for tt in run.tornado_tables:
        swings = [abs(hi - lo) for _, lo, hi in tt.rows]
        assert 0 < len(swings) <= 12 and swings == sorted(swings, reverse=True) and swings[-1] > 0


def test_summary_payback_and_max_replicas_are_rendered_formulas(run, tmp_path):
    out = write_report(run, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(out)["Summary"]
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert any(v.startswith("=IFERROR(INDEX(Time!$E$4:$") and v.endswith(',"never")') for v in cells)
    assert any(v.startswith("=MAX(") for v in cells)


def test_sheet_text_row_max_and_quoting():
    L = Layout(periods=3)
    L.add_row("tokens", "My Sheet", 5)
    L.add_row("labels", "Time", 3)
    top = item("Peak", "tok", row_max(row_input("tokens")))
    pos = item("Position", "#", 2)
    label = item("Label", "", IFERROR(index(row_input("labels"), pos), text('say "never"')))
    L.place(pos, "Calc", 1)
    assert render(top, None, L, "Calc") == "=MAX('My Sheet'!$E$6:$G$6)"
    assert render(label, None, L, "Calc") == '=IFERROR(INDEX(Time!$E$4:$G$4,$C$2),"say ""never""")'
    assert quote_sheet("My Sheet") == "'My Sheet'" and quote_sheet("Time") == "Time"
    v = evaluate([top], {"tokens": np.array([3.0, 7.0, 5.0])}, periods=3)
    assert float(v[top]) == 7.0


def test_stale_count_sums_more_cells_than_a_function_takes():
    from tcomodel.report.checks import _sum
    from tcomodel.sheet import Item, inp

    L = Layout(periods=2)
    cells = []
    for i in range(600):
        L.add_input(f"age{i}", "Checks", (i, 2))
        cells.append(Item(f"flag {i}", "flag", inp(f"age{i}") > 6))
        L.place(cells[-1], "Checks", i, 3)
    count = Item("count", "count", _sum(cells))
    L.place(count, "Checks", 700, 2)
    f = render(count, None, L, "Checks")
    assert f.startswith("=SUM(SUM($D$1,") and f.count("SUM(") == 4 and f.endswith(",$D$600))")
    ages = {f"age{i}": np.array(float(i % 10)) for i in range(600)}
    assert float(evaluate([count], ages, periods=2)[count]) == 180  # ages 7, 8, 9 of every ten


def test_summary_cached_values_come_from_the_engine_evaluating_the_cell_expression():
    """A Summary cell that sums or maxes a row caches what the sheet engine evaluates for that very expression."""
    import numpy as np

    from tcomodel.sheet import row_max, total
    from tcomodel.sheet.engine import evaluate_over

    run = run_model(load_scenario(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"))
    om = run.model.options["aarhusai"]
    periods = len(run.model.quarters)
    fleet = np.asarray(run.values[om.fleet])
    assert evaluate_over(row_max(om.fleet), run.values, periods).ravel()[0] == fleet.max() == 3
    cost = om.categories["Server rental"]
    assert evaluate_over(total(cost), run.values, periods).ravel()[0] == pytest.approx(np.sum(run.values[cost]))
