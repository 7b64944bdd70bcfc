"""Fitted engine efficiency factors. GENERATED: do not edit by hand.

Regenerate with:  python -m tcomodel.roofline.fit_calibration --write
"""

SOURCE = "fitted by tcomodel.roofline.fit_calibration to measurements-calibration.csv rows in calibration.py"

FACTORS = {
    "trtllm": {"eff_bw": 0.603, "eff_compute": 0.8, "overhead_ms": 1.312},
    "vllm": {"eff_bw": 0.5, "eff_compute": 0.8, "overhead_ms": 10.0},
    "llamacpp": {"eff_bw": 0.791, "eff_compute": 0.35, "overhead_ms": 4.938},
}
