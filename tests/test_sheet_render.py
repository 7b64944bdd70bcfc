"""Rendered formula text, checked by hand against the layout below.

Layout: periods start in column E (index 4); Inputs!C3 price, Inputs!C4 opening balance,
'My Inputs'!C5 discount rate; Time row 4 (0-based 3) in-service flag, Time row 5 escalation;
Workload row 6 tokens; Calc rows 11.. the items in order.
"""

import pytest
from hypothesis import given, settings, strategies as st

from tcomodel.sheet import (
    CEILING, HOURS_PER_QUARTER, IF, IFERROR, MAX, MIN, NA, ROUND, SUM, Layout, SheetError, index,
    inp, irr, item, match, npv, prev, render, render_total, row_input, sumproduct, timeline, total,
)

price, opening_bal, rate = inp("price"), inp("open"), inp("rate")
tokens, flag, esc = row_input("tokens"), timeline("in_service"), timeline("esc")


@pytest.fixture
def layout():
    L = Layout(periods=4)
    L.add_input("price", "Inputs", "C3")
    L.add_input("open", "Inputs", "C4")
    L.add_input("rate", "My Inputs", (4, 2))
    L.add_row("in_service", "Time", 3)
    L.add_row("esc", "Time", 4)
    L.add_row("tokens", "Workload", 5)
    return L


def test_inputs_absolute_rows_relative(layout):
    a = item("Energy", "kWh", tokens * price * flag * HOURS_PER_QUARTER)
    layout.place(a, "Calc", 10)
    assert render(a, 0, layout, "Calc") == "=Workload!E$6*Inputs!$C$3*Time!E$4*2191.5"
    assert render(a, 2, layout, "Calc") == "=Workload!G$6*Inputs!$C$3*Time!G$4*2191.5"
    # on the Inputs sheet itself no sheet prefix
    assert render(a, 0, layout, "Inputs") == "=Workload!E$6*$C$3*Time!E$4*2191.5"


def test_same_sheet_items_and_quoting(layout):
    a = item("A", "x", tokens * 2)
    b = item("B", "x", a * rate + 1)
    layout.place(a, "Calc", 10)
    layout.place(b, "Calc", 11)
    assert render(b, 1, layout, "Calc") == "=F11*'My Inputs'!$C$5+1"
    assert render(b, 1, layout, "Other sheet") == "=Calc!F11*'My Inputs'!$C$5+1"


def test_corkscrew_prev_first_period_renders_init(layout):
    adds = item("Additions", "DKK", tokens)
    reds = item("Reductions", "DKK", tokens * 0.5)
    close = item("Closing", "DKK", lambda s: prev(s, opening_bal) + adds - reds)
    opening = item("Opening", "DKK", prev(close, opening_bal))
    for k, it in enumerate([opening, adds, reds, close]):
        layout.place(it, "Calc", 10 + k)
    assert render(opening, 0, layout, "Calc") == "=Inputs!$C$4"
    assert render(opening, 3, layout, "Calc") == "=G14"
    assert render(close, 0, layout, "Calc") == "=Inputs!$C$4+E12-E13"
    assert render(close, 1, layout, "Calc") == "=E14+F12-F13"
    z = item("Zero start", "DKK", lambda s: prev(s) + 1)
    layout.place(z, "Calc", 20)
    assert render(z, 0, layout, "Calc") == "=0+1"


def test_precedence_and_functions(layout):
    a = item("A", "x", tokens)
    layout.place(a, "Calc", 10)
    cases = [
        ((a + 1) * 2, "=(E11+1)*2"),
        (a - (a - 1), "=E11-(E11-1)"),
        (a / (a * 2), "=E11/(E11*2)"),
        (-(a ** 2), "=-(E11^2)"),
        ((-a) ** 2, "=(-E11)^2"),
        (a * -3, "=E11*(-3)"),
        (a > 5, "=(E11>5)*1"),
        (a.eq(price), "=(E11=Inputs!$C$3)*1"),
        ((a + 1 >= 2) * esc, "=(E11+1>=2)*1*Time!E$5"),
        (IF(a > 0, a, 0), "=IF(E11>0,E11,0)"),
        (MIN(a, 3, price), "=MIN(E11,3,Inputs!$C$3)"),
        (MAX(a, 0), "=MAX(E11,0)"),
        (SUM(a, 1), "=SUM(E11,1)"),
        (ROUND(a * 1.5, 2), "=ROUND(E11*1.5,2)"),
        (CEILING(a / 7, 1), "=CEILING(E11/7,1)"),
        (IFERROR(1 / a, NA()), "=IFERROR(1/E11,NA())"),
        (a * 1e6, "=E11*1000000"),
        (a * 1e-6, "=E11*1E-06"),
    ]
    for k, (expr, want) in enumerate(cases):
        it = item(f"i{k}", "x", expr)
        layout.place(it, "Calc", 30 + k)
        assert render(it, 0, layout, "Calc") == want


def test_aggregates_and_scalar_items(layout):
    cf = item("Cash flow", "DKK", tokens - 3)
    layout.place(cf, "Calc", 10)
    rq = item("Quarterly rate", "%", (1 + rate) ** 0.25 - 1)
    tot = item("Total", "DKK", total(cf))
    n = item("NPV", "DKK", npv(rq, cf) + 5)
    i = item("IRR", "%", irr(cf))
    sp = item("SP", "DKK", sumproduct(cf, esc))
    ix = item("Third", "DKK", index(cf, 3))
    m = item("First zero", "#", match(0, cf))
    for k, it in enumerate([rq, tot, n, i, sp, ix, m]):
        assert it.is_scalar
        layout.place(it, "Calc", 20 + k)
    assert render(rq, None, layout, "Calc") == "=(1+'My Inputs'!$C$5)^0.25-1"
    assert render(tot, None, layout, "Calc") == "=SUM($E$11:$H$11)"
    assert render(n, None, layout, "Calc") == "=NPV($C$21,$E$11:$H$11)+5"
    assert render(i, None, layout, "Calc") == "=IRR($E$11:$H$11)"
    assert render(sp, None, layout, "Calc") == "=SUMPRODUCT($E$11:$H$11,Time!$E$5:$H$5)"
    assert render(ix, None, layout, "Calc") == "=INDEX($E$11:$H$11,3)"
    assert render(m, None, layout, "Calc") == "=MATCH(0,$E$11:$H$11,0)"
    # a scalar item used in a period row is an absolute reference; a link from another sheet too
    per = item("Discounted", "DKK", cf * rq)
    layout.place(per, "Calc", 40)
    assert render(per, 2, layout, "Calc") == "=G11*$C$21"
    link = item("NPV link", "DKK", n)
    layout.place(link, "Key figures", 3, 2)
    assert render(link, None, layout, "Key figures") == "=Calc!$C$23"
    assert render_total(cf, layout, "Calc") == "=SUM(E11:H11)"


def test_errors(layout):
    a = item("A", "x", tokens)
    with pytest.raises(SheetError, match="not placed"):
        render(item("B", "x", a + 1), 0, layout, "Calc")
    with pytest.raises(SheetError, match="needs a row"):
        total(a + 1)
    with pytest.raises(SheetError, match="no cell"):
        render(item("C", "x", inp("nope") * 1), None, layout, "Calc")


def test_function_table_is_the_one_place(layout, monkeypatch):
    """A function added to sheet.functions.FUNCTIONS is built, evaluated and rendered with no other edit."""
    import numpy as np

    from tcomodel.sheet import FUNCTIONS, Fn, evaluate
    from tcomodel.sheet.expr import Func

    monkeypatch.setitem(FUNCTIONS, "ABS", Fn((1, 1), np.abs, "ABS"))
    a = item("A", "x", tokens - 3)
    b = item("B", "x", Func("ABS", a) * 2)
    layout.place(a, "Calc", 10)
    layout.place(b, "Calc", 11)
    assert render(b, 1, layout, "Calc") == "=ABS(F11)*2"
    np.testing.assert_array_equal(evaluate([b], {"tokens": [1.0, 5.0]})[b], [4.0, 4.0])
    with pytest.raises(SheetError, match="1..1 arguments"):
        Func("ABS", a, a)
    with pytest.raises(SheetError, match="not an elementwise"):
        Func("NPV", a)  # an aggregate is not a per-period function
    with pytest.raises(SheetError, match="not an elementwise"):
        Func("XLOOKUP", a)


@settings(max_examples=500, deadline=None)
@given(st.integers(-2, 1_048_576), st.integers(-2, 20_000), st.booleans(), st.booleans())
def test_cell_ref_is_xlsxwriters(row, col, row_abs, col_abs):
    import warnings

    from xlsxwriter.utility import xl_rowcol_to_cell

    from tcomodel.sheet.render import cell_ref

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # xlsxwriter warns of a negative row or column, and returns ''
        assert cell_ref(row, col, row_abs, col_abs) == xl_rowcol_to_cell(row, col, row_abs, col_abs)
