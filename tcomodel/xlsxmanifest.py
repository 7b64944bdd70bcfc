"""The formula manifest every tcomodel workbook carries, so `tcomodel verify` can check formulas, not
only values.

Writing (xlsxwriter, just before ``close()``): every formula cell's text is hashed and listed in a
very hidden sheet ``tcomodel_formulas``, one row per run of adjacent formula cells in a row
(sheet | first cell | last cell | the cells' hashes, 8 hex digits each, concatenated; compact: a
report's ~12,000 formulas take ~700 rows), and custom document properties mark
the file as a tcomodel workbook (``tcomodel_workbook`` = build, sweep or compare), count the formulas
and hash the list itself. Reading (openpyxl): the same, back, for `verify`.

A formula is hashed after light normalisation (openpyxl's tokenizer: spaces dropped, names and
references upper-cased, numbers as floats), so Excel re-saving ``1E6`` as ``1000000`` is not a change.
This is a check against accidental edits, not a signature: anyone can rewrite the manifest.
"""

from __future__ import annotations

import hashlib
import re

MANIFEST_SHEET = "tcomodel_formulas"
KIND_PROPERTY = "tcomodel_workbook"
COUNT_PROPERTY = "tcomodel_formula_count"
DIGEST_PROPERTY = "tcomodel_manifest_sha256"
KINDS = ("build", "sweep", "compare")
HASH_CHARS = 8  # 32 bits of sha256 per cell: an edit goes unnoticed with odds of 1 in 4 billion
MAX_RUN_CELLS = 2000  # hashes per manifest cell, well under Excel's 32,767 characters


def normalize_formula(text: str) -> str:
    """A canonical form of an Excel formula (with or without the leading '=').

    The same text as ``normalize_formula_openpyxl``; a report's formulas take a fast scanner (openpyxl's
    character-by-character tokenizer was 40% of a report's write time), anything it does not cover
    exactly (errors, arrays, brackets, '%', whitespace other than spaces, a quote after a name) falls
    back to openpyxl.
    """
    text = text if text.startswith("=") else "=" + text
    out = _simple_normalize(text)
    if out is None:
        out = _fast_normalize(text)
    return out if out is not None else normalize_formula_openpyxl(text)


def normalize_formula_openpyxl(text: str) -> str:
    """The reference normalisation: openpyxl's tokenizer, whitespace dropped, references and names
    upper-cased, numbers as floats, text as written."""
    from openpyxl.formula.tokenizer import Tokenizer

    text = text if text.startswith("=") else "=" + text
    try:
        tokens = Tokenizer(text).items
    except Exception:  # noqa: BLE001  unparseable text: compare it as it is
        return text
    out = []
    for t in tokens:
        if t.type == "WHITE-SPACE":
            continue
        if t.type == "OPERAND" and t.subtype == "NUMBER":
            try:
                out.append(repr(float(t.value)))
                continue
            except ValueError:
                pass
        out.append(t.value if t.type == "OPERAND" and t.subtype == "TEXT" else t.value.upper())
    return " ".join(out)


# One token per match, in openpyxl's terms: a "-string (its regex), an operand (a number in scientific
# notation may carry its exponent's sign; a 'quoted sheet'! link only at the operand's start) with an
# adjacent '(' making it a function, a two- or one-character operator, ( ) and ',', runs of spaces.
_OPERAND_CHARS = r"[A-Za-z0-9_.$!:]"
_FAST_TOKEN = re.compile(
    r"""(?P<text>"(?:[^"]*"")*[^"]*"(?!"))"""
    rf"|(?P<operand>(?:[1-9](?:\.[0-9]+)?[Ee][+-]{_OPERAND_CHARS}*"
    rf"|'(?:[^']*'')*[^']*'(?!'){_OPERAND_CHARS}*|{_OPERAND_CHARS}+))(?P<call>\()?"
    r"|(?P<op>>=|<=|<>|[+\-*/^&=<>])|(?P<open>\()|(?P<close>\))|(?P<comma>,)|(?P<space> +)")


def _fast_normalize(text: str) -> str | None:
    """``normalize_formula_openpyxl(text)`` for formulas of the common shape, else None."""
    out, depth, pos, end, prev = [], 0, 1, len(text), None
    match = _FAST_TOKEN.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            return None
        kind, value = m.lastgroup, m.group()
        if kind == "call":
            kind = "operand_call"
        if prev == "operand" and kind in ("text", "operand", "operand_call"):
            return None  # openpyxl would join or reject these: leave it the odd case
        if kind == "text":
            out.append(value)
        elif kind == "operand":
            try:
                out.append(repr(float(value)))
            except ValueError:
                out.append(value.upper())
        elif kind == "operand_call":
            out.append(value.upper())
            depth += 1
        elif kind == "open":
            out.append("(")
            depth += 1
        elif kind == "close":
            if depth == 0:
                return None
            out.append(")")
            depth -= 1
        elif kind != "space":
            out.append(value)
        # a space ends an operand as any other ender does
        prev = None if kind == "space" else ("operand" if kind == "operand" else kind)
        pos = m.end()
    return " ".join(out)


# The formulas a report writes, most of them: no text, no quoted sheet name, no space, no number with a signed
# exponent. Then every token is an operand (with its call parenthesis) or one of these characters, uppercasing
# the whole text uppercases the operands, and the tokens come from one findall.
_SIMPLE_TEXT = re.compile(r"=[A-Za-z0-9_.$!:+\-*/^&=<>(),]*")
_SIMPLE_TOKEN = re.compile(r"[A-Z0-9_.$!:]+\(?|>=|<=|<>|[+\-*/^&=<>(),]")
# The same with 'quoted sheet'! prefixes (letters, digits, _ . - and spaces, no quote), each starting an operand: the
# quote not after an operand character, the tokens checked to cover the whole text.
_SIMPLE_QUOTED_TEXT = re.compile(r"=(?:[A-Za-z0-9_.$!:+\-*/^&=<>(),]|'[A-Za-z0-9_. \-]*'!)*")
_SIMPLE_QUOTED_TOKEN = re.compile(r"(?:'[A-Z0-9_. \-]*'!)?[A-Z0-9_.$!:]+\(?|>=|<=|<>|[+\-*/^&=<>(),]")
_QUOTE_AFTER_OPERAND = re.compile(r"[A-Za-z0-9_.$!:]'[A-Za-z0-9_. \-]*'!")  # (a closing quote is followed by '!')
_ONLY_PARENS = {c: None for c in range(128) if chr(c) not in "()"}  # str.translate: keep the parentheses


def _simple_normalize(text: str) -> str | None:
    """``_fast_normalize(text)`` for formulas of the simple shape above (C-speed tokens), else None."""
    quoted = _SIMPLE_TEXT.fullmatch(text) is None
    if quoted and ("'" not in text or _SIMPLE_QUOTED_TEXT.fullmatch(text) is None
                   or _QUOTE_AFTER_OPERAND.search(text) is not None):
        return None
    upper = text.upper()
    if "E+" in upper or "E-" in upper:  # a signed exponent (1E+6): the scanner's case
        return None
    if quoted:
        tokens = _SIMPLE_QUOTED_TOKEN.findall(upper, 1)
        if "".join(tokens) != upper[1:]:  # a character no token took: the scanner's case
            return None
    else:
        tokens = _SIMPLE_TOKEN.findall(upper, 1)
    parens = text.translate(_ONLY_PARENS)
    while "()" in parens:  # matched pairs out; a ')' left before every '(' had nothing open: openpyxl's case
        parens = parens.replace("()", "")
    if ")" in parens:
        return None
    return " ".join([_number_or(t) if t[0] in _NUMBER_STARTS else t for t in tokens])


_NUMBER_STARTS = frozenset("0123456789.IN")  # float() also reads INF, INFINITY and NAN


def _number_or(token: str) -> str:
    if token[-1] == "(":
        return token
    try:
        return repr(float(token))
    except ValueError:
        return token


def formula_hash(text: str) -> str:
    return hashlib.sha256(normalize_formula(text).encode("utf-8")).hexdigest()[:HASH_CHARS]


_MARK = "QXZJ"  # stands for a period column while a template is normalised: operand letters, no real column


def template_hashes(template, formulas: list[str], start: int, stop: int) -> dict[str, str]:
    """``{formula text without its '=': formula_hash}`` for ``formulas[start:stop]``, the period formulas
    ``render.render_periods_template`` filled from ``template``, normalising the template once instead of each
    formula.

    Normalising spaces tokens apart, upper-cases them and rewrites numbers; a period column's letters sit
    inside a reference token (F12, Time!F$4) whatever they are, so the normalised template with the columns
    filled in is each formula's normal form. Checked against the first formula; {} where that or the
    template's own form does not hold (the manifest then normalises those formulas one by one).
    """
    from tcomodel.sheet.render import fill_periods

    if start >= stop or any(lag > start for lag in template.lags):  # a column before the first period: prev()'s
        return {}                                                    # initial value, not the template's text
    if any(_MARK in lit for lit in template.lits):
        return {}
    pieces = normalize_formula(_MARK.join(template.lits)).split(_MARK)
    if len(pieces) != len(template.lits):
        return {}
    normal = fill_periods(template._replace(lits=pieces), start, stop)
    if normal[0] != normalize_formula(formulas[start]):
        return {}
    return {f[1:]: hashlib.sha256(t.encode("utf-8")).hexdigest()[:HASH_CHARS]
            for f, t in zip(formulas[start:stop], normal)}


def manifest_digest(entries) -> str:
    """sha256 over the manifest rows in order: catches an edited or truncated manifest sheet."""
    # one update of the joined rows: the same bytes as one per row, the same hash, fewer calls (~170,000 at 200 options)
    text = "".join([f"{sheet}\x1f{cell}\x1f{digest}\x1e" for sheet, cell, digest in entries])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_formulas(wb, kind: str) -> int:
    """Add the manifest to an xlsxwriter Workbook about to be closed; return the formula count.

    Reads xlsxwriter's cell table (``Worksheet.table``: row -> col -> cell tuple), so it must be
    called after the last write and before ``wb.close()``; not for constant_memory workbooks.
    """
    from xlsxwriter.worksheet import CellArrayFormulaTuple, CellFormulaTuple

    from tcomodel.sheet.render import cell_ref, col_letters
    from tcomodel.xlsxfast import FastWorksheet

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    formula_cells = (CellFormulaTuple, CellArrayFormulaTuple)
    entries, runs = [], []  # entries: (sheet, cell, hash) for manifest_digest; runs: (sheet, row, first col, [hashes])
    for ws in wb.worksheets():
        if ws.constant_memory:
            raise ValueError("record_formulas needs the whole cell table: constant_memory workbooks are not supported")
        known = getattr(ws, "formula_hashes", None) or {}  # what the writer worked out from row templates
        sheet, table = ws.name, ws.table
        for r in sorted(table):
            cols, run, next_col = table[r], None, None
            for c in sorted(cols):
                cell = cols[c]
                if type(cell) not in formula_cells:
                    continue
                digest = known.get(cell.formula) or formula_hash(cell.formula)
                entries.append((sheet, f"{col_letters(c)}{r + 1}", digest))
                if c == next_col and len(run[3]) < MAX_RUN_CELLS:
                    run[3].append(digest)
                else:
                    run = (sheet, r, c, [digest])
                    runs.append(run)
                next_col = c + 1
    ws = wb.add_worksheet(MANIFEST_SHEET, worksheet_class=FastWorksheet)
    ws.write_row(0, 0, ["sheet", "first cell", "last cell", f"formula hashes ({HASH_CHARS} hex digits per cell)"])
    for i, (sheet, r, c, hashes) in enumerate(runs, start=1):
        ws.write_string_row(i, 0, [sheet, cell_ref(r, c), cell_ref(r, c + len(hashes) - 1), "".join(hashes)])
    ws.very_hidden()  # not listed in Excel's Unhide dialog: it is for verify, not for readers
    wb.set_custom_property(KIND_PROPERTY, kind)
    wb.set_custom_property(COUNT_PROPERTY, str(len(entries)))
    wb.set_custom_property(DIGEST_PROPERTY, manifest_digest(entries))
    return len(entries)


class NotATcomodelWorkbook(Exception):
    """The workbook carries no (readable) tcomodel formula manifest."""


def read_manifest(path) -> tuple[str, dict[tuple[str, str], str], bool]:
    """(kind, {(sheet, cell): hash}, manifest intact) of a tcomodel workbook.

    Raises NotATcomodelWorkbook when the marker property or the manifest sheet is missing.
    """
    import openpyxl
    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string, get_column_letter

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        props = {p.name: getattr(p, "value", None) for p in wb.custom_doc_props}
        kind = props.get(KIND_PROPERTY)
        if kind not in KINDS:
            raise NotATcomodelWorkbook("no tcomodel marker (custom document property "
                                       f"{KIND_PROPERTY})")
        if MANIFEST_SHEET not in wb.sheetnames:
            raise NotATcomodelWorkbook(f"its formula manifest (hidden sheet {MANIFEST_SHEET}) is missing")
        entries = []
        for row in wb[MANIFEST_SHEET].iter_rows(min_row=2, max_col=4, values_only=True):
            if not row or row[0] is None:
                continue
            try:
                col, r = coordinate_from_string(str(row[1]))
                first = column_index_from_string(col)
                hashes = str(row[3] or "")
            except Exception:  # noqa: BLE001
                entries.append(("?", "?", "?"))  # an unreadable row: the digest check reports it
                continue
            for k in range(0, len(hashes), HASH_CHARS):
                cell = f"{get_column_letter(first + k // HASH_CHARS)}{r}"
                entries.append((str(row[0]), cell, hashes[k:k + HASH_CHARS]))
    finally:
        wb.close()
    intact = (props.get(DIGEST_PROPERTY) == manifest_digest(entries)
              and str(props.get(COUNT_PROPERTY)) == str(len(entries)))
    return kind, {(s, c): h for s, c, h in entries}, intact


CASE_PROPERTY = "tcomodel_case"  # low, base or high: the case a report was built with
BUILD_DATE_PROPERTY = "tcomodel_build_date"  # ISO date the prices were aged at


def read_properties(path) -> dict:
    """The custom document properties of an xlsx, by name."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {p.name: getattr(p, "value", None) for p in wb.custom_doc_props}
    finally:
        wb.close()
