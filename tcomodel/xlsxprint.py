"""Print setup shared by every workbook tcomodel writes (report, compare bridge, sweep)."""

from __future__ import annotations


def print_one_page_wide(ws, footer: str | None = None) -> None:
    """Landscape A4, one page wide and as many pages tall as needed, narrow margins."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if footer:
        ws.set_footer(footer)
