"""API prices you can trust (prompt caching stated, price age), quality above chance and reasoning tokens.

Hand-computed: every expected figure is arithmetic written out here. Scenarios are real workbooks (the
`tcomodel init` content trimmed to a few rows) loaded by the validating loader; self-hosted options get a
fixed capacity so the roofline never runs.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import openpyxl
import pytest

from tcomodel.errors import InputError
from tcomodel.finance import run_model, to_json_dict
from tcomodel.finance.price_age import months_between
from tcomodel.inputs import write_scenario_workbook
from tcomodel.inputs.schema import API_PRICES, OPTIONS
from tcomodel.report import write_report
from tests.helpers import mutate
from tests.test_finance_helpers import (
    SECONDS_PER_QUARTER, content, load, option, requests_for, run, workload_rows,
)

REL = 1e-9


def approx(x):
    return pytest.approx(x, rel=REL, abs=1e-9)


def col(spec, name: str) -> str:
    """Column letter of a field in the written template (fields in schema order from column A)."""
    return openpyxl.utils.get_column_letter(spec.field_names.index(name) + 1)


# 1e6 requests a quarter, 1,000 input and 200 output tokens each; 30% of input read from the cache, 10% written
WL = dict(inp=1000.0, out=200.0, cache_hit=0.3, cache_write=0.1)


def api_row(**kw):
    row = {"option_id": "api", "input_per_mtok": 2.0, "output_per_mtok": 10.0, "batch_discount": 0.0,
           "currency": "DKK"}
    row.update(kw)
    return row


def api_scenario(api, opt=None, requests=(1e6, 1e6)):
    return content([opt or option("api", "hosted_api")], workload_rows(list(requests), **WL), api=[api])


def load_errors(tmp_path, c) -> list[str]:
    with pytest.raises(InputError) as exc:
        load(tmp_path, c)
    return [str(p) for p in exc.value.problems]


# ----------------------------------------------------------------------------------------------------
# Prompt caching stated explicitly


def test_caching_yes_bills_hits_and_writes_at_their_prices(tmp_path):
    r = run(tmp_path, api_scenario(api_row(prompt_caching="yes", cached_input_per_mtok=0.2, cache_write_per_mtok=2.5)))
    # input: 1e9 tokens = 1,000 Mtok: 60% fresh at 2.00 + 30% cached at 0.20 + 10% written at 2.50 = 1,510
    # output: 2e8 tokens = 200 Mtok at 10.00 = 2,000
    assert r.row("api", "Input token cost") == approx([1510.0, 1510.0])
    assert r.row("api", "Output token cost") == approx([2000.0, 2000.0])
    om = r.model.options["api"]
    assert r[om.pl_cost] == approx([3510.0, 3510.0])
    # 3,510 over 1.2e9 tokens = 2.925 per Mtok
    assert r.scalar(om.levelized) == approx(2.925)


def test_caching_no_bills_cache_hits_and_writes_at_the_input_price(tmp_path):
    r = run(tmp_path, api_scenario(api_row(prompt_caching="no")))
    # the workload's 30% hits and 10% writes do not help: all 1,000 Mtok of input at 2.00
    assert r.row("api", "Cached input tokens") == approx([3e8, 3e8])
    assert r.row("api", "Input token cost") == approx([2000.0, 2000.0])
    assert r[r.model.options["api"].pl_cost] == approx([4000.0, 4000.0])
    # no cache-price input exists, so a Ranges row cannot move one
    assert not any(n.endswith(("cached_input_per_mtok", "cache_write_per_mtok")) for n in r.model.inputs)


def test_missing_cached_price_is_an_error_naming_its_cell(tmp_path):
    errors = load_errors(tmp_path, api_scenario(api_row(prompt_caching="yes", cache_write_per_mtok=2.0)))
    cached, caching = f"ApiPrices!{col(API_PRICES, 'cached_input_per_mtok')}3", f"ApiPrices!{col(API_PRICES, 'prompt_caching')}3"
    hits = [e for e in errors if e.startswith(f"{cached}: ")]
    assert len(hits) == 1, errors
    assert "prompt_caching is yes" in hits[0] and caching in hits[0] and "write no" in hits[0]


def test_missing_cache_write_price_is_an_error_that_offers_the_input_price(tmp_path):
    errors = load_errors(tmp_path, api_scenario(api_row(prompt_caching="yes", cached_input_per_mtok=0.2)))
    write = f"ApiPrices!{col(API_PRICES, 'cache_write_per_mtok')}3"
    hits = [e for e in errors if e.startswith(f"{write}: ")]
    assert len(hits) == 1, errors
    assert "the input price (2)" in hits[0]


def test_cache_price_with_caching_no_is_a_contradiction(tmp_path):
    errors = load_errors(tmp_path, api_scenario(api_row(prompt_caching="no", cached_input_per_mtok=0.2)))
    cached = f"ApiPrices!{col(API_PRICES, 'cached_input_per_mtok')}3"
    assert any(e.startswith(f"{cached}: cached_input_per_mtok is 0.2 but prompt_caching is no") for e in errors), errors


def test_blank_prompt_caching_is_an_error_saying_what_to_write(tmp_path):
    errors = load_errors(tmp_path, api_scenario(api_row(prompt_caching=None)))
    cell = f"ApiPrices!{col(API_PRICES, 'prompt_caching')}3"
    assert any(e.startswith(f"{cell}: ") and "yes, no" in e for e in errors), errors


def test_workbook_without_the_prompt_caching_column_names_it_once(tmp_path):
    src = tmp_path / "full.xlsx"
    write_scenario_workbook(src, api_scenario(api_row(prompt_caching="no")))
    old = mutate(src, tmp_path / "old.xlsx",
                 lambda wb: wb["ApiPrices"].delete_cols(API_PRICES.field_names.index("prompt_caching") + 1))
    with pytest.raises(InputError) as exc:
        from tcomodel.inputs import load_scenario
        load_scenario(old)
    errors = [str(p) for p in exc.value.problems]
    assert any("column 'prompt_caching' is missing" in e for e in errors), errors
    # the unreadable sheet is reported once, not again as "needs a row on sheet ApiPrices"
    assert not any("needs a row on sheet ApiPrices" in e for e in errors), errors


# ----------------------------------------------------------------------------------------------------
# Price age


def test_months_are_counted_in_calendar_months():
    assert months_between(dt.date(2026, 5, 1), dt.date(2026, 11, 30)) == pytest.approx(6 + 29 / 30)  # 6.97
    assert months_between(dt.date(2026, 5, 1), dt.date(2026, 11, 1)) == 6.0
    assert months_between(dt.date(2026, 5, 15), dt.date(2026, 6, 14)) == pytest.approx(30 / 31)  # May 15 - Jun 15
    assert months_between(dt.date(2026, 1, 31), dt.date(2026, 2, 28)) == 1.0  # the short month ends the month
    assert months_between(dt.date(2026, 11, 30), dt.date(2026, 5, 1)) < 0


def price_age_scenario():
    # helper dates: ApiPrices and FX (USD) as_of 2026-05-01
    return content([option("api", "hosted_api")], workload_rows([1e6, 1e6], **WL), fx={"USD": 6.5},
                   api=[api_row(prompt_caching="no", currency="USD")])


def test_stale_prices_warn_and_are_listed_on_the_checks_sheet(tmp_path):
    scenario = load(tmp_path, price_age_scenario())
    r = run_model(scenario, build_date=dt.date(2026, 11, 30))
    price_cell = f"ApiPrices!{col(API_PRICES, 'as_of')}3"
    assert f"{price_cell}: price list of 2026-05-01 (api) is 6.97 months old (limit 6); update it or raise " \
           "price_max_age_months" in r.warnings
    assert "FX!C3: FX rate of 2026-05-01 (USD) is 6.97 months old (limit 6); update it or raise " \
           "price_max_age_months" in r.warnings
    d = to_json_dict(r)
    assert d["warnings"] == r.warnings and d["build_date"] == "2026-11-30"
    ages = {a["cell"]: a for a in d["price_age"]}
    assert ages[price_cell]["age_months"] == pytest.approx(6.9667, abs=1e-4) and ages[price_cell]["stale"]
    assert d["master_check"] == 0  # stale prices are not a model inconsistency
    json.dumps(d)

    report = write_report(r, tmp_path / "report.xlsx")
    ws = openpyxl.load_workbook(report)["Checks"]
    rows = {ws.cell(i, 1).value: i for i in range(1, ws.max_row + 1) if ws.cell(i, 1).value}
    row = rows[f"{price_cell}: price list, api"]
    assert ws.cell(row, 2).value == dt.datetime(2026, 5, 1)
    assert ws.cell(row, 3).value == pytest.approx(6 + 29 / 30, abs=1e-6)
    limit_row = next(i for label, i in rows.items() if label.startswith("Limit: Scenario price_max_age_months"))
    assert ws.cell(limit_row, 3).value == 6
    assert ws.cell(row, 4).value == f"=($C${row}>$C${limit_row})*1"
    count = rows["Prices older than the limit"]
    assert ws.cell(count, 3).value.startswith("=SUM($D$")
    values = openpyxl.load_workbook(report, data_only=True)
    assert values["Checks"].cell(row, 4).value == 1
    assert values["Checks"].cell(count, 3).value == 2  # the price list and the USD rate
    cover = values["Cover"]
    stale = next(i for i in range(1, 40) if (cover.cell(i, 1).value or "").startswith("Prices older than 6 months"))
    assert cover.cell(stale, 2).value == 2
    # the Summary says so beside the master status (OK: stale prices are no model inconsistency)
    assert values["Summary"]["D3"].value == "some prices are older than 6 months: see Checks"
    assert values["Summary"]["C3"].value == "OK"


def test_prices_within_the_limit_give_no_warning(tmp_path):
    scenario = load(tmp_path, price_age_scenario())
    # 2026-05-01 to 2026-10-31: 5 months + 30/31 = 5.97 months, within 6
    r = run_model(scenario, build_date=dt.date(2026, 10, 31))
    assert r.warnings == []
    assert [round(a.age_months, 4) for a in r.price_ages] == [round(5 + 30 / 31, 4)] * 2
    summary = openpyxl.load_workbook(write_report(r, tmp_path / "r.xlsx"), data_only=True)["Summary"]
    assert summary["D3"].value == "every price is current"


def test_price_max_age_months_sets_the_limit(tmp_path):
    c = price_age_scenario()
    c["Scenario"] = [(k, 7 if k == "price_max_age_months" else v, u, s) for k, v, u, s in c["Scenario"]]
    r = run_model(load(tmp_path, c), build_date=dt.date(2026, 11, 30))
    assert r.warnings == [] and all(a.limit_months == 7 for a in r.price_ages)


# ----------------------------------------------------------------------------------------------------
# Quality above chance


QUALITY = {"quality_score": 70.0, "quality_benchmark": "GPQA Diamond", "quality_model_variant": "Some-Model-Instruct",
           "quality_chance_level": 25.0}


def test_quality_adjusted_cost_uses_the_score_above_chance(tmp_path):
    r = run(tmp_path, api_scenario(api_row(prompt_caching="no"), option("api", "hosted_api", **QUALITY)))
    om = r.model.options["api"]
    # rate 0: levelized = 4,000 per quarter / 1.2e9 tokens x 1e6 = 3.3333 DKK/Mtok
    lev = 4000.0 / 1.2e9 * 1e6
    assert r.scalar(om.levelized) == approx(lev)
    # above chance: (70 - 25) / (100 - 25) = 0.6 of the range a model can add over guessing
    assert r.scalar(r.item("api", "Score above chance, share of the range above chance")) == approx(0.6)
    assert r.scalar(om.levelized_per_correct) == approx(lev / 0.6)  # 5.5556, not lev / 0.70 = 4.76


def test_quality_without_chance_level_divides_by_the_score(tmp_path):
    q = dict(QUALITY, quality_chance_level=None)
    r = run(tmp_path, api_scenario(api_row(prompt_caching="no"), option("api", "hosted_api", **q)))
    assert r.scalar(r.model.options["api"].levelized_per_correct) == approx(4000.0 / 1.2e9 * 1e6 / 0.70)


@pytest.mark.parametrize("change, field, words", [
    ({"quality_chance_level": 70.0}, "quality_chance_level", "is not below quality_score 70"),
    ({"quality_chance_level": 80.0}, "quality_chance_level", "is not below quality_score 70"),
    ({"quality_benchmark": None}, "quality_benchmark", "quality_benchmark is needed with quality_score 70"),
    ({"quality_model_variant": None}, "quality_model_variant", "quality_model_variant is needed with quality_score 70"),
])
def test_quality_inputs_are_validated(tmp_path, change, field, words):
    q = dict(QUALITY, **change)
    errors = load_errors(tmp_path, api_scenario(api_row(prompt_caching="no"), option("api", "hosted_api", **q)))
    cell = f"Options!{col(OPTIONS, field)}3"
    score_cell = f"Options!{col(OPTIONS, 'quality_score')}3"
    assert any(e.startswith(f"{cell}: ") and words in e and score_cell in e for e in errors), errors


def test_report_names_benchmark_and_variant(tmp_path):
    scenario = load(tmp_path, api_scenario(api_row(prompt_caching="no"), option("api", "hosted_api", **QUALITY)))
    report = write_report(run_model(scenario, build_date=dt.date(2026, 6, 1)), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(report, data_only=True)["Summary"]
    cells = [[ws.cell(i, j).value for j in range(1, 8)] for i in range(1, 40)]
    assert any(str(v).startswith("Quality basis: quality-adjusted cost = levelized cost / ((score - chance)")
               for row in cells for v in row)
    basis = next(row for row in cells if row[0] == "api" and row[1] == "GPQA Diamond")
    assert basis[5] == "Some-Model-Instruct" and basis[2] == 70 and basis[3] == 25
    assert basis[4] == pytest.approx(0.6)


# ----------------------------------------------------------------------------------------------------
# Reasoning tokens


def test_reasoning_tokens_are_billed_as_api_output(tmp_path):
    r = run(tmp_path, api_scenario(api_row(prompt_caching="no"),
                                   option("api", "hosted_api", reasoning_tokens_per_request=300.0)))
    # 1e6 requests x 300 reasoning tokens = 3e8 billed as output, besides the 2e8 delivered
    assert r.row("api", "Reasoning tokens (billed as output)") == approx([3e8, 3e8])
    assert r.row("api", "Output token cost") == approx([5000.0, 5000.0])  # 500 Mtok at 10.00
    om = r.model.options["api"]
    assert r[om.pl_cost] == approx([7000.0, 7000.0])  # + 2,000 of input
    # cost per Mtok stays per delivered token: 7,000 / (1e9 + 2e8) tokens
    assert r[om.tokens] == approx([1.2e9, 1.2e9])
    assert r[om.cost_per_mtok] == approx([7000.0 / 1.2e9 * 1e6] * 2)


def test_reasoning_tokens_raise_a_self_hosted_fleets_peak(tmp_path):
    cap, peak = 1000.0, 2.0
    R = requests_for([1.4], cap, peak)  # peak delivered output = 1.4 replicas' capacity
    rental = [{"option_id": "rent", "fee_per_replica_per_month": 1000.0, "currency": "DKK"},
              {"option_id": "think", "fee_per_replica_per_month": 1000.0, "currency": "DKK"}]
    cloud = [{"option_id": "cloud", "on_demand_per_gpu_hour": 2.0, "reserved_share": 0.0, "spot_share": 0.0,
              "spot_interruption_overhead": 0.0, "currency": "DKK"}]
    c = content([option("rent", "rented_server"), option("think", "rented_server", reasoning_tokens_per_request=200.0),
                 option("cloud", "cloud_gpu", reasoning_tokens_per_request=200.0)],
                workload_rows(R, inp=1000.0, out=200.0, peak=peak), rental=rental, cloud=cloud)
    r = run(tmp_path, c, {"rent": cap, "think": cap, "cloud": cap})
    # without reasoning: ceil(1.4) = 2 replicas; 200 reasoning tokens per 200 delivered decode twice as many: ceil(2.8) = 3
    assert r.row("rent", "Replicas in service") == approx([2.0])
    assert r.row("think", "Tokens decoded per output token delivered (incl. reasoning)") == approx([2.0])
    assert r.row("think", "Peak decode rate (incl. reasoning)") == approx([2.8 * cap])
    assert r.row("think", "Replicas in service") == approx([3.0])
    delivered = R[0] * 200.0
    assert r.row("think", "Output tokens served") == approx([delivered])
    assert r.row("think", "Output tokens decoded (incl. reasoning)") == approx([2 * delivered])
    # utilization counts decoded tokens: average = peak / peak-to-average = 2.8 / 2 of 3 replicas
    assert r.row("think", "Utilization of the fleet (average)") == approx([1.4 / 3])
    assert r.row("think", "Utilization of the fleet at the peak") == approx([2.8 / 3])
    # delivered tokens per replica-month: capacity x seconds / 3 x (1000 + 200) / (200 + 200)
    assert r.row("think", "Tokens one replica can serve per month") == approx([cap * SECONDS_PER_QUARTER / 3 * 1200 / 400])
    om = r.model.options["think"]
    assert r[om.pl_cost] == approx([3 * 1000.0 * 3])
    assert r[om.tokens] == approx([R[0] * 1200.0])  # cost per Mtok is per delivered token
    # cloud replica-hours (1 GPU each here) follow the decoded tokens: 2 x delivered / (1,000 tok/s x 3,600 s)
    hours = max(2 * delivered / (cap * 3600.0), 2191.5)
    assert r.row("cloud", "Replica-hours to serve the load (spares kept up)") == approx([hours])
    assert math.isclose(hours, 2.8 / peak * 2191.5, rel_tol=1e-9)


def test_reasoning_tokens_with_utilization_load_basis_deliver_less(tmp_path):
    cap = 1000.0
    c = content([option("rent", "rented_server", load_basis="utilization", reasoning_tokens_per_request=600.0)],
                workload_rows([1e5], inp=1000.0, out=200.0),
                rental=[{"option_id": "rent", "fee_per_replica_per_month": 1000.0, "currency": "DKK"}])
    c["Utilization"] = [{"option_id": "rent", "quarter": "2027Q1", "utilization": 0.5, "source": "test"}]
    r = run(tmp_path, c, {"rent": cap})
    fleet = r.row("rent", "Replicas in service")[0]
    decoded = fleet * cap * SECONDS_PER_QUARTER * 0.5
    # of every 800 tokens decoded per request, 200 are delivered
    assert r.row("rent", "Output tokens served") == approx([decoded / 4])
    assert r.row("rent", "Utilization of the fleet (average)") == approx([0.5])
    assert np.isfinite(r.row("rent", "Input tokens served")).all()


def test_a_dated_rental_price_ages_and_an_undated_unknown_fee_does_not(tmp_path):
    """A rental quote has a date like any price (the Hetzner list price); an unknown fee (blank as_of) is not aged."""
    from tcomodel.inputs.schema import RENTAL

    c = content([option("rent", "rented_server"), option("hpc", "rented_server")], workload_rows([1e6] * 2),
                rental=[{"option_id": "rent", "fee_per_replica_per_month": 1000.0, "currency": "DKK",
                         "as_of": dt.date(2026, 3, 1)},
                        {"option_id": "hpc", "fee_per_replica_per_month": 9000.0, "currency": "DKK",
                         "fee_is_assumption": "yes"}])
    scenario = load(tmp_path, c)
    from tcomodel.finance.price_age import price_ages, price_warnings

    r = price_warnings(price_ages(scenario, dt.date(2026, 11, 30)))
    cell = f"Rental!{col(RENTAL, 'as_of')}3"
    # 2026-03-01 to 2026-11-30: 8 whole months + 29/30
    assert f"{cell}: rental price of 2026-03-01 (rent) is 8.97 months old (limit 6); update it or raise " \
           "price_max_age_months" in r
    assert not any("(hpc)" in w for w in r)
