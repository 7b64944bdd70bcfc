"""tcomodel: TCO and cost-per-token model for self-hosted LLM inference.

Public API: ``load_scenario``, ``build``, ``run_model``, ``estimate``, ``check_claim``,
``write_scenario_workbook`` (see tcomodel.api).
"""

from tcomodel.version import __version__  # written once, in tcomodel/version.py

# The public names, listed once; tests/test_api.py checks them against what tcomodel.api defines.
__all__ = ["Estimate", "ModelRun", "Scenario", "build", "check_claim", "estimate", "load_scenario", "run_model",
           "to_json_dict", "write_scenario_workbook"]


def __getattr__(name):  # lazy, so `import tcomodel` stays light for the CLI's --help
    if name in __all__:
        from tcomodel import api

        return getattr(api, name)
    raise AttributeError(f"module 'tcomodel' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
