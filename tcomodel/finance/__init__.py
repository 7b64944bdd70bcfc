"""The TCO model: line items per option kind, metrics, and the results of a run."""

from tcomodel.finance.build import build_tco_model
from tcomodel.finance.model import Capacity
from tcomodel.finance.capacity import operating_points
from tcomodel.finance.results import ModelRun, run_model, run_model_every_range_checked, to_json_dict

__all__ = ["Capacity", "ModelRun", "build_tco_model", "operating_points", "run_model", "run_model_every_range_checked",
           "to_json_dict"]
