"""The spreadsheet-style core: line items defined once, evaluated in numpy, rendered as Excel formulas."""

from tcomodel.sheet.engine import evaluate, excel_irr, excel_npv
from tcomodel.sheet.expr import (
    CEILING, CHOOSE, HOURS_PER_QUARTER, IF, IFERROR, MAX, MILLION, MIN, MONTHS_PER_QUARTER, NA, ROUND, SUM,
    Const, Expr, Input, Item, RowRef, SheetError, balanced_sum, const, count_different, index, inp, irr, item, match, npv, prev,
    row_input, row_max, sumifs, sumproduct, text, timeline, total,
)
from tcomodel.sheet.functions import FUNCTIONS, Fn
from tcomodel.sheet.render import (
    CellLoc, Layout, RowLoc, WrittenCell, absolute_ref, quote_sheet, render, render_total,
)
from tcomodel.sheet.writer import (
    cached_value, write_block, write_inputs, write_period_header, write_rows, write_scalar,
    written_cells,
)

__all__ = [
    "CEILING", "CHOOSE", "FUNCTIONS", "HOURS_PER_QUARTER", "IF", "IFERROR", "MAX", "MILLION", "MIN", "MONTHS_PER_QUARTER",
    "NA", "ROUND", "SUM", "CellLoc", "Const", "Expr", "Fn", "Input", "Item", "Layout", "RowLoc", "RowRef",
    "SheetError", "WrittenCell", "absolute_ref", "balanced_sum", "cached_value", "const", "count_different", "evaluate", "excel_irr", "excel_npv",
    "index", "inp", "irr", "item", "match", "npv", "prev", "quote_sheet", "render", "render_total", "row_input",
    "row_max", "sumifs", "sumproduct", "text", "timeline", "total", "write_block", "write_inputs", "write_period_header",
    "write_rows", "write_scalar", "written_cells",
]
