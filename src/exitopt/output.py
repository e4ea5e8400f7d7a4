"""The run folder: CSV files Excel opens as they are, and a small machine-readable record.

Every CSV is UTF-8 with a BOM (Excel on a Chinese Windows desktop reads it right) and no text
cell that Excel would run as a formula. The folder is written to a hidden sibling and swapped
into place, so an interrupted run leaves nothing half-written, and whatever a killed run left
is removed by the next one (see :func:`staged_folder`).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from .errors import OutputError
from .files import shown

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guarded(text: str) -> bool:
    """True for text that starts, after any apostrophes, like a formula: =, +, -, @, tab or CR."""
    return text.lstrip("'").startswith(_FORMULA_START)


def neutralise(value: object) -> object:
    """Prefix a text cell that Excel would read as a formula with an apostrophe.

    Text that starts with apostrophes before such a character gets one more too, so that
    :func:`restore` gives back exactly what was written: ``'=x`` is written ``''=x``.
    """
    if isinstance(value, str) and _guarded(value):
        return "'" + value
    return value


def restore(value: object) -> object:
    """Undo :func:`neutralise`: ``'=U-EQ`` read back from a file exitopt wrote is ``=U-EQ`` again,
    ``''=x`` is ``'=x``; every other text stays as it is."""
    if isinstance(value, str) and value.startswith("'") and _guarded(value):
        return value[1:]
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write for Excel: BOM, CRLF, floats rounded to 6 decimals (solver noise such as 1e-14 becomes 0)."""
    out = safe_frame(df)
    floats = out.select_dtypes("float").columns
    out[floats] = out[floats].round(6) + 0.0  # + 0.0 turns -0.0 into 0.0
    out.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("exitopt", "pyomo", "highspy", "pandas", "pydantic"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def prepare_folder(out: Path, force: bool) -> None:
    """Refuse, before any work is done, a folder that could not be written at the end (OutputError).

    What killed writes left beside ``out`` is cleared first (:func:`clean_stale`). Refused: a
    non-empty folder unless ``force``; a file where the folder or one of its parents should be;
    a path too long or with a NUL; a place where no folder can be made (read-only, no
    permission). The last is found by making and removing an empty folder there.
    """
    out = Path(out)
    try:
        parent = out.resolve().parent
        if parent.is_dir():
            clean_stale(parent)  # first: a swap cut in two puts the old folder back
        if out.exists() and not out.is_dir():
            raise OutputError(f"{shown(out)} is a file, not a folder. Choose another --out.")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise OutputError(
                f"{shown(out)} already holds files from an earlier run. Add --force to replace them, or choose "
                f"another --out."
            )
        place = parent
        while not place.exists() and place != place.parent:
            place = place.parent
        if not place.is_dir():
            raise OutputError(f"cannot make {shown(out)}: {shown(place)} is a file, not a folder. "
                              f"Choose another --out.")
        os.rmdir(tempfile.mkdtemp(prefix=".exitopt-probe-", dir=place))
    except OSError as e:
        raise OutputError(f"cannot write {shown(out)}: {e.strerror or e}. Choose another --out "
                          f"(a folder you may write in).") from None
    except ValueError:
        raise OutputError("the --out path holds a NUL character. Type it again.") from None


# ---- staging ---------------------------------------------------------------------------------------
#
# Writing OUT goes through three siblings of it, named by one token per write:
#   .OUT.exitopt-TOKEN.lock   held locked by the writing process for as long as it works
#   .OUT.exitopt-TOKEN.new    the new folder being written
#   .OUT.exitopt-TOKEN.old    the previous OUT while it is swapped out (only where no atomic swap exists)
# A sibling whose lock nobody holds was left by a process that died: the next write in the same
# folder removes it, putting a swapped-out previous folder back first if OUT is missing.

_STAGED = re.compile(r"\.(?P<name>.+)\.exitopt-(?P<token>[0-9a-f]{16})\.(?P<part>lock|new|old)")
#: an orphan lock file (no folder of its write left) is removed once it is this old, in seconds
_ORPHAN_AGE = 60.0


def _staged(parent: Path, name: str, token: str, part: str) -> Path:
    return parent / f".{name}.exitopt-{token}.{part}"


class FileLock:
    """An exclusive lock on a new file, held until :meth:`release` (fcntl on POSIX, msvcrt on Windows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "a+b")  # noqa: SIM115 (held open on purpose)
        if not _try_lock(self.file):
            self.file.close()
            raise OSError(errno.EEXIST, "staging lock in use", str(path))

    def release(self) -> None:
        self.file.close()  # closing drops the lock
        try:
            self.path.unlink()
        except OSError:
            pass


def _try_lock(f) -> bool:
    """Take an exclusive lock on the open file without waiting; False when someone holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def is_locked(lock: Path) -> bool:
    """True while a live process holds ``lock``; False when it is missing or nobody holds it."""
    try:
        f = open(lock, "r+b")  # noqa: SIM115
    except OSError:
        return False
    try:
        return not _try_lock(f)
    finally:
        f.close()  # drops the lock just taken, if any


def clean_stale(parent: Path) -> None:
    """Remove what writes that died left in ``parent``, and put back a folder a dead --force swapped out."""
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return
    writes: dict[tuple[str, str], set[str]] = {}
    for p in entries:
        m = _STAGED.fullmatch(p.name)
        if m:
            writes.setdefault((m["name"], m["token"]), set()).add(m["part"])
    for (name, token), parts in writes.items():
        lock = _staged(parent, name, token, "lock")
        if is_locked(lock):
            continue
        old, new = _staged(parent, name, token, "old"), _staged(parent, name, token, "new")
        try:
            if "old" in parts:
                out = parent / name
                if not out.exists():
                    os.replace(old, out)  # the swap died half-way: the previous folder goes back
                else:
                    shutil.rmtree(old, ignore_errors=True)
            if "new" in parts:
                shutil.rmtree(new, ignore_errors=True)
            if parts == {"lock"} and time.time() - lock.stat().st_mtime < _ORPHAN_AGE:
                continue  # perhaps a write that has just made its lock and not yet locked it
            lock.unlink(missing_ok=True)
        except OSError:
            continue


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step where the system offers it (Linux renameat2); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        rename = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if rename(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False  # this file system cannot swap: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(new: Path, out: Path, old: Path) -> None:
    """Put ``new`` at ``out``, the previous ``out`` (if any) ending at a path that is then removed.

    At no moment are both lost: either the swap is one step (Linux), or the previous folder sits at
    ``old`` between the two renames and is put back if the second fails (or by :func:`clean_stale`
    after a kill).
    """
    if not out.exists():
        os.replace(new, out)
        return
    if _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous folder
        return
    os.replace(out, old)
    try:
        os.replace(new, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def why_not(e: OSError) -> str:
    """What a failed write means for the analyst, and what to do (one sentence or two)."""
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return (f"the disk is full ({e.strerror or e}); nothing was written. Free some space, or choose --out "
                f"on another disk, and run again.")
    return f"{e.strerror or e}. Choose another --out."


@contextmanager
def staged_folder(out: Path, *, force: bool) -> Iterator[Path]:
    """Yield a new hidden sibling of ``out`` to write into; swap it onto ``out`` when the block ends.

    If the block raises, the sibling is removed and ``out`` is left as it was; if the process is
    killed, the next write in the same folder removes what it left (see :func:`clean_stale`).
    A non-empty ``out`` is refused unless ``force`` (OutputError, exit 5).
    """
    out = Path(out)
    prepare_folder(out, force)
    out = out.resolve()
    parent = out.parent
    token = secrets.token_hex(8)
    new, old = _staged(parent, out.name, token, "new"), _staged(parent, out.name, token, "old")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(_staged(parent, out.name, token, "lock"))
    except OSError as e:
        raise OutputError(f"cannot write in {shown(parent)}: {why_not(e)}") from None
    try:
        new.mkdir()
        yield new
        _swap_in(new, out, old)
    except OSError as e:
        shutil.rmtree(new, ignore_errors=True)
        raise OutputError(f"cannot write {shown(out)}: {why_not(e)}") from None
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    finally:
        lock.release()


def write_file(path: Path, content: pd.DataFrame | dict | bytes | str) -> None:
    """A table as CSV for Excel, a dict as JSON, bytes as they are (PNG), text as UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame):
        write_csv(content, path)
    elif isinstance(content, dict):
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def write_folder(out: Path, files: dict[str, pd.DataFrame | dict | bytes | str], *, force: bool) -> Path:
    """Write ``{relative path: content}`` into ``out`` atomically (see :func:`staged_folder`).

    Paths may name subfolders (``plans/point_01.csv``); content as in :func:`write_file`.
    """
    with staged_folder(out, force=force) as tmp:
        for name, content in files.items():
            write_file(tmp / name, content)
    return Path(out)
