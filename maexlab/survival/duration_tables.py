"""Durations: years from founding (or from entering a phase) to closure or censoring, with delayed entry.

Time is in years (365.25 days) since founding (or since entering a phase). An initiative is
followed until ``closed_on`` (event) or ``observed_until`` (right-censored); ``entry`` is the time
from founding (or entering the phase) to joining the platform (delayed entry, see
:mod:`maexlab.survival`). Also the founding cohorts and the risk window (the span over which a
curve rests on at least a minimum number at risk, :func:`risk_window`, from
:mod:`maexlab.survival.multistate`).

>>> import pandas as pd
>>> ini = pd.DataFrame({"initiative_id": ["a", "b"], "founded_on": pd.to_datetime(["2012-01-01", "2016-01-01"]),
...     "joined_on": pd.to_datetime(["2015-01-01", "2016-01-01"]), "closed_on": pd.to_datetime([None, "2018-01-01"]),
...     "observed_until": pd.to_datetime(["2026-06-30", "2026-06-30"]), "value_model": ["social", "hybrid"]})
>>> durations(ini)[["initiative_id", "duration", "entry", "event", "cohort"]].round(2)
  initiative_id  duration  entry  event   cohort
0             a     14.49    3.0  False  2010-14
1             b      2.00    0.0   True  2015-19
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maexlab.survival.multistate import frame, risk_window, sojourns

__all__ = [
    "COHORTS",
    "cohort_of",
    "durations",
    "phase_durations",
    "risk_window",
    "start_to_closure",
]

COHORTS: tuple[tuple[str, int, int], ...] = (
    ("before 2010", 0, 2009),
    ("2010-14", 2010, 2014),
    ("2015-19", 2015, 2019),
    ("2020-26", 2020, 2026),
)


def cohort_of(year: pd.Series) -> pd.Series:
    """Founding cohort label of a founding year ("2010-14", ...)."""
    out = pd.Series(pd.NA, index=year.index, dtype=object)
    for label, lo, hi in COHORTS:
        out[(year >= lo) & (year <= hi)] = label
    return out


def durations(initiatives: pd.DataFrame) -> pd.DataFrame:
    """Years from founding to closure (``event``) or censoring, with delayed ``entry`` (years).

    Keeps ``value_model`` and adds the founding ``cohort``; rows whose entry is not before the
    end (joined on the day of closing) cannot contribute and are dropped.
    """
    fr = frame(initiatives)
    out = pd.DataFrame(
        {
            "initiative_id": fr["initiative_id"],
            "duration": fr["end"],
            "entry": fr["entry"],
            "event": fr["closed"].astype(bool),
            "cohort": cohort_of(fr["founded_on"].dt.year),
        }
    )
    for c in ("value_model", "province"):
        if c in initiatives:
            out[c] = initiatives[c].to_numpy()
    return out[out["entry"] < out["duration"]].reset_index(drop=True)


def phase_durations(initiatives: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """Years from entering each phase to closure (whatever phase it closes in), with delayed entry.

    One row per initiative and phase entered (``phase`` column); ``entry`` is the time from
    entering the phase to joining the platform (0 when it joined before).
    """
    s = sojourns(initiatives, phases)
    fr = frame(initiatives).set_index("initiative_id")
    s = s.join(fr[["end", "closed"]], on="initiative_id")
    out = pd.DataFrame(
        {
            "initiative_id": s["initiative_id"],
            "phase": s["phase"],
            "duration": s["end"] - s["t_enter"],
            "entry": np.clip(s["entry"] - s["t_enter"], 0.0, None),
            "event": s["closed"].astype(bool),
        }
    )
    return out[out["entry"] < out["duration"]].reset_index(drop=True)


def start_to_closure(initiatives: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """Years from entering start to closure (in any later phase), with delayed entry."""
    d = phase_durations(initiatives, phases)
    return d[d["phase"] == "start"].reset_index(drop=True)
