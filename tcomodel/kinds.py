"""The option kinds, declared once: what each kind needs (its sheets), shows (its label) and varies (its
sensitivity drivers), and which module of ``tcomodel.finance.options`` builds it.

A dispatch table in the XlsxWriter way (chart type -> chart_<type>.py): the registry names the builder
module as data, so ``inputs`` can read it without importing ``finance``; ``finance.options`` resolves the
names to functions. This module imports nothing from tcomodel.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DriverSpec:
    """A tornado driver every option of a kind has; ``{oid}`` in the names stands for the option id.

    ``inputs`` are scalar inputs named exactly; ``matching`` is a (prefix, suffix) pair that picks every scalar
    input named so; ``rows`` are row inputs. ``late`` drivers are listed after every option's other drivers;
    ``if_nonzero`` ones only where their row input exists and is nonzero somewhere."""

    label: str
    inputs: tuple = ()
    matching: tuple | None = None
    rows: tuple = ()
    late: bool = False
    if_nonzero: bool = False


@dataclass(frozen=True)
class OptionKind:
    name: str
    label: str  # as the report names it
    billing: str  # how it is paid, for the Options sheet's description ("" when the label says it)
    sheets: tuple  # kind-specific sheets an option of this kind must have a row on
    optional_sheets: tuple  # ... and may have a row on
    self_hosted: bool  # served on replicas sized by the roofline (not a per-token API)
    module: str  # tcomodel.finance.options.<module>.build builds its line items
    drivers: tuple = ()  # DriverSpec
    opex_fields_required: tuple = ()  # columns its Opex row must fill
    resale_curve: bool = False  # may have a Resale curve

    @property
    def allowed_sheets(self) -> tuple:
        return self.sheets + self.optional_sheets


def _fixed(label: str, name: str) -> DriverSpec:
    return DriverSpec(label, inputs=(name,))


_THROUGHPUT = DriverSpec("throughput per replica", rows=("{oid}.capacity",))

KINDS: dict[str, OptionKind] = {
    "owned": OptionKind(
        "owned", "owned hardware", "", sheets=("Capex",), optional_sheets=("Opex",), self_hosted=True, module="owned",
        drivers=(DriverSpec("capex", matching=("{oid}.capex.", "_per_replica")),
                 _fixed("power price", "{oid}.opex.power_price_per_kwh"),
                 _THROUGHPUT,
                 DriverSpec("resale value", rows=("{oid}.resale_share_by_age",), late=True, if_nonzero=True)),
        opex_fields_required=("power_kw_per_replica", "load_factor", "pue", "power_price_per_kwh"),
        resale_curve=True),
    "rented_server": OptionKind(
        "rented_server", "rented server", "monthly fee", sheets=("Rental",), optional_sheets=("Opex",),
        self_hosted=True, module="rented",
        drivers=(_fixed("monthly fee", "{oid}.rental.fee_per_replica_per_month"), _THROUGHPUT)),
    "cloud_gpu": OptionKind(
        "cloud_gpu", "cloud GPU", "hourly", sheets=("CloudRates",), optional_sheets=("Opex",), self_hosted=True,
        module="cloud",
        drivers=(DriverSpec("GPU-hour rates", matching=("{oid}.cloud.", "_per_gpu_hour")), _THROUGHPUT)),
    "hosted_api": OptionKind(
        "hosted_api", "hosted API", "per token", sheets=("ApiPrices",), optional_sheets=(), self_hosted=False,
        module="hosted_api",
        drivers=(DriverSpec("token prices", matching=("{oid}.api.", "_per_mtok")),)),
}

OPTION_KINDS = tuple(KINDS)
SELF_HOSTED_KINDS = tuple(k for k, spec in KINDS.items() if spec.self_hosted)
RESALE_KINDS = tuple(k for k, spec in KINDS.items() if spec.resale_curve)
KIND_LABEL = {k: spec.label for k, spec in KINDS.items()}
# Every kind-specific sheet, in registry order (Capex, Opex, Rental, CloudRates, ApiPrices).
KIND_SHEET_NAMES = tuple(dict.fromkeys(s for spec in KINDS.values() for s in spec.allowed_sheets))


def kind_description() -> str:
    """The Options sheet's description of the kind column."""
    return " | ".join(spec.label + (f" ({spec.billing})" if spec.billing else "") for spec in KINDS.values())
