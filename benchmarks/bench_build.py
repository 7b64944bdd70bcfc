"""Benchmark: `tcomodel build` of the default scenario, in-process (`tcomodel.api.build` with an
Excel report), median of --repeats runs, with the share of each phase.

    python benchmarks/bench_build.py [--repeats 5]

Phases are timed in separate runs of the library functions the build calls: load_scenario (read and
validate the workbook), run_model (roofline operating points, line items, evaluate) and write_report.
No assertions: prints timings only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcomodel.api import build  # noqa: E402
from tcomodel.finance import run_model  # noqa: E402
from tcomodel.inputs import load_scenario, write_scenario_workbook  # noqa: E402
from tcomodel.report import write_report  # noqa: E402


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        scenario_path, report_path = Path(d) / "default.xlsx", Path(d) / "report.xlsx"
        write_scenario_workbook(scenario_path)  # what `tcomodel init` writes
        build(scenario_path, xlsx_path=report_path)  # warm-up: imports, catalogue caches
        total, run = median_time(lambda: build(scenario_path, xlsx_path=report_path), a.repeats)
        m = run.model
        print(f"default scenario: {len(m.options)} options, {len(m.quarters)} quarters, {len(m.all_items())} line "
              f"items; report {report_path.stat().st_size / 1e3:,.0f} kB")
        print(f"tcomodel build (api.build with xlsx): median {total:.3f} s over {a.repeats} runs")
        load, scenario = median_time(lambda: load_scenario(scenario_path), a.repeats)
        model, run = median_time(lambda: run_model(scenario), a.repeats)
        write, _ = median_time(lambda: write_report(run, report_path), a.repeats)
        parts = load + model + write
        for name, t in (("load_scenario", load), ("run_model", model), ("write_report", write)):
            print(f"  {name:<14} median {t:.3f} s  ({t / parts:.0%} of the phases' sum {parts:.3f} s)")
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
