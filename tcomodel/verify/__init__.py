"""Recalculate a written report in LibreOffice and compare every formula cell with its cached value."""

from tcomodel.verify.compare import (
    FormulaChange, Mismatch, NotAReportError, VerifyResult, check_formulas, compare_values, verify_report,
)
from tcomodel.verify.recalc import find_soffice, recalculate

__all__ = ["FormulaChange", "Mismatch", "NotAReportError", "check_formulas", "VerifyResult", "compare_values", "find_soffice", "recalculate", "verify_report"]
