"""Print setup shared by every workbook tcomodel writes (report, compare bridge, sweep)."""

from __future__ import annotations

import math

A4 = 9
LANDSCAPE_PRINTABLE_PX = 1045  # A4 landscape (11.69 in) less 0.4 in margins each side, at 96 px per inch
MARGIN_LR_IN = 0.4


def column_px(width_chars: float) -> int:
    """Excel's pixel width of a column of ``width_chars`` characters in the default 11 pt Calibri."""
    return int(width_chars * 7 + 0.5) + 5 if width_chars >= 1 else int(width_chars * 12 + 0.5)


def _landscape(ws, footer: str | None) -> None:
    ws.set_landscape()
    ws.set_paper(A4)
    ws.set_margins(left=MARGIN_LR_IN, right=MARGIN_LR_IN, top=0.5, bottom=0.5)
    if footer:
        ws.set_footer(footer)


def print_one_page_wide(ws, footer: str | None = None) -> None:
    """Landscape A4, one page wide and as many pages tall as needed, narrow margins."""
    _landscape(ws, footer)
    ws.fit_to_pages(1, 0)


def periods_per_page(label_widths, period_width: float, n_periods: int, max_per_page: int = 8,
                     min_scale: int = 60) -> tuple[int, int]:
    """(period columns per page, print scale in %) for a sheet of label columns and ``n_periods`` period
    columns printed pages across: at most ``max_per_page`` periods a page, spread evenly over the pages, and
    fewer a page where the labels are so wide that the scale would drop below ``min_scale``. The scale is
    Excel's with its default font; the sheet itself is set to fit that many pages wide, so a viewer with
    other font metrics (LibreOffice without Carlito) scales to the same page breaks."""
    label_px = sum(column_px(w) for w in label_widths)
    pages = max(1, math.ceil(n_periods / max_per_page))
    while True:
        per_page = math.ceil(n_periods / pages)
        scale = min(100, math.floor(100 * LANDSCAPE_PRINTABLE_PX / (label_px + per_page * column_px(period_width))))
        if scale >= min_scale or per_page == 1:
            return per_page, max(10, scale)
        pages += 1


def print_periods_across(ws, footer: str | None, *, label_widths, period_width: float, first_period_col: int,
                         n_periods: int, header_row: int, max_per_page: int = 8) -> None:
    """Landscape A4 for a sheet of label columns followed by period columns: the label columns and the rows
    down to the period header repeat on every page, a vertical page break every few periods (pages across,
    then down) and a fixed scale, so a 20-quarter sheet is not squeezed onto one page width."""
    _landscape(ws, footer)
    per_page, scale = periods_per_page(label_widths, period_width, n_periods, max_per_page)
    ws.fit_to_pages(math.ceil(n_periods / per_page), 0)
    ws.print_across()
    ws.repeat_columns(0, len(label_widths) - 1)
    ws.repeat_rows(0, header_row)
    ws.set_v_pagebreaks([first_period_col + k for k in range(per_page, n_periods, per_page)])
