"""``exitopt template``: a workbook to fill in, with one sheet per table exitopt reads.

Sheets, in this order: ``units``, ``projects``, ``pins``, ``plan``, ``approvals`` (empty, to
fill in), ``example_units`` and ``example_projects`` (the Gansu tables of ``data/gansu``), and
``说明 instructions`` (how to fill in and use the workbook, in Chinese and English, and every
column). Each table sheet has:

- a header row whose cells hold the column name on the first line (what exitopt reads) and a
  Chinese label with the unit on the second; a comment on each header cell gives the meaning,
  the unit and the default in both languages;
- drop-down lists (data validation) for the fixed vocabularies: sector, kind, product, owner,
  accident, source, status, action, mode, and true/false/是/否 for the yes/no columns;
  warnings for numbers out of range (capacity > 0, whole workers, years 1900–2100);
- number formats per column (years without a thousands separator, text for ids and
  ``exit_years`` so Excel leaves ``2018-2020`` alone), a frozen header row and id column, and
  a filter on the header;
- print settings: A4 landscape, one page wide, the header row on every page, a page header and
  footer with the template's name, the sheet, the date and the page number.

The workbook holds no formula, so it needs no calculation before exitopt reads it. A scenario
points at a sheet as ``units = "template.xlsx#units"``; the example sheets validate and solve
as they are.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pandas as pd

from .columns import TABLES, Column
from .errors import OutputError
from .output import why_not
from .printing import set_up_printing

#: the Gansu tables, next to the package in a source checkout (pip install -e .)
GANSU = Path(__file__).resolve().parents[2] / "data" / "gansu"
#: rows of each sheet that get drop-down lists and range checks
ROWS = 5000
YES_NO = ("true", "false", "是", "否")


#: the sheets to fill in, and their columns (the columns exitopt works out itself are left out)
SHEETS = {name: [c for c in columns if c.in_template] for name, columns in TABLES.items()}
UNITS, PROJECTS = SHEETS["units"], SHEETS["projects"]
INSTRUCTIONS = "说明 instructions"
#: what the page header of every printed sheet names
PRINT_TITLE = "exitopt 数据填报模板 · data template"

_FORMATS = {"capacity": "#,##0.0##", "count": "#,##0", "money": "#,##0.0##", "amount": "#,##0.0##", "year": "0",
            "id": "@", "text": "@", "bool": "@"}


def _validation(col: Column) -> dict | None:
    """The data-validation rule of a column, with the prompt shown when a cell is selected."""
    prompt = {"input_title": f"{col.name} · {col.label_zh}"[:32], "input_message": f"{col.unit}. {col.en}"[:255]}
    if col.choices:
        return {"validate": "list", "source": list(col.choices), "error_type": "stop",
                "error_message": f"{', '.join(col.choices)}"[:255], **prompt}
    if col.kind == "bool":  # 1/0 and yes/no are read too, so only warn
        return {"validate": "list", "source": list(YES_NO), "error_type": "warning",
                "error_message": "true/false, 是/否 (1/0, yes/no)", **prompt}
    if col.kind == "capacity":
        return {"validate": "decimal", "criteria": ">", "value": 0, "error_type": "warning",
                "error_message": "万吨/年, > 0", **prompt}
    if col.kind in ("money", "amount"):
        return {"validate": "decimal", "criteria": ">=", "value": 0, "error_type": "warning",
                "error_message": ">= 0", **prompt}
    if col.kind == "count":
        return {"validate": "integer", "criteria": ">=", "value": 0, "error_type": "warning",
                "error_message": "whole number >= 0 整数", **prompt}
    if col.kind == "year":
        return {"validate": "integer", "criteria": "between", "minimum": 1900, "maximum": 2100,
                "error_type": "warning", "error_message": "year 年份, e.g. 2017", **prompt}
    return {"validate": "any", **prompt}


def _comment(col: Column) -> str:
    need = "必填 required" if col.required else (f"选填 optional, 默认 default: {col.default_text}"
                                                 if col.default_text else "选填 optional")
    return f"{col.name} · {col.label_zh} ({col.unit})\n{col.zh}\n{col.en}\n{need}"


def _cell(value: str, kind: str):
    """A text cell of a CSV table as Excel stores it: numbers as numbers, the rest as text."""
    if value == "":
        return None
    if kind in ("capacity", "count", "money", "amount", "year"):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


class _Book:
    """Formats shared by the sheets of one workbook."""

    def __init__(self, book) -> None:
        self.book = book
        base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "top"}
        self.required = book.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#1F4E79",
                                         "font_color": "#FFFFFF", "border": 1})
        self.optional = book.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "border": 1})
        self.extra = book.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#EDEDED", "border": 1})
        self.cells = {kind: book.add_format({**base, "num_format": fmt}) for kind, fmt in _FORMATS.items()}
        self.text = book.add_format({**base, "text_wrap": True})
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.bold = book.add_format({**base, "bold": True, "text_wrap": True})

    def table(self, name: str, columns: list[Column], rows: pd.DataFrame | None = None) -> None:
        """One table sheet: header with labels and comments, formats, lists, frozen header; rows if given."""
        ws = self.book.add_worksheet(name)
        known = {c.name: c for c in columns}
        names = list(rows.columns) if rows is not None else [c.name for c in columns]
        ws.set_row(0, 30)
        for j, col_name in enumerate(names):
            col = known.get(col_name)
            kind = col.kind if col else "text"
            wide = kind in ("text", "id") and not (col and col.choices)
            # wide enough for the column's name on one line, beside the filter button
            ws.set_column(j, j, max(24 if wide else 14, len(col_name) + 3), self.cells[kind])
            if col is None:  # a column of the example beyond the documented ones: kept, not used
                ws.write_string(0, j, f"{col_name}\n其他 other", self.extra)
                ws.write_comment(0, j, f"{col_name}: 其他列，保留，可用于规则的筛选。\n"
                                       f"Other column: kept, usable in rule selections.", {"x_scale": 2})
                continue
            label = col.label_zh if col.unit == "文本 text" else f"{col.label_zh} · {col.unit}"
            ws.write_string(0, j, f"{col.name}\n{label}", self.required if col.required else self.optional)
            ws.write_comment(0, j, _comment(col), {"x_scale": 2.5, "y_scale": 1.6})
            ws.data_validation(1, j, ROWS, j, _validation(col))
        if rows is not None:
            for i, row in enumerate(rows.itertuples(index=False), start=1):
                for j, (col_name, value) in enumerate(zip(names, row, strict=False)):
                    kind = known[col_name].kind if col_name in known else "text"
                    v = _cell(value, kind)
                    if isinstance(v, str):
                        ws.write_string(i, j, v)
                    elif v is not None:
                        ws.write_number(i, j, v)
        ws.freeze_panes(1, 1)
        ws.autofilter(0, 0, 0, len(names) - 1)
        set_up_printing(ws, PRINT_TITLE, "both")

    def instructions(self, example: bool, file_name: str) -> None:
        """The instructions sheet; its steps name the workbook as ``file_name``."""
        ws = self.book.add_worksheet(INSTRUCTIONS)
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 20)
        ws.set_column(2, 2, 18)
        ws.set_column(3, 4, 60)
        lines = [
            ("exitopt 数据填报模板 · data template", self.title),
            ("填写方法（中文）", self.bold),
            ("1. 在 units 工作表中每行填写一个生产单位（煤矿、高炉、转炉、轧机、熟料线、粉磨站）；第一行为列名，请勿修改"
             "列名单元格的第一行文字。深色列必填，浅色列选填，空白取默认值。把鼠标停在列名上可看说明。", self.text),
            ("2. 有下拉箭头的单元格请从列表中选择；是/否列可填 true/false、是/否、1/0。数字可以是数值，也可以是文本。", self.text),
            ("3. 新增产能项目填在 projects 表；指定保留或退出的单位填在 pins 表；要核查的退出方案填在 plan 表，"
             "项目批准情况填在 approvals 表。不用的表可留空。", self.text),
            (f'4. 在情景文件（.toml）中写 units = "{file_name}#units"、projects = "{file_name}#projects"（# 后为工作表名），'
             "然后运行 exitopt validate 情景.toml 检查，exitopt solve 情景.toml 求解。", self.text),
            ("5. 公式单元格以 Excel 最后计算的结果读取；由程序生成、从未在 Excel 中保存过的工作簿请先用 Excel 打开并保存。"
             "出错时提示的行号与 Excel 左侧的行号一致。", self.text),
            ("How to fill in (English)", self.bold),
            ("1. On the units sheet, one row per production unit (coal mine, blast furnace, converter, rolling mill, "
             "clinker line, grinding station). The first row holds the column names: leave its first line as it is. "
             "Dark columns are required, light ones optional (an empty cell takes the default). Hover over a column "
             "name for its meaning.", self.text),
            ("2. Pick cells with a drop-down arrow from the list; yes/no columns take true/false, 是/否 or 1/0. Numbers "
             "may be numbers or text.", self.text),
            ("3. New-capacity projects go on the projects sheet; units to keep or to exit in a what-if on pins; a plan "
             "to check on plan, with project approvals on approvals. Leave unused sheets empty.", self.text),
            (f'4. In the scenario file (.toml) write units = "{file_name}#units" and projects = '
             f'"{file_name}#projects" (the sheet name after #), then run exitopt validate scenario.toml, and '
             "exitopt solve scenario.toml.", self.text),
            ("5. Formula cells are read as the values Excel last calculated; open and save in Excel a workbook that a "
             "program wrote and Excel never saved. Messages number rows as Excel does.", self.text),
        ]
        if example:
            lines.insert(7, ("示例：example_units、example_projects 为甘肃 2016 年方案的数据；models/gansu_2016.toml 中改为 "
                             f'units = "{file_name}#example_units" 即可得到同样结果。', self.text))
            lines.append(("Example: example_units and example_projects hold the Gansu 2016 tables; pointing "
                          f'models/gansu_2016.toml at units = "{file_name}#example_units" gives the same result.',
                          self.text))
        r = 0
        for text, fmt in lines:
            ws.merge_range(r, 0, r, 4, text, fmt)
            ws.set_row(r, 24 if fmt is not self.text else 42)
            r += 1
        r += 1
        for j, head in enumerate(("sheet 工作表", "column 列名", "unit 单位", "说明", "meaning")):
            ws.write_string(r, j, head, self.required)
        for sheet, columns in SHEETS.items():
            for col in columns:
                r += 1
                req = " (必填 required)" if col.required else ""
                ws.write_string(r, 0, sheet, self.text)
                ws.write_string(r, 1, col.name + req, self.text)
                ws.write_string(r, 2, col.unit, self.text)
                ws.write_string(r, 3, col.zh, self.text)
                ws.write_string(r, 4, col.en, self.text)
        set_up_printing(ws, PRINT_TITLE, "both")
        ws.activate()


def _example(name: str) -> pd.DataFrame | None:
    path = GANSU / name
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def build(path: Path, file_name: str | None = None) -> list[str]:
    """Write the template workbook to ``path``; return its sheet names.

    ``file_name`` is the name the instructions give the workbook (default: ``path``'s name). Made
    in memory and written in one go: a disk that fills up raises the plain OSError of that write
    and leaves no half-made zip file open."""
    import io

    import xlsxwriter

    data = io.BytesIO()
    book = xlsxwriter.Workbook(data, {"strings_to_numbers": False, "strings_to_formulas": False, "in_memory": True})
    b = _Book(book)
    for name, columns in SHEETS.items():
        b.table(name, columns)
    units, projects = _example("units.csv"), _example("projects.csv")
    if units is not None:
        b.table("example_units", UNITS, units)
    if projects is not None:
        b.table("example_projects", PROJECTS, projects)
    b.instructions(example=units is not None, file_name=file_name or path.name)
    book.close()
    Path(path).write_bytes(data.getvalue())
    return [ws.get_name() for ws in book.worksheets()]


def write_template(path: Path | str, *, force: bool = False) -> list[str]:
    """Write the template to ``path`` atomically; refuse to replace a file without ``force`` (exit 5)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise OutputError(f"{path}: the template is an Excel workbook; give a file name ending in .xlsx.")
    if path.is_dir():
        raise OutputError(f"{path} is a folder. Give a file name for --out, e.g. exitopt_template.xlsx.")
    if path.exists() and not force:
        raise OutputError(f"{path} already exists. Add --force to replace it, or choose another --out.")
    tmp = None
    try:
        path.resolve().parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx", dir=path.resolve().parent)
        os.close(fd)
        sheets = build(Path(tmp), path.name)
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        hint = " If it is open in Excel, close it first." if isinstance(e, PermissionError) else ""
        if e.errno == errno.ENOSPC:
            raise OutputError(f"cannot write {path}: {why_not(e)}") from None
        raise OutputError(f"cannot write {path}: {e.strerror or e}.{hint} Or choose another --out.") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return sheets
