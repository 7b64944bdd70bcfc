"""Benchmark: write_report of the default scenario with and without the fast-writing shortcuts, in one
run, and the build split into its model and writing parts.

    python benchmarks/report_writing.py [--repeats 7]

"Before" writes with the shortcuts switched off (what the report writer did until issue 14): xlsxwriter's
own ``_prepare_formula`` (29 ``re.sub`` per formula), ``_write_formula`` and XML escaping, every period
formula rendered from its expression tree, the formula manifest normalised by openpyxl's tokenizer. "After" is the code as it
is. Both write the same bytes (tests/test_fast_write.py checks it; this script checks it again). Then
the build of the default scenario beyond imports: load_scenario, run_model and write_report, medians.
No assertions on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_time  # noqa: E402  (benchmarks/timing.py, next to this script)

from xlsxwriter.worksheet import Worksheet  # noqa: E402

import tcomodel.report.report_context as report_context  # noqa: E402
import tcomodel.sheet.writer as sheet_writer  # noqa: E402
import tcomodel.xlsxmanifest as xlsxmanifest  # noqa: E402
from tcomodel.finance import run_model  # noqa: E402
from tcomodel.inputs import load_scenario, write_scenario_workbook  # noqa: E402
from tcomodel.report import write_report  # noqa: E402
from tcomodel.sheet import render  # noqa: E402
from tcomodel.xlsxfast import FAST_METHODS, FastWorksheet  # noqa: E402

BUILD_DATE = dt.date(2026, 1, 1)


@contextmanager
def slow_path():
    """The writer as it was: no FastWorksheet fast path, no render templates, openpyxl's tokenizer."""
    def per_period(it, layout, sheet):  # no template: every period rendered, every formula hashed on its own
        return [render(it, p, layout, sheet) for p in range(layout.periods)], None

    saved = [(FastWorksheet, name, FastWorksheet.__dict__[name]) for name in FAST_METHODS]
    saved += [(xlsxmanifest, "_simple_normalize", xlsxmanifest._simple_normalize),
              (xlsxmanifest, "_fast_normalize", xlsxmanifest._fast_normalize),
              (sheet_writer, "render_periods_template", sheet_writer.render_periods_template),
              (report_context, "render_periods_template", report_context.render_periods_template)]
    for name in FAST_METHODS:
        setattr(FastWorksheet, name, getattr(Worksheet, name))
    xlsxmanifest._simple_normalize = xlsxmanifest._fast_normalize = lambda text: None
    sheet_writer.render_periods_template = report_context.render_periods_template = per_period
    try:
        yield
    finally:
        for obj, name, value in saved:
            setattr(obj, name, value)


def parts(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as d:
        scenario_path, before_path, after_path = Path(d) / "default.xlsx", Path(d) / "before.xlsx", Path(d) / "after.xlsx"
        write_scenario_workbook(scenario_path)  # what `tcomodel init` writes
        run = run_model(load_scenario(scenario_path), build_date=BUILD_DATE)
        write_report(run, after_path, build_date=BUILD_DATE)  # warm-up
        with slow_path():
            before = median_time(lambda: write_report(run, before_path, build_date=BUILD_DATE), a.repeats)
        after = median_time(lambda: write_report(run, after_path, build_date=BUILD_DATE), a.repeats)
        same = parts(before_path) == parts(after_path)
        print(f"write_report, default scenario ({after_path.stat().st_size / 1e3:,.0f} kB), median of {a.repeats}:")
        print(f"  before (shortcuts off) {before:.3f} s")
        print(f"  after                  {after:.3f} s   ratio before / after {before / after:.2f}x;"
              f" files identical part by part: {same}")
        load = median_time(lambda: load_scenario(scenario_path), a.repeats)
        scenario = load_scenario(scenario_path)
        model = median_time(lambda: run_model(scenario, build_date=BUILD_DATE), a.repeats)
        print(f"build beyond imports (medians): load_scenario {load:.3f} s + run_model {model:.3f} s"
              f" + write_report {after:.3f} s = {load + model + after:.3f} s")


if __name__ == "__main__":
    main()
