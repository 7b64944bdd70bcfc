"""The public API, the httpx way: ``tcomodel.__all__`` is the one list of public names, and it must
equal what ``tcomodel.api`` defines or re-exports (its public, non-module names from tcomodel)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import tcomodel
import tcomodel.api as api
from tcomodel import version

ROOT = Path(__file__).parents[1]


def _api_members() -> list[str]:
    return sorted(name for name, value in vars(api).items()
                  if not name.startswith("_") and not inspect.ismodule(value)
                  and getattr(value, "__module__", "").startswith("tcomodel"))


def test_all_api_members_are_exported():
    assert tcomodel.__all__ == _api_members()
    assert len(tcomodel.__all__) == len(set(tcomodel.__all__))


def test_exported_names_resolve_to_the_api_objects():
    for name in tcomodel.__all__:
        assert getattr(tcomodel, name) is getattr(api, name)
        assert name in dir(tcomodel)
    assert "atomic_path" not in tcomodel.__all__  # api's helpers stay private


def test_star_import_gives_exactly_the_public_names():
    ns: dict = {}
    exec("from tcomodel import *", ns)
    assert sorted(k for k in ns if k != "__builtins__") == tcomodel.__all__


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        tcomodel.no_such_name  # noqa: B018


def test_version_is_written_once():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in meta["project"]
    assert "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tcomodel.version.__version__"}
    assert tcomodel.__version__ == version.__version__
    assert tcomodel.__version__.count(".") == 2
    out = subprocess.run([sys.executable, "-m", "tcomodel", "--version"], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip().endswith(tcomodel.__version__)
