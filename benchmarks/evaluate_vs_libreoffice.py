"""Benchmark: the engine's one-scenario evaluate of the default model against LibreOffice's
recalculation of the same report, in one run, with the ratio.

    python benchmarks/evaluate_vs_libreoffice.py [--repeats 15] [--convert-repeats 5]

Engine: ``evaluate(model.all_items(), model.values())``, every line item of the default scenario for
one scenario (what run_model does for the Base case), median of --repeats.

LibreOffice, two ways, both on the report ``write_report`` writes for that run:

1. In LibreOffice (the fair one): a headless soffice loads the report once, then ``calculateAll()``
   (every formula cell recalculated, dirty or not) is timed --repeats times through the UNO bridge,
   after one warm-up pass (``benchmarks/lo_calculate_all.py``, run by the Python that has LibreOffice's
   ``uno`` module, e.g. Debian's /usr/bin/python3 with python3-uno). Start-up, load and save are not
   timed, as the engine's timing excludes building the model.
2. From outside (coarse): ``soffice --convert-to xlsx`` with the recalculating profile
   ``tcomodel.verify.recalc`` uses (OOXMLRecalcMode 0, recalculate on load) minus the same conversion with
   a profile that never recalculates (OOXMLRecalcMode 1): both start LibreOffice, load, save; only the
   recalculation differs. Medians of --convert-repeats each; the difference is a few percent of a
   several-second process, so it is noisy (it can even come out negative on a busy machine).

Prints timings and the ratio LibreOffice / engine (> 1: the engine is faster). No assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_time  # noqa: E402  (benchmarks/timing.py, next to this script)

from tcomodel.finance import run_model  # noqa: E402
from tcomodel.inputs import load_scenario, write_scenario_workbook  # noqa: E402
from tcomodel.report import write_report  # noqa: E402
from tcomodel.sheet import evaluate  # noqa: E402
from tcomodel.verify.recalc import _XCU, find_soffice  # noqa: E402

HERE = Path(__file__).resolve().parent
NO_RECALC_XCU = _XCU.replace("<value>0</value>", "<value>1</value>")  # 1: never recalculate on load


def uno_python() -> str | None:
    """A Python that can import LibreOffice's uno module."""
    for cand in (os.environ.get("TCOMODEL_UNO_PYTHON"), "/usr/bin/python3", shutil.which("python3")):
        if cand and Path(cand).exists():
            ok = subprocess.run([cand, "-c", "import uno"], capture_output=True).returncode == 0
            if ok:
                return cand
    return None


def convert_once(soffice: str, report: Path, xcu: str) -> float:
    with tempfile.TemporaryDirectory(prefix="tcomodel-lo-bench-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(xcu, encoding="utf-8")
        out = Path(profile) / "out"
        cmd = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore", "--nologo",
               "--nodefault", "--nolockcheck", "--convert-to", "xlsx", "--outdir", str(out), str(report)]
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, timeout=300, env=dict(os.environ, HOME=profile))
        dt_s = time.perf_counter() - t
        if not (out / report.name).is_file():
            raise SystemExit(f"soffice did not convert {report.name}")
        return dt_s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--convert-repeats", type=int, default=5)
    a = ap.parse_args(argv)
    soffice = find_soffice()
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) not found")
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as d:
        scenario_path, report = Path(d) / "default.xlsx", Path(d) / "report.xlsx"
        write_scenario_workbook(scenario_path)  # what `tcomodel init` writes
        run = run_model(load_scenario(scenario_path))
        write_report(run, report)
        m, periods = run.model, run.scenario.settings.horizon_quarters
        items, values = m.all_items(), m.values()
        evaluate(items, values, periods=periods)  # warm-up
        engine = median_time(lambda: evaluate(items, values, periods=periods), a.repeats)
        print(f"engine evaluate, one scenario, {len(items)} line items, {periods} quarters: "
              f"median {engine * 1e3:.1f} ms over {a.repeats}")

        py = uno_python()
        if py is None:
            print("1. in LibreOffice: skipped (no Python with LibreOffice's uno module; set TCOMODEL_UNO_PYTHON)")
        else:
            out = subprocess.run([py, str(HERE / "lo_calculate_all.py"), str(report), str(a.repeats)],
                                 capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                raise SystemExit(f"lo_calculate_all.py failed: {out.stderr.strip()[-500:]}")
            lo = json.loads(out.stdout.strip().splitlines()[-1])
            lo_med = statistics.median(lo["times_s"])
            print(f"1. LibreOffice calculateAll() of the report, {lo['formula_cells']:,} formula cells: "
                  f"median {lo_med * 1e3:.1f} ms over {a.repeats} (load {lo['load_s']:.1f} s, not counted)")
            print(f"   ratio LibreOffice / engine: {lo_med / engine:.2f}x"
                  f" ({'engine faster' if lo_med > engine else 'engine slower'})")

        recalc = [convert_once(soffice, report, _XCU) for _ in range(a.convert_repeats)]
        plain = [convert_once(soffice, report, NO_RECALC_XCU) for _ in range(a.convert_repeats)]
        diff = statistics.median(recalc) - statistics.median(plain)
        print(f"2. soffice --convert-to: recalculating profile median {statistics.median(recalc):.2f} s, "
              f"never-recalculate profile median {statistics.median(plain):.2f} s, over {a.convert_repeats} each")
        print(f"   difference (recalculation on load) {diff * 1e3:.0f} ms; spread of the recalculating runs "
              f"{(max(recalc) - min(recalc)) * 1e3:.0f} ms; ratio difference / engine {diff / engine:.2f}x")


if __name__ == "__main__":
    main()
