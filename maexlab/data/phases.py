"""Phase lookups shared by the analyses: the phase an initiative was in on a given date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from maexlab.data.schema import PHASES

_PHASE_ORDER = {p: i for i, p in enumerate(PHASES)}


def phase_on(phases: pd.DataFrame, events: pd.DataFrame, date_column: str) -> pd.Series:
    """The phase each event's initiative was in on the event's date (None when before any phase).

    ``events`` needs ``initiative_id`` and ``date_column``; the result is aligned with it. Two
    phases entered on the same date resolve to the later one in ``PHASES`` order (plan < start <
    growth < mature < closed), whatever the row order of ``phases``.

    Examples
    --------
    >>> ph = pd.DataFrame({"initiative_id": ["a", "a"], "phase": ["start", "growth"],
    ...                    "entered_on": pd.to_datetime(["2015-01-01", "2018-01-01"])})
    >>> ev = pd.DataFrame({"initiative_id": ["a", "a"], "on": pd.to_datetime(["2016-06-01", "2019-01-01"])})
    >>> phase_on(ph, ev, "on").tolist()
    ['start', 'growth']
    >>> same_day = pd.DataFrame({"initiative_id": ["a", "a", "a"], "phase": ["growth", "start", "plan"],
    ...                          "entered_on": pd.to_datetime(["2018-01-01", "2018-01-01", "2015-01-01"])})
    >>> phase_on(same_day, ev, "on").tolist()
    ['plan', 'growth']
    """
    if events.empty:
        return pd.Series([], dtype=object, index=events.index)
    left = events[["initiative_id", date_column]].copy()
    left["_row"] = np.arange(len(left))
    left = left.dropna(subset=[date_column]).sort_values(date_column)
    right = phases[["initiative_id", "phase", "entered_on"]].assign(_order=phases["phase"].map(_PHASE_ORDER))
    right = right.sort_values(["entered_on", "_order"], kind="stable").drop(columns="_order")
    merged = pd.merge_asof(left, right, left_on=date_column, right_on="entered_on", by="initiative_id", direction="backward")
    result = pd.Series([None] * len(events), dtype=object)
    result.iloc[merged["_row"].to_numpy()] = merged["phase"].where(merged["phase"].notna(), None).to_numpy()
    result.index = events.index
    return result


def current_phase(phases: pd.DataFrame, initiatives: pd.DataFrame) -> pd.Series:
    """Each initiative's phase at its ``observed_until`` date, indexed like ``initiatives``."""
    events = initiatives[["initiative_id", "observed_until"]]
    return phase_on(phases, events, "observed_until")
