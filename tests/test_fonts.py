"""Every chart (briefing, sweep, frontier) finds Chinese glyphs the same way."""

from __future__ import annotations

import io
import warnings

import pytest

from conftest import CHINESE_SAMPLE
from exitopt.report.charts import find_cjk_font


def _draws_without_missing_glyphs(plt, text: str) -> None:
    fig, ax = plt.subplots()
    ax.set_title(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def test_sweep_charts_use_the_briefing_font_finder(chinese_font_files):
    import matplotlib
    from matplotlib import font_manager, ft2font

    from exitopt.sweep.plots import _pyplot

    if not chinese_font_files:
        pytest.skip("no installed font holds Chinese glyphs (install fonts-noto-cjk)")
    # a font that draws Chinese is installed: the finder names one, and the font file of that name
    # holds the glyphs (read from its character map)
    family = find_cjk_font()
    assert family is not None
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    font = ft2font.FT2Font(path)
    assert all(font.get_char_index(ord(ch)) for ch in CHINESE_SAMPLE if ord(ch) > 0x2E80), (family, path)
    plt = _pyplot()
    assert plt.rcParams["font.sans-serif"][0] == family
    try:
        _draws_without_missing_glyphs(plt, CHINESE_SAMPLE)
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
