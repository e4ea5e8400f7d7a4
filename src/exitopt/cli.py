"""The ``exitopt`` command: a thin layer over the library.

Exit codes: 0 done; 2 bad input; 3 no plan meets the rules (diagnosis printed); 4 stopped at
a limit (best plan written, flagged); 5 output folder problem; 6 a checked plan breaks rules;
1 anything unexpected. Results go to stdout, messages to stderr; nothing ever prompts.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperArgument, TyperCommand, TyperGroup

from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_LIMIT, EXIT_VIOLATIONS, ExitoptError

#: what the help shows after an option that takes a value (a flag shows nothing)
METAVARS = {"out_dir": "DIR", "out_file": "FILE", "time_limit": "SECONDS", "keep": "UNIT[=YEAR]",
            "exit_": "UNIT[=YEAR]", "pins_file": "FILE", "projects": "FILE", "lang": "zh|en", "points": "N",
            "within": "SHARE", "count": "N", "workers": "N", "scheduler": "ADDRESS",
            "port": "PORT", "host": "ADDRESS"}


def _no_type(ctx) -> None:
    return None


class _Command(TyperCommand):
    """A command whose help names what each option takes (SECONDS, FILE, …) instead of Python types
    (<float>, <list[str]>), and shows nothing after a flag."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for p in params:
            if isinstance(p, TyperArgument):
                p.display_type_rich = _no_type  # type: ignore[method-assign]  # the argument's name and help say what it is
                p.metavar = p.metavar or (p.name or "").upper()
            elif p.metavar is None:
                flag = getattr(p, "is_flag", False)
                p.metavar = "" if flag else METAVARS.get(p.name or "", (p.name or "").upper())
        return params


class _Group(TyperGroup):
    def get_params(self, ctx):
        params = super().get_params(ctx)
        for p in params:
            if p.metavar is None and getattr(p, "is_flag", False):
                p.metavar = ""
        return params


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Plan the exit of surplus industrial capacity: which units retire, when and how.",
    pretty_exceptions_enable=False,
    cls=_Group,
)
command = functools.partial(app.command, cls=_Command)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def say(line: str) -> None:
    """Print a plain line broken at spaces to fit the terminal (never a number or word split)."""
    from .console import wrap_words

    for part in wrap_words(line, out.width):
        out.print(part, markup=False, soft_wrap=True)


#: width of output that goes to a file or a pipe: wide enough that no table is cut or wrapped
FILE_WIDTH = 1000


def fit_consoles() -> None:
    """Terminal output fits the terminal; output to a file or a pipe is never cut to 80 columns."""
    for c in (out, err):
        c.width = None if c.is_terminal else FILE_WIDTH  # type: ignore[assignment]  # None: ask the terminal again


def _version(value: bool) -> None:
    if value:
        from . import __version__

        out.print(f"exitopt {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version of exitopt and exit.")] = False) -> None:
    """Plan the exit of surplus industrial capacity: which units retire, when and how."""


def _seconds(value: float | None) -> float | None:
    """--time-limit: a number of seconds from 0.5 to 1,000,000 (NaN and inf refused too)."""
    if value is not None and not (0.5 <= value <= 1e6):
        raise typer.BadParameter(f"give a number of seconds from 0.5 to 1,000,000 (got {value:g}).")
    return value


#: whether --lang was typed on the command line (set by the option's callback)
_lang_typed: list[bool] = [False]


def _asked_for_chinese(kwargs: dict) -> bool:
    """Whether the command was asked for Chinese: --lang zh on the command line (report's --lang,
    zh unless told, speaks of the briefing; its errors are Chinese only when it is typed)."""
    return kwargs.get("lang") == "zh" and _lang_typed[0]


def friendly(fn: Callable) -> Callable:
    """Turn every exitopt error into one paragraph on stderr and its exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        fit_consoles()
        zh = _asked_for_chinese(kwargs)
        try:
            return fn(*args, **kwargs)
        except ExitoptError as e:
            if zh:
                from .errors_zh import message_zh

                err.print(f"[bold red]错误：[/]{escape(message_zh(e)[0])}", soft_wrap=True)
            else:
                err.print(f"[bold red]error:[/] {escape(str(e))}", soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err.print("已中断；没有写入任何文件。" if zh else "interrupted; nothing was written.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as e:  # a bug: say so plainly
            err.print(
                f"[bold red]internal error:[/] {type(e).__name__}: {escape(str(e))}. This is a fault in exitopt, not in "
                f"your files; please report it with the scenario attached.",
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


ScenarioArg = Annotated[Path, typer.Argument(help="Scenario file (TOML).", show_default=False)]


def _typed(ctx: typer.Context, param: typer.CallbackParam) -> None:
    source = ctx.get_parameter_source(param.name or "lang")
    _lang_typed[0] = source is not None and source.name != "DEFAULT"


def _report_lang(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """report's --lang: noted whether typed (the briefing's language is checked by the report)."""
    _typed(ctx, param)
    return value


def _lang(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    _typed(ctx, param)
    if value not in ("en", "zh"):
        raise typer.BadParameter(f"give zh (Chinese) or en (English) (got {value!r}).")
    return value


#: the language of what a command prints (report's --lang also chooses the briefing's)
ConsoleLang = Annotated[str, typer.Option(
    "--lang", callback=_lang, help="Language of what the command prints, messages about bad input "
                                   "included: en (English) or zh (Chinese).")]


def _time_limit(help: str) -> typer.models.OptionInfo:
    """The --time-limit option (checked by :func:`_seconds`), with what the limit covers in ``help``."""
    return typer.Option("--time-limit", show_default=False, callback=_seconds, help=help)


TimeLimit = Annotated[float | None, _time_limit(
    "Seconds for the whole command (loading, building, every solve); overrides time_limit in the "
    "scenario's solver section. At the limit: exit 4, with the best plan found written when there is one.")]


def _start_solver() -> None:
    """Start the solver's worker process once the command's files are read and found valid, so
    that it loads HiGHS while the model is built (a command that refuses its input never starts
    one)."""
    from .highs import prestart

    prestart()


def _command_limit(time_limit: float | None, inst, started: float):
    """The wall clock of a command, counted from ``started`` (time.time())."""
    from .highs import limit

    return limit(time_limit if time_limit is not None else inst.scenario.solver.time_limit, started=started)


def _quoted(path: Path) -> str:
    """A path as it can be typed back into a command: in double quotes when it holds a space."""
    text = str(path)
    return f'"{text}"' if any(c.isspace() for c in text) else text


def _number(v: float) -> str:
    """1,234.5 with one decimal at most, and no '.0' on whole numbers."""
    text = f"{v:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def _summary_table(inst) -> Table:
    """Units, capacity (万吨/yr) and workers (persons) per sector and product."""
    u = inst.units
    t = Table(title=f"{escape(inst.scenario.name)}: units", show_edge=False)
    for col in ("sector", "product", "units", "capacity 万吨/yr", "workers"):
        t.add_column(col, justify="right" if col not in ("sector", "product") else "left")
    g = u.groupby(["sector", "product"]).agg(n=("capacity", "size"), cap=("capacity", "sum"), w=("workers", "sum"))
    for (s, p), r in g.iterrows():
        t.add_row(s, p, f"{int(r.n):,}", _number(r.cap), f"{int(r.w):,}")
    return t


@command()
@friendly
def validate(scenario: ScenarioArg, lang: ConsoleLang = "en") -> None:
    """Load and check a scenario and its tables without solving; print what was read."""
    from .inputs import load

    inst = load(scenario)
    if lang == "zh":
        from . import console_zh

        out.print(console_zh.summary_table(inst))
        for line in console_zh.validate_lines(inst):
            say(line)
        out.print("[green]有效[/]")
        return
    out.print(_summary_table(inst))
    s = inst.scenario
    approved = int((inst.projects["approval"] == "approved").sum()) if len(inst.projects) else 0
    say(f"planning years {s.first_year}–{s.last_year}; "
        f"{len(inst.projects)} new-capacity project(s), {approved} approved")
    from .rules import FAMILIES

    for family in FAMILIES:  # the lists of rules; the [caps] section below
        rules = family.rules_of(s) if family.list_field else []
        if rules:
            names = ", ".join(family.title(r) for r in rules)
            say(f"{family.key} ({len(rules)}): {names}")
    if s.caps.budget or s.caps.workers:
        out.print(f"caps: budget in {len(s.caps.budget)} year(s), {len(s.caps.workers)} worker cap(s)")
    if s.caps.has_fund:
        whole = f"{s.caps.award_fund:,.0f} 万元 over the plan" if s.caps.award_fund is not None else "no total"
        out.print(f"award fund: {whole}, a limit in {len(s.caps.award_fund_per_year)} year(s)")
    out.print("[green]valid[/]")


def headline(res) -> list[str]:
    """The figures of a solve, as short lines that fit 80 columns (never wrapped mid-phrase)."""
    o = res.outcome
    gap = f", gap {o.gap:.3%}" if o.gap is not None else ""
    return [f"status {o.status}{gap}; objective {o.objective:,.1f}",
            f"jobs {res.jobs:,.0f} persons displaced; fiscal {res.fiscal:,.1f} 万元 (present value)"]


def _print_result(res, lang: str = "en") -> None:
    from . import console_zh

    for line in (console_zh.headline(res) if lang == "zh" else headline(res)):
        say(line)
    merged = res.schedule[res.schedule["mode"] == "merge"]
    if not merged.empty:  # mergers (rule 11): units that join an acquiring group and run on
        cap, n, groups = merged["capacity"].sum(), len(merged), merged["acquirer"].nunique()
        say(f"兼并重组 {cap:,.0f} 万吨/年（{n} 个单位）并入 {groups} 个集团" if lang == "zh" else
            f"merged {cap:,.0f} 万吨/yr ({n} units) into {groups} acquiring group(s)")
    sched = res.schedule[res.schedule["exit_year"].notna()]
    if sched.empty:
        out.print("没有单位退出" if lang == "zh" else "no unit exits")
        return
    if lang == "zh":
        out.print(console_zh.exits_table(sched, sorted(int(y) for y in sched["exit_year"].unique())))
        return
    t = Table(title="exits, 万吨/yr (units)", show_edge=False)
    years = sorted(int(y) for y in sched["exit_year"].unique())
    t.add_column("product")
    for y in years:
        t.add_column(str(y), justify="right")
    for p, g in sched.groupby("product"):
        cells = []
        for y in years:
            e = g[g["exit_year"] == y]
            cells.append(f"{e['capacity'].sum():,.0f} ({len(e)})" if len(e) else "")
        t.add_row(p, *cells)
    out.print(t)


@command()
@friendly
def solve(
    scenario: ScenarioArg,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run folder (default: ./<scenario file name without .toml>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing run folder.")] = False,
    time_limit: TimeLimit = None,
    keep: Annotated[list[str] | None, typer.Option(
        "--keep", help="What-if: UNIT does not exit (UNIT=YEAR: stays through YEAR). Repeatable.")] = None,
    exit_: Annotated[list[str] | None, typer.Option(
        "--exit", help="What-if: UNIT exits some year (UNIT=YEAR: in exactly YEAR). Repeatable.")] = None,
    pins_file: Annotated[Path | None, typer.Option(
        "--pins", help="What-if pins from a CSV or book.xlsx#Sheet: unit_id, action (keep or exit), year (optional).")] = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Explain chosen exits against re-solved margins; writes margins.csv (many solves).")] = False,
    lang: ConsoleLang = "en",
) -> None:
    """Solve a scenario and write schedule.csv, summary.csv, constraints.csv and run.json
    (with pins: pins.csv, each pin's cost re-solved; with --explain: margins.csv)."""
    from .inputs import load
    from .output import prepare_folder, write_folder
    from .pins import collect
    from .solve import solve_run

    started = time.perf_counter()
    wall = time.time()
    inst = load(scenario)
    loaded = time.perf_counter() - started
    pins = collect(inst, keep or [], exit_ or [], pins_file)
    target = out_dir if out_dir is not None else Path.cwd() / Path(scenario).stem
    prepare_folder(target, force)
    _start_solver()
    from .engine import clock

    with _command_limit(time_limit, inst, wall), _working(f"solving {inst.scenario.name}"):
        run = solve_run(inst, pins, explain=explain, progress=_progress_in(lang),
                        clock=clock(inst, time_limit, started=wall))
    res = run.result
    seconds = run.files["run.json"].setdefault("seconds", {})  # load and the whole command before writing
    seconds.update(load=round(loaded, 3), total=round(time.perf_counter() - started, 3))
    write_folder(target, run.files, force=force)
    from . import console_zh

    _print_result(res, lang)
    for line in (console_zh.run_lines(run.files) if lang == "zh" else run.lines):
        say(line)
    out.print(console_zh.written(target) if lang == "zh" else f"written to {target}", markup=False, soft_wrap=True)
    nxt, why = (console_zh.next_step(f"exitopt report {_quoted(target)}") if lang == "zh" else
                (f"next: exitopt report {_quoted(target)}", "(briefing workbook, charts and page)"))
    if cell_len(f"{nxt}   {why}") <= out.width:
        out.print(f"{nxt}   {why}", markup=False, soft_wrap=True)
    else:  # the command stays whole on its line, so that it can be copied
        out.print(nxt, markup=False, soft_wrap=True)
        say(f"      {why}")
    if res.status == "limit" and lang == "zh":
        gap = res.outcome.gap
        err.print(console_zh.LIMIT["gap"].format(gap=f"{gap:.2%}") if gap is not None else console_zh.LIMIT["no_gap"],
                  soft_wrap=True)
        raise typer.Exit(EXIT_LIMIT)
    if res.status == "limit":
        err.print(f"[yellow]stopped at the time limit:[/] the plan written is the best found, "
                  f"within {res.outcome.gap:.2%} of the optimum at most." if res.outcome.gap is not None else
                  "[yellow]stopped at the time limit:[/] the plan written is the best found; its gap is unknown.")
        raise typer.Exit(EXIT_LIMIT)
    if run.cut_short and lang == "zh":
        err.print(console_zh.LIMIT["cut_short"], soft_wrap=True)
        raise typer.Exit(EXIT_LIMIT)
    if run.cut_short:
        err.print("[yellow]stopped at the time limit:[/] the plan is optimal, but some of the re-solves that "
                  "price the pins or explain the exits ran out of time (their status says so). Raise "
                  "--time-limit for all of them.", soft_wrap=True)
        raise typer.Exit(EXIT_LIMIT)


@command()
@friendly
def check(
    scenario: ScenarioArg,
    plan: Annotated[Path, typer.Argument(help="Plan, CSV or book.xlsx#Sheet: unit_id, exit_year, mode (indicator optional).")],
    projects: Annotated[Path | None, typer.Option(
        "--projects", help="CSV or book.xlsx#Sheet of project_id, approved (e.g. a run's new_capacity.csv with a built column).")] = None,
    lang: ConsoleLang = "en",
) -> None:
    """Check any plan against every rule of a scenario, without the optimiser, and price it."""
    from .check import check_plan, format_report, read_plan, read_project_approvals
    from .inputs import load

    inst = load(scenario)
    p = read_plan(plan, inst)
    approved = read_project_approvals(projects, inst) if projects is not None else None
    result = check_plan(inst, p, approved)
    if p.listed == 0 and lang == "zh":
        err.print(f"[yellow]注意：[/]{escape(str(plan))} 没有列出任何单位（只有表头，或工作表为空），因此所有单位保留，"
                  "以下检查的是不退出任何单位的方案。如要检查另一张工作表，请在 # 后写明（book.xlsx#Sheet）。", soft_wrap=True)
    elif p.listed == 0:
        err.print(f"[yellow]note:[/] {escape(str(plan))} lists no unit (it has a header only, or the sheet is empty), so "
                  "every unit stays and what follows checks doing nothing. If you meant another sheet, "
                  "name it after # (book.xlsx#Sheet).", soft_wrap=True)
    if lang == "zh":
        from .console_zh import check_report
        from .report.chinese import Names, names_of

        text = check_report(result, Names.of({"names_zh": names_of(inst)}), limit=5 if p.listed == 0 else None)
    else:
        text = format_report(result, limit=5 if p.listed == 0 else None)
    out.print(text, markup=False, soft_wrap=True)
    if not result.ok:
        raise typer.Exit(EXIT_VIOLATIONS)


RunArg = Annotated[Path, typer.Argument(help="Run folder written by `exitopt solve`.", show_default=False)]


@command()
@friendly
def report(
    run_dir: RunArg,
    lang: Annotated[str, typer.Option("--lang", callback=_report_lang, help="zh (Chinese) or en (English).")] = "zh",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder (default: RUN_DIR/report_<lang>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing briefing folder.")] = False,
    docx: Annotated[bool, typer.Option("--docx", help="Also write the briefing as a Word document (briefing.docx).")] = False,
    compare_dir: Annotated[Path | None, typer.Option(
        "--compare", metavar="RUN_DIR", show_default=False,
        help="Another run folder: the Word briefing ends with what differs from it (needs --docx).")] = None,
) -> None:
    """Make the briefing pack of a run: briefing.xlsx, charts (PNG), a self-contained briefing.html,
    and with --docx a Word briefing."""
    from .report import make_report

    rep = make_report(run_dir, lang, out_dir, force=force, docx=docx, compare=compare_dir)
    if lang == "zh":
        from .console_zh import report_written

        out.print(report_written(rep.folder, rep.files), markup=False, soft_wrap=True)
    else:
        out.print(f"written to {rep.folder}: {', '.join(rep.files)}")
    if rep.note:
        err.print(f"[yellow]{'注意：' if lang == 'zh' else 'note: '}[/]{rep.note}")


@command()
@friendly
def compare(
    run_a: RunArg,
    run_b: RunArg,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the differences to this CSV.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
    lang: ConsoleLang = "en",
) -> None:
    """Show what differs between two runs: exits, years, modes, headline figures, binding rules."""
    from .report.compare import compare_runs, render, write_comparison

    comp = compare_runs(run_a, run_b)
    if lang == "zh":
        from .console_zh_views import compare_render

        out.print(compare_render(comp))
    else:
        out.print(render(comp))
    if out_file is not None:
        write_comparison(comp, out_file, force=force)
        _written(out_file, lang, plain=False)


def _said(text: str, lang: str) -> str:
    """A message of the library (English) in ``lang``."""
    if lang != "zh":
        return text
    from .errors_zh import text_zh

    return text_zh(text)[0]


def _written(target: Path, lang: str, plain: bool = True) -> None:
    """The line a command ends with once its files are written (``plain``: no markup, not wrapped)."""
    from .console_zh_runs import WRITTEN

    text = WRITTEN[lang].format(target=target)
    if plain or lang == "zh":
        out.print(text, markup=False, soft_wrap=True)
    else:
        out.print(text)


def _limit(command: str, lang: str) -> None:
    """Say on stderr that the time limit cut ``command`` short, and exit 4."""
    from .console_zh_runs import LIMIT

    err.print(LIMIT[command][lang], soft_wrap=True)
    raise typer.Exit(EXIT_LIMIT)


#: the spinner of the running command, when it runs in a terminal (see _working)
_spinner: list = []


@contextlib.contextmanager
def _working(stage: str):
    """In a terminal, a spinner on stderr with the stage and the time elapsed while the block
    runs; it goes when the block ends. Elsewhere (a file, a pipe) nothing is drawn."""
    if not err.is_terminal:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task(stage, total=None)
        _spinner.append(lambda text: bar.update(task, description=text))
        try:
            yield
        finally:
            _spinner.pop()


def _progress(message: str) -> None:
    """One line of progress on stderr, for commands that solve many times; the spinner, if any,
    shows it as its stage."""
    err.print(f"[dim]… {message}[/]", markup=True, soft_wrap=True)
    if _spinner:
        _spinner[-1](message)


def _progress_in(lang: str) -> Callable[[str], None]:
    """:func:`_progress` in ``lang``."""
    if lang != "zh":
        return _progress
    from .console_zh import progress

    return lambda message: _progress(progress(message))


@command()
@friendly
def pareto(
    scenario: ScenarioArg,
    points: Annotated[int, typer.Option("--points", min=2, help="Points on the frontier, its two ends included.")] = 7,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder (default: ./<scenario file name>_pareto).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing folder.")] = False,
    time_limit: TimeLimit = None,
    lang: ConsoleLang = "en",
) -> None:
    """Trade jobs against fiscal outlay: frontier.csv, frontier.png and one checkable plan per point."""
    from .inputs import load
    from .output import prepare_folder
    from .pareto import frontier, write_frontier

    wall = time.time()
    inst = load(scenario)
    target = out_dir if out_dir is not None else Path.cwd() / f"{Path(scenario).stem}_pareto"
    prepare_folder(target, force)
    _start_solver()
    with _command_limit(time_limit, inst, wall), _working("前沿" if lang == "zh" else "the frontier"):
        front = frontier(inst, points, progress=_progress_in(lang))
    write_frontier(target, front, f"{inst.scenario.name}: jobs vs fiscal outlay", force=force)
    if lang == "zh":
        from .console_zh_views import pareto_render

        out.print(pareto_render(front))
    else:
        out.print(front.render())
    _written(target, lang, plain=False)
    if not front.complete:
        _limit("pareto", lang)


@command()
@friendly
def alternatives(
    scenario: ScenarioArg,
    within: Annotated[str, typer.Option("--within", help="Cost above the optimum allowed, e.g. 2% or 0.02.")] = "2%",
    count: Annotated[int, typer.Option("--count", min=1, help="Alternatives to look for.")] = 5,
    by_year: Annotated[bool, typer.Option("--by-year", help="Count a different exit year as a difference too.")] = False,
    whole: Annotated[bool, typer.Option("--whole", help="Search the whole model at once: alternatives may change "
                                                        "several independent blocks (slower).")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder (default: ./<scenario file name>_alternatives).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing folder.")] = False,
    time_limit: TimeLimit = None,
    lang: ConsoleLang = "en",
) -> None:
    """Distinct plans within a share of the optimum's cost, and which units exit in all, some or none."""
    from .alternatives import alternatives as find, parse_share
    from .engine import clock
    from .inputs import load
    from .output import prepare_folder, write_folder

    wall = time.time()
    inst = load(scenario)
    share = parse_share(within)
    target = out_dir if out_dir is not None else Path.cwd() / f"{Path(scenario).stem}_alternatives"
    prepare_folder(target, force)
    _start_solver()
    with _working("备选方案" if lang == "zh" else "alternative plans"):  # the command's clock, handed down to every search
        alts = find(inst, share, count, by_year=by_year, whole=whole, clock=clock(inst, time_limit, started=wall),
                    progress=_progress_in(lang))
    write_folder(target, alts.files(), force=force)
    if lang == "zh":
        from .console_zh_views import alternatives_render

        out.print(alternatives_render(alts))
    else:
        out.print(alts.render())
    _written(target, lang, plain=False)
    if alts.stopped:
        _limit("alternatives", lang)


@command()
@friendly
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML): base scenario, axes, variants.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder (default: ./<sweep name>).")] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Address of a running Dask scheduler (tcp://host:8786).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Skip the cases already in the folder's ledger.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Start over in a folder that holds an earlier sweep.")] = False,
    long: Annotated[bool, typer.Option("--long", help="Also write units_long.csv (case × unit).")] = False,
    order: Annotated[str, typer.Option("--order", hidden=True,
                                       help="Hand the cases out as the file makes them (file), reversed or "
                                            "shuffled; no case's plan changes.")] = "file",
    lang: ConsoleLang = "en",
) -> None:
    """Solve every case of a sensitivity sweep; write cases.csv, pictures and a crash-safe ledger."""
    from .sweep import format_report, run_sweep

    rep = run_sweep(sweep_file, out=out_dir, workers=workers, scheduler=scheduler, resume=resume, force=force,
                    long=long, order=order, lang=lang)
    if lang == "zh":
        from .console_zh_runs import sweep_report

        for line in sweep_report(rep).split("\n"):
            say(line)
        return
    out.print(format_report(rep), markup=False, soft_wrap=True)


@command()
@friendly
def robust(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML): base scenario, axes, variants.")],
    objective: Annotated[str | None, typer.Option(
        "--objective", metavar="expected|worst|regret", show_default=False,
        help="What the one plan minimises: the expected cost over the cases (weighted as the sweep file's "
             "robust table says), the worst case's cost, or the worst regret (cost above the case's own "
             "optimum). Default: the objective of the sweep file's robust table, else expected.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run folder (default: ./<sweep name>_robust).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing run folder.")] = False,
    ledger_dir: Annotated[Path | None, typer.Option(
        "--ledger", metavar="DIR", show_default=False,
        help="Folder of an `exitopt sweep` of this file, whose ledger gives the cases' own optima "
             "(default: ./<sweep name> when it holds one); cases it lacks are solved first.")] = None,
    time_limit: Annotated[float | None, _time_limit(
        "Seconds for the whole command (every case's own optimum and the shared plan); default: the "
        "sweep's time_limit per case (else the base scenario's) × 2 × the number of cases. At the "
        "limit: exit 4, with the best shared plan found written when there is one.")] = None,
    lang: ConsoleLang = "en",
) -> None:
    """One exit plan for every case of a sweep: schedule.csv that `exitopt check` accepts in each case
    (cases/*.toml), regret.csv and regret.png."""
    from .highs import limit
    from .output import prepare_folder, write_folder
    from .robust import default_time_limit, files, lines, read_problem, solve_problem

    wall = time.time()
    problem = read_problem(sweep_file, objective)
    target = out_dir if out_dir is not None else Path.cwd() / f"{problem.sweep.name}_robust"
    prepare_folder(target, force)
    _start_solver()
    ledger = ledger_dir if ledger_dir is not None else Path.cwd() / problem.sweep.name
    seconds = time_limit if time_limit is not None else default_time_limit(problem)
    stage = f"{problem.sweep.name} 的统一方案" if lang == "zh" else f"one plan for {problem.sweep.name}"
    with limit(seconds, started=wall), _working(stage):
        result = solve_problem(problem, ledger_folder=ledger, progress=_progress_in(lang))
        content = files(result, target)
    write_folder(target, content, force=force)
    if lang == "zh":
        from .console_zh_runs import robust_lines

        shown = robust_lines(result)
    else:
        shown = lines(result)
    for line in shown:
        say(line)
    _written(target, lang)
    if result.cut_short:
        _limit("robust", lang)


@command()
@friendly
def template(
    out_file: Annotated[Path, typer.Option("--out", help="Workbook to write (.xlsx).")] = Path("exitopt_template.xlsx"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a workbook to fill in: units, projects, pins, plan and approvals sheets with drop-down
    lists, the Gansu tables as an example, and instructions in Chinese and English."""
    from .template import write_template

    sheets = write_template(out_file, force=force)
    out.print(f"written to {out_file}: sheets {', '.join(sheets)}", markup=False, soft_wrap=True)


def main() -> None:
    """The console entry point."""
    from .console import readable_streams

    readable_streams()
    app()


def console() -> None:
    """The installed ``exitopt`` command: :func:`main`, then out of the process without freeing
    its objects one by one (a built model is hundreds of thousands of them: a few tenths of a
    second). The exit handlers still run (the solver's worker ended, temporary folders
    removed); with a thread still running, the process exits the ordinary way, which waits
    for it."""
    import atexit
    import os
    import sys
    import threading

    status: str | int | None = 0
    try:
        main()
    except SystemExit as e:
        status = e.code
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:
        print(status, file=sys.stderr)
        code = 1
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


@command()
@friendly
def serve(
    scenario: ScenarioArg,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on. Only 127.0.0.1 (this computer) is private; any other address, "
                       "e.g. 0.0.0.0, serves the page to the network and needs the printed access token.")] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open the page in the browser.")] = True,
    time_limit: Annotated[float | None, _time_limit("Seconds per solve; overrides the scenario's.")] = None,
    plans: Annotated[list[Path] | None, typer.Option(
        "--plans", metavar="DIR", show_default=False,
        help="A run folder to list in every session's plans after the baseline: one `exitopt robust` wrote "
             "(shown with its regret by case) or one of `exitopt solve`. Give it once per folder.")] = None,
    lang: ConsoleLang = "en",
) -> None:
    """Open the meeting room: a page in the browser to pin units, change numbers and re-plan in seconds."""
    import signal
    import socket
    import webbrowser

    from .serve.server import start, stop, wait_for_baseline

    def _stop(signum, frame):  # a polite kill ends it like Ctrl+C: solves ended, folders removed
        raise KeyboardInterrupt

    from .console_zh_runs import SERVE

    server = start(scenario, host=host, port=port, time_limit=time_limit, plans=plans)
    signal.signal(signal.SIGTERM, _stop)
    try:
        err.print(SERVE["solving"][lang])
        problem = wait_for_baseline(server)
        if problem:
            err.print(SERVE["no_plan"][lang].format(problem=escape(_said(problem, lang))), soft_wrap=True)
        out.print(SERVE["open"][lang].format(url=server.url), soft_wrap=True)
        if server.app.token:
            others = server.url.replace("127.0.0.1", socket.gethostname(), 1)
            out.print(SERVE["network"][lang].format(others=others), soft_wrap=True)
        if open_browser:
            webbrowser.open(server.url)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        err.print(SERVE["stopped"][lang])
    finally:
        stop(server)
