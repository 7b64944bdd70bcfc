"""The README's generated sections are current, every command's --help is in it, and the public API is pinned."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import tcomodel
from tcomodel.cli import main
from tcomodel.docs import render_readme
from tcomodel.inputs.schema import all_sheets

README = Path(__file__).parents[1] / "README.md"


def test_readme_generated_sections_are_current():
    text = README.read_text()
    assert render_readme(text) == text, "README.md is stale: run python -m tcomodel.docs"


def test_readme_has_every_commands_help():
    text = README.read_text()
    runner = CliRunner()
    for name in main.commands:
        out = runner.invoke(main, [name, "--help"], prog_name="tcomodel", terminal_width=100).output.rstrip()
        assert out in text, f"--help of {name} is not in README.md"


def test_readme_documents_every_field_of_every_sheet():
    text = README.read_text()
    for spec in all_sheets():
        assert f"#### {spec.name}" in text
        for f in spec.fields:
            assert f"| `{f.name}` |" in text, (spec.name, f.name)


def test_readme_quickstart_is_two_commands():
    text = README.read_text()
    quick = text.split("## Quickstart", 1)[1].split("##", 1)[0]
    blocks = quick.split("```sh")[1:3]
    commands = [b.split("```", 1)[0].strip() for b in blocks]
    assert commands[0] == "pip install . && tcomodel build assumptions/aarhusai-vs-alternative.xlsx"
    assert commands[1].endswith("pip install '.[test]' && python -m pytest -q")


def test_core_never_imports_the_cli_or_report():
    import ast

    pkg = Path(tcomodel.__file__).parent
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(pkg).as_posix()
        if rel in ("cli.py", "__main__.py", "docs.py", "api.py") or rel.startswith("report/"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            elif isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            for m in mods:
                assert not m.startswith(("tcomodel.cli", "tcomodel.report")), f"{rel} imports {m}"


def test_estimate_through_the_api_matches_the_note_in_ideal_mode():
    e = tcomodel.estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", engine="ideal", batch=1,
                          bandwidth_gbs=2000, params_b=24, active_params_b=24)
    assert e.decode_tok_s_per_stream == __import__("pytest").approx(2000 / 48, rel=1e-9)  # 2,000 GB/s / (24 B x 2 bytes)
