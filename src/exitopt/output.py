"""The run folder: CSV files Excel opens as they are, and a small machine-readable record.

Every CSV is UTF-8 with a BOM (Excel on a Chinese Windows desktop reads it right) and no text
cell that Excel would run as a formula. The folder is written to a temporary sibling and
renamed into place, so an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from .errors import OutputError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix a text cell that Excel would read as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def restore(value: object) -> object:
    """Undo :func:`neutralise`: ``'=U-EQ`` read back from a file exitopt wrote is ``=U-EQ`` again."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(_FORMULA_START):
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
    """Refuse a non-empty folder unless ``force``; refuse a file in the way."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder. Choose another --out.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(
            f"{out} already holds files from an earlier run. Add --force to replace them, or choose another --out."
        )


@contextmanager
def staged_folder(out: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary sibling of ``out`` to write into; rename it onto ``out`` when the block ends.

    If the block raises, the temporary folder is removed and ``out`` is left as it was: an
    interrupted run never leaves a half-written folder. A non-empty ``out`` is refused unless
    ``force`` (OutputError, exit 5).
    """
    out = Path(out)
    prepare_folder(out, force)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
        _open_up(tmp)
    except OSError as e:
        raise OutputError(f"cannot write in {parent}: {e.strerror}. Choose another --out.") from None
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write {out}: {e.strerror}.") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _open_up(folder: Path) -> None:
    """Give a folder made by mkdtemp (private) the permissions of an ordinary new folder."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)


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
