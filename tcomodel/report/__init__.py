"""The formatted Excel report (xlsxwriter). Presentation only: every figure comes from a ModelRun."""

from tcomodel.report.workbook import write_report

__all__ = ["write_report"]
