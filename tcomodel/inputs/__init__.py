"""Scenario workbooks: the format (schema), loading and validation, and the starter template."""

from tcomodel.inputs.cells import Quarter
from tcomodel.inputs.loader import Scenario, Settings, load_scenario
from tcomodel.inputs.template import default_content, write_scenario_workbook

__all__ = ["Quarter", "Scenario", "Settings", "load_scenario", "default_content", "write_scenario_workbook"]
