"""Fit engine efficiency factors to the calibration rows; print them and predicted vs measured.

    python -m tcomodel.roofline.fit_calibration          # fit and print
    python -m tcomodel.roofline.fit_calibration --write  # also rewrite fitted_factors.py

Per fitted engine (TensorRT-LLM, llama.cpp), three parameters (eff_bw, eff_compute, overhead_ms)
minimise the sum of squared log errors over that engine's non-held-out rows (calibration.CASES).
The search is a deterministic coordinate pattern search from a fixed start inside fixed bounds:
same data, same result.

vLLM and SGLang are not fitted: vLLM has only four calibration rows (AMD MLPerf, all Llama-2-70B
on MI300X/MI325X), and fitted alone they pinned eff_compute and overhead_ms at their bounds. They
are derived from the TensorRT-LLM fit with a sourced ratio instead (``derive``), and their rows
are still reported as out-of-sample checks.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from tcomodel.roofline import calibration as cal

FITTED_ENGINES = ("trtllm", "vllm", "llamacpp")

# TensorRT-LLM vs vLLM: "4,741 tok/s at 100 concurrent on H100, TRT-LLM +15-30% peak" (spheron-bench =
# spheron.network/blog/vllm-vs-tensorrt-llm-vs-sglang-benchmarks/, via reference/model-economics-digest.md
# section 1.9). Midpoint: TRT-LLM peak throughput = 1.2 x vLLM's. vLLM's eff_bw and eff_compute are
# TRT-LLM's / 1.2 (peak throughput scales with both); its per-step overhead is TRT-LLM's x 1.2, which
# is an ASSUMPTION (the source gives no batch-1 latency split). SGLang has no expressible calibration
# row (calibration.py) and takes the same derivation as vLLM (ASSUMPTION: no SGLang-specific ratio).
TRTLLM_OVER_VLLM = 1.2
DERIVED_ENGINES = {"sglang": ("trtllm", TRTLLM_OVER_VLLM)}
BOUNDS = {"eff_bw": (0.3, 0.92), "eff_kv": (0.15, 0.92), "eff_compute": (0.05, 0.8), "overhead_ms": (0.0, 10.0),
          "seq_overhead_us": (0.0, 200.0)}
# Upper bounds keep the fit physical: ~92% of peak HBM bandwidth is the best measured (Microsoft, GB200,
# reference/data/gpus.csv notes); end-to-end matmul efficiency above ~80% of dense peak is not seen.
START = {"eff_bw": 0.7, "eff_kv": 0.7, "eff_compute": 0.5, "overhead_ms": 2.0, "seq_overhead_us": 10.0}
# Parameters fitted per engine. The KV-read efficiency is separate only where the rows pin it: batched
# serving rows whose decode reads more cache than weights (TensorRT-LLM's 128/2048 tables against MLPerf's
# 870/290). llama.cpp's rows are single-stream, where the cache read is negligible: it keeps eff_kv = eff_bw.
# vLLM on NVIDIA has only unsaturated rows (batch 1 and 8): its matmul efficiency and per-sequence cost are
# not pinned by them, so they are derived from TensorRT-LLM's (DERIVED_PARAMS); vLLM on AMD has saturated rows.
PARAMS = {"trtllm": ("eff_bw", "eff_kv", "eff_compute", "overhead_ms", "seq_overhead_us"),
          "vllm": ("eff_bw", "eff_kv", "overhead_ms"),
          "vllm@amd": ("eff_bw", "eff_kv", "eff_compute", "overhead_ms", "seq_overhead_us"),
          "llamacpp": ("eff_bw", "eff_compute", "overhead_ms"),
          "llamacpp@apple": ("eff_bw", "eff_compute", "overhead_ms")}
DERIVED_PARAMS = {"vllm": ("trtllm", TRTLLM_OVER_VLLM, ("eff_compute", "seq_overhead_us"))}
STEP = {"eff_bw": 0.2, "eff_kv": 0.2, "eff_compute": 0.2, "overhead_ms": 4.0, "seq_overhead_us": 40.0}


def _loss(engine_id: str, params: dict, cases) -> float:
    eng = cal.with_factors(engine_id, **params)
    total = 0.0
    for c in cases:
        pred = cal.predict(c, eng)
        if not pred or math.isnan(pred) or pred <= 0:
            return float("inf")
        total += math.log(pred / c.measured) ** 2
    return total


def fit_engine(engine_id: str, cases=None, key: str | None = None, fixed: dict | None = None) -> dict:
    """Factors of ``key`` (default the engine) minimising the squared log error over ``cases`` (default: the
    key's rows in the pool); the key's PARAMS are searched, ``fixed`` ones held."""
    key = key or engine_id
    if cases is None:
        cases = [c for c in pool() if cal.factor_key(c) == key]
    names = PARAMS[key]
    fixed = dict(fixed or {})
    x = {k: START[k] for k in names}
    best = _loss(engine_id, {**fixed, **x}, cases)
    steps = {k: STEP[k] for k in names}
    while max(v for k, v in steps.items() if k.startswith("eff")) > 0.002:
        improved = False
        for k in names:
            for sign in (1, -1):
                lo, hi = BOUNDS[k]
                trial = dict(x)
                trial[k] = min(hi, max(lo, x[k] + sign * steps[k]))
                if trial[k] == x[k]:
                    continue
                loss = _loss(engine_id, {**fixed, **trial}, cases)
                if loss < best - 1e-12:
                    x, best, improved = trial, loss, True
        if not improved:
            steps = {k: v / 2 for k, v in steps.items()}
    return {k: round(v, 3) for k, v in {**fixed, **x}.items()}


def derive(base: dict, ratio: float) -> dict:
    """Factors of an engine whose peak throughput is the base engine's / ``ratio``."""
    out = {"eff_bw": round(base["eff_bw"] / ratio, 3), "eff_compute": round(base["eff_compute"] / ratio, 3),
           "overhead_ms": round(base["overhead_ms"] * ratio, 3)}
    if "eff_kv" in base:
        out["eff_kv"] = round(base["eff_kv"] / ratio, 3)
    if "seq_overhead_us" in base:
        out["seq_overhead_us"] = round(base["seq_overhead_us"] * ratio, 3)
    return out


# An engine with no row of its own to fit (possible when cross-validation holds a source out) is derived
# from another: vLLM from TensorRT-LLM by the sourced ratio above.
FALLBACK = {"vllm": ("trtllm", TRTLLM_OVER_VLLM)}


def fit_all(cases) -> dict:
    """Factors per key fitted to ``cases``: each engine on its rows outside the split classes, each split
    class (cal.CLASS_SPLITS) on its own rows where it has any, then the derived engines."""
    factors: dict[str, dict] = {}
    for e in FITTED_ENGINES:
        base_rows = [c for c in cases if c.engine == e and cal.factor_key(c) == e]
        fixed = None
        if e in DERIVED_PARAMS:
            src, ratio, names = DERIVED_PARAMS[e]
            d = derive(factors[src], ratio)
            fixed = {k: d[k] for k in names}
        if base_rows:
            factors[e] = fit_engine(e, base_rows, fixed=fixed)
        elif e in FALLBACK:
            factors[e] = derive(factors[FALLBACK[e][0]], FALLBACK[e][1])
        else:
            factors[e] = {k: START[k] for k in PARAMS[e]}
        for cls in cal.CLASS_SPLITS.get(e, ()):
            rows = [c for c in cases if cal.factor_key(c) == f"{e}@{cls}"]
            if rows:
                factors[f"{e}@{cls}"] = fit_engine(e, rows, key=f"{e}@{cls}")
    for e, (base, ratio) in DERIVED_ENGINES.items():
        factors[e] = derive(factors[base], ratio)
    return factors


def all_factors() -> dict:
    """The shipped factors: fitted to every expressed row but the calibration hold-outs."""
    return fit_all(pool())


CALIBRATION_CSV = Path(__file__).resolve().parents[1] / "data" / "measurements-calibration.csv"


def all_cases() -> list:
    """Every expressed published row: the calibration set, then the independent set (validation.py)."""
    from tcomodel.roofline import validation

    return list(cal.CASES) + list(validation.ROWS)


def pool() -> list:
    """The rows the shipped factors are fitted to: all expressed rows but the calibration hold-outs."""
    return [c for c in all_cases() if not c.holdout]


def sources() -> dict[int, str]:
    """Row id -> the publication it comes from: for calibration rows the repository (or site) of the CSV's
    source column, so each MLPerf round, the TensorRT-LLM performance tables and each benchmark repository
    is one source; independent rows carry theirs (validation.py)."""
    import csv

    out = {}
    with open(CALIBRATION_CSV, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            src = r["source"].split(" : ")[0].split(" (")[0].replace("https://", "")
            out[int(r["id"])] = "/".join(src.split("/")[:3])
    for c in all_cases():
        if c.source:
            out[c.row] = c.source
    return out


_CV_CACHE: list[dict] | None = None


def cross_validate() -> list[dict]:
    """Leave one source out: for each source, fit the engines on every other source's rows, then predict that
    source's rows (held-out rows included). An engine left with no row to fit keeps the search's start values,
    which is the honest prediction for a source nothing else resembles. Cached: the fits are deterministic."""
    global _CV_CACHE
    if _CV_CACHE is not None:
        return [dict(r) for r in _CV_CACHE]
    by_row = sources()
    cases = all_cases()
    groups: dict[str, list] = {}
    for c in cases:
        groups.setdefault(by_row.get(c.row, "unknown"), []).append(c)
    out = []
    for src, held in sorted(groups.items()):
        factors = fit_all([c for c in cases if not c.holdout and c not in held])
        for c in held:
            pred = cal.predict(c, cal.engine_with(c, factors))
            out.append({"row": c.row, "source": src, "engine": c.engine, "metric": c.metric, "measured": c.measured,
                        "predicted": pred, "rel_error": pred / c.measured - 1,
                        "trained_rows": sum(1 for x in cases if x.engine == c.engine and not x.holdout
                                            and x not in held)})
    _CV_CACHE = out
    return [dict(r) for r in out]


def independent_before_fit() -> list[dict]:
    """The independent set (validation.py) predicted by factors fitted to the calibration rows alone: its
    error before it joined the fit, the strictest out-of-sample figure."""
    from tcomodel.roofline import validation

    return validation.table(fit_all([c for c in cal.CASES if not c.holdout]))


def cv_summary(rows: list[dict]) -> list[dict]:
    """Per engine x metric, and for all rows: count, median |error| and the share within 2x."""
    import statistics

    keys = sorted({(r["engine"], r["metric"]) for r in rows}) + [("all", "all")]
    out = []
    for eng, metric in keys:
        rs = [r for r in rows if eng == "all" or (r["engine"] == eng and r["metric"] == metric)]
        ratios = [max(r["predicted"] / r["measured"], r["measured"] / r["predicted"]) for r in rs]
        out.append({"engine": eng, "metric": metric, "n": len(rs),
                    "median_abs_rel_error": statistics.median(abs(r["rel_error"]) for r in rs),
                    "within_2x": sum(x <= 2.0 for x in ratios) / len(rs)})
    return out


METRIC_LABELS = {
    "decode_tok_s_per_stream": "decode tok/s per stream", "prefill_tok_s": "prefill tok/s",
    "output_tok_s_total": "output tok/s (all streams)", "output_tok_s_per_gpu": "output tok/s per GPU",
    "tpot_ms": "time per output token", "ttft_ms": "time to first token",
    "e2e_tok_s_per_stream": "tok/s per stream, end to end", "all": "",
}


def cv_markdown(rows: list[dict]) -> str:
    """The README's cross-validation table (between its CV-TABLE markers)."""
    lines = ["| engine | metric | rows | median abs. error | within 2× |", "|---|---|---|---|---|"]
    for s in cv_summary(rows):
        lines.append(f"| {s['engine']} | {METRIC_LABELS[s['metric']]} | {s['n']} | "
                     f"{s['median_abs_rel_error']:.1%} | {s['within_2x']:.0%} |")
    return "\n".join(lines)


def independent_markdown() -> str:
    """The README's before-the-fit figure for the independent set (between its INDEPENDENT markers)."""
    from tcomodel.roofline import validation

    s = validation.summary(independent_before_fit())[-1]
    return f"median error {s['median_abs_rel_error']:.1%}, {s['within_2x']:.0%} within 2× ({s['n']} rows)"


def write_module(factors: dict, path: Path) -> None:
    lines = [
        '"""Fitted engine efficiency factors. GENERATED: do not edit by hand.',
        "",
        "Regenerate with:  python -m tcomodel.roofline.fit_calibration --write",
        '"""',
        "",
        'SOURCE = ("fitted by tcomodel.roofline.fit_calibration to the published rows of measurements-calibration.csv "',
        '          "(calibration.py) and measurements-independent.csv (validation.py)")',
        "DERIVED_SOURCE = (",
        '    "derived from the trtllm fit: TRT-LLM peak = 1.2 x vLLM (midpoint of +15-30%, spheron-bench, "',
        '    "spheron.network/blog/vllm-vs-tensorrt-llm-vs-sglang-benchmarks/); eff_bw, eff_compute = trtllm / 1.2; "',
        '    "eff_kv likewise; overhead_ms = trtllm x 1.2 (assumption)"',
        ")",
        "",
        "FACTORS = {",
    ]
    for eng, f in factors.items():
        lines.append(f'    "{eng}": {{' + ", ".join(f'"{k}": {v}' for k, v in f.items()) + "},")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from tcomodel.roofline import validation

    argv = sys.argv[1:] if argv is None else argv
    factors = all_factors()
    print("Engine factors (eff_bw, eff_kv, eff_compute, overhead_ms per step, seq_overhead_us per sequence per step):")
    for key, f in factors.items():
        how = f"derived: {DERIVED_ENGINES[key][0]} / {DERIVED_ENGINES[key][1]}" if key in DERIVED_ENGINES else "fitted"
        print(f"  {key:<15} " + "  ".join(f"{k}={v:.3f}" for k, v in f.items()) + f"  ({how})")
    rows = cal.table(factors)
    print()
    print(cal.format_table(rows))
    ind = validation.table(factors)
    for name, rs in (("calibration rows", [r for r in rows if not r["holdout"]]),
                     ("calibration held-out rows", [r for r in rows if r["holdout"]]),
                     ("independent rows (in the fit)", ind)):
        s = cal.summary(rs)
        print(f"{name}: n={s['n']}  median |error|={s['median_abs_rel_error']:.1%}  worst ratio={s['max_ratio']:.2f}x")
    before = validation.summary(independent_before_fit())[-1]
    print(f"independent rows predicted by a fit to the calibration rows alone (before they joined): n={before['n']}  "
          f"median |error|={before['median_abs_rel_error']:.1%}  within 2x={before['within_2x']:.0%}")
    print("Leave-one-source-out cross-validation (each source predicted by a fit to the others):")
    cv = cross_validate()
    for s in cv_summary(cv):
        print(f"  {s['engine']:<9} {s['metric']:<24} n={s['n']:>3}  median |error|={s['median_abs_rel_error']:.1%}  "
              f"within 2x={s['within_2x']:.0%}")
    print("README table:")
    print(cv_markdown(cv))
    print("  by source:")
    for s in validation.summary([dict(r, ratio=max(r["predicted"] / r["measured"], r["measured"] / r["predicted"]))
                                 for r in cv], by=("source",))[:-1]:
        print(f"  {s['source'][:48]:<48} n={s['n']:>3}  median |error|={s['median_abs_rel_error']:.1%}  "
              f"within 2x={s['within_2x']:.0%}")
    print("Excluded rows:")
    for row, why in {**cal.EXCLUDED, **validation.NOT_EXPRESSED}.items():
        print(f"  {row}: {why}")
    if "--write" in argv:
        path = Path(__file__).with_name("fitted_factors.py")
        write_module(factors, path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
