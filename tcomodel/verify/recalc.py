"""Recalculate an xlsx in headless LibreOffice.

A plain ``soffice --convert-to xlsx`` keeps the cached values; LibreOffice only recalculates on load
when the profile sets Calc/Formula/Load/OOXMLRecalcMode = 0 (always). So each run gets a fresh
temporary profile holding that one setting (also keeps runs independent of any user profile).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tcomodel.errors import RecalcError

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

NOT_FOUND = (
    "LibreOffice not found: install Debian's libreoffice-calc-nogui "
    "(apt-get install libreoffice-calc-nogui) or put soffice on PATH"
)


def find_soffice() -> str | None:
    """Path of the soffice executable, or None."""
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    return None


def recalculate(path, outdir, timeout: float = 120.0) -> Path:
    """Recalculate ``path`` in LibreOffice and write the result to ``outdir`` (same file name).

    The input is never modified; ``outdir`` must differ from the input's folder.
    """
    src = Path(path).resolve()
    out_dir = Path(outdir).resolve()
    if not src.is_file():
        raise RecalcError(f"{path}: file not found")
    if out_dir == src.parent:
        raise RecalcError("recalculate: outdir must differ from the input's folder (would overwrite it)")
    soffice = find_soffice()
    if soffice is None:
        raise RecalcError(NOT_FOUND)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (src.stem + ".xlsx")
    if target.exists():
        target.unlink()
    with tempfile.TemporaryDirectory(prefix="tcomodel-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
        cmd = [
            soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
            "--nologo", "--nodefault", "--nolockcheck",
            "--convert-to", "xlsx", "--outdir", str(out_dir), str(src),
        ]
        env = dict(os.environ, HOME=profile)  # keep LibreOffice away from the user's real home
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except FileNotFoundError:
            raise RecalcError(NOT_FOUND) from None
        except subprocess.TimeoutExpired:
            raise RecalcError(f"LibreOffice did not finish recalculating {src.name} within {timeout:.0f} s") from None
    # soffice exits 0 even when it could not load the file: the output file is the only proof
    if not target.is_file():
        detail = (proc.stderr or proc.stdout or "").strip()
        raise RecalcError(
            f"LibreOffice failed to recalculate {src.name} (exit {proc.returncode})"
            + (f": {detail}" if detail else "")
        )
    return target
