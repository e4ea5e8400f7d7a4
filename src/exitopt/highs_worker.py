"""The HiGHS side of a solve, run in a worker process that exitopt can end.

This module imports only numpy and highspy, so a worker starts in a fraction of a second. The
parent (:mod:`exitopt.highs`) sends a *job* — a model as arrays, options, an optional MIP
start and a wall-clock end — and reads back messages:

* ``("incumbent", objective, bound, values)`` each time HiGHS finds a better plan;
* ``("done", result)`` when HiGHS returns, with the status, objective, bound, column values
  and, for an LP, row duals.

The worker is a process of its own, joined to the parent over a local socket with a one-time
key (:func:`main`); its standard output goes nowhere (HiGHS prints a banner), and it writes
nothing to its standard error when the parent or the socket goes away.

Three guards keep the promise of a time limit: HiGHS's own ``time_limit``; an interrupt
callback that stops the search once the end has passed, in the loops that still call back;
and, for the loops that do neither, the parent, which ends this process.
"""

from __future__ import annotations

import time
from multiprocessing.connection import Connection


def _lp(arrays: dict):
    """A ``highspy.HighsLp`` from the arrays of :meth:`exitopt.highs.Compiled.arrays`."""
    import highspy
    import numpy as np

    lp = highspy.HighsLp()
    lp.num_col_ = int(arrays["col_cost"].size)
    lp.num_row_ = int(arrays["row_lower"].size)
    lp.col_cost_ = arrays["col_cost"]
    lp.col_lower_ = arrays["col_lower"]
    lp.col_upper_ = arrays["col_upper"]
    lp.row_lower_ = arrays["row_lower"]
    lp.row_upper_ = arrays["row_upper"]
    lp.offset_ = float(arrays["offset"])
    lp.sense_ = highspy.ObjSense.kMaximize if arrays["maximize"] else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = arrays["a_start"]
    lp.a_matrix_.index_ = arrays["a_index"]
    lp.a_matrix_.value_ = arrays["a_value"]
    integer = np.asarray(arrays["integer"], dtype=bool)
    if integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    return lp


def run(job: dict, conn: Connection | None) -> dict:
    """Solve one job; stream incumbents to ``conn`` (when given); return the result."""
    import highspy
    import numpy as np

    arrays = job["arrays"]
    if arrays["col_cost"].size == 0:  # nothing to decide (every unit kept, say): the plan is empty
        return {"status": "Optimal", "model_status": int(highspy.HighsModelStatus.kOptimal), "has_solution": True,
                "objective": float(arrays["offset"]), "bound": float(arrays["offset"]),
                "values": np.zeros(0), "duals": None, "run_time": 0.0}
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(_lp(job["arrays"]))
    for key, value in job["options"].items():
        h.setOptionValue(key, value)
    end = job.get("end")  # time.time() seconds, shared by both processes
    if end is not None:
        h.setOptionValue("time_limit", max(end - time.time(), 0.01))
    start = job.get("start")
    if start is not None:
        index, values = start
        h.setSolution(len(index), np.asarray(index, dtype=np.int32), np.asarray(values, dtype=np.float64))

    def improving(e) -> None:
        if conn is not None:
            out = e.data_out
            conn.send(("incumbent", float(out.objective_function_value), float(out.mip_dual_bound),
                       np.array(out.mip_solution, dtype=np.float64)))

    def interrupt(e) -> None:
        if end is not None and time.time() > end:
            e.interrupt()

    if job["arrays"]["integer"].any():
        h.cbMipImprovingSolution.subscribe(improving)
        h.cbMipInterrupt.subscribe(interrupt)
    h.cbSimplexInterrupt.subscribe(interrupt)
    h.run()
    info = h.getInfo()
    sol = h.getSolution()
    has = info.primal_solution_status == 2
    result = {
        "status": h.modelStatusToString(h.getModelStatus()),
        "model_status": int(h.getModelStatus()),
        "has_solution": bool(has),
        "objective": float(info.objective_function_value) if has else None,
        "bound": float(info.mip_dual_bound) if job["arrays"]["integer"].any() else (
            float(info.objective_function_value) if has else None),
        "values": np.array(sol.col_value, dtype=np.float64) if has else None,
        "duals": np.array(sol.row_dual, dtype=np.float64) if (has and sol.dual_valid) else None,
        "run_time": float(h.getRunTime()),
    }
    return result


def no_delay(conn: Connection) -> None:
    """Send each message at once on the connection's socket (TCP_NODELAY).

    A message over 16 KiB goes out as a header and a body; with Nagle's algorithm the body then
    waits for the header's acknowledgement, which the other side delays by up to 40 ms: every
    job, plan and result would stall that long."""
    import socket

    s = socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM)  # a duplicate of the descriptor
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    finally:
        s.close()


def serve(conn: Connection) -> None:
    """The worker's loop: a job in, messages out, until the parent sends None or goes away."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            result = run(job, conn)
        except Exception as e:  # reported to the parent, which raises it as an exitopt error
            conn.send(("failed", f"{type(e).__name__}: {e}"))
            continue
        conn.send(("done", result))


def _watch_parent() -> None:
    """End this process when the one that started it is gone (killed, say), even mid-solve."""
    import os
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exitopt-parent-watch").start()


def main(host: str, port: int, key: str) -> None:
    """A worker process's entry: join the parent on its local socket and serve it.

    It ends silently when the parent goes away, at any point (before it joined, say, when the
    command refused its input and exited): the parent has said what there is to say. Ctrl-C
    is the parent's to handle (a terminal sends it to this process too); the parent ends this
    one."""
    import os
    import signal
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent()
    try:
        with Client((host, port), authkey=bytes.fromhex(key)) as conn:
            no_delay(conn)
            serve(conn)
    except (OSError, EOFError, AuthenticationError):
        os._exit(0)  # the parent is gone, or closed the socket before this process joined
