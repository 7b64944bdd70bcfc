"""Imports point one way: no cycle between tcomodel's modules, ``inputs`` never imports ``roofline``
(both read the hardware/model catalogue from ``tcomodel.catalogue``), and no two modules share a name.

Every import counts, module-level or inside a function: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tcomodel

PKG = Path(tcomodel.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict) -> set[str]:
    """The tcomodel modules ``name`` imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for a in node.names:
                if f"{base}.{a.name}" in modules:
                    out.add(f"{base}.{a.name}")
                elif base in modules:
                    out.add(base)
    out.discard(name)
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for root in sorted(graph):
        if root in state:
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_lazy_and_relative_imports(graph):
    assert "tcomodel.catalogue" in graph["tcomodel.roofline.claims"]
    assert "tcomodel.catalogue.hf_config" in graph["tcomodel.inputs.rules"]  # imported inside a function


def test_no_import_cycle(graph):
    assert _find_cycle(graph) is None, " -> ".join(_find_cycle(graph))


def test_report_imports_nothing_from_roofline_or_sensitivity(graph):
    """The report only presents: what it shows is computed by run_model and kept on ModelRun."""
    bad = [(m, t) for m, targets in graph.items() if m.startswith("tcomodel.report")
           for t in targets if t == "tcomodel.roofline" or t.startswith("tcomodel.roofline.")
           or t == "tcomodel.finance.sensitivity"]
    assert bad == []


def test_no_function_is_longer_than_100_lines():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "tcomodel"
    long = [(str(p.relative_to(root)), n.name, n.end_lineno - n.lineno + 1)
            for p in root.rglob("*.py") for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 100]
    assert long == []


def test_inputs_import_nothing_from_roofline(graph):
    bad = [(m, t) for m, targets in graph.items() if m.startswith("tcomodel.inputs")
           for t in targets if t == "tcomodel.roofline" or t.startswith("tcomodel.roofline.")]
    assert bad == []


PENDING_NAME_CLASHES: set[str] = set()


def test_no_two_modules_share_a_name():
    seen: dict[str, list[str]] = {}
    for name in _modules():
        if name != "tcomodel":
            seen.setdefault(name.rpartition(".")[2], []).append(name)
    clashes = {short: names for short, names in seen.items() if len(names) > 1}
    assert set(clashes) == PENDING_NAME_CLASHES, clashes
