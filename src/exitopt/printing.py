"""Page set-up shared by the workbooks exitopt writes (the briefing and the template), so that
every sheet prints as an analyst expects: A4 landscape, all columns on one page wide (as many
pages down as it takes), the header rows repeated on every page, and a page header and footer
naming what is printed, the date and the page number.

The date is Excel's print-date field (``&D``), filled in by the spreadsheet when the sheet is
printed, so the workbook's bytes do not depend on the day it was written.
"""

from __future__ import annotations

A4 = 9  # the paper code of A4 in Excel's page set-up
#: Excel's limit on a header or footer, field codes included
MAX_HEADER = 255

FOOTERS = {
    "zh": "&C第 &P 页，共 &N 页",
    "en": "&CPage &P of &N",
    "both": "&C第 &P 页，共 &N 页 · page &P of &N",
}


def _literal(text: str, room: int) -> str:
    """``text`` as literal header text: an ampersand doubled (Excel's escape), cut to ``room``."""
    out = ""
    for ch in str(text):
        piece = "&&" if ch == "&" else ch
        if len(out) + len(piece) > room:
            return out[: max(room - 1, 0)] + "…"
        out += piece
    return out


def page_header(left: str) -> str:
    """The page header: ``left`` (what is printed: briefing and scenario), the sheet's name in the
    middle, the print date on the right."""
    tail = "&C&A&R&D"
    return "&L" + _literal(left, MAX_HEADER - len(tail) - 2) + tail


def set_up_printing(ws, left: str, lang: str, repeat_rows: int = 1) -> None:
    """Set an xlsxwriter worksheet to print on A4 landscape, one page wide, with its first
    ``repeat_rows`` rows repeated on every page and the header and footer above (``lang``: zh,
    en, or both for a bilingual sheet)."""
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    if repeat_rows > 0:
        ws.repeat_rows(0, repeat_rows - 1)
    ws.set_header(page_header(left))
    ws.set_footer(FOOTERS.get(lang, FOOTERS["en"]))
