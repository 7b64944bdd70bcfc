"""Cloud GPUs priced as they are bought: reservations in whole replicas for a 1- or 3-year term at a
rate fixed for the term (renewed at the then-current rate while a whole term fits), upfront payments
as cash in the term's first quarter with the P&L spread evenly, and the replica-hours beyond the
reservation on spot or on demand in whole replicas, at rates that follow the trend every quarter.

Every expected value is arithmetic written out here (HOURS_PER_QUARTER = 2191.5, index (1 + g)^((q-1)/4)).
The scenarios are 8 quarters, rates falling 20% a year, USD at 6.5 DKK, TP=2 replicas (2 GPUs each).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from tcomodel.cli import main
from tcomodel.errors import InputError
from tcomodel.inputs import load_scenario, write_scenario_workbook
from tcomodel.inputs.schema import CLOUD_RATES
from tests.test_finance_helpers import HOURS_PER_QUARTER, content, option, requests_for, run, workload_rows

H = HOURS_PER_QUARTER
CAP, GPUS, FX = 100.0, 2, 6.5
# average replicas busy per quarter (peak = average): replica-hours = max(ratio, 1) x 2191.5
RATIOS = [0.5, 1.5, 2.25, 1.0, 0.8, 1.6, 2.5, 3.0]
REPLICAS = np.maximum(RATIOS, 1.0)
TREND = 0.8 ** (np.arange(8) / 4)  # on-demand and spot rate index, -20% a year
OD, RES, SPOT = 4.0, 2.5, 1.5


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-6)


def scenario(**cloud):
    row = {"option_id": "cloud", "on_demand_per_gpu_hour": OD, "reserved_per_gpu_hour": RES, "spot_per_gpu_hour": SPOT,
           "reserved_replicas": 1, "commitment_term_years": 1, "upfront": "none", "spot_share": 0.4,
           "spot_interruption_overhead": 0.1, "rate_escalation_annual": -0.2, "currency": "USD"}
    row.update(cloud)
    return content([option("cloud", "cloud_gpu", gpus_per_replica=GPUS)],
                   workload_rows(requests_for(RATIOS, CAP, 1.0)), fx={"USD": FX}, cloud=[row])


def beyond_cost(beyond_rh):
    """Spot (40%, +10% interruption overhead) and on-demand (60%) cost of replica-hours beyond the reservation."""
    return (beyond_rh * 0.4 * 1.1 * SPOT + beyond_rh * 0.6 * OD) * GPUS * TREND * FX


# reserved cost of one TP=2 replica per quarter: 2191.5 h x 2 GPUs x 2.5 USD x 6.5 = 71,223.75 DKK at the
# year-1 rate; the renewal in quarter 5 is at the index of quarter 5, 0.8: 56,979.00 DKK
YEAR1, YEAR2 = 71223.75, 56979.0
RESERVED_PL = np.array([YEAR1] * 4 + [YEAR2] * 4)


def test_one_reserved_replica_one_year_no_upfront(tmp_path):
    r = run(tmp_path, scenario(), {"cloud": CAP})
    assert 2191.5 * 2 * 2.5 * 6.5 == YEAR1 and YEAR1 * 0.8 == pytest.approx(YEAR2)
    assert r.row("cloud", "Reservation term number (0 = before the first)") == approx([1, 1, 1, 1, 2, 2, 2, 2])
    assert r.row("cloud", "First quarter of a reservation term") == approx([1, 0, 0, 0, 1, 0, 0, 0])
    # the contract rate is the index of the term's first quarter, not the quarterly trend
    assert r.row("cloud", "Reserved rate index (fixed at the term's first quarter)") == approx([1] * 4 + [0.8] * 4)
    assert r.row("cloud", "Rate index (on-demand and spot)") == approx(TREND)
    assert r.row("cloud", "Reserved replicas") == approx([1] * 8)
    assert r.row("cloud", "Reserved cost (P&L: the term's cost spread evenly)") == approx(RESERVED_PL)
    beyond = (REPLICAS - 1) * H
    assert beyond / H == approx([0, 0.5, 1.25, 0, 0, 0.6, 1.5, 2.0])
    om = r.model.options["cloud"]
    cost = RESERVED_PL + beyond_cost(beyond)
    assert r[om.pl_cost] == approx(cost)
    assert r[om.cash_cost] == approx(cost)  # no upfront: cash = P&L
    # quarter 6 written out: 0.6 x 2191.5 = 1,314.9 replica-h beyond the reservation; spot 1,314.9 x 0.4 x 1.1
    # = 578.556, on demand 1,314.9 x 0.6 = 788.94 replica-h; 2 GPUs each; trend 0.8^(5/4)
    q6 = 56979.0 + (578.556 * 2 * 1.5 + 788.94 * 2 * 4.0) * 0.8 ** 1.25 * 6.5
    assert cost[5] == pytest.approx(q6, rel=1e-12)
    assert r.scalar(r.model.master_check) == 0


def test_all_upfront_pays_each_term_in_its_first_quarter_and_the_pl_stays_even(tmp_path):
    r = run(tmp_path, scenario(upfront="all"), {"cloud": CAP})
    om = r.model.options["cloud"]
    upfront = np.array([4 * YEAR1, 0, 0, 0, 4 * YEAR2, 0, 0, 0])  # 284,895.00 and 227,916.00
    assert upfront[0] == 284895.0 and upfront[4] == pytest.approx(227916.0)
    assert r.row("cloud", "Reservation paid upfront (cash, term's first quarter)") == approx(upfront)
    assert r.row("cloud", "Reservation paid as the term runs (cash)") == approx(np.zeros(8))
    assert r.row("cloud", "Prepaid reservation, closing") == approx(
        [3 * YEAR1, 2 * YEAR1, YEAR1, 0, 3 * YEAR2, 2 * YEAR2, YEAR2, 0])
    beyond = beyond_cost((REPLICAS - 1) * H)
    assert r[om.cash_cost] == approx(upfront + beyond)
    assert r[om.pl_cost] == approx(RESERVED_PL + beyond)
    # equal over the horizon, different within it
    assert r[om.cash_cost].sum() == pytest.approx(r[om.pl_cost].sum(), rel=1e-12)
    assert r.scalar(r.model.master_check) == 0


def test_partial_upfront_pays_its_share_at_the_start_and_the_rest_as_the_term_runs(tmp_path):
    r = run(tmp_path, scenario(upfront="partial", upfront_share=0.5), {"cloud": CAP})
    om = r.model.options["cloud"]
    # quarter 1: half of 4 x 71,223.75 upfront = 142,447.50, plus half of the quarter's 71,223.75 = 35,611.875
    reserved_cash = np.array([142447.5 + 35611.875, 35611.875, 35611.875, 35611.875,
                              113958.0 + 28489.5, 28489.5, 28489.5, 28489.5])
    assert reserved_cash.sum() == pytest.approx(RESERVED_PL.sum(), rel=1e-12)
    beyond = beyond_cost((REPLICAS - 1) * H)
    assert r[om.cash_cost] == approx(reserved_cash + beyond)
    assert r[om.pl_cost] == approx(RESERVED_PL + beyond)
    assert r.row("cloud", "Prepaid reservation, closing") == approx(
        [106835.625, 71223.75, 35611.875, 0, 85468.5, 56979.0, 28489.5, 0])


def test_a_term_that_no_longer_fits_is_not_renewed_and_falls_back_to_spot_and_on_demand(tmp_path):
    # a 1-year term from quarter 3 covers quarters 3-6; a second term would end in quarter 10, after the horizon
    r = run(tmp_path, scenario(reservation_start_quarter="2027Q3"), {"cloud": CAP})
    held = np.array([0, 0, 1, 1, 1, 1, 0, 0])
    assert r.row("cloud", "Reserved replicas") == approx(held)
    # fixed at quarter 3's index 0.8^(2/4) for the whole term
    rate = 2191.5 * 2 * 2.5 * 6.5 * 0.8 ** 0.5
    assert r.row("cloud", "Reserved cost (P&L: the term's cost spread evenly)") == approx(held * rate)
    beyond = (REPLICAS - held) * H
    assert beyond / H == approx([1, 1.5, 1.25, 0, 0, 0.6, 2.5, 3.0])
    om = r.model.options["cloud"]
    assert r[om.pl_cost] == approx(held * rate + beyond_cost(beyond))


def test_spot_and_on_demand_run_whole_replicas_with_the_interruption_overhead(tmp_path):
    r = run(tmp_path, scenario(reserved_replicas=0, commitment_term_years=None, upfront=None), {"cloud": CAP})
    rh = REPLICAS * H
    assert r.row("cloud", "Replica-hours to serve the load (spares kept up)") == approx(rh)
    # quarter 3: 2.25 x 2191.5 = 4,930.875 replica-h; spot 4,930.875 x 0.4 x 1.1 = 2,169.585 replica-h,
    # on demand 4,930.875 x 0.6 = 2,958.525; each replica-hour is 2 GPU-hours of one tier
    assert r.row("cloud", "Spot replica-hours (with interruption overhead)")[2] == pytest.approx(2169.585, rel=1e-12)
    assert r.row("cloud", "On-demand replica-hours")[2] == pytest.approx(2958.525, rel=1e-12)
    assert r.row("cloud", "Spot GPU-hours") == approx(rh * 0.4 * 1.1 * 2)
    assert r.row("cloud", "On-demand GPU-hours") == approx(rh * 0.6 * 2)
    assert r.row("cloud", "Reserved GPU-hours") == approx(np.zeros(8))
    om = r.model.options["cloud"]
    assert r[om.pl_cost] == approx(beyond_cost(rh))
    q3 = (2169.585 * 2 * 1.5 + 2958.525 * 2 * 4.0) * 0.8 ** 0.5 * 6.5
    assert r[om.cash_cost][2] == pytest.approx(q3, rel=1e-12)


def test_reserved_replicas_above_the_load_are_paid_idle(tmp_path):
    r = run(tmp_path, scenario(reserved_replicas=3, spot_share=0.0), {"cloud": CAP})
    om = r.model.options["cloud"]
    used = np.minimum(REPLICAS, 3) * H
    assert r.row("cloud", "Reserved replica-hours used") == approx(used)
    assert r.row("cloud", "Replica-hours beyond the reservation") == approx(np.zeros(8))
    assert r[om.pl_cost] == approx(3 * RESERVED_PL)  # 3 replicas every hour, whatever the load


# --------------------------------------------------------------------------------------------------
# Input errors: Sheet!Cell, exit status 2, nothing written


def cloud_cell(field_name: str) -> str:
    """The CloudRates cell of the only row (data from row 3, columns in schema order)."""
    return f"CloudRates!{get_column_letter(CLOUD_RATES.field_names.index(field_name) + 1)}3"


def write(tmp_path, c) -> Path:
    path = Path(tmp_path) / "scenario.xlsx"
    write_scenario_workbook(path, c)
    return path


def problems_of(path) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    return [str(p) for p in exc.value.problems]


def test_a_three_year_term_in_an_eight_quarter_horizon_is_refused(tmp_path):
    path = write(tmp_path, scenario(commitment_term_years=3))
    found = problems_of(path)
    cell = cloud_cell("commitment_term_years")
    assert any(p.startswith(f"{cell}: commitment term 3 years (12 quarters) is longer than the horizon (8 quarters")
               for p in found), found
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and cell in result.output and "Traceback" not in result.output
    out = Path(tmp_path) / "report.xlsx"
    result = CliRunner().invoke(main, ["build", str(path), "-o", str(out)])
    assert result.exit_code == 2 and cell in result.output
    assert not out.exists()


@pytest.mark.parametrize("edit, field_name, fragment", [
    ({"commitment_term_years": 2}, "commitment_term_years", "commitment_term_years 2 is not a term"),
    ({"commitment_term_years": None}, "commitment_term_years", "give the commitment term"),
    ({"reserved_per_gpu_hour": None}, "reserved_per_gpu_hour", "give the reserved rate"),
    ({"upfront": "partial"}, "upfront_share", "upfront is partial: give upfront_share"),
    ({"upfront_share": 0.3}, "upfront_share", "upfront_share applies only with upfront partial"),
    ({"reservation_start_quarter": "2029Q1"}, "reservation_start_quarter", "outside the timeline 2027Q1..2028Q4"),
    ({"reservation_start_quarter": "2028Q2"}, "reservation_start_quarter", "would end 2029Q1, after the horizon"),
])
def test_reservation_input_errors_name_the_cloudrates_cell(tmp_path, edit, field_name, fragment):
    found = problems_of(write(tmp_path, scenario(**edit)))
    cell = cloud_cell(field_name)
    assert any(p.startswith(f"{cell}: ") and fragment in p for p in found), found


@pytest.mark.parametrize("serves, reservation_start, fragment", [
    # paid before the option serves: no tokens carry it, and the switch's saving is counted from the option's start
    ("2027Q3", "2027Q1", "reservation_start_quarter 2027Q1 is before cloud serves (start_quarter 2027Q3 at Options!"),
    # the hint never points before the option serves: from 2028Q2 no 1-year term ends by 2028Q4
    ("2028Q2", None, "from 2028Q2, when cloud starts serving, no 1-year term fits: use a shorter term or no "
                     "reservation"),
    ("2027Q3", None, None),  # a 1-year term from 2027Q3 ends 2028Q2, within the horizon: no problem
])
def test_a_reservation_starts_when_its_option_serves(tmp_path, serves, reservation_start, fragment):
    c = scenario(reservation_start_quarter=reservation_start)
    c["Options"] = [dict(o, start_quarter=serves) for o in c["Options"]]
    if fragment is None:
        assert load_scenario(write(tmp_path, c)).options["cloud"].start_quarter is not None
        return
    found = problems_of(write(tmp_path, c))
    cell = cloud_cell("reservation_start_quarter" if reservation_start else "commitment_term_years")
    assert any(p.startswith(f"{cell}: ") and fragment in p for p in found), found


def test_without_a_reservation_the_term_is_not_needed(tmp_path):
    c = scenario(reserved_replicas=0, commitment_term_years=None, reserved_per_gpu_hour=None, upfront=None)
    load_scenario(write(tmp_path, c))  # no error


def test_spare_replicas_are_kept_up_all_quarter(tmp_path):
    """N+1 on a cloud option: one warm spare replica runs every hour of the quarter on top of the load."""
    cap = 100.0
    R = requests_for([0.5] * 4, cap, 1.0)  # half a replica's capacity at peak, 24x7 average = peak here
    c = content([option("cloud", "cloud_gpu", gpus_per_replica=2, redundancy_replicas=1)], workload_rows(R),
                cloud=[{"option_id": "cloud", "on_demand_per_gpu_hour": 3.0, "spot_share": 0.0,
                        "spot_interruption_overhead": 0.0, "currency": "DKK"}])
    r = run(tmp_path, c, {"cloud": cap})
    # the load needs 0.5 x 2,191.5 replica-hours, but one replica stays up all quarter; plus the spare
    rh = 2191.5 + 2191.5
    assert r.row("cloud", "Replica-hours to serve the load (spares kept up)") == approx([rh] * 4)
    assert r.row("cloud", "Replicas in service") == approx([2] * 4)
    assert r[r.model.options["cloud"].pl_cost] == approx([rh * 2 * 3.0] * 4)



def test_annual_bridge_from_pl_to_cash_is_the_upfront_payment_less_the_prepaid_expensed(tmp_path):
    from tcomodel.finance.annual import build_annual, evaluate_annual
    from tests.test_finance_helpers import build, load

    def annual(**cloud):
        sc = load(tmp_path, scenario(**cloud))
        model, values = build(sc, {"cloud": CAP})
        view = evaluate_annual(build_annual(model, sc.quarters, 1), model, values)
        ao = view.options["cloud"]
        years = {r.label: [view.value(it) for it in r.years] for r in ao.bridge}
        return years, [[view.value(it) for it in ao.row(k).years] for k in ("cost", "cash_cost")]

    # a 1-year term from 2027Q3 at the index of its first quarter (0.8^(2/4)), half of it paid upfront in 2027Q3:
    # 2027 pays 4 quarters' halves ahead and expenses 2 of them; 2028 expenses the other 2
    bridge, (pl, cash) = annual(upfront="partial", upfront_share=0.5, reservation_start_quarter="2027Q3")
    half_q = 0.5 * YEAR1 * 0.8 ** 0.5  # the prepaid half of one quarter's reserved cost
    assert bridge == {"add: Reservation paid upfront": approx([4 * half_q, 0.0]),
                      "less: Prepaid reservation expensed (not cash)": approx([-2 * half_q, -2 * half_q])}
    assert np.add(pl, np.sum(list(bridge.values()), axis=0)) == approx(cash)
    assert np.subtract(cash, pl) == approx([2 * half_q, -2 * half_q])
    # nothing paid ahead: cash is the P&L and there is no bridge
    bridge, (pl, cash) = annual()
    assert bridge == {} and pl == cash
