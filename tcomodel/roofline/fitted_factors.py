"""Fitted engine efficiency factors. GENERATED: do not edit by hand.

Regenerate with:  python -m tcomodel.roofline.fit_calibration --write
"""

SOURCE = "fitted by tcomodel.roofline.fit_calibration to measurements-calibration.csv rows in calibration.py"
DERIVED_SOURCE = (
    "derived from the trtllm fit: TRT-LLM peak = 1.2 x vLLM (midpoint of +15-30%, spheron-bench, "
    "spheron.network/blog/vllm-vs-tensorrt-llm-vs-sglang-benchmarks/); eff_bw, eff_compute = trtllm / 1.2; "
    "overhead_ms = trtllm x 1.2 (assumption)"
)

FACTORS = {
    "trtllm": {"eff_bw": 0.556, "eff_compute": 0.8, "overhead_ms": 0.812},
    "llamacpp": {"eff_bw": 0.769, "eff_compute": 0.337, "overhead_ms": 5.188},
    "vllm": {"eff_bw": 0.463, "eff_compute": 0.667, "overhead_ms": 0.974},
    "sglang": {"eff_bw": 0.463, "eff_compute": 0.667, "overhead_ms": 0.974},
}
