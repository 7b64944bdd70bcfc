"""Benchmark (issue 14): build time at 20, 80 and 200 quarters and with 200 options, peak memory, the
200q / 20q ratio, and the default scenario's build time beyond imports.

    python benchmarks/build_scaling.py [--quarters 20,80,200] [--options 200] [--repeats 3] [--no-write]

Scenario copies are made with openpyxl from the shipped default scenario (`make_quarters_copy`,
`make_options_copy`): the Scenario sheet's horizon_quarters is set and the Workload sheet gets a row per
quarter (quarters past the last given one repeat it); for options, the first hosted-API option's rows
(Options, ApiPrices, and any Staff rows) are copied under new ids. Nothing in the repository is written.

Each size is timed in-process after one untimed warm-up run, median of --repeats: load_scenario, run_model (roofline, line items,
evaluate, annual: the model) and write_report (the Excel report; since the seventh round it computes the tornado
and grid in a forked child while it writes the other sheets, so compare build = model + write with earlier
rounds; with --no-write the model includes them), then one more run of run_model, the tornado and write_report
under tracemalloc, the fork off, for the peaks of Python and numpy allocations in one process: the model's, the
build's, and an upper bound with the fork (the write's peak plus the tornado's beyond what the model holds: two
peaks that need not coincide; a process-tree PSS sampler measured less, see benchmarks/README.md). The quarter sizes (and
the options sizes) are timed again as `tcomodel build` runs them, one fresh interpreter per repeat (imports not
timed). The default
build beyond imports is a fresh interpreter: import time, then one `tcomodel.api.build` with a report.
No assertions: prints timings and ratios only.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tcomodel import forked  # noqa: E402
from tcomodel.finance import run_model  # noqa: E402
from tcomodel.inputs import load_scenario  # noqa: E402
from tcomodel.inputs.cells import Quarter  # noqa: E402
from tcomodel.report import write_report  # noqa: E402

DEFAULT = ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"


def _header(ws) -> tuple[dict[str, int], int]:
    """Column number by header name, and the header's row (a units row follows it)."""
    for row in ws.iter_rows(min_row=1, max_row=10):
        names = {str(c.value).strip(): c.column for c in row if c.value is not None}
        if len(names) >= 2:
            return names, row[0].row
    raise ValueError(f"{ws.title}: no header row")


def make_quarters_copy(src: Path, dst: Path, quarters: int) -> Path:
    """A copy of ``src`` with horizon_quarters = ``quarters`` and one Workload row per quarter."""
    wb = openpyxl.load_workbook(src)
    ws = wb["Scenario"]
    for row in ws.iter_rows():
        if row[0].value == "horizon_quarters":
            row[1].value = quarters
            break
    else:
        raise ValueError("Scenario sheet: no horizon_quarters row")
    ws = wb["Workload"]
    cols, head = _header(ws)
    qcol = cols["quarter"]
    rows = [r for r in range(head + 2, ws.max_row + 1) if ws.cell(r, qcol).value not in (None, "")]
    last = rows[-1]
    first = Quarter.parse(str(ws.cell(rows[0], qcol).value))
    for k in range(len(rows), quarters):
        r = rows[0] + k
        for c in range(1, ws.max_column + 1):
            ws.cell(r, c).value = ws.cell(last, c).value
        ws.cell(r, qcol).value = str(first + k)
        if "source" in cols:
            ws.cell(r, cols["source"]).value = "benchmark: as the last given quarter"
    for r in rows[quarters:]:  # a shorter horizon: drop the extra quarters
        for c in range(1, ws.max_column + 1):
            ws.cell(r, c).value = None
    wb.save(dst)
    return dst


def make_options_copy(src: Path, dst: Path, options: int) -> Path:
    """A copy of ``src`` with hosted-API options added (copies of the first one) up to ``options`` in all."""
    wb = openpyxl.load_workbook(src)
    ws = wb["Options"]
    cols, head = _header(ws)
    idc, kindc = cols["option_id"], cols["kind"]
    rows = [r for r in range(head + 2, ws.max_row + 1) if ws.cell(r, idc).value not in (None, "")]
    api_row = next(r for r in rows if ws.cell(r, kindc).value == "hosted_api")
    api_id = ws.cell(api_row, idc).value
    copies = [f"api-copy-{i + 1:03d}" for i in range(options - len(rows))]

    def copy_rows(sheet: str, row_filter, new_ids):
        w = wb[sheet]
        c, h = _header(w)
        src_rows = [r for r in range(h + 1, w.max_row + 1) if row_filter(w.cell(r, c["option_id"]).value)]
        nxt = max([r for r in range(h + 1, w.max_row + 1) if any(w.cell(r, k).value is not None
                                                                  for k in range(1, w.max_column + 1))] + [h]) + 1
        for oid in new_ids:
            for r in src_rows:
                for k in range(1, w.max_column + 1):
                    w.cell(nxt, k).value = w.cell(r, k).value
                w.cell(nxt, c["option_id"]).value = oid
                if "label" in c and sheet == "Options":
                    w.cell(nxt, c["label"]).value = f"{w.cell(r, c['label']).value} ({oid})"
                nxt += 1

    copy_rows("Options", lambda v: v == api_id, copies)
    for sheet in ("ApiPrices", "Staff"):
        if sheet in wb.sheetnames and "option_id" in _header(wb[sheet])[0]:
            copy_rows(sheet, lambda v: v == api_id, copies)
    wb.save(dst)
    return dst


def time_build(path: Path, report: Path, repeats: int, write: bool) -> dict:
    run = run_model(load_scenario(path))  # warm-up, untimed: lazy imports and catalogue caches
    if write:
        write_report(run, report)
    loads, models, writes = [], [], []
    for _ in range(repeats):
        # run_model and write_report pause the cyclic collector; the cycles they leave are collected here,
        # untimed (a `tcomodel build` process exits instead), not in the next repeat's load
        gc.collect()
        t = time.perf_counter()
        scenario = load_scenario(path)
        loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        run = run_model(scenario)
        if not write:
            run.tornado  # noqa: B018  (computed as the report asks for it: in a forked child during the write)
        models.append(time.perf_counter() - t)
        if write:
            t = time.perf_counter()
            write_report(run, report)
            writes.append(time.perf_counter() - t)
    fork_enabled, forked.ENABLED = forked.ENABLED, False  # the tornado's memory counted here, in this process, not in a child's
    try:
        return _peaks(scenario, report, write, loads, models, writes)
    finally:
        forked.ENABLED = fork_enabled


def _peaks(scenario, report: Path, write: bool, loads, models, writes) -> dict:
    tracemalloc.start()
    run = run_model(scenario)
    held, peak_model = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    run.tornado  # noqa: B018  (alone, to know what a build's child allocates beside the parent's write)
    peak_tornado = tracemalloc.get_traced_memory()[1]
    peak_build = max(peak_model, peak_tornado)
    if write:
        tracemalloc.reset_peak()
        write_report(run, report)
        peak_write = tracemalloc.get_traced_memory()[1]
        peak_build = max(peak_build, peak_write)
    tracemalloc.stop()
    med = statistics.median
    return {"items": len(run.model.all_items()), "options": len(run.model.options), "load": med(loads),
            "model": med(models), "write": med(writes) if writes else float("nan"),
            "peak_model_mb": peak_model / 1e6, "peak_build_mb": peak_build / 1e6,
            # with the fork, the child's own allocations (the tornado's beyond what the model holds) come on top of
            # the parent's write
            "peak_fork_mb": ((peak_write if write else held) + peak_tornado - held) / 1e6}


def fresh_build(path: Path, report: Path, repeats: int) -> dict:
    """What `tcomodel build` does, in a fresh interpreter per repeat (imports not timed): load, model, write;
    medians. The first model run in a process pays for lazy imports and catalogue caches, as a user's does."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tcomodel.finance import run_model\n"
        "from tcomodel.inputs import load_scenario\n"
        "from tcomodel.report import write_report\n"
        "t0 = time.perf_counter(); s = load_scenario(Path(sys.argv[1])); t1 = time.perf_counter()\n"
        "run = run_model(s); t2 = time.perf_counter(); write_report(run, Path(sys.argv[2])); t3 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, t3 - t2)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [[float(x) for x in subprocess.run([sys.executable, "-c", code, str(path), str(report)], capture_output=True,
                                               text=True, env=env, check=True).stdout.split()] for _ in range(repeats)]
    load, model, write = (statistics.median(r[i] for r in runs) for i in range(3))
    return {"load": load, "model": model, "write": write, "build": load + model + write}


def default_beyond_imports() -> tuple[float, float]:
    """A fresh interpreter: seconds to import the build's modules, then seconds for one build with a report."""
    code = (
        "import time, sys, tempfile, pathlib\n"
        "t = time.perf_counter()\n"
        "from tcomodel.api import build\n"
        "import tcomodel.report, tcomodel.finance, tcomodel.inputs\n"
        "t1 = time.perf_counter()\n"
        "d = pathlib.Path(tempfile.mkdtemp())\n"
        f"build({str(DEFAULT)!r}, xlsx_path=d / 'r.xlsx', json_path=d / 'r.json')\n"
        "t2 = time.perf_counter()\n"
        "print(t1 - t, t2 - t1)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    imp, bld = map(float, out.stdout.split())
    return imp, bld


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quarters", default="20,80,200")
    ap.add_argument("--options", default="200")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="model only: skip write_report")
    a = ap.parse_args(argv)
    write = not a.no_write
    t0 = time.perf_counter()
    print(f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"median of {a.repeats}; peak = tracemalloc peak of one more run (Python and numpy allocations), the tornado "
          "computed before the write (as without the fork); fork <= : an upper bound with the fork, the write's peak "
          "plus the child's own (the tornado's beyond what the model holds)")
    print(f"{'size':>14} {'items':>7} {'load s':>8} {'model s':>8} {'write s':>8} {'build s':>8} "
          f"{'peak model MB':>14} {'peak build MB':>14} {'fork <= MB':>11}")
    results = {}
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        sizes = [("q", int(n)) for n in a.quarters.split(",") if n] + [("o", int(n)) for n in a.options.split(",") if n]
        for kind, n in sizes:
            path = folder / f"{kind}{n}.xlsx"
            if kind == "q":
                make_quarters_copy(DEFAULT, path, n)
                label = f"{n} quarters"
            else:
                make_options_copy(DEFAULT, path, n)
                label = f"{n} options"
            r = time_build(path, folder / f"{kind}{n}-report.xlsx", a.repeats, write)
            results[(kind, n)] = r
            build_s = r["model"] + (r["write"] if write else 0.0)
            r["build"] = build_s
            print(f"{label:>14} {r['items']:>7,} {r['load']:>8.3f} {r['model']:>8.3f} {r['write']:>8.3f} {build_s:>8.3f} "
                  f"{r['peak_model_mb']:>14.0f} {r['peak_build_mb']:>14.0f} {r['peak_fork_mb']:>11.0f}")
        q = sorted(n for k, n in results if k == "q")
        if len(q) >= 2:
            lo, hi = results[("q", q[0])], results[("q", q[-1])]
            print(f"ratio {q[-1]}q / {q[0]}q, in process: model {hi['model'] / lo['model']:.1f}x"
                  + (f", write {hi['write'] / lo['write']:.1f}x, build {hi['build'] / lo['build']:.1f}x" if write else "")
                  + " (target: build <= 10x)")
            if write:
                fresh = {n: fresh_build(folder / f"q{n}.xlsx", folder / f"q{n}-fresh.xlsx", a.repeats) for n in (q[0], q[-1])}
                lo, hi = fresh[q[0]], fresh[q[-1]]
                print(f"as `tcomodel build` runs (fresh interpreter, imports aside), {q[0]} / {q[-1]} quarters: "
                      f"load {lo['load']:.3f} / {hi['load']:.3f} s, model {lo['model']:.3f} / {hi['model']:.3f} s, "
                      f"write {lo['write']:.3f} / {hi['write']:.3f} s; model + write {hi['model'] + hi['write']:.3f} s "
                      f"= {(hi['model'] + hi['write']) / (lo['model'] + lo['write']):.1f}x, with the load "
                      f"{hi['build'] / lo['build']:.1f}x")
        for n in sorted(n for k, n in results if k == "o") if write else []:
            r = fresh_build(folder / f"o{n}.xlsx", folder / f"o{n}-fresh.xlsx", a.repeats)
            print(f"as `tcomodel build` runs (fresh interpreter, imports aside), {n} options: load {r['load']:.3f} s, "
                  f"model {r['model']:.3f} s, write {r['write']:.3f} s; model + write {r['model'] + r['write']:.3f} s "
                  f"(target <= 3 s), with the load {r['build']:.3f} s")
    imp, bld = default_beyond_imports()
    print(f"default scenario, fresh interpreter: imports {imp:.3f} s, build with report + JSON {bld:.3f} s beyond "
          "imports (target <= 0.5 s)")
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
