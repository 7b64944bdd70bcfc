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
from typing import Any

from openpyxl.utils import get_column_letter

from tcomodel.errors import InputError, Problem, WorkbookFileError
from tcomodel.inputs.cells import CellProblem, Quarter, is_blank, parse_value
from tcomodel.inputs.schema import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    KIND_SHEETS,
    MAX_CELLS_PER_WORKBOOK,
    MAX_ROWS_PER_SHEET,
    SELF_HOSTED_KINDS,
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
            values = load_workbook(p, data_only=True)
            formulas = load_workbook(p, data_only=False)
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


def _unique(spec_name: str, rows, field_name: str, out: _Collector) -> dict:
    seen: dict[str, Any] = {}
    for rec, ok, row in rows:
        key = getattr(rec, field_name)
        if key is None:
            continue
        if key in seen:
            out.add(spec_name, _at(rec, field_name),
                    f"duplicate {field_name} '{key}' (first at {seen[key].cell(field_name)}); ids must be unique")
            continue
        seen[key] = rec
    return seen


def _cross_check(path: str, kv, tables: dict, out: _Collector, missing_sheets: set = frozenset()) -> Scenario | None:
    """Checks across sheets. Checks that need a sheet that is missing are skipped: its absence is reported once."""
    from tcomodel.catalogue import HardwareSpec, ModelSpec, load_catalogue

    base_hw, base_models = load_catalogue()
    hw_rows = _unique("Hardware", tables["Hardware"], "hardware_id", out)
    model_rows = _unique("Models", tables["Models"], "model_id", out)
    hardware = dict(base_hw)
    models = dict(base_models)
    for hid, rec in hw_rows.items():
        try:
            hardware[hid] = HardwareSpec.from_row({k: v for k, v in rec.__dict__.items() if k != "cells"})
        except Exception as exc:  # spec constructors validate physical consistency
            out.add("Hardware", _at(rec, "hardware_id"), f"hardware '{hid}' is inconsistent: {exc}")
    for mid, rec in model_rows.items():
        row = {k: v for k, v in rec.__dict__.items() if k != "cells"}
        if row.get("config_json"):
            from tcomodel.catalogue.hf_config import ModelConfigError, model_from_row

            try:
                models[mid] = model_from_row(row, Path(path).resolve().parent)
            except ModelConfigError as exc:
                out.add("Models", _at(rec, "config_json"), f"config_json '{row['config_json']}': {exc}")
                models[mid] = None  # the row exists: references to it are not reported again (nothing is built)
            continue
        try:
            models[mid] = ModelSpec.from_row(row)
        except Exception as exc:
            out.add("Models", _at(rec, "model_id"), f"model '{mid}' is inconsistent: {exc}")

    fx_rows = _unique("FX", tables["FX"], "currency", out)
    options = _unique("Options", tables["Options"], "option_id", out)
    per_option = {name: _unique(name, tables[name], "option_id", out)
                  for name in ("Capex", "Opex", "Rental", "CloudRates", "ApiPrices")}

    settings = None
    if kv is not None:
        values, cells, sources = kv
        report_currency = values.get("report_currency")
        if report_currency is not None:
            values["report_currency"] = report_currency.upper()
        if all(values.get(k) is not None for k in ("scenario_name", "report_currency", "first_quarter",
                                                  "horizon_quarters", "discount_rate_annual", "baseline_option",
                                                  "tax_rate", "inflation_annual")):
            settings = Settings(**values, sources=sources, cells=cells)
        baseline = values.get("baseline_option")
        if baseline is not None and baseline not in options and "Options" not in missing_sheets:
            out.add("Scenario", cells["baseline_option"].split("!")[1],
                    f"baseline_option '{baseline}' is not an option_id on sheet Options; known: {', '.join(options) or '(none)'}")
        if values.get("horizon_quarters") is not None and not 1 <= values["horizon_quarters"] <= 200:
            pass  # range already enforced by the field spec

    # FX coverage for every currency used anywhere.
    report_ccy = settings.report_currency if settings else (kv[0].get("report_currency") if kv else None)
    fx = {report_ccy: 1.0} if report_ccy else {}
    for ccy, rec in fx_rows.items():
        if rec.rate_to_report_currency is not None:
            fx[ccy.upper()] = rec.rate_to_report_currency
    if report_ccy and report_ccy in {c.upper() for c in fx_rows} and fx_rows.get(report_ccy) is not None:
        rec = fx_rows[report_ccy]
        if rec.rate_to_report_currency is not None and abs(rec.rate_to_report_currency - 1.0) > 1e-12:
            out.add("FX", _at(rec, "rate_to_report_currency"),
                    f"the report currency {report_ccy} must have rate 1 (or no row), not {rec.rate_to_report_currency:g}")
    for sheet_name in ("Capex", "Opex", "Rental", "CloudRates", "ApiPrices", "Roles"):
        for rec, ok, row in tables[sheet_name]:
            ccy = rec.currency
            if ccy is None or not report_ccy:
                continue
            if ccy.upper() not in fx:
                out.add(sheet_name, _at(rec, "currency"),
                        f"currency '{ccy}' has no FX rate; add a row to sheet FX or use one of {', '.join(sorted(fx))}")

    # Options: references and kind-specific rows.
    for oid, rec in options.items():
        kind = rec.kind
        _check_catalogue_refs("Options", rec, hardware, models, out)
        if kind in SELF_HOSTED_KINDS:
            for fname in ("hardware_id", "model_id", "precision"):
                if getattr(rec, fname) is None and rec.cell(fname) and _row_ok(tables["Options"], rec):
                    out.add("Options", _at(rec, fname), f"{fname} is required for a {kind} option")
        if kind is not None:
            for sheet_name in KIND_SHEETS[kind]:
                if oid not in per_option[sheet_name] and sheet_name != "Opex" and sheet_name not in missing_sheets:
                    out.add(sheet_name, None, f"option '{oid}' is of kind {kind} and needs a row on sheet {sheet_name} (option_id {oid})")
        if kind == "hosted_api" and rec.redundancy_replicas:
            out.add("Options", _at(rec, "redundancy_replicas"),
                    f"option '{oid}' is a hosted API: the provider runs its spares; leave redundancy_replicas blank")
        if rec.start_quarter is not None and settings is not None:
            last = settings.first_quarter + (settings.horizon_quarters - 1)
            if not settings.first_quarter <= rec.start_quarter <= last:
                out.add("Options", _at(rec, "start_quarter"),
                        f"start_quarter {rec.start_quarter} is outside the timeline {settings.first_quarter}..{last}")
    allowed_sheets = {"owned": {"Capex", "Opex"}, "rented_server": {"Rental", "Opex"},
                      "cloud_gpu": {"CloudRates", "Opex"}, "hosted_api": {"ApiPrices"}}
    for sheet_name, rows in per_option.items():
        for oid, rec in rows.items():
            opt = options.get(oid)
            if opt is None:
                out.add(sheet_name, _at(rec, "option_id"),
                        f"option_id '{oid}' is not on sheet Options; known: {', '.join(options) or '(none)'}")
            elif opt.kind is not None and sheet_name not in allowed_sheets[opt.kind]:
                out.add(sheet_name, _at(rec, "option_id"),
                        f"option '{oid}' is of kind {opt.kind}; sheet {sheet_name} does not apply to it")
    for oid, rec in per_option["Opex"].items():
        opt = options.get(oid)
        if opt is not None and opt.kind == "owned":
            for fname in ("power_kw_per_replica", "load_factor", "pue", "power_price_per_kwh"):
                if getattr(rec, fname) is None:
                    out.add("Opex", _at(rec, fname), f"{fname} is required for owned option '{oid}'")
    _check_cloud_rates(per_option["CloudRates"], options, settings, out)

    # Workload covers the horizon exactly once per quarter.
    workload = []
    if settings is not None:
        quarters = [settings.first_quarter + i for i in range(settings.horizon_quarters)]
        by_q: dict[Quarter, Any] = {}
        for rec, ok, row in tables["Workload"]:
            if rec.quarter is None:
                continue
            if rec.quarter in by_q:
                out.add("Workload", _at(rec, "quarter"),
                        f"quarter {rec.quarter} appears twice (first at {by_q[rec.quarter].cell('quarter')})")
                continue
            by_q[rec.quarter] = rec
        missing_q = [q for q in quarters if q not in by_q]
        if missing_q and "Workload" not in missing_sheets:
            shown = ", ".join(str(q) for q in missing_q[:8]) + (" ..." if len(missing_q) > 8 else "")
            out.add("Workload", f"A{FIRST_DATA_ROW}", f"no row for quarter(s) {shown}; every quarter "
                    f"{quarters[0]}..{quarters[-1]} of the horizon needs one")
        workload = [by_q[q] for q in quarters if q in by_q]
    # Utilization ramps.
    utilization: dict[str, list] = {}
    util_seen: dict[tuple, Any] = {}
    for rec, ok, row in tables["Utilization"]:
        if rec.option_id is None or rec.quarter is None:
            continue
        key = (rec.option_id, rec.quarter)
        if key in util_seen:
            out.add("Utilization", _at(rec, "quarter"),
                    f"option {rec.option_id} quarter {rec.quarter} appears twice (first at {util_seen[key].cell('quarter')})")
            continue
        util_seen[key] = rec
        if rec.option_id not in options:
            out.add("Utilization", _at(rec, "option_id"),
                    f"option_id '{rec.option_id}' is not on sheet Options; known: {', '.join(options) or '(none)'}")
    if settings is not None:
        quarters = [settings.first_quarter + i for i in range(settings.horizon_quarters)]
        for oid, rec in options.items():
            if rec.load_basis != "utilization":
                continue
            if rec.kind == "hosted_api":
                out.add("Options", _at(rec, "load_basis"),
                        f"option '{oid}' is a hosted API: its load is the workload; load_basis must be workload")
                continue
            ramp = [util_seen.get((oid, q)) for q in quarters]
            missing_q = [str(q) for q, r in zip(quarters, ramp) if r is None]
            if missing_q:
                out.add("Utilization", None, f"option '{oid}' has load_basis utilization but no Utilization row for "
                        f"quarter(s) {', '.join(missing_q[:8])}{' ...' if len(missing_q) > 8 else ''}")
            else:
                utilization[oid] = [r.utilization for r in ramp]
    # Claims reference hardware and models.
    claims = [rec for rec, ok, row in tables["Claims"]]
    _unique("Claims", tables["Claims"], "claim_id", out)
    for rec in claims:
        _check_catalogue_refs("Claims", rec, hardware, models, out)
        if rec.precision is None and rec.bits_per_weight is None and rec.claimed_tok_s is not None:
            out.add("Claims", _at(rec, "precision"), "give a precision or bits_per_weight")
    ranges = [rec for rec, ok, row in tables["Ranges"]]
    for rec in ranges:
        if rec.low is not None and rec.high is not None and rec.low > rec.high:
            out.add("Ranges", _at(rec, "low"), f"low {rec.low:g} is above high {rec.high:g}")

    extras = _check_economics(tables, options, workload, missing_sheets, out)
    extras["benchmarks"] = _read_benchmarks(path, options, out)
    _check_prices_and_quality(per_option["ApiPrices"], options, out)

    if out.problems or settings is None:
        return None
    return Scenario(
        path=path,
        settings=settings,
        fx=fx,
        hardware=hardware,
        models=models,
        options=options,
        capex=per_option["Capex"],
        opex=per_option["Opex"],
        rental=per_option["Rental"],
        cloud_rates=per_option["CloudRates"],
        api_prices=per_option["ApiPrices"],
        workload=workload,
        utilization=utilization,
        claims=claims,
        ranges=ranges,
        fx_rows=fx_rows,
        hardware_rows=hw_rows,
        model_rows=model_rows,
        utilization_rows=list(util_seen.values()),
        **extras,
    )


def _read_benchmarks(path: str, options: dict, out: _Collector) -> dict:
    """Measured capacity files named on the Options sheet, read and checked now (validate = build)."""
    from tcomodel.inputs.benchmark import BenchmarkFileError, read_bench_result

    found = {}
    for oid, rec in options.items():
        name = rec.benchmark_result_file
        if not name:
            continue
        if rec.measured_output_tok_s_per_replica is not None:
            out.add("Options", _at(rec, "benchmark_result_file"), f"option '{oid}' gives both "
                    "measured_output_tok_s_per_replica and benchmark_result_file; keep one")
            continue
        if rec.kind not in SELF_HOSTED_KINDS:
            out.add("Options", _at(rec, "benchmark_result_file"), f"option '{oid}' is a hosted API: a measured "
                    "capacity applies to self-hosted kinds only")
            continue
        p = Path(name)
        if not p.is_absolute():
            p = Path(path).resolve().parent / p
        try:
            found[oid] = read_bench_result(p)
        except BenchmarkFileError as exc:
            out.add("Options", _at(rec, "benchmark_result_file"), f"option '{oid}': {exc}")
    return found


def _at(rec, fieldname) -> str | None:
    """The bare cell address (D7) of a record's field; None when its column is absent (the problem names the sheet)."""
    cell = rec.cell(fieldname)
    return cell.split("!")[1] if "!" in cell else None


def _check_economics(tables: dict, options: dict, workload: list, missing_sheets, out: _Collector) -> dict:
    """Demand shape, staff, resale curves and switching pairs: the rules across those sheets."""
    profile_rows = [rec for rec, ok, row in tables["HourlyProfile"]]
    profile = sorted((r for r in profile_rows if r.hour is not None), key=lambda r: r.hour)
    if profile_rows:
        hours = [r.hour for r in profile]
        seen = set()
        for r in profile:
            if r.hour in seen:
                out.add("HourlyProfile", _at(r, "hour"), f"hour {r.hour} appears twice")
            seen.add(r.hour)
        if sorted(seen) != list(range(24)):
            missing = [h for h in range(24) if h not in seen]
            out.add("HourlyProfile", f"A{FIRST_DATA_ROW}", f"the profile needs one row for each hour 0-23; missing: "
                    f"{', '.join(map(str, missing))}")
        total = sum(r.share_of_daily_requests or 0.0 for r in profile)
        if abs(total - 1.0) > 1e-6 and hours:
            last = profile[-1]
            out.add("HourlyProfile", f"{_at(last, 'share_of_daily_requests')[0]}{FIRST_DATA_ROW}:"
                    f"{_at(last, 'share_of_daily_requests')}",
                    f"the hourly shares sum to {total:.6g}, not 1; each share is the hour's part of a working day's requests")
    # Demand shape: per quarter either peak_to_average, or the shape columns; one way for the whole horizon.
    shape_cols = ("working_days_per_week", "busy_hours_per_day", "intra_hour_peak_factor")
    modes = set()
    for w in workload:
        has_ratio = w.peak_to_average is not None
        has_shape = any(getattr(w, c) is not None for c in shape_cols)
        if has_ratio and has_shape:
            col = next(c for c in shape_cols if getattr(w, c) is not None)
            out.add("Workload", _at(w, col), f"quarter {w.quarter} gives both peak_to_average and the demand shape "
                    f"({col}); give one of them")
            continue
        if not has_ratio and not has_shape:
            out.add("Workload", _at(w, "peak_to_average"), f"quarter {w.quarter} needs peak_to_average or the demand "
                    "shape columns (working_days_per_week, intra_hour_peak_factor and busy_hours_per_day or the "
                    "HourlyProfile sheet)")
            continue
        modes.add("shape" if has_shape else "ratio")
        if has_shape:
            for c in ("working_days_per_week", "intra_hour_peak_factor"):
                if getattr(w, c) is None:
                    out.add("Workload", _at(w, c), f"{c} is needed with the demand shape (quarter {w.quarter})")
            if profile_rows and w.busy_hours_per_day is not None:
                out.add("Workload", _at(w, "busy_hours_per_day"), "busy_hours_per_day and the HourlyProfile sheet "
                        "both give the day's shape; leave busy_hours_per_day blank or remove the profile")
            if not profile_rows and w.busy_hours_per_day is None:
                out.add("Workload", _at(w, "busy_hours_per_day"), f"busy_hours_per_day is needed (quarter {w.quarter}), "
                        "or an HourlyProfile sheet")
    if len(modes) > 1:
        out.add("Workload", f"A{FIRST_DATA_ROW}", "some quarters give peak_to_average and others the demand shape; "
                "use one way for the whole horizon")
    elif modes == {"ratio"} and profile_rows:  # the profile would be silently ignored
        w = next(w for w in workload if w.peak_to_average is not None)
        out.add("Workload", _at(w, "peak_to_average"), "peak_to_average and the HourlyProfile sheet both give the "
                "peak; leave peak_to_average blank (give working_days_per_week and intra_hour_peak_factor) or "
                "remove the profile rows")
    # Staff: roles exist, options exist.
    roles = _unique("Roles", tables["Roles"], "role", out)
    staff: dict[str, list] = {}
    seen_pairs: dict[tuple, Any] = {}
    for rec, ok, row in tables["Staff"]:
        if rec.option_id is not None and rec.option_id not in options:
            out.add("Staff", _at(rec, "option_id"), f"option_id '{rec.option_id}' is not on sheet Options; known: "
                    f"{', '.join(options) or '(none)'}")
            continue
        if rec.role is not None and rec.role not in roles:
            out.add("Staff", _at(rec, "role"), f"role '{rec.role}' is not on sheet Roles; known: {', '.join(roles) or '(none)'}")
            continue
        key = (rec.option_id, rec.role)
        if key in seen_pairs:
            out.add("Staff", _at(rec, "role"), f"option {rec.option_id} role {rec.role} appears twice (first at "
                    f"{seen_pairs[key].cell('role')})")
            continue
        seen_pairs[key] = rec
        if ok and rec.option_id is not None:
            staff.setdefault(rec.option_id, []).append(rec)
    # Resale curves: owned options only, shares never rise with age.
    resale: dict[str, list] = {}
    for rec, ok, row in tables["Resale"]:
        opt = options.get(rec.option_id)
        if rec.option_id is not None and opt is None:
            out.add("Resale", _at(rec, "option_id"), f"option_id '{rec.option_id}' is not on sheet Options")
            continue
        if opt is not None and opt.kind != "owned":
            out.add("Resale", _at(rec, "option_id"), f"option '{rec.option_id}' is of kind {opt.kind}; a resale curve "
                    "applies to owned hardware only")
            continue
        if ok and rec.option_id is not None and rec.age_years is not None and rec.resale_share is not None:
            resale.setdefault(rec.option_id, []).append(rec)
    for oid, recs in resale.items():
        recs.sort(key=lambda r: r.age_years)
        for a, b in zip(recs, recs[1:]):
            if b.age_years == a.age_years:
                out.add("Resale", _at(b, "age_years"), f"age {b.age_years:g} years appears twice for option {oid} "
                        f"(first at {a.cell('age_years')})")
            elif b.resale_share > a.resale_share + 1e-12:
                out.add("Resale", _at(b, "resale_share"), f"the resale curve of {oid} rises with age: "
                        f"{b.resale_share:.0%} at {b.age_years:g} years is above {a.resale_share:.0%} at "
                        f"{a.age_years:g} years ({a.cell('resale_share')}); a used server is not worth more when older")
    # Switching pairs.
    pairs = []
    for rec, ok, row in tables["Pairs"]:
        bad = False
        for f in ("from_option_id", "to_option_id"):
            v = getattr(rec, f)
            if v is not None and v not in options:
                out.add("Pairs", _at(rec, f), f"{f} '{v}' is not on sheet Options; known: {', '.join(options) or '(none)'}")
                bad = True
        if not bad and rec.from_option_id is not None and rec.from_option_id == rec.to_option_id:
            out.add("Pairs", _at(rec, "to_option_id"), "an option cannot be switched to itself")
            bad = True
        if not bad and ok and rec.from_option_id and rec.to_option_id:
            pairs.append(rec)
    return {"hourly_profile": profile if profile_rows else [], "roles": roles, "staff": staff, "resale": resale,
            "pairs": pairs}


def _check_cloud_rates(rows: dict, options: dict, settings, out: _Collector) -> None:
    """Reservations are whole replicas for a 1- or 3-year term that ends within the horizon."""
    from tcomodel.inputs.schema import COMMITMENT_TERMS_YEARS

    def at(rec, fieldname):
        cell = rec.cell(fieldname)
        return cell.split("!")[1] if "!" in cell else None

    for oid, rec in rows.items():
        reserved = rec.reserved_replicas or 0
        term = rec.commitment_term_years
        if term is not None and term not in COMMITMENT_TERMS_YEARS:
            out.add("CloudRates", at(rec, "commitment_term_years"), f"commitment_term_years {term} is not a term "
                    f"cloud providers sell; use one of {', '.join(map(str, COMMITMENT_TERMS_YEARS))}")
            term = None
        if rec.upfront == "partial" and rec.upfront_share is None:
            out.add("CloudRates", at(rec, "upfront_share"), "upfront is partial: give upfront_share, the share of the "
                    "term's reserved cost paid at the term's start")
        if rec.upfront_share is not None and rec.upfront != "partial":
            out.add("CloudRates", at(rec, "upfront_share"), f"upfront_share applies only with upfront partial (upfront is "
                    f"{rec.upfront or 'blank = none'}); clear it or set upfront to partial")
        if reserved <= 0:
            continue
        if rec.reserved_per_gpu_hour is None:
            out.add("CloudRates", at(rec, "reserved_per_gpu_hour"), f"reserved_replicas is {reserved}: give the "
                    "reserved rate (the effective hourly rate of the term and payment option)")
        if rec.commitment_term_years is None:
            out.add("CloudRates", at(rec, "commitment_term_years"), f"reserved_replicas is {reserved}: give the "
                    "commitment term (1 or 3 years)")
        if settings is None or term is None:
            continue
        n, first = settings.horizon_quarters, settings.first_quarter
        last = first + (n - 1)
        term_q = term * 4
        if term_q > n:
            out.add("CloudRates", at(rec, "commitment_term_years"), f"commitment term {term} years ({term_q} quarters) "
                    f"is longer than the horizon ({n} quarters, {first}..{last}); a commitment cannot run past the "
                    "horizon end: use a shorter term or no reservation")
            continue
        start = rec.reservation_start_quarter
        opt = options.get(oid)
        if start is None:
            start = opt.start_quarter if opt is not None and opt.start_quarter is not None else first
            where, what = at(rec, "commitment_term_years"), f"the option's first quarter served {start}"
        else:
            where, what = at(rec, "reservation_start_quarter"), f"reservation_start_quarter {start}"
            if not first <= start <= last:
                out.add("CloudRates", where, f"reservation_start_quarter {start} is outside the timeline {first}..{last}")
                continue
        if start + (term_q - 1) > last:
            out.add("CloudRates", where, f"a {term}-year term from {what} would end {start + (term_q - 1)}, after the "
                    f"horizon ends {last}; start the reservation by {last + (1 - term_q)} or use a shorter term")


def _cell_or_header(rec, fieldname: str, anchor: str) -> str:
    """The bare address of a record's field, or of ``anchor`` when the column is absent (older workbooks)."""
    cell = rec.cell(fieldname)
    return cell.split("!")[1] if "!" in cell else _at(rec, anchor)


def _check_prices_and_quality(api_rows: dict, options: dict, out: _Collector) -> None:
    """Prompt caching stated explicitly with its prices; quality scores that name their benchmark, the variant
    served and a chance level below the score."""
    for oid, rec in api_rows.items():
        caching = rec.prompt_caching
        if caching == "yes":
            if rec.cached_input_per_mtok is None:
                out.add("ApiPrices", _cell_or_header(rec, "cached_input_per_mtok", "prompt_caching"),
                        f"cached_input_per_mtok is blank but prompt_caching is yes ({rec.cell('prompt_caching')}); "
                        f"give {rec.provider or 'the provider'}'s price for input read from the cache, or write no in "
                        "prompt_caching if the provider has no prompt caching (cache hits are then billed at the "
                        "input price)")
            if rec.cache_write_per_mtok is None:
                price = f" ({rec.input_per_mtok:g})" if rec.input_per_mtok is not None else ""
                out.add("ApiPrices", _cell_or_header(rec, "cache_write_per_mtok", "prompt_caching"),
                        f"cache_write_per_mtok is blank but prompt_caching is yes ({rec.cell('prompt_caching')}); "
                        f"give the price of input written to the cache: the input price{price} where the provider "
                        "does not charge writes extra, more where it does (Anthropic: 1.25 x input)")
        elif caching == "no":
            for f in ("cached_input_per_mtok", "cache_write_per_mtok"):
                if getattr(rec, f) is not None:
                    out.add("ApiPrices", _at(rec, f),
                            f"{f} is {getattr(rec, f):g} but prompt_caching is no ({rec.cell('prompt_caching')}); "
                            "with no caching every input token is billed at the input price: leave it blank, or "
                            "write yes in prompt_caching")
    for oid, rec in options.items():
        score = rec.quality_score
        if score is None:
            continue
        for f, what in (("quality_benchmark", "the benchmark the score is from, e.g. GPQA Diamond"),
                        ("quality_model_variant", "the exact model variant it was measured on, which must be "
                                                  "the one served")):
            if getattr(rec, f) is None:
                missing_col = "!" not in rec.cell(f)
                out.add("Options", _cell_or_header(rec, f, "quality_score"),
                        f"{f} is needed with quality_score {score:g} ({rec.cell('quality_score')})"
                        f"{' (add the column ' + f + ')' if missing_col else ''}: name {what}")
        chance = rec.quality_chance_level
        if chance is not None and chance >= score:
            out.add("Options", _at(rec, "quality_chance_level"),
                    f"quality_chance_level {chance:g} is not below quality_score {score:g} ({rec.cell('quality_score')}); "
                    "the quality-adjusted cost needs a score above what random guessing gets")


def _check_catalogue_refs(sheet: str, rec, hardware: dict, models: dict, out: _Collector) -> None:
    """hardware_id and model_id must name a row of the Hardware/Models sheets or the built-in catalogue."""
    for fname, known, where in (("hardware_id", hardware, "Hardware"), ("model_id", models, "Models")):
        value = getattr(rec, fname)
        if value is not None and value not in known:
            out.add(sheet, _at(rec, fname),
                    f"{fname} '{value}' is not on sheet {where} nor in the built-in catalogue; known: {', '.join(sorted(known))}")


def _row_ok(rows, rec) -> bool:
    for r, ok, _ in rows:
        if r is rec:
            return ok
    return True
