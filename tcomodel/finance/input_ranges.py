"""Map the rows of a scenario's Ranges sheet to the model inputs they drive.

A Ranges row (sheet, row_id, field) names a workbook cell. The model input it drives is the
InputDef whose ``origin`` is that cell (Scenario keys, FX, Options and the kind-specific sheets), or
the Workload row input whose origin range holds it. Workload low/high are multipliers of the
quarter's value (row_id ``*`` = every quarter); every other sheet gives low/high as values.
A row that drives no input the sweep can move is an InputError naming its Ranges cell.

Rows the Monte Carlo alone samples (``MONTE_CARLO_SHEETS``; the report's Low/High cases and the tornado
hold them at base): ``Inputs`` (row_id = any input id of the model, as on the report's Inputs sheet;
values for a scalar, multipliers for a per-quarter input with field a quarter or blank/``*``),
``Utilization`` (row_id = option, field = quarter or ``*``; multipliers kept within 0..1) and
``Capacity`` (row_id = self-hosted option; a multiplier of its output tok/s per replica, every quarter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcomodel.errors import InputError, Problem
from tcomodel.inputs.cells import CellProblem, parse_value
from tcomodel.inputs.schema import Field

# Inputs fixed by the model's structure (vintage count, timeline position, replica size, rental contract lag
# rows): sampling them continuously would move some line items and not the Python-built structure around them.
# Whole replicas, terms and quarter positions are integers: a continuous draw would split a replica or a term.
STRUCTURAL_SUFFIXES = ("start_qidx", "book_life_quarters", "gpus_per_replica", "reserved_replicas",
                       "commitment_term_quarters", "reservation_start_qidx", "horizon_quarters",
                       "minimum_term_months", "notice_months", "redundancy_replicas")
# Workload fields the roofline reads when it picks each option's operating point.
ROOFLINE_WORKLOAD_FIELDS = ("input_tokens_per_request", "output_tokens_per_request")
MONTE_CARLO_SHEETS = ("Inputs", "Utilization", "Capacity")
_PREFIX = {"Rental": "rental", "CloudRates": "cloud", "ApiPrices": "api", "Capex": "capex", "Opex": "opex"}


@dataclass
class SampledInput:
    """One Ranges row, resolved: what it moves and how it is drawn."""

    ranges_cell: str  # Ranges!Dn of the low value: the row's address in messages and outputs
    label: str
    target: str  # the workbook cell (or range) the row names
    names: list[str]  # model input names it sets (scalar) or scales (row)
    is_row: bool  # True: a Workload row input scaled by a multiplier
    quarter_index: int | None  # row inputs: the single quarter scaled (None = every quarter)
    low: float
    mode: float  # the base value (scalars) or 1 (Workload multipliers)
    high: float
    distribution: str  # triangular | uniform
    clip_share: bool = False  # a share row scaled by a multiplier stays within [0, 1]
    source: str = ""
    sheet: str = ""  # the Ranges row's sheet column
    row_number: int | None = None  # the Ranges row's spreadsheet row (Correlations refer to it)
    key: str = ""  # sheet/row_id/field, the other way Correlations refer to the row
    value_unit: str = ""  # scalars: the input's unit as the model states it (e.g. EUR/month)

    @property
    def unit(self) -> str:
        return "multiplier" if self.is_row else (self.value_unit or "value")


def _where(rec, fieldname: str) -> tuple[str, str | None]:
    cell = rec.cell(fieldname)
    return ("Ranges", cell.split("!", 1)[1]) if "!" in cell else ("Ranges", None)


def _base_cell(origin: str) -> str:
    return (origin or "").split(" ", 1)[0]


def resolve_ranges(scenario, model, *, monte_carlo: bool = False) -> tuple[list[SampledInput], list[str]]:
    """The sampled inputs of every Ranges row, and notes on what the sweep holds fixed.

    Rows of ``MONTE_CARLO_SHEETS`` are resolved only with ``monte_carlo`` (else left out with a note: the
    report's cases keep them at base). Raises InputError listing every Ranges row that drives no model input.
    """
    by_cell: dict[str, list[str]] = {}
    for name, d in model.inputs.items():
        by_cell.setdefault(_base_cell(d.origin), []).append(name)
    problems: list[Problem] = []
    notes: list[str] = []
    out: list[SampledInput] = []
    seen: dict[str, str] = {}  # scalar input name -> Ranges cell that samples it
    field_at = _fields_by_cell(scenario)
    for rec in scenario.ranges:
        if rec.sheet in MONTE_CARLO_SHEETS and not monte_carlo:
            notes.append(f"{rec.cell('low')}: {rec.sheet} rows are sampled by the Monte Carlo (sweep) only")
            continue
        try:
            si = _resolve_one(scenario, model, rec, by_cell)
        except _Bad as bad:
            problems.append(Problem(*_where(rec, bad.field), bad.message))
            continue
        if not si.is_row:
            dup = [n for n in si.names if n in seen]
            if dup:
                problems.append(Problem(*_where(rec, "field"),
                                        f"{si.target} is already sampled by the Ranges row at {seen[dup[0]]}; "
                                        "give each input one Ranges row"))
                continue
            seen.update({n: si.ranges_cell for n in si.names})
        try:
            _check_bounds(si, field_at)
            if rec.sheet == "Workload":
                _check_workload_bounds(si, model, rec.field)
        except _Bad as bad:
            problems.append(Problem(*_where(rec, bad.field), bad.message))
            continue
        if si.distribution == "triangular" and not si.low <= si.mode <= si.high:
            what = "multiplier 1" if si.is_row else f"base value {si.mode:g} ({si.target})"
            problems.append(Problem(*_where(rec, "low"),
                                    f"triangular needs low <= base <= high, but the {what} is outside "
                                    f"{si.low:g}..{si.high:g}; widen the range or use distribution uniform"))
            continue
        if si.is_row and rec.field in ROOFLINE_WORKLOAD_FIELDS:
            notes.append(f"{si.ranges_cell}: {rec.field} is sampled in the cost line items; the roofline "
                         "operating point (throughput per replica) stays at its base-case value")
        out.append(si)
    if problems:
        raise InputError(problems, path=str(scenario.path))
    return out, notes


def _value_tables(scenario) -> dict:
    """The table sheets whose value cells a Ranges row can name: sheet -> the scenario's rows by id."""
    # a Staff row is an option's hours in one role: its id is option_id/role
    staff = {f"{rec.option_id}/{rec.role}": rec for rows in scenario.staff.values() for rec in rows}
    return {"FX": scenario.fx_rows, "Options": scenario.options, "Capex": scenario.capex, "Opex": scenario.opex,
            "Rental": scenario.rental, "CloudRates": scenario.cloud_rates, "ApiPrices": scenario.api_prices,
            "Roles": scenario.roles, "Staff": staff}


def _fields_by_cell(scenario) -> dict[str, Field]:
    """Each scenario value cell a Ranges row can name (Scenario keys and the table sheets) -> its Field, whose
    allowed range the row's low and high must keep to."""
    from tcomodel.inputs import schema

    out: dict[str, Field] = {}
    for key, cell in scenario.settings.cells.items():
        try:
            out[cell] = schema.SCENARIO.field(key)
        except KeyError:
            continue
    specs = {s.name: s for s in schema.all_sheets()}
    for sheet, rows in _value_tables(scenario).items():
        spec = specs[sheet]
        for row in rows.values():
            for name, cell in row.cells.items():
                if name in spec.field_names:
                    out[cell] = spec.field(name)
    return out


def _check_bounds(si: SampledInput, field_at: dict[str, Field]) -> None:
    """A Ranges row's low and high within what its target accepts: a value the input sheet would refuse (a negative
    fee, an FX rate of -1, a share over 1) is refused here too, at the row's low or high cell. Multipliers (rows)
    are at least 0, and a capacity multiplier above 0 (no capacity is no service, not a cost)."""
    if si.is_row:
        floor, strict = 0.0, si.names[0].endswith(".capacity")
        for end, value in (("low", si.low), ("high", si.high)):
            if value < floor or (strict and value == floor):
                need = "above 0" if strict else "0 or more"
                raise _Bad(end, f"{end} {value:g} is a multiplier of {si.target} ({si.label}) and must be {need}")
        return
    f = field_at.get(si.target)
    if f is None or f.kind not in ("number", "integer", "share"):
        return
    for end, value in (("low", si.low), ("high", si.high)):
        try:
            parse_value(f, value)
        except CellProblem as bad:
            raise _Bad(end, f"{end} {value:g} is outside what {si.target} accepts: {bad}") from None


def _check_workload_bounds(si: SampledInput, model, fieldname: str) -> None:
    """A Workload multiplier keeps the quarters' values within what the Workload sheet accepts (a share is clipped
    to 0..1 instead)."""
    from tcomodel.inputs.schema import WORKLOAD

    f = WORKLOAD.field(fieldname)
    if f.kind not in ("number", "integer"):
        return
    values = np.asarray(model.row_inputs[si.names[0]].values, dtype=float)
    if si.quarter_index is not None:
        values = values[si.quarter_index:si.quarter_index + 1]
    for end, mult in (("low", si.low), ("high", si.high)):
        lo, hi = float(np.min(values * mult)), float(np.max(values * mult))
        if (f.min is not None and lo < f.min) or (f.max is not None and hi > f.max):
            raise _Bad(end, f"{end} {mult:g} scales {si.target} to {lo:g}..{hi:g}, outside what Workload {fieldname} "
                            f"accepts: {f.allowed()}")


class _Bad(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _resolve_one(scenario, model, rec, by_cell) -> SampledInput:
    sheet, row_id, fieldname = rec.sheet, rec.row_id, rec.field
    dist = rec.distribution or "triangular"
    ranges_cell = rec.cell("low")
    row_number = int(ranges_cell.rsplit("!", 1)[-1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") or 0) or None
    key = "/".join(str(x).strip() for x in (sheet, row_id, fieldname) if x is not None and str(x).strip())
    common = dict(ranges_cell=ranges_cell, low=float(rec.low), high=float(rec.high), distribution=dist,
                  source=rec.source or "", sheet=str(sheet), row_number=row_number, key=key)
    if sheet in MONTE_CARLO_SHEETS:
        return _resolve_monte_carlo(scenario, model, rec, common)
    if sheet == "Workload":
        return _resolve_workload(scenario, model, rec, common)
    if sheet == "Scenario":
        key = row_id if not fieldname or fieldname == "value" else fieldname
        cell = scenario.settings.cells.get(key)
        if cell is None:
            raise _Bad("row_id", f"'{key}' is not a Scenario key; known: {', '.join(scenario.settings.cells)}")
        target, names = cell, by_cell.get(cell, [])
        label = f"Scenario {key}"
    else:
        tables = _value_tables(scenario)
        if sheet in ("Hardware", "Models", "Claims"):
            raise _Bad("sheet", f"sheet {sheet} feeds the roofline operating point, which the sweep holds at its "
                                "base case; sample the option's throughput-driven costs instead")
        if sheet not in tables:
            raise _Bad("sheet", f"sheet '{sheet}' has no inputs the sweep can sample; use one of "
                                f"Scenario, Workload, {', '.join(tables)}, or (Monte Carlo) "
                                f"{', '.join(MONTE_CARLO_SHEETS)}")
        rows = tables[sheet]
        rec_row = rows.get(row_id)
        if rec_row is None and sheet == "FX" and row_id:
            rec_row = rows.get(str(row_id).upper())
        if rec_row is None and sheet == "Staff" and row_id:  # an option with one role: its id alone
            mine = [k for k in rows if k.split("/", 1)[0] == str(row_id)]
            if len(mine) == 1:
                rec_row = rows[mine[0]]
            elif mine:
                raise _Bad("row_id", f"option {row_id} has Staff rows in several roles: name one as option_id/role "
                                     f"({', '.join(mine)})")
        if rec_row is None:
            raise _Bad("row_id", f"'{row_id}' is not a row of sheet {sheet}; known: {', '.join(map(str, rows)) or '(none)'}")
        text_fields = ("option_id", "role", "currency", "source")  # ids and words, not values to sample
        if not fieldname or fieldname not in rec_row.cells or fieldname in text_fields:
            fields = [f for f in rec_row.cells if f not in text_fields]
            raise _Bad("field", f"'{fieldname or ''}' is not a field of sheet {sheet}; known: {', '.join(fields)}")
        target = rec_row.cells[fieldname]
        names = list(by_cell.get(target, []))
        if not names:  # the naming scheme, for inputs registered without their cell
            guess = (f"fx.{str(row_id).upper()}" if sheet == "FX" and fieldname == "rate_to_report_currency"
                     else f"{row_id}.{_PREFIX.get(sheet, '')}.{fieldname}")
            names = [guess] if guess in model.inputs else []
        label = f"{sheet} {row_id} {fieldname}"
    if not names:
        raise _Bad("field", f"{target} ({label}) drives no input of the cost model (not used by this scenario's "
                            "options, or only read by the roofline), so it cannot be sampled")
    structural = [n for n in names if n.rsplit(".", 1)[-1] in STRUCTURAL_SUFFIXES]
    if structural:
        raise _Bad("field", f"{target} ({label}) sets the model's structure ({structural[0]}); the sweep samples "
                            "continuous inputs only")
    d = model.inputs[names[0]]
    return SampledInput(label=label, target=target, names=names, is_row=False, quarter_index=None, mode=float(d.value),
                        value_unit=d.unit, **common)


def _resolve_workload(scenario, model, rec, common) -> SampledInput:
    wl = scenario.workload
    fieldname = rec.field
    name = f"workload.{fieldname}"
    if not fieldname or not wl or fieldname not in wl[0].cells:
        known = [f for f in (wl[0].cells if wl else ()) if f not in ("quarter", "source")]
        raise _Bad("field", f"'{fieldname or ''}' is not a field of sheet Workload; known: {', '.join(known)}")
    first = wl[0].cell(fieldname)
    rows = [n for n, d in model.row_inputs.items() if _base_cell(d.origin).split(":")[0] == first]
    if not rows and name in model.row_inputs:
        rows = [name]
    if not rows:
        raise _Bad("field", f"Workload {fieldname} is only read by the roofline (latency targets set the operating "
                            "point), which the sweep holds at its base case, so it cannot be sampled")
    row_id = str(rec.row_id).strip() if rec.row_id is not None else ""
    if row_id == "*":
        qi, target, label = None, model.row_inputs[rows[0]].origin, f"Workload {fieldname} (every quarter)"
    else:
        quarters = [str(w.quarter) for w in wl]
        if row_id not in quarters:
            raise _Bad("row_id", f"'{row_id}' is not a quarter of the Workload sheet; use * (every quarter) or one of "
                                 f"{quarters[0]}..{quarters[-1]}")
        qi = quarters.index(row_id)
        target, label = wl[qi].cell(fieldname), f"Workload {fieldname} {row_id}"
    from tcomodel.inputs.schema import WORKLOAD

    return SampledInput(label=label, target=target, names=rows, is_row=True, quarter_index=qi, mode=1.0,
                        clip_share=WORKLOAD.field(fieldname).kind == "share", **common)


def _quarter_index(scenario, text, field: str) -> tuple[int | None, str]:
    """(index, label) of a quarter named in a Ranges cell; blank or * = every quarter (None)."""
    q = "" if text is None else str(text).strip()
    if q in ("", "*"):
        return None, "every quarter"
    quarters = [str(w.quarter) for w in scenario.workload]
    if q not in quarters:
        raise _Bad(field, f"'{q}' is not a quarter of the horizon; use * (every quarter) or one of "
                          f"{quarters[0]}..{quarters[-1]}")
    return quarters.index(q), q


def _resolve_monte_carlo(scenario, model, rec, common) -> SampledInput:
    """Inputs (any input id), Utilization (option x quarter) and Capacity (option) rows."""
    sheet = rec.sheet
    row_id = "" if rec.row_id is None else str(rec.row_id).strip()
    if sheet == "Inputs":
        if row_id in model.inputs:
            if row_id.rsplit(".", 1)[-1] in STRUCTURAL_SUFFIXES:
                raise _Bad("row_id", f"{row_id} sets the model's structure; the sweep samples continuous inputs only")
            if rec.field not in (None, "", "value"):
                raise _Bad("field", f"{row_id} is one value: leave field blank")
            d = model.inputs[row_id]
            return SampledInput(label=f"Inputs {row_id}", target=_base_cell(d.origin) or row_id, names=[row_id],
                                is_row=False, quarter_index=None, mode=float(d.value), value_unit=d.unit, **common)
        if row_id in model.row_inputs:
            qi, ql = _quarter_index(scenario, rec.field, "field")
            d = model.row_inputs[row_id]
            return SampledInput(label=f"Inputs {row_id} ({ql})", target=d.origin or row_id, names=[row_id],
                                is_row=True, quarter_index=qi, mode=1.0,
                                clip_share=row_id.endswith(("_share", ".utilization", "resale_share_by_age")),
                                **common)
        raise _Bad("row_id", f"'{row_id}' is not an input id of this scenario (the report's Inputs sheet lists "
                             "them, e.g. discount_rate_annual or <option>.opex.pue)")
    oid = row_id
    if oid not in model.options:
        raise _Bad("row_id", f"'{oid}' is not an option; known: {', '.join(model.options)}")
    if sheet == "Capacity":
        name = f"{oid}.capacity"
        if name not in model.row_inputs:
            raise _Bad("row_id", f"option '{oid}' is a hosted API: it has no self-hosted capacity to sample")
        if rec.field not in (None, "", "*", "output_tok_s_per_replica"):
            raise _Bad("field", "leave field blank (the capacity row is scaled in every quarter)")
        return SampledInput(label=f"Capacity {oid} (output tok/s per replica, every quarter)",
                            target=model.row_inputs[name].origin, names=[name], is_row=True, quarter_index=None,
                            mode=1.0, **common)
    name = f"{oid}.utilization"  # sheet == "Utilization"
    if name not in model.row_inputs:
        raise _Bad("row_id", f"option '{oid}' has no Utilization rows (its load follows the Workload sheet)")
    qi, ql = _quarter_index(scenario, rec.field, "field")
    return SampledInput(label=f"Utilization {oid} ({ql})", target=f"Utilization (option {oid})", names=[name],
                        is_row=True, quarter_index=qi, mode=1.0, clip_share=True, **common)


def apply_ranges(model, base_values: dict, inputs: list[SampledInput], draws: np.ndarray) -> dict:
    """The evaluate() input dict with every Ranges row set to its drawn value: ``draws`` is
    [samples, inputs] (one column per resolved Ranges row). Scalars are set, Workload rows scaled
    (multipliers of one row multiply; a share row stays within [0, 1])."""
    vals = dict(base_values)
    n = draws.shape[0]
    multipliers: dict[str, np.ndarray] = {}
    for j, si in enumerate(inputs):
        if not si.is_row:
            for name in si.names:
                vals[name] = draws[:, j]
            continue
        for name in si.names:
            base = np.asarray(model.row_inputs[name].values, dtype=float)
            m = multipliers.setdefault(name, np.ones((n, base.shape[-1])))
            if si.quarter_index is None:
                m *= draws[:, j:j + 1]
            else:
                m[:, si.quarter_index] *= draws[:, j]
    for name, m in multipliers.items():
        row = np.asarray(model.row_inputs[name].values, dtype=float)[None, :] * m
        if any(si.clip_share and name in si.names for si in inputs):
            row = np.clip(row, 0.0, 1.0)
        vals[name] = row
    return vals
