"""Generated README sections: the workbook format (from the schema) and the CLI reference (from --help).

``python -m tcomodel.docs`` rewrites the sections between their markers in README.md; a test checks
that the README is current.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

COMMANDS = ("init", "validate", "build", "verify", "roofline", "catalogue", "compare", "sweep")


def cli_reference() -> str:
    from tcomodel.cli import main

    parts = []
    runner = CliRunner()
    for cmd in ("",) + COMMANDS:
        if cmd and cmd not in main.commands:
            continue
        args = [cmd, "--help"] if cmd else ["--help"]
        out = runner.invoke(main, args, prog_name="tcomodel", terminal_width=100).output.rstrip()
        parts.append(f"#### `tcomodel {cmd or ''}`".replace(" `", " `").replace("` ", "`").strip() + "\n\n```text\n" + out + "\n```\n")
    return "\n".join(parts)


def sections() -> dict[str, str]:
    from tcomodel.inputs.workbook_format import format_tables

    return {"WORKBOOK-FORMAT": format_tables(), "CLI-REFERENCE": cli_reference()}


def render_readme(text: str) -> str:
    for name, body in sections().items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md lacks the markers for {name}")
        text = pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)
    return text


if __name__ == "__main__":
    readme = Path(__file__).resolve().parents[1] / "README.md"
    readme.write_text(render_readme(readme.read_text()))
    print(f"updated {readme}")
