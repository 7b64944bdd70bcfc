"""Figures the README quotes are recomputed here, so the README cannot drift from the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tcomodel
from tcomodel.finance import run_model
from tcomodel.inputs import load_scenario
from tcomodel.roofline import check_claim

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def quoted(text: str) -> None:
    assert text in README, f"README.md should say {text!r} (the engine computes it)"


def test_reference_deployments_as_quoted():
    m_ideal = tcomodel.estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="ideal", batch=1, context_tokens=8192)
    q_ideal = tcomodel.estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", engine="ideal", batch=1, context_tokens=8192)
    quoted(f"{m_ideal.decode_tok_s_per_stream:.1f} tok/s (2,039 GB/s")
    quoted(f"{q_ideal.decode_tok_s_per_stream:.0f} tok/s (reads")
    quoted(f"{q_ideal.weights_gb:.1f} GB (4.5 bits")
    m_sat = tcomodel.estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", max_batch=True, context_tokens=8192,
                              input_tokens=2048, output_tokens=512)
    q_sat = tcomodel.estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", max_batch=True, context_tokens=8192,
                              input_tokens=2048, output_tokens=512)
    quoted(f"| {m_sat.max_concurrency} (90% of memory usable")
    quoted(f"| {q_sat.max_concurrency} (each holds")
    quoted(f"{m_sat.output_tok_s_total:,.0f} against {q_sat.output_tok_s_total:,.0f} tok/s")
    m1 = tcomodel.estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", batch=1, context_tokens=8192)
    q1 = tcomodel.estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", batch=1, context_tokens=8192)
    quoted(f"~{m1.decode_tok_s_per_stream:.0f} tok/s |")
    quoted(f"~{q1.decode_tok_s_per_stream:.0f} tok/s |")


def test_hardware_guide_example_as_quoted():
    c = check_claim("rtx-4090", "llama-3-70b", claimed_tok_s=1800, bits_per_weight=3.5)
    quoted(f"LLaMA-70B at 3.5 bits is {c['weights_gb']:.1f} GB")
    quoted(f"gives about {c['bound_tok_s']:.0f} tok/s")
    quoted(f"is {c['factor']:.0f}× over the bound")


def test_power_share_as_quoted():
    run = run_model(load_scenario(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"))
    om = run.model.options["alternative-owned"]
    share = np.sum(run.values[om.categories["Power"]]) / np.sum(run.values[om.pl_cost])
    quoted(f"power is {share:.0%} of the owned option's P&L cost")


def test_default_results_table_as_quoted():
    """The README's before -> after table: the 'after' figures are today's engine output."""
    run = run_model(load_scenario(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"))
    m = run.model
    for oid, om in m.options.items():
        row = next(line for line in README.splitlines() if line.startswith(f"| {oid} ") or line.startswith(f"| {oid}"))
        quoted_lev = f"→ {run.scalar(om.levelized):.2f} |"
        assert quoted_lev in row, f"{oid}: README row should end its levelized pair with {quoted_lev!r}"
        if oid in m.comparisons:
            assert f"→ {run.scalar(m.comparisons[oid].npv):,.0f} |" in row
    fees = {it.name: run.scalar(it) for sec in m.breakeven for it in sec.items if it.name.startswith("breakeven_fee:")}
    quoted(f"**{fees['breakeven_fee:aarhusai:alternative']:,.0f} DKK/month**")
    quoted(f"**{fees['breakeven_fee:aarhusai:alternative-owned']:,.0f} DKK/month**")
    pair = m.pairs[("alternative", "alternative-owned")]
    quoted(f"buy vs rent NPV +{run.scalar(pair.npv):,.0f}, IRR {run.scalar(pair.irr_annual):.0%} a year, payback "
           f"{m.quarters[int(run.scalar(pair.payback_quarter)) - 1]}")


def test_cross_validation_table_as_quoted():
    from tcomodel.roofline.fit_calibration import cross_validate, cv_markdown, independent_markdown

    table = "\n".join("  " + line for line in cv_markdown(cross_validate()).splitlines())
    quoted(f"<!-- CV-TABLE -->\n{table}\n  <!-- /CV-TABLE -->")
    quoted(f"<!-- INDEPENDENT -->{independent_markdown()}<!-- /INDEPENDENT -->")


def test_unknown_fee_bands_as_quoted():
    from tcomodel.sweep import run_sweep

    res = run_sweep(run_model(load_scenario(ROOT / "assumptions/aarhusai-vs-alternative.xlsx")), 20_000, seed=1)
    _, _, by_option = res.probability_saving_by_fee(0)
    rented, owned = by_option["alternative"], by_option["alternative-owned"]
    quoted(f"switching to `alternative` saves in {rented[0]:.0%} of the samples with a\nfee of 5,000-10,000 "
           f"DKK/month and in {rented[1]:.0%} at 10,000-15,000; `alternative-owned` in {owned[0]:.0%} and "
           f"{owned[1]:.0%}")


def test_case_levelized_costs_as_quoted():
    sc = load_scenario(ROOT / "assumptions/aarhusai-vs-alternative.xlsx")
    lev = {}
    for case in ("low", "base", "high"):
        run = run_model(sc, case=case)
        lev[case] = run.scalar(run.model.options["aarhusai"].levelized)
    quoted(f"(Low {lev['low']:.2f}, Base {lev['base']:.2f}, High {lev['high']:.2f}\nDKK/Mtok)")
