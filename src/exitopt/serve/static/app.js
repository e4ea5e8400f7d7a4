// exitopt serve: the page. Plain JavaScript, no library; every text goes in through textContent.
"use strict";

const UI = {
  zh: {
    cancel: "取消", changes: "改动", changes_hint: "在单位表中固定单位,或在下方修改数值,然后求解。",
    label: "方案名称", solve: "求解", reset: "撤销改动", plans: "本次方案", numbers: "可调整的数值",
    numbers_hint: "留空表示不设此项。改动的数值以黄色标出。", compare_with: "对比", dl_zip: "运行目录(压缩包)",
    dl_xlsx: "工作簿", dl_html: "简报页", what_changed: "有何变化", exits: "退出情况", by_sector: "分行业",
    by_product: "分产品", by_region: "分地区", binding: "起约束作用的规则", units: "单位", search: "搜索编号、名称、地区…",
    only_exiting: "只看退出的", show_all: "显示全部", baseline: "基准方案", no_changes: "没有改动:求解得到情景本身的方案。", pin: "固定", free: "不固定",
    keep: "保留", keep_through: "保留至", exit_any: "退出(年份由模型定)", exit_in: "退出于", solving: "正在求解",
    building: "正在建模", writing: "正在写入", starting: "正在启动", waiting: "等待", queued: "排队等候其他求解", seconds: "秒", plan: "方案",
    figure: "指标", change: "变化", this_plan: "本方案", none: "无", nothing_changed: "两个方案相同。",
    units_changed: "退出安排不同的单位", rules_changed: "约束状态不同的规则", stays: "不退出", year: "年份",
    total: "合计", units_n: "个", shown: "显示 {n} / {all} 个单位", value_set: "设为", unset: "不设",
    cancelled: "已取消求解。", changed_from: "相对于方案", pins: "固定", changed_numbers: "改动的数值",
    objective: "目标值", jobs: "分流职工(人)", fiscal: "财政支出现值(万元)", units_exiting: "退出单位数",
    capacity_exiting: "退出产能(万吨/年)", status: "求解状态", binds_only_in_A: "仅在对比方案中起约束",
    binds_only_in_B: "仅在本方案中起约束", groups: { targets: "退出目标", replacement: "减量置换",
    concentration: "产能集中度", utilisation: "产能利用率与供应", fleet: "存续产能平均指标",
    upgrades: "技术改造", caps: "年度上限", objective: "目标权重", costs: "成本参数" },
    changes_words: { "exits only in A": "仅对比方案退出", "exits only in B": "仅本方案退出",
    "exit year differs": "退出年份不同", "exit mode differs": "退出方式不同",
    "exit year and mode differ": "退出年份和方式不同", "merger differs": "兼并重组不同" },
    modes: { close: "关闭", relocate: "转移", merge: "兼并重组" },
    revenue_foregone: "其中:减少的财政收入(万元,现值)", stranded_value: "其中:搁浅价值核销(万元,现值)",
    cost_split: "财政支出构成(万元,现值)", exit_outlay: "安置与退出支出", not_priced: "未定价",
    not_priced_hint: "固定方案下的边际成本为0:规则由整单位退出满足,放宽的价值需重新求解才能得知。",
    required_title: "规则要求的退出(按要求完成):", idle_title: "本方案中无事可做的规则:",
    nothing_to_replace: "无需置换:没有新建产能", nothing_required: "要求为0,实现为0", n_units: "{n}个单位",
    chart_exits: "分产品、分年度退出产能(万吨/年)", chart_change: "分产品退出产能(万吨/年):方案{a}与方案{b}",
    regret: "各情形下的后悔值", chart_regret: "统一方案在各情形下的后悔值(成本减该情形自身最优,万元当量)",
    robust_n: "统一方案,{n}个情形", regret_hint: "统一方案是所有情形共用的一个退出方案;上文的数字为各情形按权重的平均值,方案与规则为其在第一个情形下的结果。",
    cost_own: "成本 {c},自身最优 {o}",
    no_exits: "本方案没有单位退出。", persons: "人", of_fiscal: "占财政支出",
    frontier: "分流职工与财政支出的前沿", frontier_solve: "计算前沿(5个点)", frontier_stage: "正在计算前沿",
    frontier_hint: "以所示方案的改动,求从分流职工最少到财政支出最少的5个方案,每个都满足全部规则(与 exitopt pareto 相同);本次方案以菱形标出。",
    frontier_none: "尚未计算前沿。", frontier_of: "方案{p}的改动下的前沿", frontier_stopped: "达到时间上限:部分点未证明最优或被略去。",
    frontier_x: "分流职工(人)", frontier_y: "财政支出现值(万元)", knee: "拐点", point: "点",
    why: { protected: "受保护({rule}),不能退出", mandatory: "必须退出({rule},{year}年前)",
      package_required: "所属打包方案必须退出({rule},{year}年前)", package: "属于打包方案({rule}),与其他成员同年退出",
      years: "只能在{years}年退出", never: "任何年份都不能退出" },
  },
  en: {
    cancel: "Cancel", changes: "Changes", changes_hint: "Pin units in the units table or change numbers below, then solve.",
    label: "Plan name", solve: "Solve", reset: "Undo changes", plans: "Plans of this session",
    numbers: "Numbers you can change", numbers_hint: "Empty means not set. Changed numbers are marked yellow.",
    compare_with: "Compare with", dl_zip: "Run folder (zip)", dl_xlsx: "Workbook", dl_html: "Briefing page",
    what_changed: "What changed", exits: "Exits", by_sector: "By sector", by_product: "By product",
    by_region: "By region", binding: "Rules that bind", units: "Units", search: "Search id, name, region…",
    only_exiting: "Exiting only", show_all: "Show all", baseline: "baseline", no_changes: "No changes: solving gives the scenario's own plan.", pin: "Pin",
    free: "free", keep: "keep", keep_through: "keep through", exit_any: "exit (model picks the year)",
    exit_in: "exit in", solving: "Solving", building: "Building the model", writing: "Writing", starting: "Starting",
    queued: "Queued behind other solves",
    waiting: "Waiting", seconds: "s", plan: "Plan", figure: "Figure", change: "Change", this_plan: "This plan",
    none: "none", nothing_changed: "The two plans are the same.", units_changed: "Units whose exit differs",
    rules_changed: "Rules that bind in one plan only", stays: "stays", year: "Year", total: "Total", units_n: "units",
    shown: "{n} of {all} units shown", value_set: "set to", unset: "not set", cancelled: "The solve was cancelled.",
    changed_from: "against plan", pins: "Pins", changed_numbers: "Changed numbers", objective: "Objective",
    jobs: "Workers displaced (persons)", fiscal: "Fiscal outlay, present value (10k yuan)",
    units_exiting: "Units exiting", capacity_exiting: "Capacity exiting (10 kt/yr)", status: "Status",
    binds_only_in_A: "binds only in the other plan", binds_only_in_B: "binds only in this plan",
    groups: { targets: "Exit targets", replacement: "Replacement", concentration: "Concentration",
    utilisation: "Utilisation and supply", fleet: "Fleet averages", upgrades: "Upgrades", caps: "Caps per year",
    objective: "Objective weights", costs: "Costs" },
    changes_words: {}, modes: { close: "close", relocate: "relocate" },
    revenue_foregone: "of which revenue foregone (10k yuan, PV)", stranded_value: "of which stranded value written off (10k yuan, PV)",
    cost_split: "Fiscal outlay, split (10k yuan, present value)", exit_outlay: "resettlement and exit outlay",
    not_priced: "not priced",
    not_priced_hint: "The fixed-plan marginal cost is 0: whole units meet the rule, and only a new solve tells what loosening it is worth.",
    required_title: "Exits the rules require, done as required:", idle_title: "Rules with nothing to do in this plan:",
    nothing_to_replace: "nothing to replace: no new capacity", nothing_required: "nothing required, nothing done",
    n_units: "{n} unit(s)", chart_exits: "Capacity exiting by product and year (10 kt/yr)",
    chart_change: "Capacity exiting per product (10 kt/yr): plan {a} against plan {b}",
    regret: "Regret across the cases", chart_regret: "Regret of the shared plan in each case (its cost less the case's own optimum, 10k yuan eq.)",
    robust_n: "one plan for {n} cases", regret_hint: "The shared plan is one exit plan for every case; the figures above are the means over the cases, weighted; the plan and rules are as its first case sees them.",
    cost_own: "cost {c}, own optimum {o}",
    no_exits: "No unit exits in this plan.", persons: "persons", of_fiscal: "of the fiscal outlay",
    frontier: "Workers displaced against fiscal outlay: the frontier", frontier_solve: "Compute the frontier (5 points)",
    frontier_stage: "Computing the frontier",
    frontier_hint: "With the changes of the plan shown: 5 plans from fewest workers displaced to least outlay, each meeting every rule (as exitopt pareto finds them); the session's plans are the diamonds.",
    frontier_none: "No frontier computed yet.", frontier_of: "The frontier with the changes of plan {p}",
    frontier_stopped: "Stopped at the time limit: some points are not proven or were left out.",
    frontier_x: "workers displaced (persons)", frontier_y: "fiscal outlay, present value (10k yuan)", knee: "knee", point: "point",
    why: { protected: "protected ({rule}): cannot exit", mandatory: "must exit ({rule}, by {year})",
      package_required: "its package must exit ({rule}, by {year})", package: "in a package ({rule}): exits with the others, in one year",
      years: "may exit only in {years}", never: "cannot exit in any year" },
  },
};

const S = {
  lang: localStorage.getItem("exitopt-lang") || "zh",
  token: null, setup: null, plans: [], running: null, view: null, against: null,
  cache: new Map(), compare: new Map(),
  draft: { pins: new Map(), values: new Map() },
  exitsBy: "sector", allRows: false, sort: { key: "exit_year", dir: 1 }, polling: false, lastError: null,
  frontier: null,
};

const $ = (id) => document.getElementById(id);
const t = (k) => (UI[S.lang][k] !== undefined ? UI[S.lang][k] : UI.en[k] !== undefined ? UI.en[k] : k);
const W = () => S.setup.words[S.lang];

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) e.append(kid instanceof Node ? kid : String(kid));
  return e;
}

const FORMATS = new Map();  // one Intl.NumberFormat per language and digits: making one is slow
function num(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "";
  const key = `${S.lang}:${digits}`;
  if (!FORMATS.has(key)) FORMATS.set(key, new Intl.NumberFormat(S.lang === "zh" ? "zh-CN" : "en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  return FORMATS.get(key).format(Number(v));
}
function signed(v, digits = 0) {
  if (v === null || v === undefined) return "";
  const r = Number(v.toFixed(digits));
  if (r === 0) return "0";
  return (r > 0 ? "+" : "−") + num(Math.abs(r), digits);
}

// ---- talking to the server -------------------------------------------------------------------

function withToken(url) {
  if (!S.token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(S.token);
}

// the session's own token, written into the page by the server: every change sends it back
function sessionToken() {
  const m = document.querySelector('meta[name="exitopt-session-token"]');
  return m ? m.content : "";
}

async function api(path, body) {
  const opts = { headers: {}, credentials: "same-origin" };
  if (S.token) opts.headers["X-Exitopt-Token"] = S.token;
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.headers["X-Exitopt-Session-Token"] = sessionToken();
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

function showError(msg, note = false) {
  $("error-text").textContent = msg;
  $("error").hidden = !msg;
  $("error").classList.toggle("note", note);
}

// the baseline's name in the page's language; plans the user named keep their names
function planName(p) {
  const label = p.label === "baseline" ? t("baseline") : p.label;
  const robust = p.cases ? ` (${t("robust_n").replace("{n}", p.cases)})` : "";
  return `${t("plan")} ${p.id}` + (label ? `: ${label}` : "") + robust;
}

async function plan(id) {
  if (!S.cache.has(id)) S.cache.set(id, await api(`/api/plans/${id}`));
  return S.cache.get(id);
}
async function comparison(a, b) {
  const key = `${a}/${b}`;
  if (!S.compare.has(key)) S.compare.set(key, await api(`/api/compare/${a}/${b}`));
  return S.compare.get(key);
}

// ---- the session: plans and the running solve --------------------------------------------------

async function refresh(known) {
  const st = known || (await api("/api/state"));
  const before = S.plans.length;
  S.plans = st.plans;
  S.running = st.running;
  if (JSON.stringify(st.frontier) !== JSON.stringify(S.frontier)) { S.frontier = st.frontier; renderFrontier(); }
  if (st.error && st.error !== S.lastError) showError(st.error);
  S.lastError = st.error;
  renderProgress();
  if (S.plans.length !== before) {
    renderPlans();
    renderFrontier();
    if (S.plans.length > before) {
      // the newest plan solved here (the folders given with --plans are listed, not opened)
      const newest = [...S.plans].reverse().find((p) => !p.given) || S.plans[S.plans.length - 1];
      await select(newest.id, newest.parent, true);
    }
  }
  if (S.running && !S.polling) poll();
}

async function poll() {
  S.polling = true;
  try {
    while (S.running) {
      await new Promise((r) => setTimeout(r, 400));
      await refresh();
    }
  } catch (e) {
    showError(e.message);
  } finally {
    S.polling = false;
  }
}

function renderProgress() {
  const r = S.running;
  $("progress").hidden = !r;
  $("solve").disabled = !!r;
  $("frontier-solve").disabled = !!r;
  if (!r) return;
  const stage = r.stage.startsWith("waiting") ? t("waiting") : r.stage === "frontier" ? t("frontier_stage") : t(r.stage) || r.stage;
  $("progress-text").textContent = `${stage}… ${num(r.seconds, 1)} ${t("seconds")}`;
}

async function solve() {
  showError("");
  S.lastError = null;
  const pins = [...S.draft.pins.entries()].map(([unit, p]) => ({ unit, action: p.action, year: p.year }));
  const values = Object.fromEntries(S.draft.values);
  try {
    const st = await api("/api/solve", { pins, values, parent: S.view, label: $("plan-label").value || null });
    S.running = st.running;
    $("plan-label").value = "";
    renderProgress();
    if (!S.polling) poll();
  } catch (e) {
    showError(e.message);
  }
}

// The frontier of the plan shown: its own changes, 5 points (the server runs it as it runs a solve).
async function solveFrontier() {
  showError("");
  S.lastError = null;
  const p = S.plans.find((x) => x.id === S.view);
  if (!p) return;
  try {
    const st = await api("/api/solve", { pins: p.pins, values: p.values, parent: p.id, frontier: 5 });
    S.running = st.running;
    renderProgress();
    if (!S.polling) poll();
  } catch (e) {
    showError(e.message);
  }
}

async function cancel() {
  try {
    const st = await api("/api/cancel", {});
    S.running = st.running;
    renderProgress();
    if (st.cancelled) showError(t("cancelled"), true);
  } catch (e) {
    showError(e.message);
  }
}

// ---- choosing a plan -------------------------------------------------------------------------

async function select(id, against, adoptChanges) {
  S.view = id;
  const p = S.plans.find((x) => x.id === id);
  S.against = against !== undefined && against !== null ? against : p && p.parent !== null ? p.parent : null;
  if (S.against === id) S.against = null;
  if (adoptChanges && p) setDraft(p);
  renderPlans();
  await renderPlan();
}

function setDraft(p) {
  S.draft.pins = new Map(p.pins.map((x) => [x.unit, { action: x.action, year: x.year }]));
  S.draft.values = new Map(Object.entries(p.values));
  renderDraft();
  renderNumbers();
}

function renderPlans() {
  const ol = $("plans");
  ol.replaceChildren(...S.plans.map((p) => el("li", { class: p.id === S.view ? "on" : "", "data-plan": p.id,
    onclick: () => select(p.id, undefined, true) },
    planName(p),
    el("span", { class: "sub", text: `${num(p.objective, 1)} · ${num(p.jobs)} · ${num(p.fiscal, 1)} · ${p.units_exiting} ${t("units_n")} · ${num(p.seconds, 1)} ${t("seconds")}` }))));
  const sel = $("against");
  sel.replaceChildren(el("option", { value: "", text: "—" }),
    ...S.plans.filter((p) => p.id !== S.view).map((p) => el("option", { value: p.id, text: planName(p), selected: p.id === S.against })));
}

// ---- the plan shown --------------------------------------------------------------------------

async function renderPlan() {
  if (S.view === null) return;
  const b = await plan(S.view);
  const a = S.against !== null ? await plan(S.against) : null;
  const cmp = a ? await comparison(S.against, S.view) : null;
  $("plan-title").textContent = planName(b);
  for (const [id, file] of [["dl-zip", "run.zip"], ["dl-xlsx", "briefing.xlsx"], ["dl-html", "briefing.html"]]) {
    $(id).href = withToken(`/api/download/${b.id}/${file}?lang=${S.lang}`);
    $(id).setAttribute("download", "");
  }
  renderFigures(a, b);
  renderSplit(a, b);
  renderChanged(a, b, cmp);
  renderChangeChart(a, b);
  renderExits(b);
  renderExitsChart(b);
  renderRegretChart(b);
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));  // figures on screen first
  if (S.view !== b.id) return;
  renderBinding(b);
  renderUnits(b);
}

const FIGS = [["status", null], ["objective", 1], ["jobs", 0], ["fiscal", 1], ["units_exiting", 0], ["capacity_exiting", 1]];

function renderFigures(a, b) {
  const head = el("tr", {}, el("th", { text: t("figure") }), a ? el("th", { text: `${t("plan")} ${a.id}` }) : null,
    el("th", { text: `${t("plan")} ${b.id}` }), a ? el("th", { text: t("change") }) : null);
  const rows = FIGS.map(([k, d]) => {
    const vb = b.figures[k], va = a ? a.figures[k] : null;
    const show = (v) => (d === null ? W().status[v] || v : num(v, d));
    let ch = null;
    if (a) {
      const diff = d === null ? null : vb - va;
      ch = el("td", { class: diff > 0 ? "up" : diff < 0 ? "down" : "", "data-fig": k, text: d === null ? "" : signed(diff, d) });
    }
    return el("tr", {}, el("td", { text: t(k) }), a ? el("td", { text: show(va) }) : null,
      el("td", { class: "big", id: `fig-${k}`, text: show(vb) }), ch);
  });
  $("figures").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
}

function planWords(year, mode) {
  if (year === null || year === undefined) return t("stays");
  return `${year} ${UI[S.lang].modes[mode] || mode}`;
}

function renderChanged(a, b, cmp) {
  const box = $("changed");
  $("changed-panel").hidden = !a;
  if (!a) { box.replaceChildren(); return; }
  const parts = [];
  const own = describeChanges(b);
  if (own.length) parts.push(el("p", { class: "hint" }, `${t("plan")} ${b.id}: ${own.join("; ")}`));
  if (cmp.same) parts.push(el("p", { text: t("nothing_changed") }));
  if (cmp.units.length) {
    const cols = W().columns;
    parts.push(el("h3", { text: `${t("units_changed")} (${cmp.units.length})` }));
    parts.push(el("table", { class: "grid", id: "changed-units" },
      el("thead", {}, el("tr", {}, el("th", { text: cols.unit_id }), el("th", { text: cols.name }),
        el("th", { text: cols.product }), el("th", { class: "num", text: cols.capacity }),
        el("th", { text: `${t("plan")} ${a.id}` }), el("th", { text: `${t("plan")} ${b.id}` }), el("th", { text: t("change") }))),
      el("tbody", {}, cmp.units.map((u) => el("tr", {}, el("td", { text: u.unit_id }), el("td", { text: zhOr(u, "name") }),
        el("td", { text: W().products[u.product] || u.product }), el("td", { class: "num", text: num(u.capacity, 1) }),
        el("td", { text: planWords(u.year_a, u.mode_a) }), el("td", { text: planWords(u.year_b, u.mode_b) }),
        el("td", { text: UI[S.lang].changes_words[u.change] || u.change }))))));
  }
  if (cmp.rules.length) {
    parts.push(el("h3", { text: `${t("rules_changed")} (${cmp.rules.length})` }));
    parts.push(el("ul", { id: "changed-rules" }, cmp.rules.map((r) => el("li", {},
      `${W().rules[r.rule] || r.rule}: ${zhOr(r, "name")}${r.year ? " " + r.year + (S.lang === "zh" ? "年" : "") : ""} — ${r.binding_b ? t("binds_only_in_B") : t("binds_only_in_A")}`))));
  }
  box.replaceChildren(...parts);
}

// In Chinese, a row's Chinese name (name_zh, region_zh) where the server gives one.
function zhOr(row, key) {
  const zh = row[`${key}_zh`];
  return S.lang === "zh" && zh ? zh : row[key];
}

function describeChanges(p) {
  const out = p.pins.map((x) => pinWords(x.unit, x));
  for (const [path, v] of Object.entries(p.values)) out.push(`${numberLabel(path)} = ${v === null ? t("unset") : v}`);
  return out;
}

function renderExits(b) {
  for (const btn of document.querySelectorAll("#exit-tabs button")) btn.classList.toggle("on", btn.dataset.by === S.exitsBy);
  const rows = b.exits[S.exitsBy];
  const years = b.years;
  const keys = [...new Set(rows.map((r) => r.key))].sort();
  const name = (k) => (S.exitsBy === "sector" ? W().sectors[k] : S.exitsBy === "product" ? W().products[k] : null) || k;
  const cell = (k, y) => rows.find((r) => r.key === k && r.year === y);
  const max = Math.max(1, ...rows.map((r) => r.capacity));
  const head = el("tr", {}, el("th", { text: "" }), years.map((y) => el("th", { class: "num", text: String(y) })),
    el("th", { class: "num", text: t("total") }));
  const body = keys.map((k) => {
    const cap = rows.filter((r) => r.key === k).reduce((s, r) => s + r.capacity, 0);
    const n = rows.filter((r) => r.key === k).reduce((s, r) => s + r.units, 0);
    return el("tr", {}, el("td", { text: name(k) }), years.map((y) => {
      const c = cell(k, y);
      if (!c) return el("td", { class: "num" });
      const bar = el("span", { class: "bar" });
      bar.style.width = `${Math.round((40 * c.capacity) / max)}px`;
      return el("td", { class: "num", title: `${num(c.workers)} ${W().measures.persons}` }, bar, `${num(c.capacity, 1)} (${c.units})`);
    }), el("td", { class: "num", text: `${num(cap, 1)} (${n})` }));
  });
  $("exits").replaceChildren(el("thead", {}, head), el("tbody", {}, body));
}

function redrawCharts() {
  if (S.view === null || !S.cache.has(S.view)) return;
  const b = S.cache.get(S.view), a = S.against !== null ? S.cache.get(S.against) : null;
  renderSplit(a || null, b);
  renderChangeChart(a || null, b);
  renderExitsChart(b);
  renderFrontier();
  renderRegretChart(b);
}

// ---- charts: inline SVG drawn here, nothing fetched ----------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b", "#7f8c8d", "#b7950b", "#16a085"];

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, String(v));
  }
  for (const kid of kids.flat()) if (kid) e.append(kid);
  return e;
}

// a round step for an axis from 0 to max: about n ticks
function niceStep(max, n = 4) {
  const raw = Math.max(max, 1e-9) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

function chartWidth(box) {
  return Math.max(260, Math.floor(box.clientWidth || box.parentElement.clientWidth || 600));
}

function productOrder(keys) {
  const order = Object.keys(W().products);
  return [...keys].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || String(a).localeCompare(String(b)));
}

function legend(items) {
  return el("div", { class: "legend" }, items.map(([label, colour]) => {
    const sw = el("span", { class: "swatch" });
    sw.style.background = colour;
    return el("span", {}, sw, label);
  }));
}

// The frontier: fiscal outlay against workers displaced, its points joined fewest workers first,
// the knee ringed, and every plan of the session as a diamond on the same axes.
function renderFrontier() {
  const box = $("chart-frontier");
  const f = S.frontier;
  if (!f || !f.points.length) { box.replaceChildren(el("p", { class: "hint", text: t("frontier_none") })); return; }
  const pts = f.points, plans = S.plans.filter((p) => p.jobs !== null && p.fiscal !== null);
  const xs = [...pts.map((p) => p.jobs), ...plans.map((p) => p.jobs)], ys = [...pts.map((p) => p.fiscal), ...plans.map((p) => p.fiscal)];
  const W_ = chartWidth(box), H = 260, left = 72, right = 12, top = 14, bottom = 40;
  const span = (v) => { const lo = Math.min(...v), hi = Math.max(...v); const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1; return [lo - pad, hi + pad]; };
  const [x0, x1] = span(xs), [y0, y1] = span(ys);
  const x = (v) => left + (W_ - left - right) * (v - x0) / (x1 - x0);
  const y = (v) => top + (H - top - bottom) * (1 - (v - y0) / (y1 - y0));
  const parts = [];
  for (const [lo, hi, axis] of [[y0, y1, "y"], [x0, x1, "x"]]) {
    const step = niceStep(hi - lo);
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      if (axis === "y") parts.push(svg("line", { x1: left, x2: W_ - right, y1: y(v), y2: y(v), class: "grid-line" }),
        svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick", text: num(v) }));
      else parts.push(svg("text", { x: x(v), y: H - bottom + 16, "text-anchor": "middle", class: "tick", text: num(v) }));
    }
  }
  parts.push(svg("polyline", { points: pts.map((p) => `${x(p.jobs)},${y(p.fiscal)}`).join(" "), fill: "none", stroke: COLOURS[0], "stroke-width": 2 }));
  for (const p of pts) {
    parts.push(svg("circle", { cx: x(p.jobs), cy: y(p.fiscal), r: 5, fill: COLOURS[0], class: "frontier-point",
      "data-point": p.point, "data-jobs": p.jobs, "data-fiscal": p.fiscal },
    svg("title", { text: `${t("point")} ${p.point}: ${num(p.jobs)} ${t("persons")}, ${num(p.fiscal, 1)} · ${W().status[p.status] || p.status}` })));
    if (p.knee) parts.push(svg("circle", { cx: x(p.jobs), cy: y(p.fiscal), r: 10, fill: "none", stroke: "#c0392b", "stroke-width": 2, class: "knee" },
      svg("title", { text: t("knee") })));
  }
  for (const p of plans) {
    const cx = x(p.jobs), cy = y(p.fiscal);
    parts.push(svg("polygon", { points: `${cx},${cy - 6} ${cx + 6},${cy} ${cx},${cy + 6} ${cx - 6},${cy}`, fill: COLOURS[1],
      class: "plan-point", "data-plan": p.id }, svg("title", { text: planName(p) })),
    svg("text", { x: cx + 8, y: cy - 6, class: "value", text: String(p.id) }));
  }
  parts.push(svg("text", { x: (left + W_ - right) / 2, y: H - 4, "text-anchor": "middle", class: "tick", text: t("frontier_x") }),
    svg("text", { x: 12, y: top + (H - top - bottom) / 2, "text-anchor": "middle", class: "tick",
      transform: `rotate(-90 12 ${top + (H - top - bottom) / 2})`, text: t("frontier_y") }));
  const title = t("frontier_of").replace("{p}", f.plan);
  const chart = svg("svg", { width: W_, height: H, viewBox: `0 0 ${W_} ${H}`, role: "img", "aria-label": title, class: "chart" }, parts);
  box.replaceChildren(el("div", { class: "chart-title", text: title }), chart,
    legend([[t("frontier"), COLOURS[0]], [t("plans"), COLOURS[1]]]),
    f.stopped ? el("p", { class: "hint", text: t("frontier_stopped") }) : "");
}

// Capacity exiting by year, stacked by product: one bar per year of the plan.
function renderExitsChart(b) {
  const box = $("chart-exits");
  const rows = b.exits.product;
  if (!rows.length) { box.replaceChildren(el("p", { class: "hint", text: t("no_exits") })); return; }
  const products = productOrder(new Set(rows.map((r) => r.key)));
  const colour = (k) => COLOURS[products.indexOf(k) % COLOURS.length];
  const years = b.years;
  const totals = years.map((y) => rows.filter((r) => r.year === y).reduce((s, r) => s + r.capacity, 0));
  const W_ = chartWidth(box), H = 220, left = 52, right = 8, top = 18, bottom = 24;
  const step = niceStep(Math.max(...totals));
  const max = Math.ceil(Math.max(...totals) / step) * step || step;
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const band = (W_ - left - right) / years.length;
  const barW = Math.min(56, band * 0.6);
  const parts = [];
  for (let v = 0; v <= max + 1e-9; v += step) {
    parts.push(svg("line", { x1: left, x2: W_ - right, y1: y(v), y2: y(v), class: "grid-line" }),
      svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick", text: num(v) }));
  }
  years.forEach((yr, i) => {
    const x = left + band * i + (band - barW) / 2;
    let acc = 0;
    for (const k of products) {
      const c = rows.find((r) => r.key === k && r.year === yr);
      if (!c) continue;
      parts.push(svg("rect", { x, width: barW, y: y(acc + c.capacity), height: Math.max(0.5, y(acc) - y(acc + c.capacity)),
        fill: colour(k), "data-product": k, "data-year": yr, "data-value": c.capacity },
      svg("title", { text: `${W().products[k] || k} ${yr}: ${num(c.capacity, 1)} (${c.units} ${t("units_n")})` })));
      acc += c.capacity;
    }
    if (totals[i] > 0) parts.push(svg("text", { x: x + barW / 2, y: y(totals[i]) - 4, "text-anchor": "middle", class: "value", text: num(totals[i], 1) }));
    parts.push(svg("text", { x: left + band * i + band / 2, y: H - 6, "text-anchor": "middle", class: "tick", text: String(yr) }));
  });
  const chart = svg("svg", { width: W_, height: H, viewBox: `0 0 ${W_} ${H}`, role: "img", "aria-label": t("chart_exits"), class: "chart" }, parts);
  box.replaceChildren(el("div", { class: "chart-title", text: t("chart_exits") }), chart,
    legend(products.map((k) => [W().products[k] || k, colour(k)])));
}

// A robust run's regret by case: one bar a row, the worst in red; hidden for a plain plan.
function renderRegretChart(b) {
  const panel = $("regret-panel"), box = $("chart-regret");
  const r = b.regret;
  panel.hidden = !r;
  if (!r) { box.replaceChildren(); return; }
  const rows = r.cases;
  const W_ = chartWidth(box), label = 64, valueW = 180, row = 18, top = 4;
  const H = top + row * rows.length + 22;
  const worst = Math.max(0, ...rows.map((c) => c.regret || 0));
  const step = niceStep(worst);
  const max = Math.ceil(worst / step) * step || step;
  const x = (v) => label + (W_ - label - valueW) * Math.max(0, v) / max;
  const parts = [];
  for (let v = 0; v <= max + 1e-9; v += step) {
    parts.push(svg("line", { x1: x(v), x2: x(v), y1: top, y2: H - 18, class: "grid-line" }),
      svg("text", { x: x(v), y: H - 4, "text-anchor": "middle", class: "tick", text: num(v) }));
  }
  rows.forEach((c, i) => {
    const y0 = top + row * i;
    const isWorst = c.regret !== null && c.regret >= worst - 1e-9 * Math.max(1, worst);
    const detail = t("cost_own").replace("{c}", num(c.cost, 1)).replace("{o}", num(c.own_optimum, 1));
    parts.push(svg("text", { x: label - 6, y: y0 + 13, "text-anchor": "end", class: "tick", text: c.case }),
      svg("rect", { x: label, y: y0 + 3, width: Math.max(0.5, x(c.regret || 0) - label), height: 12,
        fill: isWorst ? "#c0392b" : "#5b7fa6", "data-case": c.case, "data-value": c.regret },
      svg("title", { text: `${c.case}: ${num(c.regret, 1)} (${detail})` })),
      svg("text", { x: x(c.regret || 0) + 4, y: y0 + 13, class: "value", text: `${num(c.regret, 1)} · ${detail}` }));
  });
  box.replaceChildren(el("div", { class: "chart-title", text: t("chart_regret") }),
    svg("svg", { width: W_, height: H, viewBox: `0 0 ${W_} ${H}`, role: "img", "aria-label": t("chart_regret"), class: "chart" }, parts),
    el("p", { class: "hint", text: t("regret_hint") }));
}

// Capacity exiting per product, the compared plan (a) against the plan shown (b): two bars a row.
function renderChangeChart(a, b) {
  const box = $("chart-change");
  if (!a) { box.replaceChildren(); return; }
  const total = (p) => { const m = new Map(); for (const r of p.exits.product) m.set(r.key, (m.get(r.key) || 0) + r.capacity); return m; };
  const ta = total(a), tb = total(b);
  const products = productOrder(new Set([...ta.keys(), ...tb.keys()]));
  if (!products.length) { box.replaceChildren(); return; }
  const W_ = chartWidth(box), label = Math.min(96, W_ * 0.25), valueW = 92, row = 34, top = 4;
  const H = top + row * products.length + 4;
  const max = Math.max(1, ...ta.values(), ...tb.values());
  const x = (v) => label + (W_ - label - valueW) * (v / max);
  const parts = [];
  products.forEach((k, i) => {
    const y0 = top + row * i, va = ta.get(k) || 0, vb = tb.get(k) || 0, d = vb - va;
    parts.push(svg("text", { x: label - 6, y: y0 + 19, "text-anchor": "end", class: "tick", text: W().products[k] || k }),
      svg("rect", { x: label, y: y0 + 3, width: Math.max(0.5, x(va) - label), height: 12, class: "bar-a", "data-product": k, "data-plan": a.id, "data-value": va },
        svg("title", { text: `${t("plan")} ${a.id}: ${num(va, 1)}` })),
      svg("rect", { x: label, y: y0 + 16, width: Math.max(0.5, x(vb) - label), height: 12, class: "bar-b", "data-product": k, "data-plan": b.id, "data-value": vb },
        svg("title", { text: `${t("plan")} ${b.id}: ${num(vb, 1)}` })),
      svg("text", { x: x(va) + 4, y: y0 + 13, class: "value muted", text: num(va, 1) }),
      svg("text", { x: x(vb) + 4, y: y0 + 27, class: "value" + (Math.abs(d) >= 0.05 ? (d > 0 ? " up" : " down") : ""), "data-delta": k,
        text: Math.abs(d) >= 0.05 ? `${num(vb, 1)} (${signed(d, 1)})` : num(vb, 1) }));
  });
  const title = t("chart_change").replace("{a}", a.id).replace("{b}", b.id);
  box.replaceChildren(el("div", { class: "chart-title", text: title }),
    svg("svg", { width: W_, height: H, viewBox: `0 0 ${W_} ${H}`, role: "img", "aria-label": title, class: "chart" }, parts),
    legend([[`${t("plan")} ${a.id}`, "#9aa5b1"], [`${t("plan")} ${b.id}`, "#1f5fa8"]]));
}

// The right half of the headline card: the fiscal outlay split into its parts, for the plan shown
// and the compared plan, with the workers displaced.
function renderSplit(a, b) {
  const box = $("split");
  const parts = (p) => {
    const f = p.figures, rf = f.revenue_foregone || 0, sv = f.stranded_value || 0;
    return [["exit_outlay", (f.fiscal || 0) - rf - sv, "#1f5fa8"], ["revenue_foregone", rf, "#d9822b"], ["stranded_value", sv, "#8e44ad"]];
  };
  const plans = a ? [a, b] : [b];
  const max = Math.max(1, ...plans.map((p) => Math.abs(p.figures.fiscal || 0)));
  const W_ = chartWidth(box), label = 64, H = 30 * plans.length + 6;
  const bars = [];
  plans.forEach((p, i) => {
    let x = label;
    const y0 = 4 + 30 * i;
    bars.push(svg("text", { x: label - 6, y: y0 + 15, "text-anchor": "end", class: "tick", text: `${t("plan")} ${p.id}` }));
    for (const [k, v, colour] of parts(p)) {
      if (v <= 0) continue;
      const w = ((W_ - label - 8) * v) / max;
      bars.push(svg("rect", { x, y: y0, width: Math.max(0.5, w), height: 20, fill: colour, "data-part": k, "data-plan": p.id, "data-value": v },
        svg("title", { text: `${t(k)}: ${num(v, 1)}` })));
      x += w;
    }
  });
  const cell = (p, k) => {
    if (k === "fiscal" || k === "jobs") return num(p.figures[k], k === "jobs" ? 0 : 1);
    const v = parts(p).find((x) => x[0] === k)[1];
    return num(v, 1) + (p.figures.fiscal ? ` (${num((100 * v) / p.figures.fiscal, 1)} %)` : "");
  };
  const swatch = (k) => {
    const part = parts(b).find((x) => x[0] === k);
    if (!part) return null;
    const sw = el("span", { class: "swatch" });
    sw.style.background = part[2];
    return sw;
  };
  const table = el("table", { class: "figures split" },
    el("thead", {}, el("tr", {}, el("th", { text: "" }), a ? el("th", { text: `${t("plan")} ${a.id}` }) : null,
      el("th", { text: `${t("plan")} ${b.id}` }))),
    el("tbody", {}, ["fiscal", "exit_outlay", "revenue_foregone", "stranded_value", "jobs"].map((k) => el("tr", { "data-split": k },
      el("td", {}, swatch(k), t(k)), a ? el("td", { text: cell(a, k) }) : null, el("td", { text: cell(b, k) })))));
  box.replaceChildren(el("h3", { text: t("cost_split") }),
    svg("svg", { width: W_, height: H, viewBox: `0 0 ${W_} ${H}`, role: "img", "aria-label": t("cost_split"), class: "chart" }, bars),
    el("div", { class: "wide" }, table));
}

function renderBinding(b) {
  const w = W();
  const cols = ["rule", "name", "year", "product", "sense", "required", "achieved", "marginal_cost", "unit"];
  const nums = ["required", "achieved", "marginal_cost"];
  const head = el("tr", {}, cols.map((c) => el("th", { class: nums.includes(c) ? "num" : "", text: w.columns[c] || c })));
  const body = b.binding.map((r) => el("tr", {}, cols.map((c) => {
    let v = r[c];
    if (c === "rule") v = w.rules[v] || v;
    else if (c === "name") v = zhOr(r, "name");
    else if (c === "product") v = w.products[v] || v || "";
    else if (c === "sense") v = w.senses[v] || v;
    else if (c === "unit") v = w.measures[v] || v;
    else if (["required", "achieved"].includes(c)) v = r.unit === "share" ? num(100 * v, 1) + " %" : num(v, 1);
    else if (c === "marginal_cost") {
      // a MIP's fixed-plan dual of 0 (or none) is no price: say so, never "0.00"
      if (!r.priced) return el("td", { class: "num not-priced", title: t("not_priced_hint"), text: t("not_priced") });
      v = num(v, 2);
    }
    return el("td", { class: nums.includes(c) ? "num" : "", text: v === null ? "" : String(v) });
  })));
  const nothing = !body.length && !b.required.length && !b.idle.length;
  $("binding").replaceChildren(el("thead", {}, head), el("tbody", {}, body.length ? body
    : [el("tr", {}, el("td", { colspan: cols.length, text: nothing ? w.text.binding_none : "—" }))]));
  const years = (ys) => ys.join(S.lang === "zh" ? "、" : ", ");
  const rule = (e) => (S.lang === "zh" ? `${w.rules[e.rule] || e.rule}\u201c${zhOr(e, "name")}\u201d` : `${w.rules[e.rule] || e.rule} "${e.name}"`);
  const notes = [];
  if (b.required.length) {
    notes.push(el("p", { class: "hint", text: t("required_title") }), el("ul", { id: "binding-required", class: "notes" },
      b.required.map((e) => el("li", {}, e.rule === "mandatory" ? `${rule(e)}: ${t("n_units").replace("{n}", e.count)}` : rule(e)))));
  }
  if (b.idle.length) {
    notes.push(el("p", { class: "hint", text: t("idle_title") }), el("ul", { id: "binding-idle", class: "notes" },
      b.idle.map((e) => el("li", { "data-rule": e.name },
        `${rule(e)} (${years(e.years)}${S.lang === "zh" ? "年" : ""}): ${e.rule === "replacement" ? t("nothing_to_replace") : t("nothing_required")}`))));
  }
  $("binding-notes").replaceChildren(...notes);
}

// ---- the units table, with pins ----------------------------------------------------------------

const UNIT_COLS = ["unit_id", "name", "sector", "product", "region", "capacity", "exit_year", "mode", "workers_displaced", "outlay"];
const NUMERIC = new Set(["capacity", "exit_year", "workers_displaced", "outlay"]);
const FIRST_ROWS = 150;  // drawn at first; "show all" draws the rest (a short first draw loads fast)

function pinShort(p) {
  if (p.action === "keep") return p.year ? `${t("keep_through")} ${p.year}` : t("keep");
  return p.year ? `${t("exit_in")} ${p.year}` : t("exit_any");
}
function pinWords(unit, p) {
  return `${unit}: ${pinShort(p)}`;
}

// What a unit may do, from the scenario's rules (the server's setup): the years it may exit in,
// whether it may stay, and why; a unit missing from that list may do anything.
function moves(unitId) {
  const m = S.setup.moves && S.setup.moves[unitId];
  return m || { years: S.setup.years, keep: true, why: [] };
}

function whyWords(m) {
  const w = UI[S.lang].why || UI.en.why;
  const out = m.why.map(([kind, rule, year]) => (kind === "years"
    ? (m.years.length ? w.years.replace("{years}", m.years.join(S.lang === "zh" ? "、" : ", ")) : w.never)
    : (w[kind] || kind).replace("{rule}", (S.lang === "zh" && S.setup.rules_zh && S.setup.rules_zh[rule]) || rule || "").replace("{year}", year === null ? "" : String(year))));
  return [...new Set(out)];
}

// Only the pins the unit can take: no "keep" for a unit a rule forces out, no exit in a year it
// cannot exit in, no "keep through" a year after which it could not exit anyway.
function pinOptions(unitId) {
  const m = moves(unitId);
  const last = S.setup.years[S.setup.years.length - 1];
  const out = [["", t("free")]];
  if (m.keep) out.push(["keep:", t("keep")]);
  if (m.years.length) out.push(["exit:", t("exit_any")]);
  for (const y of m.years) out.push([`exit:${y}`, `${t("exit_in")} ${y}`]);
  for (const y of S.setup.years) {
    if (y < last && m.years.some((x) => x > y)) out.push([`keep:${y}`, `${t("keep_through")} ${y}`]);
  }
  return out;
}

// A row's pin is a button; its choices (a select) are made only when it is clicked, so a long
// table draws fast.
function pinCell(u) {
  const cur = S.draft.pins.get(u.unit_id);
  const td = el("td", { class: "pin-cell" });
  const why = whyWords(moves(u.unit_id)).join("; ");
  const button = el("button", { type: "button", class: "pin-button" + (why ? " limited" : ""), "data-unit": u.unit_id,
    title: why || null, text: cur ? pinShort(cur) : "—" });
  button.addEventListener("click", () => {
    const value = cur ? `${cur.action}:${cur.year || ""}` : "";
    const sel = el("select", { "data-unit": u.unit_id, class: "pin", title: why || null, onchange: (e) => {
      const [action, year] = e.target.value.split(":");
      if (!action) S.draft.pins.delete(u.unit_id);
      else S.draft.pins.set(u.unit_id, { action, year: year ? Number(year) : null });
      renderDraft();
      td.closest("tr").classList.toggle("pinned", !!action);
    } }, pinOptions(u.unit_id).map(([v, label]) => el("option", { value: v, text: label, selected: v === value })),
    why ? el("option", { disabled: true, class: "why", value: "why", text: why }) : null);
    td.replaceChildren(sel);
    sel.focus();
  });
  td.append(button);
  return td;
}

function renderUnits(b) {
  const w = W();
  const q = $("search").value.trim().toLowerCase();
  const only = $("only-exiting").checked;
  let rows = b.units.filter((u) => (!only || u.exit_year !== null) &&
    (!q || [u.unit_id, u.name, u.name_zh, u.region, u.region_zh, u.product, w.products[u.product], u.sector, u.reason].some((x) => x && String(x).toLowerCase().includes(q))));
  const { key, dir } = S.sort;
  rows = rows.slice().sort((x, y) => {
    const a = x[key], c = y[key];
    if (a === c) return x.unit_id < y.unit_id ? -1 : 1;
    if (a === null || a === undefined || a === "") return 1;
    if (c === null || c === undefined || c === "") return -1;
    return (NUMERIC.has(key) ? a - c : String(a).localeCompare(String(c))) * dir;
  });
  const total = rows.length;
  if (!S.allRows) rows = rows.slice(0, FIRST_ROWS);
  $("unit-count").textContent = t("shown").replace("{n}", rows.length).replace("{all}", total);
  $("show-all").hidden = rows.length === total;
  const head = el("tr", {}, el("th", { text: t("pin") }), UNIT_COLS.map((c) => el("th", {
    class: (NUMERIC.has(c) ? "num " : "") + (key === c ? (dir > 0 ? "asc" : "desc") : ""), "data-col": c,
    text: w.columns[c] || c, onclick: () => { S.sort = { key: c, dir: S.sort.key === c ? -S.sort.dir : 1 }; renderUnits(b); } })));
  const body = rows.map((u) => el("tr", { class: (u.exit_year !== null ? "exit " : "") + (S.draft.pins.has(u.unit_id) ? "pinned" : ""), "data-unit": u.unit_id, title: u.reason || "" },
    pinCell(u),
    UNIT_COLS.map((c) => {
      let v = u[c];
      if (c === "name" || c === "region") v = zhOr(u, c);
      else if (c === "sector") v = w.sectors[v] || v;
      else if (c === "product") v = w.products[v] || v;
      else if (c === "mode") v = UI[S.lang].modes[v] || v || "";
      else if (c === "capacity") v = num(v, 1);
      else if (c === "workers_displaced" || c === "outlay") v = u.exit_year === null ? "" : num(v, c === "outlay" ? 1 : 0);
      return el("td", { class: NUMERIC.has(c) ? "num" : "", text: v === null || v === undefined ? "" : String(v) });
    })));
  $("units").replaceChildren(el("thead", {}, head), el("tbody", {}, body));
}

// ---- the changes to solve: pins and numbers -----------------------------------------------------

function renderDraft() {
  const items = [];
  for (const [unit, p] of S.draft.pins) items.push(el("li", { "data-pin": unit }, el("span", { text: pinWords(unit, p) }),
    el("button", { type: "button", title: "×", onclick: () => { S.draft.pins.delete(unit); renderDraft(); refreshUnits(); } }, "×")));
  for (const [path, v] of S.draft.values) items.push(el("li", { "data-value": path }, el("span", { text: `${numberLabel(path)} = ${v === null ? t("unset") : String(v)}` }),
    el("button", { type: "button", title: "×", onclick: () => { S.draft.values.delete(path); renderDraft(); renderNumbers(); } }, "×")));
  if (!items.length) items.push(el("li", { class: "hint", text: t("no_changes") }));
  $("draft").replaceChildren(...items);
}

function refreshUnits() {
  if (S.view !== null && S.cache.has(S.view)) renderUnits(S.cache.get(S.view));
}

function numberLabel(path) {
  const n = S.setup.numbers.find((x) => x.path === path);
  const zh = S.lang === "zh" && S.setup.labels_zh && S.setup.labels_zh[path];
  return zh || (n ? n.label : path);
}

function renderNumbers() {
  const groups = new Map();
  for (const n of S.setup.numbers) {
    if (!groups.has(n.group)) groups.set(n.group, []);
    groups.get(n.group).push(n);
  }
  const open = new Set([...document.querySelectorAll("#numbers details[open]")].map((d) => d.dataset.group));
  const parts = [...groups].map(([g, list]) => el("details", { "data-group": g, open: open.has(g) || g === "targets" },
    el("summary", { text: UI[S.lang].groups[g] || g }),
    list.map((n) => {
      const changed = S.draft.values.has(n.path);
      const shown = changed ? S.draft.values.get(n.path) : n.value;
      const input = el("input", { type: "number", step: n.integer ? "1" : "any", "data-path": n.path, value: shown === null ? "" : String(shown),
        placeholder: n.value === null ? t("unset") : String(n.value), title: `${n.path}\n${n.description}` });
      input.addEventListener("change", () => {
        const raw = input.value.trim();
        const v = raw === "" ? null : Number(raw);
        if (raw !== "" && !Number.isFinite(v)) return;
        if (v === n.value) S.draft.values.delete(n.path);
        else S.draft.values.set(n.path, v);
        input.parentElement.classList.toggle("changed", S.draft.values.has(n.path));
        renderDraft();
      });
      return el("label", { class: "number" + (changed ? " changed" : ""), title: n.description }, el("span", { text: numberLabel(n.path) }), input);
    })));
  $("numbers").replaceChildren(...parts);
}

// ---- language --------------------------------------------------------------------------------

function applyLang() {
  document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
  localStorage.setItem("exitopt-lang", S.lang);
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  for (const e of document.querySelectorAll("[data-tp]")) e.placeholder = t(e.dataset.tp);
  for (const b of document.querySelectorAll(".lang button")) b.classList.toggle("on", b.dataset.lang === S.lang);
  $("title").textContent = S.lang === "zh" ? "去产能方案 · 会商" : "Capacity exit · what if";
  const scenario = S.lang === "zh" && S.setup.scenario_zh ? S.setup.scenario_zh : S.setup.scenario;
  $("scenario").textContent = `${scenario} (${S.setup.file})`;
  renderDraft();
  renderNumbers();
  renderPlans();
  renderProgress();
  renderPlan();
  renderFrontier();
}

// ---- start -----------------------------------------------------------------------------------

async function start() {
  const params = new URLSearchParams(location.search);
  S.token = params.get("token") || sessionStorage.getItem("exitopt-token");
  if (S.token) sessionStorage.setItem("exitopt-token", S.token);
  let first;
  try {
    [S.setup, first] = await Promise.all([api("/api/setup"), api("/api/state")]);  // both at once
  } catch (e) {
    showError(e.message);
    return;
  }
  $("scenario").textContent = `${S.setup.scenario} (${S.setup.file})`;
  $("solve").addEventListener("click", solve);
  $("cancel").addEventListener("click", cancel);
  $("frontier-solve").addEventListener("click", solveFrontier);
  $("reset").addEventListener("click", () => { const p = S.plans.find((x) => x.id === S.view); setDraft(p || { pins: [], values: {} }); refreshUnits(); });
  $("error-close").addEventListener("click", () => showError(""));
  $("against").addEventListener("change", (e) => { S.against = e.target.value ? Number(e.target.value) : null; renderPlan(); });
  $("search").addEventListener("input", refreshUnits);
  $("show-all").addEventListener("click", () => { S.allRows = true; refreshUnits(); });
  $("only-exiting").addEventListener("change", refreshUnits);
  for (const b of document.querySelectorAll("#exit-tabs button")) b.addEventListener("click", () => { S.exitsBy = b.dataset.by; renderPlan(); });
  for (const b of document.querySelectorAll(".lang button")) b.addEventListener("click", () => { S.lang = b.dataset.lang; applyLang(); });
  let resized = null;  // the charts are drawn to the width they have: again when it changes
  window.addEventListener("resize", () => { clearTimeout(resized); resized = setTimeout(redrawCharts, 150); });
  applyLang();
  try {
    await refresh(first);
  } catch (e) {
    showError(e.message);
  }
}

document.addEventListener("DOMContentLoaded", start);
