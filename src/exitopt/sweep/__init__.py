"""Sensitivity sweeps: many variants of one scenario, solved as a batch and compared.

``run_sweep("models/sweeps/coal_target_ratio.toml", workers=2)`` reads the sweep file
(:mod:`.spec`), solves every case on local processes or a Dask cluster (:mod:`.runner`),
records each in a crash-safe SQLite ledger (:mod:`.ledger`) and writes tables and pictures
(:mod:`.export`, :mod:`.plots`). The command line is ``exitopt sweep``.
"""

from __future__ import annotations

from .runner import SweepReport, format_report, run_sweep
from .spec import Case, Sweep, read_sweep

__all__ = ["Case", "Sweep", "SweepReport", "format_report", "read_sweep", "run_sweep"]
