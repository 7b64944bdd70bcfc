"""Fitted engine efficiency factors. GENERATED: do not edit by hand.

Regenerate with:  python -m tcomodel.roofline.fit_calibration --write
"""

SOURCE = ("fitted by tcomodel.roofline.fit_calibration to the published rows of measurements-calibration.csv "
          "(calibration.py) and measurements-independent.csv (validation.py)")
DERIVED_SOURCE = (
    "derived from the trtllm fit: TRT-LLM peak = 1.2 x vLLM (midpoint of +15-30%, spheron-bench, "
    "spheron.network/blog/vllm-vs-tensorrt-llm-vs-sglang-benchmarks/); eff_bw, eff_compute = trtllm / 1.2; "
    "eff_kv likewise; overhead_ms = trtllm x 1.2 (assumption)"
)

FACTORS = {
    "trtllm": {"eff_bw": 0.516, "eff_kv": 0.811, "eff_compute": 0.8, "overhead_ms": 0.0, "seq_overhead_us": 25.0},
    "vllm": {"eff_compute": 0.667, "seq_overhead_us": 30.0, "eff_bw": 0.92, "eff_kv": 0.784, "overhead_ms": 2.312},
    "vllm@amd": {"eff_bw": 0.506, "eff_kv": 0.92, "eff_compute": 0.8, "overhead_ms": 7.375, "seq_overhead_us": 80.0},
    "llamacpp": {"eff_bw": 0.75, "eff_compute": 0.312, "overhead_ms": 2.5},
    "llamacpp@apple": {"eff_bw": 0.844, "eff_compute": 0.559, "overhead_ms": 5.875},
    "sglang": {"eff_bw": 0.43, "eff_compute": 0.667, "overhead_ms": 0.0, "eff_kv": 0.676, "seq_overhead_us": 30.0},
}
