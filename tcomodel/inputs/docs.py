"""Markdown tables of the workbook format, generated from the schema (used in the README).

Run ``python -m tcomodel.inputs.docs`` to print them.
"""

from __future__ import annotations

from tcomodel.inputs.schema import all_sheets


def format_tables() -> str:
    parts = []
    for spec in all_sheets():
        opt = "" if spec.required else " (optional sheet)"
        parts.append(f"#### {spec.name}{opt}\n\n{spec.description}\n")
        first = "key" if spec.key_value else "column"
        parts.append(f"| {first} | type | unit | allowed | required | meaning |")
        parts.append("|---|---|---|---|---|---|")
        for f in spec.fields:
            allowed = f.allowed().replace("|", "/")
            parts.append(f"| `{f.name}` | {f.kind} | {f.unit or ''} | {allowed} | {'yes' if f.required else 'no'} | "
                         f"{f.description.replace('|', '/')} |")
        parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(format_tables())
