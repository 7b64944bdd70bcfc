"""The compare workbook (xlsxwriter): Changes, one Bridge sheet per metric with waterfall charts, Notes.

Formats are kept here, not taken from tcomodel.report: the core does not import the report package
(a test pins that layering); the colours are the report's.
"""

from __future__ import annotations

import re
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from tcomodel.compare.bridge import METRICS, STRUCTURE, CompareResult
from tcomodel.compare.diff import json_value
from tcomodel.fileio import atomic_path, atomic_paths
from tcomodel.xlsxmanifest import record_formulas
from tcomodel.finance.model import GROUPS
from tcomodel.xlsxprint import print_one_page_wide

SHEET_NAMES = {"levelized_cost_per_mtok": "Bridge levelized", "npv_vs_baseline": "Bridge NPV"}
HEADER_FILL, ENGINE_FONT, ENGINE_FILL = "#1F3864", "#7030A0", "#EDE7F6"
GOOD, BAD, TOTAL = "#70AD47", "#C00000", "#4472C4"
CHART_ROWS, CHART_COLS = 18, 8  # cells one chart covers


def default_output_path(old_path, new_path) -> Path:
    safe = lambda p: re.sub(r"[^A-Za-z0-9._-]", "-", Path(p).stem)  # noqa: E731
    return Path("outputs") / f"compare-{safe(old_path)}-vs-{safe(new_path)}.xlsx"


def write_compare_xlsx(result: CompareResult, path, *, protect=(), force: bool = False, atomic: bool = True) -> Path:
    """Write the compare workbook atomically (unless ``atomic=False``: the caller holds a temporary
    path); never over the input workbooks; ``force`` replaces a read-only target."""
    if not atomic:
        _write(result, str(path))
        return Path(path)
    protect = list(protect) or [result.old_path, result.new_path]
    with atomic_path(path, protect=protect, force_readonly=force) as tmp:
        _write(result, str(tmp))
    return Path(path)


def _write(result: CompareResult, path: str) -> None:
    wb = xlsxwriter.Workbook(path, {"nan_inf_to_errors": True, "in_memory": True})  # no temp files to leak on Ctrl-C
    fmt = _formats(wb)
    _changes_sheet(wb, fmt, result)
    for metric in METRICS:
        _bridge_sheet(wb, fmt, result, metric)
    _notes_sheet(wb, fmt, result)
    for ws in wb.worksheets():
        print_one_page_wide(ws)
    record_formulas(wb, "compare")
    wb.close()


def _formats(wb) -> dict:
    f = lambda **k: wb.add_format(k)  # noqa: E731
    return {
        "title": f(bold=True, font_size=14, font_color=HEADER_FILL),
        "subtitle": f(italic=True, font_color="#595959"),
        "header": f(bold=True, font_color="#FFFFFF", bg_color=HEADER_FILL, border=1, text_wrap=True, valign="top"),
        "text": f(),
        "bold": f(bold=True),
        "num": f(num_format="#,##0.00####"),
        "money": f(num_format="#,##0"),
        "mtok": f(num_format="#,##0.0000"),
        "engine_money": f(num_format="#,##0", font_color=ENGINE_FONT, bg_color=ENGINE_FILL),
        "engine_mtok": f(num_format="#,##0.0000", font_color=ENGINE_FONT, bg_color=ENGINE_FILL),
        "check": f(num_format="0.0E+00", bold=True),
        "wrap": f(text_wrap=True, valign="top"),
    }


def _changes_sheet(wb, fmt, r: CompareResult):
    ws = wb.add_worksheet("Changes")
    ws.write(0, 0, "Inputs that differ between OLD and NEW", fmt["title"])
    ws.write(1, 0, f"OLD: {r.old_path}    NEW: {r.new_path}", fmt["subtitle"])
    heads = ["Sheet", "Row id", "Field", "Label", "OLD cell", "NEW cell", "OLD value", "NEW value", "Change (NEW - OLD)",
             "Bridge group"]
    widths = [12, 26, 30, 52, 14, 14, 16, 16, 16, 28]
    for c, (h, w) in enumerate(zip(heads, widths)):
        ws.write(2, c, h, fmt["header"])
        ws.set_column(c, c, w)
    ws.freeze_panes(3, 0)
    if not r.changes:
        ws.write(3, 0, "No input differs.", fmt["bold"])
        return
    for i, ch in enumerate(r.changes, start=3):
        ws.write_row(i, 0, [ch.sheet, ch.row_id, ch.field, ch.label, ch.old_cell or "", ch.new_cell or ""])
        for c, v in ((6, ch.old), (7, ch.new)):
            v = json_value(v)
            if v is None:
                ws.write_blank(i, c, None)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(i, c, v, fmt["num"])
            else:
                ws.write_string(i, c, str(v))
        if ch.change is not None:
            a, b = xl_rowcol_to_cell(i, 6), xl_rowcol_to_cell(i, 7)
            ws.write_formula(i, 8, f"={b}-{a}", fmt["num"], ch.change)
        ws.write(i, 9, ch.bridge_group)
    ws.autofilter(2, 0, 2 + len(r.changes), len(heads) - 1)


def _write_value(ws, row, col, v, f):
    if v is None:
        ws.write_formula(row, col, "=NA()", f, "#N/A")
    else:
        ws.write_number(row, col, v, f)


def _bridge_sheet(wb, fmt, r: CompareResult, metric: str):
    ws = wb.add_worksheet(SHEET_NAMES[metric])
    bridges = r.bridges[metric]
    is_cost = metric == "levelized_cost_per_mtok"
    unit = f"{r.currency}/Mtok" if is_cost else r.currency
    num, eng = (fmt["mtok"], fmt["engine_mtok"]) if is_cost else (fmt["money"], fmt["engine_money"])
    what = METRICS[metric] + ("" if is_cost else f" ({r.baseline})")
    ws.write(0, 0, f"Bridge: {what}, OLD to NEW ({unit})", fmt["title"])
    ws.write(1, 0, "Sequential substitution: NEW's model structure fed OLD's inputs, then each input group "
                   "switched to NEW in this fixed order: " + " > ".join(GROUPS) + ". Steps are engine values "
                   "(purple); they sum to NEW - OLD (check column = 0).", fmt["subtitle"])
    steps = [STRUCTURE, *GROUPS]
    heads = ["Option", "Label", "OLD", *steps, "NEW", "Total change (NEW - OLD)", "Check: steps - change"]
    for c, h in enumerate(heads):
        ws.write(2, c, h, fmt["header"])
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 36)
    ws.set_column(2, len(heads) - 1, 14)
    ws.set_row(2, 45)
    ws.freeze_panes(3, 2)
    if r.bridge_note:
        ws.write(3, 0, r.bridge_note, fmt["bold"])
        return
    first_step, last_step = 3, 3 + len(steps) - 1
    c_new, c_tot, c_chk = last_step + 1, last_step + 2, last_step + 3
    for i, (oid, b) in enumerate(bridges.items(), start=3):
        ws.write(i, 0, oid)
        ws.write(i, 1, b.label)
        _write_value(ws, i, 2, b.old, num)
        for k, (_, v) in enumerate(b.steps):
            _write_value(ws, i, first_step + k, v, eng)
        _write_value(ws, i, c_new, b.new, num)
        old_c, new_c = xl_rowcol_to_cell(i, 2), xl_rowcol_to_cell(i, c_new)
        tot = b.total_change
        ws.write_formula(i, c_tot, f"={new_c}-{old_c}", num, "#N/A" if tot is None else tot)
        rng = f"{xl_rowcol_to_cell(i, first_step)}:{xl_rowcol_to_cell(i, last_step)}"
        vals = [v for _, v in b.steps]
        chk = None if tot is None or any(v is None for v in vals) else sum(vals) - tot
        ws.write_formula(i, c_chk, f"=SUM({rng})-{xl_rowcol_to_cell(i, c_tot)}", fmt["check"],
                         "#N/A" if chk is None else chk)
    _waterfalls(wb, ws, fmt, r, metric, bridges, start_row=3 + len(bridges) + 2, data_col=c_chk + 3 + CHART_COLS * 2)


def _waterfall_rows(b) -> list[tuple]:
    """(category, base, up, up below 0, down, down below 0, total) per bar. The base series is
    invisible; a bar crossing zero is split into its parts above and below 0, because Excel stacks
    positive and negative values of a stacked column separately from 0."""
    rows = [("OLD", 0, 0, 0, 0, 0, b.old)]
    level = b.old
    for step, v in b.steps:
        a, z = level, level + v
        lo, hi = min(a, z), max(a, z)
        if lo >= 0:
            base, main, below = lo, hi - lo, 0.0
        elif hi <= 0:
            base, main, below = hi, lo - hi, 0.0
        else:
            base, main, below = 0.0, hi, lo
        up = v >= 0
        rows.append((step, base, main if up else 0, below if up else 0, 0 if up else main, 0 if up else below, 0))
        level = z
    rows.append(("NEW", 0, 0, 0, 0, 0, b.new))
    return rows


def _waterfalls(wb, ws, fmt, r, metric, bridges, start_row: int, data_col: int):
    is_cost = metric == "levelized_cost_per_mtok"
    up_col, down_col = (BAD, GOOD) if is_cost else (GOOD, BAD)  # a cost going up is bad news
    series_names = ["base", "Increase", "Increase (below 0)", "Decrease", "Decrease (below 0)", "OLD / NEW"]
    ws.write(start_row - 1, data_col, "Chart data (engine values): waterfall as a stacked column with an invisible base",
             fmt["subtitle"])
    drow = start_row
    n_chart = 0
    for oid, b in bridges.items():
        if b.old is None or b.new is None or any(v is None for _, v in b.steps):
            continue
        if not is_cost and oid == r.baseline and b.old == b.new == 0:
            continue  # the baseline against itself: nothing to draw
        rows = _waterfall_rows(b)
        ws.write_row(drow, data_col, [oid, *series_names], fmt["bold"])
        for k, row in enumerate(rows, start=1):
            ws.write_row(drow + k, data_col, row)
        n = len(rows)
        cats = [ws.name, drow + 1, data_col, drow + n, data_col]
        chart = wb.add_chart({"type": "column", "subtype": "stacked"})
        colours = [None, up_col, up_col, down_col, down_col, TOTAL]
        for s, colour in enumerate(colours, start=1):
            spec = {"name": [ws.name, drow, data_col + s], "categories": cats,
                    "values": [ws.name, drow + 1, data_col + s, drow + n, data_col + s], "gap": 60}
            spec.update({"fill": {"none": True}, "border": {"none": True}} if colour is None
                        else {"fill": {"color": colour}, "border": {"none": True}})
            chart.add_series(spec)
        chart.set_title({"name": f"{oid}: {METRICS[metric]}", "name_font": {"size": 11}})
        chart.set_legend({"position": "bottom", "delete_series": [0, 2, 4]})
        chart.set_y_axis({"num_format": "#,##0.00" if is_cost else "#,##0", "name": b.unit,
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_x_axis({"num_font": {"rotation": -45}, "label_position": "low"})  # labels clear of bars below 0
        chart.set_size({"width": 640, "height": 360})
        ws.insert_chart(start_row + (n_chart // 2) * CHART_ROWS, (n_chart % 2) * CHART_COLS, chart)
        n_chart += 1
        drow += n + 2


def _notes_sheet(wb, fmt, r: CompareResult):
    ws = wb.add_worksheet("Notes")
    ws.set_column(0, 0, 120)
    lines = [
        ("How the bridge is computed", "title"),
        ("1. The model structure (line items) is built from NEW; it is evaluated with OLD's input values by input "
         "name. The difference from OLD's own result is the 'Structure' step: changes that alter the items rather "
         "than input values (baseline, depreciation method, economic life, option kind, a row's currency), and "
         "inputs that exist in only one workbook.", "wrap"),
        ("2. The input groups are then switched from OLD to NEW one at a time in this fixed order: "
         + " > ".join(GROUPS) + ". Each step's contribution is the change it causes; interactions between "
         "groups are credited to the later group, so the order is part of the method.", "wrap"),
        ("3. The last step lands on NEW's own result: the steps sum to NEW - OLD (the check column is 0).", "wrap"),
        ("4. Roofline capacities ('<option>.capacity', output tok/s per replica) are inputs of the group "
         "'Utilization and throughput': hardware, model, precision and latency-target changes act through them.",
         "wrap"),
        ("", "text"),
        (f"OLD: {r.old_path}", "text"),
        (f"NEW: {r.new_path}", "text"),
        (f"Changed input cells: {len(r.changes)} (sheet Changes)", "text"),
        ("", "text"),
        ("Not substituted / structural differences", "title"),
    ]
    if r.bridge_note:
        lines.append((r.bridge_note, "bold"))
    lines += [(s, "wrap") for s in r.structural] or [("None.", "text")]
    for i, (text, f) in enumerate(lines):
        ws.write(i, 0, text, fmt[f])


def write_json(result: CompareResult, path, *, protect=(), force: bool = False, atomic: bool = True) -> Path:
    import json

    from tcomodel.compare.bridge import to_json_dict

    text = json.dumps(to_json_dict(result), indent=2) + "\n"
    if not atomic:
        Path(path).write_text(text)
        return Path(path)
    protect = list(protect) or [result.old_path, result.new_path]
    with atomic_path(path, protect=protect, force_readonly=force) as tmp:
        Path(tmp).write_text(text)
    return Path(path)


def write_outputs(result: CompareResult, *, xlsx_path=None, json_path=None, protect=(), force: bool = False) -> None:
    """Write the compare workbook and/or JSON, renamed into place together (see tcomodel.fileio)."""
    if xlsx_path is None and json_path is None:
        return
    protect = list(protect) or [result.old_path, result.new_path]
    with atomic_paths([xlsx_path, json_path], protect=protect, force_readonly=force) as (xlsx_tmp, json_tmp):
        if xlsx_tmp is not None:
            write_compare_xlsx(result, xlsx_tmp, atomic=False)
        if json_tmp is not None:
            write_json(result, json_tmp, atomic=False)


__all__ = ["default_output_path", "write_compare_xlsx", "write_json", "write_outputs", "SHEET_NAMES"]
