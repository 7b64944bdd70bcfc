"""tcomodel: TCO and cost-per-token model for self-hosted LLM inference.

Public API: ``load_scenario``, ``build``, ``run_model``, ``estimate``, ``check_claim``,
``write_scenario_workbook`` (see tcomodel.api).
"""

__version__ = "0.1.0"

_API = ("Estimate", "ModelRun", "Scenario", "build", "check_claim", "estimate", "load_scenario", "run_model",
        "to_json_dict", "write_scenario_workbook")


def __getattr__(name):  # lazy, so `import tcomodel` stays light for the CLI's --help
    if name in _API:
        from tcomodel import api

        return getattr(api, name)
    raise AttributeError(f"module 'tcomodel' has no attribute {name!r}")


__all__ = list(_API)
