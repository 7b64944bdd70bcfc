"""Checks across sheets, as named rules.

Each rule takes the ``Book`` (the sheets' records and what earlier rules read from them) and yields a
``Problem`` for everything wrong. ``CROSS_CHECKS`` runs them in order, the order in which problems are listed.
A ``read_`` rule also keeps what it read (ids, catalogue, workload by quarter, ...) on the book, for later rules
and for the Scenario. Checks that need a sheet that is missing are skipped: its absence is reported once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tcomodel.errors import Problem
from tcomodel.inputs.schema import COMMITMENT_TERMS_YEARS, FIRST_DATA_ROW
from tcomodel.kinds import KIND_SHEET_NAMES, KINDS, RESALE_KINDS, SELF_HOSTED_KINDS

Problems = Iterator[Problem]


@dataclass
class Book:
    """What the rules read: each table sheet's (record, parsed ok, row) triples, the Scenario sheet's settings,
    and what the read_ rules have read so far."""

    path: str
    tables: dict
    missing_sheets: set
    settings: Any = None  # Settings, or None when the Scenario sheet is incomplete
    scenario_cells: dict = field(default_factory=dict)  # Scenario key -> "Scenario!B7"
    baseline: str | None = None
    report_ccy: str | None = None
    hardware: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    hw_rows: dict = field(default_factory=dict)
    model_rows: dict = field(default_factory=dict)
    fx_rows: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    per_option: dict = field(default_factory=dict)  # kind-specific sheet -> option_id -> record
    workload: list = field(default_factory=list)
    util_seen: dict = field(default_factory=dict)  # (option_id, quarter) -> UtilizationRow
    utilization: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)  # hourly_profile, roles, staff, resale, pairs, benchmarks

    def records(self, sheet: str) -> list:
        return [rec for rec, ok, row in self.tables[sheet]]

    @property
    def quarters(self) -> list:
        s = self.settings
        return [s.first_quarter + i for i in range(s.horizon_quarters)]

    @property
    def fx(self) -> dict:
        """Currency -> report currency per unit; the report currency maps to 1."""
        fx = {self.report_ccy: 1.0} if self.report_ccy else {}
        for ccy, rec in self.fx_rows.items():
            if rec.rate_to_report_currency is not None:
                fx[ccy.upper()] = rec.rate_to_report_currency
        return fx

    def known_options(self) -> str:
        return ", ".join(self.options) or "(none)"


def _unique(rows, field_name: str):
    """Records by their id column, the first of each; yields a problem per repeat and returns the dict."""
    seen: dict[str, Any] = {}
    for rec, ok, row in rows:
        key = getattr(rec, field_name)
        if key is None:
            continue
        if key in seen:
            yield Problem.at(rec, field_name,
                             f"duplicate {field_name} '{key}' (first at {seen[key].cell(field_name)}); ids must be unique")
            continue
        seen[key] = rec
    return seen


def _row_ok(rows, rec) -> bool:
    for r, ok, _ in rows:
        if r is rec:
            return ok
    return True


# --------------------------------------------------------------------------------------------
# Ids, catalogue, settings, FX


def read_catalogue(book: Book) -> Problems:
    """The built-in catalogue merged with the Hardware and Models sheets, each row physically consistent."""
    from tcomodel.catalogue import HardwareSpec, ModelSpec, load_catalogue

    base_hw, base_models = load_catalogue()
    book.hw_rows = yield from _unique(book.tables["Hardware"], "hardware_id")
    book.model_rows = yield from _unique(book.tables["Models"], "model_id")
    book.hardware, book.models = dict(base_hw), dict(base_models)
    for hid, rec in book.hw_rows.items():
        try:
            book.hardware[hid] = HardwareSpec.from_row({k: v for k, v in rec.__dict__.items() if k != "cells"})
        except Exception as exc:  # spec constructors validate physical consistency
            yield Problem.at(rec, "hardware_id", f"hardware '{hid}' is inconsistent: {exc}")
    for mid, rec in book.model_rows.items():
        row = {k: v for k, v in rec.__dict__.items() if k != "cells"}
        if row.get("config_json"):
            from tcomodel.catalogue.hf_config import ModelConfigError, model_from_row

            try:
                book.models[mid] = model_from_row(row, Path(book.path).resolve().parent)
            except ModelConfigError as exc:
                yield Problem.at(rec, "config_json", f"config_json '{row['config_json']}': {exc}")
                book.models[mid] = None  # the row exists: references to it are not reported again (nothing is built)
            continue
        try:
            book.models[mid] = ModelSpec.from_row(row)
        except Exception as exc:
            yield Problem.at(rec, "model_id", f"model '{mid}' is inconsistent: {exc}")


def read_ids(book: Book) -> Problems:
    """FX currencies, option ids and the kind-specific sheets' option ids, each unique on its sheet."""
    book.fx_rows = yield from _unique(book.tables["FX"], "currency")
    book.options = yield from _unique(book.tables["Options"], "option_id")
    book.per_option = {}
    for name in KIND_SHEET_NAMES:
        book.per_option[name] = yield from _unique(book.tables[name], "option_id")


def baseline_is_an_option(book: Book) -> Problems:
    if book.baseline is not None and book.baseline not in book.options and "Options" not in book.missing_sheets:
        yield Problem("Scenario", book.scenario_cells["baseline_option"].partition("!")[2],
                      f"baseline_option '{book.baseline}' is not an option_id on sheet Options; known: "
                      f"{book.known_options()}")


def fiscal_year_whole_quarters(book: Book) -> Problems:
    """A budget year holds whole quarters: it starts in a quarter's first month (1, 4, 7 or 10)."""
    s = book.settings
    if s is None or (s.fiscal_year_start_month - 1) % 3 == 0:
        return
    cell = book.scenario_cells.get("fiscal_year_start_month", "Scenario!").partition("!")[2] or None
    yield Problem("Scenario", cell,
                  f"fiscal_year_start_month {s.fiscal_year_start_month} is not the first month of a quarter: a budget "
                  "year must hold whole quarters (quarters start in months 1, 4, 7 and 10); use 1 for the calendar "
                  "year, or 4, 7 or 10")


def fx_report_currency_is_one(book: Book) -> Problems:
    ccy = book.report_ccy
    if ccy and ccy in {c.upper() for c in book.fx_rows} and book.fx_rows.get(ccy) is not None:
        rec = book.fx_rows[ccy]
        if rec.rate_to_report_currency is not None and abs(rec.rate_to_report_currency - 1.0) > 1e-12:
            yield Problem.at(rec, "rate_to_report_currency",
                             f"the report currency {ccy} must have rate 1 (or no row), not {rec.rate_to_report_currency:g}")


def fx_coverage(book: Book) -> Problems:
    """Every currency used anywhere has an FX rate."""
    if not book.report_ccy:
        return
    fx = book.fx
    for sheet_name in KIND_SHEET_NAMES + ("Roles",):
        for rec in book.records(sheet_name):
            if rec.currency is not None and rec.currency.upper() not in fx:
                yield Problem.at(rec, "currency", f"currency '{rec.currency}' has no FX rate; add a row to sheet FX "
                                 f"or use one of {', '.join(sorted(fx))}")


# --------------------------------------------------------------------------------------------
# Options and their kind-specific rows


def _catalogue_refs(book: Book, rec) -> Problems:
    """hardware_id and model_id must name a row of the Hardware/Models sheets or the built-in catalogue."""
    for fname, known, where in (("hardware_id", book.hardware, "Hardware"), ("model_id", book.models, "Models")):
        value = getattr(rec, fname)
        if value is not None and value not in known:
            yield Problem.at(rec, fname, f"{fname} '{value}' is not on sheet {where} nor in the built-in catalogue; "
                             f"known: {', '.join(sorted(known))}")


def _self_hosted_fields(book: Book, oid: str, rec) -> Problems:
    if rec.kind in SELF_HOSTED_KINDS:
        for fname in ("hardware_id", "model_id", "precision"):
            if getattr(rec, fname) is None and rec.cell(fname) and _row_ok(book.tables["Options"], rec):
                yield Problem.at(rec, fname, f"{fname} is required for a {rec.kind} option")


def _kind_sheets(book: Book, oid: str, rec) -> Problems:
    if rec.kind is not None:
        for sheet_name in KINDS[rec.kind].sheets:
            if oid not in book.per_option[sheet_name] and sheet_name not in book.missing_sheets:
                yield Problem(sheet_name, None, f"option '{oid}' is of kind {rec.kind} and needs a row on sheet "
                              f"{sheet_name} (option_id {oid})")


def _api_spares(book: Book, oid: str, rec) -> Problems:
    if rec.kind == "hosted_api" and rec.redundancy_replicas:
        yield Problem.at(rec, "redundancy_replicas",
                         f"option '{oid}' is a hosted API: the provider runs its spares; leave redundancy_replicas blank")


def _start_in_timeline(book: Book, oid: str, rec) -> Problems:
    s = book.settings
    if rec.start_quarter is not None and s is not None:
        last = s.first_quarter + (s.horizon_quarters - 1)
        if not s.first_quarter <= rec.start_quarter <= last:
            yield Problem.at(rec, "start_quarter",
                             f"start_quarter {rec.start_quarter} is outside the timeline {s.first_quarter}..{last}")


OPTION_CHECKS = (
    lambda book, oid, rec: _catalogue_refs(book, rec),
    _self_hosted_fields,
    _kind_sheets,
    _api_spares,
    _start_in_timeline,
)


def option_rows(book: Book) -> Problems:
    """Each Options row: catalogue references, the fields and sheets its kind needs, its start quarter."""
    for oid, rec in book.options.items():
        for check in OPTION_CHECKS:
            yield from check(book, oid, rec)


def kind_sheet_rows(book: Book) -> Problems:
    """A row on a kind-specific sheet names a known option of a kind that sheet applies to."""
    for sheet_name, rows in book.per_option.items():
        for oid, rec in rows.items():
            opt = book.options.get(oid)
            if opt is None:
                yield Problem.at(rec, "option_id", f"option_id '{oid}' is not on sheet Options; known: "
                                 f"{book.known_options()}")
            elif opt.kind is not None and sheet_name not in KINDS[opt.kind].allowed_sheets:
                yield Problem.at(rec, "option_id", f"option '{oid}' is of kind {opt.kind}; sheet {sheet_name} does "
                                 "not apply to it")


def opex_fields_of_kind(book: Book) -> Problems:
    for oid, rec in book.per_option["Opex"].items():
        opt = book.options.get(oid)
        if opt is not None and opt.kind is not None:
            for fname in KINDS[opt.kind].opex_fields_required:
                if getattr(rec, fname) is None:
                    yield Problem.at(rec, fname, f"{fname} is required for {opt.kind} option '{oid}'")


def cloud_reservations(book: Book) -> Problems:
    """Reservations are whole replicas for a 1- or 3-year term that ends within the horizon."""
    for oid, rec in book.per_option["CloudRates"].items():
        reserved = rec.reserved_replicas or 0
        term = rec.commitment_term_years
        if term is not None and term not in COMMITMENT_TERMS_YEARS:
            yield Problem.at(rec, "commitment_term_years", f"commitment_term_years {term} is not a term cloud providers "
                             f"sell; use one of {', '.join(map(str, COMMITMENT_TERMS_YEARS))}")
            term = None
        if rec.upfront == "partial" and rec.upfront_share is None:
            yield Problem.at(rec, "upfront_share", "upfront is partial: give upfront_share, the share of the term's "
                             "reserved cost paid at the term's start")
        if rec.upfront_share is not None and rec.upfront != "partial":
            yield Problem.at(rec, "upfront_share", f"upfront_share applies only with upfront partial (upfront is "
                             f"{rec.upfront or 'blank = none'}); clear it or set upfront to partial")
        if reserved <= 0:
            continue
        if rec.reserved_per_gpu_hour is None:
            yield Problem.at(rec, "reserved_per_gpu_hour", f"reserved_replicas is {reserved}: give the reserved rate "
                             "(the effective hourly rate of the term and payment option)")
        if rec.commitment_term_years is None:
            yield Problem.at(rec, "commitment_term_years", f"reserved_replicas is {reserved}: give the commitment "
                             "term (1 or 3 years)")
        if book.settings is not None and term is not None:
            yield from _reservation_in_horizon(book, oid, rec, term)


def _reservation_in_horizon(book: Book, oid: str, rec, term: int) -> Problems:
    n, first = book.settings.horizon_quarters, book.settings.first_quarter
    last = first + (n - 1)
    term_q = term * 4
    years = f"{term} year" + ("s" if term != 1 else "")
    if term_q > n:
        yield Problem.at(rec, "commitment_term_years", f"commitment term {years} ({term_q} quarters) is longer "
                         f"than the horizon ({n} quarters, {first}..{last}); a commitment cannot run past the horizon "
                         "end: use a shorter term or no reservation")
        return
    start = rec.reservation_start_quarter
    opt = book.options.get(oid)
    serves = opt.start_quarter if opt is not None and opt.start_quarter is not None else first
    if start is None:
        start = serves
        where, what = "commitment_term_years", f"the option's first quarter served {start}"
    else:
        where, what = "reservation_start_quarter", f"reservation_start_quarter {start}"
        if not first <= start <= last:
            yield Problem.at(rec, where, f"reservation_start_quarter {start} is outside the timeline {first}..{last}")
            return
        if start < serves:  # paid with no tokens to carry it, and before the switch's saving is counted
            yield Problem.at(rec, where, f"reservation_start_quarter {start} is before {oid} serves (start_quarter "
                             f"{serves} at {opt.cell('start_quarter')}); a reservation is paid for serving: start it "
                             f"in {serves} or later")
            return
    latest = last + (1 - term_q)
    if start + (term_q - 1) > last:
        fix = (f"start the reservation by {latest} or use a shorter term" if latest >= serves else
               f"from {serves}, when {oid} starts serving, no {term}-year term fits: use a shorter term or no reservation")
        yield Problem.at(rec, where, f"a {term}-year term from {what} would end {start + (term_q - 1)}, after the "
                         f"horizon ends {last}; {fix}")


# --------------------------------------------------------------------------------------------
# Workload, utilization, claims, ranges


def read_workload(book: Book) -> Problems:
    """The Workload sheet covers the horizon exactly once per quarter."""
    if book.settings is None:
        return
    quarters = book.quarters
    by_q: dict = {}
    for rec in book.records("Workload"):
        if rec.quarter is None:
            continue
        if rec.quarter in by_q:
            yield Problem.at(rec, "quarter", f"quarter {rec.quarter} appears twice (first at "
                             f"{by_q[rec.quarter].cell('quarter')})")
            continue
        by_q[rec.quarter] = rec
    missing_q = [q for q in quarters if q not in by_q]
    if missing_q and "Workload" not in book.missing_sheets:
        shown = ", ".join(str(q) for q in missing_q[:8]) + (" ..." if len(missing_q) > 8 else "")
        yield Problem("Workload", f"A{FIRST_DATA_ROW}", f"no row for quarter(s) {shown}; every quarter "
                      f"{quarters[0]}..{quarters[-1]} of the horizon needs one")
    book.workload = [by_q[q] for q in quarters if q in by_q]


def read_utilization(book: Book) -> Problems:
    """Utilization rows: one per option and quarter, of a known option."""
    for rec in book.records("Utilization"):
        if rec.option_id is None or rec.quarter is None:
            continue
        key = (rec.option_id, rec.quarter)
        if key in book.util_seen:
            yield Problem.at(rec, "quarter", f"option {rec.option_id} quarter {rec.quarter} appears twice (first at "
                             f"{book.util_seen[key].cell('quarter')})")
            continue
        book.util_seen[key] = rec
        if rec.option_id not in book.options:
            yield Problem.at(rec, "option_id", f"option_id '{rec.option_id}' is not on sheet Options; known: "
                             f"{book.known_options()}")


def read_ramps(book: Book) -> Problems:
    """An option with load_basis utilization has a Utilization row for every quarter (hosted APIs cannot)."""
    if book.settings is None:
        return
    quarters = book.quarters
    for oid, rec in book.options.items():
        if rec.load_basis != "utilization":
            continue
        if rec.kind == "hosted_api":
            yield Problem.at(rec, "load_basis", f"option '{oid}' is a hosted API: its load is the workload; "
                             "load_basis must be workload")
            continue
        ramp = [book.util_seen.get((oid, q)) for q in quarters]
        missing_q = [str(q) for q, r in zip(quarters, ramp) if r is None]
        if missing_q:
            yield Problem("Utilization", None, f"option '{oid}' has load_basis utilization but no Utilization row "
                          f"for quarter(s) {', '.join(missing_q[:8])}{' ...' if len(missing_q) > 8 else ''}")
        else:
            book.utilization[oid] = [r.utilization for r in ramp]


def claims_refer_to_catalogue(book: Book) -> Problems:
    yield from _unique(book.tables["Claims"], "claim_id")
    for rec in book.records("Claims"):
        yield from _catalogue_refs(book, rec)
        if rec.precision is None and rec.bits_per_weight is None and rec.claimed_tok_s is not None:
            yield Problem.at(rec, "precision", "give a precision or bits_per_weight")


def ranges_low_below_high(book: Book) -> Problems:
    for rec in book.records("Ranges"):
        if rec.low is not None and rec.high is not None and rec.low > rec.high:
            yield Problem.at(rec, "low", f"low {rec.low:g} is above high {rec.high:g}")


# --------------------------------------------------------------------------------------------
# Demand shape, staff, resale curves, switching pairs


def read_hourly_profile(book: Book) -> Problems:
    """An hourly profile has one row per hour 0-23 and its shares sum to 1."""
    profile_rows = book.records("HourlyProfile")
    profile = sorted((r for r in profile_rows if r.hour is not None), key=lambda r: r.hour)
    book.extras["hourly_profile"] = profile if profile_rows else []
    if not profile_rows:
        return
    seen = set()
    for r in profile:
        if r.hour in seen:
            yield Problem.at(r, "hour", f"hour {r.hour} appears twice")
        seen.add(r.hour)
    if sorted(seen) != list(range(24)):
        missing = [h for h in range(24) if h not in seen]
        yield Problem("HourlyProfile", f"A{FIRST_DATA_ROW}", f"the profile needs one row for each hour 0-23; "
                      f"missing: {', '.join(map(str, missing))}")
    total = sum(r.share_of_daily_requests or 0.0 for r in profile)
    if abs(total - 1.0) > 1e-6 and profile:
        last = profile[-1].cell("share_of_daily_requests").partition("!")[2]
        yield Problem("HourlyProfile", f"{last[0]}{FIRST_DATA_ROW}:{last}", f"the hourly shares sum to {total:.6g}, "
                      "not 1; each share is the hour's part of a working day's requests")


_SHAPE_COLUMNS = ("working_days_per_week", "busy_hours_per_day", "intra_hour_peak_factor")


def demand_shape(book: Book) -> Problems:
    """Per quarter either peak_to_average or the shape columns; one way for the whole horizon."""
    has_profile = bool(book.records("HourlyProfile"))
    modes = set()
    for w in book.workload:
        has_ratio = w.peak_to_average is not None
        has_shape = any(getattr(w, c) is not None for c in _SHAPE_COLUMNS)
        if has_ratio and has_shape:
            col = next(c for c in _SHAPE_COLUMNS if getattr(w, c) is not None)
            yield Problem.at(w, col, f"quarter {w.quarter} gives both peak_to_average and the demand shape ({col}); "
                             "give one of them")
            continue
        if not has_ratio and not has_shape:
            yield Problem.at(w, "peak_to_average", f"quarter {w.quarter} needs peak_to_average or the demand shape "
                             "columns (working_days_per_week, intra_hour_peak_factor and busy_hours_per_day or the "
                             "HourlyProfile sheet)")
            continue
        modes.add("shape" if has_shape else "ratio")
        if has_shape:
            yield from _shape_columns(w, has_profile)
    if len(modes) > 1:
        yield Problem("Workload", f"A{FIRST_DATA_ROW}", "some quarters give peak_to_average and others the demand "
                      "shape; use one way for the whole horizon")
    elif modes == {"ratio"} and has_profile:  # the profile would be silently ignored
        w = next(w for w in book.workload if w.peak_to_average is not None)
        yield Problem.at(w, "peak_to_average", "peak_to_average and the HourlyProfile sheet both give the peak; "
                         "leave peak_to_average blank (give working_days_per_week and intra_hour_peak_factor) or "
                         "remove the profile rows")


def _shape_columns(w, has_profile: bool) -> Problems:
    for c in ("working_days_per_week", "intra_hour_peak_factor"):
        if getattr(w, c) is None:
            yield Problem.at(w, c, f"{c} is needed with the demand shape (quarter {w.quarter})")
    if has_profile and w.busy_hours_per_day is not None:
        yield Problem.at(w, "busy_hours_per_day", "busy_hours_per_day and the HourlyProfile sheet both give the "
                         "day's shape; leave busy_hours_per_day blank or remove the profile")
    if not has_profile and w.busy_hours_per_day is None:
        yield Problem.at(w, "busy_hours_per_day", f"busy_hours_per_day is needed (quarter {w.quarter}), or an "
                         "HourlyProfile sheet")


def read_staff(book: Book) -> Problems:
    """Roles are unique; each Staff row names a known option and role, once per pair."""
    roles = yield from _unique(book.tables["Roles"], "role")
    staff: dict[str, list] = {}
    seen_pairs: dict[tuple, Any] = {}
    for rec, ok, row in book.tables["Staff"]:
        if rec.option_id is not None and rec.option_id not in book.options:
            yield Problem.at(rec, "option_id", f"option_id '{rec.option_id}' is not on sheet Options; known: "
                             f"{book.known_options()}")
            continue
        if rec.role is not None and rec.role not in roles:
            yield Problem.at(rec, "role", f"role '{rec.role}' is not on sheet Roles; known: {', '.join(roles) or '(none)'}")
            continue
        key = (rec.option_id, rec.role)
        if key in seen_pairs:
            yield Problem.at(rec, "role", f"option {rec.option_id} role {rec.role} appears twice (first at "
                             f"{seen_pairs[key].cell('role')})")
            continue
        seen_pairs[key] = rec
        if ok and rec.option_id is not None:
            staff.setdefault(rec.option_id, []).append(rec)
    book.extras.update(roles=roles, staff=staff)


def read_resale(book: Book) -> Problems:
    """Resale curves belong to kinds that own hardware; shares never rise with age."""
    resale: dict[str, list] = {}
    for rec, ok, row in book.tables["Resale"]:
        opt = book.options.get(rec.option_id)
        if rec.option_id is not None and opt is None:
            yield Problem.at(rec, "option_id", f"option_id '{rec.option_id}' is not on sheet Options")
            continue
        if opt is not None and opt.kind not in RESALE_KINDS:
            yield Problem.at(rec, "option_id", f"option '{rec.option_id}' is of kind {opt.kind}; a resale curve "
                             "applies to owned hardware only")
            continue
        if ok and rec.option_id is not None and rec.age_years is not None and rec.resale_share is not None:
            resale.setdefault(rec.option_id, []).append(rec)
    for oid, recs in resale.items():
        recs.sort(key=lambda r: r.age_years)
        for a, b in zip(recs, recs[1:]):
            if b.age_years == a.age_years:
                yield Problem.at(b, "age_years", f"age {b.age_years:g} years appears twice for option {oid} "
                                 f"(first at {a.cell('age_years')})")
            elif b.resale_share > a.resale_share + 1e-12:
                yield Problem.at(b, "resale_share", f"the resale curve of {oid} rises with age: {b.resale_share:.0%} "
                                 f"at {b.age_years:g} years is above {a.resale_share:.0%} at {a.age_years:g} years "
                                 f"({a.cell('resale_share')}); a used server is not worth more when older")
    book.extras["resale"] = resale


def read_pairs(book: Book) -> Problems:
    """Switching pairs name two different known options."""
    pairs = []
    for rec, ok, row in book.tables["Pairs"]:
        bad = False
        for f in ("from_option_id", "to_option_id"):
            v = getattr(rec, f)
            if v is not None and v not in book.options:
                yield Problem.at(rec, f, f"{f} '{v}' is not on sheet Options; known: {book.known_options()}")
                bad = True
        if not bad and rec.from_option_id is not None and rec.from_option_id == rec.to_option_id:
            yield Problem.at(rec, "to_option_id", "an option cannot be switched to itself")
            bad = True
        if not bad and ok and rec.from_option_id and rec.to_option_id:
            pairs.append(rec)
    book.extras["pairs"] = pairs


# --------------------------------------------------------------------------------------------
# Measured capacity, API prices, quality


def read_benchmarks(book: Book) -> Problems:
    """Measured capacity files named on the Options sheet, read and checked now (validate = build)."""
    from tcomodel.inputs.benchmark import BenchmarkFileError, read_bench_result

    found = {}
    for oid, rec in book.options.items():
        name = rec.benchmark_result_file
        if not name:
            continue
        if rec.measured_output_tok_s_per_replica is not None:
            yield Problem.at(rec, "benchmark_result_file", f"option '{oid}' gives both "
                             "measured_output_tok_s_per_replica and benchmark_result_file; keep one")
            continue
        if rec.kind not in SELF_HOSTED_KINDS:
            yield Problem.at(rec, "benchmark_result_file", f"option '{oid}' is a hosted API: a measured capacity "
                             "applies to self-hosted kinds only")
            continue
        p = Path(name)
        if not p.is_absolute():
            p = Path(book.path).resolve().parent / p
        try:
            found[oid] = read_bench_result(p)
        except BenchmarkFileError as exc:
            yield Problem.at(rec, "benchmark_result_file", f"option '{oid}': {exc}")
    book.extras["benchmarks"] = found


def api_prompt_caching(book: Book) -> Problems:
    """Prompt caching is stated explicitly, with its prices where there is caching and none where there is not."""
    for oid, rec in book.per_option["ApiPrices"].items():
        caching = rec.prompt_caching
        if caching == "yes":
            if rec.cached_input_per_mtok is None:
                yield Problem.at(
                    rec, "cached_input_per_mtok", or_field="prompt_caching", message=(
                        f"cached_input_per_mtok is blank but prompt_caching is yes ({rec.cell('prompt_caching')}); "
                        f"give {rec.provider or 'the provider'}'s price for input read from the cache, or write no in "
                        "prompt_caching if the provider has no prompt caching (cache hits are then billed at the "
                        "input price)"))
            if rec.cache_write_per_mtok is None:
                price = f" ({rec.input_per_mtok:g})" if rec.input_per_mtok is not None else ""
                yield Problem.at(
                    rec, "cache_write_per_mtok", or_field="prompt_caching", message=(
                        f"cache_write_per_mtok is blank but prompt_caching is yes ({rec.cell('prompt_caching')}); "
                        f"give the price of input written to the cache: the input price{price} where the provider "
                        "does not charge writes extra, more where it does (Anthropic: 1.25 x input)"))
        elif caching == "no":
            for f in ("cached_input_per_mtok", "cache_write_per_mtok"):
                if getattr(rec, f) is not None:
                    yield Problem.at(rec, f, f"{f} is {getattr(rec, f):g} but prompt_caching is no "
                                     f"({rec.cell('prompt_caching')}); with no caching every input token is billed at "
                                     "the input price: leave it blank, or write yes in prompt_caching")


def quality_scores(book: Book) -> Problems:
    """A quality score names its benchmark and the variant served, and beats its chance level."""
    for oid, rec in book.options.items():
        score = rec.quality_score
        if score is None:
            continue
        for f, what in (("quality_benchmark", "the benchmark the score is from, e.g. GPQA Diamond"),
                        ("quality_model_variant", "the exact model variant it was measured on, which must be "
                                                  "the one served")):
            if getattr(rec, f) is None:
                missing_col = "!" not in rec.cell(f)
                yield Problem.at(rec, f, or_field="quality_score", message=(
                    f"{f} is needed with quality_score {score:g} ({rec.cell('quality_score')})"
                    f"{' (add the column ' + f + ')' if missing_col else ''}: name {what}"))
        chance = rec.quality_chance_level
        if chance is not None and chance >= score:
            yield Problem.at(rec, "quality_chance_level", f"quality_chance_level {chance:g} is not below quality_score "
                             f"{score:g} ({rec.cell('quality_score')}); the quality-adjusted cost needs a score above "
                             "what random guessing gets")


CROSS_CHECKS = (
    read_catalogue,
    read_ids,
    baseline_is_an_option,
    fiscal_year_whole_quarters,
    fx_report_currency_is_one,
    fx_coverage,
    option_rows,
    kind_sheet_rows,
    opex_fields_of_kind,
    cloud_reservations,
    read_workload,
    read_utilization,
    read_ramps,
    claims_refer_to_catalogue,
    ranges_low_below_high,
    read_hourly_profile,
    demand_shape,
    read_staff,
    read_resale,
    read_pairs,
    read_benchmarks,
    api_prompt_caching,
    quality_scores,
)
