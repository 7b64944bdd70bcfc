"""The engine's depreciation schedules, NPV and IRR against LibreOffice's SLN, SYD, DDB, NPV and IRR
(and against numpy-financial), on the same cost, salvage, life and cash flows.

One workbook, one recalculation (~2 s). LibreOffice is required: the test fails, not skips, without it.
"""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import openpyxl
import pytest
import xlsxwriter

from tcomodel.verify.recalc import recalculate
from tests.test_finance_helpers import content, option, requests_for, run, workload_rows

pytestmark = pytest.mark.libreoffice

N = 9  # quarters; longer than every book life below
RATE = 0.08
CASES = {  # option id: (method, life in quarters, salvage share)
    "own-sl": ("straight_line", 7, 0.15),
    "own-syd": ("sum_of_years", 6, 0.15),
    "own-ddb": ("declining_balance", 7, 0.15),
    "own-ddb-short": ("declining_balance", 3, 0.40),  # 2/3 a quarter would cross salvage in quarter 1
}
SERVER, GPU = 100000.0, 23456.78  # cost per replica 123,456.78 DKK


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    cap = 100.0
    R = requests_for([0.5] * N, cap, 1.0)  # one replica all along: one vintage per option
    capex = [{"option_id": oid, "server_cost_per_replica": SERVER, "gpu_cost_per_replica": GPU,
              "depreciation_method": m, "book_life_years": life / 4, "salvage_share": s, "currency": "DKK"}
             for oid, (m, life, s) in CASES.items()]
    opex = [{"option_id": oid, "power_kw_per_replica": 1.0, "load_factor": 0.8, "pue": 1.3,
             "power_price_per_kwh": 1.7, "currency": "DKK"} for oid in CASES]
    c = content([option("rent", "rented_server")] + [option(oid, "owned") for oid in CASES], workload_rows(R),
                rate=RATE, tax=0.22, baseline="rent",
                rental=[{"option_id": "rent", "fee_per_replica_per_month": 9000.0, "currency": "DKK"}],
                capex=capex, opex=opex)
    return run(tmp_path_factory.mktemp("engine"), c, {oid: cap for oid in ["rent", *CASES]})


@pytest.fixture(scope="module")
def libreoffice(engine, tmp_path_factory, soffice_available):
    """Write SLN/SYD/DDB per period and NPV/IRR of each comparison's flows; recalculate; read back."""
    d = tmp_path_factory.mktemp("lo")
    src = d / "in" / "finance_functions.xlsx"
    src.parent.mkdir()
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("F")
    cells: dict = {}
    row = 0
    for oid, (method, life, salvage) in CASES.items():
        cost = SERVER + GPU
        ws.write_string(row, 0, oid)
        ws.write_number(row, 1, cost)
        ws.write_number(row, 2, cost * salvage)
        ws.write_number(row, 3, life)
        ref = f"$B${row + 1},$C${row + 1},$D${row + 1}"
        fn = {"straight_line": lambda p: f"=SLN({ref})", "sum_of_years": lambda p: f"=SYD({ref},{p})",
              "declining_balance": lambda p: f"=DDB({ref},{p})"}[method]
        for p in range(1, life + 1):
            ws.write_formula(row, 3 + p, fn(p))
            cells[(oid, p)] = (row + 1, 4 + p)
        row += 1
    ws.write_string(row, 0, "quarterly rate")
    ws.write_formula(row, 1, f"=(1+{RATE})^(1/4)-1")
    rate_row = row + 1
    row += 1
    for oid, cmp in engine.model.comparisons.items():
        cf = engine[cmp.incremental_cf]
        ws.write_string(row, 0, f"saving {oid}")
        for t, v in enumerate(cf):
            ws.write_number(row, 3 + t, float(v))
        first, last = xlsxwriter.utility.xl_rowcol_to_cell(row, 3), xlsxwriter.utility.xl_rowcol_to_cell(row, 2 + N)
        ws.write_formula(row, 1, f"=NPV($B${rate_row},{first}:{last})")
        ws.write_formula(row, 2, f"=IRR({first}:{last})")
        cells[("npv", oid)] = (row + 1, 2)
        cells[("irr", oid)] = (row + 1, 3)
        row += 1
    wb.close()
    out = recalculate(src, d / "out")
    got = openpyxl.load_workbook(out, data_only=True)["F"]
    return {k: got.cell(row=r, column=c).value for k, (r, c) in cells.items()}


def test_depreciation_matches_libreoffice_sln_syd(engine, libreoffice):
    for oid in ("own-sl", "own-syd"):
        method, life, salvage = CASES[oid]
        dep = engine.row(oid, "Vintage 1: depreciation")
        lo = [libreoffice[(oid, p)] for p in range(1, life + 1)]
        assert all(isinstance(x, float) and x > 0 for x in lo), f"{oid}: not recalculated: {lo}"
        assert dep[:life] == pytest.approx(lo, rel=1e-9), oid
        assert dep[life:] == pytest.approx([0.0] * (N - life), abs=1e-9)


def test_declining_balance_matches_libreoffice_ddb_with_the_last_period_to_salvage(engine, libreoffice):
    for oid in ("own-ddb", "own-ddb-short"):
        method, life, salvage = CASES[oid]
        cost = SERVER + GPU
        dep = engine.row(oid, "Vintage 1: depreciation")
        lo = [libreoffice[(oid, p)] for p in range(1, life + 1)]
        assert all(isinstance(x, (int, float)) for x in lo), f"{oid}: not recalculated: {lo}"
        assert lo[0] > 0
        assert dep[: life - 1] == pytest.approx(lo[: life - 1], rel=1e-9, abs=1e-9)
        assert dep[life - 1] == pytest.approx(cost - cost * salvage - sum(dep[: life - 1]), rel=1e-9, abs=1e-9)
        assert engine.row(oid, "Vintage 1: net book value, closing")[life - 1:] == pytest.approx(
            [cost * salvage] * (N - life + 1), rel=1e-9)


def test_npv_and_irr_of_the_comparisons_match_libreoffice_and_numpy_financial(engine, libreoffice):
    r_q = (1 + RATE) ** 0.25 - 1
    checked_irr = 0
    for oid, cmp in engine.model.comparisons.items():
        cf = engine[cmp.incremental_cf]
        npv = engine.scalar(cmp.npv)
        assert npv == pytest.approx(libreoffice[("npv", oid)], rel=1e-9)
        assert npv == pytest.approx(npf.npv(r_q, np.r_[0.0, cf]), rel=1e-9)  # Excel's NPV discounts cf1
        irr = engine.scalar(cmp.irr_quarterly)
        assert cf[0] < 0  # the servers are bought in quarter 1
        assert irr == pytest.approx(libreoffice[("irr", oid)], rel=1e-9)
        assert irr == pytest.approx(npf.irr(cf), rel=1e-9)
        checked_irr += 1
    assert checked_irr == len(CASES)
