"""Speed and fidelity of reading a unit table from a workbook, against the same table as CSV.

    python benchmarks/bench_workbook.py [--runs 3] [--rows 15000]

Writes the Gansu unit table (306 rows) and a copy repeated to ``--rows`` rows (fresh unit ids)
as .xlsx with numbers stored as numbers, as Excel stores them, then prints best-of-``--runs``
seconds for:

* ``read_units`` on the CSV file (the reference);
* ``read_units`` on the workbook (openpyxl read-only, values only: what exitopt uses);
* pandas ``read_excel`` with the openpyxl engine (whole-workbook mode, for comparison);
* python-calamine, when it is installed (not a dependency of exitopt), reading the same sheet,
  and whether its text cells equal exitopt's.

Import times are excluded (each reader is imported once before timing).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import xlsxwriter

from exitopt.tables import read_units
from exitopt.workbook_input import cell_text, read_sheet

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "data" / "gansu" / "units.csv"


def write_book(frame: pd.DataFrame, path: Path) -> None:
    """The table as Excel would store it: numbers as numbers, the rest as text."""
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet("units")
    ws.write_row(0, 0, list(frame.columns))
    numeric = {c for c in frame.columns if pd.to_numeric(frame[c].replace("", None), errors="coerce").notna().all()}
    for r, row in enumerate(frame.itertuples(index=False), start=1):
        for c, (col, v) in enumerate(zip(frame.columns, row)):
            if v == "":
                continue
            ws.write_number(r, c, float(v)) if col in numeric else ws.write_string(r, c, v)
    book.close()


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rows", type=int, default=15000)
    args = ap.parse_args()
    gansu = pd.read_csv(UNITS, dtype=str, keep_default_na=False)
    copies = -(-args.rows // len(gansu))
    big = pd.concat([gansu.assign(unit_id=gansu["unit_id"] + f"-{k}") for k in range(copies)]).head(args.rows)
    try:
        import python_calamine
    except ImportError:
        python_calamine = None
    with tempfile.TemporaryDirectory() as tmp:
        for label, frame in (("Gansu", gansu), ("large", big)):
            csv = Path(tmp) / f"{label}.csv"
            book = Path(tmp) / f"{label}.xlsx"
            frame.to_csv(csv, index=False)
            write_book(frame, book)
            same = read_units(csv).equals(read_units(book))
            print(f"{label}: {len(frame)} rows × {frame.shape[1]} columns; workbook {book.stat().st_size / 1e6:.2f} MB; "
                  f"read_units gives the same table from CSV and workbook: {same}")
            print(f"  read_units CSV                  {best(lambda: read_units(csv), args.runs):7.3f} s")
            print(f"  read_units workbook (openpyxl)  {best(lambda: read_units(book), args.runs):7.3f} s")
            print(f"  read_sheet alone                {best(lambda: read_sheet(book), args.runs):7.3f} s")
            print(f"  pandas read_excel (openpyxl)    "
                  f"{best(lambda: pd.read_excel(book, dtype=str, engine='openpyxl'), args.runs):7.3f} s")
            if python_calamine is None:
                print("  python-calamine                 not installed")
                continue

            def calamine():
                wb = python_calamine.CalamineWorkbook.from_path(str(book))
                return wb.get_sheet_by_index(0).to_python(skip_empty_area=False)

            print(f"  python-calamine                 {best(calamine, args.runs):7.3f} s")
            ours = read_sheet(book).frame
            rows = calamine()
            theirs = pd.DataFrame([[cell_text(v) for v in r] for r in rows[1:]], columns=rows[0], dtype=str)
            print(f"  calamine cells equal exitopt's: {theirs.equals(ours)}")


if __name__ == "__main__":
    main()
