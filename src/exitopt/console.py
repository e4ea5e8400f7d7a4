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


def wrap_words(text: str, width: int, indent: str = "    ") -> list[str]:
    """``text`` as lines of at most ``width`` terminal cells, broken at spaces only, so that no
    number or word is split; continuation lines start with ``indent``. A single word wider than
    the line keeps a line of its own. Chinese characters count two cells, as a terminal draws them.
    """
    from rich.cells import cell_len

    lines: list[str] = []
    for paragraph in text.split("\n"):
        lead = paragraph[:len(paragraph) - len(paragraph.lstrip(" "))]
        words = paragraph.split()
        line = lead
        for word in words:
            gap = "" if line.strip() == "" else " "
            if line.strip() and cell_len(line + gap + word) > width:
                lines.append(line)
                line = lead + indent + word
            else:
                line = line + gap + word
        lines.append(line)
    return lines


class FrameTable:
    """A frame of texts as a table for the terminal, laid out for the width it is drawn at.

    Every column is as wide as its longest cell when that fits. When the terminal is narrow,
    headers, then the cells of the columns in ``wrap``, break at spaces; no cell of another column
    ever breaks, and no word or figure is split. Columns in ``right`` are right-aligned. Columns
    in ``optional`` are left out, in their order, while the table cannot fit otherwise; a caption
    says which.
    """

    GAP = 2  # spaces between columns

    def __init__(self, view, *, wrap: tuple[str, ...] = (), right: tuple[str, ...] = (),
                 optional: tuple[str, ...] = (), title: str | None = None, lang: str = "en") -> None:
        self.lang = lang
        self.columns = [str(c) for c in view.columns]
        self.rows = [["" if v is None else str(v) for v in row] for row in view.itertuples(index=False)]
        self.wrap, self.right, self.optional, self.title = set(wrap), set(right), tuple(optional), title

    def fits(self, widths: list[int], room: int) -> bool:
        return sum(widths) + self.GAP * (len(widths) - 1) <= room

    def without(self, column: str) -> FrameTable:
        j = self.columns.index(column)
        other = FrameTable.__new__(FrameTable)
        other.columns = self.columns[:j] + self.columns[j + 1:]
        other.rows = [row[:j] + row[j + 1:] for row in self.rows]
        other.wrap, other.right, other.title, other.lang = self.wrap, self.right, self.title, self.lang
        other.optional = tuple(c for c in self.optional if c != column)
        return other

    def widths(self, room: int) -> list[int]:
        from rich.cells import cell_len

        def longest_word(texts) -> int:
            return max([1, *(cell_len(w) for t in texts for w in t.split())])

        cells = [[row[j] for row in self.rows] for j in range(len(self.columns))]
        full = [max([cell_len(c), *(cell_len(x) for x in cs)]) for c, cs in zip(self.columns, cells, strict=False)]
        least = [max(longest_word([c]), longest_word(cs) if c in self.wrap else max([0, *map(cell_len, cs)]))
                 for c, cs in zip(self.columns, cells, strict=False)]
        room -= self.GAP * (len(self.columns) - 1)
        widths = list(full)
        # shrink the widest shrinkable column a cell at a time until the table fits (or nothing can)
        while sum(widths) > room:
            slack = [w - m for w, m in zip(widths, least, strict=False)]
            j = max(range(len(widths)), key=lambda k: (slack[k] > 0, widths[k] if slack[k] > 0 else -1))
            if slack[j] <= 0:
                break
            widths[j] -= 1
        return widths

    def __rich_console__(self, console, options):
        from rich import box
        from rich.table import Table

        shown, left_out = self, []
        widths = shown.widths(options.max_width)
        while not shown.fits(widths, options.max_width) and shown.optional:
            left_out.append(shown.optional[0])
            shown = shown.without(shown.optional[0])
            widths = shown.widths(options.max_width)
        caption = None
        if left_out:
            caption = (f"（终端太窄，未显示：{'、'.join(left_out)}）" if self.lang == "zh" else
                       f"(too narrow to show: {', '.join(left_out)})")
        table = Table(title=self.title, caption=caption, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      padding=(0, self.GAP // 2), collapse_padding=True)
        for col, w in zip(shown.columns, widths, strict=False):
            table.add_column(col, justify="right" if col in self.right else "left", width=w,
                             overflow="fold", header_style="bold")
        for row in shown.rows:
            table.add_row(*row)
        yield table


def frame_table(view, *, wrap: tuple[str, ...] = (), right: tuple[str, ...] = (), optional: tuple[str, ...] = (),
                title: str | None = None, lang: str = "en"):
    """:class:`FrameTable` of ``view`` (``lang``: the language of its caption)."""
    return FrameTable(view, wrap=wrap, right=right, optional=optional, title=title, lang=lang)
