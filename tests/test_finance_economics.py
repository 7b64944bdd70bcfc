"""Hand-computed tests of the economics of issue 9: demand shape (busy hours, hourly profile), N+k spares,
staff as hours x rate per role, resale and disposal with tax, capex timing, switching pairs, the unknown
fee table, the inputs' error messages, and the report's named unit constants.

Every expected value is arithmetic written out here, never engine output. Conventions
(tcomodel/finance/build.py): quarter q = 1..N; escalation index (1 + g)^((q - 1) / 4);
HOURS_PER_QUARTER = 2191.5; quarterly rate (1 + r)^(1/4) - 1; PV = Excel NPV (flows at quarter ends).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import numpy_financial as npf
import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.errors import InputError
from tcomodel.finance import run_model, to_json_dict
from tcomodel.inputs import load_scenario, write_scenario_workbook
from tcomodel.sheet import evaluate
from tests.test_finance_helpers import (
    SECONDS_PER_QUARTER, content, excel_npv, load, option, requests_for, run, workload_rows,
)

REL = 1e-9
ROOT = Path(__file__).parents[1]


def approx(x):
    return pytest.approx(x, rel=REL, abs=1e-9)


def idx(g, n):
    """Escalation index per quarter: (1 + g)^((q - 1) / 4)."""
    return np.array([(1 + g) ** ((q - 1) / 4) for q in range(1, n + 1)])


def general(r, label):
    """A row of the general block (financing and demand)."""
    hits = [it for s in r.model.general for it in s.items if it.label == label]
    assert hits, f"no general line item {label!r}"
    return r[hits[0]]


def named(r, name):
    hits = [it for s in r.model.breakeven for it in s.items if it.name == name]
    assert hits, f"no breakeven item {name!r}"
    return hits[0]


def shaped_rows(requests, **shape):
    """Workload rows without peak_to_average: the demand shape columns give the peak."""
    rows = workload_rows(requests, peak=None)
    for w in rows:
        w.update(shape)
    return rows


API = {"option_id": "api", "input_per_mtok": 1.0, "output_per_mtok": 2.0, "batch_discount": 0.0, "currency": "DKK"}


def rental(oid, fee, **kw):
    return dict({"option_id": oid, "fee_per_replica_per_month": fee, "currency": "DKK"}, **kw)


def owned_capex(oid, life_years, salvage, econ=None, server=40000.0, gpu=50000.0, network=6000.0, install=4000.0):
    return {"option_id": oid, "server_cost_per_replica": server, "gpu_cost_per_replica": gpu,
            "network_cost_per_replica": network, "install_cost_per_replica": install,
            "depreciation_method": "straight_line", "book_life_years": life_years, "economic_life_years": econ,
            "salvage_share": salvage, "currency": "DKK"}


def one_kw_opex(oid):
    """1 kW at load 1 and PUE 1 for 2,191.5 h at 1 DKK/kWh: power = 2,191.5 DKK per replica and quarter."""
    return {"option_id": oid, "power_kw_per_replica": 1.0, "load_factor": 1.0, "pue": 1.0,
            "power_price_per_kwh": 1.0, "currency": "DKK"}


# ----------------------------------------------------------------------------------------------------
# 1-2. Demand shape


def test_demand_shape_from_busy_hours_sets_peak_rate_and_replicas(tmp_path):
    """Reviewer checks: 5 working days, 8 busy hours and a 1.5 intra-hour peak give peak to average
    7/5 x 24/8 x 1.5 = 6.3; the peak output rate is output tokens / seconds in the quarter x 6.3; the fleet is
    ceiling(peak / capacity per replica) plus the spares; the utilization ceiling is 1 / 6.3."""
    cap = 100.0
    peak = 7 / 5 * 24 / 8 * 1.5
    assert peak == pytest.approx(6.3, rel=1e-15)
    R = requests_for([0.7, 1.6, 2.3, 3.4], cap, 6.3)  # peak rate / capacity per replica
    c = content([option("rent", "rented_server"), option("rent2", "rented_server", redundancy_replicas=2)],
                shaped_rows(R, working_days_per_week=5, busy_hours_per_day=8, intra_hour_peak_factor=1.5),
                rental=[rental("rent", 1000.0), rental("rent2", 1000.0)])
    r = run(tmp_path, c, {"rent": cap, "rent2": cap})
    out = np.array(R) * 200
    peak_rate = out / (2191.5 * 3600) * 6.3
    assert peak_rate / cap == pytest.approx([0.7, 1.6, 2.3, 3.4], rel=1e-12)
    assert general(r, "Peak to average demand (from the demand shape)") == approx([6.3] * 4)
    assert general(r, "Peak output rate demanded") == approx(peak_rate)
    assert general(r, "Highest reachable average utilization (1 / peak to average)") == approx([1 / 6.3] * 4)
    assert r.row("rent", "Replicas the peak needs") == approx([1, 2, 3, 4])
    assert r.row("rent", "Replicas in service") == approx([1, 2, 3, 4])
    assert r.row("rent2", "Replicas in service") == approx([3, 4, 5, 6])  # + 2 spares
    # fees follow the servers: 1,000 a month each
    assert r.row("rent2", "Server fees") == approx(np.array([3, 4, 5, 6]) * 3000.0)


def test_demand_shape_from_hourly_profile_uses_the_busiest_hour(tmp_path):
    """Reviewer checks: with an HourlyProfile whose largest share is 15%, 5 working days and a 1.3 intra-hour
    factor, peak to average = 7/5 x 24 x 0.15 x 1.3 = 6.552 (busy-hours equivalent 1 / 0.15), and the highest
    reachable average utilization is 1 / 6.552."""
    profile = [0.0] * 24
    for h, sh in {7: 0.02, 8: 0.06, 9: 0.12, 10: 0.15, 11: 0.13, 12: 0.08, 13: 0.12, 14: 0.12, 15: 0.10,
                  16: 0.06, 17: 0.03, 18: 0.01}.items():
        profile[h] = sh
    assert sum(profile) == pytest.approx(1.0, abs=1e-12) and max(profile) == 0.15
    cap = 100.0
    peak = 7 / 5 * 24 * 0.15 * 1.3
    assert peak == pytest.approx(6.552, rel=1e-14)
    R = requests_for([0.9, 2.5], cap, 6.552)
    c = content([option("rent", "rented_server")],
                shaped_rows(R, working_days_per_week=5, intra_hour_peak_factor=1.3),
                rental=[rental("rent", 1000.0)], profile=profile)
    r = run(tmp_path, c, {"rent": cap})
    assert float(general(r, "Busy hours per day (equivalent: 1 / busiest hour's share)")) == approx(1 / 0.15)
    assert general(r, "Peak to average demand (from the demand shape)") == approx([6.552] * 2)
    assert general(r, "Highest reachable average utilization (1 / peak to average)") == approx([1 / 6.552] * 2)
    out = np.array(R) * 200
    assert general(r, "Peak output rate demanded") == approx(out / SECONDS_PER_QUARTER * 6.552)
    assert r.row("rent", "Replicas in service") == approx([1, 3])


# ----------------------------------------------------------------------------------------------------
# 3. Input errors: Sheet!Cell in the loader's message, the CLI's validate and build (exit 2, nothing written)


def _error_base(**kw):
    return content([option("api", "hosted_api"), option("own", "owned")], kw.pop("workload", workload_rows([1e6] * 2)),
                   api=[API], capex=[owned_capex("own", 1.0, 0.1)], opex=[one_kw_opex("own")], **kw)


def _profile_sum_097():
    return _error_base(workload=shaped_rows([1e6] * 2, working_days_per_week=5, intra_hour_peak_factor=1.2),
                       profile=[0.97 / 24] * 24)


def _profile_missing_hour():
    c = _error_base(workload=shaped_rows([1e6] * 2, working_days_per_week=5, intra_hour_peak_factor=1.2))
    c["HourlyProfile"] = [{"hour": h, "share_of_daily_requests": 1 / 23, "source": "test"} for h in range(24) if h != 13]
    return c


def _resale_rises():
    return _error_base(resale=[("own", 1.0, 0.5), ("own", 2.0, 0.6)])


def _unknown_role():
    return _error_base(roles=[{"role": "engineer", "loaded_rate_per_hour": 500.0}],
                       staff=[{"option_id": "api", "role": "ops", "hours_per_month": 5.0}])


def _role_currency_without_fx():
    return _error_base(roles=[{"role": "engineer", "loaded_rate_per_hour": 60.0, "currency": "EUR"}],
                       staff=[{"option_id": "api", "role": "engineer", "hours_per_month": 5.0}])


def _ratio_and_shape():
    wl = workload_rows([1e6] * 2, peak=2.0)
    wl[0]["working_days_per_week"] = 5
    return _error_base(workload=wl)


def _ratio_and_profile():
    return _error_base(profile=[1 / 24] * 24)  # the rows give peak_to_average: the profile would be ignored


def _shape_without_busy_hours():
    return _error_base(workload=shaped_rows([1e6] * 2, working_days_per_week=5, intra_hour_peak_factor=1.5))


def _pair_to_itself():
    return _error_base(pairs=[("own", "own")])


INPUT_ERRORS = {
    # case: (content, location, fragments of the message)
    "profile-sums-to-0.97": (_profile_sum_097, "HourlyProfile!B3:B26", ["sum to 0.97,", "not 1"]),
    "profile-missing-hour": (_profile_missing_hour, "HourlyProfile!A3", ["missing: 13"]),
    "resale-rises-with-age": (_resale_rises, "Resale!C4", ["rises with age", "60%", "Resale!C3"]),
    "staff-unknown-role": (_unknown_role, "Staff!B3", ["ops"]),
    "role-currency-without-fx": (_role_currency_without_fx, "Roles!D3", ["'EUR' has no FX rate"]),
    "ratio-and-shape": (_ratio_and_shape, "Workload!J3", ["both peak_to_average and the demand shape"]),
    "ratio-and-profile": (_ratio_and_profile, "Workload!I3", ["both give the peak"]),
    "shape-without-busy-hours": (_shape_without_busy_hours, "Workload!K3", ["busy_hours_per_day is needed"]),
    "pair-to-itself": (_pair_to_itself, "Pairs!B3", ["switched to itself"]),
}


@pytest.mark.parametrize("case", list(INPUT_ERRORS))
def test_economics_input_errors_name_the_cell(tmp_path, case):
    """Reviewer checks: each bad economics input is refused with the exact Sheet!Cell and what is wrong, by the
    library (InputError), by `tcomodel validate` (exit 2, no traceback) and by `tcomodel build` (exit 2,
    no report or JSON written)."""
    make, location, fragments = INPUT_ERRORS[case]
    path = tmp_path / "s.xlsx"
    write_scenario_workbook(path, make())
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    hits = [str(p) for p in exc.value.problems if str(p).startswith(location + ":")]
    assert hits, f"no problem at {location}: {exc.value}"
    for frag in fragments:
        assert any(frag in h for h in hits), (frag, hits)

    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output
    assert any(ln.startswith(location + ":") for ln in res.output.splitlines()), res.output

    out, js = tmp_path / "out" / "r.xlsx", tmp_path / "out" / "r.json"
    out.parent.mkdir()
    res = CliRunner().invoke(main, ["build", str(path), "-o", str(out), "--json", str(js)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and location in res.output
    assert list(out.parent.iterdir()) == []


# ----------------------------------------------------------------------------------------------------
# 4. N+k spares


def test_n_plus_1_spare_is_paid_on_a_rented_server_and_bought_when_owned(tmp_path):
    """Reviewer checks: the peak needs 2 replicas; with one spare 3 rented servers are paid and 3 owned replicas
    bought (capex, power); utilization at the peak is the peak rate over the capacity of all 3."""
    cap = 100.0
    R = requests_for([1.5, 1.5], cap, 2.0)  # peak rate 150 tok/s: 2 replicas of 100
    c = content([option("rent", "rented_server", redundancy_replicas=1),
                 option("own", "owned", redundancy_replicas=1)], workload_rows(R, peak=2.0),
                rental=[rental("rent", 10000.0)], capex=[owned_capex("own", 1.0, 0.0)], opex=[one_kw_opex("own")])
    r = run(tmp_path, c, {"rent": cap, "own": cap})
    for oid in ("rent", "own"):
        assert r.row(oid, "Replicas the peak needs") == approx([2, 2])
        assert r.row(oid, "Replicas in service") == approx([3, 3])
        assert r.row(oid, "Utilization of the fleet at the peak") == approx([150 / 300] * 2)
        # average: output tokens / (3 replicas x 100 tok/s x seconds) = 75 / 300
        assert r.row(oid, "Utilization of the fleet (average)") == approx([0.25] * 2)
    assert r.row("rent", "Server fees") == approx([3 * 10000.0 * 3] * 2)
    assert r[r.model.options["rent"].cash_cost] == approx([90000.0] * 2)
    assert r.row("own", "Capex") == approx([3 * 100000.0, 0])
    assert r.row("own", "Power") == approx([3 * 2191.5] * 2)
    assert r.row("own", "Depreciation") == approx([3 * 100000.0 / 4] * 2)


# ----------------------------------------------------------------------------------------------------
# 5. Staff: hours x loaded rate per role


def test_staff_hours_times_role_rate_on_rented_and_api_options(tmp_path):
    """Reviewer checks: 10 h/month and 30 one-off hours at 500 DKK/h (wages +4% a year) from quarter 2:
    0 in quarter 1, (30 + 30) x 500 x index in quarter 2, 30 x 500 x index after; the same role on a hosted
    API adds its hours to the API's cash and P&L; a flat Opex staff_per_month (older workbooks) adds on top."""
    n = 4
    c = content(
        [option("api", "hosted_api"), option("rent", "rented_server", start_quarter="2027Q2")],
        workload_rows([1e6] * n),
        api=[API], rental=[rental("rent", 1000.0)],
        roles=[{"role": "engineer", "loaded_rate_per_hour": 500.0, "rate_escalation_annual": 0.04}],
        staff=[{"option_id": "rent", "role": "engineer", "hours_per_month": 10.0, "one_off_hours": 30.0},
               {"option_id": "api", "role": "engineer", "hours_per_month": 5.0}],
        opex=[{"option_id": "rent", "staff_per_month": 2000.0, "other_escalation_annual": 0.02, "currency": "DKK"}],
    )
    r = run(tmp_path, c, {"rent": 1e9})
    wage = idx(0.04, n)
    hours = np.array([0, 30 + 30, 30, 30])
    role_cost = hours * 500.0 * wage
    assert role_cost[1] == pytest.approx(60 * 500 * 1.04 ** 0.25, rel=1e-15)
    assert r.row("rent", "Staff hours, engineer") == approx(hours)
    assert r.row("rent", "Staff cost, engineer") == approx(role_cost)
    flat = np.array([0, 1, 1, 1]) * 2000.0 * 3 * idx(0.02, n)
    staff = role_cost + flat
    assert r.row("rent", "Staff") == approx(staff)
    fees = np.array([0, 1, 1, 1]) * 1000.0 * 3
    om = r.model.options["rent"]
    assert r[om.cash_cost] == approx(fees + staff)
    assert r[om.pl_cost] == approx(fees + staff)
    # the API: 1e6 requests x (1000 in x 1 + 200 out x 2) / 1e6 = 1,400 a quarter, plus 5 h x 3 months x 500
    api_staff = 5 * 3 * 500.0 * wage
    assert r.row("api", "Staff cost, engineer") == approx(api_staff)
    oa = r.model.options["api"]
    assert r[oa.cash_cost] == approx(1400.0 + api_staff)
    assert r[oa.pl_cost] == approx(1400.0 + api_staff)
    assert r[oa.categories["Staff and licences"]] == approx(api_staff)


# ----------------------------------------------------------------------------------------------------
# 6-8. Owned hardware with a resale curve, against a rented server; tax, capex timing, pairs

N6 = 6
P = 2191.5  # power per replica and quarter (one_kw_opex)
UNIT, HARDWARE = 100000.0, 90000.0  # capex per replica; its resaleable part (server + GPUs)


def owned_vs_rent_content(*, rate, tax, capex_paid_at="end", baseline="rent", extra=(), pairs=(), measured=False,
                          fee=10000.0):
    cap = 100.0
    R = requests_for([0.5] * N6, cap, 1.0)  # one replica all along
    m = {"measured_output_tok_s_per_replica": cap} if measured else {}
    return content(
        [option("rent", "rented_server", **m), option("own", "owned", **m)] + list(extra), workload_rows(R),
        rate=rate, tax=tax, baseline=baseline, capex_paid_at=capex_paid_at, pairs=pairs, api=[API] if extra else (),
        rental=[rental("rent", fee)],
        capex=[owned_capex("own", 1.0, 0.1, econ=1.0)],  # book life 4 quarters, economic life 4 quarters
        resale=[("own", 0.5, 0.7), ("own", 1.0, 0.5), ("own", 2.0, 0.3)],
        opex=[one_kw_opex("own")],
    )


# By hand: 100,000 per replica, 10% book salvage -> 90,000 / 4 = 22,500 depreciation a quarter.
# Vintage 1 serves quarters 1-4; at the end of quarter 4 its book value is the salvage 10,000 and the server and
# GPUs sell at 50% (1 year old) of 90,000 = 45,000: a gain of 35,000. The replacement (vintage 5) is bought in
# quarter 5; at the horizon end it is 2 quarters old: book 100,000 - 2 x 22,500 = 55,000, market 70% x 90,000
# = 63,000: a gain of 8,000.
DEP = 22500.0
CAPEX6 = np.array([UNIT, 0, 0, 0, UNIT, 0])
PROCEEDS = np.array([0, 0, 0, 45000.0, 0, 0])
END_VALUE = np.array([0, 0, 0, 0, 0, 63000.0])
RETIRE_LOSS = np.array([0, 0, 0, 10000.0 - 45000.0, 0, 0])
END_LOSS = np.array([0, 0, 0, 0, 0, 55000.0 - 63000.0])
OWN_CASH = CAPEX6 + P - PROCEEDS - END_VALUE
OWN_PL = DEP + P + RETIRE_LOSS + END_LOSS
RENT = np.full(N6, 30000.0)  # 10,000 a month; cash = P&L


def test_resale_and_disposal_with_tax_hand_computed(tmp_path):
    """Reviewer checks: proceeds at retirement and the horizon-end market value come from the resale curve and
    enter cash; the P&L books only the gain or loss against net book value; cash and P&L agree over the
    horizon; and the after-tax saving against renting taxes exactly the P&L difference:
    saving = (rent cash - own cash) - tax x (rent P&L - own P&L)."""
    r = run(tmp_path, owned_vs_rent_content(rate=0.08, tax=0.22), {"rent": 100.0, "own": 100.0})
    assert OWN_CASH == approx([102191.5, P, P, P - 45000, 102191.5, P - 63000])
    assert OWN_PL == approx([24691.5, 24691.5, 24691.5, 24691.5 - 35000, 24691.5, 24691.5 - 8000])
    assert r.row("own", "Vintage 1: book value retired") == approx([0, 0, 0, 10000.0, 0, 0])
    assert r.row("own", "Vintage 1: resale proceeds at retirement") == approx(PROCEEDS)
    assert r.row("own", "Resale proceeds at retirement") == approx(PROCEEDS)
    assert r.row("own", "Loss (gain) on hardware retired") == approx(RETIRE_LOSS)
    assert r.row("own", "Vintage 5: units bought") == approx(1.0)
    assert r.row("own", "Capex") == approx(CAPEX6)
    assert r.row("own", "Depreciation") == approx([DEP] * N6)
    assert r.row("own", "Net book value, closing") == approx([77500, 55000, 32500, 0, 77500, 55000])
    assert r.row("own", "Market value at horizon end (deemed sale)") == approx(END_VALUE)
    assert r.row("own", "Loss (gain) on the horizon-end valuation (book value - market value)") == approx(END_LOSS)
    om = r.model.options["own"]
    assert r[om.cash_cost] == approx(OWN_CASH)
    assert r[om.pl_cost] == approx(OWN_PL)
    assert OWN_CASH.sum() == pytest.approx(OWN_PL.sum(), rel=1e-15)  # 92,000 + 6 x 2,191.5 both ways
    saving = (RENT - OWN_CASH) - 0.22 * (RENT - OWN_PL)
    # quarter 4 written out: cash saving 30,000 - (2,191.5 - 45,000) = 72,808.5; P&L saving
    # 30,000 - (24,691.5 - 35,000) = 40,308.5, taxed at 22%: 72,808.5 - 8,867.87 = 63,940.63
    assert saving[3] == pytest.approx(72808.5 - 0.22 * 40308.5, rel=1e-15)
    cmp = r.model.comparisons["own"]
    assert r[cmp.incremental_cf] == approx(saving)
    # tax falls on the P&L difference only: after-tax minus pre-tax cash saving = -tax x P&L saving
    assert r[cmp.incremental_cf] - (RENT - OWN_CASH) == approx(-0.22 * (RENT - OWN_PL))
    rq = 1.08 ** 0.25 - 1
    assert r.scalar(cmp.npv) == approx(excel_npv(rq, saving))
    assert r.scalar(r.model.master_check) == 0


def test_capex_paid_at_start_discounts_capex_one_quarter_less(tmp_path):
    """Reviewer checks: with capex paid at the start of the quarter (10% a year), the TCO PV equals
    sum(cash_t / (1+r)^t) + sum(capex_t x r / (1+r)^t), i.e. capex discounted from t - 1; the nominal TCO is the
    same as with payment at the end; the levelized cost and the switching NPV use that PV."""
    caps = {"rent": 100.0, "own": 100.0}
    end = run(tmp_path, owned_vs_rent_content(rate=0.10, tax=0.22, capex_paid_at="end"), caps)
    start = run(tmp_path, owned_vs_rent_content(rate=0.10, tax=0.22, capex_paid_at="start"), caps)
    rq = 1.10 ** 0.25 - 1
    t = np.arange(1, N6 + 1)
    pv_end = excel_npv(rq, OWN_CASH)
    pv_start = pv_end + np.sum(CAPEX6 * rq / (1 + rq) ** t)
    # the same as discounting capex from the quarter before
    assert pv_start == pytest.approx(np.sum(CAPEX6 / (1 + rq) ** (t - 1) + (OWN_CASH - CAPEX6) / (1 + rq) ** t), rel=1e-14)
    oe, os_ = end.model.options["own"], start.model.options["own"]
    assert end.scalar(oe.tco_pv) == approx(pv_end)
    assert start.scalar(os_.tco_pv) == approx(pv_start)
    assert start.row("own", "Capex carried to the quarter end (start-of-quarter payment, for PV)") == approx(CAPEX6 * rq)
    assert start.scalar(os_.tco_nominal) == approx(OWN_CASH.sum())
    assert end.scalar(oe.tco_nominal) == approx(OWN_CASH.sum())
    assert start[os_.cash_cost] == approx(OWN_CASH)  # cash by quarter does not move
    tokens = np.array(requests_for([0.5] * N6, 100.0, 1.0)) * 1200
    assert start.scalar(os_.levelized) == approx(pv_start / excel_npv(rq, tokens) * 1e6)
    saving = (RENT - OWN_CASH) - 0.22 * (RENT - OWN_PL)
    npv_start = excel_npv(rq, saving) - np.sum(CAPEX6 * rq / (1 + rq) ** t)
    assert start.scalar(start.model.comparisons["own"].npv) == approx(npv_start)
    assert end.scalar(end.model.comparisons["own"].npv) == approx(excel_npv(rq, saving))


def test_irr_with_capex_paid_at_start_counts_the_capex_a_quarter_earlier(tmp_path):
    """Reviewer checks: with capex paid at the start of the quarter, the IRR of switching is the rate at which the
    flows with each capex moved to the end of the quarter before (the first one to t = 0) have NPV 0 (here 12.2% a
    quarter; carrying the capex forward at the discount rate instead would give 20.4%)."""
    r = run(tmp_path, owned_vs_rent_content(rate=0.10, tax=0.22, capex_paid_at="start"), {"rent": 100.0, "own": 100.0})
    saving = (RENT - OWN_CASH) - 0.22 * (RENT - OWN_PL)
    flows = np.zeros(N6 + 1)  # t = 0..6
    flows[1:] += saving + CAPEX6  # the savings without their capex, at the quarter ends
    flows[:-1] -= CAPEX6  # each capex at the start of its quarter = the end of the one before
    irr_q = npf.irr(flows)
    assert irr_q == pytest.approx(0.1221, abs=1e-4)
    assert r.scalar(r.model.comparisons["own"].irr_quarterly) == approx(irr_q)


def test_simple_payback_counts_nominal_savings_when_capex_is_paid_at_start(tmp_path):
    """Reviewer checks: the simple (undiscounted) payback and its cumulative saving are nominal: paying capex at
    the start rather than the end of its quarter changes neither, while the discounted payback does count it.
    At a rent of 6,000 a month the nominal saving is 2,223.78 over the horizon, positive again from the last
    quarter on; the discount-rate carry on the two purchases (2 x 100,000 x 2.41%) must not turn it negative."""
    r = run(tmp_path, owned_vs_rent_content(rate=0.10, tax=0.22, capex_paid_at="start", fee=6000.0),
            {"rent": 100.0, "own": 100.0})
    rent = np.full(N6, 18000.0)
    saving = (rent - OWN_CASH) - 0.22 * (rent - OWN_PL)
    cum = np.cumsum(saving)
    assert cum[-1] == pytest.approx(0.78 * 6 * 18000 - 0.78 * (92000 + 6 * P), rel=1e-12)  # 2,223.78
    assert list(cum >= 0) == [False, False, False, True, False, True]  # the replacement in quarter 5 dips it again
    cmp = r.model.comparisons["own"]
    cum_item = next(it for it in cmp.items if it.label == "Cumulative saving")
    assert r[cum_item] == approx(cum)
    assert r.scalar(cmp.payback_quarter) == 6
    # discounted: capex at the start of quarters 1 and 5, i.e. at t = 0 and t = 4
    rq = 1.10 ** 0.25 - 1
    t = np.arange(1, N6 + 1)
    dsaving = (saving + CAPEX6) / (1 + rq) ** t - CAPEX6 / (1 + rq) ** (t - 1)
    assert np.cumsum(dsaving)[-1] < 0
    assert math.isnan(r.scalar(cmp.discounted_payback_quarter))


def test_pair_rent_to_own_npv_in_the_model_and_the_json(tmp_path):
    """Reviewer checks: a Pairs row rent -> own (the baseline is an API) gives the NPV of switching from rent to
    own = Excel NPV of the after-tax saving by hand, with its IRR and payback, in the full run's JSON."""
    c = owned_vs_rent_content(rate=0.08, tax=0.22, baseline="api", extra=[option("api", "hosted_api")],
                              pairs=[("rent", "own")], measured=True)
    path = tmp_path / "s.xlsx"
    write_scenario_workbook(path, c)
    mr = run_model(load_scenario(path))
    saving = (RENT - OWN_CASH) - 0.22 * (RENT - OWN_PL)
    rq = 1.08 ** 0.25 - 1
    pair = mr.model.pairs[("rent", "own")]
    assert np.asarray(mr.values[pair.incremental_cf]) == approx(saving)
    js = json.loads(json.dumps(to_json_dict(mr)))
    got = js["pairs"]["rent->own"]
    assert got["npv"] == approx(excel_npv(rq, saving))
    assert got["irr"] == approx((1 + npf.irr(saving)) ** 4 - 1)
    cum = np.cumsum(saving)
    assert cum[-1] > 0
    assert got["payback_quarter"] == max(i for i in range(N6) if cum[i] < 0) + 2
    assert js["master_check"] == 0


# ----------------------------------------------------------------------------------------------------
# 9. The unknown fee: NPV of switching at 50-150% of the assumed fee, and the breakeven fee


def test_unknown_fee_table_is_linear_and_npv_is_zero_at_the_breakeven_fee(tmp_path):
    """Reviewer checks: with the baseline's fee marked unknown, each table NPV equals the NPV recomputed by hand
    at that fee: NPV_k + (f - 1) x fee x (1 - tax) x PV(fee units while k serves), where fee units =
    server-months x fee index x VAT factor x FX; and setting the fee to the breakeven fee makes the NPV of
    switching 0, also for an option that starts serving later than the baseline (the fees compared are those
    of the quarters both serve)."""
    n, cap, fee, tax = 4, 100.0, 5000.0, 0.22
    R = np.array(requests_for([0.5] * n, cap, 1.0))  # one server
    cheap = {"option_id": "cheap", "input_per_mtok": 2.0, "output_per_mtok": 8.0, "batch_discount": 0.0,
             "currency": "DKK"}
    late = dict(cheap, option_id="late")
    c = content([option("base", "rented_server"), option("cheap", "hosted_api"),
                 option("late", "hosted_api", start_quarter="2027Q3")],
                workload_rows(list(R)), rate=0.08, tax=tax, fx={"EUR": 7.46}, api=[cheap, late],
                rental=[{"option_id": "base", "fee_per_replica_per_month": fee, "fee_escalation_annual": 0.05,
                         "vat_rate": 0.25, "vat_unrecoverable_share": 1.0, "fee_is_assumption": "yes",
                         "currency": "EUR"}])
    r = run(tmp_path, c, {"base": cap})
    rq = 1.08 ** 0.25 - 1
    units = 1 * 3 * idx(0.05, n) * 1.25 * 7.46  # server-months x index x (1 + 25% VAT not recovered) x FX
    assert r.row("base", "Fee units (server-months x index x VAT factor x FX)") == approx(units)
    base_cost = units * fee
    api_cost = R * (1000 * 2.0 + 200 * 8.0) / 1e6
    serves = {"cheap": np.ones(n), "late": np.array([0, 0, 1, 1])}
    for k, on in serves.items():
        npv_k = excel_npv(rq, (1 - tax) * (base_cost - api_cost) * on)
        assert r.scalar(r.model.comparisons[k].npv) == approx(npv_k)
        for f in (0.5, 0.75, 1.0, 1.25, 1.5):
            got = r.scalar(named(r, f"unknown_fee_npv:base:{k}:{f}"))
            assert got == approx(npv_k + (f - 1) * fee * (1 - tax) * excel_npv(rq, units * on))
            # the same, recomputed from scratch at that fee
            assert got == approx(excel_npv(rq, (1 - tax) * (units * f * fee - api_cost) * on))
        # the fee at which the baseline costs what k costs over the quarters k serves
        be = r.scalar(named(r, f"breakeven_fee:base:{k}"))
        assert be == approx(excel_npv(rq, api_cost * on) / excel_npv(rq, units * on))
        vals = r.model.values()
        vals["base.rental.fee_per_replica_per_month"] = np.asarray(be)
        v2 = evaluate(r.model.all_items(), vals, periods=n)
        assert float(v2[r.model.comparisons[k].npv]) == pytest.approx(0.0, abs=1e-9 * abs(npv_k))


# ----------------------------------------------------------------------------------------------------
# 10. The report: named unit constants, no typed 2191.5, LibreOffice agrees


@pytest.mark.libreoffice
def test_report_names_unit_constants_and_verifies_in_libreoffice(tmp_path, soffice_available):
    """Reviewer checks: the Time sheet holds the named cells HoursPerQuarter (2,191.5) and MonthsPerQuarter (3);
    option sheets reference them by name instead of typing 2191.5 anywhere; LibreOffice recalculates the
    report to the engine's values (`tcomodel verify`)."""
    out, js = tmp_path / "r.xlsx", tmp_path / "r.json"
    res = CliRunner().invoke(main, ["build", str(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"),
                                    "-o", str(out), "--json", str(js)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    refs = {}
    for name, value in (("HoursPerQuarter", 2191.5), ("MonthsPerQuarter", 3)):
        dn = wb.defined_names[name]
        (sheet, cell), = list(dn.destinations)
        assert sheet == "Time"
        assert wb["Time"][cell.replace("$", "")].value == value
        refs[name] = f"Time!{cell}"
    assert refs["HoursPerQuarter"].startswith("Time!$C$")
    formulas = [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert [f for f in formulas if "2191.5" in f[2]] == []
    owned = [f for f in formulas if f[0] == "alternative-owned"]
    assert any("HoursPerQuarter" in f[2] for f in owned)
    assert any("MonthsPerQuarter" in f[2] for f in formulas if f[0] == "alternative")
    assert [f for f in formulas if refs["HoursPerQuarter"] in f[2]] == []  # the name, never the address
    res = CliRunner().invoke(main, ["verify", "--no-cases", str(out)])
    assert res.exit_code == 0 and "agree with LibreOffice" in res.output, res.output


def test_spares_on_a_hosted_api_are_refused(tmp_path):
    """N+k is a self-hosted choice; on a hosted API it would be silently ignored, so it is an input error."""
    from tcomodel.errors import InputError
    from tcomodel.inputs import load_scenario, write_scenario_workbook

    c = content([option("api", "hosted_api", redundancy_replicas=1)], workload_rows([1e6] * 2),
                api=[{"option_id": "api", "input_per_mtok": 1.0, "output_per_mtok": 2.0, "batch_discount": 0.0,
                      "prompt_caching": "no", "currency": "DKK"}])
    path = tmp_path / "spares.xlsx"
    write_scenario_workbook(path, c)
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    assert "Options!" in str(exc.value) and "redundancy_replicas" in str(exc.value)


def test_breakeven_utilization_is_set_against_the_forecast_as_well_as_the_ceiling():
    """A breakeven utilization under the 1 / peak-to-average ceiling can be reached in principle; the forecast
    workload's utilization, beside it, says whether it is (a finance review read 'reachable' as 'self-hosting
    wins')."""
    run = run_model(load_scenario("assumptions/aarhusai-vs-alternative.xlsx"))
    m = run.model
    items = {it.name: it for sec in m.breakeven for it in sec.items if it.name}
    d = to_json_dict(run)["breakeven"]
    reachable_not_reached = 0
    for oid, om in m.options.items():
        if om.replica_months is None:
            continue
        fc = run.scalar(items[f"forecast_util:{oid}"])
        assert fc == pytest.approx(np.mean(run.values[om.utilization]), rel=1e-12) and d["forecast_util"][oid] == fc
        for api in ("api-claude-sonnet", "api-gemini-pro", "api-gemini-flash-lite", "api-deepseek"):
            util = run.scalar(items[f"breakeven_util:{oid}:{api}"])
            reachable = run.scalar(items[f"breakeven_util_reachable:{oid}:{api}"]) == 1.0
            reachable_not_reached += reachable and util > fc
    # the default's forecast load is far below every breakeven, though most are under the ceiling
    assert reachable_not_reached > 10
