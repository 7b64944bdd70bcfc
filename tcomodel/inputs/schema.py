"""The scenario workbook format, declared once.

The loader, the template writer, the README tables and the validation all read these specs, so a
field's type, unit and allowed range are stated in exactly one place.

Layout of every table sheet: row 1 holds the field names (machine keys, do not rename), row 2 the
units, data from row 3 down. The Scenario sheet is key | value | unit | source | description,
one setting per row from row 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tcomodel.kinds import OPTION_KINDS, SELF_HOSTED_KINDS, kind_description  # noqa: F401  (re-exported)

LOAD_BASES = ("workload", "utilization")
DEPRECIATION_METHODS = ("straight_line", "declining_balance", "sum_of_years")
ENGINES = ("vllm", "trtllm", "sglang", "llamacpp", "ideal")
DISTRIBUTIONS = ("triangular", "uniform")
# Weight precisions; kept in step with tcomodel.roofline's table (a test pins that).
PRECISIONS = ("bf16", "fp16", "fp8", "int8", "nvfp4", "nvfp4-modelopt", "mxfp4", "int4", "q4_0", "q4_k_m", "q8_0")
KV_PRECISIONS = ("bf16", "fp16", "fp8", "int8", "nvfp4")

HEADER_ROW = 1
UNITS_ROW = 2
FIRST_DATA_ROW = 3
# Bounded work: a sheet is refused from its size alone, before its cells are read. Generous for any real
# scenario (the shipped one has under 30 rows per sheet), small enough that loading stays well under 500 MB.
MAX_ROWS_PER_SHEET = 5_000
MAX_CELLS_PER_WORKBOOK = 500_000


@dataclass(frozen=True)
class Field:
    """One column of a table sheet (or one key of the Scenario sheet).

    kind: id | text | number | integer | share | quarter | date | choice | ref
    - share: a fraction in [0, 1]; 25% formatted and 0.25 are the same value, "25%" text is accepted.
    - ref: an id that must exist on sheet ``ref`` (column ``ref_field``).
    """

    name: str
    kind: str
    unit: str = ""
    required: bool = True
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None
    description: str = ""
    default: object = None  # value of an optional field left blank (Scenario keys; documented in the README)

    @property
    def unit_label(self) -> str:
        """What row 2 of a table sheet shows above this column."""
        return self.unit or ("text" if self.kind in ("text", "choice") else self.kind)

    def allowed(self) -> str:
        """A short human statement of what the field accepts, for error messages and docs."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "share":
            return "a share between 0 and 1 (0.25 or 25%)"
        if self.kind == "quarter":
            return "a quarter written YYYYQn, e.g. 2026Q1"
        if self.kind == "date":
            return "a date (YYYY-MM-DD)"
        if self.kind == "ref":
            return f"an id listed on sheet {self.ref}"
        if self.kind == "id":
            return "an id of lowercase letters, digits, '-', '_' or '.'"
        if self.kind in ("number", "integer"):
            word = "a whole number" if self.kind == "integer" else "a number"
            if self.min is not None and self.max is not None:
                return f"{word} from {_fmt(self.min)} to {_fmt(self.max)} (both included)"
            if self.min is not None:
                return f"{word} of at least {_fmt(self.min)}"
            if self.max is not None:
                return f"{word} of at most {_fmt(self.max)}"
            return word
        return "text"


def _fmt(x: float) -> str:
    x = float(x)
    return f"{x:,.0f}" if x == int(x) and abs(x) < 1e15 else f"{x:g}"


@dataclass(frozen=True)
class SheetSpec:
    name: str
    fields: tuple[Field, ...]
    description: str
    required: bool = True
    key_value: bool = False  # the Scenario sheet
    id_field: str | None = None  # unique per row
    per_quarter: bool = False  # rows keyed by quarter (Workload)
    unique_together: tuple[str, ...] = ()  # e.g. (option_id, quarter) on Utilization
    fill_from: str | None = None  # a filled cell of this column supplies the row's blank cells (Models: config_json)
    max_rows: int = MAX_ROWS_PER_SHEET  # rows the loader accepts (header and units included); checked before reading


    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


# Plausibility bounds: the largest value a field of this unit may take when its spec gives none. Generous (money
# in any currency, VND or IDR included; volumes far beyond any single organisation) but finite, so that every
# product the model forms stays far from float overflow and a mistyped exponent is caught at its cell.
UNIT_MAX = {
    "currency": 1e12,
    "currency/month": 1e11,
    "currency/hour": 1e9,
    "currency/GPU-h": 1e9,
    "currency/Mtok": 1e9,
    "currency/kWh": 1e6,
    "report currency per unit": 1e9,
    "requests/quarter": 1e15,
    "tokens": 1e8,
    "tok/s": 1e9,
    "kW": 1e4,
    "months": 120,
    "s": 86_400,
    "hours/month": 1e6,
    "hours": 1e7,
    "replicas": 10_000,
}


def N(name, unit, description, *, min=0.0, max=None, required=True):
    return Field(name, "number", unit, required, min, UNIT_MAX.get(unit) if max is None else max,
                 description=description)


def I(name, unit, description, *, min=0, max=None, required=True):
    return Field(name, "integer", unit, required, min, UNIT_MAX.get(unit) if max is None else max,
                 description=description)


def S(name, description, *, required=True):
    return Field(name, "share", "share", required, 0.0, 1.0, description=description)


def T(name, description, *, required=True, unit=""):
    return Field(name, "text", unit, required, description=description)


def C(name, choices, description, *, required=True):
    return Field(name, "choice", "", required, choices=tuple(choices), description=description)


def R(name, ref, description, *, required=True):
    return Field(name, "ref", "id", required, ref=ref, description=description)


SOURCE = Field("source", "text", "", True, description="Where the value comes from (URL, document, or 'assumption: why')")
CURRENCY = Field("currency", "text", "ISO 4217", True, description="Currency of the money amounts on this row; needs an FX rate")

SCENARIO = SheetSpec(
    "Scenario",
    (
        T("scenario_name", "Name of the scenario; used in the report file name"),
        T("report_currency", "Currency the report is stated in (ISO 4217, e.g. DKK)", unit="ISO 4217"),
        Field("first_quarter", "quarter", "quarter", True, description="First quarter of the timeline"),
        I("horizon_quarters", "quarters", "Length of the timeline", min=1, max=200),
        N("discount_rate_annual", "per year", "Nominal discount rate for PV, NPV and levelized cost", min=0.0, max=1.0),
        R("baseline_option", "Options", "Option the NPV, IRR and payback of every other option are measured against"),
        S("tax_rate", "Corporate tax rate applied to the savings of switching (0 for a tax-exempt public body)"),
        N("inflation_annual", "per year", "General inflation; reported for reference, escalation is set per line", min=-0.5, max=1.0),
        Field("price_max_age_months", "integer", "months", False, 1, 120, default=6,
              description="Prices (ApiPrices, CloudRates, Rental, FX as_of) older than this at build time give a warning and a "
                          "row on the Checks sheet; blank = 6"),
        Field("capex_paid_at", "choice", "", False, choices=("start", "end"), default="start",
              description="When capex is paid within the quarter its hardware enters service: start (default) or end; "
                          "present values discount it accordingly"),
        Field("fiscal_year_start_month", "integer", "month", False, 1, 12, default=1,
              description="First month of the budget year that the Annual sheet and the JSON's annual roll-ups sum "
                          "quarters into: 1 = calendar year (default; Danish municipalities budget by calendar year), "
                          "4, 7 or 10 = a fiscal year starting with that quarter (a year holds whole quarters)"),
    ),
    "Scenario settings: one per row, key | value | unit | source | description.",
    key_value=True,
)

FX = SheetSpec(
    "FX",
    (
        Field("currency", "text", "ISO 4217", True, description="Currency code"),
        N("rate_to_report_currency", "report currency per unit", "How many units of the report currency one unit of this currency buys", min=1e-9),
        Field("as_of", "date", "date", True, description="Date of the rate"),
        SOURCE,
    ),
    "Exchange rates into the report currency. The report currency itself needs no row (rate 1).",
    id_field="currency",
)

OPTIONS = SheetSpec(
    "Options",
    (
        Field("option_id", "id", "id", True, description="Unique id of the option, e.g. aarhusai"),
        T("label", "Readable name for the report"),
        C("kind", OPTION_KINDS, kind_description()),
        R("hardware_id", "Hardware", "Accelerator (self-hosted kinds)", required=False),
        R("model_id", "Models", "Model served (self-hosted kinds; optional for hosted APIs)", required=False),
        C("precision", PRECISIONS, "Weight precision (self-hosted kinds)", required=False),
        C("kv_precision", KV_PRECISIONS, "KV-cache precision; blank = bf16", required=False),
        C("engine", ENGINES, "Serving engine profile for the efficiency factors; blank = vllm", required=False),
        I("gpus_per_replica", "GPUs", "GPUs in one serving replica (tensor-parallel group); blank = 1", min=1, max=1024, required=False),
        C("load_basis", LOAD_BASES, "workload: serve the Workload sheet, utilization follows; utilization: tokens follow the Utilization sheet"),
        N("measured_output_tok_s_per_replica", "tok/s", "Measured output throughput of one replica; overrides the roofline estimate", min=0.001, required=False),
        T("benchmark_result_file", "A `vllm bench serve --save-result` JSON measured on one replica (path relative to this workbook); its output_throughput overrides the roofline estimate", required=False, unit="path"),
        N("quality_score", "score 0-100", "Benchmark score or task success rate of the variant served, for the quality-adjusted cost; needs quality_benchmark and quality_model_variant", max=100.0, required=False),
        T("quality_benchmark", "Benchmark the quality_score is from, e.g. GPQA Diamond; required with a score", required=False),
        T("quality_model_variant", "Exact model variant the score was measured on, which must be the one served (e.g. Qwen3-Next-80B-A3B-Instruct, not the Thinking variant); required with a score", required=False),
        N("quality_chance_level", "score 0-100", "Score a random guesser gets on the benchmark (25 for 4-choice GPQA); the adjusted cost uses the score above it; blank = 0", max=100.0, required=False),
        N("reasoning_tokens_per_request", "tokens", "Reasoning (thinking) tokens generated per request besides the delivered output: billed as output by hosted APIs, decoded by self-hosted fleets; blank = 0", required=False),
        Field("start_quarter", "quarter", "quarter", False, description="First quarter the option serves; blank = first quarter"),
        I("redundancy_replicas", "replicas", "Spare replicas kept beyond those the peak needs (N+k: k); self-hosted kinds; blank = 0", max=100, required=False),
        SOURCE,
    ),
    "One row per option to compare. Kind-specific costs live on Capex, Opex, Rental, CloudRates and ApiPrices, keyed by option_id.",
    id_field="option_id",
)

CAPEX = SheetSpec(
    "Capex",
    (
        R("option_id", "Options", "Owned option this capital cost belongs to"),
        N("server_cost_per_replica", "currency", "Server chassis, CPUs, RAM, storage for one replica"),
        N("gpu_cost_per_replica", "currency", "All GPUs of one replica"),
        N("network_cost_per_replica", "currency", "Network share per replica", required=False),
        N("install_cost_per_replica", "currency", "Installation and commissioning per replica", required=False),
        C("depreciation_method", DEPRECIATION_METHODS, "Book depreciation method"),
        N("book_life_years", "years", "Depreciation life", min=0.25, max=30),
        N("economic_life_years", "years", "When the hardware is retired (sold at its market value from the Resale sheet, the book value written off) and replaced; blank = kept in service to the horizon end", min=0.25, max=30, required=False),
        S("salvage_share", "Book salvage value at the end of the book life, as a share of cost (accounting estimate; cash uses the Resale sheet)"),
        CURRENCY,
        SOURCE,
    ),
    "Capital cost per replica of owned options and how it is depreciated.",
    id_field="option_id",
)

OPEX = SheetSpec(
    "Opex",
    (
        R("option_id", "Options", "Option these running costs belong to"),
        N("power_kw_per_replica", "kW", "IT power draw of one replica at full load (owned)", required=False),
        S("load_factor", "Average draw as a share of full-load power (owned)", required=False),
        N("pue", "ratio", "Power usage effectiveness of the site (owned); 1.0 to 3.0", min=1.0, max=3.0, required=False),
        N("power_price_per_kwh", "currency/kWh", "Electricity price (owned)", required=False),
        N("power_escalation_annual", "per year", "Annual change of the electricity price", min=-0.5, max=1.0, required=False),
        N("hosting_per_replica_per_month", "currency/month", "Colocation / rack space per replica (owned)", required=False),
        N("maintenance_share_of_capex_annual", "per year", "Maintenance contract as a share of capex per year (owned)", max=1.0, required=False),
        N("staff_per_month", "currency/month", "Operations staff as a flat monthly amount (older workbooks); prefer hours x rate on the Staff sheet", required=False),
        N("licences_per_month", "currency/month", "Software licences and support", required=False),
        N("other_escalation_annual", "per year", "Annual change of hosting, staff, maintenance and licences", min=-0.5, max=1.0, required=False),
        CURRENCY,
        SOURCE,
    ),
    "Running costs per option (power and hosting apply to owned hardware; staff and licences to any self-hosted option).",
    id_field="option_id",
)

RENTAL = SheetSpec(
    "Rental",
    (
        R("option_id", "Options", "Rented-server option"),
        N("fee_per_replica_per_month", "currency/month", "Monthly fee for one server (one replica), ex VAT, in the row's currency"),
        N("setup_fee_per_replica", "currency", "One-off setup fee per server added to the contract, ex VAT", required=False),
        S("vat_rate", "VAT on the fee and setup fee, charged on the invoice or self-assessed under reverse charge "
                      "(0.25 = Danish VAT); blank = 0", required=False),
        S("vat_unrecoverable_share", "Share of that VAT the organisation cannot deduct or get refunded; blank = 0",
          required=False),
        N("minimum_term_months", "months", "Minimum term of each server from the quarter it is added; blank = 0 "
                                           "(billed by the hour). Sets the number of contract rows", required=False),
        N("notice_months", "months", "Notice period: a server no longer needed is paid this many months more; "
                                     "blank = 0. Sets the number of contract rows", required=False),
        N("fee_escalation_annual", "per year", "Annual change of the fee", min=-0.5, max=1.0, required=False),
        Field("fee_is_assumption", "choice", "", False, choices=("yes", "no"), description="yes when the fee is not known and is an assumption (the Breakeven sheet solves for it)"),
        Field("as_of", "date", "date", False, description="Date of the price quote or list price; older than price_max_age_months gives a warning; blank = undated (an unknown fee)"),
        CURRENCY,
        SOURCE,
    ),
    "Monthly-fee servers (dedicated GPU servers, HPC-centre allocations), as billed: fee in the provider's currency, "
    "VAT not recovered, setup fee, minimum term and notice.",
    id_field="option_id",
)

UPFRONT_OPTIONS = ("none", "partial", "all")
COMMITMENT_TERMS_YEARS = (1, 3)

CLOUD_RATES = SheetSpec(
    "CloudRates",
    (
        R("option_id", "Options", "Cloud-GPU option"),
        N("on_demand_per_gpu_hour", "currency/GPU-h", "On-demand rate"),
        N("reserved_per_gpu_hour", "currency/GPU-h", "Effective hourly rate of the reservation for its term and payment "
          "option (any upfront payment included, spread over the term's hours); required when reserved_replicas > 0",
          required=False),
        N("spot_per_gpu_hour", "currency/GPU-h", "Spot / preemptible rate", required=False),
        I("reserved_replicas", "replicas", "Whole replicas (gpus_per_replica GPUs of this tier each) reserved for the "
          "commitment term, paid every hour of the term whether used or not; blank = 0", max=10000, required=False),
        I("commitment_term_years", "years", "Commitment term of the reservation: 1 or 3 years; required when "
          "reserved_replicas > 0. Renewed at the then-current rate only while a whole term fits in the horizon",
          min=1, max=3, required=False),
        C("upfront", UPFRONT_OPTIONS, "Reservation payment: none (paid as used), partial (upfront_share of the term's "
          "cost at its start) or all (the whole term at its start); blank = none", required=False),
        S("upfront_share", "Share of the term's reserved cost paid at the term's start when upfront is partial",
          required=False),
        Field("reservation_start_quarter", "quarter", "quarter", False,
              description="First quarter of the first reservation term, not before the option's first quarter "
                          "served; blank = that quarter"),
        S("spot_share", "Share of the replica-hours beyond the reservation run on spot (whole replicas)"),
        N("spot_interruption_overhead", "share of spot hours", "Extra spot hours lost to preemption and restarts", max=1.0),
        N("rate_escalation_annual", "per year", "Annual change of the on-demand and spot rates every quarter, and of the "
          "reserved rate at each new term (fixed within a term)", min=-0.9, max=1.0, required=False),
        Field("as_of", "date", "date", True, description="Date the rates were read"),
        CURRENCY,
        SOURCE,
    ),
    "Hourly GPU rental: reserved whole replicas for a 1- or 3-year term at a fixed rate (no, partial or all upfront), "
    "then spot and on-demand replica-hours at rates that follow the price trend.",
    id_field="option_id",
)

API_PRICES = SheetSpec(
    "ApiPrices",
    (
        R("option_id", "Options", "Hosted-API option"),
        T("provider", "API provider"),
        T("api_model", "Model name at the provider"),
        N("input_per_mtok", "currency/Mtok", "Fresh (uncached) input tokens"),
        N("output_per_mtok", "currency/Mtok", "Output tokens"),
        C("prompt_caching", ("yes", "no"), "yes: the provider bills cache reads and writes at the two prices that follow (both required); no: no prompt caching, cache hits and writes are billed at the input price and both cache prices stay blank"),
        N("cached_input_per_mtok", "currency/Mtok", "Input tokens read from the prompt cache; required with prompt_caching yes, blank with no", required=False),
        N("cache_write_per_mtok", "currency/Mtok", "Input tokens written to the prompt cache (the input price where the provider does not charge writes extra); required with prompt_caching yes, blank with no", required=False),
        S("batch_discount", "Discount on batch-API requests (0.5 = half price)"),
        I("long_context_threshold_tokens", "tokens", "Prompt length above which the long-context tier prices apply to the whole request (Workload long_context_share says how many requests); blank = no tier", min=1, required=False),
        N("long_context_input_per_mtok", "currency/Mtok", "Input price of the long-context tier; blank = no tier", required=False),
        N("long_context_output_per_mtok", "currency/Mtok", "Output price of the long-context tier; blank = no tier", required=False),
        N("enterprise_discount", "share", "Negotiated discount (negative for a markup, e.g. -0.2 for Azure overhead)", min=-1.0, max=1.0, required=False),
        N("annual_price_change", "per year", "Expected annual change of list prices (negative = decline)", min=-0.95, max=1.0, required=False),
        Field("as_of", "date", "date", True, description="Date of the price list"),
        CURRENCY,
        SOURCE,
    ),
    "Token prices of hosted APIs with cache, batch and long-context terms.",
    id_field="option_id",
)

WORKLOAD = SheetSpec(
    "Workload",
    (
        Field("quarter", "quarter", "quarter", True, description="Quarter (every quarter of the horizon needs a row)"),
        N("requests", "requests/quarter", "Requests served in the quarter"),
        N("input_tokens_per_request", "tokens", "Mean prompt tokens per request (including cached prefix)", min=1.0),
        N("output_tokens_per_request", "tokens", "Mean generated tokens per request", min=1.0),
        S("cache_hit_share", "Share of input tokens read from a prompt cache"),
        S("cache_write_share", "Share of input tokens written to a prompt cache", required=False),
        S("batch_eligible_share", "Share of requests that tolerate batch-API latency (24 h)"),
        S("long_context_share", "Share of requests above the API long-context threshold", required=False),
        N("peak_to_average", "ratio", "Peak demand over the 24x7 average, given directly; leave blank when the demand shape columns (or the HourlyProfile sheet) give it", min=1.0, max=100.0, required=False),
        N("working_days_per_week", "days/week", "Days a week the users work; demand falls on those days (demand shape)", min=1.0, max=7.0, required=False),
        N("busy_hours_per_day", "hours/day", "Hours a working day over which the day's requests spread evenly (demand shape); blank when the HourlyProfile sheet gives the hourly shares", min=0.5, max=24.0, required=False),
        N("intra_hour_peak_factor", "ratio", "Peak within the busiest hour over that hour's mean rate (bursts, minute-level peaks; demand shape)", min=1.0, max=10.0, required=False),
        N("min_user_tok_s", "tok/s", "Decode rate each user must see (latency target)", min=0.1),
        N("max_ttft_s", "s", "Maximum time to first token (latency target)", min=0.01),
        SOURCE,
    ),
    "Demand per quarter and the latency targets self-hosted options must meet.",
    per_quarter=True,
)

UTILIZATION = SheetSpec(
    "Utilization",
    (
        R("option_id", "Options", "Option whose load_basis is utilization"),
        Field("quarter", "quarter", "quarter", True, description="Quarter"),
        S("utilization", "Share of the fleet's sustained throughput that is used"),
        SOURCE,
    ),
    "Utilization ramp for options whose load is stated as utilization (one row per option and quarter).",
    required=False,
    unique_together=("option_id", "quarter"),
    max_rows=20_000,
)

CLAIMS = SheetSpec(
    "Claims",
    (
        Field("claim_id", "id", "id", True, description="Id of the claim"),
        R("hardware_id", "Hardware", "Hardware the claim is about"),
        R("model_id", "Models", "Model the claim is about"),
        C("precision", PRECISIONS, "Precision; bits_per_weight overrides it", required=False),
        N("bits_per_weight", "bits", "Bits per weight as claimed (e.g. 3.5)", min=1.0, max=32.0, required=False),
        I("gpus", "GPUs", "GPUs used; blank = 1", min=1, max=1024, required=False),
        N("claimed_tok_s", "tok/s", "Claimed generation speed", min=1e-9),
        T("quote", "What the source says", required=False),
        SOURCE,
    ),
    "Optional: published throughput claims to check against the physical bounds.",
    required=False,
    id_field="claim_id",
)

RANGES = SheetSpec(
    "Ranges",
    (
        T("sheet", "Sheet of the input"),
        T("row_id", "Row id on that sheet (option_id, currency, quarter, option_id/role on Staff) or the Scenario key"),
        T("field", "Field name (column); blank for a Scenario key", required=False),
        N("low", "as input", "Low value", min=-1e15, max=1e15),
        N("high", "as input", "High value", min=-1e15, max=1e15),
        C("distribution", DISTRIBUTIONS, "Distribution between low and high for Monte Carlo (triangular uses the base value as mode)", required=False),
        SOURCE,
    ),
    "Optional: low and high values per input for sensitivity (tornado) and Monte Carlo. Besides a cell of "
    "Scenario, FX, Options, Capex, Opex, Rental, CloudRates, ApiPrices, Roles or Staff (row_id option_id/role, or "
    "the option_id of an option with one role; low/high are values), a row may name: "
    "Inputs with row_id an input id of the report's Inputs sheet (e.g. alternative-owned.opex.pue; low/high are "
    "values, or multipliers for a per-quarter input such as workload.requests); Workload with a field and row_id a "
    "quarter or * (multipliers); Utilization with row_id an option id and field a quarter or * (multipliers of the "
    "utilization, kept within 0..1); Capacity with row_id a self-hosted option id (multipliers of its output tok/s "
    "per replica in every quarter, i.e. of the roofline efficiency behind a bandwidth-bound operating point). The "
    "Monte Carlo only: Capacity, Utilization and Inputs rows.",
    required=False,
)

CORRELATIONS = SheetSpec(
    "Correlations",
    (
        T("first", "A Ranges row: its row number on the Ranges sheet (e.g. 5) or sheet/row_id/field (e.g. "
                   "Rental/alternative/fee_per_replica_per_month; Capacity/alternative)"),
        T("second", "The other Ranges row, named the same way"),
        N("rank_correlation", "rank correlation", "Target rank (Spearman) correlation between the two sampled "
                                                  "inputs, -1 to 1", min=-1.0, max=1.0),
        SOURCE,
    ),
    "Optional: rank correlations between Ranges rows for the Monte Carlo (Iman-Conover on a Gaussian copula); "
    "unlisted pairs are independent. The implied matrix must be positive semi-definite.",
    required=False,
)

HOURLY_PROFILE = SheetSpec(
    "HourlyProfile",
    (
        I("hour", "hour of day", "Hour of the working day, 0-23 (local time)", max=23),
        S("share_of_daily_requests", "Share of a working day's requests in this hour; the 24 shares sum to 1"),
        SOURCE,
    ),
    "Optional: the hourly shape of a working day's demand (24 rows summing to 1). With it, the peak hour sets the "
    "peak rate: peak to average = 7 / working_days_per_week x 24 x (largest share) x intra_hour_peak_factor.",
    required=False,
    id_field="hour",
)

ROLES = SheetSpec(
    "Roles",
    (
        Field("role", "id", "id", True, description="Id of the role, e.g. platform-engineer"),
        N("loaded_rate_per_hour", "currency/hour", "Cost of one productive hour: salary incl. pension x overhead / productive hours a year"),
        N("rate_escalation_annual", "per year", "Annual wage growth of the rate", min=-0.5, max=1.0, required=False),
        CURRENCY,
        SOURCE,
    ),
    "Optional: staff roles and their loaded hourly rates, shared by every option that uses the role (like for like).",
    required=False,
    id_field="role",
)

STAFF = SheetSpec(
    "Staff",
    (
        R("option_id", "Options", "Option the effort belongs to (any kind, hosted APIs included)"),
        R("role", "Roles", "Role doing the work"),
        N("hours_per_month", "hours/month", "Recurring effort while the option serves: operations, patching, monitoring, governance"),
        N("one_off_hours", "hours", "One-off effort in the option's first quarter: setup, integration, migration; blank = 0", required=False),
        SOURCE,
    ),
    "Optional: staff and operations effort per option and role (hours x the role's loaded rate).",
    required=False,
    unique_together=("option_id", "role"),
)

RESALE = SheetSpec(
    "Resale",
    (
        R("option_id", "Options", "Owned option whose hardware this resale curve values"),
        N("age_years", "years", "Age of the hardware", min=0.0, max=30.0),
        S("resale_share", "Market value as a share of the purchase price (server and GPUs; install and network have no resale value)"),
        SOURCE,
    ),
    "Optional: resale value of owned hardware by age (linear between the points, flat after the last; 100% when new). "
    "Cash receives this market value at retirement and at the horizon end; book depreciation never enters cash.",
    required=False,
    unique_together=("option_id", "age_years"),
)

PAIRS = SheetSpec(
    "Pairs",
    (
        R("from_option_id", "Options", "Option switched from"),
        R("to_option_id", "Options", "Option switched to"),
        SOURCE,
    ),
    "Optional: extra switching comparisons (NPV, IRR, payback) besides those against the baseline, e.g. rent vs buy "
    "of the same server.",
    required=False,
    unique_together=("from_option_id", "to_option_id"),
)


# Models sheet only: a model's architecture read from its Hugging Face config.json.
CONFIG_JSON = Field("config_json", "text", "path", False, description=(
    "Path to the model's Hugging Face config.json (relative paths: from this workbook's folder). When set, "
    "blank cells of the row are derived from it (parameters, layers, attention, experts, KV); filled cells win"))


def _catalogue_sheet(name: str, fields, description: str, extra: tuple[Field, ...] = (),
                     fill_from: str | None = None) -> SheetSpec:
    """Hardware and Models sheets take the roofline catalogue's fields (Models also config_json)."""
    converted = []
    for f in fields:
        kind = {"id": "id", "text": "text", "number": "number", "integer": "integer", "date": "date"}.get(f.kind, "text")
        converted.append(Field(f.name, kind, f.unit, f.required, f.min, f.max, description=f.description))
    return SheetSpec(name, tuple(converted) + extra, description, id_field=converted[0].name, fill_from=fill_from)


def catalogue_sheets() -> tuple[SheetSpec, SheetSpec]:
    from tcomodel.catalogue import HARDWARE_FIELDS, MODEL_FIELDS

    return (
        _catalogue_sheet("Hardware", HARDWARE_FIELDS, "Accelerators. Rows add to or override the built-in catalogue by hardware_id."),
        _catalogue_sheet("Models", MODEL_FIELDS, "Model architectures. Rows add to or override the built-in catalogue by "
                         "model_id; a row with config_json takes its blank cells from that Hugging Face config.json.",
                         extra=(CONFIG_JSON,), fill_from="config_json"),
    )


def all_sheets() -> list[SheetSpec]:
    """Every sheet of the format, in workbook order."""
    hardware, models = catalogue_sheets()
    return [SCENARIO, FX, hardware, models, OPTIONS, CAPEX, OPEX, RENTAL, CLOUD_RATES, API_PRICES,
            WORKLOAD, HOURLY_PROFILE, UTILIZATION, ROLES, STAFF, RESALE, PAIRS, CLAIMS, RANGES, CORRELATIONS]

