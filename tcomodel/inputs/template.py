"""Write a scenario workbook (the starter template and the shipped scenarios) from the schema.

Inputs are styled blue on pale yellow (FAST), every sheet has a units row and header comments that
state the field's meaning and allowed values, and ids, kinds and precisions have drop-downs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import xlsxwriter

from tcomodel.fileio import atomic_path
from tcomodel.inputs import defaults
from tcomodel.inputs.schema import FIRST_DATA_ROW, HEADER_ROW, UNITS_ROW, SheetSpec, all_sheets

VALIDATION_ROWS = 400  # drop-downs and checks cover this many data rows
INPUT_FILL = "#FFF2CC"
INPUT_FONT = "#0000FF"

GUIDE = [
    ("tcomodel scenario workbook", "title"),
    ("Edit the pale-yellow cells, save, and run:  tcomodel validate THIS.xlsx  then  tcomodel build THIS.xlsx", ""),
    ("", ""),
    ("Layout", "head"),
    ("Scenario: one setting per row (key | value | unit | source | description).", ""),
    ("Every other sheet: row 1 field names (do not rename), row 2 units, data from row 3 down; one row per id.", ""),
    ("Hover a header cell for the field's meaning and allowed values; drop-downs offer valid ids and kinds.", ""),
    ("Every row has a source column: say where each number comes from ('assumption: ...' when it is a guess).", ""),
    ("Money columns are in the row's currency; every currency needs a row on FX (the report currency has rate 1).", ""),
    ("Shares may be typed 0.25 or 25%.  Quarters are written 2027Q1.", ""),
    ("", ""),
    ("Sheets", "head"),
]


def _formats(wb):
    return {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "head": wb.add_format({"bold": True, "font_size": 11}),
        "header": wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": False}),
        "units": wb.add_format({"italic": True, "font_color": "#595959", "bg_color": "#F2F2F2", "border": 1}),
        "input": wb.add_format({"font_color": INPUT_FONT, "bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF"}),
        "input_pct": wb.add_format({"font_color": INPUT_FONT, "bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF",
                                    "num_format": "0.0%"}),
        "input_num": wb.add_format({"font_color": INPUT_FONT, "bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF",
                                    "num_format": "#,##0.####"}),
        "input_date": wb.add_format({"font_color": INPUT_FONT, "bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF",
                                     "num_format": "yyyy-mm-dd"}),
        "source": wb.add_format({"font_color": "#404040", "italic": True}),
        "text": wb.add_format({}),
    }


def _cell_format(fmt, kind):
    return {"share": fmt["input_pct"], "number": fmt["input_num"], "integer": fmt["input_num"],
            "date": fmt["input_date"]}.get(kind, fmt["input"])


def _comment(f) -> str:
    req = "required" if f.required else "optional (may be blank)"
    unit = f" Unit: {f.unit}." if f.unit else ""
    return f"{f.name}: {f.description}.{unit} Allowed: {f.allowed()}; {req}."


def _write_value(ws, row, col, value, fmt):
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "yes" if value else "no", fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _id_range(sheet_name: str) -> str:
    return f"='{sheet_name}'!$A${FIRST_DATA_ROW}:$A${FIRST_DATA_ROW + VALIDATION_ROWS}"


def _validation(f):
    if f.kind == "choice":
        return {"validate": "list", "source": list(f.choices),
                "error_message": f"{f.name}: {f.allowed()}"}
    if f.kind == "ref" and f.ref:
        return {"validate": "list", "source": _id_range(f.ref), "ignore_blank": True,
                "error_type": "warning", "error_message": f"{f.name}: {f.allowed()} (or add it there first)"}
    if f.kind == "share":
        return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                "error_message": f"{f.name}: {f.allowed()}"}
    if f.kind in ("number", "integer"):
        v = {"validate": "decimal" if f.kind == "number" else "integer", "error_message": f"{f.name}: {f.allowed()}"}
        if f.min is not None and f.max is not None:
            v.update(criteria="between", minimum=f.min, maximum=f.max)
        elif f.min is not None:
            v.update(criteria=">=", value=f.min)
        elif f.max is not None:
            v.update(criteria="<=", value=f.max)
        else:
            return None
        return v
    return None


def _write_table(wb, fmt, spec: SheetSpec, rows: list[dict]):
    ws = wb.add_worksheet(spec.name)
    for col, f in enumerate(spec.fields):
        ws.write_string(HEADER_ROW - 1, col, f.name, fmt["header"])
        ws.write_comment(HEADER_ROW - 1, col, _comment(f), {"x_scale": 2.2, "y_scale": 1.6})
        ws.write_string(UNITS_ROW - 1, col, f.unit_label, fmt["units"])
        width = max(len(f.name) + 2, 12)
        if f.name == "source":
            width = 70
        elif f.kind in ("text",) and f.name in ("label", "quote"):
            width = 44
        ws.set_column(col, col, width)
        v = _validation(f)
        if v:
            ws.data_validation(FIRST_DATA_ROW - 1, col, FIRST_DATA_ROW - 1 + VALIDATION_ROWS, col, v)
    for r, row in enumerate(rows):
        for col, f in enumerate(spec.fields):
            value = row.get(f.name)
            cf = fmt["source"] if f.name == "source" else _cell_format(fmt, f.kind)
            _write_value(ws, FIRST_DATA_ROW - 1 + r, col, value, cf)
    ws.freeze_panes(FIRST_DATA_ROW - 1, 1)
    return ws


def _write_scenario_sheet(wb, fmt, spec: SheetSpec, rows):
    ws = wb.add_worksheet(spec.name)
    for col, name in enumerate(("key", "value", "unit", "source", "description")):
        ws.write_string(0, col, name, fmt["header"])
    by_key = {k: (v, unit, src) for k, v, unit, src in rows}
    for r, f in enumerate(spec.fields, start=1):
        value, unit, src = by_key.get(f.name, (None, f.unit, ""))
        ws.write_string(r, 0, f.name)
        _write_value(ws, r, 1, value, _cell_format(fmt, f.kind))
        ws.write_string(r, 2, f.unit or "")
        ws.write_string(r, 3, src or "", fmt["source"])
        ws.write_string(r, 4, f"{f.description}. Allowed: {f.allowed()}.")
        v = _validation(f)
        if v:
            ws.data_validation(r, 1, r, 1, v)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 3, 70)
    ws.set_column(4, 4, 90)
    ws.freeze_panes(1, 1)


def default_content() -> dict:
    """The default AarhusAI scenario, with the built-in hardware and model catalogue."""
    from tcomodel.catalogue import HARDWARE_CATALOGUE_ROWS, MODEL_CATALOGUE_ROWS

    return {
        "Scenario": defaults.SCENARIO, "FX": defaults.FX, "Hardware": HARDWARE_CATALOGUE_ROWS,
        "Models": MODEL_CATALOGUE_ROWS, "Options": defaults.OPTIONS, "Capex": defaults.CAPEX,
        "Opex": defaults.OPEX, "Rental": defaults.RENTAL, "CloudRates": defaults.CLOUD_RATES,
        "ApiPrices": defaults.API_PRICES, "Workload": defaults.WORKLOAD, "Utilization": defaults.UTILIZATION,
        "HourlyProfile": defaults.HOURLY_PROFILE, "Roles": defaults.ROLES, "Staff": defaults.STAFF,
        "Resale": defaults.RESALE, "Pairs": defaults.PAIRS, "Claims": defaults.CLAIMS, "Ranges": defaults.RANGES,
        "Correlations": defaults.CORRELATIONS,
    }


def write_scenario_workbook(path: str | os.PathLike, content: dict | None = None, *, force: bool = False,
                            minimal: bool = False) -> Path:
    """Write a scenario workbook atomically; refuses to overwrite unless ``force``.

    Without ``content``, the starter: the default scenario, or with ``minimal`` one owned server and one hosted
    API (``starter.minimal_content``), its ``scenario_name`` the file's stem so reports never share a path."""
    from tcomodel.inputs.starter import minimal_content, named_content, scenario_name_for

    if content is None:
        content = named_content(minimal_content() if minimal else default_content(), scenario_name_for(path))
    elif minimal:
        raise ValueError("minimal=True writes the minimal starter; it takes no content")
    path = Path(path)
    with atomic_path(path, force=force, force_readonly=force) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        # Fixed properties so two writes of the same content give the same file contents.
        wb.set_properties({"title": "tcomodel scenario", "author": "tcomodel", "created": dt.datetime(2026, 1, 1)})
        fmt = _formats(wb)
        guide = wb.add_worksheet("Guide")
        specs = all_sheets()
        row = 0
        for text, style in GUIDE:
            guide.write_string(row, 0, text, fmt.get(style, fmt["text"])) if text else None
            row += 1
        for spec in specs:
            req = "" if spec.required else " (optional)"
            guide.write_string(row, 0, f"{spec.name}{req}", fmt["head"])
            guide.write_string(row, 1, spec.description)
            row += 1
        row += 1
        guide.write_string(row, 0, "Style key", fmt["head"])
        guide.write_string(row + 1, 0, "input value", fmt["input"])
        guide.write_string(row + 1, 1, "blue on pale yellow: edit these")
        guide.write_string(row + 2, 0, "field name", fmt["header"])
        guide.write_string(row + 2, 1, "machine key of the column; do not rename")
        guide.write_string(row + 3, 0, "unit", fmt["units"])
        guide.write_string(row + 3, 1, "unit of the column")
        guide.set_column(0, 0, 28)
        guide.set_column(1, 1, 110)
        for spec in specs:
            rows = content.get(spec.name, [])
            if spec.key_value:
                _write_scenario_sheet(wb, fmt, spec, rows)
            else:
                _write_table(wb, fmt, spec, rows)
        wb.close()
    return path
