"""Starter workbooks for `tcomodel init`: the default scenario, or a minimal one (one owned server and one
hosted API, nothing optional), each named after the file it is written to so that reports of different
starters never share a default output path.

The minimal starter takes its figures from the default scenario (``defaults.py``), so every value keeps
its source; only the rows its two options need are kept.
"""

from __future__ import annotations

import copy
from pathlib import Path

from tcomodel.inputs import defaults

OWNED = "owned"  # option ids of the minimal starter
API = "api"
_OWNED_FROM, _API_FROM = "alternative-owned", "api-claude-sonnet"  # the default scenario's rows it reuses
MINIMAL_QUARTERS = 8
NAME_SOURCE = "tcomodel init: the file's name, so reports of different scenario files never share a path"


def named_content(content: dict, name: str) -> dict:
    """``content`` with ``scenario_name`` set to ``name`` (unchanged when it already has that name)."""
    out = dict(content)
    out["Scenario"] = [(k, name, u, NAME_SOURCE) if k == "scenario_name" and v != name else (k, v, u, s)
                       for k, v, u, s in content["Scenario"]]
    return out


def scenario_name_for(path) -> str:
    """The scenario name a starter written to ``path`` gets: the file's stem."""
    return Path(path).stem or "scenario"


def _one(rows, option_id: str, new_id: str, **changes) -> dict:
    row = next(r for r in rows if r["option_id"] == option_id)
    return {**copy.deepcopy(row), "option_id": new_id, **changes}


def _scenario_rows() -> list[tuple]:
    changes = {
        "baseline_option": (API, "assumption: today the workload runs on the hosted API; the question is whether "
                                 "buying a server pays"),
        "horizon_quarters": (MINIMAL_QUARTERS, "assumption: a two-year plan keeps the starter small; lengthen it "
                                               "together with the Workload rows"),
    }
    return [(k, changes[k][0], u, changes[k][1]) if k in changes else (k, v, u, s) for k, v, u, s in defaults.SCENARIO]


def _workload_rows() -> list[dict]:
    rows = []
    for row in defaults.WORKLOAD[:MINIMAL_QUARTERS]:
        r = copy.deepcopy(row)
        # No caching or batch use counted: the API's cost per Mtok is then its blended list price.
        r.update(cache_hit_share=0.0, cache_write_share=0.0, batch_eligible_share=0.0, busy_hours_per_day=8.0)
        if row is defaults.WORKLOAD[0]:
            r["source"] = ("assumption: ~2,000 staff users x 5 requests/working day at start, +8%/quarter; 1,500 in / "
                           "350 out tokens (RAG chat); no prompt caching or batch API use counted; demand on 5 working "
                           "days over 8 busy hours (37-hour week, pav.medst.dk), the busiest minutes 1.3x the hour's "
                           "mean (assumption); 10 tok/s reading speed; TTFT 2 s = MLPerf Llama-2-70B server limit "
                           "(reference/data/README.md)")
        rows.append(r)
    return rows


def minimal_content() -> dict:
    """One owned server (the default scenario's bought alternative) and one hosted API (Claude Sonnet), in DKK,
    over two years: no Claims, Ranges, Pairs, Staff or other optional rows beyond the owned server's resale
    curve (without it the build warns that the hardware is worth nothing at the end)."""
    from tcomodel.catalogue import HARDWARE_CATALOGUE_ROWS, MODEL_CATALOGUE_ROWS

    owned = _one(defaults.OPTIONS, _OWNED_FROM, OWNED, label="Owned server: Qwen3-Next-80B-A3B NVFP4 on RTX PRO 6000 Max-Q")
    api = _one(defaults.OPTIONS, _API_FROM, API)
    opex = _one(defaults.OPEX, _OWNED_FROM, OWNED)
    opex["source"] = opex["source"].replace("; staff: Staff sheet", "; no staff effort counted (add Roles and Staff rows)")
    return {
        "Scenario": _scenario_rows(),
        "FX": [copy.deepcopy(r) for r in defaults.FX if r["currency"] == "USD"],
        "Hardware": [r for r in HARDWARE_CATALOGUE_ROWS if r["hardware_id"] == owned["hardware_id"]],
        "Models": [r for r in MODEL_CATALOGUE_ROWS if r["model_id"] == owned["model_id"]],
        "Options": [owned, api],
        "Capex": [_one(defaults.CAPEX, _OWNED_FROM, OWNED)],
        "Opex": [opex],
        "ApiPrices": [_one(defaults.API_PRICES, _API_FROM, API)],
        "Workload": _workload_rows(),
        "Resale": [_one([r], _OWNED_FROM, OWNED) for r in defaults.RESALE],
    }
