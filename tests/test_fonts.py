"""Every chart (briefing, sweep, frontier) finds Chinese glyphs the same way."""

from __future__ import annotations

import io
import warnings

import pytest

from exitopt.report.charts import cjk_rc, find_cjk_font


def _draws_without_missing_glyphs(plt, text: str) -> None:
    fig, ax = plt.subplots()
    ax.set_title(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


@pytest.mark.skipif(find_cjk_font() is None, reason="no font with Chinese glyphs installed (fonts-noto-cjk)")
def test_sweep_charts_use_the_briefing_font_finder():
    import matplotlib

    from exitopt.sweep.plots import _pyplot

    plt = _pyplot()
    assert plt.rcParams["font.sans-serif"][0] == find_cjk_font() == cjk_rc()["font.sans-serif"][0]
    try:
        _draws_without_missing_glyphs(plt, "财政支出(万元,现值)")
    finally:
        matplotlib.rcdefaults()


def test_sweep_charts_fall_back_when_no_chinese_font(monkeypatch):
    import matplotlib

    from exitopt.report import charts
    from exitopt.sweep.plots import _pyplot

    monkeypatch.setattr(charts, "find_cjk_font", lambda: None)
    assert charts.cjk_rc() == {}
    before = list(matplotlib.rcParams["font.sans-serif"])
    plt = _pyplot()
    assert list(plt.rcParams["font.sans-serif"]) == before
    _draws_without_missing_glyphs(plt, "jobs (persons)")
