"""Hand-computed small scenarios, one per option kind: the engine's line items must equal arithmetic
written out here (relative 1e-9).

Every scenario is a real workbook (the `tcomodel init` content trimmed to a few rows), loaded by the
validating loader and built with a fixed capacity per self-hosted replica, so the roofline never runs.
Conventions (tcomodel/finance/build.py): quarter q = 1..N; escalation index (1 + g)^((q - 1) / 4);
HOURS_PER_QUARTER = 2191.5; quarterly rate (1 + r)^(1/4) - 1; PV = Excel NPV (end of quarters).
"""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest

from tests.test_finance_helpers import (
    HOURS_PER_QUARTER, SECONDS_PER_QUARTER, content, excel_npv, option, requests_for, run, workload_rows,
)

REL = 1e-9


def approx(x):
    return pytest.approx(x, rel=REL, abs=1e-9)


def idx(g, n):
    """Escalation index per quarter: (1 + g)^((q - 1) / 4)."""
    return np.array([(1 + g) ** ((q - 1) / 4) for q in range(1, n + 1)])


# ----------------------------------------------------------------------------------------------------
# Hosted API: cache hits and writes, batch share, long-context tier, enterprise discount, price change, FX


def test_hosted_api_hand_computed(tmp_path):
    R = np.array([1.0e6, 1.5e6, 2.0e6, 2.5e6])  # requests per quarter; 1,000 in and 200 out tokens each
    wl = workload_rows(list(R), inp=1000.0, out=200.0, cache_hit=0.3, cache_write=0.1, batch=0.2, long_context=0.25)
    api = {"option_id": "api", "input_per_mtok": 2.0, "output_per_mtok": 10.0, "cached_input_per_mtok": 0.2,
           "cache_write_per_mtok": 2.5, "batch_discount": 0.5, "long_context_threshold_tokens": 200000,
           "long_context_input_per_mtok": 4.0, "long_context_output_per_mtok": 15.0, "enterprise_discount": 0.1,
           "annual_price_change": -0.2, "currency": "USD"}
    # In the report currency, prompt caching no: cache reads and writes at the input price; no long-context tier.
    plain = {"option_id": "plain", "input_per_mtok": 1.0, "output_per_mtok": 3.0, "batch_discount": 0.0,
             "currency": "DKK"}
    c = content([option("api", "hosted_api"), option("plain", "hosted_api")], wl, rate=0.08, fx={"USD": 6.5},
                api=[api, plain])
    r = run(tmp_path, c)

    inp, out = R * 1000, R * 200
    # input: 60% fresh at 2.00, 30% cache reads at 0.20, 10% cache writes at 2.50 -> 1.51 USD per Mtok of input
    blended_in = 0.6 * 2.0 + 0.3 * 0.2 + 0.1 * 2.5
    assert blended_in == pytest.approx(1.51)
    uplift_in = 1 + 0.25 * (4.0 / 2.0 - 1)  # 25% of requests in the long-context tier: 1.25
    uplift_out = 1 + 0.25 * (15.0 / 10.0 - 1)  # 1.125
    terms = (1 - 0.2 * 0.5) * (1 - 0.1)  # 20% of requests at half price, 10% enterprise discount: 0.81
    price_index = 0.8 ** (np.arange(4) / 4)  # -20% a year: 1, 0.8^0.25, 0.8^0.5, 0.8^0.75
    fx = 6.5
    in_cost = inp / 1e6 * blended_in * uplift_in * terms * price_index * fx
    out_cost = out / 1e6 * 10.0 * uplift_out * terms * price_index * fx
    cost = in_cost + out_cost
    # quarter 1 written out: 1e9 input tokens -> 1000 x 1.51 x 1.25 x 0.81 x 6.5 = 9,937.6875 DKK
    assert in_cost[0] == pytest.approx(9937.6875, rel=1e-12)

    assert r.row("api", "Fresh input tokens") == approx(inp * 0.6)
    assert r.row("api", "Cached input tokens") == approx(inp * 0.3)
    assert r.row("api", "Cache-write input tokens") == approx(inp * 0.1)
    assert r.row("api", "Input token cost") == approx(in_cost)
    assert r.row("api", "Output token cost") == approx(out_cost)
    om = r.model.options["api"]
    assert r[om.cash_cost] == approx(cost)
    assert r[om.pl_cost] == approx(cost)
    tokens = inp + out
    assert r[om.tokens] == approx(tokens)
    assert r[om.cost_per_mtok] == approx(cost / tokens * 1e6)
    rq = 1.08 ** 0.25 - 1
    assert r.scalar(om.tco_nominal) == approx(cost.sum())
    assert r.scalar(om.tco_pv) == approx(excel_npv(rq, cost))
    assert r.scalar(om.levelized) == approx(excel_npv(rq, cost) / excel_npv(rq, tokens) * 1e6)

    # defaults: cached and write tokens at the input price; no tier although 25% of requests are long
    plain_cost = inp / 1e6 * 1.0 + out / 1e6 * 3.0
    assert r[r.model.options["plain"].pl_cost] == approx(plain_cost)

    # comparison against the baseline (api): saving = baseline cost - option cost (tax 0)
    cmp = r.model.comparisons["plain"]
    saving = cost - plain_cost
    assert r[cmp.incremental_cf] == approx(saving)
    assert r.scalar(cmp.npv) == approx(excel_npv(rq, saving))
    assert (saving > 0).all()
    assert math.isnan(r.scalar(cmp.irr_quarterly))  # no outlay in the first quarter: IRR undefined
    assert r.scalar(cmp.payback_quarter) == 1


# ----------------------------------------------------------------------------------------------------
# Rented server: fee escalation, setup fee per added server, fleet growth (and a shrink), staff, FX


def test_rented_server_hand_computed(tmp_path):
    cap, peak = 100.0, 2.0
    R = requests_for([0.8, 2.5, 1.6, 2.2], cap, peak)  # peak demand / capacity per replica
    c = content(
        [option("rent", "rented_server")], workload_rows(R, inp=1000.0, out=200.0, peak=peak), fx={"EUR": 7.46},
        rental=[{"option_id": "rent", "fee_per_replica_per_month": 5000.0, "setup_fee_per_replica": 2000.0,
                 "fee_escalation_annual": 0.10, "fee_is_assumption": "no", "currency": "EUR"}],
        opex=[{"option_id": "rent", "staff_per_month": 1000.0, "licences_per_month": 200.0,
               "other_escalation_annual": 0.04, "currency": "DKK"}],
    )
    r = run(tmp_path, c, {"rent": cap})
    R = np.array(R)
    out = R * 200
    peak_tok_s = out / (2191.5 * 3600) * peak
    fleet = np.array([math.ceil(x) for x in peak_tok_s / cap])
    assert list(fleet) == [1, 3, 2, 3]
    assert r.row("rent", "Replicas in service") == approx(fleet)
    fee = fleet * 5000.0 * 3 * idx(0.10, 4) * 7.46
    added = np.array([1, 2, 0, 1])  # the shrink to 2 in quarter 3 adds nothing; back to 3 adds one
    setup = added * 2000.0 * 7.46
    staff = 1000.0 * 3 * idx(0.04, 4)
    lic = 200.0 * 3 * idx(0.04, 4)
    assert r.row("rent", "Server fees") == approx(fee)
    assert r.row("rent", "Servers added") == approx(added)
    assert r.row("rent", "Setup fees") == approx(setup)
    assert r.row("rent", "Staff") == approx(staff)
    assert r.row("rent", "Licences") == approx(lic)
    om = r.model.options["rent"]
    cost = fee + setup + staff + lic
    assert r[om.cash_cost] == approx(cost)
    assert r[om.pl_cost] == approx(cost)
    assert r[om.utilization] == approx(out / (fleet * cap * SECONDS_PER_QUARTER))
    assert r[om.tokens] == approx(R * 1200)
    assert r[om.cost_per_mtok] == approx(cost / (R * 1200) * 1e6)
    assert r.scalar(om.tco_pv) == approx(cost.sum())  # discount rate 0


# ----------------------------------------------------------------------------------------------------
# Cloud GPU: one reserved TP=2 replica (paid whether used or not), then whole replicas on spot (with
# interruption overhead) and on demand; more cases in tests/test_finance_cloud.py


def test_cloud_gpu_reserved_spot_on_demand_hand_computed(tmp_path):
    cap, gpus = 100.0, 2
    peak = [1.25, 1.25, 2.5, 1.25]
    ratios = [0.5, 1.6, 3.5, 2.6]  # peak demand / capacity: fleet 1, 2, 4, 3
    R = requests_for(ratios, cap, peak)
    c = content(
        [option("cloud", "cloud_gpu", gpus_per_replica=gpus)], workload_rows(R, peak=peak), fx={"USD": 6.5},
        cloud=[{"option_id": "cloud", "on_demand_per_gpu_hour": 4.0, "reserved_per_gpu_hour": 2.5,
                "spot_per_gpu_hour": 1.5, "reserved_replicas": 1, "commitment_term_years": 1, "spot_share": 0.4,
                "spot_interruption_overhead": 0.1, "rate_escalation_annual": -0.1, "currency": "USD"}],
    )
    r = run(tmp_path, c, {"cloud": cap})
    out = np.array(R) * 200
    fleet = np.ceil(out / SECONDS_PER_QUARTER * np.array(peak) / cap)
    assert list(fleet) == [1, 2, 4, 3]
    # replica-hours to serve the average load, at least one replica all quarter
    busy = out / (cap * 3600)  # replica-hours at full speed
    assert busy / HOURS_PER_QUARTER == pytest.approx([0.4, 1.28, 1.4, 2.08])  # average replicas busy
    replica_h = np.maximum(busy, HOURS_PER_QUARTER)
    # one reserved replica (2 GPUs) for the 1-year term: all 4 quarters, at the rate of quarter 1
    reserved_rh = np.full(4, HOURS_PER_QUARTER)
    beyond = replica_h - reserved_rh
    assert beyond / HOURS_PER_QUARTER == pytest.approx([0, 0.28, 0.4, 1.08])
    spot_rh = beyond * 0.4 * 1.1
    od_rh = beyond * 0.6
    rate_index = 0.9 ** (np.arange(4) / 4)  # on demand and spot follow the trend every quarter
    reserved = 2191.5 * 2 * 2.5 * 6.5  # 71,223.75 per quarter, fixed for the term
    cost = reserved + (spot_rh * 1.5 + od_rh * 4.0) * gpus * rate_index * 6.5
    assert r.row("cloud", "Replica-hours to serve the load (spares kept up)") == approx(replica_h)
    assert r.row("cloud", "Reserved replica-hours (paid whether used or not)") == approx(reserved_rh)
    assert r.row("cloud", "Spot GPU-hours") == approx(spot_rh * gpus)
    assert r.row("cloud", "On-demand GPU-hours") == approx(od_rh * gpus)
    assert r.row("cloud", "Reserved cost (P&L: the term's cost spread evenly)") == approx(np.full(4, 71223.75))
    om = r.model.options["cloud"]
    assert r[om.pl_cost] == approx(cost)
    assert r[om.cash_cost] == approx(cost)  # no upfront: paid as the term runs
    # quarter 2 written out: reserved 71,223.75; beyond 0.28 x 2191.5 = 613.62 replica-h, of which
    # 613.62 x 0.4 x 1.1 = 269.9928 on spot and 613.62 x 0.6 = 368.172 on demand, 2 GPUs each
    q2 = 71223.75 + (269.9928 * 2 * 1.5 + 368.172 * 2 * 4.0) * 0.9 ** 0.25 * 6.5
    assert cost[1] == pytest.approx(q2, rel=1e-12)


# ----------------------------------------------------------------------------------------------------
# Owned: straight line, second vintage, power, hosting, maintenance, staff, residual value


def owned_capex(oid, method, life_years, salvage, econ=None, server=40000.0, gpu=50000.0, network=6000.0,
                install=4000.0):
    return {"option_id": oid, "server_cost_per_replica": server, "gpu_cost_per_replica": gpu,
            "network_cost_per_replica": network, "install_cost_per_replica": install,
            "depreciation_method": method, "book_life_years": life_years, "economic_life_years": econ,
            "salvage_share": salvage, "currency": "DKK"}


def bare_opex(oid):
    """Power inputs are required for an owned option; these make power cost 0."""
    return {"option_id": oid, "power_kw_per_replica": 0.0, "load_factor": 0.0, "pue": 1.0,
            "power_price_per_kwh": 0.0, "currency": "DKK"}


def test_owned_straight_line_two_vintages_hand_computed(tmp_path):
    cap = 100.0
    R = requests_for([0.6, 1.5, 0.9, 1.2], cap, 1.0)  # needed 1, 2, 1, 2: the owned fleet stays at 2
    c = content(
        [option("own", "owned")], workload_rows(R), rate=0.1,
        capex=[owned_capex("own", "straight_line", 1.5, 0.1)],  # 100,000 per replica, 6 quarters, 10% salvage
        resale=[("own", 0.5, 0.8), ("own", 1.0, 0.6)],  # market value of server + GPUs by age
        opex=[{"option_id": "own", "power_kw_per_replica": 1.2, "load_factor": 0.7, "pue": 1.4,
               "power_price_per_kwh": 2.0, "power_escalation_annual": 0.03, "hosting_per_replica_per_month": 1000.0,
               "maintenance_share_of_capex_annual": 0.08, "staff_per_month": 2000.0, "licences_per_month": 500.0,
               "other_escalation_annual": 0.02, "currency": "DKK"}],
    )
    r = run(tmp_path, c, {"own": cap})
    fleet = np.array([1, 2, 2, 2])
    assert r.row("own", "Replicas in service") == approx(fleet)
    unit = 40000 + 50000 + 6000 + 4000
    capex = np.array([unit, unit, 0, 0])  # vintage 1 in quarter 1, vintage 2 in quarter 2
    dep_each = (unit - 0.1 * unit) / 6  # 15,000 per replica per quarter
    dep = np.array([1, 2, 2, 2]) * dep_each
    nbv = np.array([unit - dep_each, 2 * unit - 3 * dep_each, 2 * unit - 5 * dep_each, 2 * unit - 7 * dep_each])
    assert nbv[-1] == 40000 + 55000
    power = fleet * 1.2 * 0.7 * 1.4 * 2191.5 * 2.0 * idx(0.03, 4)
    hosting = fleet * 1000.0 * 3 * idx(0.02, 4)
    maint = fleet * unit * 0.08 / 4 * idx(0.02, 4)
    staff = 2000.0 * 3 * idx(0.02, 4)
    lic = 500.0 * 3 * idx(0.02, 4)
    # at the horizon end vintage 1 is 4 quarters old (60% of 90,000 server + GPUs), vintage 2 is 3 quarters old
    # (70%: halfway between 80% at 0.5 and 60% at 1 year); install and network have no resale value
    market = 90000 * 0.6 + 90000 * 0.7
    assert market == 117000
    residual = np.array([0, 0, 0, market])
    end_loss = np.array([0, 0, 0, nbv[-1] - market])  # a gain of 22,000 over the book value of 95,000
    assert r.row("own", "Capex") == approx(capex)
    assert r.row("own", "Depreciation") == approx(dep)
    assert r.row("own", "Net book value, closing") == approx(nbv)
    assert r.row("own", "Market value at horizon end (deemed sale)") == approx(residual)
    assert r.row("own", "Loss (gain) on the horizon-end valuation (book value - market value)") == approx(end_loss)
    assert r.row("own", "Energy at the meter") == approx(fleet * 1.2 * 0.7 * 1.4 * 2191.5)
    assert r.row("own", "Power") == approx(power)
    assert r.row("own", "Hosting / colocation") == approx(hosting)
    assert r.row("own", "Maintenance") == approx(maint)
    assert r.row("own", "Staff") == approx(staff)
    assert r.row("own", "Licences") == approx(lic)
    opex = power + hosting + maint + staff + lic
    om = r.model.options["own"]
    cash = capex + opex - residual
    pl = dep + opex + end_loss
    assert r[om.cash_cost] == approx(cash)
    assert r[om.pl_cost] == approx(pl)
    rq = 1.1 ** 0.25 - 1
    assert r.scalar(om.tco_nominal) == approx(cash.sum())
    assert r.scalar(om.tco_pv) == approx(excel_npv(rq, cash))
    tokens = np.array(R) * 1200
    assert r.scalar(om.levelized) == approx(excel_npv(rq, cash) / excel_npv(rq, tokens) * 1e6)
    assert r[om.cost_per_mtok] == approx(pl / tokens * 1e6)
    assert r.scalar(r.model.master_check) == 0


def test_owned_sum_of_years_second_vintage_hand_computed(tmp_path):
    cap = 100.0
    R = requests_for([0.5, 0.7, 0.9, 1.5, 1.1, 1.8], cap, 1.0)  # fleet 1, 1, 1, 2, 2, 2
    c = content(
        [option("own", "owned")], workload_rows(R),
        capex=[owned_capex("own", "sum_of_years", 1.0, 0.2, server=30000.0, gpu=50000.0, network=None,
                           install=None)],  # 80,000 per replica, 4 quarters, 20% salvage
        opex=[{"option_id": "own", "power_kw_per_replica": 1.0, "load_factor": 0.5, "pue": 1.2,
               "power_price_per_kwh": 1.0, "currency": "DKK"}],
    )
    r = run(tmp_path, c, {"own": cap})
    fleet = np.array([1, 1, 1, 2, 2, 2])
    assert r.row("own", "Replicas in service") == approx(fleet)
    base = 80000 - 16000  # depreciable amount 64,000; sum of years 4+3+2+1 = 10
    syd = [base * 4 / 10, base * 3 / 10, base * 2 / 10, base * 1 / 10]  # 25,600 19,200 12,800 6,400
    v1 = np.array(syd + [0, 0])
    v2 = np.array([0, 0, 0] + syd[:3])  # bought in quarter 4
    assert r.row("own", "Vintage 1: depreciation") == approx(v1)
    assert r.row("own", "Vintage 4: depreciation") == approx(v2)
    assert r.row("own", "Depreciation") == approx(v1 + v2)
    assert r.row("own", "Vintage 1: net book value, closing")[3:] == approx([16000.0] * 3)  # held at salvage
    book_end = 16000 + (80000 - sum(syd[:3]))
    assert book_end == 38400
    power = fleet * 1.0 * 0.5 * 1.2 * 2191.5 * 1.0
    om = r.model.options["own"]
    capex = np.array([80000, 0, 0, 80000, 0, 0])
    # no resale curve: the hardware is worth nothing at the end (said as a warning); the book value is lost
    assert r[om.cash_cost] == approx(capex + power)
    assert r[om.pl_cost] == approx(v1 + v2 + power + np.array([0, 0, 0, 0, 0, book_end]))
    assert any("no resale curve" in msg for _, msg in r.model.warnings)
    assert r.scalar(r.model.master_check) == 0


def test_owned_double_declining_balance_hand_computed(tmp_path):
    cap = 100.0
    R = requests_for([0.5] * 6, cap, 1.0)
    c = content([option("own", "owned")], workload_rows(R),
                capex=[owned_capex("own", "declining_balance", 1.25, 0.1)],  # 100,000, 5 quarters, 10% salvage
                opex=[bare_opex("own")])
    r = run(tmp_path, c, {"own": cap})
    # rate 2/5 = 40% of the opening book value, never below salvage; the 5th quarter takes book to salvage
    dep = [40000.0, 24000.0, 14400.0, 8640.0, 12960.0 - 10000.0, 0.0]
    nbv = [60000.0, 36000.0, 21600.0, 12960.0, 10000.0, 10000.0]
    assert r.row("own", "Depreciation") == approx(dep)
    assert r.row("own", "Net book value, closing") == approx(nbv)
    om = r.model.options["own"]
    assert r[om.pl_cost] == approx(dep[:5] + [10000.0])  # the book salvage is not a market value: lost at the end
    assert r[om.cash_cost] == approx([100000.0, 0, 0, 0, 0, 0])


def test_owned_economic_life_shorter_than_book_life_hand_computed(tmp_path):
    """Retire at the end of the economic life (4 quarters) although the book life is 8: sell at the market value
    of the resale curve, take the book value off the books (loss = book - proceeds), buy a replacement the next
    quarter. The retired vintage must stop depreciating (its book value is 0 after retirement)."""
    cap = 100.0
    R = requests_for([0.5] * 6, cap, 1.0)
    c = content([option("own", "owned")], workload_rows(R),
                capex=[owned_capex("own", "straight_line", 2.0, 0.1, econ=1.0)],  # 100,000 per replica
                resale=[("own", 1.0, 0.5)], opex=[bare_opex("own")])
    r = run(tmp_path, c, {"own": cap})
    d = 90000 / 8  # 11,250 a quarter over the 8-quarter book life (book salvage 10%)
    # vintage 1: quarters 1-4 in service; at the end of quarter 4 the book value is 100,000 - 4 x 11,250 = 55,000;
    # the server and GPUs (90,000) sell at 50% = 45,000: a loss of 10,000
    assert r.row("own", "Vintage 1: depreciation") == approx([d, d, d, d, 0, 0])
    assert r.row("own", "Vintage 1: book value retired") == approx([0, 0, 0, 55000.0, 0, 0])
    assert r.row("own", "Vintage 1: resale proceeds at retirement") == approx([0, 0, 0, 45000.0, 0, 0])
    assert r.row("own", "Vintage 1: net book value, closing") == approx([100000 - d, 100000 - 2 * d,
                                                                        100000 - 3 * d, 0, 0, 0])
    # vintage 5: the replacement, bought in quarter 5, 2 quarters old at the end: 75% (linear from 100% new)
    assert float(r.row("own", "Vintage 5: units bought")) == 1.0
    assert r.row("own", "Vintage 5: depreciation") == approx([0, 0, 0, 0, d, d])
    assert r.row("own", "Vintage 5: market value at horizon end") == approx([0, 0, 0, 0, 0, 67500.0])
    assert r.row("own", "Capex") == approx([100000.0, 0, 0, 0, 100000.0, 0])
    assert r.row("own", "Depreciation") == approx([d, d, d, d, d, d])
    assert r.row("own", "Net book value, closing") == approx([100000 - d, 100000 - 2 * d, 100000 - 3 * d, 0,
                                                             100000 - d, 100000 - 2 * d])
    om = r.model.options["own"]
    end_loss = (100000 - 2 * d) - 67500.0  # 10,000
    assert r[om.pl_cost] == approx([d, d, d, d + 10000.0, d, d + end_loss])
    assert r[om.cash_cost] == approx([100000.0, 0, 0, -45000.0, 100000.0, -67500.0])
    # over the horizon the P&L and the cash view agree (no tax, no opex)
    assert r[om.pl_cost].sum() == pytest.approx(r[om.cash_cost].sum(), rel=REL)


# ----------------------------------------------------------------------------------------------------
# Comparison: saving after tax, NPV, IRR, payback (simple and discounted)


def owned_vs_rented(tmp_path, tax=0.22, rate=0.10, n=8, fee=10000.0, capex_paid_at="end"):
    cap = 100.0
    R = requests_for([0.5] * n, cap, 1.0)
    c = content(
        [option("rent", "rented_server"), option("own", "owned")], workload_rows(R), rate=rate, tax=tax,
        baseline="rent",
        rental=[{"option_id": "rent", "fee_per_replica_per_month": fee, "currency": "DKK"}],
        capex=[owned_capex("own", "straight_line", 1.0, 0.2)],  # 100,000, 4 quarters, 20% salvage
        resale=[("own", 2.0, 0.2)],  # 2 years old at the end: 20% of 90,000 = 18,000
        opex=[{"option_id": "own", "power_kw_per_replica": 1.0, "load_factor": 1.0, "pue": 1.0,
               "power_price_per_kwh": 1.0, "currency": "DKK"}], capex_paid_at=capex_paid_at,
    )
    return run(tmp_path, c, {"rent": cap, "own": cap})


def test_comparison_owned_vs_rented_after_tax_hand_computed(tmp_path):
    r = owned_vs_rented(tmp_path)
    rent = np.full(8, 30000.0)  # 10,000 a month, cash = P&L
    power = 2191.5  # 1 kW x 2191.5 h x 1 DKK/kWh
    own_cash = np.array([100000 + power] + [power] * 6 + [power - 18000])  # market value 18,000 back at the end
    # 80,000 / 4 quarters of depreciation; at the end book 20,000 against market 18,000: a loss of 2,000
    own_pl = np.array([20000 + power] * 4 + [power] * 3 + [power + 2000])
    saving = (rent - own_cash) - 0.22 * (rent - own_pl)
    assert saving[0] == pytest.approx(-72191.5 - 0.22 * 7808.5)
    cmp = r.model.comparisons["own"]
    assert r[cmp.incremental_cf] == approx(saving)
    rq = 1.1 ** 0.25 - 1
    assert r.scalar(cmp.npv) == approx(excel_npv(rq, saving))
    irr_q = npf.irr(saving)
    assert r.scalar(cmp.irr_quarterly) == approx(irr_q)
    assert r.scalar(cmp.irr_annual) == approx((1 + irr_q) ** 4 - 1)
    cum = np.cumsum(saving)
    assert list(cum < 0) == [True, True, True, False, False, False, False, False]
    assert r.scalar(cmp.payback_quarter) == 4
    dcum = np.cumsum(saving / (1 + rq) ** np.arange(1, 9))
    first_ok = max(i for i in range(8) if dcum[i] < 0) + 2  # 1-based quarter after the last negative one
    assert r.scalar(cmp.discounted_payback_quarter) == first_ok
    assert r.scalar(cmp.npv_check) == pytest.approx(0, abs=1e-6)
    assert r.scalar(r.model.master_check) == 0


def test_capex_paid_at_the_quarter_start_discounted_one_quarter_less_and_irr_on_boundary_flows(tmp_path):
    """Capex paid when the hardware arrives (start of quarter 1): PV and NPV discount it one quarter less than
    the end-of-quarter flows; the IRR takes the flows at quarter boundaries 0..8 (the outlay at boundary 0)."""
    end = owned_vs_rented(tmp_path, capex_paid_at="end")
    r = owned_vs_rented(tmp_path, capex_paid_at="start")
    rq = 1.1 ** 0.25 - 1
    rent = np.full(8, 30000.0)
    power = 2191.5
    own_cash = np.array([100000 + power] + [power] * 6 + [power - 18000])
    own_pl = np.array([20000 + power] * 4 + [power] * 3 + [power + 2000])
    own = r.model.options["own"]
    assert r[own.cash_cost] == approx(own_cash)  # cash stays nominal
    pv = excel_npv(rq, own_cash) + 100000 * rq / (1 + rq)  # = the outlay discounted from t = 0, not t = 1
    assert pv == pytest.approx(100000 + excel_npv(rq, own_cash - np.array([100000.0] + [0] * 7)), rel=1e-12)
    assert r.scalar(own.tco_pv) == approx(pv)
    assert r.scalar(own.tco_nominal) == approx(end.scalar(end.model.options["own"].tco_nominal))
    saving = (rent - own_cash) - 0.22 * (rent - own_pl)
    cmp = r.model.comparisons["own"]
    assert r.scalar(cmp.npv) == approx(excel_npv(rq, saving) - 100000 * rq / (1 + rq))
    # boundary flows: -100,000 at boundary 0, quarter t's other flows at boundary t
    boundary = np.r_[-100000.0, saving + np.array([100000.0] + [0] * 7)]
    irr_q = npf.irr(boundary)
    assert r.scalar(cmp.irr_quarterly) == approx(irr_q)
    # paid a quarter earlier, the same outlay earns less
    assert r.scalar(cmp.irr_quarterly) < end.scalar(end.model.comparisons["own"].irr_quarterly)
    assert r.scalar(cmp.npv_check) == 0
    assert r.scalar(r.model.master_check) == 0


def test_payback_is_undefined_when_the_cumulative_saving_ends_negative(tmp_path):
    r = owned_vs_rented(tmp_path, tax=0.0, fee=1000.0)  # rent 3,000 a quarter: the server never pays back
    cmp = r.model.comparisons["own"]
    # saving: 3,000 - 2,191.5 power each quarter, -100,000 in quarter 1, +18,000 market value in quarter 8
    saving = np.full(8, 3000 - 2191.5) - np.array([100000.0] + [0] * 6 + [-18000.0])
    assert r[cmp.incremental_cf] == approx(saving)
    assert saving.sum() < 0
    assert math.isnan(r.scalar(cmp.payback_quarter))
    assert math.isnan(r.scalar(cmp.discounted_payback_quarter))


def test_breakeven_fee_makes_the_rented_option_cost_as_much_as_the_other(tmp_path):
    r = owned_vs_rented(tmp_path)
    be = next(it for s in r.model.breakeven for it in s.items if it.name == "breakeven_fee:rent:own")
    fee = r.scalar(be)
    # rebuild with that fee: the rented option's TCO (PV) equals the owned option's
    vals = r.model.values()
    vals["rent.rental.fee_per_replica_per_month"] = np.asarray(fee)
    from tcomodel.sheet import evaluate

    v2 = evaluate(r.model.all_items(), vals, periods=8)
    assert float(v2[r.model.options["rent"].tco_pv]) == pytest.approx(r.scalar(r.model.options["own"].tco_pv), rel=REL)


# ----------------------------------------------------------------------------------------------------
# Bugs found while writing these tests (expected values are the correct ones)


def test_api_with_a_zero_input_price_costs_its_output_tokens(tmp_path):
    """An input price of 0 is valid (the schema's minimum is 0); the long-context uplift must not turn
    the whole cost into #DIV/0! when there is no long-context tier."""
    c = content([option("api", "hosted_api")], workload_rows([1e6] * 2),
                api=[{"option_id": "api", "input_per_mtok": 0.0, "output_per_mtok": 2.0, "batch_discount": 0.0,
                      "currency": "DKK"}])
    r = run(tmp_path, c)
    # 1e6 requests x 200 output tokens x 2 DKK / 1e6 = 400 DKK a quarter
    assert r[r.model.options["api"].pl_cost] == approx([400.0, 400.0])


def test_no_saving_before_an_option_starts_serving(tmp_path):
    """Before its start quarter an option serves nothing and the baseline carries the load (the
    switching scenario, as build.py's comment says): the saving in those quarters is 0, not the
    baseline's whole cost."""
    wl = workload_rows([1e6] * 4)
    c = content([option("base", "hosted_api"), option("late", "hosted_api", start_quarter="2027Q3")], wl,
                api=[{"option_id": "base", "input_per_mtok": 1.0, "output_per_mtok": 2.0, "batch_discount": 0.0,
                      "currency": "DKK"},
                     {"option_id": "late", "input_per_mtok": 0.5, "output_per_mtok": 1.0, "batch_discount": 0.0,
                      "currency": "DKK"}])
    r = run(tmp_path, c)
    # base: 1e9 in x 1 + 2e8 out x 2 = 1,400 a quarter; late: 700 from quarter 3
    assert r[r.model.options["late"].pl_cost] == approx([0, 0, 700.0, 700.0])
    cmp = r.model.comparisons["late"]
    assert r[cmp.incremental_cf] == approx([0, 0, 700.0, 700.0])


@pytest.mark.parametrize("method", ["straight_line", "sum_of_years", "declining_balance"])
def test_a_retired_vintage_stops_depreciating(tmp_path, method):
    """Economic life 4 quarters, book life 8: after retirement vintage 1 has book value 0 and no more
    depreciation, whatever the method (the book-value check must also see each vintage, not the total)."""
    cap = 100.0
    c = content([option("own", "owned")], workload_rows(requests_for([0.5] * 8, cap, 1.0)),
                capex=[owned_capex("own", method, 2.0, 0.1, econ=1.0)], resale=[("own", 1.0, 0.4)],
                opex=[bare_opex("own")])
    r = run(tmp_path, c, {"own": cap})
    assert r.row("own", "Vintage 1: depreciation")[4:] == approx([0.0] * 4)
    assert r.row("own", "Vintage 1: net book value, closing")[3:] == approx([0.0] * 5)
    # sold at the market value, whatever the book method: 40% of the 90,000 server and GPUs
    assert r.row("own", "Vintage 1: resale proceeds at retirement")[3] == pytest.approx(36000.0, rel=REL)
    dep = r.row("own", "Vintage 1: depreciation")[:4]
    out = r.row("own", "Vintage 1: book value retired")[3]
    assert dep.sum() + out == pytest.approx(100000.0, rel=REL)  # cost = depreciation + book value retired
