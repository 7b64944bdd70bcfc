"""The sweep workbook (xlsxwriter): Summary (with the drivers), Histograms (binned counts with column charts), Samples.

All cells are values (a sweep has no formula lineage to show); #N/A where a metric is undefined.
Formats are local: the core does not import tcomodel.report.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import xlsxwriter

from tcomodel.fileio import atomic_path
from tcomodel.provenance import SCENARIO_FILE_PROPERTY, SCENARIO_NAME_PROPERTY
from tcomodel.version import __version__
from tcomodel.xlsxmanifest import record_formulas
from tcomodel.sweep.montecarlo import PERCENTILES, SweepResult, share_bound
from tcomodel.xlsxprint import print_one_page_wide

HEADER_FILL, ENGINE_FONT, ENGINE_FILL = "#1F3864", "#7030A0", "#EDE7F6"
HISTOGRAM_BINS = 30
SAMPLE_ROWS = 1_000
CHART_ROWS = 16  # rows one histogram block takes on the Histograms sheet


def default_output_path(scenario_name: str, today: dt.date | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", scenario_name)
    return Path("outputs") / f"{safe}-sweep-{(today or dt.date.today()).isoformat()}.xlsx"


def _bin_of(edges: np.ndarray, value) -> int | None:
    """The histogram bin holding ``value`` (the last bin includes its upper edge, as numpy's); None outside."""
    if value is None or not math.isfinite(value) or len(edges) < 2 or not edges[0] <= value <= edges[-1]:
        return None
    return int(min(np.searchsorted(edges, value, side="right") - 1, len(edges) - 2))


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS):
    """(edges [bins + 1], counts [bins]) of the defined values; one bin when all values are equal."""
    ok = values[~np.isnan(values)]
    if ok.size == 0:
        return np.array([]), np.array([], dtype=int)
    lo, hi = float(ok.min()), float(ok.max())
    if lo == hi:
        return np.array([lo, hi]), np.array([ok.size])
    counts, edges = np.histogram(ok, bins=bins, range=(lo, hi))
    return edges, counts


def write_sweep_xlsx(res: SweepResult, path, *, protect=(), today: dt.date | None = None, force: bool = False,
                     atomic: bool = True) -> Path:
    """Write the sweep workbook, atomically unless ``atomic=False`` (the caller holds a temporary path);
    ``force`` replaces a read-only target."""
    if not atomic:
        _write(res, str(path), today)
        return Path(path)
    with atomic_path(path, protect=list(protect), force_readonly=force) as tmp:
        _write(res, str(tmp), today)
    return Path(path)


def _write(res: SweepResult, path: str, today: dt.date | None) -> None:
    wb = xlsxwriter.Workbook(path, {"nan_inf_to_errors": True, "in_memory": True})  # no temp files to leak on Ctrl-C
    wb.set_properties({"title": f"tcomodel sweep: {res.scenario_name}", "author": "tcomodel"})
    if res.scenario_file is not None:  # which scenario file: a sweep of another is never replaced silently
        wb.set_custom_property(SCENARIO_FILE_PROPERTY, res.scenario_file)
    wb.set_custom_property(SCENARIO_NAME_PROPERTY, res.scenario_name)
    f = _formats(wb)
    _summary(wb, f, res, today or dt.date.today())
    _histograms(wb, f, res)
    _samples(wb, f, res)
    for ws in wb.worksheets():
        print_one_page_wide(ws)
    record_formulas(wb, "sweep")
    wb.close()


def _formats(wb):
    top = {"valign": "top"}  # a wrapped label or source makes a row tall: every cell of it reads from the top
    engine = dict(top, font_color=ENGINE_FONT, bg_color=ENGINE_FILL)
    return {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "bold": wb.add_format({"bold": True}),
        "header": wb.add_format({"bold": True, "font_color": "white", "bg_color": HEADER_FILL, "text_wrap": True,
                                 "valign": "top"}),
        "note": wb.add_format(dict(top, italic=True, font_color="#595959")),
        "money": wb.add_format(dict(engine, num_format="#,##0")),
        "mtok": wb.add_format(dict(engine, num_format="#,##0.00")),
        "num": wb.add_format({"num_format": "#,##0.0000"}),
        "wrap": wb.add_format(dict(top, text_wrap=True)),
        "warn_bold": wb.add_format({"bold": True, "font_color": "#C00000"}),
        "bold_wrap": wb.add_format(dict(top, bold=True, text_wrap=True)),
        "warn_wrap": wb.add_format(dict(top, font_color="#C00000", text_wrap=True)),
        "note_wrap": wb.add_format(dict(top, italic=True, font_color="#595959", text_wrap=True)),
        "int": wb.add_format(dict(top, num_format="#,##0")),
        "int_left": wb.add_format({"num_format": "#,##0", "align": "left"}),
        "num_plain": wb.add_format({"num_format": "#,##0.0000"}),
        "big_plain": wb.add_format({"num_format": "#,##0.00"}),
        "rate_plain": wb.add_format({"num_format": "0.0%"}),
        "corr": wb.add_format(dict(engine, num_format="0.00")),
        "pct": wb.add_format(dict(engine, num_format="0.0%")),
        "pct_tiny": wb.add_format(dict(engine, num_format='"<0.1%"', align="right")),
        "pct_nearly_all": wb.add_format(dict(engine, num_format='">99.9%"', align="right")),
        "rate_top": wb.add_format(dict(top, num_format="0.0%")),
        "num_top": wb.add_format(dict(top, num_format="#,##0.0000")),
        "value_big_top": wb.add_format(dict(top, num_format="#,##0.00")),
        "top": wb.add_format(top),
        "top_wrap": wb.add_format(dict(top, text_wrap=True)),
        # text right of a right-aligned figure: indented, so the two do not run together
        "top_after": wb.add_format(dict(top, indent=1)),
        "top_wrap_after": wb.add_format(dict(top, text_wrap=True, indent=1)),
    }


def _put(ws, r, c, v, fmt=None):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        ws.write_formula(r, c, "=NA()", fmt, "#N/A")
    else:
        ws.write_number(r, c, float(v), fmt)


def _setting(st: dict, key: str, spec: str) -> str:
    """A setting every sample shares, or its base and range where a Ranges row samples it."""
    v = format(st[key], spec)
    rng = st.get("sampled", {}).get(key)
    if rng is None:
        return v
    return f"{v} at base; sampled ({rng['ranges_cell']}: {format(rng['low'], spec)} to {format(rng['high'], spec)})"


def _put_share(ws, r, c, v, f):
    """A probability, read as share_bound says near 0 or 1 (the cell keeps the number)."""
    _put(ws, r, c, v, {"<0.1%": f["pct_tiny"], ">99.9%": f["pct_nearly_all"]}.get(share_bound(v), f["pct"]))


def _value_kind(unit: str, *values) -> str:
    """A sampled input's number format: rates and shares in % ("rate"), two decimals from 100 up (fees, prices:
    "big"), else four ("num")."""
    if unit in ("per year", "share"):
        return "rate"
    big = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0) >= 100
    return "big" if big else "num"


def _value_format(f, unit: str, *values):
    return f[{"rate": "rate_top", "big": "value_big_top", "num": "num_top"}[_value_kind(unit, *values)]]


LAST_COL = 12  # the Summary's tables, notes and merged texts span A..M: it prints one page wide at a readable size


def _summary(wb, f, res: SweepResult, today):
    ws = wb.add_worksheet("Summary")
    ccy, base = res.currency, res.baseline
    st = res.settings
    ws.write(0, 0, f"Monte Carlo sweep: {res.scenario_name}", f["title"])
    sampling = ("Latin hypercube (each stratum once per block of samples)" if res.lhs
                else "independent random draws (Monte Carlo; --lhs for Latin hypercube)")
    correlated = (f"{len(res.correlations)} rank-correlated pair(s), in the notes below (Correlations sheet)"
                  if res.correlations else "none: every input is drawn independently of the others")
    info = [("Samples", res.samples), ("Seed", res.seed), ("Date", today.isoformat()),
            ("Currency", ccy), ("Baseline (NPVs against it)", base)]
    if st:
        info += [("Discount rate (per year)", _setting(st, "discount_rate_annual", ".2%")),
                 ("Tax rate on the savings", _setting(st, "tax_rate", ".0%")),
                 ("Horizon", f"{st['quarters']} quarters, {st['first_quarter']}..{st['last_quarter']}")]
    info += [("Sampling", sampling), ("Correlations", correlated), ("tcomodel version", __version__)]
    for i, (k, v) in enumerate(info):
        ws.write(2 + i, 0, k, f["bold"])
        if isinstance(v, int):  # a count is a number a reader can use
            ws.write_number(2 + i, 1, v, f["int_left"])
        else:
            ws.write_string(2 + i, 1, v)
    widths = {0: min(30, max([26] + [len(o) + 2 for o in res.options] + [len(si.ranges_cell) + 2 for si in res.inputs])),
              1: 44, 2: 14}
    widths.update({c: 14 for c in range(3, max(LAST_COL, len(res.options) + 2) + 1)})
    for c, w in widths.items():
        ws.set_column(c, c, w)
    r = 3 + len(info)
    if res.warnings:
        ws.write(r, 0, "Warnings of the base case (they hold for every sample)", f["warn_bold"])
        for w in res.warnings:
            r += 1
            _wrapped(ws, r, 0, LAST_COL, w, f["warn_wrap"], widths)
        r += 2
    r = _sampled_inputs(ws, f, res, r, widths)
    r, first, last, cheapest_col = _results(ws, f, res, r + 2, widths)
    for k in range(len(res.unknown_fees)):
        r = _saving_by_fee(ws, f, res, k, r + 2, widths)
    r = _notes(ws, f, res, r + 2, widths)
    ws.freeze_panes(1, 0)
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({"name": "P(cheapest)", "categories": ["Summary", first, 0, last, 0],
                      "values": ["Summary", first, cheapest_col, last, cheapest_col], "fill": {"color": "#4472C4"}})
    chart.set_title({"name": "Probability of being the cheapest option (levelized cost; quality not weighed)"})
    chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 640, "height": 120 + 30 * len(res.options)})  # room for every option's label
    ws.insert_chart(r + 1, 0, chart)
    _drivers(ws, f, res, r + 3 + (120 + 30 * len(res.options)) // 20, widths)


def _sampled_inputs(ws, f, res: SweepResult, r: int, widths: dict) -> int:
    """The Ranges rows sampled, in their units; returns the last row written."""
    ws.write(r, 0, "Sampled inputs (the Ranges sheet)", f["bold"])
    r += 1
    heads = ["Ranges cell", "Input", "Distribution", "Low", "Base (the mode if triangular)", "High", "Unit",
             "Sample mean", "Drives", "Source"]
    ws.write_row(r, 0, heads[:-1], f["header"])
    ws.merge_range(r, len(heads) - 1, r, LAST_COL, heads[-1], f["header"])
    ws.set_row(r, 30)
    for j, si in enumerate(res.inputs):
        r += 1
        ws.write_row(r, 0, [si.ranges_cell, si.label, si.distribution], f["top_wrap"])
        vf = _value_format(f, si.unit, si.low, si.mode, si.high)
        for c, v in enumerate((si.low, si.mode, si.high), start=3):
            _put(ws, r, c, v, vf)
        ws.write(r, 6, si.unit, f["top_after"])
        _put(ws, r, 7, float(res.draw_means[j]), vf)
        ws.write(r, 8, si.target, f["top_wrap_after"])
        _wrapped(ws, r, 9, LAST_COL, si.source, f["wrap"], widths,
                 at_least=max(_lines(si.label, widths[1]), _lines(si.target, widths[8])))
    if not res.inputs:
        r += 1
        ws.write(r, 0, "(none: every sample is the base case)", f["note"])
    return r


def _lines(text: str, width: int) -> int:
    """Lines ``text`` takes wrapped in ``width`` column units (a unit is a '0'; text averages a little narrower)."""
    return max(1, math.ceil(len(text) / (width * 1.05)))


def _header_height(heads: list[str], widths: dict) -> int:
    """A header row's height in points: its longest head's lines (bold, and wrapped at words: about 0.8 of a plain
    line's characters)."""
    return 15 * max(_lines(h, widths[c] * 0.8) for c, h in enumerate(heads))


def _results(ws, f, res: SweepResult, r: int, widths: dict) -> tuple[int, int, int, int]:
    """Two tables, one per metric: base, percentiles and mean, where the base sits, the probabilities; returns
    (last row, the first table's first and last option rows, its P(cheapest) column)."""
    ccy, base = res.currency, res.baseline
    pct = [f"P{p}" for p in PERCENTILES]
    lev, npv = res.stats("levelized"), res.stats("npv")
    at = {m: res.base_percentile(m) for m in ("levelized", "npv")}
    tables = [
        ("levelized", f"Levelized cost per million tokens ({ccy}/Mtok; engine-computed)", lev, f["mtok"],
         [("P(cheapest)", res.probability_cheapest(), ""),
          ("P(cheapest self-hosted)", res.probability_cheapest_self_hosted(), "(not self-hosted)"),
          ("P(cheapest, quality-adjusted)", res.probability_cheapest_quality(), "(no quality score)")]),
        ("npv", f"NPV of switching from {base} ({ccy}; positive = the option costs less; engine-computed)", npv,
         f["money"], [(f"P(NPV > 0): switching from {base} saves", res.probability_saving(), "(baseline)")]),
    ]
    first = last = cheapest_col = 0
    for metric, title, stats, fmt, shares in tables:
        ws.write(r, 0, title, f["bold"])
        r += 1
        heads = (["Option", "Label", "Kind", "Base"] + pct + ["Mean", "Base at percentile"]
                 + [h for h, _, _ in shares] + ["#N/A samples"])
        ws.write_row(r, 0, heads, f["header"])
        ws.set_row(r, max(45, _header_height(heads, widths)))
        if metric == "levelized":
            first, cheapest_col = r + 1, heads.index("P(cheapest)")
        for oid, (kind, label) in res.options.items():
            r += 1
            _option_cells(ws, f, r, oid, label, kind, widths)
            values = (res.base_levelized if metric == "levelized" else res.base_npv)[oid]
            c = 3
            if metric == "npv" and oid == base:  # no NPV of switching to itself
                ws.write_string(r, c, "(baseline)", f["note"])
                c += 1 + len(pct) + 2
            else:
                for v in [values] + [stats[oid][f"p{p}"] for p in PERCENTILES] + [stats[oid]["mean"]]:
                    _put(ws, r, c, v, fmt)
                    c += 1
                _put(ws, r, c, at[metric][oid], f["pct"])
                c += 1
            for _, share, absent in shares:
                if oid in share:
                    _put_share(ws, r, c, share[oid], f)
                else:
                    ws.write_string(r, c, absent, f["note"])
                c += 1
            ws.write_number(r, c, stats[oid]["na_samples"], f["int"])
        if metric == "levelized":
            last = r
        r += 2
    return r - 2, first, last, cheapest_col


def _saving_by_fee(ws, f, res: SweepResult, k: int, r: int, widths: dict) -> int:
    """P(NPV > 0) per option with the k-th sampled unknown fee held within each band of its range: the decision
    as the other inputs move, for a fee in that band (the NPVs against the fee's option move with it); returns the
    last row written."""
    j, oid, _ = res.unknown_fees[k]
    si = res.inputs[j]
    edges, counts, by_option = res.probability_saving_by_fee(k)
    against_it = oid == res.baseline
    _wrapped(ws, r, 0, LAST_COL, f"P(NPV > 0) with {oid}'s unknown fee ({si.ranges_cell}, {si.unit}) in each quarter "
             f"of its sampled range: the share of that band's samples in which switching from {res.baseline} saves"
             + (" (every NPV here is against this fee's option)" if against_it else ""), f["bold_wrap"], widths)
    r += 1
    bands = [f"{a:,.0f} to {b:,.0f}" for a, b in zip(edges[:-1], edges[1:])]
    heads = ["Option", "Label", "Kind"] + bands
    ws.write_row(r, 0, heads, f["header"])
    ws.set_row(r, max(30, _header_height(heads, widths)))
    r += 1
    ws.write_row(r, 0, ["(samples in the band)", "", ""], f["note"])
    for c, n in enumerate(counts, start=3):
        ws.write_number(r, c, int(n), f["int"])
    for o, shares in by_option.items():
        r += 1
        kind, label = res.options[o]
        _option_cells(ws, f, r, o, label, kind, widths)
        for c, v in enumerate(shares, start=3):
            if v is None:
                ws.write_string(r, c, "(no samples)", f["note"])
            else:
                _put_share(ws, r, c, v, f)
    return r


def _option_cells(ws, f, r: int, oid: str, label: str, kind: str, widths: dict) -> None:
    """An option's id, label and kind at the start of row ``r``, the row as tall as its wrapped label needs."""
    ws.write_row(r, 0, [oid, label, kind], f["top_wrap"])
    lines = max(_lines(oid, widths[0]), _lines(label, widths[1]))
    if lines > 1:
        ws.set_row(r, 15 * lines)


def _notes(ws, f, res: SweepResult, r: int, widths: dict) -> int:
    """What the results mean, where the base case falls outside P10..P90, the correlations; returns the next row."""
    base = res.baseline
    p_lo, p_hi = min(PERCENTILES), max(PERCENTILES)
    benchmarks = sorted(set(res.quality_benchmarks.values()))
    notes = [
        f"P{p_lo} / P50 / P{p_hi}: the values {p_lo}%, 50% and {p_hi}% of samples are at or below (so for a cost P{p_hi} "
        f"is the high end, for an NPV P{p_lo} is the low end); linear interpolation, as Excel's PERCENTILE.INC.",
        f"NPV vs {base}: present value of switching from {base} to the option, after tax, discounted at "
        f"{_setting(res.settings, 'discount_rate_annual', '.2%') if res.settings else 'the discount rate'} a year; "
        f"positive = the option costs less than {base}. P(NPV > 0) is the share of samples in which it does.",
        "Mtok: a million tokens served, input plus output (reasoning tokens are paid but not delivered), as in the "
        "build report.",
        "P(cheapest): share of samples in which the option has the lowest levelized cost per Mtok; hosted APIs and "
        "self-hosted options compete on the same workload, and quality is not weighed. P(cheapest self-hosted): the "
        "same among the self-hosted options only (where hosted APIs are ruled out).",
        (f"P(cheapest, quality-adjusted): among the {len(res.quality_options)} options with a quality score "
         f"({', '.join(res.quality_options)}; {', '.join(b or 'benchmark not named' for b in benchmarks)}), the "
         "lowest levelized cost per unit of score above chance, the build report's quality-adjusted cost"
         + (f"; the other {len(res.options) - len(res.quality_options)} options have no score and are left out."
            if len(res.quality_options) < len(res.options) else ".")
         + (" Their scores come from different benchmarks, which are not like for like." if len(benchmarks) > 1
            else "")) if res.quality_options else
        "P(cheapest, quality-adjusted): no option has a quality score (Options sheet), so none is compared per unit "
        "of quality.",
        "Base at percentile: the share of samples below the base case's value, those equal to it counted half (50% = "
        "the median; a result that does not vary sits at 50%). Triangular "
        "distributions take the base value as mode; Workload low/high are multipliers.",
        "Inputs not on the Ranges sheet stay at their base-case values; each option's roofline throughput too "
        "unless a Capacity row scales it.",
    ]
    outside = [f"{oid} ({'levelized cost' if m == 'levelized' else 'NPV'}, at P{100 * v:.1f})"
               for oid, m, v in res.base_outside()]
    if outside:
        notes.append(f"The base case lies outside P{p_lo}..P{p_hi} for {', '.join(outside)}: its Ranges rows are not "
                     "centred on the base values (a one-sided range, or a mean away from the base).")
    for j, oid, breakeven in res.unknown_fees:
        notes.append(_unknown_fee_note(res, j, oid, breakeven))
    for p in res.correlations:
        a, b = res.inputs[p.first], res.inputs[p.second]
        got, n = res.achieved_rank_correlation(p.first, p.second)
        achieved = "" if got is None else f"; achieved {got:.2f} over {'the first ' if n < res.samples else ''}{n:,} samples"
        notes.append(f"{p.cell}: rank correlation {p.rank_correlation:g} between {a.label} ({a.ranges_cell}) and "
                     f"{b.label} ({b.ranges_cell}){achieved}")
    if res.probability_no_cheapest():
        notes.append(f"No option has a defined levelized cost in {res.probability_no_cheapest():.2%} of samples.")
    for note in notes + list(res.notes):
        _wrapped(ws, r, 0, LAST_COL, note, f["note_wrap"], widths)
        r += 1
    return r


def _unknown_fee_note(res: SweepResult, j: int, oid: str, breakeven: dict) -> str:
    """What a sampled unknown fee does to the NPVs, and the figures that do not depend on it."""
    si, base = res.inputs[j], res.baseline
    rho = res.drivers["npv"][j] if res.drivers else np.array([])
    rho = rho[np.isfinite(rho)]
    text = f"{si.ranges_cell} samples {oid}'s fee, which the scenario marks unknown (fee_is_assumption)"
    at = res.input_base_percentile(j)
    if at is not None:
        text += f"; its base value {si.mode:,.0f} {si.unit} sits at P{100 * at:.0f} of its distribution"
    if oid == base and rho.size:
        text += (f". Every NPV against {oid} moves with it (rank correlation {rho.min():.3g} to {rho.max():.3g}), so "
                 "P(NPV > 0) mostly measures the chance that the fee is above the fee at which "
                 f"{oid} costs the same as the option (the table of P(NPV > 0) by band of the fee holds it within a "
                 "quarter of its range at a time)")
    shown = [f"{o} {v:,.0f}" if v >= 0 else f"{o} none (dearer even at a zero fee)"
             for o, v in breakeven.items() if v is not None and math.isfinite(v)]
    if shown:
        text += f": {', '.join(shown)} ({si.unit}; the build report's breakeven fees, which do not depend on it)"
    return text + "."


def _wrapped(ws, r: int, c0: int, c1: int, text: str, fmt, widths: dict, at_least: int = 1) -> None:
    """``text`` wrapped over columns c0..c1 merged, its row as tall as the lines need (a long note neither runs
    off the printed page nor hides behind the next cell); ``at_least`` lines where another cell of the row wraps."""
    room = sum(widths[c] for c in range(c0, c1 + 1))
    ws.merge_range(r, c0, r, c1, text, fmt)
    lines = max(at_least, _lines(text, room))
    if lines > 1:
        ws.set_row(r, 15 * lines)


NOTE_PAIRS_MAX = 6  # pairs named in the drivers note; the notes above the chart list them all


def _correlated_note(res: SweepResult) -> str:
    """Which rows are drawn together: each shows part of its partner's effect as well as its own."""
    if not res.correlations:
        return ""
    named = []
    for p in res.correlations[:NOTE_PAIRS_MAX]:
        a, b = res.inputs[p.first].ranges_cell, res.inputs[p.second].ranges_cell
        if abs(p.rank_correlation) == 1.0:
            how = "one quantity" if p.rank_correlation > 0 else "one quantity, mirrored"
            named.append(f"{a} and {b} (rank correlation {p.rank_correlation:g}: {how}; read them as one driver)")
        else:
            named.append(f"{a} and {b} (rank correlation {p.rank_correlation:g})")
    more = len(res.correlations) - NOTE_PAIRS_MAX
    tail = f"; and {more} more pair(s), in the notes above" if more > 0 else ""
    return (f" Correlated inputs share credit: each row of a correlated pair shows part of its partner's effect "
            f"as well as its own: {'; '.join(named)}{tail}.")


def _drivers(ws, f, res: SweepResult, r: int, widths: dict):
    """Below the Summary's chart: rank correlation of each sampled input with each option's NPV vs the baseline
    (and levelized cost)."""
    _wrapped(ws, r, 0, LAST_COL, "Drivers of the spread: rank (Spearman) correlation of each sampled input with each "
                          "option's result (engine-computed; #N/A where the input or the result does not vary)",
             f["bold_wrap"], widths)
    _wrapped(ws, r + 1, 0, LAST_COL, f"+ : a higher input goes with a higher result (a larger NPV = a larger saving against "
                              f"{res.baseline}; a higher cost); - : the reverse. NPVs are relative to {res.baseline}, "
                              "so its own inputs drive every option's NPV."
                              + _correlated_note(res),
             f["note_wrap"], widths)
    ids = res.option_ids
    r += 3
    for metric, title in (("npv", f"NPV vs {res.baseline}"), ("levelized", "Levelized cost per Mtok")):
        cols = [i for i, oid in enumerate(ids) if metric == "levelized" or oid != res.baseline]
        ws.write(r, 0, title, f["bold"])
        ws.write_row(r + 1, 0, ["Ranges cell", "Input", "Drives"] + [ids[i] for i in cols], f["header"])
        longest = max([len(ids[i]) for i in cols], default=0)
        ws.set_row(r + 1, 15 * max(1, math.ceil(longest / 12)))  # wrapped option ids stay inside the header
        for j, si in enumerate(res.inputs):
            ws.write_row(r + 2 + j, 0, [si.ranges_cell, si.label, si.target], f["top_wrap"])  # long labels wrap
            lines = max(_lines(si.label, widths[1]), _lines(si.target, widths[2]))
            if lines > 1:
                ws.set_row(r + 2 + j, 15 * lines)
            for c, i in enumerate(cols, start=3):
                v = res.drivers[metric][j, i] if res.drivers else float("nan")
                _put(ws, r + 2 + j, c, float(v), f["corr"])
        r += len(res.inputs) + 4


def _histograms(wb, f, res: SweepResult):
    ws = wb.add_worksheet("Histograms")
    f = dict(f, label_right=wb.add_format({"align": "right", "font_color": "#595959"}))
    ccy = res.currency
    ws.write(0, 0, f"Histograms of {res.samples:,} samples ({HISTOGRAM_BINS} equal-width bins between each metric's "
                   "minimum and maximum)", f["bold"])
    ws.write(1, 0, "Axis label: the bin centre as text (chart category axes ignore number formats in LibreOffice)",
             f["note"])
    lev, npv = res.stats("levelized"), res.stats("npv")
    blocks = [(f"{oid}: levelized cost ({ccy}/Mtok)", res.levelized[:, i], f["mtok"], lev[oid],
               res.base_levelized[oid], "{:,.2f}") for i, oid in enumerate(res.options)]
    blocks += [(f"{oid}: NPV vs {res.baseline} ({ccy})", res.npv[:, i], f["money"], npv[oid], res.base_npv[oid],
                "{:,.0f}") for i, oid in enumerate(res.options) if oid != res.baseline]
    for k, (title, values, fmt, stats, base, spec) in enumerate(blocks):
        r0 = 2 + k * (max(CHART_ROWS, HISTOGRAM_BINS + 3))
        shown = lambda v: "#N/A" if v is None or not math.isfinite(v) else spec.format(v)  # noqa: E731
        ws.write(r0, 0, title, f["bold"])
        ws.write(r0 + 1, 0, ", ".join(f"P{p} {shown(stats[f'p{p}'])}" for p in PERCENTILES)
                 + f"; base case {shown(base)}", f["note"])
        r0 += 1  # the bins start a row lower; a block has a spare row (HISTOGRAM_BINS + 3 rows)
        ws.write_row(r0 + 1, 0, ["Bin from", "Bin to", "Bin centre", "Samples", "Axis label",
                                 "Samples in the base case's bin"], f["header"])
        ws.set_row(r0 + 1, 30)
        edges, counts = histogram(values)
        if counts.size == 0:
            ws.write(r0 + 2, 0, "#N/A in every sample", f["note"])
            continue
        base_bin = _bin_of(edges, base)
        for b, cnt in enumerate(counts):
            rr = r0 + 2 + b
            _put(ws, rr, 0, edges[b], fmt)
            _put(ws, rr, 1, edges[b + 1], fmt)
            _put(ws, rr, 2, (edges[b] + edges[b + 1]) / 2, fmt)
            ws.write_number(rr, 3, int(cnt), f["int"])
            # chart categories as text: LibreOffice ignores number formats on category axes
            centre = (edges[b] + edges[b + 1]) / 2
            ws.write_string(rr, 4, f"{centre:,.2f}" if abs(centre) < 1000 else f"{centre:,.0f}", f["label_right"])
            if b == base_bin:  # the other bins' cells stay empty: the chart leaves a gap there
                ws.write_number(rr, 5, int(cnt), f["int"])
        last = r0 + 1 + len(counts)
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"name": "samples", "categories": ["Histograms", r0 + 2, 4, last, 4],
                          "values": ["Histograms", r0 + 2, 3, last, 3], "gap": 10, "overlap": 100,
                          "fill": {"color": "#4472C4"}})
        if base_bin is not None:
            chart.add_series({"name": "the bin holding the base case", "categories": ["Histograms", r0 + 2, 4, last, 4],
                              "values": ["Histograms", r0 + 2, 5, last, 5], "fill": {"color": "#ED7D31"}})
        chart.set_title({"name": title, "name_font": {"size": 11}})
        chart.set_x_axis({"name": "bin centre", "num_font": {"rotation": -45}})
        chart.set_y_axis({"name": "samples"})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 720, "height": 20 * max(CHART_ROWS, HISTOGRAM_BINS + 3) - 20})
        ws.insert_chart(r0, 7, chart)
    ws.set_column(0, 4, 14)
    ws.set_column(5, 5, 16)
    block = max(CHART_ROWS, HISTOGRAM_BINS + 3)
    ws.set_h_pagebreaks([2 + k * block for k in range(1, min(len(blocks), 1023))])  # a histogram a printed page


def _samples(wb, f, res: SweepResult):
    ws = wb.add_worksheet("Samples")
    n = min(SAMPLE_ROWS, res.samples)
    first = f" (the first {n:,} of {res.samples:,})" if res.samples > n else ""
    heads = ([f"Sample{first}"] + [f"{si.label} ({si.unit}) {si.ranges_cell}" for si in res.inputs]
             + [f"{oid}: levelized ({res.currency}/Mtok)" for oid in res.options]
             + [f"{oid}: NPV vs {res.baseline} ({res.currency})" for oid in res.options if oid != res.baseline]
             + ["Cheapest option"])
    ws.write_row(0, 0, heads, f["header"])
    ws.set_row(0, 15 * max(4, math.ceil(max(len(h) for h in heads) * 1.15 / 16)))  # every head's words on show
    ids = res.option_ids
    cheapest = res.cheapest()[:n]
    npv_cols = [i for i, oid in enumerate(ids) if oid != res.baseline]
    # each input in its unit, as on the Summary: rates and shares in %, fees with two decimals, else four
    input_fmt = [f[{"rate": "rate_plain", "big": "big_plain", "num": "num_plain"}[_value_kind(si.unit, si.low, si.mode,
                                                                                           si.high)]]
                 for si in res.inputs]
    for s in range(n):
        r = s + 1
        ws.write_number(r, 0, s + 1)
        c = 1
        for j in range(len(res.inputs)):
            _put(ws, r, c, res.draws[s, j], input_fmt[j])
            c += 1
        for i in range(len(ids)):
            _put(ws, r, c, res.levelized[s, i], f["mtok"])
            c += 1
        for i in npv_cols:
            _put(ws, r, c, res.npv[s, i], f["money"])
            c += 1
        ws.write(r, c, ids[cheapest[s]] if cheapest[s] >= 0 else "#N/A")
    ws.set_column(0, 0, 14 if first else 8)
    ws.set_column(1, len(heads), 16)
    ws.freeze_panes(1, 1)
    ws.repeat_rows(0)  # every printed page keeps the column heads
    if res.samples > n:
        ws.write(n + 2, 0, f"first {n:,} of {res.samples:,} samples", f["note"])
