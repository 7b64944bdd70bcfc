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
