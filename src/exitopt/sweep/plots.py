"""Pictures of a sweep (PNG, matplotlib's Agg backend, imported only when drawing).

* ``response.png`` — jobs (persons), fiscal cost (万元, present value) and total exits
  (万吨/yr) against each axis; one line per variant through the median over the other axes
  (points only for sampled axes).
* ``tornado.png`` — each axis's effect on the objective, one panel per variant (up to 6):
  the median objective of the cases at the axis's low end and at its high end (lowest and
  highest quarter for a sampled axis), as bars around the median of the variant's cases;
  the widest bar moves the plan most.
* ``unit_frequency.png`` — how often each unit exits across the solved cases, for up to 40
  units that exit by choice (not forced by a mandatory rule), sorted by frequency: the units
  that exit in some cases only (marginal, most frequent first) and at least a quarter of the
  bars for those that exit in every case (robust).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from ..report.charts import bilingual, thousands
from .spec import BASELINE, Sweep

MAX_LINE_VALUES = 25  # an axis with more distinct values is drawn as points
TOP_UNITS = 40
MAX_TORNADO_PANELS = 6  # variants drawn in tornado.png


def _pyplot():
    """matplotlib.pyplot on the Agg backend, with the Chinese font the briefing's charts use (for
    万元/万吨 labels) when one is installed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.charts import cjk_rc

    plt.rcParams.update(cjk_rc())
    return plt


def _save(fig, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph missing from every installed font
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    os.replace(tmp, path)


def response(ok: pd.DataFrame, sweep: Sweep, products: list[str], path: Path) -> None:
    """Jobs, fiscal and total exits against each axis, one line per variant."""
    plt = _pyplot()
    axes = sweep.spec.axes
    data = ok.copy()
    data["total exits"] = data[[f"exits_{p}" for p in products]].sum(axis=1)
    metrics = [("jobs", bilingual("分流职工(人)", "jobs (persons displaced)")),
               ("fiscal", bilingual("财政支出现值(万元)", "fiscal (万元, present value)")),
               ("total exits", bilingual("退出产能合计(万吨/年)", "total exits (万吨/yr)"))]
    fig, grid = plt.subplots(len(metrics), len(axes), figsize=(3.6 * len(axes) + 0.8, 8.2), squeeze=False)
    variants = list(dict.fromkeys(data["variant"]))
    for j, axis in enumerate(axes):
        for i, (col, label) in enumerate(metrics):
            ax = grid[i][j]
            for k, v in enumerate(variants):
                d = data[data["variant"] == v]
                colour = f"C{k}"
                ax.scatter(d[axis.name], d[col], s=10, alpha=0.35, color=colour)
                if not axis.sampled and d[axis.name].nunique() <= MAX_LINE_VALUES:
                    med = d.groupby(axis.name)[col].median()
                    ax.plot(med.index, med.values, marker="o", ms=3, color=colour, label=v,
                            linestyle=("-", "--", ":", "-.")[k % 4])
                elif i == 0:
                    ax.scatter([], [], color=colour, label=v)
            if j == 0:
                ax.set_ylabel(label)
            if i == len(metrics) - 1:
                ax.set_xlabel(axis.name)
            thousands(ax, "y")
            thousands(ax, "x")
            ax.grid(alpha=0.3)
    grid[0][0].legend(fontsize=8, loc="best")
    fig.suptitle(f"{sweep.name}: " + bilingual(f"各参数的影响(已求解{len(data):,}个算例)",
                                               f"response to each axis ({len(data):,} solved cases)"))
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def tornado_effects(ok: pd.DataFrame, sweep: Sweep, variant: str = BASELINE) -> pd.DataFrame:
    """Per axis, within one variant: low and high values and the median objective of the cases there.

    The reference is the median objective of all the variant's solved cases. A listed axis is
    read at its smallest and largest value, a sampled one over its lowest and highest quarter.
    """
    base = ok[ok["variant"] == variant]
    rows = []
    for axis in sweep.spec.axes:
        x = base[axis.name]
        if x.nunique() < 2:
            continue
        if axis.sampled:
            lo_mask, hi_mask = x <= x.quantile(0.25), x >= x.quantile(0.75)
        else:
            lo_mask, hi_mask = x == x.min(), x == x.max()
        rows.append(dict(axis=axis.name, low_value=float(x[lo_mask].median()), high_value=float(x[hi_mask].median()),
                         low=float(base.loc[lo_mask, "objective"].median()),
                         high=float(base.loc[hi_mask, "objective"].median())))
    df = pd.DataFrame(rows, columns=["axis", "low_value", "high_value", "low", "high"])
    df["reference"] = float(base["objective"].median()) if len(base) else float("nan")
    df["span"] = (df["high"] - df["low"]).abs()
    return df.sort_values("span").reset_index(drop=True)


def tornado(ok: pd.DataFrame, sweep: Sweep, path: Path) -> None:
    """Horizontal bars per variant: objective at each axis's low and high end, around the median."""
    plt = _pyplot()
    variants = list(dict.fromkeys(ok["variant"]))[:MAX_TORNADO_PANELS]
    n_axes = max(len(sweep.spec.axes), 1)
    fig, panels = plt.subplots(len(variants), 1, figsize=(8.5, len(variants) * (1.2 + 0.6 * n_axes)), squeeze=False)
    for ax, variant in zip(panels[:, 0], variants, strict=False):
        eff = tornado_effects(ok, sweep, variant)
        if eff.empty:
            ax.text(0.5, 0.5, bilingual("已求解算例中没有参数变化", "no axis varies among the solved cases"),
                    ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_yticks([])
        else:
            ref = float(eff["reference"].iloc[0])
            ys = range(len(eff))
            ax.barh(ys, eff["low"] - ref, left=ref, color="C0", label=bilingual("参数取低值", "axis at its low end"))
            ax.barh(ys, eff["high"] - ref, left=ref, color="C3", alpha=0.8,
                    label=bilingual("参数取高值", "axis at its high end"))
            ax.axvline(ref, color="k", lw=0.8)
            ax.set_yticks(list(ys))
            ax.set_yticklabels([f"{a}\n{lo:,.4g} → {hi:,.4g}" for a, lo, hi in
                                zip(eff["axis"], eff["low_value"], eff["high_value"], strict=True)], fontsize=8)
            ax.set_xlabel(bilingual(f"目标值(该方案已求解算例的中位数 = {ref:,.0f})",
                                    f"objective (median of the variant's solved cases = {ref:,.0f})"), fontsize=8)
            thousands(ax, "x")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_title(bilingual(f"方案：{variant}", f"variant: {variant}"), fontsize=9)
    fig.suptitle(f"{sweep.name}: " + bilingual("各参数对目标值的影响", "effect of each axis on the objective"))
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def pick_units(freq: pd.DataFrame, top: int = TOP_UNITS) -> pd.DataFrame:
    """The units to draw: those that exit by choice in some cases but not all (most frequent
    first), and up to a quarter of the bars for those that exit in every case; by frequency."""
    chosen = freq[freq["cases_exiting"] > freq["cases_forced"]]
    robust = chosen[chosen["exit_share"] >= 1.0]
    marginal = chosen[chosen["exit_share"] < 1.0]
    n_robust = min(len(robust), max(top - len(marginal), top // 4))
    picked = pd.concat([robust.head(n_robust), marginal.head(top - n_robust)])
    return picked.sort_values(["exit_share", "capacity", "unit_id"], ascending=[False, False, True])


def frequency(freq: pd.DataFrame, n_solved: int, path: Path, title: str) -> None:
    """How often each unit exits by choice: robust (every case) to marginal (some cases)."""
    plt = _pyplot()
    chosen = freq[freq["cases_exiting"] > freq["cases_forced"]]
    robust = int((chosen["exit_share"] >= 1.0).sum())
    picked = pick_units(freq)
    shown_robust = int((picked["exit_share"] >= 1.0).sum())
    top = picked.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8.5, 1.4 + 0.22 * max(len(top), 1)))
    colours = ["C2" if s >= 1.0 else "C1" for s in top["exit_share"]]
    ax.barh(range(len(top)), top["exit_share"] * 100, color=colours)
    ax.set_yticks(range(len(top)))
    ax.set_yticklabels([f"{u} ({p}, {c:,.0f})" for u, p, c in zip(top["unit_id"], top["product"], top["capacity"], strict=True)],
                       fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel(bilingual(f"在{n_solved:,}个已求解算例中退出的比例(%)",
                            f"share of the {n_solved:,} solved cases in which the unit exits (%)"))
    zh = (f"{robust}个单位在全部算例中均选择退出(绿色,显示{shown_robust}个),{len(chosen) - robust}个在部分算例中"
          f"退出(橙色,显示{len(picked) - shown_robust}个);强制退出的单位不列入,unit_frequency.csv列出全部单位")
    en = (f"{robust} unit(s) exit by choice in every case (green, {shown_robust} shown), "
          f"{len(chosen) - robust} in some (orange, {len(picked) - shown_robust} shown)\n"
          f"units forced out by a mandatory rule are left out; unit_frequency.csv lists every unit")
    ax.set_title(f"{title}: " + (f"{zh}\n{en}" if bilingual(zh, en) != en else en), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def draw_all(out: Path, ok: pd.DataFrame, sweep: Sweep, products: list[str], freq: pd.DataFrame,
             n_solved: int) -> list[str]:
    """Draw every picture into ``out``; return the file names."""
    out = Path(out)
    names = []
    if sweep.spec.axes:
        response(ok, sweep, products, out / "response.png")
        tornado(ok, sweep, out / "tornado.png")
        names += ["response.png", "tornado.png"]
    frequency(freq, n_solved, out / "unit_frequency.png", sweep.name)
    names.append("unit_frequency.png")
    return names
