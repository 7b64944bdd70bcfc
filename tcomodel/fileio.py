"""Atomic file output: write to a temporary file beside the target, then rename over it.

Rules every output (xlsx and JSON) follows:

- the finished file gets the usual mode for a new file, 0666 minus the umask (0644 under umask 022),
  not mkstemp's private 0600, so colleagues on a shared drive can open it;
- a target that exists but is not a regular file (folder, device, FIFO, socket) is refused;
- a symlink is written through: the file it points to is replaced and the link stays a link;
- an existing read-only target is refused unless ``force_readonly`` (the CLI's --force);
- several outputs of one command are renamed into place together at the very end, with SIGINT
  held back for those few renames, so an interrupted run leaves neither temporary files nor a
  subset of its outputs.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import threading
from contextlib import contextmanager
from pathlib import Path

from tcomodel.errors import OutputError

NEW_FILE_MODE = 0o666  # before the umask, as open() and touch use


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it, so restore at once
    os.umask(mask)
    return mask


def resolve_target(target: str | os.PathLike) -> Path:
    """The file an output path names: a symlink is followed (its target is what gets replaced)."""
    p = Path(target)
    if p.is_symlink():
        return Path(os.path.realpath(p))
    return p


def check_target(target: str | os.PathLike, *, force: bool = True, force_readonly: bool = False,
                 protect: list[str | os.PathLike] = ()) -> Path:
    """Raise OutputError unless ``target`` may be written; return the path that will be replaced.

    Nothing is created or changed here, so a command can check all its outputs before doing work.
    """
    link = Path(target)
    real = resolve_target(link)
    for p in protect:
        if Path(p).exists() and real.exists() and real.resolve() == Path(p).resolve():
            raise OutputError(f"refusing to write the report over the input file {p}; choose another output path")
    shown = str(link) if real == link else f"{link} (a link to {real})"
    if link.is_symlink() and not real.parent.is_dir():
        raise OutputError(f"{shown}: the link's folder does not exist")
    if os.path.lexists(real):
        try:
            st = os.stat(real)
        except OSError as exc:
            raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{shown} is a folder; give a file name")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{shown} is not a regular file (a device, FIFO or socket); refusing to replace it")
        if not force:
            raise OutputError(f"{shown} exists; pass --force to overwrite it")
        # root may write anything, so look at the permission bits as well as access()
        readonly = not (st.st_mode & 0o222) or not os.access(real, os.W_OK)
        if readonly and not force_readonly:
            raise OutputError(f"{shown} is read-only; pass --force to replace it")
    return real


def _parent_of(real: Path) -> Path:
    parent = real.parent if str(real.parent) else Path(".")
    if not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create folder {parent}: {exc.strerror}") from None
    return parent


@contextmanager
def atomic_paths(targets, *, force: bool = True, force_readonly: bool = False,
                 protect: list[str | os.PathLike] = ()):
    """Yield one temporary path per target (None stays None); on success rename each over its target.

    On any exception (KeyboardInterrupt included) every temporary file is removed and no target is
    touched. Every target is checked before any temporary file is made.
    """
    targets = list(targets)
    reals = [None if t is None else check_target(t, force=force, force_readonly=force_readonly, protect=protect)
             for t in targets]
    seen = {}
    for t, r in zip(targets, reals):
        if r is None:
            continue
        key = os.path.abspath(r)
        if key in seen:
            raise OutputError(f"{seen[key]} and {t} are the same file; give each output its own path")
        seen[key] = t
    tmps: list[str | None] = []
    try:
        for real in reals:
            if real is None:
                tmps.append(None)
                continue
            parent = _parent_of(real)
            lock = parent / f".~lock.{real.name}#"
            if lock.exists():
                raise OutputError(f"{real} is open in LibreOffice or Excel (lock file {lock.name}); "
                                  "close it and try again")
            # the name is recorded before the file exists, so a Ctrl-C at any point leaves nothing behind
            for _ in range(100):
                tmp = str(parent / f".{real.stem}-{secrets.token_hex(4)}{real.suffix or '.tmp'}")
                tmps.append(tmp)
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    break
                except FileExistsError:
                    tmps.pop()
                except OSError as exc:
                    tmps.pop()
                    raise OutputError(f"cannot write to {parent}: {exc.strerror}") from None
            else:
                raise OutputError(f"cannot make a temporary file in {parent}")
            os.close(fd)  # 0600 private while written; the umask mode is set in _commit
        yield [None if t is None else Path(t) for t in tmps]
        _commit([(tmp, real) for tmp, real in zip(tmps, reals) if tmp is not None])
    finally:
        for tmp in tmps:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)


@contextmanager
def _sigint_held():
    """SIGINT is delivered only after the block (main thread, where the platform allows it)."""
    held = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    if held:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _commit(pairs) -> None:
    """Rename every temporary file over its target, with SIGINT held until all are in place."""
    with _sigint_held():
        for tmp, real in pairs:
            os.chmod(tmp, NEW_FILE_MODE & ~_umask())  # mkstemp made it 0600
            try:
                os.replace(tmp, real)
            except OSError as exc:
                raise OutputError(f"cannot write {real}: {exc.strerror} (is it open in another program?)") from None


@contextmanager
def atomic_path(target: str | os.PathLike, *, force: bool = True, force_readonly: bool = False,
                protect: list[str | os.PathLike] = ()):
    """Yield a temporary path; on success rename it to ``target``; on failure leave no partial file.

    ``protect`` lists input files the output must never overwrite. See the module notes for the rules.
    """
    with atomic_paths([target], force=force, force_readonly=force_readonly, protect=protect) as (tmp,):
        yield tmp
