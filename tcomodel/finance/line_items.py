"""Every line item of a run in long form, for pandas and BI tools: ``option, section, line_item, unit,
period, value``, one row per line item and period.

Conventions (the README repeats them):

- ``option``: the option id for rows of an option's own sheet; otherwise a label no option id can take
  (ids are lowercase and have no spaces or brackets): ``(general)`` for the Demand sheet (financing and
  demand), ``(comparison)`` for the Comparison sheet (there ``line_item`` is the option id, since option
  labels need not be unique), ``(breakeven)`` for the Breakeven sheet, ``FROM->TO`` for switching from
  option FROM to option TO (the NPV_IRR sheet: the baseline's comparisons, then the Pairs sheet's) and
  ``(checks)`` for the Checks sheet.
- ``section``: the section title the report shows the row under.
- ``period``: a quarter (``2027Q1``) for a row's period values; ``total`` for a one-cell (scalar) figure
  and, for a row that has a total column in the report, the sum over the horizon (empty where a period
  is undefined, as the report shows #N/A).
- ``value``: a float, NaN where the model gives #N/A.

Order: as ``TcoModel.all_items()`` (general, options, switching, breakeven, side by side, checks), each
item's quarters in order and then its total; the IRR's horizon-end flow follows its row. Deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tcomodel.finance.model import Section, TcoModel
from tcomodel.sheet.expr import Item
from tcomodel.sheet.functions import row_total

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["option", "section", "line_item", "unit", "period", "value"]
TOTAL = "total"
GENERAL, COMPARISON, BREAKEVEN, CHECKS = "(general)", "(comparison)", "(breakeven)", "(checks)"


def switching_label(from_id: str, to_id: str) -> str:
    return f"{from_id}->{to_id}"


def groups(model: TcoModel) -> list[tuple[str, str, list[tuple[str, Item]]]]:
    """(option, section, [(line item label, item)]) in the order of ``all_items()``, plus each IRR's tail."""
    out = []

    def add(option, sections: list[Section]):
        out.extend((option, s.title, [(it.label, it) for it in s.items]) for s in sections)

    add(GENERAL, model.general)
    for oid, om in model.options.items():
        add(oid, om.sections)
    switches = [(model.baseline, oid, c, f"Switching from {model.baseline} to {oid}")
                for oid, c in model.comparisons.items()]
    switches += [(a, b, c, f"Switching from {a} to {b} (a pair named on the Pairs sheet)")
                 for (a, b), c in model.pairs.items()]
    for a, b, c, title in switches:
        rows = []
        for it in c.items:
            rows.append((it.label, it))
            if it is c.irr_row and c.irr_tail is not None:  # the report puts it after the row's last quarter
                rows.append((c.irr_tail.label, c.irr_tail))
        out.append((switching_label(a, b), title, rows))
    add(BREAKEVEN, model.breakeven)
    ids = {f"cmp_{k}:{oid}": oid for oid in model.options for k in ("cpm", "pl", "cum", "tok")}
    out.extend((COMPARISON, s.title, [(ids.get(it.name, it.label), it) for it in s.items]) for s in model.side_by_side)
    out.append((CHECKS, "Checks", [(label, it) for label, it in model.checks]))
    out.append((CHECKS, "Check fails (1 = yes)", [(it.label, it) for it in model.check_flags]))
    out.append((CHECKS, "Master check", [(model.master_check.label, model.master_check)]))
    return out


def line_items(model: TcoModel, values: dict) -> "pd.DataFrame":
    """The long table of every line item (see the module notes); ``values`` is one run's item -> value."""
    import pandas as pd  # here, not at the top: a build without an export does not pay pandas' import time

    quarters = [str(q) for q in model.quarters]
    cols: dict[str, list] = {c: [] for c in COLUMNS}

    def emit(option, section, label, unit, period, value):
        for c, x in zip(COLUMNS, (option, section, label, unit, period, value)):
            cols[c].append(x)

    for option, section, rows in groups(model):
        for label, it in rows:
            v = np.asarray(values[it], dtype=float)
            if v.ndim == 0:
                emit(option, section, label, it.unit, TOTAL, float(v))
                continue
            for q, x in zip(quarters, v.tolist()):
                emit(option, section, label, it.unit, q, x)
            if it.total:
                emit(option, section, label, it.unit, TOTAL, row_total(v))
    df = pd.DataFrame(cols, columns=COLUMNS)
    df["value"] = df["value"].astype("float64")
    return df


def write_csv(df: "pd.DataFrame", path) -> None:
    """UTF-8, a header row, '.' decimals, floats at full (round-trip) precision, NaN as an empty field."""
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", na_rep="")
