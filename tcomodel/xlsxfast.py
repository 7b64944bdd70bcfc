"""A faster xlsxwriter worksheet for formula-heavy workbooks.

xlsxwriter's ``Worksheet._prepare_formula`` runs 29 ``re.sub`` per formula to prefix Excel 365's
dynamic-array functions (``FILTER(`` -> ``_xlfn._xlws.FILTER(``), even when no formula uses one; in a
report of ~13,000 formulas that was about a quarter of the write time. ``FastWorksheet`` first looks for
any of those function names followed by '(' with one regex and, where there is none, only strips the
leading '=' (what the 29 substitutions would leave). Anything else (a dynamic function, the
``use_future_functions`` option, the prefixing xlsxwriter does for tables and conditional formats) goes
to xlsxwriter's own method, so the file written is the same byte for byte.

The same goes for ``_write_formula``, which runs xlsxwriter's dynamic-array regex on every formula before
``_prepare_formula``: with the guard above not matching, neither can that regex, so the cell is stored directly.
And the XML escaping of each cell's attributes and text, which xlsxwriter does with a regex search (and, for
the numeric style index, a caught TypeError) per value, takes plain substring tests here. ``_write_rows``
visits a row's cells in column order (xlsxwriter tests every column of the sheet's width) and writes the
commonest cells of a report (a formula with a numeric cached value, a number, a shared string, each with its
own format, and a bare shared string) in one f-string, the XML xlsxwriter writes for them; any other cell goes
to xlsxwriter's ``_write_cell``. ``write_formula_row`` and ``write_string_row`` write a row's formulas or
strings in one call.

Use it through xlsxwriter's documented hook: ``workbook.add_worksheet(name, worksheet_class=FastWorksheet)``
(or ``Workbook.worksheet_class``).

``FastWorkbook`` (through xlsxwriter's ``_get_packager`` hook, "this allows the default packager to be
over-ridden") writes the shared-string table with one regex test per string: a string that no escaping, no
whitespace attribute and no rich text touches is written as xlsxwriter would write it, in one f-string; any
other goes to xlsxwriter's own ``_write_si``. At 200 options (50,000 strings) that part took 0.11 s.
"""

from __future__ import annotations

import re

import xlsxwriter
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.worksheet import CellFormulaTuple, CellNumberTuple, CellStringTuple, Worksheet

from tcomodel.sheet.render import col_letters

# The names xlsxwriter 3.x's _prepare_formula prefixes before its use_future_functions test. "INGLE"
# for SINGLE: its pattern is r"\SINGLE\(" (any non-space character then INGLE), so the guard matches
# the wider text. tests/test_fast_write.py checks this list against the installed xlsxwriter's source.
DYNAMIC_FUNCTIONS = (
    "ANCHORARRAY", "BYCOL", "BYROW", "CHOOSECOLS", "CHOOSEROWS", "DROP", "EXPAND", "FILTER", "HSTACK", "LAMBDA",
    "MAKEARRAY", "MAP", "RANDARRAY", "REDUCE", "SCAN", "INGLE", "SEQUENCE", "SORT", "SORTBY", "SWITCH", "TAKE",
    "TEXTSPLIT", "TOCOL", "TOROW", "UNIQUE", "VSTACK", "WRAPCOLS", "WRAPROWS", "XLOOKUP",
)
# no \b: a superset of what xlsxwriter's patterns match, so "no match here" means "nothing to prefix"
_MAY_NEED_PREFIX = re.compile("(?:" + "|".join(DYNAMIC_FUNCTIONS) + r")\(")


class FastWorksheet(Worksheet):
    """xlsxwriter's Worksheet with fast paths for the formulas and cells a report writes (the module's docstring
    lists them); it writes the same bytes."""

    def __init__(self):
        super().__init__()
        # formula text (without '=') -> its manifest hash, where a writer worked it out from a row's template
        # (xlsxmanifest.template_hashes); the manifest hashes every other formula itself
        self.formula_hashes: dict[str, str] = {}

    def _prepare_formula(self, formula, expand_future_functions=False):
        if self.use_future_functions or expand_future_functions or "_xlfn." in formula \
                or _MAY_NEED_PREFIX.search(formula):
            return super()._prepare_formula(formula, expand_future_functions)
        # what xlsxwriter strips before its substitutions: array braces and the leading '='
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula

    def _write_formula(self, row, col, formula, cell_format=None, value=0):
        # xlsxwriter's own method wherever it might do more than store the formula (dynamic or future functions,
        # array braces, an empty formula, constant_memory); otherwise its steps without the regex searches
        if (self.use_future_functions or self.constant_memory or not formula or formula[0] == "{"
                or formula[-1] == "}" or "_xlfn." in formula or _MAY_NEED_PREFIX.search(formula)):
            return super()._write_formula(row, col, formula, cell_format, value)
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = CellFormulaTuple(formula[1:] if formula[0] == "=" else formula, cell_format, value)
        return 0

    def write_formula_row(self, row, col, formulas, cell_format, values):
        """``write_formula(row, col + i, formulas[i], cell_format, values[i])`` for each formula (a row's
        period cells) with the dimensions checked once, for the row's first and last cell, and the prefix
        guard run once over the row's text. Returns 0, or the first nonzero status write_formula gave."""
        n = len(formulas)
        if len(values) != n:
            raise ValueError(f"{n} formulas but {len(values)} cached values")
        whole = "\n".join(formulas)  # no guarded name spans a line break: one search for the row
        if (n == 0 or self.use_future_functions or self.constant_memory or not all(formulas)
                or "_xlfn." in whole or "{" in whole or "}" in whole or _MAY_NEED_PREFIX.search(whole)
                or self._check_dimensions(row, col + n - 1) or self._check_dimensions(row, col)):
            statuses = [self.write_formula(row, col + i, f, cell_format, v)
                        for i, (f, v) in enumerate(zip(formulas, values))]
            return next((s for s in statuses if s), 0)
        cells = self.table[row]
        for i, (f, v) in enumerate(zip(formulas, values)):
            cells[col + i] = CellFormulaTuple(f[1:] if f[0] == "=" else f, cell_format, v)
        return 0

    def write_string_row(self, row, col, strings, cell_format=None):
        """``write_string(row, col + i, strings[i], cell_format)`` for each string (a manifest row) with the
        dimensions checked once, for the row's first and last cell. Returns 0, or the first nonzero status
        write_string gave."""
        n = len(strings)
        if (n == 0 or self.constant_memory or any(len(s) > self.xls_strmax // 2 for s in strings)
                or self._check_dimensions(row, col + n - 1) or self._check_dimensions(row, col)):
            statuses = [self.write_string(row, col + i, s, cell_format) for i, s in enumerate(strings)]
            return next((s for s in statuses if s), 0)
        cells, index = self.table[row], self.str_table._get_shared_string_index
        for i, s in enumerate(strings):
            cells[col + i] = CellStringTuple(index(s), cell_format)
        return 0

    def _escape_attributes(self, attribute):
        if not isinstance(attribute, str) or not ('"' in attribute or "&" in attribute or "<" in attribute
                                                  or ">" in attribute or "\n" in attribute):
            return attribute  # what xlsxwriter returns: a number as it is, text with nothing to escape
        return super()._escape_attributes(attribute)

    def _escape_data(self, data):
        if not isinstance(data, str) or not ('"' in data or "&" in data or "<" in data or ">" in data or "\n" in data):
            return data
        return super()._escape_data(data)

    def _calculate_spans(self):
        # xlsxwriter's spans (the first and last column used in each block of 16 rows, cells and comments)
        # from each row's smallest and largest column rather than a test of every column of the sheet's width
        spans, span_min, span_max = {}, None, None
        table, comments, lo, hi = self.table, self.comments, self.dim_colmin, self.dim_colmax
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            for cols in (table.get(row_num), comments.get(row_num)):
                if not cols:
                    continue
                first, last = min(cols), max(cols)
                if first < lo or last > hi:  # a column outside the sheet's dimensions: xlsxwriter skips it
                    inside = [c for c in cols if lo <= c <= hi]
                    if not inside:
                        continue
                    first, last = min(inside), max(inside)
                if span_min is None:
                    span_min, span_max = first, last
                else:
                    span_min, span_max = min(span_min, first), max(span_max, last)
            if (row_num + 1) % 16 == 0 or row_num == self.dim_rowmax:
                if span_min is not None:
                    spans[int(row_num / 16)] = f"{span_min + 1}:{span_max + 1}"
                    span_min = None
        self.row_spans = spans

    def _write_rows(self):
        # xlsxwriter's row loop (the same rows, spans and row elements), with the cells of a row visited in
        # column order (xlsxwriter tests every column of the sheet's width) and the common cells written inline
        if self.constant_memory:
            return super()._write_rows()
        self._calculate_spans()
        table, row_info, comments, spans, fh = self.table, self.row_info, self.comments, self.row_spans, self.fh
        col_info = self.col_info
        first_col, last_col = self.dim_colmin, self.dim_colmax
        write_cell, letters = self._write_cell, col_letters
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cols = table[row_num]
            if not (row_num in row_info or row_num in comments or cols):
                continue
            span = spans.get(int(row_num / 16))
            if not cols:
                self._write_empty_row(row_num, span, row_info.get(row_num))
                continue
            if row_num not in row_info:
                self._write_row(row_num, span)
            else:
                self._write_row(row_num, span, row_info[row_num])
            row_name, bare_row = str(row_num + 1), row_num not in row_info  # bare: no row format to inherit
            parts = []  # the row's inline cells, written before any cell xlsxwriter writes and at the row's end
            for col_num in sorted(cols):
                if not first_col <= col_num <= last_col:
                    continue
                cell = cols[col_num]
                kind, fmt = type(cell), cell.format
                if fmt is None:
                    if kind is CellStringTuple and bare_row and col_num not in col_info:
                        parts.append(f'<c r="{letters(col_num)}{row_name}" t="s"><v>{cell.string}</v></c>')
                        continue
                elif kind is CellFormulaTuple:
                    value = cell.value
                    if type(value) is float or type(value) is int:
                        formula = cell.formula
                        if '"' in formula or "&" in formula or "<" in formula or ">" in formula or "\n" in formula:
                            formula = self._escape_data(formula)
                        parts.append(f'<c r="{letters(col_num)}{row_name}" s="{fmt._get_xf_index()}">'
                                     f'<f>{formula}</f><v>{value}</v></c>')
                        continue
                elif kind is CellNumberTuple:
                    parts.append(f'<c r="{letters(col_num)}{row_name}" s="{fmt._get_xf_index()}">'
                                 f'<v>{cell.number:.16G}</v></c>')
                    continue
                elif kind is CellStringTuple:
                    parts.append(f'<c r="{letters(col_num)}{row_name}" s="{fmt._get_xf_index()}" t="s">'
                                 f'<v>{cell.string}</v></c>')
                    continue
                if parts:  # any other cell: xlsxwriter's own, after the cells before it
                    fh.write("".join(parts))
                    parts = []
                write_cell(row_num, col_num, cell)
            parts.append("</row>")
            fh.write("".join(parts))


# the xlsxwriter methods FastWorksheet replaces: the identity test and benchmark put xlsxwriter's back to compare
FAST_METHODS = ("_prepare_formula", "_write_formula", "_escape_attributes", "_escape_data", "_calculate_spans",
                "_write_rows")


# What xlsxwriter's _write_si changes or marks in a shared string: an Excel escape to escape again or a control
# character to escape (_escape_control_characters), leading or trailing whitespace (xml:space="preserve"; \s and $
# as in xlsxwriter.utility), a character _escape_data replaces, and rich text (starts with "<r>"). A string with
# none of them is written as it is.
_SST_SLOW = re.compile(r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f&<>]|^\s|\s$")


class FastSharedStrings(SharedStrings):
    def _write_sst_strings(self):
        fh, slow, search = self.fh, self._write_si, _SST_SLOW.search
        parts = []
        for string in self.string_table.string_array:
            if type(string) is str and search(string) is None:
                parts.append(f"<si><t>{string}</t></si>")
                continue
            if parts:
                fh.write("".join(parts))
                parts = []
            slow(string)
        if parts:
            fh.write("".join(parts))


class FastPackager(Packager):
    def _write_shared_strings_file(self):
        # xlsxwriter's own, with FastSharedStrings
        sst = FastSharedStrings()
        sst.string_table = self.workbook.str_table
        if not self.workbook.str_table.count:
            return
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class FastWorkbook(xlsxwriter.Workbook):
    """xlsxwriter's Workbook, its shared strings written by FastSharedStrings (the same bytes)."""

    def _get_packager(self):
        return FastPackager()
