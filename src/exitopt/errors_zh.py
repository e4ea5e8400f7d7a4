"""The errors of :mod:`exitopt.errors` in Chinese, for the commands run with ``--lang zh``.

Every message is written once, in English, where it is raised; this module reads the finished
English text back and says it in Chinese by message templates: a regular expression for each
kind of message, its file, row, column, key and value captured and put back verbatim (they are
the file's own words, which the reader fixes the file by). A message is read in three layers:

1. the file it names (``InputError.file``, written before the message as ``FILE: ``);
2. where in the file, peeled off the front as often as it comes (``row 5 (COAL-M1890), column
   'capacity':``, ``line 23, key ladder:``, a scenario key path before ``: ``);
3. what is wrong and what to do: the rest, matched whole against :data:`BODIES`.

A line no template knows stays in English after a Chinese lead-in, so that nothing a user
needs is lost; the English texts themselves are never changed. The infeasible error is said by
its diagnosis (:func:`exitopt.report.chinese.diagnosis_zh`).
"""

from __future__ import annotations

import re

from .errors import ExitoptError, InfeasibleError, InputError

#: where in a file, peeled off the front of a line: (pattern, Chinese)
PLACES = (
    (r"row (?P<r>\d+) \((?P<id>[^()]*)\), column '(?P<c>[^']+)'(?::| ) ?", r"第\g<r>行（\g<id>），“\g<c>”列："),
    (r"row (?P<r>\d+), column '?(?P<c>[^':,]+)'?: ", r"第\g<r>行，“\g<c>”列："),
    (r"row (?P<r>\d+) \((?P<id>[^()]*)\): ", r"第\g<r>行（\g<id>）："),
    (r"row (?P<r>\d+): ", r"第\g<r>行："),
    (r"line (?P<l>\d+), key (?P<k>[^:]+): ", r"第\g<l>行，键 \g<k>："),
    (r"the pins: ", "固定单位："),
    (r"pin: ", "固定单位："),
)

#: what is wrong, matched against the whole rest of a line: (pattern, Chinese)
BODIES = (
    # files (files.py, workbook_input.py, tables.py, scenario.py, report/run.py)
    (r"file not found\. Check the path \(it is relative to where you run exitopt\)\.",
     "找不到文件。请检查路径（相对于运行 exitopt 的当前目录）。"),
    (r"file not found\. Check the path in the scenario \(relative to the scenario file\)\.",
     "找不到文件。请检查情景文件中的路径（相对于情景文件所在目录）。"),
    (r"file not found\. Check the path \(relative to the scenario file\) and the sheet name after '#'\.",
     "找不到文件。请检查路径（相对于情景文件所在目录）和“#”后的工作表名。"),
    (r"file not found\. (?P<rest>.+)", r"找不到文件。\g<rest>"),
    (r"file not found: a part of the path is a file, not a folder\. (?P<rest>.+)",
     r"找不到文件：路径中有一段是文件而不是文件夹。\g<rest>"),
    (r"Check the path you typed \(relative to the current folder, (?P<p>.+)\)\.",
     r"请检查输入的路径（相对于当前目录 \g<p>）。"),
    (r"the path holds a NUL character, which no file name can\. Type the path again\.",
     "路径中含有空字符（NUL），文件名不可能含有它。请重新输入路径。"),
    (r"the path is too long for this system \((?P<n>[\d,]+) characters\)\. Move the file to a shorter path\.",
     r"路径太长，本系统无法处理（\g<n> 个字符）。请把文件移到较短的路径下。"),
    (r"cannot be read \((?P<why>.+)\)\.", r"无法读取（\g<why>）。"),
    (r"is a folder, not a (?P<what>.+)\. Give the file inside it\.", r"是文件夹而不是文件。请给出其中的文件。"),
    (r"is a folder, not a workbook\.", "是文件夹而不是工作簿。"),
    (r"is not an ordinary file \(a device, pipe or socket\)\. (?P<rest>.+)",
     "不是普通文件（而是设备、管道或套接字）。请给出工作簿（.xlsx）或 CSV 文件。"),
    (r"is not valid TOML: (?P<e>.+) \(at line (?P<l>\d+), column (?P<c>\d+)\)\. Look at that line: a missing "
     r"quote, bracket or '=' is the usual cause\.",
     r"不是有效的 TOML 文件：第\g<l>行第\g<c>列有误。请查看该行：通常是缺少引号、括号或“=”。"),
    (r"is not UTF-8 text\. Save it again as UTF-8 \(in Notepad: Save As → Encoding: UTF-8\)\.",
     "不是 UTF-8 编码的文本。请另存为 UTF-8（记事本：另存为 → 编码：UTF-8）。"),
    (r"is empty\. It needs a header row naming its columns: (?P<c>.+)\.", r"是空文件。它需要一行列名：\g<c>。"),
    (r"is empty\. The (?P<what>.+) needs a header row and one row per entry\.", r"是空文件。需要一行列名，每项一行。"),
    (r"has no sheet named '(?P<s>[^']*)'\. Its sheets are: (?P<all>.*)\. Write the sheet's name after '#' as "
     r"Excel shows it on the tab, e.g\. (?P<eg>\S+)\.",
     r"没有名为“\g<s>”的工作表。其工作表为：\g<all>。请在“#”后写出 Excel 标签上显示的工作表名，例如 \g<eg>。"),
    (r"has no worksheet to read\.", "没有可读的工作表。"),
    # the scenario (scenario.py)
    (r"the scenario is not valid \((?P<n>\d+) problem\(s\)\):", r"情景无效（\g<n>处问题）："),
    (r"Fix these keys in the scenario file and run again\.", "请改正情景文件中的这些键，然后重新运行。"),
    (r"the changed numbers make the scenario invalid:", "修改后的数字使情景无效："),
    # tables (tables.py, check/reading.py, pins.py)
    (r"'(?P<v>[^']*)' is not a number\.", r"“\g<v>”不是数字。"),
    (r"capacity must be above 0 万吨/yr, found (?P<v>\S+)\. Remove the row if the unit no longer exists\.",
     r"产能须大于 0 万吨/年，实际为 \g<v>。单位已不存在时请删去该行。"),
    (r"must not be negative, found (?P<v>\S+)\.", r"不得为负数，实际为 \g<v>。"),
    (r"must be a whole number, found (?P<v>\S+)\.", r"须为整数，实际为 \g<v>。"),
    (r"(?P<v>\S+) is outside what it can mean \((?P<range>[^)]*)\)\. Check the cell for a typing error\.",
     r"\g<v> 超出了有意义的范围（\g<range>）。请检查该单元格是否录入有误。"),
    (r"'(?P<v>[^']*)' is not true/false\. Write true or false \(1/0 also work\)\.",
     r"“\g<v>”不是 true/false。请写 true 或 false（也可写 1/0）。"),
    (r"'(?P<v>[^']*)' is not one of (?P<all>.+)\.", r"“\g<v>”不是下列之一：\g<all>。"),
    (r"'(?P<v>[^']*)' is not a list of years(?P<why> \([^)]*\))?\. Write e\.g\. 2017-2020 or 2018;2019, or leave "
     r"it empty for any year\.", r"“\g<v>”不是年份列表\g<why>。请写成 2017-2020 或 2018;2019，或留空表示任何年份。"),
    (r"the (?P<what>.+) lacks column\(s\) (?P<c>.+?)\. The first row must hold the column names; see "
     r"(?P<doc>\S+) for the list\.(?P<hint>.*)", r"表中缺少列 \g<c>。第一行须为列名；列的清单见 \g<doc>。\g<hint>"),
    (r"the (?P<what>.+) lacks column\(s\) (?P<c>.+?)\. Its first row must name the columns(?::| ) ?(?P<need>.*)",
     r"表中缺少列 \g<c>。第一行须写出列名：\g<need>"),
    (r"the (?P<what>.+) has no rows\.", "表中没有数据行。"),
    (r"'(?P<c>[^']+)' is empty\.", r"“\g<c>”为空。"),
    (r"column '(?P<c>[^']+)' is empty\.", r"“\g<c>”列为空。"),
    (r"is empty; give the (?:unit|project)'s id or delete the row\.", "为空；请填写编号或删去该行。"),
    (r"(?P<c>\w+) '(?P<id>[^']*)' appears more than once \(rows (?P<rows>[^)]*)\)\. Each unit needs its own id\.",
     r"\g<c> “\g<id>”出现了不止一次（第 \g<rows> 行）。每个单位须有自己的编号。"),
    (r"the (?P<what>.+) has the column '(?P<c>[^']+)' more than once in its first row; exitopt would read only "
     r"one of them\. Delete or rename the other\.", r"表的第一行中“\g<c>”列出现了不止一次，只会读取其中之一。请删除或重命名另一列。"),
    (r"'(?P<v>.*)' holds the control character (?P<ch>\S+) \((?P<u>U\+[0-9A-F]+)\), which cannot be seen or typed "
     r"in a rule, a plan or a pin\. Retype the cell without it\.",
     r"“\g<v>”含有控制字符 \g<ch>（\g<u>），它看不见也无法在规则、方案或固定中输入。请重新输入该单元格。"),
    (r"'(?P<v>[^']*)' is neither keep nor exit\.", r"“\g<v>”既不是 keep 也不是 exit。"),
    (r"'(?P<v>[^']*)' is not a year\. Write it as a number such as 2018\.", r"“\g<v>”不是年份。请写成数字，如 2018。"),
    # pins (pins.py)
    (r"unit '(?P<u>[^']+)' \((?P<pin>[^)]*)\) is not in the unit table\. Check the spelling against the unit "
     r"table's unit_id column\.(?P<hint>.*)", r"单位“\g<u>”（\g<pin>）不在单位表中。请对照单位表的 unit_id 列检查拼写。\g<hint>"),
    (r"unit '(?P<u>[^']+)' is pinned twice \((?P<a>[^;]*); (?P<b>[^)]*)\)\. Keep one pin per unit\.",
     r"单位“\g<u>”被固定了两次（\g<a>；\g<b>）。每个单位只保留一项固定。"),
    (r"--(?P<a>keep|exit) '(?P<t>[^']*)' names no unit\. Write .*", r"--\g<a> “\g<t>”没有指明单位。请写 --\g<a> "
     r"UNIT_ID 或 --\g<a> UNIT_ID=YEAR。"),
    (r"(?P<pin>.+) contradicts the scenario's (?P<r>protected|mandatory) rule '(?P<n>[^']*)'\. Remove the pin or "
     r"that rule\.", r"\g<pin> 与情景的规则“\g<n>”相矛盾。请去掉这项固定或那条规则。"),
    (r"(?P<pin>.+): (?P<y>\d{4}) is outside the plan (?P<a>\d{4})–(?P<b>\d{4})\.",
     r"\g<pin>：\g<y>年不在规划期 \g<a>–\g<b> 内。"),
    # options
    (r"--within '(?P<t>[^']*)' is not a share; write e\.g\. 2% or 0\.02\.", r"--within “\g<t>”不是比例；请写成 2% 或 0.02。"),
    (r"--within '(?P<t>[^']*)' must be 0 or more, e\.g\. 2%\.", r"--within “\g<t>”须不小于 0，如 2%。"),
    # output folders (output.py, report/compare.py)
    (r"(?P<p>.+) already holds files from an earlier run\. Add --force to replace them, or choose another --out\.",
     r"\g<p> 中已有先前运行的文件。加 --force 可替换它们，或用 --out 另选目录。"),
    (r"(?P<p>.+) is a file, not a folder\. Choose another --out\.", r"\g<p> 是文件而不是文件夹。请用 --out 另选目录。"),
    (r"(?P<p>.+) already exists\. Add --force to replace it, or choose another --out\.",
     r"\g<p> 已存在。加 --force 可替换它，或用 --out 另选文件。"),
    (r"(?P<p>.+) is a folder\. Give a file name for --out, e\.g\. comparison\.csv\.",
     r"\g<p> 是文件夹。请为 --out 给出文件名，如 comparison.csv。"),
    (r"cannot write (?:in )?(?P<p>.+?): (?P<why>.+)", r"无法写入 \g<p>：\g<why>"),
    (r"the --out path holds a NUL character\. Type it again\.", "--out 路径中含有空字符（NUL）。请重新输入。"),
    # run folders (report/run.py)
    (r"is missing from the run folder\. Point at a folder written by `exitopt solve`, or solve the scenario again\.",
     "运行目录中缺少此文件。请指向 exitopt solve 写出的目录，或重新求解情景。"),
    (r"is not a folder\. Give the run folder that `exitopt solve --out` wrote\.",
     "不是文件夹。请给出 exitopt solve --out 写出的运行目录。"),
    (r"is empty\. Solve the scenario again to rewrite it\.", "是空文件。请重新求解情景以重写它。"),
    (r"lacks the column\(s\) (?P<c>.+)\. This is not a run folder table written by `exitopt solve`; solve the "
     r"scenario again\.", r"缺少列 \g<c>。这不是 exitopt solve 写出的运行目录表；请重新求解情景。"),
    # the time limit (highs.py)
    (r"the time limit of (?P<s>\S+) s passed while (?P<doing>.+), before any plan was found\. Raise \[solver\] "
     r"time_limit in the scenario \(or --time-limit\), or loosen the rules\.",
     r"达到时间上限（\g<s> 秒），尚未找到任何方案。请提高情景中的 [solver] time_limit（或 --time-limit），或放宽规则。"),
    (r"the time limit was reached after (?P<s>\S+) s without any plan\. Raise \[solver\] time_limit in the scenario "
     r"\(or --time-limit\), or loosen the rules\.",
     r"用时 \g<s> 秒达到时间上限，没有任何方案。请提高情景中的 [solver] time_limit（或 --time-limit），或放宽规则。"),
)

#: a problem of one scenario key (scenario.format_validation's lines ``  KEY: PROBLEM``)
PROBLEMS = (
    (r"must be a finite number \(nan and inf mean nothing here\)", "须为有限的数（nan 和 inf 在此没有意义）"),
    (r"must be at least (?P<n>\S+)", r"须不小于 \g<n>"),
    (r"must be above (?P<n>\S+)", r"须大于 \g<n>"),
    (r"must be at most (?P<n>\S+)", r"须不大于 \g<n>"),
    (r"must be below (?P<n>\S+)", r"须小于 \g<n>"),
    (r"unknown key; did you mean '(?P<k>[^']+)'\?", r"未知的键；是否应为“\g<k>”？"),
    (r"unknown key \(misspelt\? see (?P<f>\S+) for the keys exitopt reads\)", r"未知的键（拼错了？可读取的键见 \g<f>）"),
    (r"required key is missing", "缺少必需的键"),
    (r"Input should be a valid number.*", "须为数字"),
    (r"Input should be a valid integer.*", "须为整数"),
    (r"Input should be a valid string", "须为文本"),
    (r"Input should be a valid boolean.*", "须为 true 或 false"),
    (r"Input should be (?P<all>'.+)", r"须为下列之一：\g<all>"),
    (r"year (?P<y>\d+) is outside the plan (?P<a>\d+)–(?P<b>\d+)", r"\g<y>年不在规划期 \g<a>–\g<b> 内"),
    (r"last_year (?P<b>\d+) is before first_year (?P<a>\d+)", r"last_year \g<b> 早于 first_year \g<a>"),
)
FOUND = re.compile(r"(?P<p>.*) \(found (?P<v>.+)\)")

#: the lead-in of a line no template knows
UNKNOWN = "（此说明尚无中文）"


def _place(text: str) -> tuple[str, str]:
    """(the Chinese of the places at the front of ``text``, the rest)."""
    said = ""
    while True:
        for pattern, zh in PLACES:
            m = re.match(pattern, text)
            if m:
                said += m.expand(zh)
                text = text[m.end():]
                break
        else:
            return said, text


def _pins(said: str) -> str:
    """Pin labels (keep U, exit U in 2018) in a message, as the Chinese console says them."""
    from .console_zh import _pin

    return re.sub(r"\b(?:keep|exit) \S+(?: (?:in|through) \d{4})?", lambda m: _pin(m[0]), said)


def _whole(text: str, table) -> str | None:
    for pattern, zh in table:
        m = re.fullmatch(pattern, text)
        if m:
            return _pins(m.expand(zh))  # a group that took no part comes out empty
    return None


def _problem(text: str) -> str | None:
    m = FOUND.fullmatch(text)
    head, found = (m["p"], m["v"]) if m else (text, None)
    said = _whole(head, PROBLEMS)
    if said is None:
        return None
    return said + (f"（实际为 {found}）" if found is not None else "")


def line_zh(line: str) -> str | None:
    """One line of a message in Chinese; None when no template knows it."""
    lead = line[:len(line) - len(line.lstrip(" "))]
    body = line.strip()
    if not body:
        return line
    said = _whole(body, BODIES)
    if said is not None:
        return lead + said
    place, rest = _place(body)
    if place and (said := _whole(rest, BODIES)) is not None:
        return lead + place + said
    key, sep, problem = body.partition(": ")  # a scenario key's problem: KEY: PROBLEM
    if sep and (said := _problem(problem)) is not None:
        return f"{lead}{key}：{said}"
    return None


def text_zh(text: str) -> tuple[str, bool]:
    """A message's text in Chinese, line by line; (text, whether every line was known)."""
    lines, known = [], True
    for line in text.split("\n"):
        said = line_zh(line)
        if said is None:
            known = False
            said = UNKNOWN + line
        lines.append(said)
    return "\n".join(lines), known


def message_zh(error: ExitoptError) -> tuple[str, bool]:
    """(the message of ``error`` in Chinese, whether every line of it was known)."""
    if isinstance(error, InfeasibleError) and error.diagnosis is not None:
        from .report.chinese import Names, diagnosis_zh, names_of

        names = Names.of({"names_zh": names_of(error.instance)}) if error.instance is not None else None
        return diagnosis_zh(error.diagnosis, names), True
    text = str(error)
    file = error.file if isinstance(error, InputError) else None
    if file and text.startswith(f"{file}: "):
        text = text[len(file) + 2:]
    body, known = text_zh(text)
    return (f"{file}：{body}" if file else body), known


#: how the CLI starts an error line in each language
LEAD = {"en": "error: ", "zh": "错误："}
