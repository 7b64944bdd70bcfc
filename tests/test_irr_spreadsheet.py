"""The engine's IRR gives a result exactly where LibreOffice's (and Excel's) does: Newton from 0.1, converged when a
step falls below 1e-7 within 20 steps, iterates below -100% allowed to come back. Checked against a scalar replica
of LibreOffice's ScIRR (sc/source/core/tool/interpr2.cxx: nIterationsMax 20, SCdEpsilon 1e-7) on random flows, and
against LibreOffice itself on the flows where the engine used to differ. Not covered: flows at or near a double root,
where the settled iterate depends on the last bits of pow and of the sums (LibreOffice keeps Kahan sums; the engine
numpy's), so the two can differ from the 8th digit.

The report found one such case: a High case whose IRR flows need more than 20 steps; the engine (100 steps) gave
-0.33 % a quarter where LibreOffice gives #N/A, and verify reported 22 cells apart.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter

from tcomodel.sheet import excel_irr
from tcomodel.verify.recalc import recalculate


def libreoffice_irr(flows, guess=0.1) -> float:
    """LibreOffice's ScIRR, one flow list at a time, as its source writes it (plain sums where it keeps Kahan
    sums: the two differ only where the flows are ill-conditioned, as at a double root)."""
    with np.errstate(all="ignore"):  # numpy floats: overflow to inf and 0/0 to NaN, as in C
        return _libreoffice_irr([np.float64(v) for v in flows], guess)


def _libreoffice_irr(flows, guess) -> float:
    x, eps, steps = guess, 1.0, 0
    while eps > 1e-7 and steps < 20:
        nom = sum(v / (1.0 + x) ** t for t, v in enumerate(flows))
        denom = sum(-t * v / (1.0 + x) ** (t + 1.0) for t, v in enumerate(flows))
        x_new = x - nom / denom
        steps += 1
        eps = abs(x_new - x)
        x = x_new
        if eps != eps:  # NaN ends LibreOffice's loop (NaN > 1e-7 is false) and fails its test
            break
    return float(x) if eps < 1e-7 else math.nan


SLOW = [17.3, 12.7, -10.6, 0.1, -4.3]  # a root at -26.93 %, but 20 steps do not reach it
BACK_FROM_BELOW = [-85.5, -6.1, 29.1, 9.1, -0.6, -2.5, -0.4, 0.6]  # the first step goes below -1, then back
BELOW = [52.8, -48.4, 0.6, 8.4]  # LibreOffice's root is -135 %: a result, which the report's formulas guard
# a step lands within ~n 1e-7 of -1, where the next step is (1 + x) / n: it settles at -99.99999985 %, a result
# the report once showed (it passed IF(IRR > -1, ...); now below IrrFloor: n/a); polishing it on to a root gives -34 %
NEAR_MINUS_ONE = [[-6.942148755296769, -3.0, 5.0], [-4.658151763916399, 5.0, -3.0, 1.0],
                  [-1.1570247935386928, 2.0, -1.0], [-11.766955783548688, -1.0, 3.0, -2.5, 4.0]]
TARGETED = [SLOW, BACK_FROM_BELOW, BELOW, [-12.3, 8.4, 53.5, 0.4, 0.6, 0.5, -35.6, -0.2], *NEAR_MINUS_ONE]


def _random_flows(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        flows = np.round(rng.normal(size=int(rng.integers(3, 12))) * rng.choice([1, 10, 100, 1e5], size=1), 1)
        if k % 3 == 0:
            flows[0] = -abs(flows[0]) * 5  # an outlay first: most of these have an IRR
        out.append(flows)
    return out


def test_twenty_steps_decide_as_in_libreoffice():
    # SLOW has a root the old 100-step engine found; LibreOffice's 20 steps do not, so neither does the engine
    old_root = -0.2693000118906971
    assert abs(sum(v / (1 + old_root) ** t for t, v in enumerate(SLOW))) < 1e-9
    assert math.isnan(libreoffice_irr(SLOW)) and math.isnan(excel_irr(np.array(SLOW)).item())
    back = excel_irr(np.array(BACK_FROM_BELOW)).item()
    assert back == pytest.approx(libreoffice_irr(BACK_FROM_BELOW), rel=1e-9) and back == pytest.approx(-0.38938, abs=1e-5)
    below = excel_irr(np.array(BELOW)).item()
    assert below == pytest.approx(libreoffice_irr(BELOW), rel=1e-9) and below < -1
    for flows in NEAR_MINUS_ONE:  # the iterate where the step first falls below 1e-7, not a root polished later
        got = excel_irr(np.array(flows)).item()
        assert got == pytest.approx(libreoffice_irr(flows), rel=1e-12) and abs(got + 1) < 1e-8


@pytest.mark.parametrize("seed", [1, 2])
def test_a_result_exactly_where_libreoffice_gives_one_on_random_flows(seed):
    flows = _random_flows(3000, seed)
    lo = np.array([libreoffice_irr(list(f)) for f in flows])
    n = max(len(f) for f in flows)
    # one batch, padded with zeros after each list's end (a zero flow changes neither the value nor the steps)
    batch = np.zeros((len(flows), n))
    for i, f in enumerate(flows):
        batch[i, :len(f)] = f
    engine = excel_irr(batch)[:, 0]
    assert np.array_equal(np.isnan(engine), np.isnan(lo))
    both = ~np.isnan(lo)
    assert both.sum() > 1000 and np.isnan(lo).sum() > 500  # both kinds, many of each
    np.testing.assert_allclose(engine[both], lo[both], rtol=1e-9, atol=1e-12)


@pytest.mark.libreoffice
def test_the_engine_agrees_with_libreoffice_irr(tmp_path, soffice_available):
    flows = [np.array(f) for f in TARGETED] + _random_flows(300, 3)
    src = tmp_path / "in" / "irr.xlsx"
    src.parent.mkdir()
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("F")
    for r, f in enumerate(flows):
        ws.write_row(r, 0, [float(v) for v in f])
        ws.write_formula(r, 20, f'=IFERROR(IRR(A{r + 1}:{chr(ord("A") + len(f) - 1)}{r + 1}),"none")')
    wb.close()
    got = openpyxl.load_workbook(recalculate(src, tmp_path / "out"), data_only=True)["F"]
    agree = 0
    for r, f in enumerate(flows):
        lo = got.cell(r + 1, 21).value
        engine = excel_irr(f).item()
        if lo == "none":
            assert math.isnan(engine), (r, list(f), engine)
        else:
            assert engine == pytest.approx(lo, rel=1e-9, abs=1e-12), (r, list(f))
            agree += 1
    assert agree > 100


def test_a_rate_settled_next_to_minus_100_percent_is_shown_as_no_rate(tmp_path):
    """Near -100 % LibreOffice's Newton steps shrink with 1 + rate, so it settles there without a root (and the NPV
    at that rate is huge: the report's NPV-at-IRR check would fail). The report shows n/a at or below -99.99 % a
    quarter, a floor every such iterate is under and every rate of the shipped scenarios above."""
    from tcomodel.api import build
    from tcomodel.finance.model import IRR_FLOOR

    for flows in NEAR_MINUS_ONE:
        assert excel_irr(np.array(flows)).item() <= IRR_FLOOR.value
    out = tmp_path / "r.xlsx"
    build(Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx", xlsx_path=out)
    ws = openpyxl.load_workbook(out)["NPV_IRR"]
    guards = [c.value for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith("=IF(INDEX(") and "IRR(" in c.value]
    assert len(guards) == 9 and all(">IrrFloor,IRR(" in g for g in guards)  # 8 against the baseline, 1 pair
    assert openpyxl.load_workbook(out).defined_names["IrrFloor"].attr_text.startswith("Checks!")


def test_the_npv_at_irr_check_is_per_million_of_the_flows_size(tmp_path):
    """The IRR is the spreadsheet's iterate, so the NPV there is a residual that grows with the flows: for 81 flows
    of ~1e8 it is 0.014, over the checks' 0.01 tolerance; per million of the flows' size (the root of their sum of
    squares) it is ~5e-6. The report's check divides by that size where it exceeds a million."""
    rng = np.random.default_rng(0)
    for _ in range(20000):  # the first such flows of a seeded search (a review's)
        c = np.full(81, 1.0) * rng.uniform(0.2, 1.5) + rng.normal(0, 0.3, 81)
        c[0] = -rng.uniform(2, 30)
        c = np.round(c * 1e8, 2)
        x = excel_irr(c).item()
        if np.isfinite(x) and x > 0 and abs(np.sum(c / (1 + x) ** np.arange(81))) > 0.01:
            break
    residual = np.sum(c / (1 + x) ** np.arange(81))
    assert x == pytest.approx(libreoffice_irr(c), rel=1e-12) and 0.01 < abs(residual) < 0.1
    assert abs(residual / max(1.0, np.sqrt(np.sum(c * c)) / 1e6)) < 1e-4
    from tcomodel.api import build

    out = tmp_path / "r.xlsx"
    build(Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx", xlsx_path=out)
    ws = openpyxl.load_workbook(out)["Checks"]
    checks = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "SUMPRODUCT(NPV_IRR!" in c.value]
    assert len(checks) == 9 and all("/MAX(1,SQRT(SUMPRODUCT(" in f and ")/CheckFlowUnit)," in f for f in checks)
