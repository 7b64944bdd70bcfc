"""Benchmark: how `tcomodel build` time (model build + evaluate + report write) grows with the number of
quarters and the number of options.

    python benchmarks/bench_scaling.py [--quarters 20,50,100,200] [--options 2,10,50,200] [--budget-s 100]

Scenarios are generated from the default content (`default_content()` + `write_scenario_workbook`):
- quarters: the default scenario with horizon N; quarters past the 20th repeat the 20th quarter's workload;
- options: the first two default options (aarhusai, alternative) for 2; for more, the 9 default options
  plus copies of the four hosted-API options with distinct ids (api-copy-001, ...) and their price rows.
Timed in-process: run_model (roofline, line items, evaluate) and write_report; loading the workbook is
shown apart. Median of 3 runs where one run takes under 5 s, else 1 run (said in the output). No
assertions: prints timings only.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcomodel.finance import run_model  # noqa: E402
from tcomodel.inputs import default_content, load_scenario, write_scenario_workbook  # noqa: E402
from tcomodel.inputs.cells import Quarter  # noqa: E402
from tcomodel.report import write_report  # noqa: E402

PER_OPTION_SHEETS = ("Capex", "Opex", "Rental", "CloudRates", "ApiPrices")


def with_quarters(n: int) -> dict:
    c = copy.deepcopy(default_content())
    c["Scenario"] = [(k, n if k == "horizon_quarters" else v, *rest) for k, v, *rest in c["Scenario"]]
    first = Quarter.parse(c["Workload"][0]["quarter"])
    rows = c["Workload"][:n]
    while len(rows) < n:
        row = dict(rows[-1])
        row["quarter"] = str(first + len(rows))
        row["source"] = "benchmark: as the 20th quarter"
        rows.append(row)
    c["Workload"] = rows
    return c


def with_options(n: int) -> dict:
    c = copy.deepcopy(default_content())
    if n <= len(c["Options"]):
        keep = {o["option_id"] for o in c["Options"][:n]}
        c["Options"] = c["Options"][:n]
        for sheet in PER_OPTION_SHEETS:
            c[sheet] = [r for r in c[sheet] if r["option_id"] in keep]
        c["Ranges"] = [r for r in c["Ranges"] if r["sheet"] in ("FX", "Workload", "Scenario") or r["row_id"] in keep]
        return c
    apis = [o for o in c["Options"] if o["kind"] == "hosted_api"]
    prices = {r["option_id"]: r for r in c["ApiPrices"]}
    for i in range(n - len(c["Options"])):
        src = apis[i % len(apis)]
        oid = f"api-copy-{i + 1:03d}"
        c["Options"].append(dict(src, option_id=oid, label=f"{src['label']} (copy {i + 1})"))
        c["ApiPrices"].append(dict(prices[src["option_id"]], option_id=oid))
    return c


def time_build(content: dict, folder: Path, tag: str) -> dict:
    path, report = folder / f"{tag}.xlsx", folder / f"{tag}-report.xlsx"
    write_scenario_workbook(path, content, force=True)
    t = time.perf_counter()
    scenario = load_scenario(path)
    load_s = time.perf_counter() - t
    runs, note = [], ""
    while True:
        t = time.perf_counter()
        run = run_model(scenario)
        model_s = time.perf_counter() - t
        t = time.perf_counter()
        write_report(run, report)
        runs.append((model_s, time.perf_counter() - t))
        if len(runs) == 3 or model_s + runs[-1][1] >= 5.0:
            break
    return {"load_s": load_s, "model_s": statistics.median(r[0] for r in runs),
            "write_s": statistics.median(r[1] for r in runs), "runs": len(runs),
            "items": len(run.model.all_items()), "report_kb": report.stat().st_size / 1e3, "note": note}


def table(title: str, label: str, rows: list[tuple[int, dict]]):
    print(title)
    print(f"  {label:>8} {'items':>7} {'load s':>8} {'model s':>8} {'write s':>8} {'build s':>8} {'x first':>8} "
          f"{'report kB':>10} runs")
    first = None
    for n, r in rows:
        build_s = r["model_s"] + r["write_s"]
        first = first or build_s
        print(f"  {n:>8} {r['items']:>7,} {r['load_s']:>8.3f} {r['model_s']:>8.3f} {r['write_s']:>8.3f} {build_s:>8.3f} "
              f"{build_s / first:>8.1f} {r['report_kb']:>10,.0f} {r['runs']:>4}"
              + (f"  ({r['note']})" if r["note"] else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quarters", default="20,50,100,200")
    ap.add_argument("--options", default="2,10,50,200")
    ap.add_argument("--budget-s", type=float, default=100.0, help="skip the remaining sizes past this total time")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        rows = []
        for n in map(int, a.quarters.split(",")):
            if time.perf_counter() - t0 > a.budget_s:
                print(f"  (skipped {n} quarters: over the {a.budget_s:.0f} s budget)")
                continue
            rows.append((n, time_build(with_quarters(n), folder, f"q{n}")))
        table("Quarters (default 9 options):", "quarters", rows)
        rows = []
        for n in map(int, a.options.split(",")):
            if time.perf_counter() - t0 > a.budget_s:
                print(f"  (skipped {n} options: over the {a.budget_s:.0f} s budget)")
                continue
            rows.append((n, time_build(with_options(n), folder, f"o{n}")))
        table("Options (20 quarters):", "options", rows)
    print("build s = model s (run_model: roofline + line items + evaluate) + write s (write_report); "
          "x first = build s / the smallest size's")
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
