"""The model checks of issue 13 item 5 and the report's formulas free of typed numbers.

- Cash vs P&L over the horizon, per option: cash - P&L = what the kind's definitions imply (owned: capex -
  depreciation - book value retired - book value at the horizon end; cloud: reservations paid upfront - prepaid
  reservations expensed; rented and API: 0), and for owned hardware the book values close.
- Serving capacity: replicas in service without the spares x output tok/s per replica >= the peak decode rate,
  every quarter, for every self-hosted option (the count of quarters short is the check).

Expected values are written out by hand; a broken case (a value made inconsistent, in the engine or typed into
the report and recalculated in LibreOffice) flips the check and the master check.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.finance.model import CHECK_TOLERANCE
from tcomodel.sheet.engine import _Evaluator
from tcomodel.sheet.expr import iter_refs
from tcomodel.verify import recalculate
from tests.test_finance_economics import (
    CAPEX6, DEP, END_LOSS, END_VALUE, N6, OWN_CASH, OWN_PL, P, PROCEEDS, RETIRE_LOSS, approx, owned_vs_rent_content,
    rental, shaped_rows,
)
from tests.test_finance_helpers import content, option, requests_for, run, workload_rows

ROOT = Path(__file__).parents[1]
DEFAULT = ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"


def checks_of(r, oid) -> dict:
    """An option's checks by label (without the 'oid: ' prefix)."""
    return {label.split(": ", 1)[1]: it for label, it in r.model.checks if label.startswith(f"{oid}: ")}


def one(d: dict, start: str):
    hits = [it for label, it in d.items() if label.startswith(start)]
    assert len(hits) == 1, f"{start!r}: {list(d)}"
    return hits[0]


def override(r, changes: dict, then: list):
    """The run's values with ``changes`` (item -> values), then ``then`` items re-evaluated in order from them
    by the engine's own evaluator: a value made inconsistent, as if typed over a formula."""
    vals = dict(r.values)
    vals.update({k: np.asarray(v, dtype=float) for k, v in changes.items()})
    n = len(r.model.quarters)
    for it in then:
        ev = _Evaluator(r.model.values(), n, ())
        for ref, _ in iter_refs(it.expr):
            v = vals[ref]
            ev.done[ref] = v if (ref.per_period or not ref.is_scalar) else v[..., None]
        out = ev.ev(it.expr, None)
        vals[it] = out if not it.is_scalar else out[..., 0]
    return vals


# ----------------------------------------------------------------------------------------------------
# Cash vs P&L, owned hardware: the resale case of test_finance_economics (life and economic life 4 quarters,
# vintage 1 sold at 45,000 after 4 quarters, vintage 5 valued at 63,000 at the end of quarter 6)


def test_owned_cash_less_pl_terms_hand_computed(tmp_path):
    """Reviewer checks, by hand: capex 2 x 100,000 = 200,000; depreciation 6 x 22,500 = 135,000; book value
    retired (vintage 1 at its salvage) 10,000; book value at the horizon end (vintage 5, 2 quarters old)
    100,000 - 2 x 22,500 = 55,000. So capex - depreciation - retired - closing book = 0, and
    cash - P&L = (200,000 + 6P - 45,000 - 63,000) - (135,000 + 6P - 35,000 - 8,000) = 0: the market values
    enter both and cancel. Both checks are 0."""
    r = run(tmp_path, owned_vs_rent_content(rate=0.08, tax=0.22), {"rent": 100.0, "own": 100.0})
    om = r.model.options["own"]
    assert CAPEX6.sum() == 200000.0 and DEP * N6 == 135000.0
    assert OWN_CASH.sum() == approx(200000.0 + 6 * P - 45000.0 - 63000.0)
    assert OWN_PL.sum() == approx(135000.0 + 6 * P - 35000.0 - 8000.0)
    assert float(r.row("own", "Capex").sum()) == approx(200000.0)
    assert float(r.row("own", "Depreciation").sum()) == approx(135000.0)
    assert float(r.row("own", "Book value of hardware retired").sum()) == approx(10000.0)
    assert float(r.row("own", "Net book value, closing")[-1]) == approx(55000.0)
    assert float(r[om.cash_cost].sum() - r[om.pl_cost].sum()) == approx(0.0)
    assert r.row("own", "Resale proceeds at retirement") == approx(PROCEEDS)
    assert r.row("own", "Market value at horizon end (deemed sale)") == approx(END_VALUE)
    checks = checks_of(r, "own")
    gap = one(checks, "cash - P&L over the horizon = capex - depreciation - book value retired")
    closes = one(checks, "book values close")
    assert float(r[gap]) == 0.0 and float(r[closes]) == 0.0
    assert float(r[r.model.master_check]) == 0.0


def test_owned_cash_less_pl_flips_on_an_inconsistent_value(tmp_path):
    """A P&L cost typed 1,000 too high in quarter 3 (cash unchanged): cash - P&L falls by 1,000 while capex,
    depreciation and book values do not, so the check reads -1,000 and fails; the book values still close.
    Capex typed 1,000 too high instead: cash - P&L rises with it (the reconciliation holds), but the book
    values no longer close (+1,000)."""
    r = run(tmp_path, owned_vs_rent_content(rate=0.08, tax=0.22), {"rent": 100.0, "own": 100.0})
    om = r.model.options["own"]
    checks = checks_of(r, "own")
    gap = one(checks, "cash - P&L over the horizon = capex")
    closes = one(checks, "book values close")
    pl = r[om.pl_cost].copy()
    pl[2] += 1000.0
    vals = override(r, {om.pl_cost: pl}, [gap, closes])
    assert float(vals[gap]) == approx(-1000.0) and float(vals[closes]) == approx(0.0)
    capex_row = next(it for s in om.sections for it in s.items if it.label == "Capex")
    capex = r[capex_row].copy()
    capex[2] += 1000.0
    vals = override(r, {capex_row: capex}, [om.cash_cost, gap, closes])
    assert float(vals[gap]) == approx(0.0) and float(vals[closes]) == approx(1000.0)
    flag = dict(zip([it for _, it in r.model.checks], r.model.check_flags))[closes]
    assert float(override(r, {closes: vals[closes]}, [flag])[flag]) == 1.0
    assert RETIRE_LOSS.sum() + END_LOSS.sum() == approx(-43000.0)  # the gains that cancel against market value


# ----------------------------------------------------------------------------------------------------
# Cash vs P&L, cloud reservations paid upfront


def test_cloud_upfront_reservation_cash_less_pl_hand_computed(tmp_path):
    """One TP=1 replica reserved for a 1-year term, all upfront, over 6 quarters: one term fits (quarters 1-4),
    the next would end after the horizon. Reserved cost 2,191.5 h x 2 DKK = 4,383 a quarter (P&L);
    cash pays 4 x 4,383 = 17,532 in quarter 1. Upfront paid 17,532 - prepaid expensed 4 x 4,383 = 0 =
    cash - P&L over the horizon; quarter 1 alone: cash - P&L = 17,532 - 4,383 = 13,149."""
    cap = 100.0
    R = requests_for([0.5] * N6, cap, 1.0)
    rates = {"option_id": "cl", "on_demand_per_gpu_hour": 3.0, "reserved_per_gpu_hour": 2.0, "spot_per_gpu_hour": 3.0,
             "reserved_replicas": 1, "commitment_term_years": 1, "upfront": "all", "spot_share": 0.0,
             "spot_interruption_overhead": 0.0, "currency": "DKK"}
    c = content([option("cl", "cloud_gpu")], workload_rows(R), cloud=[rates])
    r = run(tmp_path, c, {"cl": cap})
    om = r.model.options["cl"]
    q = 2191.5 * 2.0
    assert r.row("cl", "Reserved cost (P&L: the term's cost spread evenly)") == approx([q] * 4 + [0, 0])
    assert r.row("cl", "Reservation paid upfront (cash, term's first quarter)") == approx([4 * q, 0, 0, 0, 0, 0])
    assert r.row("cl", "Prepaid reservation expensed") == approx([q] * 4 + [0, 0])
    diff = r[om.cash_cost] - r[om.pl_cost]
    assert diff == approx([4 * q - q, -q, -q, -q, 0, 0])
    assert 4 * q - q == approx(13149.0)
    gap = one(checks_of(r, "cl"), "cash - P&L over the horizon = reservations paid upfront")
    assert float(r[gap]) == 0.0
    # the prepaid expense typed 1,000 lower in quarter 2 (the P&L left as it was): the reconciliation fails
    used_row = next(it for s in om.sections for it in s.items if it.label == "Prepaid reservation expensed")
    used = r[used_row].copy()
    used[1] -= 1000.0
    vals = override(r, {used_row: used}, [gap])
    assert float(vals[gap]) == approx(-1000.0)


def test_rented_and_api_cash_less_pl_is_zero_and_named(tmp_path):
    """As billed, a rented server's fees, setup and unrecovered VAT are cash and P&L alike, and an API bills tokens
    as used: cash - P&L = 0 over the horizon, each check says so in its label; a P&L typed 1 too high flips it."""
    cap = 100.0
    R = requests_for([0.7, 1.6], cap, 1.0)
    api = {"option_id": "api", "input_per_mtok": 1.0, "output_per_mtok": 2.0, "batch_discount": 0.0,
           "prompt_caching": "no", "currency": "DKK"}
    c = content([option("rent", "rented_server"), option("api", "hosted_api")], workload_rows(R),
                rental=[rental("rent", 1000.0, vat_rate=0.25, vat_unrecoverable_share=1.0, setup_fee_per_replica=500.0)],
                api=[api])
    r = run(tmp_path, c, {"rent": cap})
    # fleet [1, 2]: fees 3 x 1,000 x 1.25 per server, setup 500 x 1.25 per server added
    assert r.row("rent", "Cash cost") == approx([3750.0 + 625.0, 7500.0 + 625.0])
    for oid, what in (("rent", "0 (fees, setup and unrecovered VAT in both)"),
                      ("api", "0 (tokens billed as used, staff and licences in both)")):
        gap = checks_of(r, oid)[f"cash - P&L over the horizon = {what}"]
        assert float(r[gap]) == 0.0
        om = r.model.options[oid]
        pl = r[om.pl_cost].copy()
        pl[0] += 1.0
        assert float(override(r, {om.pl_cost: pl}, [gap])[gap]) == approx(-1.0)


# ----------------------------------------------------------------------------------------------------
# Serving capacity >= peak


def test_capacity_without_spares_covers_the_peak_hand_computed(tmp_path):
    """Peak rate / capacity per replica = 0.7, 1.6, 2.3, 3.4 (peak to average 6.3, 100 tok/s per replica), 2 spares:
    replicas in service 3, 4, 5, 6; without the spares 1, 2, 3, 4 x 100 = 100, 200, 300, 400 tok/s against a peak
    of 70, 160, 230, 340: never short, the check is 0. With the fleet typed as 3 in quarter 2 (1 replica without
    spares: 100 < 160 tok/s), quarter 2 is short: the check counts 1 and fails."""
    cap = 100.0
    R = requests_for([0.7, 1.6, 2.3, 3.4], cap, 6.3)
    c = content([option("rent2", "rented_server", redundancy_replicas=2)],
                shaped_rows(R, working_days_per_week=5, busy_hours_per_day=8, intra_hour_peak_factor=1.5),
                rental=[rental("rent2", 1000.0)])
    r = run(tmp_path, c, {"rent2": cap})
    om = r.model.options["rent2"]
    assert r.row("rent2", "Replicas in service") == approx([3, 4, 5, 6])
    serving_row = next(it for s in om.sections for it in s.items if it.label == "Serving capacity without the spares")
    short_row = next(it for s in om.sections for it in s.items if it.label.startswith("Serving capacity below the peak"))
    assert r[serving_row] == approx([100.0, 200.0, 300.0, 400.0])
    assert r[short_row] == approx([0, 0, 0, 0])
    check = one(checks_of(r, "rent2"), "fleet without spares x output tok/s per replica >= peak decode rate")
    assert float(r[check]) == 0.0
    vals = override(r, {om.fleet: [3, 3, 5, 6]}, [serving_row, short_row, check])
    assert vals[serving_row] == approx([100.0, 100.0, 300.0, 400.0])
    assert vals[short_row] == approx([0, 1, 0, 0])
    assert float(vals[check]) == 1.0
    assert float(vals[check]) > CHECK_TOLERANCE.value


def test_capacity_check_ignores_quarters_before_an_option_serves(tmp_path):
    """Before its start quarter an option has no fleet and no spares to subtract: no quarter counts as short."""
    cap = 100.0
    R = requests_for([0.7, 1.6, 2.3], cap, 1.0)
    c = content([option("rent", "rented_server", redundancy_replicas=1),
                 option("late", "rented_server", redundancy_replicas=1, start_quarter="2027Q3")], workload_rows(R),
                rental=[rental("rent", 1000.0), rental("late", 1000.0)])
    r = run(tmp_path, c, {"rent": cap, "late": cap})
    assert r.row("late", "Replicas in service") == approx([0, 0, 4])
    check = one(checks_of(r, "late"), "fleet without spares")
    assert float(r[check]) == 0.0


# ----------------------------------------------------------------------------------------------------
# The default scenario


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("default")
    out = d / "report.xlsx"
    res = CliRunner().invoke(main, ["build", str(DEFAULT), "-o", str(out), "--json", str(d / "r.json")])
    assert res.exit_code == 0, res.output
    return out


def test_default_scenario_new_checks_present_and_zero(tmp_path):
    """Every option has its cash - P&L reconciliation, every self-hosted option its capacity check, the owned
    option its book-value closing; on the default scenario each is 0 and the master check is 0."""
    from tcomodel.finance import run_model
    from tcomodel.inputs import load_scenario
    from tcomodel.kinds import KINDS
    r = run_model(load_scenario(DEFAULT))
    for oid, om in r.model.options.items():
        checks = {label.split(": ", 1)[1]: it for label, it in r.model.checks if label.startswith(f"{oid}: ")}
        wanted = ["cash - P&L over the horizon = "]
        if KINDS[om.kind].self_hosted:
            wanted.append("fleet without spares x output tok/s per replica >= peak decode rate")
        if om.kind == "owned":
            wanted.append("book values close")
        for w in wanted:
            it = one(checks, w)
            assert float(r.values[it]) == 0.0, (oid, w)
    assert float(r.values[r.model.master_check]) == 0.0


_STRING = re.compile(r'"(?:[^"]|"")*"')
_SHEET = re.compile(r"(?:'(?:[^']|'')+'|[A-Za-z_][\w.\-]*)!")
_CELL = re.compile(r"\$?[A-Z]{1,3}\$?\d+")
_NUMBER = re.compile(r"(?<![A-Za-z_\d.])\d+\.?\d*(?:[Ee][+-]?\d+)?")


def numeric_literals(formula: str) -> list[float]:
    """Numbers typed in a formula: strings, sheet prefixes and cell references removed first."""
    text = _CELL.sub("", _SHEET.sub("", _STRING.sub("", formula)))
    return [float(x) for x in _NUMBER.findall(text)]


def test_numeric_literals_scan_finds_typed_numbers():
    """The scan itself: it sees 0.01, 20 and 2191.5, and not the digits of references or strings."""
    assert numeric_literals("=(MAX($C$8,-1*$C$8)>0.01)*1") == [1.0, 0.01, 1.0]
    assert numeric_literals("=INDEX('alt-owned'!$E$12:$X$12,20)+Time!E$8") == [20.0]
    assert numeric_literals('=IFERROR(E47/E260*2191.5,"n/a 12")') == [2191.5]
    assert numeric_literals("=E10*Time!$C$15+AB12") == []


def test_default_report_formulas_type_no_number_but_0_and_1(default_report):
    """No formula of the default report types a number other than 0 and 1: the check tolerance and rounding,
    the top of the score scale, each vintage's purchase quarter, the unknown fee's levels and the horizon are
    cells (the first three with defined names), which the formulas reference."""
    wb = openpyxl.load_workbook(default_report)
    bad = [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row
           if isinstance(c.value, str) and c.value.startswith("=")
           and any(x not in (0.0, 1.0) for x in numeric_literals(c.value))]
    # the one exception: CaseIndex, which defines the case numbers (1 Low, 2 Base, 3 High) next to its label
    (case_sheet, case_cell), = list(wb.defined_names["CaseIndex"].destinations)
    assert bad == [(case_sheet, case_cell.replace("$", ""),
                    '=IF(Case="Low",1,IF(Case="Base",2,IF(Case="High",3,NA())))')]
    cells = {}
    for name, sheet, value in (("CheckTolerance", "Checks", 0.01), ("CheckDecimals", "Checks", 6),
                               ("MaxScore", "Time", 100)):
        (dest_sheet, cell), = list(wb.defined_names[name].destinations)
        assert dest_sheet == sheet and wb[sheet][cell.replace("$", "")].value == value
        cells[name] = cell
    checks = wb["Checks"]
    flags = [checks.cell(r, 4).value for r in range(8, checks.max_row + 1)
             if isinstance(checks.cell(r, 4).value, str) and checks.cell(r, 4).value.startswith("=(MAX(")]
    assert len(flags) > 20 and all(f.endswith(">CheckTolerance)*1*1") for f in flags)  # by its name
    owned = wb["alternative-owned"]
    labels = {owned.cell(r, 1).value: r for r in range(1, owned.max_row + 1)}
    r7 = labels["Vintage 7: purchase quarter"]
    assert owned.cell(r7, 3).value == 7
    assert owned.cell(labels["Vintage 7: units bought"], 3).value.endswith(f",$C${r7})")
    # vintage 7's rows start in its purchase quarter, the 7th period column (E is the first); before it, blank
    assert owned.cell(labels["Vintage 7: age"], 5 + 5).value is None
    assert f"-$C${r7}+1)" in owned.cell(labels["Vintage 7: age"], 5 + 6).value
    be = wb["Breakeven"]
    shares = [be.cell(r, 3).value for r in range(1, be.max_row + 1)
              if str(be.cell(r, 1).value).startswith("Fee level ")]
    assert shares == [0.5, 0.75, 1, 1.25, 1.5]


@pytest.mark.libreoffice
def test_report_edits_flip_the_new_checks_in_libreoffice(default_report, tmp_path, soffice_available):
    """In the default report, a P&L cost of the owned option typed 1,000 too high (quarter 3) and the rented
    option's replicas typed as 0 in quarter 5: recalculated in LibreOffice, its cash - P&L check reads -1,000,
    its capacity check counts 1 quarter, each fails, and the master check counts exactly these 2 failures."""
    wb = openpyxl.load_workbook(default_report)
    own, rent = wb["alternative-owned"], wb["alternative"]

    def row_of(ws, label):
        return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)

    pl_r = row_of(own, "P&L cost")
    own.cell(pl_r, 7).value = f"{own.cell(pl_r, 7).value}+1000"  # column G = quarter 3
    rent.cell(row_of(rent, "Replicas in service"), 9).value = 0  # column I = quarter 5
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    out = recalculate(edited, tmp_path / "out")
    vals = openpyxl.load_workbook(out, data_only=True)["Checks"]
    by_label = {vals.cell(r, 1).value: (vals.cell(r, 3).value, vals.cell(r, 4).value) for r in range(1, vals.max_row + 1)}
    gap = next(v for k, v in by_label.items() if str(k).startswith("alternative-owned: cash - P&L over the horizon"))
    cap = next(v for k, v in by_label.items() if str(k).startswith("alternative: fleet without spares"))
    assert gap == (pytest.approx(-1000.0), 1)
    assert cap == (1, 1)
    assert by_label["Master check (0 = all checks pass)"][0] == 2
    assert openpyxl.load_workbook(default_report)["alternative"].cell(row_of(rent, "Replicas in service"), 9).value != 0


@pytest.mark.libreoffice
def test_default_report_with_the_new_checks_verifies(default_report):
    """`tcomodel verify` recalculates the default report, new checks and named cells included, to the engine's values."""
    res = CliRunner().invoke(main, ["verify", str(default_report)])
    assert res.exit_code == 0 and "agree with LibreOffice" in res.output, res.output
