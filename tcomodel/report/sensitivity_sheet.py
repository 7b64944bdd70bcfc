"""The Sensitivity sheet: tornadoes of the focus option and the cheapest option by volume and API price, as the
run computed them (each cell a separate run of the model, so constants, not formulas)."""

from __future__ import annotations

from tcomodel.report.report_context import FIRST_ROW, ReportContext

CHARTS_COL = 9
PALETTE = ("#DDEBF7", "#FCE4D6", "#E2EFDA", "#FFF2CC", "#EDE7F6", "#D9D9D9", "#F8CBAD", "#C6E0B4", "#BDD7EE")


def write_sensitivity(ctx: ReportContext):
    ws = ctx.ws["Sensitivity"]
    ctx.title(ws, "Sensitivity: what moves the answer",
              "Engine-computed (purple): the whole model re-run with one driver at its low and high value "
              "(the scenario's Ranges sheet where it names the input, else +/-20%), and on a grid of volume and "
              "API price. Not formulas: each cell is a separate run of the model.")
    r = FIRST_ROW - 2
    for table in ctx.run.tornado_tables:
        r = _write_tornado(ctx, ws, r, table)
    _write_grid(ctx, ws, r)
    ws.set_column(0, 0, 56)
    ws.set_column(1, 8, 22)  # an option id in the grid, and "At high (CCY/Mtok)", fit


def _write_tornado(ctx: ReportContext, ws, r, t) -> int:
    f, m, ccy = ctx.f, ctx.m, ctx.ccy
    if t.metric == "npv":
        metric, unit, num = f"NPV of switching from {m.baseline} to {t.option}", ccy, "#,##0"
    else:
        metric, unit, num = f"Levelized cost of {t.option}", f"{ccy}/Mtok", "#,##0.00"
    ctx.section(ws, r, f"Tornado: {metric} (base {t.base:,.2f} {unit})", 6)
    r += 1
    for c, h in enumerate(("Driver", "Low factor", "High factor", f"At low ({unit})", f"At high ({unit})",
                           "Change at low", "Change at high")):
        ws.write_string(r, c, h, f.get("header_left" if c == 0 else "header"))
    head = r
    r += 1
    first = r
    for d, lo, hi in t.rows:
        ws.write_string(r, 0, f"{d.label} ({d.basis})")
        ws.write_number(r, 1, d.low, f.get("engine", "0.00"))
        ws.write_number(r, 2, d.high, f.get("engine", "0.00"))
        ws.write_number(r, 3, float(lo), f.get("engine", num))
        ws.write_number(r, 4, float(hi), f.get("engine", num))
        ws.write_number(r, 5, float(lo - t.base), f.get("engine", num))
        ws.write_number(r, 6, float(hi - t.base), f.get("engine", num))
        r += 1
    n = len(t.rows)
    if not n:
        ws.write_string(r, 0, "(no driver moves this figure)", f.get("subtitle"))
        r += 1
    else:
        ch = ctx.wb.add_chart({"type": "bar"})
        for col, name in ((5, "low"), (6, "high")):
            ch.add_series({"name": f"driver at {name}", "categories": ["Sensitivity", first, 0, r - 1, 0],
                           "values": ["Sensitivity", first, col, r - 1, col], "gap": 40})
        ch.set_title({"name": f"{metric}: change from base ({unit})"})
        ch.set_y_axis({"reverse": True, "label_position": "low"})
        ch.set_x_axis({"num_format": num, "major_gridlines": {"visible": True}})
        ch.set_legend({"position": "bottom"})
        ch.set_size({"width": 820, "height": 60 + 28 * n + 60})
        ws.insert_chart(head, CHARTS_COL, ch)
    r = max(r, head + 2 + n) + 3
    return max(r, head + int((60 + 28 * n + 80) / 20))


def _write_grid(ctx: ReportContext, ws, r):
    f, g = ctx.f, ctx.run.grid
    ctx.section(ws, r, "Cheapest option (lowest levelized cost) by monthly token volume and API price level", 6)
    r += 1
    ws.write_string(r, 0, "Rows: the workload scaled to this many tokens a month (mean over the horizon). "
                          "Columns: every API token price multiplied by this factor.", f.get("subtitle"))
    r += 1
    ws.write_string(r, 0, "Tokens per month \\ API price factor", f.get("header_left"))
    for j, pf in enumerate(g.price_factors):
        ws.write_string(r, 1 + j, f"x{pf:g}", f.get("header"))
    r += 1
    fmts = {oid: ctx.wb.add_format({"bg_color": PALETTE[i % len(PALETTE)], "font_color": "#7030A0", "border": 1,
                                    "border_color": "#D9D9D9", "align": "center"})
            for i, oid in enumerate(ctx.m.options)}
    for i, mt in enumerate(g.monthly_tokens):
        ws.write_number(r, 0, mt, f.get("engine", '#,##0" tokens/month"'))
        for j in range(len(g.price_factors)):
            oid = g.cheapest[i][j]
            ws.write_string(r, 1 + j, oid, fmts[oid])
        r += 1
    ws.write_string(r, 0, f"Volume x1 is the scenario's workload ({g.monthly_tokens[g.volume_factors.index(1.0)]:,.0f} "
                          f"tokens a month on average); price x1 the ApiPrices sheet. Self-hosted fleets are re-sized "
                          f"at every volume.", f.get("subtitle"))
