"""`tcomodel compare`: the input cells that differ between two scenario workbooks, and a variance
bridge per option of levelized cost and NPV by input group (sequential substitution in GROUPS order)."""

from tcomodel.compare.bridge import (
    METRICS, STRUCTURE, Bridge, CompareResult, compare_runs, compare_scenarios, to_json_dict,
)
from tcomodel.compare.diff import Change, diff_scenarios
from tcomodel.compare.compare_xlsx import default_output_path, write_compare_xlsx, write_json, write_outputs

__all__ = ["METRICS", "STRUCTURE", "Bridge", "Change", "CompareResult", "compare_runs", "compare_scenarios",
           "default_output_path", "diff_scenarios", "to_json_dict", "write_compare_xlsx", "write_json",
           "write_outputs"]
