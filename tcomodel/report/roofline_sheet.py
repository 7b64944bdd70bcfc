"""The Roofline sheet: the operating point of each self-hosted option, decode throughput against batch, and
the published claims checked against the physical bound. Engine-computed constants, all from the run."""

from __future__ import annotations

import math

from tcomodel.report.report_context import FIRST_ROW, ReportContext

FIELDS = (
    ("weights_gb", "Weights (whole model)", "GB", "#,##0.00"),
    ("weights_gb_per_gpu", "Weights per GPU", "GB", "#,##0.00"),
    ("bits_per_weight", "Bits per weight (with scales)", "bits", "0.00"),
    ("kv_bytes_per_token", "KV cache per token (growing part)", "bytes", "#,##0"),
    ("state_bytes_per_sequence", "Fixed state per sequence", "bytes", "#,##0"),
    ("context_tokens", "Context per sequence", "tokens", "#,##0"),
    ("usable_memory_gb_per_gpu", "Usable memory per GPU", "GB", "#,##0.0"),
    ("fits", "Fits in memory", "yes/no", None),
    ("max_concurrency", "Max concurrent sequences at this context", "sequences", "#,##0"),
    ("batch", "Batch at the operating point", "sequences", "#,##0"),
    ("meets_targets", "Meets the latency targets", "yes/no", None),
    ("decode_tok_s_per_stream", "Decode speed per user", "tok/s", "#,##0.0"),
    ("decode_tok_s_total", "Decode throughput, all streams", "tok/s", "#,##0"),
    ("prefill_tok_s", "Prefill rate", "tok/s", "#,##0"),
    ("ttft_s", "Time to first token", "s", "0.000"),
    ("output_tok_s_total", "Sustained output (prefill included) = capacity", "tok/s", "#,##0.0"),
    ("bound", "Bound at the operating point", "", None),
    ("ideal_bound_tok_s", "Ideal bound: bandwidth / weights, batch 1", "tok/s", "#,##0.0"),
)
CLAIM_HEADS = ("Claim", "Hardware", "Model", "Bits/weight", "GPUs", "Claimed tok/s", "Bound tok/s (ideal)",
               "Verdict", "Claim / bound", "Engine's reading; quote and source")


def write_roofline(ctx: ReportContext):
    ws = ctx.ws["Roofline"]
    ctx.title(ws, "Roofline: memory fit, operating point and throughput",
              "Engine-computed (purple): physics of hardware x model x precision, calibrated per serving "
              "engine; the capacity per replica feeds the option sheets via the Inputs sheet.")
    ids = list(ctx.run.operating.estimates)
    r = _write_operating_points(ctx, ws, FIRST_ROW - 2, ids)
    r = _write_curves(ctx, ws, r + 2, ids, chart_row=FIRST_ROW - 2)
    _write_claims(ctx, ws, r)
    ws.set_column(0, 0, 48)
    ws.set_column(1, 1, 20)
    ws.set_column(2, 2 + max(len(ids), 8), 22)  # an option id in bold fits
    ws.set_column(9, 9, 90)
    ws.freeze_panes(FIRST_ROW - 1, 2)


def _write_operating_points(ctx: ReportContext, ws, r, ids) -> int:
    f, ests = ctx.f, ctx.run.operating.estimates
    ws.write_string(r, 0, "Quantity", f.get("header_left"))
    ws.write_string(r, 1, "Unit", f.get("header"))
    for j, oid in enumerate(ids):
        ws.write_string(r, 2 + j, oid, f.get("header"))
    r += 1
    w = ctx.sc.workload[0]
    ws.write_string(r, 0, f"Operating point for {w.quarter}: {w.input_tokens_per_request:,.0f} in / "
                          f"{w.output_tokens_per_request:,.0f} out tokens, >= {w.min_user_tok_s:g} tok/s per user, "
                          f"TTFT <= {w.max_ttft_s:g} s", f.get("subtitle"))
    r += 1
    for j, oid in enumerate(ids):
        e = ests[oid][0]
        ws.write_string(r, 2 + j, f"{e.gpus} x {e.hardware_id}", f.get("engine"))
        ws.write_string(r + 1, 2 + j, f"{e.model_id} {e.precision}, KV {e.kv_precision}, {e.engine}",
                        f.get("engine_wrap"))
    ws.set_row(r + 1, 30)  # two lines: model id, then precisions and engine
    ws.write_string(r, 0, "Hardware")
    ws.write_string(r + 1, 0, "Model, precision, engine")
    r += 2
    for key, label, unit, num in FIELDS:
        ws.write_string(r, 0, label)
        ws.write_string(r, 1, unit, f.get("unit"))
        for j, oid in enumerate(ids):
            _write_engine_value(ws, f, r, 2 + j, getattr(ests[oid][0], key), num)
        r += 1
    for j, oid in enumerate(ids):
        if ctx.sc.options[oid].measured_output_tok_s_per_replica is not None or oid in ctx.sc.benchmarks:
            ws.write_string(r, 2 + j, "measured override used", f.get("subtitle"))
    return r


def _write_engine_value(ws, f, r, c, v, num):
    if isinstance(v, bool):
        ws.write_string(r, c, "yes" if v else "no", f.get("engine"))
    elif v is None:
        ws.write_string(r, c, "n/a", f.get("engine"))
    elif isinstance(v, str):
        ws.write_string(r, c, v, f.get("engine"))
    else:
        ws.write_number(r, c, float(v), f.get("engine", num))


def _write_curves(ctx: ReportContext, ws, r, ids, chart_row) -> int:
    """Throughput vs batch: one table per option side by side, and one chart. Returns the next free row."""
    f, curves = ctx.f, ctx.run.decode_curves
    ws.write_string(r, 0, "Decode throughput against batch (all GPUs of one replica, context of the operating point)",
                    f.get("section"))
    r += 1
    chart = ctx.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    col = 0
    for oid in ids:
        rows = curves[oid]
        ws.write_string(r, col, f"{oid}: batch", f.get("header_wrap"))
        ws.write_string(r, col + 1, "tok/s total", f.get("header_wrap"))
        for i, pt in enumerate(rows):
            ws.write_number(r + 1 + i, col, pt["batch"], f.get("engine", "#,##0"))
            ws.write_number(r + 1 + i, col + 1, pt["decode_tok_s_total"], f.get("engine", "#,##0"))
        chart.add_series({"name": oid, "categories": ["Roofline", r + 1, col, r + len(rows), col],
                          "values": ["Roofline", r + 1, col + 1, r + len(rows), col + 1],
                          "marker": {"type": "circle", "size": 4}})
        col += 2
    ws.set_row(r, 30)  # "<option id>: batch" wraps in its column
    longest = max((len(curves[oid]) for oid in ids), default=0)
    chart.set_title({"name": "Decode throughput vs batch (per replica)"})
    chart.set_x_axis({"name": "concurrent sequences (batch)", "log_base": 2, "min": 1})
    chart.set_y_axis({"name": "output tok/s", "major_gridlines": {"visible": True}})
    chart.set_size({"width": 760, "height": 380})
    if ids:
        ws.insert_chart(chart_row, 2 + len(ids) + 1, chart)
    return r + longest + 3


def _write_claims(ctx: ReportContext, ws, r):
    f = ctx.f
    ws.write_string(r, 0, "Published throughput claims checked against the physical bound", f.get("section"))
    r += 1
    for c, h in enumerate(CLAIM_HEADS):
        ws.write_string(r, c, h, f.get("header_left" if c in (0, 9) else "header"))
    r += 1
    for cl, d in zip(ctx.sc.claims, ctx.run.claim_checks):
        ws.write_string(r, 0, cl.claim_id)
        ws.write_string(r, 1, cl.hardware_id)
        ws.write_string(r, 2, cl.model_id)
        if cl.bits_per_weight is not None:
            ws.write_number(r, 3, cl.bits_per_weight, f.get("input", "0.00"))
        else:
            ws.write_string(r, 3, cl.precision or "", f.get("input"))
        ws.write_number(r, 4, cl.gpus or 1, f.get("engine", "0"))
        ws.write_number(r, 5, cl.claimed_tok_s, f.get("input", "#,##0.0"))
        bound = d.get("bound_tok_s")
        if bound is None:
            ws.write_string(r, 6, "n/a", f.get("engine"))
        else:
            ws.write_number(r, 6, float(bound), f.get("engine", "#,##0.0"))
        verdict = d.get("verdict", "")
        ws.write_string(r, 7, verdict.replace("_", " "), f.get("ok" if verdict == "within_bound" else "bad"))
        fac = d.get("factor")
        if fac is None or (isinstance(fac, float) and not math.isfinite(fac)):
            ws.write_string(r, 8, "n/a", f.get("engine"))
        else:
            ws.write_number(r, 8, float(fac), f.get("engine", "0.0"))
        text = f"{d['message']}. Quote: {cl.quote or ''} ({cl.source})"
        ws.write_string(r, 9, text, f.get("wrap"))
        ws.set_row(r, 15 * max(1, math.ceil(len(text) / 85)))  # wrapped text needs its height set for print
        r += 1
    if not ctx.sc.claims:
        ws.write_string(r, 0, "(no claims on the scenario's Claims sheet)", f.get("subtitle"))
