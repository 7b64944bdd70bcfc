"""The public Python API of tcomodel: every public name here is exported by ``tcomodel`` (its ``__all__``,
checked by tests/test_api.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from tcomodel.fileio import atomic_path as _atomic_path  # private: not part of the API
from tcomodel.finance import ModelRun, run_model, to_json_dict
from tcomodel.inputs import Scenario, load_scenario, write_scenario_workbook
from tcomodel.roofline import Estimate, check_claim, estimate


def build(scenario_path: str | os.PathLike, *, json_path: str | os.PathLike | None = None,
          xlsx_path: str | os.PathLike | None = None, build_date: dt.date | None = None) -> ModelRun:
    """Load, validate and evaluate a scenario; optionally write the JSON results and the Excel report.
    ``build_date`` (default today) dates the report and measures the age of its prices."""
    scenario = load_scenario(scenario_path)
    run = run_model(scenario, build_date=build_date)
    if json_path is not None:
        with _atomic_path(json_path, protect=[scenario_path]) as tmp:
            Path(tmp).write_text(json.dumps(to_json_dict(run), indent=2, sort_keys=False) + "\n")
    if xlsx_path is not None:
        from tcomodel.report import write_report

        write_report(run, xlsx_path, protect=[scenario_path], build_date=run.build_date)
    return run
