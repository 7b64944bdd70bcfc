"""Shared helpers for tests: build scenario workbooks and mutate copies of them."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import openpyxl


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def mutate(src: Path, dst: Path, edit) -> Path:
    """Copy a workbook through openpyxl, applying ``edit(workbook)``."""
    wb = openpyxl.load_workbook(io.BytesIO(Path(src).read_bytes()))
    edit(wb)
    wb.save(dst)
    return dst


def find_row(ws, column_letter: str, value) -> int:
    for row in range(1, ws.max_row + 1):
        if ws[f"{column_letter}{row}"].value == value:
            return row
    raise AssertionError(f"{value!r} not found in column {column_letter} of {ws.title}")


def column_of(ws, field: str) -> str:
    for cell in ws[1]:
        if cell.value == field:
            return cell.column_letter
    raise AssertionError(f"no column {field!r} on {ws.title}")


def drop_option(wb, option_id: str, sheets=("Options", "ApiPrices", "Staff")) -> None:
    """Delete an option's rows from ``sheets``, and the Ranges rows that sample its inputs and the Correlations
    rows that name those (a user removing an option removes them too: they would name a row that is gone)."""
    for sheet in sheets:
        ws = wb[sheet]
        ws.delete_rows(find_row(ws, "A", option_id))
    ranges = wb["Ranges"]
    for r in range(ranges.max_row, 2, -1):
        if str(ranges[f"B{r}"].value or "").split("/")[0] == option_id:
            ranges.delete_rows(r)
    corr = wb["Correlations"]
    for r in range(corr.max_row, 2, -1):
        if any(f"/{option_id}/" in str(corr[f"{c}{r}"].value or "") for c in "AB"):
            corr.delete_rows(r)
