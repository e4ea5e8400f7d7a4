"""The briefing pack made from a run folder, and the comparison of two runs.

``make_report(run_dir, lang="zh")`` writes, into ``run_dir/report_<lang>/`` unless told otherwise:

- ``briefing.xlsx``: overview, schedule, summary, constraints and new capacity sheets;
- ``exits.png``, ``capacity_paths.png``, ``workers_outlay.png``, ``concentration.png``;
- ``briefing.html``: one self-contained page with the headline figures, the charts and the
  rules that bind;
- ``briefing.docx`` (with ``docx=True``): the briefing as a Word document, with what differs from
  another run when given ``compare``.

A folder that ``exitopt robust`` wrote gets the same pack with its regret across the cases
added (:mod:`.regret`): the chart, a table in the page and the Word briefing, a workbook sheet.

``compare_runs(run_a, run_b)`` lists what differs between two run folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .compare import Comparison, compare_runs
from .labels import LANGS
from .run import Run, read_run

__all__ = ["Comparison", "Report", "Run", "compare_runs", "make_report", "read_run"]


@dataclass
class Report:
    """What make_report wrote: the folder, its files, and a note about the charts (or None)."""

    folder: Path
    files: list[str]
    note: str | None = None


def make_report(run_dir: Path | str, lang: str = "zh", out: Path | str | None = None, *,
                force: bool = False, docx: bool = False, compare: Path | str | None = None) -> Report:
    """Write the briefing pack of a run folder (see the module docstring); atomic: either the whole
    folder appears or nothing changes. ``docx`` adds the Word briefing, and ``compare`` (another
    run folder) its comparison with that run. InputError for a bad run folder or language, or a
    ``compare`` without ``docx``; OutputError when the output folder holds files and ``force`` is
    not given."""
    from ..output import staged_folder
    from .charts import make_charts
    from .html import build_html
    from .workbook import write_workbook

    if lang not in LANGS:
        raise InputError(f"language {lang!r} is not offered: use zh (Chinese) or en (English).")
    if compare is not None and not docx:
        raise InputError("--compare adds a section to the Word briefing: add --docx (the workbook and the page "
                         "show one run; `exitopt compare RUN_A RUN_B` lists the differences on the console).")
    run = read_run(run_dir)
    other = read_run(compare) if compare is not None else None
    target = Path(out) if out is not None else Path(run_dir) / f"report_{lang}"
    with staged_folder(target, force=force) as tmp:
        write_workbook(run, tmp / "briefing.xlsx", lang)
        charts, note = make_charts(run, tmp, lang)
        page = build_html(run, charts, tmp, lang, note)
        (tmp / "briefing.html").write_text(page, encoding="utf-8")
        if docx:
            from .word import write_docx

            comparison = compare_runs(other, run) if other is not None else None
            write_docx(run, charts, tmp, tmp / "briefing.docx", lang, note, comparison)
    files = ["briefing.xlsx", "briefing.html"] + (["briefing.docx"] if docx else []) + [c.file for c in charts]
    return Report(target, files, note)
