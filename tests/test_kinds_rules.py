"""The option-kind registry is the one place kinds are declared, and cross-sheet validation runs as named rules."""

from __future__ import annotations

import ast
from pathlib import Path

from tcomodel.errors import Problem
from tcomodel.finance.options import BUILDERS
from tcomodel.finance.sensitivity import _kind_driver
from tcomodel.inputs.loader import record_class
from tcomodel.inputs.rules import Book, kind_sheet_rows, ranges_low_below_high
from tcomodel.inputs.schema import OPEX, OPTIONS, RANGES
from tcomodel.kinds import KIND_LABEL, KIND_SHEET_NAMES, KINDS
from tcomodel.report import workbook

PACKAGE = Path(__file__).parents[1] / "tcomodel"


def test_every_kind_has_a_builder_and_the_options_sheet_offers_exactly_the_registry():
    assert list(BUILDERS) == list(KINDS) == ["owned", "rented_server", "cloud_gpu", "hosted_api"]
    assert BUILDERS["rented_server"].__module__ == "tcomodel.finance.options.rented"
    kind = next(f for f in OPTIONS.fields if f.name == "kind")
    assert tuple(kind.choices) == tuple(KINDS)
    # the wording the template and README carried before the registry
    assert kind.description == ("owned hardware | rented server (monthly fee) | cloud GPU (hourly) | "
                                "hosted API (per token)")
    assert workbook.KIND_LABEL is KIND_LABEL and KIND_LABEL["cloud_gpu"] == "cloud GPU"


def test_kind_sheets():
    assert {k: (s.sheets, s.allowed_sheets) for k, s in KINDS.items()} == {
        "owned": (("Capex",), ("Capex", "Opex")),
        "rented_server": (("Rental",), ("Rental", "Opex")),
        "cloud_gpu": (("CloudRates",), ("CloudRates", "Opex")),
        "hosted_api": (("ApiPrices",), ("ApiPrices",)),
    }
    assert KIND_SHEET_NAMES == ("Capex", "Opex", "Rental", "CloudRates", "ApiPrices")


def _tcomodel_imports(path: Path) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module)
        elif isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
    return {m for m in mods if m.startswith("tcomodel")}


def test_kinds_imports_nothing_from_tcomodel_and_inputs_nothing_from_finance():
    assert _tcomodel_imports(PACKAGE / "kinds.py") == set()
    for path in (PACKAGE / "inputs").glob("*.py"):
        bad = {m for m in _tcomodel_imports(path) if m.split(".")[1] in ("finance", "report", "cli", "sweep")}
        assert not bad, (path.name, bad)


def test_problem_at_names_the_records_cell():
    Row = record_class(OPTIONS)
    rec = Row(option_id="a", cells={"option_id": "Options!A7", "quality_score": "Options!T7"})
    assert Problem.at(rec, "option_id", "m") == Problem("Options", "A7", "m")
    assert str(Problem.at(rec, "option_id", "m")) == "Options!A7: m"
    # column absent: the sheet alone, or the fallback field's cell
    assert Problem.at(rec, "quality_benchmark", "m") == Problem("Options", None, "m")
    assert Problem.at(rec, "quality_benchmark", "m", or_field="quality_score") == Problem("Options", "T7", "m")


def _book(**kw) -> Book:
    return Book("x.xlsx", {name: [] for name in ("Ranges",)}, set(), **kw)


def test_rules_yield_problems_at_their_cells():
    Ranges = record_class(RANGES)
    book = _book()
    book.tables["Ranges"] = [(Ranges(low=2.0, high=1.0, cells={"low": "Ranges!D3"}), True, 3),
                             (Ranges(low=1.0, high=1.0, cells={"low": "Ranges!D4"}), True, 4)]
    assert list(ranges_low_below_high(book)) == [Problem("Ranges", "D3", "low 2 is above high 1")]

    Opt, Opex = record_class(OPTIONS), record_class(OPEX)
    book = _book(options={"api": Opt(option_id="api", kind="hosted_api"), "rent": Opt(option_id="rent", kind="rented_server")},
                 per_option={"Opex": {"api": Opex(option_id="api", cells={"option_id": "Opex!A3"}),
                                      "rent": Opex(option_id="rent", cells={"option_id": "Opex!A4"}),
                                      "gone": Opex(option_id="gone", cells={"option_id": "Opex!A5"})}})
    assert list(kind_sheet_rows(book)) == [
        Problem("Opex", "A3", "option 'api' is of kind hosted_api; sheet Opex does not apply to it"),
        Problem("Opex", "A5", "option_id 'gone' is not on sheet Options; known: api, rent"),
    ]


def test_kind_drivers_pick_the_options_own_inputs():
    names = ["a.capex.server_per_replica", "a.capex.install_one_off", "ab.capex.server_per_replica",
             "b.capex.gpu_per_replica", "a.capex.gpu_per_replica"]

    def pick(prefix, suffix):
        return [n for n in names if n.startswith(prefix) and n.endswith(suffix)]

    capex, power, throughput, resale = KINDS["owned"].drivers
    d = _kind_driver(capex, "a", pick)
    assert (d.label, d.inputs, d.rows) == ("a: capex", ["a.capex.server_per_replica", "a.capex.gpu_per_replica"], [])
    d = _kind_driver(power, "a", pick)
    assert (d.label, d.inputs) == ("a: power price", ["a.opex.power_price_per_kwh"])
    assert _kind_driver(throughput, "a", pick).rows == ["a.capacity"]
    assert resale.late and resale.if_nonzero and not capex.late
    assert (d.low, d.high) == (0.8, 1.2)
