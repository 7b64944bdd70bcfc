"""Load a scenario workbook into typed, validated objects; report every problem with Sheet!Cell.

The input file is only ever opened for reading.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter

from tcomodel.errors import InputError, Problem, WorkbookFileError
from tcomodel.inputs.cells import CellProblem, Quarter, is_blank, parse_value
from tcomodel.inputs.rules import CROSS_CHECKS, Book
from tcomodel.inputs.schema import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    MAX_CELLS_PER_WORKBOOK,
    MAX_ROWS_PER_SHEET,
    UNITS_ROW,
    SheetSpec,
    all_sheets,
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")
_PYTYPES = {"number": float, "integer": int, "share": float, "quarter": Quarter, "date": dt.date}

_record_classes: dict[str, type] = {}


def record_class(spec: SheetSpec) -> type:
    """A frozen dataclass per sheet: one attribute per column, plus the row's cell addresses."""
    if spec.name not in _record_classes:
        cols = [(f.name, _PYTYPES.get(f.kind, str) | None, None) for f in spec.fields]
        cols.append(("cells", dict, field(default_factory=dict, compare=False, repr=False)))
        cls = make_dataclass(f"{spec.name}Row", cols, frozen=True)
        cls.cell = lambda self, name: self.cells.get(name, spec.name)
        _record_classes[spec.name] = cls
    return _record_classes[spec.name]


@dataclass(frozen=True)
class Settings:
    scenario_name: str
    report_currency: str
    first_quarter: Quarter
    horizon_quarters: int
    discount_rate_annual: float
    baseline_option: str
    tax_rate: float
    inflation_annual: float
    price_max_age_months: int = 6
    capex_paid_at: str = "start"
    fiscal_year_start_month: int = 1  # 1 = calendar year; else 4, 7 or 10 (whole quarters)
    sources: dict = field(default_factory=dict, compare=False, repr=False)
    cells: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario workbook."""

    path: str
    settings: Settings
    fx: dict  # currency -> report currency per unit (the report currency maps to 1.0)
    hardware: dict  # hardware_id -> HardwareSpec (built-in catalogue merged with the Hardware sheet)
    models: dict  # model_id -> ModelSpec
    options: dict  # option_id -> OptionsRow, in sheet order
    capex: dict  # option_id -> CapexRow
    opex: dict
    rental: dict
    cloud_rates: dict
    api_prices: dict
    workload: list  # WorkloadRow per quarter of the horizon, in order
    utilization: dict  # option_id -> list of shares per quarter
    claims: list
    ranges: list
    fx_rows: dict = field(default_factory=dict, compare=False, repr=False)
    hardware_rows: dict = field(default_factory=dict, compare=False, repr=False)  # only rows on the sheet
    model_rows: dict = field(default_factory=dict, compare=False, repr=False)
    utilization_rows: list = field(default_factory=list, compare=False, repr=False)
    hourly_profile: list = field(default_factory=list)  # HourlyProfile rows by hour (empty: no profile)
    roles: dict = field(default_factory=dict)  # role -> RolesRow
    correlations: list = field(default_factory=list)  # Correlations rows (Monte Carlo rank correlations)
    staff: dict = field(default_factory=dict)  # option_id -> list of StaffRow
    resale: dict = field(default_factory=dict)  # option_id -> ResaleRows sorted by age
    pairs: list = field(default_factory=list)  # PairsRow
    benchmarks: dict = field(default_factory=dict)  # option_id -> BenchResult (benchmark_result_file)

    @property
    def quarters(self) -> list[Quarter]:
        s = self.settings
        return [s.first_quarter + i for i in range(s.horizon_quarters)]

    def fx_rate(self, currency: str) -> float:
        return self.fx[currency]

    def summary(self) -> str:
        s = self.settings
        kinds = ", ".join(f"{oid} ({o.kind})" for oid, o in self.options.items())
        return (
            f"{s.scenario_name}: {len(self.options)} options [{kinds}], "
            f"{s.horizon_quarters} quarters {self.quarters[0]}..{self.quarters[-1]}, "
            f"currency {s.report_currency}, baseline {s.baseline_option}"
        )


# --------------------------------------------------------------------------------------------
# File level


def _open_workbooks(path: Path):
    """Both views of the workbook: cached values and formulas. Raises WorkbookFileError."""
    p = str(path)
    if not path.exists():
        raise WorkbookFileError.at(None, None, f"file not found: {p}", path=p)
    if path.is_dir():
        raise WorkbookFileError.at(None, None, f"{p} is a folder, not an .xlsx workbook", path=p)
    with open(path, "rb") as fh:
        head = fh.read(8)
        if head == _OLE_MAGIC:
            rest = head + fh.read()
            if _ENCRYPTION_MARK in rest:
                raise WorkbookFileError.at(None, None,
                    f"{p} is password-protected (encrypted); save an unprotected copy and build from that", path=p)
            raise WorkbookFileError.at(None, None,
                f"{p} is an old binary Excel file (.xls) or another OLE document; save it as .xlsx", path=p)
    if head[:4] != b"PK\x03\x04":
        raise WorkbookFileError.at(None, None,
            f"{p} is not an .xlsx workbook (it does not start like one; text, CSV or another format?)", path=p)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise WorkbookFileError.at(None, None, f"{p} is a corrupt .xlsx (damaged zip archive: {exc})", path=p) from None
    if bad is not None:
        raise WorkbookFileError.at(None, None, f"{p} is a corrupt .xlsx (damaged member {bad})", path=p)
    if "xl/workbook.xml" not in names:
        raise WorkbookFileError.at(None, None, f"{p} is a zip file but not an .xlsx workbook (no xl/workbook.xml)", path=p)
    size_problems = _check_sizes(path)
    if size_problems:
        raise InputError(size_problems, path=p)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            formulas = load_workbook(p, data_only=False)
            # without a formula anywhere the cached-values view is the same workbook: read the file once
            has_formula = any(c.data_type == "f" for ws in formulas.worksheets for c in ws._cells.values())
            values = load_workbook(p, data_only=True) if has_formula else formulas
    except Exception as exc:  # openpyxl raises many types on malformed parts; all mean "unreadable"
        raise WorkbookFileError.at(None, None, f"{p} cannot be read as an .xlsx workbook ({type(exc).__name__}: {exc})", path=p) from None
    return values, formulas


_ROW_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>')
_R_ATTR = re.compile(rb'\sr="(\d+)"')
_CELL_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c[\s>/]')
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="[A-Z]*\d*:?[A-Z]*(\d+)"')
_CHUNK_BYTES = 1 << 20
_SHARED_STRINGS_MAX_BYTES = 64 << 20


def _sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, zip member) of every worksheet, read from workbook.xml and its relationships."""
    import xml.etree.ElementTree as ET

    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return []  # openpyxl reports the damage in its own words
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = []
    for sheet in book.iter(f"{ns_main}sheet"):
        target = targets.get(sheet.get(f"{ns_rel}id"), "")
        member = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts.append((sheet.get("name", "?"), member))
    return parts


def _scan_sheet(zf: zipfile.ZipFile, member: str, row_limit: int) -> tuple[int, int]:
    """(last row, cells) of a worksheet part, streamed without building cells; stops early past ``row_limit``."""
    last_row, cells, tail, rows_seen = 0, 0, b"", 0
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(_CHUNK_BYTES)
            buf = tail + chunk
            # a tag cut at the chunk's end is scanned with the next chunk; the last chunk is scanned whole
            head = buf[:max(0, len(buf) - 512)] if chunk else buf
            if not rows_seen and not last_row:
                m = _DIMENSION.search(head)
                if m:
                    last_row = int(m.group(1))
            for m in _ROW_TAG.finditer(head):
                rows_seen += 1
                r = _R_ATTR.search(m.group(1))
                last_row = max(last_row, int(r.group(1)) if r else rows_seen)
            cells += len(_CELL_TAG.findall(head))
            tail = buf[len(head):]
            if not chunk or last_row > row_limit or cells > MAX_CELLS_PER_WORKBOOK:
                break
    return last_row, cells


def _check_sizes(path: Path) -> list[Problem]:
    """Refuse a workbook whose sheets are too large to load safely, from the raw XML and before openpyxl builds
    a single cell (openpyxl holds every cell in memory: a million-row sheet would take gigabytes)."""
    limits = {spec.name: spec.max_rows for spec in all_sheets()}
    problems, total_cells = [], 0
    with zipfile.ZipFile(path) as zf:
        try:
            shared = zf.getinfo("xl/sharedStrings.xml").file_size
        except KeyError:
            shared = 0
        if shared > _SHARED_STRINGS_MAX_BYTES:
            problems.append(Problem(None, None, f"{path}: the workbook's text cells take {shared / 2**20:,.0f} MiB, "
                                    f"more than the {_SHARED_STRINGS_MAX_BYTES / 2**20:,.0f} MiB a scenario workbook may "
                                    "hold; delete the unused rows"))
        for name, member in _sheet_parts(zf):
            if member not in zf.namelist():
                continue
            limit = limits.get(name, MAX_ROWS_PER_SHEET)
            last_row, cells = _scan_sheet(zf, member, limit)
            total_cells += cells
            if last_row > limit:
                problems.append(Problem(name, None, f"the sheet reaches row {last_row:,}; at most {limit:,} rows are "
                                        "read, header included. Delete the rows below the data (select "
                                        "them, Delete Rows), including rows that only hold formatting"))
            elif total_cells > MAX_CELLS_PER_WORKBOOK:
                problems.append(Problem(name, None, f"the workbook holds more than {MAX_CELLS_PER_WORKBOOK:,} cells "
                                        f"(reached on this sheet); delete unused rows and columns"))
                break
    return problems


# --------------------------------------------------------------------------------------------
# Sheet level


class _Collector:
    def __init__(self):
        self.problems: list[Problem] = []

    def add(self, sheet, cell, message):
        self.problems.append(Problem(sheet, cell, message))


def _cell_pair(ws_values, ws_formulas, row: int, col: int):
    v = ws_values.cell(row=row, column=col).value
    fcell = ws_formulas.cell(row=row, column=col)
    formula = fcell.value if fcell.data_type == "f" or (isinstance(fcell.value, str) and fcell.value.startswith("=")) else None
    if formula is not None and not isinstance(formula, str):
        formula = str(getattr(formula, "text", formula))
    return v, formula


# Columns renamed with a change of unit: a workbook with the old name gets this error at its header cell.
_RENAMED_COLUMNS = {
    ("Hardware", "memory_gb"): ("memory_mib", "enter the memory the device exposes in MiB, as nvidia-smi reports "
                                "memory.total (an '80 GB' A100 = 81920, an RTX 4090 = 24564; 'N GB' cards = N x 1024 "
                                "if no nvidia-smi figure is at hand)"),
}


def _read_table(spec: SheetSpec, ws_values, ws_formulas, out: _Collector) -> list:
    """Rows of a table sheet as records; problems go to ``out``."""
    header: dict[str, int] = {}
    unknown: list[tuple[str, int]] = []
    for col in range(1, (ws_values.max_column or 0) + 1):
        name = ws_values.cell(row=HEADER_ROW, column=col).value
        if is_blank(name):
            continue
        name = str(name).strip()
        if name in spec.field_names:
            if name in header:
                out.add(spec.name, f"{get_column_letter(col)}{HEADER_ROW}", f"column '{name}' appears twice")
            header.setdefault(name, col)
        else:
            unknown.append((name, col))
    # A missing optional column reads as blank (workbooks from older versions stay valid), unless an
    # unrecognised column suggests it was renamed.
    missing = [f for f in spec.fields if f.name not in header and (f.required or unknown)]
    renamed = False
    for old, col in unknown:
        if (spec.name, old) in _RENAMED_COLUMNS and _RENAMED_COLUMNS[spec.name, old][0] not in header:
            new, why = _RENAMED_COLUMNS[spec.name, old]
            out.add(spec.name, f"{get_column_letter(col)}{HEADER_ROW}", f"column '{old}' is now '{new}': {why}")
            missing = [f for f in missing if f.name != new]
            renamed = True
    for f in missing:
        where = f"{get_column_letter(len(spec.field_names) + 1)}{HEADER_ROW}"
        hint = ""
        if unknown:
            hint = f"; unrecognised column(s): {', '.join(repr(n) for n, _ in unknown)} (renamed?)"
            where = f"{get_column_letter(unknown[0][1])}{HEADER_ROW}"
        out.add(spec.name, where, f"column '{f.name}' is missing from the header row {HEADER_ROW}{hint}; "
                    f"expected columns: {', '.join(spec.field_names)}")
    if missing or renamed:
        return []
    if not _units_row_ok(spec, ws_values, header, out):
        return []
    cls = record_class(spec)
    records = []
    present = [f for f in spec.fields if f.name in header]
    for row in range(FIRST_DATA_ROW, (ws_values.max_row or 0) + 1):
        raw = {f.name: _cell_pair(ws_values, ws_formulas, row, header[f.name]) for f in present}
        if all(is_blank(v) and fo is None for v, fo in raw.values()):
            continue
        values, cells, ok = {}, {}, True
        # a filled fill_from cell (Models: config_json) supplies the blank cells, required ones included
        filled = spec.fill_from in raw and not is_blank(raw[spec.fill_from][0])
        for f in spec.fields:
            if f.name not in header:
                values[f.name] = None
                continue
            addr = f"{get_column_letter(header[f.name])}{row}"
            cells[f.name] = f"{spec.name}!{addr}"
            v, formula = raw[f.name]
            if filled and f.name != spec.id_field and is_blank(v) and formula is None:
                values[f.name] = None
                continue
            try:
                values[f.name] = parse_value(f, v, formula)
            except CellProblem as exc:
                out.add(spec.name, addr, str(exc))
                values[f.name] = None
                ok = False
        rec = cls(**values, cells=cells)
        rec_ok = ok
        records.append((rec, rec_ok, row))
    return records


def _units_row_ok(spec: SheetSpec, ws_values, header: dict[str, int], out: _Collector) -> bool:
    """Row 2 must be the units row: data typed over it, or a units row deleted so that data moved up into row 2,
    would otherwise drop that row silently. Blank unit cells are tolerated; a whole row of them is not."""
    if (ws_values.max_row or 0) < UNITS_ROW:
        return True  # header only: no data to lose
    wrong, blank = [], 0
    for f in spec.fields:
        if f.name not in header:
            continue
        col = header[f.name]
        v = ws_values.cell(row=UNITS_ROW, column=col).value
        if is_blank(v):
            blank += 1
            continue
        if not isinstance(v, str) or " ".join(v.split()).lower() != f.unit_label.lower():
            wrong.append(f"{get_column_letter(col)}{UNITS_ROW} holds {v!r} under {f.name}, expected {f.unit_label!r}")
    if not wrong and blank < len(header):
        return True
    found = ("; ".join(wrong[:3]) + (f"; and {len(wrong) - 3} more" if len(wrong) > 3 else "")) if wrong \
        else "the row is empty"
    out.add(spec.name, f"A{UNITS_ROW}", f"expected the units row in row {UNITS_ROW}, but {found}. Was it deleted or "
            f"typed over? Data is read from row {FIRST_DATA_ROW}: restore the units row (a template from "
            "`tcomodel init` has it) so that no data row is skipped")
    return False


def _read_key_value(spec: SheetSpec, ws_values, ws_formulas, out: _Collector):
    found: dict[str, int] = {}
    for row in range(2, (ws_values.max_row or 0) + 1):
        key = ws_values.cell(row=row, column=1).value
        if is_blank(key):
            continue
        key = str(key).strip()
        if key in found:
            out.add(spec.name, f"A{row}", f"key '{key}' appears twice (first at A{found[key]})")
            continue
        found[key] = row
    values, cells, sources = {}, {}, {}
    for f in spec.fields:
        if f.name not in found and not f.required:
            values[f.name] = f.default
            continue
        if f.name not in found:
            out.add(spec.name, f"A{(ws_values.max_row or 1) + 1}", f"key '{f.name}' is missing; add a row '{f.name}' with {f.allowed()}")
            values[f.name] = None
            continue
        row = found[f.name]
        cells[f.name] = f"{spec.name}!B{row}"
        v, formula = _cell_pair(ws_values, ws_formulas, row, 2)
        try:
            values[f.name] = parse_value(f, v, formula)
        except CellProblem as exc:
            out.add(spec.name, f"B{row}", str(exc))
            values[f.name] = None
        if values[f.name] is None and not f.required:
            values[f.name] = f.default
        src = ws_values.cell(row=row, column=4).value
        sources[f.name] = "" if src is None else str(src)
    return values, cells, sources


# --------------------------------------------------------------------------------------------
# Workbook level


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario workbook. Raises InputError listing every problem found."""
    path = Path(path)
    p = str(path)
    values_wb, formulas_wb = _open_workbooks(path)
    out = _Collector()
    specs = all_sheets()
    present = set(values_wb.sheetnames)
    tables: dict[str, list] = {}
    missing_sheets: set[str] = set()
    kv = None
    for spec in specs:
        if spec.name not in present:
            if spec.required:
                out.add(spec.name, None, f"sheet '{spec.name}' is missing; the workbook needs sheets "
                        f"{', '.join(s.name for s in specs if s.required)} (optional: "
                        f"{', '.join(s.name for s in specs if not s.required)}). `tcomodel init` writes a complete template")
            tables[spec.name] = []
            missing_sheets.add(spec.name)
            continue
        wsv, wsf = values_wb[spec.name], formulas_wb[spec.name]
        if spec.key_value:
            kv = _read_key_value(spec, wsv, wsf, out)
        else:
            before = len(out.problems)
            tables[spec.name] = _read_table(spec, wsv, wsf, out)
            if not tables[spec.name] and len(out.problems) > before:
                missing_sheets.add(spec.name)  # header unreadable: reported once, not again per option
    scenario = _cross_check(p, kv, tables, out, missing_sheets)
    if out.problems:
        raise InputError(out.problems, path=p)
    return scenario


def _cross_check(path: str, kv, tables: dict, out: _Collector, missing_sheets: set = frozenset()) -> Scenario | None:
    """Runs the rules across sheets (``rules.CROSS_CHECKS``); the Scenario when no problem was found."""
    book = Book(path, tables, set(missing_sheets))
    if kv is not None:
        values, cells, sources = kv
        if values.get("report_currency") is not None:
            values["report_currency"] = values["report_currency"].upper()
        if all(values.get(k) is not None for k in ("scenario_name", "report_currency", "first_quarter",
                                                  "horizon_quarters", "discount_rate_annual", "baseline_option",
                                                  "tax_rate", "inflation_annual")):
            book.settings = Settings(**values, sources=sources, cells=cells)
        book.scenario_cells, book.baseline, book.report_ccy = cells, values.get("baseline_option"), values.get("report_currency")
    for rule in CROSS_CHECKS:
        out.problems.extend(rule(book))
    if out.problems or book.settings is None:
        return None
    po = book.per_option
    return Scenario(
        path=path, settings=book.settings, fx=book.fx, hardware=book.hardware, models=book.models,
        options=book.options, capex=po["Capex"], opex=po["Opex"], rental=po["Rental"], cloud_rates=po["CloudRates"],
        api_prices=po["ApiPrices"], workload=book.workload, utilization=book.utilization,
        claims=book.records("Claims"), ranges=book.records("Ranges"), correlations=book.records("Correlations"), fx_rows=book.fx_rows, hardware_rows=book.hw_rows,
        model_rows=book.model_rows, utilization_rows=list(book.util_seen.values()), **book.extras,
    )
