"""The engine's vectorised recurrences (issue 14 item 1): corkscrews of one shape stepped together, running
maxima in one numpy call, and evaluate(only=True); each must give exactly the values of stepping alone."""

import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tcomodel.sheet.engine as engine
import tcomodel.sheet.plan as plan
from tcomodel.sheet.expr import iter_names, iter_refs
from tcomodel.finance import run_model, sensitivity
from tcomodel.inputs import default_content, load_scenario, write_scenario_workbook
from tcomodel.inputs.cells import Quarter
from tcomodel.sheet import (
    IF, IFERROR, MAX, MILLION, MIN, NA, SUM, Const, SheetError, evaluate, inp, item, prev, row_input, sumifs, timeline,
    total,
)

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"
qidx = timeline("qidx")
P = 8
VALUES = {"qidx": np.arange(1.0, P + 1), "salvage": 0.1, "half": 0.5}


def _vintage(v: int, cost: float):
    """A declining-balance corkscrew bought in quarter v: opening = previous closing + cost in quarter v;
    depreciation = MIN(half x opening, opening - salvage x cost)."""
    cost_v = item(f"cost {v}", "DKK", cost)
    add = item(f"add {v}", "DKK", cost_v * qidx.eq(v))
    close = item(f"close {v}", "DKK")
    opening = prev(close, 0) + add
    dep = item(f"dep {v}", "DKK", IF(opening > 0, MIN(opening * inp("half"), opening - cost_v * inp("salvage")), 0))
    close.define(opening - dep)
    return close, dep


def test_same_shape_corkscrews_are_stepped_together_with_the_values_of_each_alone(monkeypatch):
    vintages = [_vintage(v, 1000.0 * v + 7) for v in range(1, 6)]
    calls = []
    real = plan.step_group
    monkeypatch.setattr(plan, "step_group",
                        lambda state, R, group: (calls.append(len(group)), real(state, R, group)))
    together = evaluate([x for pair in vintages for x in pair], VALUES)
    assert calls == [5]  # one group of five, one loop over the periods
    calls.clear()
    for close, dep in vintages:
        alone = evaluate([close, dep], VALUES)
        np.testing.assert_array_equal(together[close], alone[close])  # bit for bit
        np.testing.assert_array_equal(together[dep], alone[dep])
    assert calls == [1] * 5
    # by hand, vintage 1 (cost 1007, salvage 100.7): 1007 -> 503.5 -> 251.75 -> 125.875 -> 100.7 (floor) -> 100.7
    np.testing.assert_allclose(together[vintages[0][0]][:6], [503.5, 251.75, 125.875, 100.7, 100.7, 100.7], rtol=0,
                               atol=1e-12)
    # vintage 3 is bought in quarter 3: nothing before, then half of 3007
    np.testing.assert_array_equal(together[vintages[2][0]][:3], [0.0, 0.0, 1503.5])


def test_stacked_corkscrews_over_a_scenario_axis():
    vintages = [_vintage(v, 100.0 * v) for v in range(1, 4)]
    vals = dict(VALUES, half=np.array([0.5, 0.25]))
    together = evaluate([c for c, _ in vintages], vals)
    for close, _ in vintages:
        alone = evaluate([close], vals)
        assert together[close].shape == (2, P)
        np.testing.assert_array_equal(together[close], alone[close])
    np.testing.assert_array_equal(together[vintages[0][0]][:, 0], [50.0, 75.0])


def test_running_maximum_by_hand_and_as_stepped():
    needed = row_input("needed")
    fleet = item("Fleet", "replicas", lambda me: MAX(prev(me, inp("start")), needed))
    stepped = item("Fleet, stepped", "replicas", lambda me: MAX(needed, prev(me, inp("start"))))  # not the fast form
    vals = {"needed": np.array([[1.0, 3.0, 2.0, 5.0, 4.0], [1.0, np.nan, 2.0, 1.0, 0.0]]), "start": 2.0}
    r = evaluate([fleet, stepped], vals)
    np.testing.assert_array_equal(r[fleet][0], [2.0, 3.0, 3.0, 5.0, 5.0])
    # an error (#N/A) stays an error in every later period, as MAX in Excel
    np.testing.assert_array_equal(r[fleet][1], [2.0, np.nan, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(r[fleet], r[stepped])


def test_only_returns_the_items_asked_for_with_the_same_values():
    vintages = [_vintage(v, 10.0 * v) for v in range(1, 5)]
    total = item("Total closing", "DKK", vintages[0][0] + vintages[1][0] + vintages[2][0] + vintages[3][0])
    full = evaluate([total], VALUES)
    only = evaluate([total], VALUES, only=True)
    assert list(only) == [total]
    assert len(full) > 10
    np.testing.assert_array_equal(only[total], full[total])


def _owned_scenario(path, quarters: int, econ_years: float, method: str):
    c = copy.deepcopy(default_content())
    c["Scenario"] = [(k, quarters if k == "horizon_quarters" else v, *rest) for k, v, *rest in c["Scenario"]]
    first = Quarter.parse(c["Workload"][0]["quarter"])
    rows = c["Workload"][:quarters]
    while len(rows) < quarters:
        rows.append(dict(rows[-1], quarter=str(first + len(rows)), requests=rows[-1]["requests"] * 1.05))
    c["Workload"] = rows
    c["Capex"] = [dict(r, economic_life_years=econ_years, depreciation_method=method) for r in c["Capex"]]
    write_scenario_workbook(path, c)
    return load_scenario(path)


def test_owned_vintages_with_replacements_equal_each_vintage_stepped_alone(tmp_path):
    """40 quarters, a 3-year economic life (vintages replaced inside the horizon and not) and double declining
    balance: the vintages are stepped in groups; each vintage stepped on its own gives the same bits."""
    sc = _owned_scenario(tmp_path / "s.xlsx", 40, 3.0, "declining_balance")
    run = run_model(sc)
    om = run.model.options["alternative-owned"]
    nbvs = [rows[9] for _, rows in om.vintage_blocks]
    assert len(nbvs) == 40 and all("net book value" in it.label for it in nbvs)
    vals = run.model.values()
    bought = [float(run.values[units]) for units, _ in om.vintage_blocks]
    assert sum(b > 0 for b in bought) >= 3  # growth and replacements: several vintages really hold hardware
    for it in nbvs[::3]:
        alone = evaluate([it], vals, periods=40)
        np.testing.assert_array_equal(run.values[it], alone[it])
    # and the tornado's metrics-only pass gives the values of a full evaluation
    metrics = [om.levelized, run.model.comparisons["alternative-owned"].npv]
    full = evaluate(metrics, vals, periods=40)
    only = evaluate(metrics, vals, periods=40, only=True)
    for m in metrics:
        np.testing.assert_array_equal(full[m], only[m])


def test_irr_of_flows_that_never_change_sign_is_an_error_and_the_others_unchanged():
    from tcomodel.sheet import excel_irr

    rows = np.array([[-100.0, 60.0, 60.0], [-100.0, -5.0, -5.0], [100.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                     [-100.0, 110.0, 0.0]])
    r = excel_irr(rows)[:, 0]
    # -100 + 60/(1+r) + 60/(1+r)^2 = 0  ->  1 + r = (60 + sqrt(60^2 + 4*100*60)) / 200
    np.testing.assert_allclose(r[0], (60 + np.sqrt(3600 + 24000)) / 200 - 1, rtol=1e-12)
    assert np.isnan(r[1:4]).all()
    np.testing.assert_allclose(r[4], 0.1, rtol=1e-12)
    np.testing.assert_array_equal(excel_irr(rows[:1])[:, 0], r[:1])  # alone or in a batch: the same bits


def _escaping_flows(rng, count, n):
    """Cash flows like the comparisons': a zero first quarter, then savings with a few negative quarters (a sign
    change, yet no rate where Newton from 0.1 converges: it runs off to an infinite rate), mixed with flows that
    have an IRR (an outlay, then returns) and random-sign ones."""
    rows = rng.uniform(1e3, 9e4, (count, n))
    rows[:, 0] = 0.0
    kind = rng.integers(0, 3, count)
    for i in np.flatnonzero(kind == 0):  # savings with a few loss quarters
        rows[i, rng.integers(2, n, 3)] *= -rng.uniform(0.1, 2.0)
    rows[kind == 1, 1] = -rng.uniform(1e5, 1e6, (kind == 1).sum())  # an outlay, then returns
    rows[kind == 2] *= rng.choice([-1.0, 1.0], ((kind == 2).sum(), n))
    return rows


def test_irr_escape_test_changes_no_result():
    """excel_irr drops Newton iterates that have escaped to an infinite rate (they can only end #NUM!) instead of
    running them to the last of the 20 steps: the results equal the full iteration's to the bit, and the escape test
    does fire on such flows."""
    import tcomodel.sheet.functions as functions

    rng = np.random.default_rng(7)
    rows = _escaping_flows(rng, 20_000, 21)
    fast = functions.excel_irr(rows)
    full = functions.excel_irr(rows, escapes=False)
    np.testing.assert_array_equal(fast, full)  # NaN where NaN, the same bits elsewhere
    assert 1_000 < np.isnan(full).sum() < 19_000 and np.isfinite(full).sum() > 1_000

    escaped = []
    gone = functions._Escape.gone
    try:
        functions._Escape.gone = lambda self, x: escaped.append(int(gone(self, x).sum())) or gone(self, x)
        functions.excel_irr(rows)
    finally:
        functions._Escape.gone = gone
    assert sum(escaped) > 1_000  # the test runs, and drops scenarios


@settings(max_examples=300, deadline=None)
@given(st.integers(3, 30), st.integers(0, 2**32 - 1), st.floats(1e-3, 1e6))
def test_irr_escape_test_changes_no_result_on_any_flows(n, seed, scale):
    import tcomodel.sheet.functions as functions

    rng = np.random.default_rng(seed)
    rows = _escaping_flows(rng, 64, n) * scale / 1e4
    rows[rng.random(rows.shape) < 0.1] = 0.0  # zero quarters anywhere, leading ones too
    np.testing.assert_array_equal(functions.excel_irr(rows), functions.excel_irr(rows, escapes=False))


_EDGE_FLOATS = st.one_of(
    st.floats(allow_infinity=False, allow_nan=False, width=64),
    st.sampled_from([0.0, -0.0, float("nan"), 1.0, -1.0, 1e308, -1e308, 5e-324, 2.0 ** -48, 3.0, 0.1]),
)


def _same_bits(x: float, y: float) -> bool:
    return (np.isnan(x) and np.isnan(y)) or (x == y and np.signbit(x) == np.signbit(y))


@settings(max_examples=1500, deadline=None)
@given(_EDGE_FLOATS, _EDGE_FLOATS, st.integers(-3, 3), st.booleans())
def test_one_cell_operations_equal_the_array_code(x, y, ulps, near):
    """+ - * / and the comparisons on one-cell operands (one scenario's scalars) take Python floats; each equals
    the array code (run here on a [1, 1] operand) to the bit, the sign of zero included, near-cancelling pairs
    (y = -x or x moved by a few units in the last place: the approximate-equality rule) included."""
    if near and np.isfinite(x):
        y = float(-np.nextafter(x, np.inf * np.sign(ulps or 1), dtype=float) if ulps else -x)
        y = float(y if ulps >= 0 else -y)  # both a - b and a + b near zero
    ops = [plan._add, plan._sub, plan._mul, plan._div] + [plan._COMPARES[op] for op in plan._COMPARES]
    for fn in ops:
        one = fn(np.array([x]), np.array([y]))
        arr = fn(np.array([[x]]), np.array([[y]]))
        assert one.shape == (1,) and arr.shape == (1, 1)
        assert _same_bits(float(one[0]), float(arr[0, 0])), (fn, x, y, one, arr)


def test_results_are_arrays_of_their_own():
    """evaluate hands out its own result arrays without copying them, but never an input's array, a constant, or
    one array for two items (SUM of one row returns its argument; two items of one expression share a register)."""
    from tcomodel.sheet import SUM
    x = np.arange(1.0, P + 1)
    a = item("a", "u", SUM(row_input("x")))
    b = item("b", "u", row_input("x") * inp("half"))
    c = item("c", "u", row_input("x") * inp("half"))
    k = item("k", "u", 0.0, per_period=True)
    res = evaluate([a, b, c, k], {"x": x, "half": np.array(0.5)})
    assert res[a] is not x and np.shares_memory(res[a], x) is False
    assert res[b] is not res[c] and not np.shares_memory(res[b], res[c])
    np.testing.assert_array_equal(res[b], x * 0.5)
    res[k][0] = 7.0  # writable, and not the engine's constant: a second evaluation still gives 0
    np.testing.assert_array_equal(evaluate([k], {}, periods=P)[k], np.zeros(P))


def test_compiled_engine_equals_the_tree_interpreter_on_every_line_item():
    """Two implementations of the same operations: the compiled plan (evaluate) and the tree interpreter that
    evaluate_over uses for report cells. Every line item of the default model, from its references' values, comes
    out the same to the bit (recurrences included: their whole-row form over their own stepped values)."""
    run = run_model(load_scenario(DEFAULT))
    m = run.model
    n = len(m.quarters)
    values = engine.evaluate(m.all_items(), m.values(), periods=n)
    checked = 0
    for it in engine.collect_items(m.all_items()):
        ev = engine._Evaluator(m.values(), n, ())
        for ref, _ in engine.iter_refs(it.expr):
            v = values[ref]
            ev.done[ref] = v if (ref.per_period or not ref.is_scalar) else v[..., None]
        out = ev.ev(it.expr, None)
        out = np.broadcast_to(out, (n,)) if (it.per_period or not it.is_scalar) else out[..., 0]
        first, stop = it.blank(n)
        if (first, stop) != (0, n):
            out = np.where((np.arange(n) >= first) & (np.arange(n) < stop), out, 0.0)
        np.testing.assert_array_equal(out, values[it], err_msg=it.label)
        checked += 1
    assert checked == len(values) > 900


def test_cells_evaluated_together_equal_each_cell_alone():
    """evaluate_over_items stacks the cells of one formula over different items: each value is evaluate_over's
    of that cell alone, bit for bit, where cells read cells before them (levels), rows and one-cell items mix, a
    constant's sign makes two formulas (0.0 and -0.0), a cell reads no item at all, and errors propagate."""
    year = timeline("year")
    rows = [item(f"r{i}", "u", row_input("x") * inp(f"k{i}") - i) for i in range(4)]
    one = item("one", "u", inp("k1") * 2.5)
    values = {"x": np.array([1.5, -2.0, 3.25, 0.1, 0.2, -0.3, 7.0, 1e300]), "year": np.repeat([2027.0, 2028.0], 4),
              "k0": 1.0, "k1": -3.0, "k2": np.nan, "k3": 1e10}
    known = evaluate(rows + [one], values, periods=P)
    cells = []
    years = [[item(f"y{i} {y}", "u", sumifs(r, year, Const(y))) for y in (2027.0, 2028.0)] for i, r in enumerate(rows)]
    for ys in years:
        cells += ys
    for i, (r, ys) in enumerate(zip(rows, years)):
        tot = item(f"tot{i}", "u", SUM(*ys))
        cum = item(f"cum{i} 2027", "u", ys[0] * 1)
        cells += [tot, item(f"check{i}", "u", total(r) - tot), cum, item(f"cum{i} 2028", "u", cum + ys[1]),
                  item(f"per{i}", "u", IFERROR(ys[0] / years[(i + 1) % 4][0] * MILLION, NA())),
                  item(f"zero{i}", "u", ys[1] * (Const(0.0) if i % 2 else Const(-0.0))),
                  item(f"scaled{i}", "u", (ys[0] + one) * inp("k0")),
                  item(f"row{i}", "u", prev(r, 0) + rows[0]), item(f"cmp{i}", "u", ys[0] > ys[1])]
    cells.append(item("no item", "u", Const(2.0) * 3))
    got = engine.evaluate_over_items(cells, known, P, values)
    alone = dict(known)
    for it in cells:
        v = engine.evaluate_over(it.expr, alone, P, values)
        alone[it] = v if (it.per_period or not it.is_scalar) else v.reshape(())
        assert got[it].shape == alone[it].shape and got[it].tobytes() == alone[it].tobytes(), it.label
    assert list(got) != cells and set(got) == set(cells)  # grouped by formula, not in the given order
    assert np.isnan(got[years[2][0]]) and got[cells[-1]] == 6.0
    assert np.signbit(got[next(c for c in cells if c.label == "zero0")])
    tot0 = next(c for c in cells if c.label == "tot0")
    with pytest.raises(SheetError, match="'y0 2027.0' used before it is computed"):
        engine.evaluate_over_items([tot0] + cells, known, P, values)
    # values of different shapes cannot be stacked (a 0-d scalar, a one-cell batch): those cells one at a time
    k1, k2 = item("k1", "u", inp("k1")), item("k2", "u", inp("k2"))
    pair = [item("twice k1", "u", k1 * 2), item("twice k2", "u", k2 * 2)]
    mixed = engine.evaluate_over_items(pair, {k1: np.float64(2.0), k2: np.array([3.0])}, P, values)
    assert mixed[pair[0]].tolist() == 4.0 and mixed[pair[1]].tolist() == [6.0]


def test_an_items_kept_reads_are_what_walking_its_expression_gives():
    """Item.reads (one walk, kept for the schedules) lists the references and the inputs iter_refs and iter_names
    give, in their order, on every line item of the default model (prev, aggregates over rows and row inputs)."""
    m = run_model(load_scenario(DEFAULT)).model
    items = engine.collect_items(m.all_items())
    kinds = set()
    for it in items:
        refs, names = it.reads
        assert refs == tuple(iter_refs(it.expr)) and names == tuple(iter_names(it.expr)), it.label
        assert it.reads is it.reads
        kinds.update(how for _, how in refs)
    assert kinds == {"same", "lag", "agg"} and len(items) > 900


def test_metrics_plan_sliced_from_the_models_gives_the_values_of_one_compiled_alone(monkeypatch):
    """The tornado's metrics-only evaluation runs the model plan's own ops that lead to the metrics (Plan.sliced),
    not a second compile: the tornado and the grid come out the same to the bit as with the metrics compiled on
    their own, and the slice holds about as many registers at once."""
    run = run_model(load_scenario(DEFAULT))
    tornado, grid = run.tornado, run.grid  # computed here, on first use (no report written: no child)
    m, P = run.model, len(run.model.quarters)
    metrics = plan.static_of(tuple(sensitivity._metric_items(run)), True)
    whole = plan.static_of(tuple(m.all_items()), False).plans[P]
    sliced = metrics.plans[P]  # made by the tornado's evaluation
    assert plan.covering_plan(metrics, P) is whole
    calls = [op for op in sliced.ops if op[0] != plan._FREE]
    assert {id(op) for op in calls} <= {id(op) for op in whole.ops} and len(calls) < len(whole.ops) / 2
    alone = plan.Plan(metrics, P)
    assert sliced.max_live <= 1.1 * alone.max_live  # the sweep sizes its chunks by this
    monkeypatch.setattr(engine, "covering_plan", lambda static, periods: None)
    metrics.plans.clear()
    tornado2, grid2 = sensitivity.tornado_and_grid(run)
    assert metrics.plans[P] is not sliced and len(metrics.plans[P].ops) == len(alone.ops)
    pairs = ((tornado.levelized, tornado2.levelized), (tornado.npv, tornado2.npv), (grid.levelized, grid2.levelized))
    for a, b in pairs:
        assert list(a) == list(b) and len(a) >= 3
        for k in a:
            assert a[k].tobytes() == b[k].tobytes(), k
    assert tornado.base_npv == tornado2.base_npv and grid.cheapest == grid2.cheapest


def test_recurrences_differing_only_in_a_constants_sign_are_not_stepped_together():
    """0.0 and -0.0 are two constants (x * -0.0 is -0.0): two recurrences that differ only there give, evaluated
    together, the bits each gives alone (they were stacked as one shape, and the second took the first's zero)."""
    r1 = item("r1", "u", lambda s: (prev(s, 1.0) + inp("x")) * Const(0.0))
    r2 = item("r2", "u", lambda s: (prev(s, 1.0) + inp("x")) * Const(-0.0))
    both = evaluate([r1, r2], {"x": 1.0}, periods=4)
    assert np.signbit(both[r1]).tolist() == [False] * 4 and np.signbit(both[r2]).tolist() == [True] * 4
    assert both[r2].tobytes() == evaluate([r2], {"x": 1.0}, periods=4)[r2].tobytes()


def test_metrics_are_not_sliced_where_the_slice_would_read_inputs_they_do_not():
    """Two recurrences of one shape are stepped together in a plan of both, so that plan's ops for one of them read
    the other's input too: an evaluation of the one alone is compiled on its own, needing (and broadcasting
    against) only its own inputs."""
    x, y = inp("x"), inp("y")
    a1, a2 = item("a1", "u", x * 2), item("a2", "u", y * 2)
    r1 = item("r1", "u", lambda s: prev(s, 0.0) * 1.1 + a1)
    r2 = item("r2", "u", lambda s: prev(s, 0.0) * 1.1 + a2)
    m1, m2 = item("m1", "u", total(r1)), item("m2", "u", total(r2))
    evaluate([a1, a2, r1, r2, m1, m2], {"x": 1.0, "y": 2.0}, periods=6)  # compiles (and caches) the plan of both
    whole = plan.static_of((a1, a2, r1, r2, m1, m2), False).plans[6]
    alone = plan.static_of((m1,), True)
    assert plan.covering_plan(alone, 6) is whole and plan.Plan.sliced(whole, alone) is None
    got = evaluate([m1], {"x": np.array([1.0, 2.0, 3.0])}, periods=6, only=True)[m1]  # no y given
    assert got.tolist() == evaluate([m1], {"x": np.array([1.0, 2.0, 3.0]), "y": 0.0}, periods=6)[m1].tolist()
    assert evaluate([m1], {"x": 1.0, "y": np.array([1.0, 2.0, 3.0])}, periods=6, only=True)[m1].shape == ()


def test_running_sum_equals_its_steps_including_cancellation_and_errors(monkeypatch):
    """x = prev(x, init) + e is one cumulative sum where that is exact, else the steps: the same row, bit for bit,
    as a recurrence the shortcut does not take, ((prev(x) + e) + 0), over rows that cancel to ~0 (the approximate-
    equality rule zeroes 0.1 + 0.2 - 0.3), carry an error (NaN), or overflow."""
    e = row_input("e")
    fast = item("fast", "u", lambda s: prev(s, inp("init")) + e)
    fast2 = item("fast2", "u", lambda s: e + prev(s, inp("init")))
    slow = item("slow", "u", lambda s: (prev(s, inp("init")) + e) + 0)
    rows = {
        "plain": [1.5, 2.0, -0.25, 3.0, 0.0, -1.0, 2.0, 4.0],
        "cancels": [0.1, 0.2, -0.3, 1.0, -1.0, 0.0, 2.5, -2.5],
        "error": [1.0, np.nan, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "overflow": [1e308, 1e308, -1e308, 1.0, 1.0, 1.0, 1.0, 1.0],
        "zeros": [-0.0, -0.0, 0.0, -0.0, 1.0, -1.0, -0.0, 0.0],
    }
    for name, row in rows.items():
        for init in (0.0, -0.0, 2.0):
            vals = {"e": np.array(row), "init": np.array(init)}
            res = evaluate([fast, fast2, slow], vals)
            for it in (fast, fast2):
                np.testing.assert_array_equal(res[it], res[slow], err_msg=name)
                assert not np.signbit(res[it][res[it] == 0]).any(), name  # +0.0, as the steps give
    res = evaluate([fast], {"e": np.array(rows["cancels"]), "init": np.array(0.0)})
    assert res[fast][2] == 0.0  # 0.1 + 0.2 - 0.3 is 5.6e-17 in binary; the spreadsheet rule makes it 0
    # the shortcut is taken where exact and falls back to the steps where not
    stepped = []
    real = plan.step_group
    monkeypatch.setattr(plan, "step_group", lambda state, R, group: (stepped.append(1), real(state, R, group)))
    for name, steps in (("plain", 0), ("cancels", 1), ("error", 1), ("overflow", 1)):
        stepped.clear()
        evaluate([fast], {"e": np.array(rows[name]), "init": np.array(0.0)})
        assert len(stepped) == steps, name
    # over a scenario axis too
    many = {"e": np.array([rows["plain"], rows["cancels"], rows["error"]]), "init": np.array([0.0, 1.0, 2.0])}
    res = evaluate([fast, slow], many)
    np.testing.assert_array_equal(res[fast], res[slow])


def _approx_equal_two_bounds(a, b):  # the rule as LibreOffice writes it: both bounds, compared apart
    d = np.abs(a - b)
    return (a == b) | ((d < np.abs(a) * 2.0 ** -48) & (d < np.abs(b) * 2.0 ** -48))


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True, width=64),
       st.integers(-3, 3), st.sampled_from([1.0, -1.0, 1 + 2.0 ** -52, 1 - 2.0 ** -50, 1 + 2.0 ** -47, 0.0, 2.0]))
def test_approx_equal_with_one_comparison_equals_the_rule(a, ulps, scale):
    """approx_equal compares |a - b| with the smaller magnitude's bound once; the same as both bounds apart, for
    NaN, infinities, zeros, subnormals and neighbours a few ulps apart."""
    from tcomodel.sheet.functions import approx_equal
    with np.errstate(all="ignore"):
        b = np.float64(a) * scale
        for _ in range(abs(ulps) if np.isfinite(b) else 0):
            b = np.nextafter(b, np.inf if ulps > 0 else -np.inf)
        x, y = np.array([a, b, -a]), np.array([b, a, b])
        np.testing.assert_array_equal(approx_equal(x, y), _approx_equal_two_bounds(x, y))


def test_an_infinite_input_is_an_error_like_any_other():
    """No spreadsheet cell holds an infinity: an infinite input is #NUM! (NaN) from the start, so inf - inf is an
    error too (never the 0 an approximate comparison of inf with inf would give)."""
    a, b = inp("a"), inp("b")
    d = item("d", "u", a - b)
    s = item("s", "u", a + b)
    res = evaluate([d, s], {"a": np.array([np.inf, 1.0]), "b": np.array([np.inf, -np.inf])}, periods=P)
    assert np.isnan(res[d]).all() and np.isnan(res[s]).all()
