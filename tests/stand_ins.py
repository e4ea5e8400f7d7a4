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


def _answer_each(host: str, port: int, key: str, answer) -> None:
    """Join the parent and answer every job with ``answer(job, conn)`` (a result as
    ``exitopt.highs_worker.run`` returns it) until the parent says it is done."""
    from multiprocessing.connection import Client

    with Client((host, port), authkey=bytes.fromhex(key)) as conn:
        while True:
            job = conn.recv()
            if job is None:
                return
            conn.send(("done", answer(job, conn)))


def _searches(job) -> bool:
    """Whether a job searches: some integer decision is left free (not the check of a plan)."""
    a = job["arrays"]
    return bool((a["integer"] & (a["col_lower"] != a["col_upper"])).any())


def _at_the_limit(result: dict) -> dict:
    import highspy

    result["model_status"] = int(highspy.HighsModelStatus.kTimeLimit)
    result["status"] = "Time limit reached"
    return result


def loose_blocks_then_hangs(host: str, port: int, key: str) -> None:
    """Solve as HiGHS would, but report the bound of the first two searches (two blocks) 10 %
    below their plans, and hang on the third search (the whole model solved for a smaller gap).
    Jobs with every integer decision fixed (the check of a plan) are answered as they come."""
    from exitopt.highs_worker import run

    searches = 0

    def answer(job, conn):
        nonlocal searches
        search = _searches(job)
        if search and searches >= 2:
            while True:
                time.sleep(60)
        result = run(job, conn)
        if search:
            searches += 1
            result["bound"] = result["objective"] - 0.1 * abs(result["objective"])
        return result

    _answer_each(host, port, key, answer)


def far_plans_unproven(host: str, port: int, key: str) -> None:
    """Solve as HiGHS would, but report every maximising search (the search for a far
    alternative) as stopped at the time limit with its plan in hand and a bound 5 above it, as
    when an alternative's share of the time runs out before its proof."""
    from exitopt.highs_worker import run

    def answer(job, conn):
        result = run(job, conn)
        if job["arrays"]["maximize"] and result["has_solution"]:
            _at_the_limit(result)["bound"] = result["objective"] + 5.0
        return result

    _answer_each(host, port, key, answer)


def slow_search_then_no_plan(host: str, port: int, key: str) -> None:
    """Solve the first search (a block) as HiGHS would but take 1.5 s over it, then report every
    later search as stopped at the time limit without any plan (jobs with every integer decision
    fixed are answered as they come): a solve whose last step finds no plan after earlier steps
    took the time."""
    from exitopt.highs_worker import run

    searches = 0

    def answer(job, conn):
        nonlocal searches
        result = run(job, None)
        if _searches(job):
            searches += 1
            if searches == 1:
                time.sleep(1.5)
            else:
                _at_the_limit(result).update(has_solution=False, objective=None, values=None, duals=None)
        return result

    _answer_each(host, port, key, answer)


def stops_at_first_plan(host: str, port: int, key: str) -> None:
    """Solve as HiGHS would, but end every search at its first plan and report it as stopped at
    the time limit there, as when the clock runs out just after HiGHS finds a plan (on any
    machine, however loaded). Jobs with nothing to search (the check of a plan, its duals) are
    answered as they come."""
    import highspy

    from exitopt.highs_worker import run

    def answer(job, conn):
        search = _searches(job)
        if search:
            job = {**job, "options": {**job["options"], "mip_max_improving_sols": 1}}
        result = run(job, conn)
        if search and result["model_status"] == int(highspy.HighsModelStatus.kSolutionLimit):
            _at_the_limit(result)
        return result

    _answer_each(host, port, key, answer)


def every_search_at_the_limit(host: str, port: int, key: str) -> None:
    """Solve as HiGHS would, but report every search (a job with integer decisions left free) as
    stopped at the time limit with its plan in hand and a bound below it."""
    from exitopt.highs_worker import run

    def answer(job, conn):
        result = run(job, conn)
        if _searches(job) and result["has_solution"]:
            _at_the_limit(result)["bound"] = result["objective"] - 0.05 * abs(result["objective"]) - 1.0
        return result

    _answer_each(host, port, key, answer)


def answers_a_budget_of_jobs(host: str, port: int, key: str) -> None:
    """For a command run as a process of its own (a sweep, with workers of its own): solve jobs
    as HiGHS would while fewer than ``STAND_IN_BUDGET`` (an environment variable, 0 when unset)
    have been answered, then take each job and never answer. Every job taken adds a line to the
    file ``STAND_IN_JOBS`` names ("answered" or "held"), so every stand-in started with that file
    shares one budget, and a test reads there how far the command got. Like exitopt's own worker,
    it leaves Ctrl-C to its parent and ends when the parent is gone."""
    import os
    import signal
    from pathlib import Path

    from exitopt.highs_worker import _watch_parent, run

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent()
    log = Path(os.environ["STAND_IN_JOBS"])
    budget = int(os.environ.get("STAND_IN_BUDGET", "0"))

    def answer(job, conn):
        answered = log.read_text("utf-8").count("answered") if log.exists() else 0
        with log.open("a", encoding="utf-8") as f:
            f.write("answered\n" if answered < budget else "held\n")
        if answered >= budget:
            while True:
                time.sleep(60)
        return run(job, conn)

    try:
        _answer_each(host, port, key, answer)
    except (OSError, EOFError):
        os._exit(0)  # the parent is gone
