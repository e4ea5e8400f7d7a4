"""Output that any console can take: on a legacy code page (cp1252 on an English Windows, cp936
on a Chinese one, as Windows sets them when output is redirected to a file), a character the code
page lacks is written as a readable stand-in instead of stopping the command with an error:
万元 → "10k yuan", 万吨 → "10 kt", ≥ → ">=", and any other → "?".
"""

from __future__ import annotations

import codecs
import sys

#: words first (a whole unit reads better than its characters one by one), then single characters
WORDS = (("万元", "10k yuan"), ("万吨", "10 kt"), ("万", "10k "))
CHARS = {"≥": ">=", "≤": "<=", "≠": "!=", "×": "x", "−": "-", "–": "-", "—": "-", "…": "...", "→": "->",
         "←": "<-", "·": ".", "‘": "'", "’": "'", "“": '"', "”": '"', "▲": "^", "▼": "v", "★": "*", "█": "#",
         "━": "-", "─": "-", "│": "|", "┃": "|", "╇": "+", "┼": "+", "\u00a0": " ", "✓": "v", "✗": "x"}
ERRORS = "exitopt-readable"


def stand_in(text: str) -> str:
    """``text`` with every character outside plain ASCII replaced as the module docstring says."""
    for word, plain in WORDS:
        text = text.replace(word, plain)
    return "".join(c if ord(c) < 128 else CHARS.get(c, "?") for c in text)


def _handler(e: UnicodeError) -> tuple[str, int]:
    if not isinstance(e, UnicodeEncodeError):
        raise e
    # replace the whole run the code page cannot take, then let the codec go on after it
    return stand_in(e.object[e.start:e.end]), e.end


codecs.register_error(ERRORS, _handler)


def readable_streams() -> None:
    """Make stdout and stderr write stand-ins for characters their encoding lacks (UTF-8 streams,
    which take every character, are left as they are)."""
    for stream in (sys.stdout, sys.stderr):
        enc = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if enc.startswith("utf") or not hasattr(stream, "reconfigure"):
            continue
        try:
            stream.reconfigure(errors=ERRORS)
        except (ValueError, OSError):  # a stream that cannot be reconfigured: leave it
            continue
