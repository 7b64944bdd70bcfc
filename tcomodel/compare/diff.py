"""Cell-level difference of two loaded scenarios: every input cell whose parsed value differs.

Built from the loaded records (each carries ``.cells``: field -> "Sheet!Cell"), so the diff is about
what the loader understood, not about formatting: 0.25 and 25% are the same value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tcomodel.inputs.schema import (
    API_PRICES, CAPEX, CLAIMS, CLOUD_RATES, FX, OPEX, OPTIONS, RANGES, RENTAL, SCENARIO, UTILIZATION, WORKLOAD,
    catalogue_sheets,
)

# Cells whose change alters the model's structure (items, not input values): they cannot be
# substituted one group at a time and land in the bridge's "Structure" step.
STRUCTURAL = {
    ("Scenario", "report_currency"), ("Scenario", "first_quarter"), ("Scenario", "horizon_quarters"),
    ("Scenario", "baseline_option"), ("Options", "kind"), ("Options", "load_basis"),
    ("Capex", "depreciation_method"), ("Capex", "economic_life_years"),
    ("ApiPrices", "long_context_threshold_tokens"),
    ("Capex", "currency"), ("Opex", "currency"), ("Rental", "currency"), ("CloudRates", "currency"),
    ("ApiPrices", "currency"),
}
# Cells that reach the cost model only through the roofline capacity row input ("<option>.capacity").
VIA_CAPACITY = {
    ("Options", "hardware_id"), ("Options", "model_id"), ("Options", "precision"), ("Options", "kv_precision"),
    ("Options", "engine"), ("Options", "measured_output_tok_s_per_replica"),
    ("Workload", "min_user_tok_s"), ("Workload", "max_ttft_s"),
}
NOT_MODELLED = "not used by the cost model"
ROW_ADDED, ROW_REMOVED = "(row added)", "(row removed)"


@dataclass
class Change:
    """One input cell (or row) that differs between OLD and NEW."""

    sheet: str
    row_id: str
    field: str  # "" for a Scenario key's value; "(row)" for an added or removed row
    label: str
    old_cell: str | None
    new_cell: str | None
    old: object
    new: object
    bridge_group: str  # the GROUPS entry the change is counted in, "structural", or NOT_MODELLED

    @property
    def change(self) -> float | None:
        """NEW minus OLD for numbers, None otherwise."""
        if _is_num(self.old) and _is_num(self.new):
            return float(self.new) - float(self.old)
        return None

    def describe(self) -> str:
        """OLD -> NEW for a person: 'row removed' / 'row added' for whole rows, '(blank)' for empty cells."""
        if self.field == "(row)":
            return "row removed" if self.new is None else "row added"
        shown = lambda x: "(blank)" if x is None or x == "" else str(json_value(x))  # noqa: E731
        return f"{shown(self.old)} -> {shown(self.new)}"

    def to_json(self) -> dict:
        return {"sheet": self.sheet, "row_id": self.row_id, "field": self.field, "label": self.label,
                "old_cell": self.old_cell, "new_cell": self.new_cell, "old": json_value(self.old),
                "new": json_value(self.new), "change": self.change, "bridge_group": self.bridge_group}


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def json_value(x):
    if x is None or _is_num(x) or isinstance(x, (str, bool)):
        return x
    if isinstance(x, dt.date):
        return x.isoformat()
    return str(x)


def _keyed_tables(sc) -> list[tuple]:
    """(spec, {row id: record}) for every table sheet, in workbook order."""
    hardware, models = catalogue_sheets()
    util = {f"{r.option_id} {r.quarter}": r for r in sc.utilization_rows}
    claims = {r.claim_id: r for r in sc.claims if r.claim_id is not None}
    ranges = {f"{r.sheet}/{r.row_id}/{r.field or ''}": r for r in sc.ranges}
    return [
        (FX, dict(sc.fx_rows)), (hardware, dict(sc.hardware_rows)), (models, dict(sc.model_rows)),
        (OPTIONS, dict(sc.options)), (CAPEX, dict(sc.capex)), (OPEX, dict(sc.opex)), (RENTAL, dict(sc.rental)),
        (CLOUD_RATES, dict(sc.cloud_rates)), (API_PRICES, dict(sc.api_prices)),
        (WORKLOAD, {str(w.quarter): w for w in sc.workload}), (UTILIZATION, util), (CLAIMS, claims),
        (RANGES, ranges),
    ]


class _Labeller:
    """Readable label and bridge group of a cell, from the two models' input definitions."""

    def __init__(self, old_model, new_model):
        self.by_cell: dict[str, tuple[str, str]] = {}
        self.rows: dict[str, tuple[str, str]] = {}
        for m in (old_model, new_model):
            if m is None:
                continue
            for d in m.inputs.values():
                if d.origin and "!" in d.origin:
                    self.by_cell[d.origin.split(" ")[0]] = (d.label, d.group)
            for d in m.row_inputs.values():
                self.rows[d.name] = (d.label, d.group)

    def __call__(self, spec, row_id, field, old_cell, new_cell) -> tuple[str, str]:
        sheet = spec.name
        for c in (new_cell, old_cell):
            if c and c in self.by_cell:
                return self.by_cell[c]
        desc = spec.field(field).description if field in spec.field_names else field
        if sheet == "Workload" and f"workload.{field}" in self.rows:
            label, group = self.rows[f"workload.{field}"]
            return f"{label}, {row_id}", group
        if sheet == "Utilization" and field == "utilization":
            return f"{row_id.split(' ')[0]}: utilization, {row_id.split(' ')[1]}", "Utilization and throughput"
        if (sheet, field) in STRUCTURAL:
            return f"{row_id}: {desc}", "structural"
        if (sheet, field) in VIA_CAPACITY or sheet in ("Hardware", "Models"):
            return f"{row_id}: {desc} (through the roofline capacity)", "Utilization and throughput"
        return f"{row_id}: {desc}", NOT_MODELLED


def diff_scenarios(old, new, old_model=None, new_model=None) -> list[Change]:
    """Every input that differs, in workbook order: Scenario keys, then each table sheet by row id.

    Passing the two models gives the readable labels and bridge groups of the model's inputs.
    """
    label = _Labeller(old_model, new_model)
    out: list[Change] = []
    so, sn = old.settings, new.settings
    for f in SCENARIO.fields:
        a, b = getattr(so, f.name), getattr(sn, f.name)
        ca, cb = so.cells.get(f.name), sn.cells.get(f.name)
        if a != b:
            lab, grp = label(SCENARIO, f.name, f.name, ca, cb)
            if lab.startswith(f"{f.name}: "):
                lab = f"{f.description}"
            if f.name == "inflation_annual":
                grp = NOT_MODELLED  # reported for reference only; escalation is set per line
            out.append(Change("Scenario", f.name, "", lab, ca, cb, a, b, grp))
        sa, sb = so.sources.get(f.name, ""), sn.sources.get(f.name, "")
        if sa != sb:
            out.append(Change("Scenario", f.name, "source", f"{f.name}: source", _col(ca, "D"), _col(cb, "D"), sa, sb,
                              NOT_MODELLED))
    old_tables = dict((spec.name, rows) for spec, rows in _keyed_tables(old))
    for spec, new_rows in _keyed_tables(new):
        old_rows = old_tables[spec.name]
        for rid in list(old_rows) + [r for r in new_rows if r not in old_rows]:
            ra, rb = old_rows.get(rid), new_rows.get(rid)
            id_field = spec.id_field or spec.fields[0].name
            if ra is None or rb is None:
                rec = rb if ra is None else ra
                cell = rec.cell(id_field)
                grp = "structural" if spec.name in ("Options", "Capex", "Opex", "Rental", "CloudRates", "ApiPrices",
                                                    "Workload") else label(spec, rid, id_field, None, None)[1]
                out.append(Change(spec.name, rid, "(row)", f"{rid}: row on sheet {spec.name}",
                                  cell if ra is not None else None, cell if rb is not None else None,
                                  ROW_REMOVED if rb is None else None, ROW_ADDED if ra is None else None, grp))
                continue
            for f in spec.fields:
                a, b = getattr(ra, f.name), getattr(rb, f.name)
                if a == b:
                    continue
                ca, cb = ra.cells.get(f.name), rb.cells.get(f.name)
                lab, grp = label(spec, rid, f.name, ca, cb)
                if f.name == "source":
                    grp = NOT_MODELLED
                out.append(Change(spec.name, rid, f.name, lab, ca, cb, a, b, grp))
    return out


def _col(cell: str | None, letter: str) -> str | None:
    """The same row's cell in another column: Scenario!B6 -> Scenario!D6."""
    if not cell:
        return None
    sheet, addr = cell.split("!")
    return f"{sheet}!{letter}{addr.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
