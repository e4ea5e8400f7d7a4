"""Charts of a run (PNG, matplotlib without a display): exits by sector and year, the capacity
path of each product against its rules, workers displaced and outlay by year and region, and the
concentration path.

Chinese labels need a font with Chinese glyphs: one already known to matplotlib (e.g. Microsoft
YaHei or SimHei on Windows), else one that ``fc-list :lang=zh`` reports. When none is found, the
charts are labelled in English and :func:`make_charts` returns a note saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import labels
from .run import PRODUCT_ORDER, Run

CJK_FAMILIES = ("Microsoft YaHei", "SimHei", "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "PingFang SC", "Heiti SC", "Noto Sans CJK JP")
SECTOR_ORDER = ("coal", "steel", "cement")
COLOURS = {"coal": "#4d4d4d", "pig_iron": "#b2182b", "crude_steel": "#ef8a62", "rolled_steel": "#8c510a",
           "clinker": "#2166ac", "cement": "#67a9cf", "steel": "#d6604d", "other": "#999999"}
DPI = 110


@dataclass
class Chart:
    """A chart written to disk: file name, title (in the labels' language)."""

    file: str
    title: str


def find_cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        for fam in CJK_FAMILIES:
            if fam in names:
                return fam
        return next((n for n in sorted(names) if "CJK" in n and "Mono" not in n), None)

    found = known()
    if found or shutil.which("fc-list") is None:
        return found
    try:
        listing = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20,
                                 check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        path = line.split(":")[0].strip()
        if path.lower().endswith((".ttf", ".otf", ".ttc")):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return known()


def _ordered(values, order) -> list:
    """The distinct text values, in ``order`` first, then any others alphabetically."""
    vals = [v for v in pd.unique(pd.Series(list(values))) if isinstance(v, str)]
    return [v for v in order if v in vals] + sorted(v for v in vals if v not in order)


def _years(run: Run) -> list[int]:
    """The planning years of the run (from summary.csv)."""
    return sorted(int(y) for y in run.summary["year"].dropna().unique())


def _no_data(ax, lang: str) -> None:
    """Mark an empty panel as such instead of drawing empty axes."""
    ax.text(0.5, 0.5, labels.text("no_data", lang), ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _stack(ax, table: pd.DataFrame, names: dict[str, str], colours: dict[str, str], horizontal=False) -> None:
    """Stacked bars of ``table`` (index = bar, columns = segments); negatives stack below zero."""
    x = list(range(len(table.index)))
    pos = [0.0] * len(x)
    neg = [0.0] * len(x)
    for col in table.columns:
        vals = [float(v) for v in table[col].fillna(0.0)]
        bottoms = [p if v >= 0 else n for v, p, n in zip(vals, pos, neg, strict=False)]
        kw = dict(color=colours.get(col, COLOURS["other"]), label=names.get(col, col), edgecolor="white",
                  linewidth=0.5)
        if horizontal:
            ax.barh(x, vals, left=bottoms, **kw)
        else:
            ax.bar(x, vals, bottom=bottoms, **kw)
        pos = [p + v if v >= 0 else p for v, p in zip(vals, pos, strict=False)]
        neg = [n + v if v < 0 else n for v, n in zip(vals, neg, strict=False)]
    ticks = [str(i) for i in table.index]
    if horizontal:
        ax.set_yticks(x, ticks)
    else:
        ax.set_xticks(x, ticks)
    if any(n < 0 for n in neg):
        (ax.axvline if horizontal else ax.axhline)(0, color="black", linewidth=0.6)


def _figure_legend(fig, axes, ncol: int = 6) -> None:
    """One legend below all panels, each label once (panels keep their plotting area clear)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=False):
            seen.setdefault(lab, h)
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="lower center", ncol=min(ncol, len(seen)),
                   frameon=False, fontsize=9)


def _headroom(ax, factor: float = 1.15) -> None:
    """Room above the bars for their labels."""
    lo, hi = ax.get_ylim()
    if hi > 0:
        ax.set_ylim(lo, hi * factor)


def _thousands(ax, axis: str = "y") -> None:
    """Tick labels with thousands separators and as many decimals as the tick step needs."""
    import math

    from matplotlib.ticker import Formatter

    def label(x: float, step: float) -> str:
        decimals = 0 if step >= 1 else min(int(math.ceil(-math.log10(step) - 1e-9)), 4)
        if abs(x) < step / 2:
            x = 0.0
        return f"{x + 0.0:,.{decimals}f}"

    class Thousands(Formatter):
        def format_ticks(self, values):
            locs = sorted(values)
            step = min((b - a for a, b in zip(locs, locs[1:], strict=False) if b > a), default=1.0)
            return [label(v, step) for v in values]

        def __call__(self, x, pos=None):
            return label(x, 1.0)

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(Thousands())


def thousands(ax, axis: str = "y") -> None:
    """Tick labels of ``axis`` ("x" or "y") with thousands separators (160,000, not 160000), for
    every chart of exitopt."""
    _thousands(ax, axis)


def bilingual(zh: str, en: str) -> str:
    """A label of a chart drawn without a language option (the frontier, the sweep pictures):
    Chinese first, then English ("分流职工(人) / displaced workers (persons)"), or English alone
    when no Chinese font is installed."""
    return f"{zh} / {en}" if find_cjk_font() else en


def chart_exits(run: Run, lang: str):
    """One panel per sector: capacity exiting per year, stacked by product, units counted on top."""
    import matplotlib.pyplot as plt

    ex = run.exiting
    years = _years(run)
    sectors = _ordered(run.schedule["sector"], SECTOR_ORDER)
    n = max(len(sectors), 1)
    fig, axes = plt.subplots(1, n, figsize=(max(4.0 * n, 7.0), 4.2), squeeze=False)
    for ax, sec in zip(axes[0], sectors, strict=False):
        s = ex[ex["sector"] == sec]
        prods = _ordered(run.schedule.loc[run.schedule["sector"] == sec, "product"], PRODUCT_ORDER)
        table = (s.pivot_table(index="exit_year", columns="product", values="capacity", aggfunc="sum")
                 .reindex(index=years, columns=prods).fillna(0.0))
        _stack(ax, table, {p: labels.product(p, lang) for p in prods}, COLOURS)
        counts = s.groupby("exit_year").size().reindex(years).fillna(0).astype(int)
        tops = table.clip(lower=0).sum(axis=1)
        for i, (n, top) in enumerate(zip(counts, tops, strict=False)):
            if n:
                ax.annotate(f"{n}", (i, top), ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                            textcoords="offset points")
        ax.set_title(labels.sector(sec, lang))
        ax.set_ylabel(labels.text("chart_exits_y", lang))
        _thousands(ax)
        _headroom(ax)
    fig.suptitle(labels.text("chart_exits", lang) + f" ({labels.text('units', lang)}: n)")
    _figure_legend(fig, axes.flat)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def chart_paths(run: Run, lang: str):
    """One panel per product: capacity left and cumulative counted exits by year, with the rules'
    supply floors, utilisation ceilings and exit targets marked in the years they apply."""
    import matplotlib.pyplot as plt

    prods = _ordered(run.summary["product"], PRODUCT_ORDER)
    ncol = min(3, max(len(prods), 1))
    nrow = max((len(prods) + ncol - 1) // ncol, 1)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(4.2 * ncol, 7.5), 3.4 * nrow + 0.6), squeeze=False)
    cons = run.constraints
    for k, ax in enumerate(axes.flat):
        if k >= len(prods):
            ax.set_visible(False)
            continue
        p = prods[k]
        s = run.summary[run.summary["product"] == p].sort_values("year")
        yrs = s["year"].astype(int).tolist()
        ax.plot(yrs, s["capacity_left"], marker="o", color="#2166ac",
                label=labels.text("capacity_left", lang))
        ax.plot(yrs, s["counted"].cumsum(), linestyle="--", color="grey", label=labels.text("cum_counted", lang))
        c = cons[(cons["product"] == p) & cons["year"].notna() & cons["required"].notna()]
        marks = (("supply", "^", "#1a9850", "floor"), ("utilisation", "v", "#d73027", "ceiling"),
                 ("target", "*", "#7b3294", "target"))
        for rule, marker, colour, key in marks:
            r = c[c["rule"] == rule]
            if not r.empty:
                ax.scatter(r["year"].astype(int), r["required"], marker=marker, s=70, color=colour, zorder=3,
                           label=labels.text(key, lang))
        ax.set_title(labels.product(p, lang))
        ax.set_xticks(yrs, [str(y) for y in yrs])
        ax.set_ylim(bottom=0)
        _thousands(ax)
    fig.suptitle(labels.text("chart_paths", lang) + f" ({labels.text('chart_exits_y', lang)})")
    _figure_legend(fig, axes.flat)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def chart_people(run: Run, lang: str):
    """Workers displaced and outlay (万元, undiscounted, losses subsidised included), by year stacked
    by sector and by region."""
    import matplotlib.pyplot as plt

    years = _years(run)
    sched = run.schedule
    ex = run.exiting
    sectors = _ordered(sched["sector"], SECTOR_ORDER)
    names = {s: labels.sector(s, lang) for s in sectors}
    sector_of = sched.drop_duplicates("product").set_index("product")["sector"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    w_year = (ex.pivot_table(index="exit_year", columns="sector", values="workers_displaced", aggfunc="sum")
              .reindex(index=years, columns=sectors).fillna(0.0))
    summ = run.summary.assign(sector=run.summary["product"].map(sector_of).fillna("other"))
    o_year = (summ.pivot_table(index="year", columns="sector", values="outlay", aggfunc="sum")
              .reindex(index=years, columns=sectors).fillna(0.0))
    for ax, table in ((axes[0, 0], w_year), (axes[0, 1], o_year)):
        if table.abs().to_numpy().sum() > 0:
            _stack(ax, table, names, COLOURS)
            _thousands(ax)
            ax.legend(fontsize=8, frameon=False)
        else:
            _no_data(ax, lang)
    w_reg = ex.groupby("region")["workers_displaced"].sum()
    w_reg = w_reg[w_reg.abs() > 0.5].sort_values()
    spent = sched.assign(total=sched["outlay"].fillna(0.0) + sched.get("losses_paid", 0.0))
    o_reg = spent.groupby("region")["total"].sum()
    o_reg = o_reg[o_reg.abs() > 0.05].sort_values()
    for ax, series, colour in ((axes[1, 0], w_reg, "#4393c3"), (axes[1, 1], o_reg, "#d6604d")):
        if series.empty:
            _no_data(ax, lang)
        else:
            ax.barh(range(len(series)), series.values, color=colour)
            ax.set_yticks(range(len(series)), [run.names.region(i, lang) for i in series.index], fontsize=8)
            if (series < 0).any():
                ax.axvline(0, color="black", linewidth=0.6)
        _thousands(ax, "x")
    for ax, key in ((axes[0, 0], "workers_by_year"), (axes[0, 1], "outlay_by_year"),
                    (axes[1, 0], "workers_by_region"), (axes[1, 1], "outlay_by_region")):
        ax.set_title(labels.text(key, lang), fontsize=10)
    fig.suptitle(labels.text("chart_people", lang))
    fig.tight_layout()
    return fig


def chart_concentration(run: Run, lang: str):
    """The top-k share of remaining capacity by year for each product with a concentration rule,
    the required share marked; None when the run has no concentration figures."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    s = run.summary[run.summary["concentration"].notna()]
    if s.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    cons = run.constraints
    for p in _ordered(s["product"], PRODUCT_ORDER):
        q = s[s["product"] == p].sort_values("year")
        k = q["concentration_k"].dropna()
        top = labels.text("top_k", lang).format(k=int(k.iloc[0])) if not k.empty else ""
        ax.plot(q["year"].astype(int), q["concentration"], marker="o", color=COLOURS.get(p, "black"),
                label=f"{labels.product(p, lang)} {top}".strip())
        r = cons[(cons["rule"] == "concentration") & (cons["product"] == p) & cons["year"].notna()]
        if not r.empty:
            ax.scatter(r["year"].astype(int), r["required"], marker="_", s=400, linewidths=2.5, color="#d73027",
                       zorder=3, label=f"{labels.product(p, lang)} {labels.text('required_share', lang)}")
    years = _years(run)
    ax.set_xticks(years, [str(y) for y in years])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title(labels.text("chart_concentration", lang))
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def cjk_rc() -> dict:
    """Matplotlib settings that label charts with the Chinese font :func:`find_cjk_font` finds (Latin
    text falls back to DejaVu Sans); empty when there is none. Every chart of exitopt uses this."""
    family = find_cjk_font()
    if not family:
        return {}
    return {"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"]}


CHARTS = (("exits.png", "chart_exits", chart_exits), ("capacity_paths.png", "chart_paths", chart_paths),
          ("workers_outlay.png", "chart_people", chart_people),
          ("concentration.png", "chart_concentration", chart_concentration))


def make_charts(run: Run, folder: Path, lang: str) -> tuple[list[Chart], str | None]:
    """Write the charts of ``run`` as PNG files into ``folder``; return them and a note (or None).

    With ``lang == "zh"`` and no Chinese font installed, the charts fall back to English labels
    and the note says so.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    note = None
    rc = {"axes.spines.top": False, "axes.spines.right": False, "axes.unicode_minus": False}
    chart_lang = lang
    if lang == "zh":
        cjk = cjk_rc()
        if cjk:
            rc.update(cjk)
        else:
            chart_lang, note = "en", labels.text("font_note", "zh")
    written = []
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]  # the keys are rc names
        for file, title, draw in CHARTS:
            fig = draw(run, chart_lang)
            if fig is None:
                continue
            try:
                fig.savefig(Path(folder) / file, dpi=DPI)
            finally:
                plt.close(fig)
            written.append(Chart(file, labels.text(title, chart_lang)))
        if run.regret is not None:  # a robust run folder: the regret across its cases
            from .regret import chart_regret, word

            fig = chart_regret(run.regret, chart_lang)
            try:
                fig.savefig(Path(folder) / "regret.png", dpi=DPI)
            finally:
                plt.close(fig)
            written.append(Chart("regret.png", word("chart", chart_lang)))
    return written, note
