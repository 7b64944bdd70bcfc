"""Atomic file output: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tcomodel.errors import OutputError


@contextmanager
def atomic_path(target: str | os.PathLike, *, force: bool = True, protect: list[str | os.PathLike] = ()):
    """Yield a temporary path; on success rename it to ``target``; on failure leave no partial file.

    ``protect`` lists input files the output must never overwrite.
    """
    target = Path(target)
    for p in protect:
        if Path(p).exists() and target.exists() and target.resolve() == Path(p).resolve():
            raise OutputError(f"refusing to write the report over the input file {p}; choose another output path")
    if target.exists() and not force:
        raise OutputError(f"{target} exists; pass --force to overwrite it")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create folder {parent}: {exc.strerror}") from None
    lock = parent / f".~lock.{target.name}#"
    if lock.exists():
        raise OutputError(f"{target} is open in LibreOffice or Excel (lock file {lock.name}); close it and build again")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix or ".tmp", dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write to {parent}: {exc.strerror}") from None
    os.close(fd)
    try:
        yield Path(tmp)
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror} (is it open in another program?)") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
