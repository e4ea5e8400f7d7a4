"""The sweep's ledger: one SQLite file (WAL mode) that survives a crash at any moment.

Only the parent process writes it, one transaction per finished case, so a sweep killed at
any point keeps every case it had finished and ``--resume`` carries on from there. Two sweeps
started on one folder at once share the work: each claims the cases it will solve in one
transaction, and a claim whose owner has died (its owner lock, a file beside the ledger, is no
longer held) is taken over. Tables::

    meta(key, value)                  sweep name, sweep-file hash, base-file hashes, axes;
                                      written once, in the transaction that makes the tables
    claims(case_id, owner, claimed)   cases a running sweep has taken and not yet finished
    cases(case_id, idx, variant, params, status, objective, bound, gap, jobs, fiscal, seconds,
          diagnosis, exits, projects_built, finished)
                                      params: JSON {axis: value}; exits: JSON {product: {year: 万吨/yr}}
    unit_exits(case_id, unit_id, exit_year, mode, forced)
                                      one row per unit that exits in the case; forced = a
                                      mandatory rule made it exit
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

LEDGER = "ledger.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY,
    idx INTEGER NOT NULL,
    variant TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    objective REAL,
    bound REAL,
    gap REAL,
    jobs REAL,
    fiscal REAL,
    seconds REAL,
    diagnosis TEXT,
    exits TEXT,
    projects_built TEXT,
    finished TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (case_id TEXT PRIMARY KEY, owner TEXT NOT NULL, claimed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unit_exits (
    case_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    exit_year INTEGER NOT NULL,
    mode TEXT NOT NULL,
    forced INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, unit_id)
);
"""

#: statuses a resumed sweep does not run again (an "error" is a fault and is retried)
FINISHED = ("optimal", "limit", "infeasible")


class Ledger:
    """The ledger of one sweep folder (open it with :func:`open_ledger`)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only:  # for a reader of a finished sweep: the file is neither made nor changed
            self.conn = sqlite3.connect(f"file:{self.path.resolve().as_posix()}?mode=ro", uri=True)
            return
        self.conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        with self._tx():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    def close(self) -> None:
        self.conn.close()

    # ---- meta ----------------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        with self._tx():
            self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    def adopt_meta(self, values: dict[str, str]) -> dict[str, str]:
        """Write ``values`` as the ledger's meta if it has none yet; return the meta it holds.

        One transaction reads and writes, so of two sweeps starting on a new folder at once one
        writes its meta and the other reads that whole meta, never a ledger without it.
        """
        with self._tx():
            have = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
            if not have:
                self.conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(values.items()))
                have = dict(values)
        return have

    # ---- claims --------------------------------------------------------------------------------

    def claim(self, case_ids: list[str], owner: str, alive: Callable[[str], bool]) -> list[str]:
        """Claim, for ``owner``, every case of ``case_ids`` that is neither finished nor claimed by a
        live owner; return them in the order given. ``alive(other)`` tells whether another owner runs."""
        with self._tx():
            done = self._finished()
            claims = dict(self.conn.execute("SELECT case_id, owner FROM claims").fetchall())
            dead = {o for o in set(claims.values()) if o != owner and not alive(o)}
            self.conn.executemany("DELETE FROM claims WHERE owner = ?", [(o,) for o in dead])
            mine = [c for c in case_ids if c not in done and (c not in claims or claims[c] in dead)]
            stamp = _now()
            self.conn.executemany("INSERT OR REPLACE INTO claims (case_id, owner, claimed) VALUES (?, ?, ?)",
                                  [(c, owner, stamp) for c in mine])
        return mine

    def claimed_elsewhere(self, owner: str) -> int:
        """How many cases other (live or not yet detected dead) sweeps hold."""
        return self.conn.execute("SELECT COUNT(*) FROM claims WHERE owner != ?", (owner,)).fetchone()[0]

    def release(self, owner: str) -> None:
        """Give back the claims of ``owner`` that it did not finish (it stops, or was interrupted)."""
        with self._tx():
            self.conn.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    # ---- cases ---------------------------------------------------------------------------------

    def finished(self) -> set[str]:
        """Case ids that need not run again."""
        return self._finished()

    def _finished(self) -> set[str]:
        marks = ",".join("?" * len(FINISHED))
        return {r[0] for r in self.conn.execute(f"SELECT case_id FROM cases WHERE status IN ({marks})", FINISHED)}

    def record(self, case_id: str, idx: int, variant: str, params: dict, result: dict) -> None:
        """Write one finished case and its unit exits in a single transaction."""
        with self._tx():
            self.conn.execute("DELETE FROM claims WHERE case_id = ?", (case_id,))
            self.conn.execute("DELETE FROM unit_exits WHERE case_id = ?", (case_id,))
            self.conn.execute(
                "INSERT OR REPLACE INTO cases (case_id, idx, variant, params, status, objective, bound, gap, jobs, "
                "fiscal, seconds, diagnosis, exits, projects_built, finished) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (case_id, idx, variant, json.dumps(params, ensure_ascii=False), result["status"],
                 result.get("objective"), result.get("bound"), result.get("gap"), result.get("jobs"),
                 result.get("fiscal"), result.get("seconds"), result.get("diagnosis", ""),
                 json.dumps(result.get("exits", {}), ensure_ascii=False),
                 json.dumps(result.get("projects_built", []), ensure_ascii=False),
                 _now()),
            )
            self.conn.executemany(
                "INSERT INTO unit_exits (case_id, unit_id, exit_year, mode, forced) VALUES (?, ?, ?, ?, ?)",
                [(case_id, u, int(y), m, int(bool(f))) for u, y, m, f in result.get("units", [])],
            )

    def cases(self):
        """Every recorded case as a DataFrame, in case order (params and exits decoded)."""
        import pandas as pd

        df = pd.read_sql_query("SELECT * FROM cases ORDER BY idx", self.conn)
        for col in ("params", "exits", "projects_built"):
            df[col] = df[col].map(lambda s: json.loads(s) if s else None)
        return df

    def unit_exits(self):
        import pandas as pd

        return pd.read_sql_query("SELECT * FROM unit_exits ORDER BY case_id, unit_id", self.conn)

    def _tx(self):
        return _Transaction(self.conn)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def open_ledger(folder: Path) -> Ledger:
    return Ledger(Path(folder) / LEDGER)


def read_ledger(folder: Path) -> Ledger | None:
    """The ledger of a sweep folder, opened read-only; None when the folder holds none."""
    path = Path(folder) / LEDGER
    return Ledger(path, read_only=True) if path.is_file() else None
