"""Identities of the TCO model as property tests over random valid scenarios.

Each example is a real scenario workbook with one option of each kind (rented baseline, owned, cloud
GPU, hosted API) and random prices, volumes, rates, lives and salvage, loaded by the validating loader
and built with a random fixed capacity per replica.
"""

from __future__ import annotations

import tempfile

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcomodel.sheet import evaluate
from tests.test_finance_helpers import build, content, load, option, workload_rows

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every input that is an amount of money (scaling these by k must scale every cost by k).
MONEY_FIELDS = {
    "input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "cache_write_per_mtok",
    "long_context_input_per_mtok", "long_context_output_per_mtok", "server_cost_per_replica",
    "gpu_cost_per_replica", "network_cost_per_replica", "install_cost_per_replica", "power_price_per_kwh",
    "hosting_per_replica_per_month", "staff_per_month", "licences_per_month", "fee_per_replica_per_month",
    "setup_fee_per_replica", "on_demand_per_gpu_hour", "reserved_per_gpu_hour", "spot_per_gpu_hour",
    "loaded_rate_per_hour",
}
METHODS = ("straight_line", "sum_of_years", "declining_balance")


def f(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def scenarios(draw, min_quarters=4, max_quarters=12, life_max=8, rate=None):
    n = draw(st.integers(min_quarters, max_quarters))
    wl = []
    for _ in range(n):
        hit = draw(f(0, 0.6))
        wl.append(dict(requests=draw(f(1e4, 5e6)), inp=draw(f(1, 5000)), out=draw(f(1, 2000)), cache_hit=hit,
                       cache_write=draw(f(0, 0.9 - hit)), batch=draw(f(0, 1)), lc=draw(f(0, 1)), peak=draw(f(1, 5))))
    rows = workload_rows([w["requests"] for w in wl], inp=[w["inp"] for w in wl], out=[w["out"] for w in wl],
                         cache_hit=[w["cache_hit"] for w in wl], cache_write=[w["cache_write"] for w in wl],
                         batch=[w["batch"] for w in wl], long_context=[w["lc"] for w in wl],
                         peak=[w["peak"] for w in wl])
    tier = draw(st.booleans())
    api = {"option_id": "api", "input_per_mtok": draw(f(0.01, 20)), "output_per_mtok": draw(f(0.01, 60)),
           "cached_input_per_mtok": draw(f(0, 20)), "cache_write_per_mtok": draw(f(0, 20)),
           "batch_discount": draw(f(0, 0.9)), "long_context_threshold_tokens": 200000 if tier else None,
           "long_context_input_per_mtok": draw(f(0.01, 40)), "long_context_output_per_mtok": draw(f(0.01, 90)),
           "enterprise_discount": draw(f(-0.5, 0.5)), "annual_price_change": draw(f(-0.5, 0.5)), "currency": "USD"}
    rental = {"option_id": "rent", "fee_per_replica_per_month": draw(f(100, 50000)),
              "setup_fee_per_replica": draw(f(0, 20000)), "fee_escalation_annual": draw(f(-0.2, 0.3)),
              "currency": "EUR"}
    cloud = {"option_id": "cloud", "on_demand_per_gpu_hour": draw(f(0.1, 10)), "reserved_per_gpu_hour": draw(f(0.1, 10)),
             "spot_per_gpu_hour": draw(f(0.1, 10)), "reserved_replicas": draw(st.integers(0, 3)),
             "commitment_term_years": 1, "upfront": draw(st.sampled_from(("none", "partial", "all"))),
             "reservation_start_quarter": rows[draw(st.integers(0, n - 4))]["quarter"],
             "spot_share": draw(f(0, 1)), "spot_interruption_overhead": draw(f(0, 1)),
             "rate_escalation_annual": draw(f(-0.5, 0.5)), "currency": "USD"}
    cloud["upfront_share"] = draw(f(0, 1)) if cloud["upfront"] == "partial" else None
    life_q = draw(st.integers(1, life_max))
    capex = {"option_id": "own", "server_cost_per_replica": draw(f(1000, 1e5)), "gpu_cost_per_replica": draw(f(0, 2e5)),
             "network_cost_per_replica": draw(f(0, 1e4)), "install_cost_per_replica": draw(f(0, 1e4)),
             "depreciation_method": draw(st.sampled_from(METHODS)), "book_life_years": life_q / 4,
             "economic_life_years": None, "salvage_share": draw(f(0, 0.6)), "currency": "DKK"}
    opex = [{"option_id": "own", "power_kw_per_replica": draw(f(0, 10)), "load_factor": draw(f(0, 1)),
             "pue": draw(f(1, 3)), "power_price_per_kwh": draw(f(0, 5)), "power_escalation_annual": draw(f(-0.2, 0.3)),
             "hosting_per_replica_per_month": draw(f(0, 5000)), "maintenance_share_of_capex_annual": draw(f(0, 0.2)),
             "staff_per_month": draw(f(0, 20000)), "licences_per_month": draw(f(0, 5000)),
             "other_escalation_annual": draw(f(-0.2, 0.3)), "currency": "DKK"},
            {"option_id": "rent", "staff_per_month": draw(f(0, 20000)), "licences_per_month": draw(f(0, 5000)),
             "other_escalation_annual": draw(f(-0.2, 0.3)), "currency": "DKK"}]
    # a resale curve that falls with age, staff on every kind at one loaded rate
    ages = sorted(draw(st.lists(f(0.25, 6), min_size=1, max_size=4, unique=True)))
    shares = sorted(draw(st.lists(f(0, 1), min_size=len(ages), max_size=len(ages))), reverse=True)
    resale = [("own", a, sh) for a, sh in zip(ages, shares)]
    roles = [{"role": "ops", "loaded_rate_per_hour": draw(f(100, 1500)), "rate_escalation_annual": draw(f(0, 0.05))}]
    staff = [{"option_id": oid, "role": "ops", "hours_per_month": draw(f(0, 40)), "one_off_hours": draw(f(0, 200))}
             for oid in ("rent", "own", "cloud", "api")]
    options = [option("rent", "rented_server"), option("own", "owned"),
               option("cloud", "cloud_gpu", gpus_per_replica=draw(st.integers(1, 8))), option("api", "hosted_api")]
    c = content(options, rows, rate=draw(f(0, 0.3)) if rate is None else rate, tax=draw(f(0, 0.4)), baseline="rent",
                fx={"USD": draw(f(0.1, 20)), "EUR": draw(f(0.1, 20))}, capex=[capex], opex=opex, rental=[rental],
                cloud=[cloud], api=[api], resale=resale, roles=roles, staff=staff,
                capex_paid_at=draw(st.sampled_from(("start", "end"))))
    caps = {oid: draw(f(5, 3000)) for oid in ("rent", "own", "cloud")}
    return c, caps


def built(example):
    c, caps = example
    with tempfile.TemporaryDirectory() as d:
        scenario = load(d, c)
    model, values = build(scenario, caps)
    return scenario, model, values


def arr(values, it):
    return np.asarray(values[it], dtype=float)


# ----------------------------------------------------------------------------------------------------


@SETTINGS
@given(scenarios())
def test_npv_at_the_irr_is_zero_and_npv_irr_match_numpy_financial(example):
    scenario, model, values = built(example)
    r_q = (1 + scenario.settings.discount_rate_annual) ** 0.25 - 1
    for oid, cmp in model.comparisons.items():
        cf = arr(values, cmp.incremental_cf)
        scale = np.abs(cf).sum()
        # Excel NPV(r, cf1..cfn) == numpy-financial npv(r, [0, cf1..cfn])
        assert float(values[cmp.npv]) == pytest.approx(npf.npv(r_q, np.r_[0.0, cf]), rel=1e-9, abs=1e-9 * scale)
        irr_q = float(values[cmp.irr_quarterly])
        if cf[0] >= 0:
            assert np.isnan(irr_q), f"{oid}: IRR shown although the first quarter's saving is not an outlay"
            continue
        if np.isnan(irr_q):
            continue
        # the IRR's own flows sit at quarter boundaries 0..N (start-of-quarter capex at the boundary before
        # its quarter); at the discount rate they give the NPV, at the IRR zero
        flows = np.r_[arr(values, cmp.irr_row), float(values[cmp.irr_tail])]
        assert npf.npv(r_q, flows) == pytest.approx(float(values[cmp.npv]), rel=1e-9, abs=1e-9 * scale)
        assert npf.npv(irr_q, flows) == pytest.approx(0.0, abs=1e-7 * scale)
        assert float(values[cmp.npv_check]) == pytest.approx(0.0, abs=1e-7 * scale)
        assert float(values[cmp.irr_annual]) == pytest.approx((1 + irr_q) ** 4 - 1, rel=1e-12)
        signs = np.sign(flows[flows != 0])
        if np.count_nonzero(np.diff(signs)) == 1:  # one sign change: the IRR is unique
            assert irr_q == pytest.approx(npf.irr(flows), rel=1e-9, abs=1e-12)


@SETTINGS
@given(scenarios())
def test_cost_per_million_tokens_times_tokens_is_the_quarterly_cost(example):
    scenario, model, values = built(example)
    for oid, om in model.options.items():
        cpm, tok, pl = arr(values, om.cost_per_mtok), arr(values, om.tokens), arr(values, om.pl_cost)
        served = tok > 0
        assert served.all()  # every option serves from quarter 1
        assert cpm * tok / 1e6 == pytest.approx(pl, rel=1e-9, abs=1e-9 * np.abs(pl).max())
    assert float(values[model.master_check]) == 0


@SETTINGS
@given(scenarios(min_quarters=9, max_quarters=14, life_max=8))
def test_book_value_is_never_negative_and_ends_the_book_life_at_salvage(example):
    scenario, model, values = built(example)
    n = scenario.settings.horizon_quarters
    life = int(round(scenario.capex["own"].book_life_years * 4))
    om = model.options["own"]
    rows = {it.label: it for s in om.sections for it in s.items}
    for v in range(1, n + 1):
        units = float(values[rows[f"Vintage {v}: units bought"]])
        cost = float(values[rows[f"Vintage {v}: cost"]])
        salvage = float(values[rows[f"Vintage {v}: book salvage value"]])
        nbv = arr(values, rows[f"Vintage {v}: net book value, closing"])
        dep = arr(values, rows[f"Vintage {v}: depreciation"])
        disp = arr(values, rows[f"Vintage {v}: book value retired"])
        tol = 1e-9 * max(cost, 1.0)
        assert (nbv >= -tol).all(), f"vintage {v}: negative book value {nbv.min()}"
        assert (dep >= -tol).all(), f"vintage {v}: negative depreciation {dep.min()}"
        if units == 0:
            assert np.abs(nbv).max() <= tol
            continue
        end = v + life - 1  # quarter (1-based) in which the book life ends
        if end > n:
            continue
        assert (dep[: v - 1] == 0).all() and (dep[end:] == 0).all()
        assert cost - dep[v - 1:end].sum() == pytest.approx(salvage, rel=1e-9, abs=tol)
        # closing book value at the end of the life (plus the book value retired, should the asset retire then)
        assert nbv[end - 1] + disp[end - 1] == pytest.approx(salvage, rel=1e-9, abs=tol)
        assert nbv[end:] == pytest.approx(np.full(n - end, salvage), rel=1e-9, abs=tol)  # no economic life: kept
    # the corkscrew closes: over the horizon, cash view and P&L view of the owned option agree
    assert arr(values, om.cash_cost).sum() == pytest.approx(arr(values, om.pl_cost).sum(), rel=1e-9)
    assert float(values[model.master_check]) == 0


@SETTINGS
@given(scenarios(), st.sampled_from(METHODS), st.integers(1, 40), f(0, 0.6))
def test_cash_does_not_depend_on_book_depreciation(example, method, life_q, salvage):
    """With tax 0, cash TCO, switching NPV and levelized cost are the same for any book method, life and
    book salvage: cash sees capex and the market value (resale curve), never the book value."""
    c, caps = example
    c = dict(c)
    c["Scenario"] = [(k, 0.0 if k == "tax_rate" else v, u, src) for k, v, u, src in c["Scenario"]]
    other = dict(c)
    other["Capex"] = [dict(c["Capex"][0], depreciation_method=method, book_life_years=life_q / 4,
                           salvage_share=salvage)]
    _, m1, v1 = built((c, caps))
    _, m2, v2 = built((other, caps))
    om1, om2 = m1.options["own"], m2.options["own"]
    for a, b in ((om1.cash_cost, om2.cash_cost), (om1.tco_nominal, om2.tco_nominal), (om1.tco_pv, om2.tco_pv),
                 (om1.levelized, om2.levelized), (m1.comparisons["own"].npv, m2.comparisons["own"].npv)):
        assert arr(v2, b) == pytest.approx(arr(v1, a), rel=1e-9, abs=1e-6)
    # the P&L does depend on the method, but agrees with cash over the whole horizon
    assert arr(v2, om2.pl_cost).sum() == pytest.approx(arr(v2, om2.cash_cost).sum(), rel=1e-9, abs=1e-6)


@SETTINGS
@given(scenarios())
def test_cloud_cash_and_pl_differ_only_in_timing(example):
    scenario, model, values = built(example)
    om = model.options["cloud"]
    cash, pl = arr(values, om.cash_cost), arr(values, om.pl_cost)
    assert cash.sum() == pytest.approx(pl.sum(), rel=1e-9)
    # cash runs ahead of the P&L (upfront payments), never behind
    assert (np.cumsum(cash) >= np.cumsum(pl) - 1e-9 * np.abs(pl).sum()).all()
    assert float(values[model.master_check]) == 0


@SETTINGS
@given(scenarios(rate=0.0))
def test_a_zero_discount_rate_makes_present_values_nominal(example):
    scenario, model, values = built(example)
    for oid, om in model.options.items():
        assert float(values[om.tco_pv]) == pytest.approx(float(values[om.tco_nominal]), rel=1e-9, abs=1e-6)
        assert float(values[om.pv_tokens]) == pytest.approx(float(values[om.tokens_total]), rel=1e-12)
        assert float(values[om.levelized]) == pytest.approx(
            float(values[om.tco_nominal]) / float(values[om.tokens_total]) * 1e6, rel=1e-9)
    for oid, cmp in model.comparisons.items():
        cf = arr(values, cmp.incremental_cf)
        assert float(values[cmp.npv]) == pytest.approx(cf.sum(), rel=1e-9, abs=1e-9 * np.abs(cf).sum())
        simple, disc = float(values[cmp.payback_quarter]), float(values[cmp.discounted_payback_quarter])
        assert (np.isnan(simple) and np.isnan(disc)) or simple == disc


def money_inputs(model) -> list[str]:
    names = [n for n in model.inputs if n.rsplit(".", 1)[-1] in MONEY_FIELDS]
    # guard: any input stated in a currency (other than an FX rate) must be on the list above
    currencies = ("DKK", "USD", "EUR")
    for n, d in model.inputs.items():
        if d.group != "FX" and d.unit.split("/")[0] in currencies:
            assert n in names, f"input {n} ({d.unit}) is money but not scaled by this test"
    return names


@SETTINGS
@given(scenarios(), f(0.01, 100))
def test_scaling_every_price_by_k_scales_every_cost_by_k(example, k):
    scenario, model, values = built(example)
    vals = model.values()
    for name in money_inputs(model):
        vals[name] = vals[name] * k
    scaled = evaluate(model.all_items(), vals, periods=scenario.settings.horizon_quarters)

    def same(it, factor):
        a, b = arr(values, it), arr(scaled, it)
        assert np.isnan(a).tolist() == np.isnan(b).tolist(), it.label
        ok = ~np.isnan(a)
        assert b[ok] == pytest.approx(a[ok] * factor, rel=1e-9, abs=1e-9 * max(1.0, np.abs(a[ok]).max(initial=0) * factor))

    for oid, om in model.options.items():
        for it in (om.cash_cost, om.pl_cost, om.cost_per_mtok, om.tco_nominal, om.tco_pv, om.levelized,
                   *om.categories.values()):
            same(it, k)
        for it in (om.tokens, om.pv_tokens, om.tokens_total) + ((om.fleet,) if om.fleet is not None else ()):
            same(it, 1.0)
    for oid, cmp in model.comparisons.items():
        same(cmp.incremental_cf, k)
        same(cmp.npv, k)
        same(cmp.irr_quarterly, 1.0)
        same(cmp.payback_quarter, 1.0)
    for sec in model.breakeven:
        for it in sec.items:
            if it.name.startswith("breakeven_fee:"):
                same(it, k)
            if it.name.startswith(("breakeven_volume:", "breakeven_util:")):
                same(it, 1.0)
