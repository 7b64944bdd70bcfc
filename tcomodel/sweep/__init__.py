"""Monte Carlo over a scenario's Ranges sheet (`tcomodel sweep`): P10/P50/P90 of levelized cost and
NPV per option and the probability that each option is the cheapest."""

from __future__ import annotations

import json
import os

from tcomodel.fileio import atomic_paths, check_target
from tcomodel.provenance import refuse_other_scenario
from tcomodel.sweep.montecarlo import MAX_SAMPLES, SweepResult, run_sweep, to_json_dict, validate_samples
from tcomodel.finance.input_ranges import SampledInput, resolve_ranges
from tcomodel.sweep.sweep_xlsx import default_output_path, write_sweep_xlsx


def sweep(scenario_path: str | os.PathLike, samples: int, seed: int | None = None, *,
          xlsx_path: str | os.PathLike | None = None, json_path: str | os.PathLike | None = None,
          progress=None, force: bool = False, lhs: bool = False, workers: int | None = None) -> SweepResult:
    """Load a scenario, run the Monte Carlo and optionally write the workbook and the JSON.

    ``workers``: processes evaluating chunks side by side (default: one per CPU, at most 4); the results do not
    depend on it.
    Both outputs are checked before the run (``force`` replaces read-only targets) and renamed into
    place together at the end, so a failed or interrupted sweep leaves neither.
    """
    from tcomodel.finance import run_model_every_range_checked
    from tcomodel.inputs import load_scenario

    validate_samples(samples, seed)  # before the (slower) load, so a bad flag fails fast
    for p in (xlsx_path, json_path):
        if p is not None:
            check_target(p, force_readonly=force, protect=[scenario_path])
    run = run_model_every_range_checked(load_scenario(scenario_path))
    res = run_sweep(run, samples, seed, progress=progress, lhs=lhs, workers=workers)
    write_outputs(res, xlsx_path=xlsx_path, json_path=json_path, protect=[scenario_path], force=force)
    return res


def write_outputs(res: SweepResult, *, xlsx_path=None, json_path=None, protect=(), force: bool = False) -> None:
    """Write the sweep workbook and/or JSON, renamed into place together (see tcomodel.fileio). An output
    of another scenario file at a target is refused unless ``force`` (see tcomodel.provenance)."""
    if xlsx_path is None and json_path is None:
        return
    if res.scenario_file is not None:
        refuse_other_scenario([xlsx_path, json_path], res.scenario_file, res.scenario_name, kind="sweep", force=force)
    with atomic_paths([xlsx_path, json_path], protect=list(protect), force_readonly=force) as (xlsx_tmp, json_tmp):
        if xlsx_tmp is not None:
            write_sweep_xlsx(res, xlsx_tmp, atomic=False)
        if json_tmp is not None:
            json_tmp.write_text(json.dumps(to_json_dict(res), indent=2) + "\n")


__all__ = ["MAX_SAMPLES", "SampledInput", "SweepResult", "default_output_path", "resolve_ranges", "run_sweep",
           "sweep", "to_json_dict", "validate_samples", "write_outputs", "write_sweep_xlsx"]
