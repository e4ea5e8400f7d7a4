"""What ``pareto``, ``alternatives``, ``sweep``, ``robust`` and ``serve`` print in Chinese
(``--lang zh``) besides their tables: progress lines, summary lines, the messages at the time
limit and the meeting room's console lines. Case ids, unit ids, file names, addresses and
figures stay as they are.
"""

from __future__ import annotations

import math
import re

from .report import labels

#: the line every command ends with once its files are written
WRITTEN = {"en": "written to {target}", "zh": "已写入 {target}"}

#: what a command says on stderr when its time limit cut it short
LIMIT = {
    "pareto": {
        "en": "[yellow]stopped at the time limit:[/] the frontier written is what was found in time "
              "(points left out, or not proven within the gap: see the status column).",
        "zh": "[yellow]达到时间上限：[/]写入的前沿是在时间内找到的部分（有的点略去，或未在间隙内证明最优：见求解状态一列）。",
    },
    "alternatives": {
        "en": "[yellow]stopped at the time limit:[/] the plans written are those found in time (the "
              "search for more cut short, or plans not proven the farthest: see the status column).",
        "zh": "[yellow]达到时间上限：[/]写入的是在时间内找到的方案（继续寻找被中断，或方案未证明差异最大：见求解状态一列）。",
    },
    "robust": {
        "en": "[yellow]stopped at the time limit:[/] the plan written is the best found in time (see status "
              "in run.json, and own_status in regret.csv for the cases' own optima).",
        "zh": "[yellow]达到时间上限：[/]写入的是在时间内找到的最好方案（见 run.json 中的求解状态，各情形自身最优方案的"
              "求解状态见 regret.csv）。",
    },
}

#: the meeting room's console lines (``exitopt serve``)
SERVE = {
    "solving": {"en": "[dim]… solving the scenario once, so that the page opens on its plan[/]",
                "zh": "[dim]… 先求解一次情景，使网页打开时即显示其方案[/]"},
    "no_plan": {"en": "[yellow]the scenario as it stands has no plan:[/] {problem}\nThe page opens "
                      "without one; change numbers there and solve.",
                "zh": "[yellow]情景按现状没有可行方案：[/]{problem}\n网页打开时不显示方案；可在网页上修改数字后求解。"},
    "open": {"en": "exitopt serve: open {url}  (Ctrl+C stops it; plans are kept only while it runs)",
             "zh": "会商页面已启动：请打开 {url}（按 Ctrl+C 停止；方案只在运行期间保留）"},
    "network": {"en": "[yellow]serving to the network:[/] others open {others} — give this address, with its "
                      "access token, only to the people who should see the plans.",
                "zh": "[yellow]正向网络提供页面：[/]其他人打开 {others}；请只把这个地址（含访问令牌）告诉应当看到方案的人。"},
    "stopped": {"en": "stopped; the plans of this run were discarded (download what you need before stopping).",
                "zh": "已停止；本次运行的方案已丢弃（停止前请先下载需要的内容）。"},
}

OBJECTIVES = {"expected": "期望成本最小", "worst": "最坏情形成本最小", "regret": "最大遗憾最小"}
SWEEP_STATUS = {"optimal": "最优", "limit": "达到时间上限", "infeasible": "无可行方案", "error": "出错",
                "killed": "已中止", "cached": "已有结果"}

#: progress lines of pareto, alternatives and robust: (pattern, Chinese with the groups in it)
PROGRESS = (
    (r"end point: fewest jobs lost", "端点：分流职工最少"),
    (r"end point: least fiscal outlay", "端点：财政支出最少"),
    (r"end point: least fiscal outlay not found within the time limit; left out",
     "端点“财政支出最少”未在时间上限内求得，略去"),
    (r"point (\d+) of (\d+): jobs ≤ ([\d,]+) persons", r"第\1点（共\2点）：分流职工不超过 \3 人"),
    (r"point (\d+): no plan found within the time limit; left out", r"第\1点：时间上限内未找到方案，略去"),
    (r"the optimum", "最优方案"),
    (r"alternative (\d+) of (\d+)", r"备选方案\1（共\2个）"),
    (r"alternative (\d+): no plan found within the time limit; the search stops here",
     r"备选方案\1：时间上限内未找到方案，搜索到此为止"),
    (r"no further plan within the bound differs from the (\d+) found", r"成本界限内没有与已找到的 \1 个方案都不同的方案了"),
    (r"(\S+): its own optimum \((\d+) of (\d+)\)", r"\1：自身最优方案（第\2个，共\3个）"),
    (r"the shared plan of (\d+) case\(s\): building", r"\1个情形的统一方案：建立模型"),
)


def progress(message: str) -> str | None:
    """A progress line of pareto, alternatives or robust in Chinese; None when not known here."""
    for pattern, zh in PROGRESS:
        m = re.fullmatch(pattern, message)
        if m:
            return m.expand(zh)
    m = re.fullmatch(r"the shared plan of (\d+) case\(s\): solving \((.+)\)", message)
    if m:
        title = next((OBJECTIVES[k] for k, v in _titles().items() if v == m[2]), m[2])
        return f"{m[1]}个情形的统一方案：求解（{title}）"
    m = re.fullmatch(r"block (.+): (\d+) distinct case\(s\)", message)
    if m:
        products = "、".join(labels.product(p, "zh") for p in m[1].split(", "))
        return f"产品块 {products}：{m[2]}个不同情形"
    return None


def _titles() -> dict[str, str]:
    from .robust.problem import OBJECTIVE_TITLES

    return OBJECTIVE_TITLES


#: sweep/runner.py's WORDS in Chinese: the progress of a sweep
SWEEP_PROGRESS = {"done": "{label}：已完成 {done}/{total} 个情形", "tally": "（{tally}）", "elapsed": "，已用 {clock}",
                  "left": "，约剩 {eta}", "bar_elapsed": "已用", "bar_eta": "预计剩余",
                  "stopping": "正在停止…（已完成的情形保留在台账中）", "status": SWEEP_STATUS}


def sweep_label(name: str, where: str) -> str:
    """The progress's label: the sweep and where it runs (N process(es), Dask (N thread(s)))."""
    m = re.fullmatch(r"(\d+) process\(es\)", where)
    if m:
        return f"{name}（{m[1]} 个进程）"
    m = re.fullmatch(r"Dask \((\d+) thread\(s\)\)", where)
    if m:
        return f"{name}（Dask，{m[1]} 个线程）"
    return f"{name}（{where}）"


def sweep_report(rep) -> str:
    """:func:`exitopt.sweep.format_report` in Chinese."""
    tally = " · ".join(f"{SWEEP_STATUS.get(k, k)} {v}" for k, v in sorted(rep.counts.items()))
    done = f"（其中 {rep.skipped} 个已在台账中）" if rep.skipped else ""
    lines = [f"{rep.name}：{rep.cases} 个情形{done}：{tally}；用时 {rep.seconds / 60:.1f} 分钟",
             f"已写入 {rep.out}：{' '.join(rep.files)}"]  # spaces: a narrow terminal breaks the list there
    if rep.elsewhere:
        lines.append(f"{rep.elsewhere} 个情形正由同一目录上的另一次扫描求解；它结束后各表将包含全部情形。")
    if rep.no_plan:
        lines.append(f"{rep.no_plan} 个情形达到时间上限而没有任何方案：cases.csv 中其数字留空，图中不画（见诊断一列）。")
    if rep.counts.get("error"):
        lines.append(f"{rep.counts['error']} 个情形出错（见 cases.csv 的诊断一列）；加 --resume 可重新运行。")
    return "\n".join(lines)


NOTES = {
    "the time limit left no time to lower the expected cost among the plans of least worst value":
        "时间上限没有留出时间在最坏值最小的方案中降低期望成本",
    "the expected cost among the plans of least worst value was not lowered in time":
        "未能在时间内降低最坏值最小的方案中的期望成本",
    "the expected cost among the plans of least worst value was lowered as far as time allowed":
        "已在时间允许范围内降低最坏值最小的方案中的期望成本",
}


def robust_lines(result) -> list[str]:
    """:func:`exitopt.robust.lines` in Chinese."""
    from .robust.folder import insurance_table

    o = result.outcome
    p0 = result.plans
    gap = f"，最优性间隙 {o.gap:.3%}" if o.gap is not None else ""
    worst = max(p0, key=lambda p: p.regret if p.regret is not None else -math.inf)
    out = [f"{OBJECTIVES.get(result.problem.objective, result.problem.objective)}（{len(p0)}个情形）："
           f"求解状态：{labels.status(o.status, 'zh')}{gap}；目标值 {result.value:,.1f}",
           f"期望成本 {sum(p.rc.weight * p.cost for p in p0):,.1f}；最坏情形成本 "
           f"{max(p.cost for p in p0):,.1f}（{max(p0, key=lambda p: p.cost).rc.id}）"]
    if worst.regret is not None:
        out.append(f"最大遗憾 {worst.regret:,.1f}，在 {worst.rc.id}（其自身最优 {worst.rc.own:,.1f}）")
    n = int(p0[0].schedule["exit_year"].notna().sum())
    ins = insurance_table(result)
    extra = ins[ins["role"] == "insurance"] if not ins.empty else ins
    held = float(extra["capacity"].sum()) if len(extra) else 0.0
    out.append(f"统一方案中退出 {n} 个单位；其中 {len(extra)} 个（{held:,.0f} 万吨/年）作为保险退出"
               f"（有情形自身的方案保留它们）")
    exp_own = sum(p.rc.weight * p.rc.own for p in p0 if p.rc.own is not None)
    if all(p.rc.own is not None for p in p0):
        out.append(f"统一方案的期望成本比各情形自身方案高 {sum(p.rc.weight * p.cost for p in p0) - exp_own:,.1f}")
    if result.note:
        out.append(f"注意：{NOTES.get(result.note, result.note)}")
    return out
