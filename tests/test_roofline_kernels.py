"""Kernel path per engine x hardware x precision x component (issue 10, item 7)."""

import json

import pytest
from click.testing import CliRunner

from tcomodel.catalogue import load_catalogue
from tcomodel.cli import main
from tcomodel.errors import UsageError
from tcomodel.roofline import estimate
from tcomodel.roofline.kernels import RULES, parse_kernel_path
from tcomodel.roofline.setup import build_setup

HW, MODELS = load_catalogue()


def _paths(e):
    return {k["component"]: k for k in e.kernel_paths}


def test_vllm_fp4_moe_on_sm120_runs_experts_at_bf16_rate():
    # vllm-project/vllm#31085, #30135, #47749: FP4 MoE on SM120 falls back to Marlin W4A16
    e = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", kv_precision="fp8")
    p = _paths(e)
    assert HW["rtx-pro-6000-maxq"].arch == "sm120"
    assert p["experts"]["path"] == "bf16" and p["experts"]["peak_tflops"] == HW["rtx-pro-6000-maxq"].bf16_tflops
    assert p["dense"]["path"] == "native" and p["dense"]["peak_tflops"] == HW["rtx-pro-6000-maxq"].fp4_tflops
    assert "31085" in p["experts"]["source"] and "Marlin" in p["experts"]["kernel"]
    assert e.effective_specs["expert_peak_tflops"] == pytest.approx(
        HW["rtx-pro-6000-maxq"].bf16_tflops * e.engine_factors["eff_compute"])


@pytest.mark.parametrize("hardware, model, engine", [
    ("b200", "qwen3-next-80b-a3b", "vllm"),  # SM100 has the FP4 MoE kernels
    ("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "trtllm"),  # the rule is vLLM's
    ("rtx-pro-6000-maxq", "llama-3.3-70b", "vllm"),  # dense NVFP4 GEMMs have SM120 kernels
])
def test_no_fallback_elsewhere(hardware, model, engine):
    e = estimate(hardware, model, "nvfp4", kv_precision="fp8", engine=engine)
    assert all(k["path"] == "native" and k["rate"] == "fp4" for k in e.kernel_paths)


def test_expert_rate_changes_prefill_compute_by_hand():
    """Prefill compute of n tokens = dense FLOPs / dense rate + expert FLOPs / expert rate: the W4A16
    fallback adds exactly 2 x active expert params x n x (1/bf16 - 1/fp4) / eff_compute."""
    n = 32000
    fallback = build_setup("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", kv_precision="fp8",
                           input_tokens=n, output_tokens=16)
    native = build_setup("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", kv_precision="fp8",
                         input_tokens=n, output_tokens=16, kernel_path="native")
    hw, m = HW["rtx-pro-6000-maxq"], MODELS["qwen3-next-80b-a3b"]
    # routed experts active per token = expert params x k / E, from the catalogue row
    active_expert = m.expert_params_b * 1e9 * m.experts_per_token / m.num_experts
    eff = fallback.engine.eff_compute
    extra = 2 * active_expert * n * (1 / (hw.bf16_tflops * 1e12) - 1 / (hw.fp4_tflops * 1e12)) / eff
    assert fallback.prefill_compute_s(n) - native.prefill_compute_s(n) == pytest.approx(extra, rel=1e-9)
    assert extra > 0.2  # seconds: a long prompt's TTFT moves visibly


def test_override_and_bad_override():
    e = estimate("rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4", kernel_path="experts=native")
    assert _paths(e)["experts"]["path"] == "native" and _paths(e)["experts"]["kernel"].startswith("as given")
    e = estimate("h100-sxm", "llama-3.1-8b", "fp8", kernel_path="bf16")
    assert e.compute_precision == "bf16" and e.peak_tflops == HW["h100-sxm"].bf16_tflops
    assert parse_kernel_path("experts=bf16, dense=native") == {"experts": "bf16", "dense": "native"}
    for bad in ("fp5", "experts=fp5", "attention=bf16"):
        with pytest.raises(UsageError, match="kernel path"):
            parse_kernel_path(bad)
    r = CliRunner().invoke(main, ["roofline", "--hardware", "h100-sxm", "--model", "llama-3.1-8b",
                                  "--precision", "fp8", "--kernel-path", "experts=fp5"])
    assert r.exit_code == 2 and "kernel path" in r.output and "Traceback" not in r.output


def test_cli_json_lists_paths_and_hardware_file_arch(tmp_path):
    row = {k: v for k, v in HW["rtx-pro-6000-maxq"].__dict__.items() if v is not None}
    row.update(hardware_id="my-sm120", as_of=str(row["as_of"]))
    path = tmp_path / "hw.json"
    path.write_text(json.dumps(row))
    r = CliRunner().invoke(main, ["roofline", "--hardware-file", str(path), "--model", "qwen3-next-80b-a3b",
                                  "--precision", "nvfp4", "--json"])
    assert r.exit_code == 0, r.output
    paths = {k["component"]: k["path"] for k in json.loads(r.output)["kernel_paths"]}
    assert paths == {"experts": "bf16", "dense": "native"}


def test_every_rule_is_sourced():
    for rule in RULES:
        assert "github.com" in rule.source and rule.engine_versions
