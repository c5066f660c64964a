"""Preconditions: what a section needs from the data, checked before anything is estimated.

A section declares its needs once, in the package (never in a notebook cell), as a
:class:`Needs`; :func:`unmet` returns the reasons it cannot be computed, each a
:class:`~maexlab.reporting.verdicts.Reason` whose message the report shows in its language.
Columns must be present *and* hold at least one value: an empty column is reported as
"present but empty", not as missing.

Estimand-specific checks (enough events, enough follow-up, a category recorded, two groups
large enough to compare) are small functions returning a reason or None, so a section can
add them to the data checks: ``reasons = unmet(data, NEEDS) + [r for r in (enough_events(...),) if r]``.

>>> from maexlab.reporting.preconditions import Needs, enough_events
>>> enough_events(3, 10, "closures")
Reason(key='common.reasons.too_few_events', values={'n': 3, 'minimum': 10, 'event': 'closures'})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from maexlab.reporting.verdicts import Reason

__all__ = [
    "Needs",
    "category_recorded",
    "enough_events",
    "enough_follow_up",
    "enough_rows",
    "two_groups_large_enough",
    "unmet",
]


@dataclass(frozen=True)
class Needs:
    """Tables and columns a section needs (present and non-empty), and minimum row counts.

    Examples
    --------
    >>> Needs({"funding": ("status", "amount_requested")}, min_rows={"funding": 20})
    Needs(columns={'funding': ('status', 'amount_requested')}, min_rows={'funding': 20})
    """

    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    min_rows: Mapping[str, int] = field(default_factory=dict)

    def __or__(self, other: Needs) -> Needs:
        columns = {
            t: tuple(dict.fromkeys((*self.columns.get(t, ()), *other.columns.get(t, ()))))
            for t in {**self.columns, **other.columns}
        }
        rows = {t: max(self.min_rows.get(t, 0), other.min_rows.get(t, 0)) for t in {**self.min_rows, **other.min_rows}}
        return Needs(columns, rows)


def unmet(data, needs: Needs | Mapping[str, tuple[str, ...]]) -> list[Reason]:
    """The reasons ``data`` does not meet ``needs`` (empty list when it does)."""
    if not isinstance(needs, Needs):
        needs = Needs(dict(needs))
    reasons: list[Reason] = []
    for table, columns in needs.columns.items():
        frame = data.tables.get(table)
        if frame is None:
            reasons.append(Reason("common.reasons.missing_table", {"table": table}))
            continue
        if len(frame) == 0:
            reasons.append(Reason("common.reasons.empty_table", {"table": table}))
            continue
        for column in columns:
            if column not in frame.columns:
                reasons.append(Reason("common.reasons.missing_column", {"table": table, "column": column}))
            elif not frame[column].notna().any():
                reasons.append(Reason("common.reasons.empty_column", {"table": table, "column": column}))
    for table, minimum in needs.min_rows.items():
        frame = data.tables.get(table)
        if frame is not None and 0 < len(frame) < minimum:
            reasons.append(Reason("common.reasons.too_few_rows", {"what": table, "n": len(frame), "minimum": minimum}))
    return reasons


def enough_rows(n: int, minimum: int, what: str) -> Reason | None:
    """A reason when ``what`` has fewer than ``minimum`` rows."""
    return None if n >= minimum else Reason("common.reasons.too_few_rows", {"what": what, "n": int(n), "minimum": minimum})


def enough_events(n: int, minimum: int, event: str) -> Reason | None:
    """A reason when fewer than ``minimum`` events (closures, transitions, ...) occurred."""
    return None if n >= minimum else Reason("common.reasons.too_few_events", {"n": int(n), "minimum": minimum, "event": event})


def enough_follow_up(max_years: float, horizon: float) -> Reason | None:
    """A reason when the longest follow-up is shorter than the horizon asked (5-year survival ...)."""
    ok = pd.notna(max_years) and max_years >= horizon
    return None if ok else Reason("common.reasons.short_follow_up", {"years": float(max_years or 0), "horizon": horizon})


def category_recorded(values: Iterable, category: str) -> Reason | None:
    """A reason when ``category`` (a phase, a purpose) never occurs: its estimand is not testable."""
    return None if category in set(values) else Reason("common.reasons.category_never_recorded", {"category": category})


def two_groups_large_enough(counts: Mapping[str, int], minimum: int) -> Reason | None:
    """A reason unless at least two groups have ``minimum`` or more initiatives."""
    large = [g for g, n in counts.items() if n >= minimum]
    if len(large) >= 2:
        return None
    shown = ", ".join(f"{g}: {n}" for g, n in counts.items()) or "none"
    return Reason("common.reasons.too_few_groups", {"minimum": minimum, "groups": shown})
