"""The Summary's charts with many options: the line charts draw the baseline and the cheapest options (a chart of
every option past a dozen is a tangle), say so in their titles, and the category bar chart grows with the options."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest

import tcomodel
from tcomodel.report import write_report
from tcomodel.report.summary import CHART_SERIES_MAX
from tests.test_finance_helpers import content, load, option, workload_rows


def _charts(path) -> dict[str, str]:
    """Each chart part's XML, keyed by its title."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/charts/chart"):
                xml = z.read(name).decode()
                title = "".join(re.findall(r"<a:t>([^<]*)</a:t>", xml.split("</c:title>")[0]))
                out[title] = xml
    return out


def _series_names(xml: str) -> list[str]:
    return [re.search(r"<c:tx><c:v>([^<]*)</c:v></c:tx>", s).group(1) for s in xml.split("<c:ser>")[1:]]


def _summary_chart_height_px(path, title: str) -> float:
    """The height of the Summary's chart with ``title``: its two-cell anchor's rows, at the default 20 px a row (the
    category chart sits below the table, on rows of the default height)."""
    with zipfile.ZipFile(path) as z:
        part = next(n for n in z.namelist() if n.startswith("xl/charts/") and title in z.read(n).decode())
        rels = z.read("xl/drawings/_rels/drawing1.xml.rels").decode()
        rid = re.search(r'Id="(rId\d+)"[^>]*Target="\.\./charts/' + part.rsplit("/", 1)[1], rels).group(1)
        drawing = z.read("xl/drawings/drawing1.xml").decode()
    anchor = next(a for a in drawing.split("<xdr:twoCellAnchor>") if f'r:id="{rid}"' in a)
    (r0, off0), (r1, off1) = [(int(r), int(o)) for r, o in
                              re.findall(r"<xdr:row>(\d+)</xdr:row><xdr:rowOff>(\d+)</xdr:rowOff>", anchor)]
    return (r1 - r0) * 20 + (off1 - off0) / 9525  # 9525 EMU a pixel


@pytest.fixture(scope="module")
def sixteen_apis(tmp_path_factory):
    """16 hosted APIs, api{i} dearer with i; the baseline is the dearest (api15), so it is charted only as the
    baseline."""
    tmp = tmp_path_factory.mktemp("charts")
    n = 16
    opts = [option(f"api{i}", "hosted_api") for i in range(n)]
    api = [{"option_id": f"api{i}", "input_per_mtok": 0.3 + 0.1 * i, "output_per_mtok": 1.7 + 0.3 * i,
            "batch_discount": 0.0, "currency": "DKK"} for i in range(n)]
    run = tcomodel.run_model(load(tmp, content(opts, workload_rows([1e6] * 8), api=api, baseline="api15")))
    out = tmp / "r.xlsx"
    write_report(run, out)
    return run, out


def test_line_charts_draw_the_baseline_and_the_cheapest(sixteen_apis):
    run, out = sixteen_apis
    assert CHART_SERIES_MAX == 12
    levelized = {o: float(np.ravel(run.values[run.model.options[o].levelized])[0]) for o in run.model.options}
    assert sorted(levelized, key=levelized.get)[:3] == ["api0", "api1", "api2"]  # the fixture's order holds
    charts = _charts(out)
    titled = {t: x for t, x in charts.items() if "the baseline and the 11 cheapest of 16 options" in t}
    assert sorted(t.split(" (")[0] for t in titled) == ["Cost per million tokens by quarter", "Cumulative cash cost"]
    labels = {o: run.model.options[o].label for o in run.model.options}
    want = [labels[f"api{i}"] for i in list(range(11)) + [15]]  # the options' order, the baseline last here
    for xml in titled.values():
        assert _series_names(xml) == want


def test_category_bars_grow_with_the_options(sixteen_apis, tmp_path):
    _, out = sixteen_apis
    bars = [t for t in _charts(out) if t.startswith("Cost breakdown by category")]
    assert len(bars) == 1
    assert _summary_chart_height_px(out, bars[0]) == 120 + 22 * 16  # 472 px
    default = tmp_path / "default.xlsx"
    write_report(tcomodel.run_model(tcomodel.load_scenario("assumptions/aarhusai-vs-alternative.xlsx")), default)
    assert _summary_chart_height_px(default, bars[0].split(" (")[0]) == 420  # 9 options: the usual size


def test_a_dozen_options_or_fewer_are_all_charted(tmp_path):
    run = tcomodel.run_model(tcomodel.load_scenario("assumptions/aarhusai-vs-alternative.xlsx"))
    out = tmp_path / "r.xlsx"
    write_report(run, out)
    charts = _charts(out)
    cpm = next(x for t, x in charts.items() if t.startswith("Cost per million tokens by quarter"))
    assert "cheapest" not in "".join(charts)
    assert _series_names(cpm) == [om.label for om in run.model.options.values()]
