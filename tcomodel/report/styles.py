"""Cell formats of the report (FAST/ICAEW colours) and number formats chosen from units."""

from __future__ import annotations

INPUT_FONT, INPUT_FILL = "#0000FF", "#FFF2CC"
LINK_FONT = "#00803C"
ENGINE_FONT, ENGINE_FILL = "#7030A0", "#EDE7F6"
HEADER_FILL = "#1F3864"
SECTION_FILL = "#D9E1F2"


def number_format(unit: str, currency: str) -> str:
    """A number format that fits the unit of a line item or input."""
    u = (unit or "").strip()
    if u in ("share", "per year", "per quarter") or u.endswith("share"):
        return "0.0%"
    if "/Mtok" in u:
        return "#,##0.00"
    if "/token" in u:
        return "0.000E+00"
    if " per " in u and u.split(" per ")[0] == currency or (u.count("/") == 1 and len(u.split("/")[1]) == 3
                                                              and u.split("/")[1].isupper()):
        return "0.0000"  # an FX rate, e.g. "DKK per USD" or "DKK/USD"
    if u.endswith(("/kWh", "/GPU-h")) or u in ("kW", "GB", "ratio", "years"):
        return "#,##0.00"
    if u.endswith(("/month", "/replica-month", "/month ex VAT")):
        return "#,##0"
    if u in ("factor", "index") or u.startswith(("factor", "index")):
        return "0.0000"
    if u in ("flag", "count", "quarter #", "replicas", "servers", "GPUs", "quarters"):
        return "#,##0"
    if u.startswith("tok/s"):
        return "#,##0.0"
    if u.startswith("score"):
        return "0.0"
    if u in (currency, "USD", "EUR", "tokens", "tokens/month", "kWh", "GPU-h", "replica-months", "months",
             "requests", "requests/quarter") or len(u) == 3 and u.isupper():
        return "#,##0"
    return "#,##0.00"


class Formats:
    """Lazily created xlsxwriter formats keyed by (role, number format)."""

    def __init__(self, wb, currency: str):
        self.wb = wb
        self.currency = currency
        self._cache: dict = {}

    def get(self, role: str, num: str | None = None):
        key = (role, num)
        if key not in self._cache:
            props = dict(_ROLES[role])
            if num:
                props["num_format"] = num
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]

    def for_unit(self, role: str, unit: str):
        return self.get(role, number_format(unit, self.currency))

    def writer_formats(self, unit: str) -> dict:
        """Format mapping for tcomodel.sheet.writer for items of one unit."""
        num = number_format(unit, self.currency)
        return {
            "label": self.get("label"), "unit": self.get("unit"), "input": self.get("input", num),
            "row_input": self.get("input", num), "formula": self.get("formula", num), "total": self.get("total", num),
            "scalar": self.get("scalar", num), "header": self.get("header"), "link": self.get("link", num),
            "engine": self.get("engine", num),
        }


_BORDER = {"border": 1, "border_color": "#D9D9D9"}
_ROLES = {
    "title": {"bold": True, "font_size": 16, "font_color": HEADER_FILL},
    "subtitle": {"italic": True, "font_color": "#595959"},
    "subtitle_wrap": {"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"},
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "align": "center", "border": 1},
    "header_wrap": {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "align": "center",
                    "valign": "vcenter", "border": 1, "text_wrap": True},
    "header_left": {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "border": 1},
    "section": {"bold": True, "bg_color": SECTION_FILL},
    "label": {},
    "label_bold": {"bold": True},
    "unit": {"italic": True, "font_color": "#595959"},
    "unit_after": {"italic": True, "font_color": "#595959", "indent": 1},  # a unit right of a right-aligned figure
    "unit_right": {"italic": True, "font_color": "#595959", "align": "right"},  # words in a column of figures
    "text_after": {"indent": 1},  # text right of a right-aligned figure
    "input": {"font_color": INPUT_FONT, "bg_color": INPUT_FILL, **_BORDER},
    "formula": {"font_color": "#000000"},
    "total": {"bold": True, "font_color": "#000000", "left": 1, "left_color": "#A6A6A6"},
    "scalar": {"bold": True, "font_color": "#000000", "bg_color": "#F2F2F2", **_BORDER},
    "link": {"font_color": LINK_FONT},
    "link_right": {"font_color": LINK_FONT, "align": "right"},  # a link that may show words instead of a number
    "engine": {"font_color": ENGINE_FONT, "bg_color": ENGINE_FILL, **_BORDER},
    "engine_wrap": {"font_color": ENGINE_FONT, "bg_color": ENGINE_FILL, **_BORDER, "text_wrap": True, "valign": "top"},
    "check": {"bold": True, **_BORDER},
    "text": {"text_wrap": False},
    "wrap": {"text_wrap": True, "valign": "top"},
    # the Inputs sheet: a row grows with its wrapped source, its figures stay level with its label
    "input_top": {"font_color": INPUT_FONT, "bg_color": INPUT_FILL, "valign": "top", **_BORDER},
    "engine_top": {"font_color": ENGINE_FONT, "bg_color": ENGINE_FILL, "valign": "top", **_BORDER},
    "formula_top": {"font_color": "#000000", "valign": "top"},
    "unit_top": {"italic": True, "font_color": "#595959", "valign": "top"},
    "source": {"italic": True, "font_color": "#404040"},
    "ok": {"bold": True, "font_color": "#006100", "bg_color": "#C6EFCE", **_BORDER},
    "bad": {"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE", **_BORDER},
}
