"""Rented servers as billed (issue 9, point 4): a fee in the provider's currency through FX, the VAT the
organisation cannot recover, a setup fee per server added to the contract, a minimum term and a
notice period. Every expected value is written out by hand here (relative 1e-9).

Conventions: needs change at quarter starts; notice is given at the start of the quarter in which the
need falls; a server still under contract (in its minimum term or notice) is taken back rather than a
new one rented; month j = 0, 1, 2 of a quarter.
"""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.errors import InputError
from tcomodel.inputs import load_scenario, write_scenario_workbook
from tests.helpers import column_of, find_row, mutate
from tests.test_finance_helpers import content, excel_npv, option, requests_for, run, workload_rows

REL = 1e-9
CAP, PEAK = 100.0, 1.0
FX_EUR = 7.46


def approx(x):
    return pytest.approx(x, rel=REL, abs=1e-9)


def needs(fleet):
    """Requests that make the servers needed equal ``fleet`` (peak demand / capacity = fleet - 0.5)."""
    return requests_for([n - 0.5 for n in fleet], CAP, PEAK)


def rental(oid="rent", **kw):
    row = {"option_id": oid, "fee_per_replica_per_month": 900.0, "setup_fee_per_replica": 600.0,
           "fee_escalation_annual": 0.0, "fee_is_assumption": "no", "currency": "EUR"}
    row.update(kw)
    return row


def scenario(fleet, rate=0.0, **kw):
    return content([option("rent", "rented_server")], workload_rows(needs(fleet), peak=PEAK), rate=rate,
                   fx={"EUR": FX_EUR}, rental=[rental(**kw)])


def test_eur_fee_vat_and_setup_per_server_added(tmp_path):
    # VAT 25%, 40% of it not recovered: prices cost 1 + 0.25 x 0.4 = 1.1 times the price ex VAT
    fleet = [1, 2, 1, 2, 3]
    r = run(tmp_path, scenario(fleet, vat_rate=0.25, vat_unrecoverable_share=0.4), {"rent": CAP})
    assert r.row("rent", "Replicas in service") == approx(fleet)
    months = np.array(fleet) * 3.0
    assert r.row("rent", "Server-months under contract") == approx(months)
    assert r.scalar(r.item("rent", "VAT not recovered, as a factor on prices ex VAT")) == approx(1.1)
    assert r.row("rent", "Server fees") == approx(months * 900.0 * 1.1 * 7.46)
    # no term, no notice: the shrink in quarter 3 ends a contract, so growing again pays setup again
    added = np.array([1, 1, 0, 1, 1])
    assert r.row("rent", "Servers added") == approx(added)
    assert r.row("rent", "Setup fees") == approx(added * 600.0 * 1.1 * 7.46)
    # quarter 1: 3 server-months x 900 EUR x 1.1 x 7.46 = 22,156.20 DKK; setup 600 x 1.1 x 7.46 = 4,923.60 DKK
    assert r.row("rent", "Server fees")[0] == approx(22156.2)
    assert r.row("rent", "Setup fees")[0] == approx(4923.6)
    om = r.model.options["rent"]
    assert r[om.cash_cost] == approx(months * 900.0 * 1.1 * 7.46 + added * 600.0 * 1.1 * 7.46)


def test_vat_fully_recovered_costs_the_price_ex_vat(tmp_path):
    r = run(tmp_path, scenario([1, 1], vat_rate=0.25, vat_unrecoverable_share=0.0), {"rent": CAP})
    assert r.row("rent", "Server fees") == approx([3 * 900.0 * 7.46] * 2)


def test_minimum_term_keeps_servers_paid_after_the_need_falls(tmp_path):
    # a 7-month term: a server added at the start of quarter s is paid through month 0 of quarter s + 2
    fleet = [1, 3, 1, 1, 1, 2]
    r = run(tmp_path, scenario(fleet, minimum_term_months=7), {"rent": CAP})
    added = [1, 2, 0, 0, 0, 1]
    assert r.row("rent", "Servers added") == approx(added)
    # q2: 3 needed, all in term. q3: 1 needed; in term: q2's two (months 3-5 of 7) and q1's one in month 0
    # only (month 6 of 7) -> 3, 2, 2. q4: q2's two in month 0 (month 6 of 7) -> 2, 1, 1. q6: one added.
    assert r.row("rent", "Servers under contract, month 1 of the quarter") == approx([1, 3, 3, 2, 1, 2])
    assert r.row("rent", "Servers under contract, month 2 of the quarter") == approx([1, 3, 2, 1, 1, 2])
    assert r.row("rent", "Servers under contract, month 3 of the quarter") == approx([1, 3, 2, 1, 1, 2])
    months = np.array([3, 9, 7, 4, 3, 6], dtype=float)
    assert r.row("rent", "Server-months under contract") == approx(months)
    assert r.row("rent", "Server fees") == approx(months * 900.0 * 7.46)
    assert r.row("rent", "Setup fees") == approx(np.array(added) * 600.0 * 7.46)
    # in service stays the need: utilization is measured against the servers that serve
    assert r.row("rent", "Replicas in service") == approx(fleet)


def test_minimum_term_of_a_quarter_or_less_never_binds(tmp_path):
    r = run(tmp_path, scenario([2, 1, 2], minimum_term_months=3), {"rent": CAP})
    assert r.row("rent", "Server-months under contract") == approx([6, 3, 6])
    assert r.row("rent", "Servers added") == approx([2, 0, 1])


def test_minimum_term_longer_than_the_horizon(tmp_path):
    # 60 months over 4 quarters: nothing added ever leaves the contract
    r = run(tmp_path, scenario([2, 1, 3, 1], minimum_term_months=60), {"rent": CAP})
    assert r.row("rent", "Server-months under contract") == approx([6, 6, 9, 9])
    assert r.row("rent", "Servers added") == approx([2, 0, 1, 0])


def test_notice_period(tmp_path):
    # 4 months' notice: a server released at the start of quarter t is paid in t and in month 0 of t + 1
    fleet = [3, 1, 1, 2, 1, 3]
    r = run(tmp_path, scenario(fleet, notice_months=4), {"rent": CAP})
    assert r.row("rent", "Servers under contract, month 1 of the quarter") == approx([3, 3, 3, 2, 2, 3])
    assert r.row("rent", "Servers under contract, month 2 of the quarter") == approx([3, 3, 1, 2, 2, 3])
    assert r.row("rent", "Servers under contract, month 3 of the quarter") == approx([3, 3, 1, 2, 2, 3])
    months = np.array([9, 9, 5, 6, 6, 9], dtype=float)
    assert r.row("rent", "Server-months under contract") == approx(months)
    # q6 needs 3 while 2 are still under contract (one in its notice): one is taken back, one is added
    added = [3, 0, 0, 1, 0, 1]
    assert r.row("rent", "Servers added") == approx(added)
    assert r.row("rent", "Server fees") == approx(months * 900.0 * 7.46)
    assert r.row("rent", "Setup fees") == approx(np.array(added) * 600.0 * 7.46)


def test_term_and_notice_together(tmp_path):
    # 7-month term, 1 month's notice. q1 adds 2; q2 needs 1: both still in term (months 3-5 of 7);
    # q3 needs 1: q1's two in term in month 0 only (month 6 of 7). q4 needs 2: one added (q3 ends with
    # 1 under contract). q5 needs 1: q4's server (in term) serves it; the other, past its term, is
    # released and paid one month of notice.
    fleet = [2, 1, 1, 2, 1]
    r = run(tmp_path, scenario(fleet, minimum_term_months=7, notice_months=1), {"rent": CAP})
    assert r.row("rent", "Servers added") == approx([2, 0, 0, 1, 0])
    assert r.row("rent", "Servers under contract, month 1 of the quarter") == approx([2, 2, 2, 2, 2])
    assert r.row("rent", "Servers under contract, month 2 of the quarter") == approx([2, 2, 1, 2, 1])
    assert r.row("rent", "Servers under contract, month 3 of the quarter") == approx([2, 2, 1, 2, 1])
    assert r.row("rent", "Server-months under contract") == approx([6, 6, 4, 6, 4])


def test_breakeven_fee_makes_the_tco_equal(tmp_path):
    # the fee units carry index x VAT factor x FX, so the breakeven fee is in EUR ex VAT
    fleet = [1, 3, 1, 2, 2, 1]
    rate = 0.06
    eur = rental("rent", fee_escalation_annual=0.05, vat_rate=0.25, vat_unrecoverable_share=0.4,
                 minimum_term_months=7, notice_months=2)
    dkk = {"option_id": "dkk", "fee_per_replica_per_month": 8000.0, "setup_fee_per_replica": 0.0,
           "fee_is_assumption": "yes", "currency": "DKK"}

    def scen(fee):
        return content([option("rent", "rented_server"), option("dkk", "rented_server")],
                       workload_rows(needs(fleet), peak=PEAK), rate=rate, fx={"EUR": FX_EUR},
                       rental=[dict(eur, fee_per_replica_per_month=fee), dkk])

    r = run(tmp_path, scen(900.0), {"rent": CAP, "dkk": CAP})
    rq = (1 + rate) ** 0.25 - 1
    # term binds q3 (q1's and q2's servers) and q4 month 0; 2 months' notice binds months 0-1 after a fall
    months = np.array([3, 9, 8, 6, 6, 5], dtype=float)
    assert r.row("rent", "Server-months under contract") == approx(months)
    units = months * np.array([1.05 ** ((q - 1) / 4) for q in range(1, 7)]) * 1.1 * 7.46
    assert r.row("rent", "Fee units (server-months x index x VAT factor x FX)") == approx(units)
    be = {it.name: it for s in r.model.breakeven for it in s.items}
    pv_rent, pv_dkk = r.scalar(r.model.options["rent"].tco_pv), r.scalar(r.model.options["dkk"].tco_pv)
    fee_be = r.scalar(be["breakeven_fee:rent:dkk"])
    assert fee_be == approx(900.0 + (pv_dkk - pv_rent) / excel_npv(rq, units))
    assert be["breakeven_fee:rent:dkk"].unit == "EUR/month ex VAT"
    r2 = run(tmp_path, scen(fee_be), {"rent": CAP, "dkk": CAP})
    assert r2.scalar(r2.model.options["rent"].tco_pv) == pytest.approx(pv_dkk, rel=1e-9)
    # and the other way round: the DKK row's breakeven fee against the EUR row
    fee_dkk = r.scalar(be["breakeven_fee:dkk:rent"])
    r3 = run(tmp_path, content([option("rent", "rented_server"), option("dkk", "rented_server")],
                               workload_rows(needs(fleet), peak=PEAK), rate=rate, fx={"EUR": FX_EUR},
                               rental=[eur, dict(dkk, fee_per_replica_per_month=fee_dkk)]),
             {"rent": CAP, "dkk": CAP})
    assert r3.scalar(r3.model.options["dkk"].tco_pv) == pytest.approx(pv_rent, rel=1e-9)


def test_old_workbook_without_the_new_columns_loads(tmp_path):
    path = tmp_path / "old.xlsx"
    write_scenario_workbook(path, scenario([1, 2]))

    def drop(wb):
        ws = wb["Rental"]
        for name in ("notice_months", "minimum_term_months", "vat_unrecoverable_share", "vat_rate"):
            ws.delete_cols(ws[f"{column_of(ws, name)}1"].column)

    old = mutate(path, tmp_path / "old-format.xlsx", drop)
    sc = load_scenario(old)
    rec = sc.rental["rent"]
    assert (rec.vat_rate, rec.vat_unrecoverable_share, rec.minimum_term_months, rec.notice_months) == (None,) * 4


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_vat_share_outside_unit_interval_is_refused(tmp_path, value):
    path = tmp_path / "s.xlsx"
    write_scenario_workbook(path, scenario([1, 2]))

    def edit(wb):
        ws = wb["Rental"]
        ws[f"{column_of(ws, 'vat_unrecoverable_share')}{find_row(ws, 'A', 'rent')}"] = value

    bad = mutate(path, tmp_path / "bad.xlsx", edit)
    ws = openpyxl.load_workbook(bad)["Rental"]
    cell = f"Rental!{column_of(ws, 'vat_unrecoverable_share')}{find_row(ws, 'A', 'rent')}"
    with pytest.raises(InputError) as exc:
        load_scenario(bad)
    assert any(f"{p.sheet}!{p.cell}" == cell for p in exc.value.problems), str(exc.value)
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert any(ln.startswith(cell + ":") and "is not between 0 and 1" in ln for ln in result.output.splitlines()), result.output
    out = tmp_path / "report.xlsx"
    result = CliRunner().invoke(main, ["build", str(bad), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()


@pytest.mark.libreoffice
def test_contract_rows_recalculate_in_libreoffice(tmp_path, soffice_available):
    from tcomodel.api import build
    from tcomodel.verify import verify_report

    fleet = [1, 3, 1, 2, 2, 1]
    c = content([option("rent", "rented_server", measured_output_tok_s_per_replica=CAP)],
                workload_rows(needs(fleet), peak=PEAK), rate=0.05, fx={"EUR": FX_EUR},
                rental=[rental(vat_rate=0.25, vat_unrecoverable_share=0.4, minimum_term_months=7, notice_months=4,
                               fee_escalation_annual=0.03)])
    src = tmp_path / "s.xlsx"
    write_scenario_workbook(src, c)
    report = tmp_path / "r.xlsx"
    run_ = build(src, xlsx_path=report)
    om = run_.model.options["rent"]
    labels = [it.label for s in om.sections for it in s.items]
    assert "Most servers needed, this and 2 quarter(s) before" in labels
    assert "Servers added 2 quarter(s) before" in labels
    res = verify_report(report, cases=False)
    assert res.formula_cells > 0 and not res.mismatches, res.mismatches[:5]


def test_sweep_refuses_to_sample_the_contract_structure(tmp_path):
    # the minimum term and notice set the number of contract rows: a Ranges row on them exits 2 with its cell
    c = scenario([1, 2, 1], minimum_term_months=6)
    c["Ranges"] = [{"sheet": "Rental", "row_id": "rent", "field": "minimum_term_months", "low": 3.0, "high": 12.0,
                    "distribution": "uniform", "source": "test"}]
    path = tmp_path / "s.xlsx"
    write_scenario_workbook(path, c)
    out = tmp_path / "sweep.xlsx"
    res = CliRunner().invoke(main, ["sweep", str(path), "--samples", "10", "-o", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "Ranges!C3: " in res.output and "structure" in res.output, res.output
    assert not out.exists()
