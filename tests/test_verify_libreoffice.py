"""The test that keeps evaluate() and render() honest: LibreOffice recalculates the written workbook
and every formula cell must equal the engine's value (relative 1e-9). Needs soffice; fails if absent.

Three recalculations in all (~2 s each): the model itself, `tcomodel verify` on it, and a tampered copy.
"""

import shutil
import zipfile

import numpy as np
import pytest
import xlsxwriter
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.sheet import (
    CEILING, CHOOSE, HOURS_PER_QUARTER, IF, IFERROR, MAX, MILLION, MIN, MONTHS_PER_QUARTER, NA, ROUND,
    Layout, count_different, evaluate, index, inp, irr, item, match, npv, prev, row_input, sumproduct, timeline,
    total, write_block, write_inputs, write_period_header, write_rows, write_scalar, written_cells,
)
from tcomodel.verify import compare_values, recalculate, verify_report
from tcomodel.xlsxmanifest import record_formulas
from tcomodel.verify.mismatches import read_values

pytestmark = pytest.mark.libreoffice

P = 12


def build_model(path):
    """A small but real model: owned server with power, depreciation corkscrew, rented overflow,
    API alternative; cash flow NPV/IRR/payback. Returns (layout, results)."""
    I = {n: inp(n) for n in ("it_kw", "pue", "price_kwh", "capex", "life_q", "fee_month",
                              "capacity", "api_price", "disc_annual")}
    in_service, first, esc, qidx = (timeline(n) for n in ("in_service", "first", "esc", "qidx"))
    tokens = row_input("tokens")

    energy = item("Energy", "kWh", I["it_kw"] * I["pue"] * HOURS_PER_QUARTER * in_service)
    power = item("Power cost", "DKK", energy * I["price_kwh"] * esc)
    capex = item("Capex", "DKK", I["capex"] * first)
    nbv_open = item("NBV opening", "DKK", total=False)
    dep = item("Depreciation", "DKK", MIN(I["capex"] / I["life_q"], nbv_open + capex) * in_service)
    nbv_close = item("NBV closing", "DKK", nbv_open + capex - dep, total=False)
    nbv_open.define(prev(nbv_close, 0))
    replicas = item("Rented replicas", "#", MAX(CEILING(tokens / I["capacity"] - 1, 1), 0), total=False)
    rent = item("Rent", "DKK", replicas * I["fee_month"] * MONTHS_PER_QUARTER)
    cost = item("Total cost", "DKK", power + dep + rent)
    cpm = item("Cost per Mtok", "DKK/Mtok", IFERROR(cost / tokens * MILLION, NA()), total=False)
    api = item("API cost", "DKK", ROUND(tokens / MILLION * I["api_price"] * (1 + 0.01 * qidx), 2))
    cheaper = item("Own cheaper", "flag", IF(cost < api, 1, 0) * (qidx >= 2), total=False)
    cf = item("Cash flow vs API", "DKK", api - power - rent - capex)
    cum = item("Cumulative cash", "DKK", lambda s: prev(s, 0) + cf, total=False)
    paid = item("Paid back", "flag", cum >= 0, total=False)
    rate_q = item("Quarterly discount rate", "%", (1 + I["disc_annual"]) ** 0.25 - 1)
    # edge cases where a naive numpy port differs from spreadsheets: half rounding, 15-digit
    # correction, CEILING of negatives, approximate equality
    x = row_input("x")
    edges = [
        item("ROUND 2", "", ROUND(x, 2), total=False),
        item("ROUND 0", "", ROUND(x * 3, 0), total=False),
        item("CEILING", "", CEILING(x, 0.25), total=False),
        item("Equal", "", (x + 0.2).eq(0.3) + (x * 3 > 0.9) * 2, total=False),
        item("Guarded division", "", IFERROR(1 / (x - 0.5 * 0.2), -1), total=False),
        item("CHOOSE", "", CHOOSE(1 + (qidx > 6) + (qidx > 9), x, x * 2, -x), total=False),
    ]
    calc_items = [energy, power, capex, nbv_open, dep, nbv_close, replicas, rent, cost, cpm, api,
                  cheaper, cf, cum, paid, rate_q] + edges
    metrics = [
        item("Total cost, nominal", "DKK", total(cost)),
        item("NPV of switching", "DKK", npv(rate_q, cf)),
        item("IRR per quarter", "%", irr(cf)),
        item("Energy cost check", "DKK", sumproduct(energy, esc) * I["price_kwh"]),
        item("Cost in Q3", "DKK", index(cost, 3)),
        item("Payback quarter", "#", match(1, paid)),
        item("Cells rounding moves", "#", count_different(x, edges[0])),
    ]
    headline = item("NPV (link)", "DKK", metrics[1])

    values = {
        "it_kw": 1.2, "pue": 1.35, "price_kwh": 1.85, "capex": 250_000.0, "life_q": 16.0,
        "fee_month": 6_700.0, "capacity": 3.0e8, "api_price": 95.0, "disc_annual": 0.08,
        "in_service": np.r_[0.0, np.ones(P - 1)], "first": np.r_[1.0, np.zeros(P - 1)],
        "esc": 1.03 ** (np.arange(P) // 4), "qidx": np.arange(1.0, P + 1),
        "tokens": np.r_[0.0, np.linspace(2.0e8, 9.0e8, P - 1)],
        "x": np.array([2.675, -2.675, 1.005, 0.125, -2.5, 0.1, 0.3, 1e-9, 123456.785, -0.5, 0.0, 7.5]),
    }
    res = evaluate(calc_items + metrics + [headline], values)

    L = Layout(periods=P)
    wb = xlsxwriter.Workbook(str(path))
    fmt = {"input": wb.add_format({"font_color": "blue", "bg_color": "#FFFFCC"}),
           "header": wb.add_format({"bold": True})}
    ws_in, ws_time, ws_calc, ws_sum = (wb.add_worksheet(n) for n in ("Inputs", "Time", "Calc", "Key figures"))
    write_inputs(ws_in, L, [(n, n, "", values[n]) for n in I], start_row=2, formats=fmt)
    write_period_header(ws_time, L, 0, [f"Q{k + 1}" for k in range(P)], fmt)
    write_rows(ws_time, L, [(n, n, "", values[n]) for n in ("in_service", "first", "esc", "qidx", "tokens", "x")],
               start_row=2, formats=fmt)
    write_period_header(ws_calc, L, 0, [f"Q{k + 1}" for k in range(P)], fmt)
    nxt = write_block(ws_calc, calc_items, L, res, start_row=2, formats=fmt)
    write_block(ws_calc, metrics, L, res, start_row=nxt + 1, formats=fmt)
    write_scalar(ws_sum, headline, L, res, 2, 2)
    record_formulas(wb, "build")  # what tcomodel's writers add, so verify accepts the file
    wb.close()
    return L, res


@pytest.fixture(scope="module")
def model(tmp_path_factory, soffice_available):
    d = tmp_path_factory.mktemp("lo")
    path = d / "model.xlsx"
    L, res = build_model(path)
    return path, L, res


def test_libreoffice_recalculation_equals_engine(model, tmp_path):
    path, L, res = model
    before = path.read_bytes()
    out = recalculate(path, tmp_path / "out")
    assert path.read_bytes() == before  # input untouched
    recalc = read_values(out)
    cells = written_cells(L, formulas_only=True)
    assert len(cells) > 12 * 14
    bad = []
    for w in cells:
        got = recalc.get((w.sheet, w.cell))
        reason = compare_values(w.value, got, rel_tol=1e-9)
        if reason:
            bad.append((w.sheet, w.cell, w.formula, w.value, got, reason))
    assert not bad, "\n".join(map(str, bad[:20]))
    # the model really exercises the interesting paths
    assert ("Calc", "E12") in {(w.sheet, w.cell) for w in L.errors}  # cost per Mtok with 0 tokens
    assert recalc[("Calc", "E12")] == "#N/A"
    assert isinstance(recalc[("Key figures", "C3")], float)


def test_cli_verify_agrees(model):
    path, L, _ = model
    r = CliRunner().invoke(main, ["verify", str(path)])
    assert r.exit_code == 0, r.output
    n = len(written_cells(L, formulas_only=True))
    assert r.output.strip() == (f"{n} formula cells agree with LibreOffice within 1e-09; "
                                f"all {n} formulas as tcomodel build wrote them")


def test_verify_catches_wrong_cached_value(model, tmp_path):
    path, L, res = model
    bad = tmp_path / "tampered.xlsx"
    shutil.copy(path, bad)
    # rewrite one cached value inside the sheet XML (openpyxl would drop every cached value)
    target = next(w for w in written_cells(L, formulas_only=True) if w.sheet == "Calc" and w.cell == "G6")
    sheet_xml = "xl/worksheets/sheet3.xml"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == sheet_xml:
                text = data.decode()
                i = text.index('<c r="G6"')
                j = text.index("<v>", i) + 3
                k = text.index("</v>", j)
                assert float(text[j:k]) == pytest.approx(target.value)
                data = (text[:j] + repr(target.value * 1.001) + text[k:]).encode()
            zout.writestr(info, data)
    result = verify_report(bad)
    assert not result.ok
    assert [(m.sheet, m.cell) for m in result.mismatches] == [("Calc", "G6")]
    assert result.mismatches[0].recalculated == pytest.approx(target.value, rel=1e-9)
    r = CliRunner().invoke(main, ["verify", str(bad)])  # CLI path: exit 1 and the cell listed
    assert r.exit_code == 1
    assert "Calc!G6" in r.output


def test_cli_verify_missing_file_and_not_xlsx(tmp_path):
    r = CliRunner().invoke(main, ["verify", str(tmp_path / "nope.xlsx")])
    assert r.exit_code == 2 and "not found" in r.output
    txt = tmp_path / "x.xlsx"
    txt.write_text("hello")
    r = CliRunner().invoke(main, ["verify", str(txt)])
    assert r.exit_code == 2 and "not an .xlsx" in r.output


def test_cli_verify_without_libreoffice(model, monkeypatch):
    path, _, _ = model
    monkeypatch.setattr("tcomodel.verify.recalc.find_soffice", lambda: None)
    r = CliRunner().invoke(main, ["verify", str(path)])
    assert r.exit_code == 2
    assert "LibreOffice not found" in r.output and "libreoffice-calc-nogui" in r.output
