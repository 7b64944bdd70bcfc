"""The public Python API of tcomodel: every public name here is exported by ``tcomodel`` (its ``__all__``,
checked by tests/test_api.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

from tcomodel.errors import OutputError as _OutputError  # private: not API
from tcomodel.fileio import atomic_paths as _atomic_paths, check_target as _check_target  # private: not API
from tcomodel.finance import ModelRun, run_model, to_json_dict
from tcomodel.finance.line_items import write_csv as _write_csv  # private: not API
from tcomodel.inputs import Scenario, load_scenario, write_scenario_workbook
from tcomodel.provenance import refuse_other_scenario as _refuse_other_scenario  # private: not API
from tcomodel.roofline import Estimate, check_claim, estimate


def build(scenario_path: str | os.PathLike, *, json_path: str | os.PathLike | None = None,
          xlsx_path: str | os.PathLike | None = None, export_path: str | os.PathLike | None = None,
          build_date: dt.date | None = None, force: bool = False,
          progress=None, case: str = "base") -> ModelRun:
    """Load, validate and evaluate a scenario; optionally write the JSON results and the Excel report.

    ``case`` (low, base or high) selects the Ranges sheet's low or high value for every ranged input; the
    report carries all three cases and opens on this one; the JSON and the export hold this case.
    ``build_date`` (default today) dates the report and measures the age of its prices. Every output
    is checked before any work (see tcomodel.fileio; ``force`` replaces read-only targets and outputs of
    another scenario file, see tcomodel.provenance) and renamed
    into place together at the end, so a failed or interrupted build leaves none.
    ``export_path`` receives every line item as CSV in long form (``ModelRun.line_items()``).
    ``progress(done_percent, 100, elapsed_s)`` is called as the build advances.
    """
    t0 = time.perf_counter()

    def tick(percent):
        if progress is not None:
            progress(min(100, int(percent)), 100, time.perf_counter() - t0)

    outputs = [json_path, xlsx_path, export_path]
    seen: dict = {}
    for p in outputs:  # fail fast, before the (possibly slow) load
        if p is not None:
            real = os.path.abspath(_check_target(p, force_readonly=force, protect=[scenario_path]))
            if real in seen:
                raise _OutputError(f"{seen[real]} and {p} are the same file; give each output its own path")
            seen[real] = p
    scenario = load_scenario(scenario_path)
    # a report of another scenario file at the same path is never silently replaced (force: it is)
    _refuse_other_scenario(outputs, scenario_path, scenario.settings.scenario_name, force=force)
    tick(10)
    run = run_model(scenario, build_date=build_date, case=case)
    tick(30)
    if all(p is None for p in outputs):
        tick(100)
        return run
    with _atomic_paths(outputs, force_readonly=force, protect=[scenario_path]) as (json_tmp, xlsx_tmp, csv_tmp):
        if csv_tmp is not None:
            _write_csv(run.line_items(), csv_tmp)
        if json_tmp is not None:
            json_tmp.write_text(json.dumps(to_json_dict(run), indent=2, sort_keys=False) + "\n")
        tick(35)
        if xlsx_tmp is not None:
            from tcomodel.report import write_report

            write_report(run, xlsx_tmp, build_date=run.build_date, atomic=False,
                         progress=lambda done, total: tick(35 + 64 * done / total))
    tick(100)
    return run
