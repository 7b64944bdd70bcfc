"""Markdown tables of the workbook format, generated from the schema (used in the README).

Run ``python -m tcomodel.inputs.workbook_format`` to print them.
"""

from __future__ import annotations

from tcomodel.inputs.schema import MAX_CELLS_PER_WORKBOOK, MAX_ROWS_PER_SHEET, all_sheets


def format_tables() -> str:
    parts = [f"Every table sheet: row 1 holds the field names, row 2 the units exactly as in the unit column below (a deleted or "
             f"overwritten units row is an error, so no data row is skipped), data from row 3. Every number has "
             f"plausibility bounds (column allowed, both bounds included); other sheets of the workbook may hold "
             f"at most {MAX_ROWS_PER_SHEET:,} rows, and the workbook at most {MAX_CELLS_PER_WORKBOOK:,} cells.\n"]
    for spec in all_sheets():
        opt = "" if spec.required else " (optional sheet)"
        limit = f"At most {spec.max_rows:,} rows, header included; a larger sheet is refused from its size " \
                "before any cell is read."
        parts.append(f"#### {spec.name}{opt}\n\n{spec.description} {limit}\n")
        first = "key" if spec.key_value else "column"
        parts.append(f"| {first} | type | unit | allowed | required | meaning |")
        parts.append("|---|---|---|---|---|---|")
        for f in spec.fields:
            allowed = f.allowed().replace("|", "/")
            unit = f.unit if spec.key_value else f.unit_label  # table sheets: the text of the units row
            parts.append(f"| `{f.name}` | {f.kind} | {unit} | {allowed} | {'yes' if f.required else 'no'} | "
                         f"{f.description.replace('|', '/')} |")
        parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(format_tables())
