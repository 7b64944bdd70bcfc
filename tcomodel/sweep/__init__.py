"""Monte Carlo over a scenario's Ranges sheet (`tcomodel sweep`): P10/P50/P90 of levelized cost and
NPV per option and the probability that each option is the cheapest."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tcomodel.sweep.montecarlo import MAX_SAMPLES, SweepResult, run_sweep, to_json_dict, validate_samples
from tcomodel.sweep.ranges import SampledInput, resolve_ranges
from tcomodel.sweep.xlsx import default_output_path, write_sweep_xlsx


def sweep(scenario_path: str | os.PathLike, samples: int, seed: int | None = None, *,
          xlsx_path: str | os.PathLike | None = None, json_path: str | os.PathLike | None = None,
          progress=None) -> SweepResult:
    """Load a scenario, run the Monte Carlo and optionally write the workbook and the JSON (atomically)."""
    from tcomodel.fileio import atomic_path
    from tcomodel.finance import run_model
    from tcomodel.inputs import load_scenario

    validate_samples(samples, seed)  # before the (slower) load, so a bad flag fails fast
    res = run_sweep(run_model(load_scenario(scenario_path)), samples, seed, progress=progress)
    if xlsx_path is not None:
        write_sweep_xlsx(res, xlsx_path, protect=[scenario_path])
    if json_path is not None:
        with atomic_path(json_path, protect=[scenario_path]) as tmp:
            Path(tmp).write_text(json.dumps(to_json_dict(res), indent=2) + "\n")
    return res


__all__ = ["MAX_SAMPLES", "SampledInput", "SweepResult", "default_output_path", "resolve_ranges", "run_sweep",
           "sweep", "to_json_dict", "validate_samples", "write_sweep_xlsx"]
