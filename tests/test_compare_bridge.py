"""`tcomodel compare`: the input diff lists exactly the edited cells, and each option's bridge of
levelized cost and NPV sums to NEW minus OLD (relative 1e-9), with each change in its own group.

OLD is the `tcomodel init` default scenario; NEW variants are edited copies (tests/helpers.mutate).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.compare import STRUCTURE, compare_scenarios
from tcomodel.compare.compare_xlsx import SHEET_NAMES, _waterfall_rows
from tcomodel.finance.model import GROUPS
from tcomodel.finance.results import run_model
from tcomodel.inputs import load_scenario, write_scenario_workbook
from tcomodel.xlsxmanifest import MANIFEST_SHEET
from tests.helpers import column_of, drop_option, find_row, mutate, sha256

REL = 1e-9
USD_OLD, USD_NEW = 6.45, 7.0  # DKK per USD in the default scenario, and the variant's rate


def _set(wb, sheet, row_id, field, fn, changed: set):
    """Set one cell to fn(old value); record its Sheet!Cell address."""
    ws = wb[sheet]
    addr = f"{column_of(ws, field)}{find_row(ws, 'A', row_id)}"
    ws[addr] = fn(ws[addr].value)
    changed.add(f"{sheet}!{addr}")


def _fx(wb, changed):
    assert wb["FX"][f"{column_of(wb['FX'], 'rate_to_report_currency')}{find_row(wb['FX'], 'A', 'USD')}"].value == USD_OLD
    _set(wb, "FX", "USD", "rate_to_report_currency", lambda v: USD_NEW, changed)


def _variant(wb, changed):
    """USD rate, every API price -20% (list and cache prices), the aarhusai fee, and requests +10% in every quarter."""
    _fx(wb, changed)
    api = wb["ApiPrices"]
    for row in range(3, api.max_row + 1):
        oid = api[f"A{row}"].value
        if oid:
            for f in ("input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "cache_write_per_mtok"):
                if api[f"{column_of(api, f)}{row}"].value is not None:  # cache prices are blank without caching
                    _set(wb, "ApiPrices", oid, f, lambda v: v * 0.8, changed)
    _set(wb, "Rental", "aarhusai", "fee_per_replica_per_month", lambda v: v + 2500, changed)
    wl = wb["Workload"]
    for row in range(3, wl.max_row + 1):
        q = wl[f"A{row}"].value
        if q:
            _set(wb, "Workload", q, "requests", lambda v: v * 1.1, changed)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("cmp") / "default.xlsx"
    write_scenario_workbook(p)
    return p


def _make(default, tmp_path, name, edit):
    changed: set = set()
    path = mutate(default, tmp_path / f"{name}.xlsx", lambda wb: edit(wb, changed))
    return path, changed


def _compare_cli(old, new, tmp_path, *extra):
    out, js = tmp_path / "bridge.xlsx", tmp_path / "bridge.json"
    res = CliRunner().invoke(main, ["compare", str(old), str(new), "-o", str(out), "--json", str(js), *extra])
    assert res.exit_code == 0, res.output
    return out, json.loads(js.read_text()), res.output


def _scale(b):
    return max(abs(b["old"]), abs(b["new"]), 1.0)


def _own_metrics(path):
    run = run_model(load_scenario(path))
    m = run.model
    lev = {o: run.scalar(om.levelized) for o, om in m.options.items()}
    npv = {o: (run.scalar(m.comparisons[o].npv) if o in m.comparisons else 0.0) for o in m.options}
    return {"levelized_cost_per_mtok": lev, "npv_vs_baseline": npv}


def _token_levelized(path, oid):
    """The API-token part of an option's levelized cost (its staff cost, in DKK, moves with neither prices nor FX)."""
    run = run_model(load_scenario(path))
    om = run.model.options[oid]
    r_q = (1 + run.scenario.settings.discount_rate_annual) ** 0.25 - 1
    flows = [float(x) for x in run.values[om.categories["API tokens"]]]
    pv = sum(cf / (1 + r_q) ** t for t, cf in enumerate(flows, start=1))
    return pv / run.scalar(om.pv_tokens) * 1e6


def test_variant_bridges_sum_exactly_and_diff_lists_the_edited_cells(default, tmp_path):
    new, changed = _make(default, tmp_path, "variant", _variant)
    before = (sha256(default), sha256(new))
    out, js, text = _compare_cli(default, new, tmp_path)
    assert (sha256(default), sha256(new)) == before, "compare modified an input"

    # the diff: exactly the edited cells, each with its cell, label and bridge group
    assert {c["new_cell"] for c in js["changes"]} == changed
    assert all(c["old_cell"] == c["new_cell"] for c in js["changes"])
    by_cell = {c["new_cell"]: c for c in js["changes"]}
    fx = by_cell["FX!B3"]
    assert (fx["old"], fx["new"], fx["bridge_group"], fx["label"]) == (USD_OLD, USD_NEW, "FX", "FX USD")
    groups = {c["sheet"]: c["bridge_group"] for c in js["changes"]}
    assert groups == {"FX": "FX", "ApiPrices": "API prices", "Rental": "Hardware and hosting prices",
                      "Workload": "Workload volume"}
    assert js["structural"] == [] and js["bridge_note"] is None

    # the bridges: start on OLD's own result, land on NEW's, steps sum to the change
    own_old, own_new = _own_metrics(default), _own_metrics(new)
    for metric, bridges in js["bridges"].items():
        assert set(bridges) == set(own_new[metric])
        for oid, b in bridges.items():
            assert b["old"] == pytest.approx(own_old[metric][oid], rel=REL, abs=REL)
            assert b["new"] == pytest.approx(own_new[metric][oid], rel=REL, abs=REL)
            steps = [s["contribution"] for s in b["steps"]]
            assert [s["step"] for s in b["steps"]] == [STRUCTURE, *GROUPS]
            assert sum(steps) == pytest.approx(b["new"] - b["old"], rel=REL, abs=REL * _scale(b)), (metric, oid)
            assert abs(b["end_residual"]) <= REL * _scale(b)
            assert abs(steps[0]) <= REL * _scale(b), "no structural change, so no Structure step"
            for s in b["steps"]:  # groups nobody edited contribute nothing
                if s["step"] in ("Utilization and throughput", "Financing", "Other"):
                    assert abs(s["contribution"]) <= REL * _scale(b), (metric, oid, s)
    lev = js["bridges"]["levelized_cost_per_mtok"]
    # Flash-Lite (USD): input, output, cache-read and cache-write prices all scale by 0.8 and it has no
    # long-context tier. API prices come first (at the OLD rate), then FX on the reduced price.
    lite = {s["step"]: s["contribution"] for s in lev["api-gemini-flash-lite"]["steps"]}
    old, tok = lev["api-gemini-flash-lite"]["old"], _token_levelized(default, "api-gemini-flash-lite")
    assert lite["API prices"] == pytest.approx(-0.2 * tok, rel=REL)
    assert lite["FX"] == pytest.approx(0.8 * tok * (USD_NEW / USD_OLD - 1), rel=REL)
    assert old > tok  # the rest is staff (DKK), which neither step moves
    # the aarhusai fee is a hardware/hosting price: it moves aarhusai's cost and every NPV against it
    assert {s["step"]: s["contribution"] for s in lev["aarhusai"]["steps"]}["Hardware and hosting prices"] > 0
    assert "api-claude-sonnet" in text and f"wrote {out}" in text


def test_fx_only_moves_only_the_fx_step(default, tmp_path):
    new, changed = _make(default, tmp_path, "fx", _fx)
    res = compare_scenarios(default, new)
    assert [(c.new_cell, c.old, c.new) for c in res.changes] == [("FX!B3", USD_OLD, USD_NEW)]
    assert load_scenario(default).api_prices["api-claude-sonnet"].currency == "USD"
    for metric, bridges in res.bridges.items():
        for oid, b in bridges.items():
            for step, v in b.steps:
                if step != "FX":
                    assert v == 0.0, (metric, oid, step, v)
            assert b.contribution("FX") == pytest.approx(b.new - b.old, rel=REL, abs=REL)
    # a USD-priced API's token cost scales by the rate ratio (its DKK staff cost does not); a DKK-priced
    # rented server does not move
    sonnet = res.bridges["levelized_cost_per_mtok"]["api-claude-sonnet"]
    tok = _token_levelized(default, "api-claude-sonnet")
    assert sonnet.new == pytest.approx(sonnet.old + tok * (USD_NEW / USD_OLD - 1), rel=1e-12)
    assert sonnet.contribution("FX") == pytest.approx(tok * (USD_NEW / USD_OLD - 1), rel=REL)
    assert res.bridges["levelized_cost_per_mtok"]["aarhusai"].total_change == 0.0


def test_identical_workbooks_give_an_empty_diff_and_zero_steps(default, tmp_path):
    out, js, _ = _compare_cli(default, default, tmp_path)
    assert js["changes"] == [] and js["structural"] == []
    for bridges in js["bridges"].values():
        for b in bridges.values():
            assert all(s["contribution"] == 0.0 for s in b["steps"]) and b["total_change"] == 0.0
    ws = openpyxl.load_workbook(out)["Changes"]
    assert ws["A4"].value == "No input differs."


def test_workbook_has_the_sheets_a_waterfall_per_option_and_the_json_content(default, tmp_path):
    new, _ = _make(default, tmp_path, "variant", _variant)
    out, js, _ = _compare_cli(default, new, tmp_path)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Changes", SHEET_NAMES["levelized_cost_per_mtok"], SHEET_NAMES["npv_vs_baseline"], "Notes",
                             MANIFEST_SHEET]
    assert wb[MANIFEST_SHEET].sheet_state == "veryHidden"  # the formula list verify checks against
    n_opt = len(js["bridges"]["levelized_cost_per_mtok"])
    assert len(wb[SHEET_NAMES["levelized_cost_per_mtok"]]._charts) == n_opt
    assert len(wb[SHEET_NAMES["npv_vs_baseline"]]._charts) == n_opt - 1  # not the baseline against itself
    with zipfile.ZipFile(out) as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert "<c:grouping val=\"stacked\"/>" in chart and "<a:noFill/>" in chart  # invisible base series
    # Changes rows = the JSON diff, cell for cell
    ws = wb["Changes"]
    rows = [[ws.cell(r, c).value for c in (1, 5, 6)] for r in range(4, ws.max_row + 1)]
    assert rows == [[c["sheet"], c["old_cell"], c["new_cell"]] for c in js["changes"]]
    # Bridge rows: OLD, steps, NEW as in the JSON; total and check as formulas
    ws = wb[SHEET_NAMES["npv_vs_baseline"]]
    head = [ws.cell(3, c).value for c in range(1, 14)]
    assert head[:3] == ["Option", "Label", "OLD"] and head[3:11] == [STRUCTURE, *GROUPS]
    for r in range(4, 4 + n_opt):
        b = js["bridges"]["npv_vs_baseline"][ws.cell(r, 1).value]
        # xlsxwriter stores 16 significant digits: equal to the last bit or so
        assert [ws.cell(r, c).value for c in (3, 12)] == pytest.approx([b["old"], b["new"]], rel=1e-15)
        assert [ws.cell(r, c).value for c in range(4, 12)] == pytest.approx(
            [s["contribution"] for s in b["steps"]], rel=1e-15, abs=1e-300)
        assert ws.cell(r, 13).value.startswith("=") and ws.cell(r, 14).value.startswith("=SUM(")
    cached = openpyxl.load_workbook(out, data_only=True)[SHEET_NAMES["npv_vs_baseline"]]
    for r in range(4, 4 + n_opt):
        assert abs(cached.cell(r, 14).value) <= REL * max(abs(cached.cell(r, 3).value), 1.0)


def test_waterfall_bars_span_each_step_even_across_zero():
    class B:
        old, new = 5.0, -2.0
        steps = [("a", -8.0), ("b", 3.0), ("c", -2.0)]

    rows = _waterfall_rows(B)
    assert rows[0][-1] == 5.0 and rows[-1][-1] == -2.0
    level = B.old
    for (step, v), (cat, base, up, up_below, down, down_below, total) in zip(B.steps, rows[1:-1]):
        main, below = (up, up_below) if v >= 0 else (down, down_below)
        assert (up == up_below == 0) or (down == down_below == 0)
        parts = [(min(base, base + main), max(base, base + main))] if below == 0 else [(below, 0.0), (0.0, main)]
        assert (min(p[0] for p in parts), max(p[1] for p in parts)) == (min(level, level + v), max(level, level + v))
        level += v


def test_baseline_change_is_a_structure_step_and_still_sums(default, tmp_path):
    def edit(wb, changed):
        ws = wb["Scenario"]
        ws[f"B{find_row(ws, 'A', 'baseline_option')}"] = "alternative"
        changed.add(f"Scenario!B{find_row(ws, 'A', 'baseline_option')}")
        _fx(wb, changed)

    new, changed = _make(default, tmp_path, "baseline", edit)
    res = compare_scenarios(default, new)
    assert {c.new_cell for c in res.changes} == changed
    assert any("baseline changed" in s for s in res.structural)
    for metric, bridges in res.bridges.items():
        for oid, b in bridges.items():
            scale = max(abs(b.old), abs(b.new), 1.0)
            assert sum(v for _, v in b.steps) == pytest.approx(b.total_change, rel=REL, abs=REL * scale)
            if metric == "levelized_cost_per_mtok":
                assert b.contribution(STRUCTURE) == 0.0  # the baseline does not enter levelized cost
    npv = res.bridges["npv_vs_baseline"]
    assert npv["aarhusai"].new == pytest.approx(-npv["alternative"].old, rel=REL)  # now measured the other way
    assert abs(npv["aarhusai"].contribution(STRUCTURE)) > 1000


def test_removed_option_and_changed_horizon_are_listed(default, tmp_path):
    def drop(wb, changed):
        drop_option(wb, "api-deepseek")

    new, _ = _make(default, tmp_path, "dropped", drop)
    res = compare_scenarios(default, new)
    assert res.options_old_only == ["api-deepseek"] and "api-deepseek" not in res.bridges["npv_vs_baseline"]
    assert {(c.sheet, c.field, c.old) for c in res.changes if c.row_id == "api-deepseek"} == {
        ("Options", "(row)", "(row removed)"), ("ApiPrices", "(row)", "(row removed)")}
    for bridges in res.bridges.values():
        for b in bridges.values():
            assert all(v == 0.0 for _, v in b.steps)

    def shorter(wb, changed):
        ws = wb["Scenario"]
        ws[f"B{find_row(ws, 'A', 'horizon_quarters')}"] = 16

    new, _ = _make(default, tmp_path, "short", shorter)
    out, js, text = _compare_cli(default, new, tmp_path)
    assert js["bridges"] == {"levelized_cost_per_mtok": {}, "npv_vs_baseline": {}}
    assert "timeline differs" in js["bridge_note"] and "no bridge" in text
    assert [c["new_cell"] for c in js["changes"] if c["sheet"] == "Scenario"] == ["Scenario!B5"]
    assert openpyxl.load_workbook(out)[SHEET_NAMES["npv_vs_baseline"]]["A4"].value.startswith("no bridge")


def test_bad_input_exits_2_with_the_cell_and_default_output_path(default, tmp_path, monkeypatch):
    def bad(wb, changed):
        _set(wb, "FX", "USD", "rate_to_report_currency", lambda v: "six", changed)

    broken, _ = _make(default, tmp_path, "broken", bad)
    res = CliRunner().invoke(main, ["compare", str(default), str(broken)])
    assert res.exit_code == 2 and "FX!B3" in res.output and "Traceback" not in res.output

    monkeypatch.chdir(tmp_path)
    new, _ = _make(default, tmp_path, "fxonly", _fx)
    res = CliRunner().invoke(main, ["compare", str(default), "fxonly.xlsx"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "outputs" / "compare-default-vs-fxonly.xlsx").exists()
    # never over an input
    before = sha256(new)
    res = CliRunner().invoke(main, ["compare", str(default), "fxonly.xlsx", "-o", "fxonly.xlsx"])
    assert res.exit_code == 2 and sha256(new) == before


def test_capacity_is_an_input_and_economic_life_is_structural(default, tmp_path):
    def edit(wb, changed):
        _set(wb, "Options", "alternative", "measured_output_tok_s_per_replica", lambda v: 150.0, changed)
        _set(wb, "Capex", "alternative-owned", "economic_life_years", lambda v: 3.0, changed)

    new, changed = _make(default, tmp_path, "cap", edit)
    res = compare_scenarios(default, new)
    assert {c.new_cell: c.bridge_group for c in res.changes} == {
        min(changed): "structural", max(changed): "Utilization and throughput"}  # Capex!H3, Options!K4
    for metric, bridges in res.bridges.items():
        alt, owned = bridges["alternative"], bridges["alternative-owned"]
        # a slower replica means more rented servers: all of it through the capacity row input
        assert alt.contribution("Utilization and throughput") == pytest.approx(alt.total_change, rel=REL)
        assert alt.total_change != 0
        # retiring and replacing after 3 years changes the vintages' items: the Structure step holds it
        assert owned.contribution(STRUCTURE) == pytest.approx(owned.total_change, rel=REL)
        assert owned.total_change != 0
        for b in bridges.values():
            assert sum(v for _, v in b.steps) == pytest.approx(b.total_change, rel=REL, abs=REL * abs(b.old or 1))
