"""Stand-ins for the HiGHS worker process, for tests of the time limit.

A worker is named to exitopt as "module:function" (``exitopt.highs.WORKER_MAIN``) and started as
a process of its own, so a stand-in must live in an importable module: this one.
"""

from __future__ import annotations

import time


def never_returns(host: str, port: int, key: str) -> None:
    """Join the parent, take a job, and never answer (as HiGHS does in a loop that ignores its clock)."""
    from multiprocessing.connection import Client

    with Client((host, port), authkey=bytes.fromhex(key)) as conn:
        conn.recv()
        while True:
            time.sleep(60)


def _answers_then_hangs(host: str, port: int, key: str, answered: int) -> None:
    from multiprocessing.connection import Client

    from exitopt.highs_worker import run

    with Client((host, port), authkey=bytes.fromhex(key)) as conn:
        for _ in range(answered):
            conn.send(("done", run(conn.recv(), conn)))
        conn.recv()
        while True:
            time.sleep(60)


def answers_one_job(host: str, port: int, key: str) -> None:
    """Solve the first job as HiGHS would, then hang on the next."""
    _answers_then_hangs(host, port, key, 1)


def answers_two_jobs(host: str, port: int, key: str) -> None:
    """Solve the first two jobs (a plan and its duals), then hang on the next."""
    _answers_then_hangs(host, port, key, 2)


def loose_blocks_then_hangs(host: str, port: int, key: str) -> None:
    """Solve as HiGHS would, but report the bound of the first two searches (two blocks) 10 %
    below their plans, and hang on the third search (the whole model solved for a smaller gap).
    Jobs with every integer decision fixed (the check of a plan) are answered as they come."""
    from multiprocessing.connection import Client

    from exitopt.highs_worker import run

    with Client((host, port), authkey=bytes.fromhex(key)) as conn:
        searches = 0
        while True:
            job = conn.recv()
            a = job["arrays"]
            search = bool((a["integer"] & (a["col_lower"] != a["col_upper"])).any())
            if search and searches >= 2:
                while True:
                    time.sleep(60)
            result = run(job, conn)
            if search:
                searches += 1
                result["bound"] = result["objective"] - 0.1 * abs(result["objective"])
            conn.send(("done", result))


def far_plans_unproven(host: str, port: int, key: str) -> None:
    """Solve as HiGHS would, but report every maximising search (the search for a far
    alternative) as stopped at the time limit with its plan in hand and a bound 5 above it, as
    when an alternative's share of the time runs out before its proof."""
    from multiprocessing.connection import Client

    import highspy

    from exitopt.highs_worker import run

    with Client((host, port), authkey=bytes.fromhex(key)) as conn:
        while True:
            job = conn.recv()
            result = run(job, conn)
            if job["arrays"]["maximize"] and result["has_solution"]:
                result["model_status"] = int(highspy.HighsModelStatus.kTimeLimit)
                result["status"] = "Time limit reached"
                result["bound"] = result["objective"] + 5.0
            conn.send(("done", result))


def every_search_at_the_limit(host: str, port: int, key: str) -> None:
    """Solve as HiGHS would, but report every search (a job with integer decisions left free) as
    stopped at the time limit with its plan in hand and a bound below it."""
    from multiprocessing.connection import Client

    import highspy

    from exitopt.highs_worker import run

    with Client((host, port), authkey=bytes.fromhex(key)) as conn:
        while True:
            job = conn.recv()
            a = job["arrays"]
            result = run(job, conn)
            if bool((a["integer"] & (a["col_lower"] != a["col_upper"])).any()) and result["has_solution"]:
                result["model_status"] = int(highspy.HighsModelStatus.kTimeLimit)
                result["status"] = "Time limit reached"
                result["bound"] = result["objective"] - 0.05 * abs(result["objective"]) - 1.0
            conn.send(("done", result))
