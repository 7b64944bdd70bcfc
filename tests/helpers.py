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
