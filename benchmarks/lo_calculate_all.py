"""Helper for evaluate_vs_libreoffice.py, run by the Python that carries LibreOffice's ``uno`` module
(Debian: /usr/bin/python3 with python3-uno), not by tcomodel's Python.

    /usr/bin/python3 benchmarks/lo_calculate_all.py REPORT.xlsx REPEATS

Starts a headless soffice with a fresh temporary profile listening on a pipe, loads the report
(hidden), then times ``calculateAll()`` (LibreOffice's hard recalculation: every formula cell, dirty
or not) REPEATS times inside LibreOffice. Prints one JSON line: the times in seconds, the number of
formula cells, and the load time. Only the recalculation is timed: not the start, the load or the
save.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno  # noqa: F401  (LibreOffice's bridge: only under the Python that ships it)
from com.sun.star.beans import PropertyValue  # noqa: E402
from com.sun.star.connection import NoConnectException  # noqa: E402

FORMULA = 16  # com.sun.star.sheet.CellFlags.FORMULA


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(report: str, repeats: int) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    profile = tempfile.mkdtemp(prefix="tcomodel-lo-bench-")
    pipe = f"tcomodel_bench_{os.getpid()}"
    proc = subprocess.Popen(
        [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore", "--nologo",
         "--nodefault", "--nolockcheck", f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, HOME=profile))
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(300):  # soffice takes a few seconds to listen
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                time.sleep(0.1)
        if ctx is None:
            raise SystemExit("could not connect to soffice")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        t = time.perf_counter()
        doc = desktop.loadComponentFromURL(Path(report).resolve().as_uri(), "_blank", 0, (_prop("Hidden", True),))
        load_s = time.perf_counter() - t
        formulas = 0
        sheets = doc.getSheets()
        for i in range(sheets.getCount()):
            ranges = sheets.getByIndex(i).queryContentCells(FORMULA)
            for addr in ranges.getRangeAddresses():
                formulas += (addr.EndRow - addr.StartRow + 1) * (addr.EndColumn - addr.StartColumn + 1)
        doc.calculateAll()  # warm-up: the first pass also builds LibreOffice's dependency structures
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            doc.calculateAll()
            times.append(time.perf_counter() - t)
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001  the bridge drops as soffice exits
            pass
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print(json.dumps({"times_s": times, "formula_cells": formulas, "load_s": load_s}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
