"""Switch a report's case (the defined name ``Case``) without touching anything else: the one cell's XML
is rewritten in a copy of the file, so LibreOffice recalculates the copy exactly as a user's switch would."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from tcomodel.errors import UsageError

CASE_NAME = "Case"


def _defined_name_target(workbook_xml: str, name: str) -> tuple[str, str] | None:
    m = re.search(rf'<definedName name="{name}"[^>]*>([^<]+)</definedName>', workbook_xml)
    if not m:
        return None
    ref = m.group(1).replace("&apos;", "'")
    sheet, _, cell = ref.rpartition("!")
    return sheet.strip("'"), cell.replace("$", "")


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str:
    wb = zf.read("xl/workbook.xml").decode("utf-8")
    m = re.search(rf'<sheet name="{re.escape(escape(sheet))}" sheetId="\d+" r:id="(rId\d+)"', wb)
    if not m:
        raise UsageError(f"the report has no sheet {sheet!r} for its {CASE_NAME} cell")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    t = re.search(rf'<Relationship Id="{m.group(1)}" [^>]*Target="([^"]+)"', rels) or \
        re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]* Id="{m.group(1)}"', rels)
    target = t.group(1).lstrip("/")
    return target if target.startswith("xl/") else "xl/" + target


def case_cell(path) -> tuple[str, str] | None:
    """(sheet, A1 cell) of the report's Case switch, or None."""
    with zipfile.ZipFile(path) as zf:
        return _defined_name_target(zf.read("xl/workbook.xml").decode("utf-8"), CASE_NAME)


def has_case_switch(path) -> bool:
    with zipfile.ZipFile(path) as zf:
        return _defined_name_target(zf.read("xl/workbook.xml").decode("utf-8"), CASE_NAME) is not None


def set_case(src, dst, case_label: str) -> Path:
    """Copy report ``src`` to ``dst`` with its Case cell set to ``case_label`` (Low, Base or High)."""
    with zipfile.ZipFile(src) as zf:
        target = _defined_name_target(zf.read("xl/workbook.xml").decode("utf-8"), CASE_NAME)
    if target is None:
        raise UsageError(f"{src}: has no defined name {CASE_NAME} (built before the case switch?)")
    return set_cell(src, dst, target[0], target[1], case_label)


def set_cell(src, dst, sheet: str, cell: str, value) -> Path:
    """Copy ``src`` to ``dst`` with one cell's content replaced by a constant (text or number); every other
    part of the file is copied byte for byte. A user's edit, for recalculation tests."""
    src, dst = Path(src), Path(dst)
    with zipfile.ZipFile(src) as zf:
        part = _sheet_part(zf, sheet)
        xml = zf.read(part).decode("utf-8")
        m = re.compile(rf'<c r="{cell}"([^>]*?)(/>|>.*?</c>)', re.S).search(xml)
        if not m:
            raise UsageError(f"{src}: cell {sheet}!{cell} is missing")
        attrs = re.sub(r'\s+t="[^"]*"', "", m.group(1))
        if isinstance(value, str):
            new_cell = f'<c r="{cell}"{attrs} t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        else:
            new_cell = f'<c r="{cell}"{attrs}><v>{float(value)!r}</v></c>'
        xml = xml[:m.start()] + new_cell + xml[m.end():]
        tmp = dst.with_suffix(".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for info in zf.infolist():
                out.writestr(info, xml.encode("utf-8") if info.filename == part else zf.read(info.filename))
    shutil.move(tmp, dst)
    return dst
