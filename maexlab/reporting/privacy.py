"""Small-cell suppression: no published group table shows a group below the minimum size."""

from __future__ import annotations

import pandas as pd

DEFAULT_MIN_GROUP_SIZE = 10
SUPPRESSED_FLAG = "suppressed"


def suppress_small_cells(
    table: pd.DataFrame,
    count_column: str = "n",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    keep: tuple[str, ...] = (),
    secondary: bool = True,
) -> pd.DataFrame:
    """Blank every statistic of groups with fewer than ``min_group_size`` units.

    The group labels stay, so a reader sees the group exists; the count and every other
    value column become missing and ``suppressed`` is True, marking the row in the output.
    Columns in ``keep`` (the group labels; by default every text column) are left as they are.

    A group with a count of 0 is not a small group: it has no members to protect, so it is never
    suppressed (its 0 stays visible) and never hidden to protect another group (hiding it would
    add nothing to the hidden total).

    With ``secondary`` (the default) a hidden group can never be recovered by subtraction from
    a total published elsewhere: along every label column, within each line of the table (the
    rows that share all other labels; for a one-label table, the whole table), the next smallest
    groups are hidden too until the line hides at least two groups that together reach the
    minimum. This repeats until every line is safe, so a source x phase table stays safe next
    to the published source totals and phase totals.

    Examples
    --------
    >>> t = pd.DataFrame({"phase": ["start", "growth", "mature"], "n": [4, 25, 40], "coverage": [0.5, 0.6, 0.7]})
    >>> suppress_small_cells(t, keep=("phase",))
        phase     n  coverage  suppressed
    0   start  <NA>       NaN        True
    1  growth  <NA>       NaN        True
    2  mature    40       0.7       False
    """
    if count_column not in table.columns:
        raise KeyError(f"suppress_small_cells needs a count column {count_column!r}; columns are {list(table.columns)}")
    if min_group_size < 1:
        raise ValueError(f"min_group_size must be at least 1, got {min_group_size}")
    out = table.copy()
    counts = pd.to_numeric(out[count_column], errors="coerce")
    small = ((counts < min_group_size) & (counts > 0)).fillna(False).astype(bool)
    # Without an explicit ``keep``, text columns are the group labels.
    labels = set(keep) if keep else {c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c]) and c != count_column}
    if secondary:
        small = _secondary_suppression(small, counts, out[[c for c in out.columns if c in labels]], min_group_size)
    for column in out.columns:
        if column in labels:
            continue
        if column == count_column:
            out[column] = out[column].astype("Int64").mask(small)
        elif pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Int64").mask(small)  # counts stay whole numbers
        elif pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("float64").mask(small)
        else:
            out[column] = out[column].astype(object).mask(small)
    out[SUPPRESSED_FLAG] = small.to_numpy()
    return out


def _secondary_suppression(small: pd.Series, counts: pd.Series, labels: pd.DataFrame, min_group_size: int) -> pd.Series:
    """Hide the next smallest groups of every line until its hidden groups are safe together.

    A line is safe when it hides no group, or at least two whose counts sum to the minimum:
    their sum is what subtracting the shown groups from a published total reveals.
    """
    small = small.copy()
    dimensions = list(labels.columns) or [None]
    changed = True
    while changed:
        changed = False
        for dimension in dimensions:
            others = [c for c in labels.columns if c != dimension]
            lines = labels.groupby(others, dropna=False, sort=False).groups.values() if others else [labels.index]
            for rows in lines:
                hidden = small[rows]
                # A zero group protects nothing: hiding it adds 0 to what subtraction reveals.
                candidates = counts[rows].where(~hidden & (counts[rows] > 0)).dropna()
                unsafe = hidden.sum() == 1 or 0 < counts[rows][hidden].fillna(0).sum() < min_group_size
                if hidden.any() and unsafe and len(candidates):
                    small[candidates.idxmin()] = True
                    changed = True
    return small


def assert_no_small_groups(table: pd.DataFrame, count_column: str = "n", min_group_size: int = DEFAULT_MIN_GROUP_SIZE) -> None:
    """Raise if a published table still shows a count below ``min_group_size``."""
    counts = pd.to_numeric(table[count_column], errors="coerce")
    shown_small = counts.notna() & (counts < min_group_size)
    if shown_small.any():
        raise AssertionError(f"{int(shown_small.sum())} group(s) below {min_group_size} are visible in the table")
