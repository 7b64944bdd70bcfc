"""Recalculate a written report in LibreOffice and compare every formula cell with its cached value."""

from tcomodel.verify.mismatches import Mismatch, VerifyResult, compare_values, verify_report
from tcomodel.verify.recalc import find_soffice, recalculate

__all__ = ["Mismatch", "VerifyResult", "compare_values", "find_soffice", "recalculate", "verify_report"]
