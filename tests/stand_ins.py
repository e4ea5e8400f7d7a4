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
