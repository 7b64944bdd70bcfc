"""Check a written report: its formulas against the manifest it carries, and every formula cell's cached
value against LibreOffice's recalculation."""

from tcomodel.verify.mismatches import (
    FormulaChange, Mismatch, NotAReportError, VerifyResult, check_formulas, compare_values, verify_report,
)
from tcomodel.verify.recalc import find_soffice, recalculate

__all__ = ["FormulaChange", "Mismatch", "NotAReportError", "VerifyResult", "check_formulas", "compare_values",
           "find_soffice", "recalculate", "verify_report"]
