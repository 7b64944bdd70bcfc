"""Render line items as A1 formulas.

Period items get the same formula shape in every period column: relative column references for
rows (``F12``, ``Time!F$4``), absolute references for input cells (``Inputs!$C$7``). Only prev()
differs in the first period, where it renders its initial value.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import NamedTuple

from xlsxwriter.utility import quote_sheetname, xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

from tcomodel.sheet.expr import (
    Aggregate, BinOp, Compare, Const, Expr, Func, Input, Item, Neg, Prev, RowRef, SheetError, Text,
)
from tcomodel.sheet.functions import FUNCTIONS


class CellLoc(NamedTuple):
    sheet: str
    row: int  # 0-based, as xlsxwriter
    col: int


class RowLoc(NamedTuple):
    sheet: str
    row: int  # 0-based


@functools.lru_cache(maxsize=None)
def col_letters(col: int) -> str:
    """Column letters of a 0-based column (xlsxwriter's xl_col_to_name, worked out once per column)."""
    return xl_col_to_name(col)


def cell_ref(row: int, col: int, row_abs: bool = False, col_abs: bool = False) -> str:
    """``xl_rowcol_to_cell`` for a cell on the sheet (0-based row and column), its column letters worked out
    once per column."""
    if row < 0 or col < 0:
        return xl_rowcol_to_cell(row, col, row_abs, col_abs)  # xlsxwriter's warning, and ''
    return f"{'$' if col_abs else ''}{col_letters(col)}{'$' if row_abs else ''}{row + 1}"


class WrittenCell(NamedTuple):
    sheet: str
    cell: str  # A1
    formula: str | None  # None for a constant
    value: object  # the cached value written (float, str, or '#N/A')


class WrittenRow(NamedTuple):
    """A row's period formula cells from column ``col`` on, as written: listed cell by cell on demand."""
    sheet: str
    row: int  # 0-based
    col: int  # 0-based, the first cell's
    formulas: list[str]
    values: list  # the cached values written

    def cells(self) -> list[WrittenCell]:
        row_name = str(self.row + 1)
        return [WrittenCell(self.sheet, col_letters(self.col + i) + row_name, f, v)
                for i, (f, v) in enumerate(zip(self.formulas, self.values))]


@dataclass
class Layout:
    """Where everything lives. Rows/columns are 0-based (xlsxwriter's convention).

    The period columns are the same on every sheet: period i is column ``first_col + i``.
    """

    periods: int
    first_col: int = 4  # FAST: label | unit | constant/input | total | period 1..N
    label_col: int = 0
    unit_col: int = 1
    const_col: int = 2
    total_col: int = 3
    inputs: dict[str, CellLoc] = field(default_factory=dict)
    rows: dict[str, RowLoc] = field(default_factory=dict)
    items: dict[Item, RowLoc] = field(default_factory=dict)
    scalars: dict[Item, CellLoc] = field(default_factory=dict)
    constants: dict[str, CellLoc] = field(default_factory=dict)  # named unit constants shown in a cell
    input_names: dict[str, str] = field(default_factory=dict)  # input -> the workbook's defined name of its cell
    constant_names: dict[str, str] = field(default_factory=dict)  # Const.name -> defined name
    written: list[WrittenCell | WrittenRow] = field(default_factory=list)  # in order; written_cells() lists them
    errors: list[WrittenCell] = field(default_factory=list)  # cells written with a #N/A cached value

    @staticmethod
    def _cell(cell) -> tuple[int, int]:
        if isinstance(cell, str):
            return xl_cell_to_rowcol(cell.replace("$", ""))
        return tuple(cell)

    def add_input(self, name: str, sheet: str, cell, defined_name: str | None = None) -> None:
        """Register a scalar input at ``cell`` ('C7' or (row, col)); formulas reference it by ``defined_name``
        where given (the caller defines that name in the workbook)."""
        r, c = self._cell(cell)
        self.inputs[name] = CellLoc(sheet, r, c)
        if defined_name:
            self.input_names[name] = defined_name

    def add_constant(self, name: str, sheet: str, cell, defined_name: str | None = None) -> None:
        """A named constant (Const.name, e.g. 'hours per quarter') that formulas reference instead of its number."""
        r, c = self._cell(cell)
        self.constants[name] = CellLoc(sheet, r, c)
        if defined_name:
            self.constant_names[name] = defined_name

    def add_row(self, name: str, sheet: str, row: int) -> None:
        """Register a row input or timeline row (0-based row) spanning the period columns."""
        self.rows[name] = RowLoc(sheet, row)

    add_row_input = add_row
    add_timeline_row = add_row

    def place(self, it: Item, sheet: str, row: int, col: int | None = None) -> None:
        """Register a line item: period items by row; scalar items at (row, col or const_col)."""
        if it.is_scalar:
            loc = CellLoc(sheet, row, self.const_col if col is None else col)
            old = self.scalars.get(it)
            if old is not None and old != loc:
                raise SheetError(f"{it.label!r} is already placed at {_a1(old)}")
            self.scalars[it] = loc
        else:
            loc = RowLoc(sheet, row)
            old = self.items.get(it)
            if old is not None and old != loc:
                raise SheetError(f"{it.label!r} is already placed on {old.sheet} row {old.row + 1}")
            self.items[it] = loc

    def period_col(self, period_index: int) -> int:
        return self.first_col + period_index

    @property
    def last_col(self) -> int:
        return self.first_col + self.periods - 1


def _a1(loc: CellLoc) -> str:
    return f"{loc.sheet}!{cell_ref(loc.row, loc.col)}"


@functools.lru_cache(maxsize=4096)
def quote_sheet(name: str) -> str:
    """A sheet name as a formula or hyperlink writes it: quoted where Excel needs it ('My sheet'), else bare."""
    return quote_sheetname(name)


def absolute_ref(sheet: str, row: int, col: int) -> str:
    """``=Sheet!$C$3``: what a defined name refers to (0-based row and column)."""
    return f"={quote_sheet(sheet)}!{cell_ref(row, col, True, True)}"


def _prefix(target_sheet: str, here: str) -> str:
    return "" if target_sheet == here else quote_sheet(target_sheet) + "!"


def format_number(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v).upper()  # shortest round-trip text; 1e-06 -> 1E-06


# precedence: higher binds tighter
_PREC = {"cmp": 1, "+": 2, "-": 2, "*": 3, "/": 3, "^": 4, "neg": 5, "atom": 6}


class _Renderer:
    def __init__(self, layout: Layout, sheet: str, period_index: int | None):
        self.L = layout
        self.sheet = sheet
        self.p = period_index

    def col(self, lag: int = 0) -> int:
        if self.p is None:
            raise SheetError("a per-period reference inside a scalar formula")
        return self.L.period_col(self.p - lag)

    def rel(self, row: int, lag: int, row_abs: bool) -> str:
        """A reference to ``row`` in this period's column (``lag`` periods back): F12, or F$4 for ``row_abs``."""
        return cell_ref(row, self.col(lag), row_abs, False)

    def r(self, e: Expr) -> tuple[str, int]:
        """Formula text and its precedence."""
        L = self.L
        if isinstance(e, Const):
            loc = L.constants.get(e.name) if e.name else None
            if e.name in L.constant_names:
                return L.constant_names[e.name], 6
            if loc is not None:
                return _prefix(loc.sheet, self.sheet) + cell_ref(loc.row, loc.col, True, True), 6
            s = format_number(e.value)
            return s, (_PREC["neg"] if e.value < 0 else _PREC["atom"])
        if isinstance(e, Text):
            return '"' + e.value.replace('"', '""') + '"', 6
        if isinstance(e, Input):
            if e.name in L.input_names:
                return L.input_names[e.name], 6
            loc = L.inputs.get(e.name)
            if loc is None:
                raise SheetError(f"input {e.name!r} has no cell in the layout")
            return _prefix(loc.sheet, self.sheet) + cell_ref(loc.row, loc.col, True, True), 6
        if isinstance(e, RowRef):
            loc = L.rows.get(e.name)
            if loc is None:
                raise SheetError(f"row {e.name!r} has no row in the layout")
            return _prefix(loc.sheet, self.sheet) + self.rel(loc.row, 0, True), 6
        if isinstance(e, Item):
            return self.item_ref(e, 0), 6
        if isinstance(e, Prev):
            if self.p == 0:
                return self.r(e.init)
            return self.item_ref(e.item, 1), 6
        if isinstance(e, BinOp):
            p = _PREC[e.op]
            a, pa = self.r(e.a)
            b, pb = self.r(e.b)
            if e.op == "^":  # Excel's ^ is left-associative and unary minus binds tighter: be explicit
                a = a if pa == 6 else f"({a})"
                b = b if pb == 6 else f"({b})"
            else:
                # right operand parenthesised at equal precedence: Excel then computes exactly
                # what numpy computes (a*(b/c) is not a*b/c in floating point)
                a = a if pa >= p else f"({a})"
                b = b if (pb > p and pb != _PREC["neg"]) else f"({b})"
            return f"{a}{e.op}{b}", p
        if isinstance(e, Neg):
            a, pa = self.r(e.a)
            return ("-" + (a if pa == 6 else f"({a})")), _PREC["neg"]
        if isinstance(e, Compare):
            return f"({self.comparison(e)})*1", _PREC["*"]
        if isinstance(e, Func):
            fn = FUNCTIONS[e.name]
            parts = [self.comparison(a) if i in fn.conditions and isinstance(a, Compare) else self.r(a)[0]
                     for i, a in enumerate(e.args)]
            return f"{fn.excel}({','.join(parts)})", 6
        if isinstance(e, Aggregate):
            fn = FUNCTIONS[e.name]
            rows = [self.row_range(x) for x in e.rows]
            sc = [self.scalar(s) for s in e.scalars]
            if fn.tail:
                rows = [self.tail_range(e)]
            return fn.excel.format(**{f"r{i}": x for i, x in enumerate(rows)},
                                   **{f"s{i}": x for i, x in enumerate(sc)}), 6
        raise SheetError(f"cannot render {e!r}")

    def comparison(self, e: Compare) -> str:
        """A comparison without the ``*1`` that makes it a number (IF's condition takes it bare)."""
        a, pa = self.r(e.a)
        b, pb = self.r(e.b)
        a = a if pa > 1 else f"({a})"
        b = b if pb > 1 else f"({b})"
        return f"{a}{e.op}{b}"

    def tail_range(self, e: Aggregate) -> str:
        """The row's periods and the tail cell right after them (IRR over boundaries 0..N)."""
        row_loc = self.L.items.get(e.rows[0])
        tail_loc = self.L.scalars.get(e.scalars[0])
        if (row_loc is None or tail_loc is None or tail_loc.sheet != row_loc.sheet
                or tail_loc.row != row_loc.row or tail_loc.col != self.L.last_col + 1):
            raise SheetError(f"IRR tail {e.scalars[0]!r} must sit right after the last period of its row")
        a = cell_ref(row_loc.row, self.L.first_col, True, True)
        b = cell_ref(row_loc.row, self.L.last_col + 1, True, True)
        return f"{_prefix(row_loc.sheet, self.sheet)}{a}:{b}"

    def scalar(self, e: Expr) -> str:
        return _Renderer(self.L, self.sheet, None).r(e)[0]

    def item_ref(self, it: Item, lag: int) -> str:
        L = self.L
        if it in L.scalars:
            loc = L.scalars[it]
            return _prefix(loc.sheet, self.sheet) + cell_ref(loc.row, loc.col, True, True)
        loc = L.items.get(it)
        if loc is None:
            raise SheetError(f"line item {it.label!r} is not placed in the layout")
        return _prefix(loc.sheet, self.sheet) + self.rel(loc.row, lag, False)

    def row_range(self, x) -> str:
        L = self.L
        if isinstance(x, Item):
            loc = L.items.get(x)
            if loc is None:
                raise SheetError(f"line item {x.label!r} is not placed in the layout")
        else:
            loc = L.rows.get(x.name)
            if loc is None:
                raise SheetError(f"row {x.name!r} has no row in the layout")
        a = cell_ref(loc.row, L.first_col, True, True)
        b = cell_ref(loc.row, L.last_col, True, True)
        return f"{_prefix(loc.sheet, self.sheet)}{a}:{b}"


def render(it: Item | Expr, period_index: int | None, layout: Layout, sheet: str) -> str:
    """Formula text (with '=') for ``it`` written on ``sheet`` in period ``period_index`` (0-based;
    ignored for scalar items). An Item renders its definition, not a reference to itself."""
    e = it.expr if isinstance(it, Item) else it
    scalar = it.is_scalar if not isinstance(it, Item) else (it.is_scalar and not it.per_period)
    return "=" + _Renderer(layout, sheet, None if scalar else period_index).r(e)[0]


_COL = "\x00"  # marks a period column in a template; no formula text contains it


class _TemplateRenderer(_Renderer):
    """Renders a period formula once with its period columns left as marks: ``\x00lag\x00`` where the
    column goes, so every later period is the template with column names filled in."""

    def __init__(self, layout: Layout, sheet: str):
        super().__init__(layout, sheet, 1)  # any period after the first: prev() references, not its init

    def rel(self, row: int, lag: int, row_abs: bool) -> str:
        return f"{_COL}{lag}{_COL}{'$' if row_abs else ''}{row + 1}"


class PeriodTemplate(NamedTuple):
    """A period formula as literal text between its period columns: period p's formula is
    ``lits[0] + names[p - lags[0]] + lits[1] + ...``."""
    lits: list[str]
    lags: list[int]  # how many periods back each column points
    names: list[str]  # the column letters of every period


def render_periods(it: Item, layout: Layout, sheet: str) -> list[str]:
    """``[render(it, p, layout, sheet) for p in range(layout.periods)]``, rendering the tree twice, not once
    per period: the first period (where prev() gives its initial value) and a template for the others,
    whose relative columns are then shifted. A period formula differs between periods only in those."""
    return render_periods_template(it, layout, sheet)[0]


def render_periods_template(it: Item, layout: Layout, sheet: str) -> tuple[list[str], PeriodTemplate | None]:
    """``render_periods``' formulas and the template they were filled from (every period, or from the second
    on where the first renders prev()'s initial value; None where each period was rendered on its own)."""
    n = layout.periods
    if n == 0:
        return [], None
    first = render(it, 0, layout, sheet)
    if n == 1 or (it.is_scalar and not it.per_period) or _COL in first:
        return [first] + [render(it, p, layout, sheet) for p in range(1, n)], None
    parts = ("=" + _TemplateRenderer(layout, sheet).r(it.expr)[0]).split(_COL)
    template = PeriodTemplate(parts[0::2], [int(x) for x in parts[1::2]],
                              [col_letters(layout.period_col(p)) for p in range(n)])
    # the template's own check, against a period rendered on its own: never write a wrong formula. Without
    # prev() (no column lags) the first period comes from the template too, checked against its own render.
    if not any(template.lags):
        out = fill_periods(template, 0, n)
        ok = out[0] == first
    else:
        out = [first] + fill_periods(template, 1, n)
        ok = out[1] == render(it, 1, layout, sheet)
    if not ok:
        return [render(it, p, layout, sheet) for p in range(n)], None
    return out, template


def fill_periods(template: PeriodTemplate, start: int, stop: int) -> list[str]:
    """The template's text for periods ``start`` to ``stop - 1`` (each column at least 0: ``start`` >= every lag)."""
    lits, lags, names = template
    if start >= stop:
        return []
    if not lags:  # no period column (a scalar expression forced into a row): the same text every period
        return [lits[0]] * (stop - start)
    if any(lag > start for lag in lags):
        raise SheetError(f"period {start} has no column {max(lags)} periods back")
    columns = [itertools.repeat(lits[0])]  # literal, the column of each period, literal, ..., literal
    for lag, lit in zip(lags, lits[1:]):
        columns += [names[start - lag:stop - lag], itertools.repeat(lit)]
    return ["".join(parts) for parts in zip(*columns)]


def render_total(it: Item, layout: Layout, sheet: str) -> str:
    """``=SUM(E12:AF12)`` for the total column of a period item's row."""
    loc = layout.items[it]
    a = cell_ref(loc.row, layout.first_col)
    b = cell_ref(loc.row, layout.last_col)
    return f"=SUM({_prefix(loc.sheet, sheet)}{a}:{b})"


def col_name(col: int) -> str:
    return xl_col_to_name(col)
