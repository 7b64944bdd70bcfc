"""Every line item out (issue 13, item 7): ModelRun.line_items() in long form, `build --export FILE.csv`,
and the JSON's cost categories, depreciation and book value."""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tcomodel.api import build
from tcomodel.cli import main
from tcomodel.errors import OutputError
from tcomodel.finance import to_json_dict
from tcomodel.finance.line_items import COLUMNS, groups, write_csv
from tests.helpers import sha256

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "assumptions" / "aarhusai-vs-alternative.xlsx"


@pytest.fixture(scope="module")
def run():
    return build(SCENARIO)


@pytest.fixture(scope="module")
def table(run) -> pd.DataFrame:
    return run.line_items()


@pytest.fixture(scope="module")
def results(run) -> dict:
    return json.loads(json.dumps(to_json_dict(run)))  # as a reader of the JSON file sees it


def _one(df, option, line_item, period="total", section=None) -> float:
    sel = (df.option == option) & (df.line_item == line_item) & (df.period == period)
    if section is not None:
        sel &= df.section == section
    rows = df[sel]
    assert len(rows) == 1, (option, line_item, period, len(rows))
    return float(rows.value.iloc[0])


def _row(df, option, line_item, section=None) -> np.ndarray:
    sel = (df.option == option) & (df.line_item == line_item) & (df.period != "total")
    if section is not None:
        sel &= df.section == section
    return df[sel].value.to_numpy()


def _close(a, b, rel=1e-12):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


# --- the table ------------------------------------------------------------------------------------

def test_one_row_per_line_item_and_period(run, table):
    m = run.model
    n = len(m.quarters)
    tails = [c.irr_tail for c in list(m.comparisons.values()) + list(m.pairs.values()) if c.irr_tail is not None]
    items = m.all_items() + tails
    period_items = [it for it in items if not it.is_scalar]  # a row in the report
    scalar_items = [it for it in items if it.is_scalar]  # one cell
    assert len(period_items) + len(scalar_items) == len(items) == len(set(items))
    expected = n * len(period_items) + len(scalar_items) + sum(1 for it in period_items if it.total)
    assert len(table) == expected
    assert list(table.columns) == COLUMNS
    # every item of the model is in the table exactly once, and each row is named uniquely
    listed = [it for _, _, rows in groups(m) for _, it in rows]
    assert len(listed) == len(items) and set(listed) == set(items)
    assert not table.duplicated(["option", "section", "line_item", "period"]).any()
    assert table.value.dtype == np.float64


def test_periods_are_quarters_in_order_then_total(run, table):
    quarters = [str(q) for q in run.model.quarters]
    assert quarters[0] == "2027Q1" and quarters[-1] == "2031Q4"
    assert table.period.map(lambda p: p == "total" or re.fullmatch(r"\d{4}Q[1-4]", p) is not None).all()
    tok = table[(table.option == "aarhusai") & (table.line_item == "Tokens served")]
    assert list(tok.period) == quarters + ["total"]
    # a scalar has only its total row
    lev = table[(table.option == "aarhusai") & (table.line_item == "Levelized cost per million tokens")]
    assert list(lev.period) == ["total"]


def test_hand_computed_rows(table):
    # Scenario discount rate 5.5 % a year; Workload 2027Q1: 600,000 requests x (1,500 in + 350 out) tokens
    assert _one(table, "(general)", "Discount rate per quarter") == pytest.approx(1.055 ** 0.25 - 1, rel=1e-15)
    assert _one(table, "(general)", "Input tokens demanded", "2027Q1") == 600_000 * 1_500
    assert _one(table, "(general)", "Tokens demanded", "2027Q1") == 600_000 * 1_850
    assert _one(table, "(general)", "Discount factor (end of quarter)", "2027Q2") == pytest.approx(1.055 ** -0.5,
                                                                                                    rel=1e-15)


def test_option_labels_name_the_sheet_a_row_belongs_to(run, table):
    m = run.model
    expected = (["(general)"] + list(m.options) + [f"{m.baseline}->{o}" for o in m.comparisons]
                + [f"{a}->{b}" for a, b in m.pairs] + ["(breakeven)", "(comparison)", "(checks)"])
    assert list(dict.fromkeys(table.option)) == expected
    assert "alternative->alternative-owned" in expected  # the default scenario's pair
    # the side-by-side rows are keyed by option id and link the option's own rows
    for oid in m.options:
        assert np.array_equal(_row(table, "(comparison)", oid, "Tokens served"), _row(table, oid, "Tokens served"))
    assert _one(table, "(checks)", "Master check (0 = all checks pass)") == 0


def test_totals_equal_the_json_headline_figures_for_every_option(run, table, results):
    base = results["baseline"]
    for oid, d in results["options"].items():
        assert _close(_one(table, oid, "Levelized cost per million tokens"), d["levelized_cost_per_mtok"])
        assert _close(_one(table, oid, "TCO, present value"), d["tco_pv"])
        assert _close(_one(table, oid, "TCO, nominal"), d["tco_nominal"])
        assert _close(_one(table, oid, "Tokens served over the horizon"), d["tokens_served"])
        # a row's total is the sum of its quarters, which the JSON lists
        assert _close(_one(table, oid, "Tokens served"), d["tokens_served"], rel=1e-12)
        assert np.array_equal(_row(table, oid, "Tokens served"), np.array(d["quarterly"]["tokens"]))
        assert np.array_equal(_row(table, oid, "P&L cost"), np.array(d["quarterly"]["cost"]))
        if oid == base:
            continue
        sw = f"{base}->{oid}"
        assert _close(_one(table, sw, f"NPV of switching to {oid}"), d["npv_vs_baseline"])
        irr = _one(table, sw, f"IRR of switching to {oid}")
        assert _close(irr, d["irr_vs_baseline"])  # NaN in the table where the JSON has null
        payback = _one(table, sw, "Payback quarter (simple)")
        assert (math.isnan(payback) and d["payback_quarter"] is None) or payback == d["payback_quarter"]
    # at least one undefined IRR in the default scenario, so the NaN convention is exercised
    assert any(d["irr_vs_baseline"] is None for o, d in results["options"].items() if o != base)


# --- the JSON's cost detail -----------------------------------------------------------------------

def test_json_cost_categories_sum_to_the_pl_cost_and_match_the_table(run, table, results):
    for oid, d in results["options"].items():
        cats = d["cost_categories"]
        assert cats, oid
        summed = np.sum([c["quarterly"] for c in cats.values()], axis=0)
        assert np.allclose(summed, d["quarterly"]["cost"], rtol=1e-12, atol=1e-6)
        for name, c in cats.items():
            assert c["total"] == pytest.approx(sum(c["quarterly"]), rel=1e-12)
            it = run.model.options[oid].categories[name]  # the report row the category is
            assert _one(table, oid, it.label) == c["total"]
            assert np.array_equal(_row(table, oid, it.label), np.array(c["quarterly"]))


def test_json_depreciation_and_book_value_where_the_option_owns_assets(table, results):
    owned = {o: d for o, d in results["options"].items() if d["kind"] == "owned"}
    assert owned
    for oid, d in results["options"].items():
        if oid not in owned:
            assert d["depreciation"] is None and d["book_value_closing"] is None
    for oid, d in owned.items():
        dep = np.array(d["depreciation"]["quarterly"])
        nbv = np.array(d["book_value_closing"])
        assert d["depreciation"]["total"] == pytest.approx(dep.sum(), rel=1e-12) and dep.sum() > 0
        capex = _row(table, oid, "Capex")
        retired = _row(table, oid, "Book value of hardware retired")
        # corkscrew: closing = previous closing + capex - depreciation - book value retired
        opening = np.concatenate([[0.0], nbv[:-1]])
        assert np.allclose(nbv, opening + capex - dep - retired, rtol=1e-12, atol=1e-6)
        assert np.array_equal(nbv, _row(table, oid, "Net book value, closing"))


# --- CSV ------------------------------------------------------------------------------------------

def test_csv_round_trips_every_value_exactly(table):
    buf = io.StringIO()
    write_csv(table, buf)
    text = buf.getvalue()
    assert text.splitlines()[0] == "option,section,line_item,unit,period,value"
    back = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""], dtype={"value": float})
    assert len(back) == len(table)
    a, b = back.value.to_numpy(), table.value.to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)])
    for col in COLUMNS[:-1]:
        assert list(back[col]) == list(table[col])
    # an undefined value is an empty field, not "nan"
    assert not re.search(r",nan$", text, re.IGNORECASE | re.MULTILINE)
    assert re.search(r",total,\n", text)


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_export_writes_the_table_and_is_deterministic(tmp_path, table):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    r1 = _cli("build", SCENARIO, "--no-xlsx", "--export", a, "-q")
    assert r1.exit_code == 0, r1.output
    assert f"wrote {a}" in r1.output
    r2 = _cli("build", SCENARIO, "-o", tmp_path / "r.xlsx", "--json", tmp_path / "r.json", "--export", b, "-q")
    assert r2.exit_code == 0, r2.output
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "r.xlsx").exists() and (tmp_path / "r.json").exists()
    back = pd.read_csv(a, keep_default_na=False, na_values=[""])
    assert len(back) == len(table)
    assert stat.S_IMODE(os.stat(a).st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_cli_refuses_bad_export_targets_with_exit_2(tmp_path):
    before = sha256(SCENARIO)
    r = _cli("build", SCENARIO, "--no-xlsx", "--export", SCENARIO)
    assert r.exit_code == 2 and "input file" in r.output
    assert sha256(SCENARIO) == before
    report = tmp_path / "r.xlsx"
    r = _cli("build", SCENARIO, "-o", report, "--export", report)
    assert r.exit_code == 2 and "same file" in r.output
    assert not report.exists()
    r = _cli("build", SCENARIO, "--no-xlsx", "--json", tmp_path / "x.json", "--export", tmp_path / "x.json")
    assert r.exit_code == 2 and "same file" in r.output
    r = _cli("build", SCENARIO, "--no-xlsx", "--export", tmp_path)  # a folder
    assert r.exit_code == 2
    ro = tmp_path / "ro.csv"
    ro.write_text("keep\n")
    ro.chmod(0o444)
    r = _cli("build", SCENARIO, "--no-xlsx", "--export", ro)
    assert r.exit_code == 2 and "read-only" in r.output
    assert ro.read_text() == "keep\n"
    assert "Traceback" not in r.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_api_export_path_checks_targets_before_loading(tmp_path):
    p = tmp_path / "same.csv"
    with pytest.raises(OutputError, match="same file"):
        build(tmp_path / "missing-scenario.xlsx", json_path=p, export_path=p)  # refused before the load
    out = tmp_path / "e.csv"
    run = build(SCENARIO, export_path=out)
    expected = io.StringIO()
    write_csv(run.line_items(), expected)
    assert out.read_text(encoding="utf-8") == expected.getvalue()
