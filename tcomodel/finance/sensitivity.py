"""Sensitivity: a tornado of key drivers and a volume x API-price grid of the cheapest option.

Both re-run the whole model with moved inputs, evaluated in one pass along the leading scenario axis.
Each driver scales a set of inputs by its low and high factor: the workbook's Ranges sheet gives the
low/high where it names an input the driver moves (low/high as values, or as multipliers for
Workload rows), otherwise +/-20%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcomodel.kinds import KINDS
from tcomodel.sheet import evaluate

DEFAULT_SWING = 0.20


@dataclass
class Driver:
    label: str
    inputs: list  # scalar input names scaled
    rows: list  # row input names scaled
    low: float  # factor
    high: float
    basis: str  # where low/high came from


@dataclass
class Tornado:
    drivers: list
    base_levelized: dict  # option -> value
    base_npv: dict  # option -> NPV vs baseline
    levelized: dict  # option -> array [drivers, 2] (low, high)
    npv: dict  # option -> array [drivers, 2]


@dataclass
class TornadoTable:
    """One tornado as the report shows it: the drivers that move ``metric`` of ``option``, largest swing first."""
    metric: str  # "npv" (of switching from the baseline to option) | "levelized"
    option: str
    base: float
    rows: list  # (Driver, value at low, value at high), at most MAX_TORNADO_ROWS


@dataclass
class Grid:
    volume_factors: list
    monthly_tokens: list  # tokens per month at each volume factor (mean over the horizon)
    price_factors: list
    cheapest: list  # [volume][price] option id
    levelized: dict  # option -> array [volume, price]


def _drivers(run) -> list[Driver]:
    m, sc = run.model, run.scenario
    names = list(m.inputs)

    def pick(pred):
        return [n for n in names if pred(n, m.inputs[n])]

    # names by prefix (up to the second dot: "{oid}.api."), so a kind's drivers look at their option's inputs
    # only: with many options, scanning every input per option grows with options squared
    by_prefix: dict[str, list[str]] = {}
    for n in names:
        parts = n.split(".")
        if len(parts) > 2:
            by_prefix.setdefault(".".join(parts[:2]) + ".", []).append(n)

    def pick_matching(prefix, suffix):
        head = ".".join(prefix.split(".")[:2]) + "."
        pool = by_prefix.get(head, []) if prefix.count(".") >= 2 and prefix.endswith(".") else names
        return [n for n in pool if n.startswith(prefix) and n.endswith(suffix)]

    drivers = [Driver("Workload volume (requests)", [], ["workload.requests"], 1 - DEFAULT_SWING, 1 + DEFAULT_SWING,
                      "+/-20%")]
    # each option's drivers as its kind declares them; the late ones (resale) after every option's others
    for late in (False, True):
        for oid, om in m.options.items():
            for spec in KINDS[om.kind].drivers:
                if spec.late == late and _kind_driver_applies(m, spec, oid):
                    drivers.append(_kind_driver(spec, oid, pick_matching))
    # staff enters every option's cost: the loaded rates and the hours, each across all options
    drivers.append(Driver("Staff: loaded hourly rates", pick(lambda n, d: n.startswith("role.")
                                                             and n.endswith(".loaded_rate_per_hour")),
                          [], 1 - DEFAULT_SWING, 1 + DEFAULT_SWING, "+/-20%"))
    drivers.append(Driver("Staff: hours (all options)", pick(lambda n, d: ".staff." in n and n.endswith("hours_per_month")
                                                            or n.endswith(".one_off_hours") or n.endswith(".opex.staff_per_month")),
                          [], 1 - DEFAULT_SWING, 1 + DEFAULT_SWING, "+/-20%"))
    for n, d in m.inputs.items():
        if n.startswith("fx."):
            drivers.append(Driver(f"FX {n[3:]}", [n], [], 1 - DEFAULT_SWING, 1 + DEFAULT_SWING, "+/-20%"))
    drivers.append(Driver("Discount rate", ["discount_rate_annual"], [], 1 - DEFAULT_SWING, 1 + DEFAULT_SWING, "+/-20%"))
    # the workbook's Ranges override the factors where they name exactly the input a driver moves
    origin_to_input = {d.origin.split(" ")[0]: n for n, d in m.inputs.items()}
    for rec in sc.ranges:
        cell = _ranges_cell(sc, rec)
        if rec.sheet == "Workload" and rec.field == "requests":
            drv = drivers[0]
            drv.low, drv.high, drv.basis = rec.low, rec.high, rec.cell('low')
            continue
        name = origin_to_input.get(cell) if cell else None
        if name is None:
            continue
        base = m.inputs[name].value
        for drv in drivers:
            if drv.inputs == [name] and base:
                drv.low, drv.high, drv.basis = rec.low / base, rec.high / base, rec.cell('low')
    return [d for d in drivers if d.inputs or d.rows]


def _kind_driver_applies(m, spec, oid) -> bool:
    if not spec.if_nonzero:
        return True
    return all(r.format(oid=oid) in m.row_inputs and m.row_inputs[r.format(oid=oid)].values.any() for r in spec.rows)


def _kind_driver(spec, oid, pick_matching) -> Driver:
    """A kind's DriverSpec for option ``oid``: its named inputs, the inputs its pattern matches, its rows."""
    names = [n.format(oid=oid) for n in spec.inputs]
    if spec.matching is not None:
        prefix, suffix = (p.format(oid=oid) for p in spec.matching)
        names += pick_matching(prefix, suffix)
    return Driver(f"{oid}: {spec.label}", names, [r.format(oid=oid) for r in spec.rows], 1 - DEFAULT_SWING,
                  1 + DEFAULT_SWING, "+/-20%")


def _ranges_cell(sc, rec) -> str | None:
    """The workbook cell a Ranges row names (Sheet!Cell), or None."""
    tables = {"FX": sc.fx_rows, "Rental": sc.rental, "CloudRates": sc.cloud_rates, "ApiPrices": sc.api_prices,
              "Capex": sc.capex, "Opex": sc.opex, "Options": sc.options, "Roles": sc.roles}
    rows = tables.get(rec.sheet)
    if rows is None or rec.row_id not in rows or not rec.field:
        return None
    return rows[rec.row_id].cells.get(rec.field)


def _batched_values(run, s: int) -> dict:
    m = run.model
    vals = {}
    for n, d in m.inputs.items():
        vals[n] = np.full(s, d.value, dtype=float)
    for n, d in m.row_inputs.items():
        vals[n] = np.tile(np.asarray(d.values, dtype=float), (s, 1))
    vals.update(m.timeline)
    return vals


def _metric_items(run):
    m = run.model
    items = [om.levelized for om in m.options.values()] + [c.npv for c in m.comparisons.values()]
    return items


def _tornado_scenarios(run, vals: dict, drivers: list, offset: int) -> None:
    """Move the inputs of scenarios offset + 1 .. offset + 2 * len(drivers) (offset: the base scenario)."""
    for i, drv in enumerate(drivers):
        for j, factor in enumerate((drv.low, drv.high)):
            k = offset + 1 + 2 * i + j
            for n in drv.inputs:
                vals[n][k] *= factor
            for n in drv.rows:
                vals[n][k] *= factor


def _tornado_result(run, res: dict, drivers: list, offset: int) -> Tornado:
    m = run.model
    sl = slice(offset + 1, offset + 1 + 2 * len(drivers))
    lev = {oid: res[om.levelized][sl].reshape(len(drivers), 2) for oid, om in m.options.items()}
    npv = {oid: res[c.npv][sl].reshape(len(drivers), 2) for oid, c in m.comparisons.items()}
    return Tornado(drivers, {oid: float(res[om.levelized][offset]) for oid, om in m.options.items()},
                   {oid: float(res[c.npv][offset]) for oid, c in m.comparisons.items()}, lev, npv)


def tornado(run) -> Tornado:
    m = run.model
    drivers = _drivers(run)
    vals = _batched_values(run, 1 + 2 * len(drivers))
    _tornado_scenarios(run, vals, drivers, 0)
    res = evaluate(_metric_items(run), vals, periods=len(m.quarters), only=True)  # metrics only: flat memory
    return _tornado_result(run, res, drivers, 0)


VOLUME_FACTORS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
PRICE_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def _grid_cells(volume_factors, price_factors) -> list:
    return [(v, p) for v in volume_factors for p in price_factors]


def _grid_scenarios(run, vals: dict, cells: list, offset: int) -> None:
    """Move the volume and the API prices of scenarios offset .. offset + len(cells) - 1."""
    m = run.model
    api_inputs = [n for n in m.inputs if ".api." in n and n.endswith("_per_mtok")]
    for k, (v, p) in enumerate(cells, start=offset):
        vals["workload.requests"][k] *= v
        for n in api_inputs:
            vals[n][k] *= p


def _grid_result(run, res: dict, volume_factors, price_factors, offset: int) -> Grid:
    m = run.model
    shape = (len(volume_factors), len(price_factors))
    sl = slice(offset, offset + shape[0] * shape[1])
    lev = {oid: res[om.levelized][sl].reshape(shape) for oid, om in m.options.items()}
    ids = list(lev)
    stack = np.stack([np.where(np.isnan(lev[o]), np.inf, lev[o]) for o in ids])
    best = np.argmin(stack, axis=0)
    cheapest = [[ids[best[i, j]] for j in range(shape[1])] for i in range(shape[0])]
    base_tokens = float(np.sum((run.base_values if run.base_values is not None else run.values)[m.options[m.baseline].tokens])) / (3 * len(m.quarters))
    monthly = [base_tokens * v for v in volume_factors]
    return Grid(list(volume_factors), monthly, list(price_factors), cheapest, lev)


def price_volume_grid(run, volume_factors=VOLUME_FACTORS, price_factors=PRICE_FACTORS) -> Grid:
    """Cheapest option (levelized cost per Mtok) by workload volume and by API price level."""
    m = run.model
    cells = _grid_cells(volume_factors, price_factors)
    vals = _batched_values(run, len(cells))
    _grid_scenarios(run, vals, cells, 0)
    res = evaluate([om.levelized for om in m.options.values()], vals, periods=len(m.quarters), only=True)
    return _grid_result(run, res, volume_factors, price_factors, 0)


def tornado_and_grid(run, volume_factors=VOLUME_FACTORS, price_factors=PRICE_FACTORS) -> tuple[Tornado, Grid]:
    """``(tornado(run), price_volume_grid(run))`` in one evaluation: the tornado's scenarios (the base, then
    each driver low and high) and the grid's cells along one scenario axis. Each scenario is computed
    element-wise along that axis, so the values are those of the two separate runs."""
    m = run.model
    drivers = _drivers(run)
    cells = _grid_cells(volume_factors, price_factors)
    n_tornado = 1 + 2 * len(drivers)
    vals = _batched_values(run, n_tornado + len(cells))
    _tornado_scenarios(run, vals, drivers, 0)
    _grid_scenarios(run, vals, cells, n_tornado)
    res = evaluate(_metric_items(run), vals, periods=len(m.quarters), only=True)  # metrics only: flat memory
    return (_tornado_result(run, res, drivers, 0),
            _grid_result(run, res, volume_factors, price_factors, n_tornado))


MAX_TORNADO_ROWS = 12


def tornado_tables(run, t: Tornado) -> list[TornadoTable]:
    """The NPV and levelized-cost tornadoes of the focus option: the self-hosted (else any) non-baseline option
    with the highest NPV of switching. Drivers whose swing is negligible against the base are left out."""
    m = run.model
    cands = [o for o, om in m.options.items() if o != m.baseline and om.kind != "hosted_api"] or \
        [o for o in m.options if o != m.baseline]
    focus = max(cands, key=lambda o: t.base_npv.get(o, -np.inf)) if cands else m.baseline
    out = []
    for metric, base, table in (("npv", t.base_npv.get(focus), t.npv.get(focus)),
                                ("levelized", t.base_levelized[focus], t.levelized[focus])):
        if table is None:
            continue
        swings = [(abs(hi - lo), i) for i, (lo, hi) in enumerate(table)]
        order = [i for sw, i in sorted(swings, key=lambda x: -x[0])
                 if sw > 1e-9 * max(1.0, abs(base))][:MAX_TORNADO_ROWS]
        out.append(TornadoTable(metric, focus, base, [(t.drivers[i], table[i][0], table[i][1]) for i in order]))
    return out
