"""Reading an analyst's input file by its path: every way a path can be wrong becomes one InputError.

A path may name nothing, a folder, a device or pipe (``/dev/zero`` would be read for ever), hold
a NUL character, or be longer than the system allows. Each of these is said in plain words,
with the path shortened when it is too long to read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from .errors import InputError
from .workbook_input import split_sheet

#: longest path shown whole in a message; longer ones are shown by their two ends
_SHOWN = 160


def shown(path: Path | str) -> str:
    """The path as a message shows it: whole, or its start and end around '…' when very long."""
    text = str(path).replace("\0", "\\0")
    return text if len(text) <= _SHOWN else f"{text[:80]}…{text[-60:]} ({len(text):,} characters)"


def refuse_nul(path: Path | str) -> None:
    """InputError when the path holds a NUL character (no system takes one; Python raises ValueError)."""
    if "\0" in str(path):
        raise InputError("the path holds a NUL character, which no file name can. Type the path again.",
                         file=shown(path))


def read_input(path: Path | str, what: str, missing_hint: str) -> bytes:
    """The bytes of an input file; InputError (exit 2) when the path cannot name a readable file.

    ``what`` names the kind of file for the messages ("TOML file", "CSV file"); ``missing_hint``
    says where the path is taken relative to.
    """
    path = Path(path)
    name = shown(path)
    refuse_nul(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        builder = path.parent / "build.py"
        if builder.is_file():  # a generated table (data/national/, say) that was not written yet
            missing_hint = (f"This table is generated, not kept in the repository: write it with "
                            f"python {builder}, then run again.")
        raise InputError(f"file not found. {missing_hint}", file=name) from None
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            raise InputError(f"the path is too long for this system ({len(str(path)):,} characters). "
                             f"Move the file to a shorter path.", file=name) from None
        if e.errno == errno.ENOTDIR:
            raise InputError(f"file not found: a part of the path is a file, not a folder. {missing_hint}",
                             file=name) from None
        raise InputError(f"cannot be read ({e.strerror or e}).", file=name) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"is a folder, not a {what}. Give the file inside it.", file=name)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"is not an ordinary file (a device, pipe or socket). Give a {what}.", file=name)
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror or e}).", file=name) from None


def is_folder(path: Path | str) -> bool:
    """Like Path.is_dir, but False (not an error) for a path that is too long or holds a NUL."""
    try:
        return os.path.isdir(path)
    except (OSError, ValueError):
        return False


def sha256(path: Path | str) -> str:
    """The SHA-256 of the file a path names (of the workbook, for ``book.xlsx#Sheet``), as hex."""
    return hashlib.sha256(split_sheet(path)[0].read_bytes()).hexdigest()
