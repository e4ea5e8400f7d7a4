"""One test decides whether a rule binds: constraints.csv, the briefing, compare and --explain."""

from __future__ import annotations

import pandas as pd
import pytest

from exitopt.binding import binds, required_exit, trivial


@pytest.mark.parametrize("required, achieved, expected", [
    (0.85, 0.850005, True),  # a share met to 5e-6: binds
    (0.85, 0.8502, False),  # 2e-4 of share to spare: does not
    (1000.0, 1002.0, False),  # an exit target with 2 万吨/yr to spare
    (1000.0, 1000.05, True),  # 5e-5 of the row's size: solver noise
    (193.75, 193.75, True),
    (3000.0, 2999.5, False),  # a worker cap with half a person to spare
    (0.0, 0.0, True),
    (0.0, 2e-5, True),  # the row's size is at least 1
    (None, 1.0, None),
    (float("nan"), 0.5, None),
])
def test_binds(required, achieved, expected):
    assert binds(required, achieved) is expected


def test_trivial_and_required_exits():
    assert trivial(0.0, 0.0) and trivial(0.0, 1e-7)
    assert not trivial(0.0, 5.0) and not trivial(193.75, 193.75) and not trivial(None, 0.0)
    assert required_exit("unit") and required_exit("package") and not required_exit("万吨/yr")


def test_gansu_constraints_and_explain_agree(gansu_result):
    """constraints.csv and --explain's reading of it call the same rows binding. The Gansu cement
    concentration rule is met with room once independent lines merge into the large groups
    (docs/model.md#mergers), so neither names it; met to the tolerance, both would."""
    from exitopt.explain import _binding_elsewhere

    c = gansu_result.constraints
    conc = c[c["rule"] == "concentration"].iloc[0]
    assert conc["achieved"] >= conc["required"]
    expected = [bool(binds(r, a)) if b is not None else False
                for r, a, b in zip(c["required"], c["achieved"], c["binding"], strict=True)]
    assert c["binding"].fillna(False).astype(bool).tolist() == expected
    # the baseline's concentration row is named exactly when it binds (the fleet rules retire
    # enough small lines that in the baseline it has room to spare)
    assert _binding_elsewhere(c, "clinker", 2016) == ([conc["name"]] if conc["binding"] else [])
    # a share met to 5e-6 binds and is named; one that falls short of binding is not
    tight = c.copy()
    tight.loc[tight["rule"] == "concentration", "achieved"] = conc["required"] + 5e-6
    assert _binding_elsewhere(tight, "clinker", 2016) == [conc["name"]]
    loose = c.copy()
    loose.loc[loose["rule"] == "concentration", "achieved"] = conc["required"] + 0.01
    assert _binding_elsewhere(loose, "clinker", 2016) == []


def test_report_recomputes_binding_of_an_old_run_folder():
    """A constraints.csv written with a stricter tolerance reads the same as a new one."""
    from exitopt.report.run import binding_flags

    c = pd.DataFrame({"required": [0.85, 1000.0, 0.0, 1.0], "achieved": [0.850005, 1002.0, 0.0, 1.0],
                      "binding": [False, False, None, True]})
    assert binding_flags(c).tolist() == [True, False, False, True]
