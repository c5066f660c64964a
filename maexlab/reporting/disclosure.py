"""Disclosure control for magnitude tables (sums of euros): the dominance and p% rules.

A count threshold protects tables of frequencies, but a table of euro amounts can disclose one
initiative's amount even when its cell holds many: when one or two initiatives dominate the
cell total, each of them (or an outsider who knows one) can estimate the other's amount closely.
Statistics offices therefore add two rules for magnitude tables (ESSnet Handbook on Statistical
Disclosure Control, Hundepool et al. 2010, section 4.2; tau-Argus manual; R sdcTable):

* **Dominance (n, k) rule**: a cell is sensitive when its ``n`` largest contributors together
  hold more than ``k`` percent of the cell total (default n = 2, k = 85).
* **p% rule**: a cell is sensitive when the total minus its two largest contributions is less
  than ``p`` percent of the largest, ``T - x1 - x2 < p/100 * x1`` (default p = 10): the second
  largest contributor could then estimate the largest to within p%.

Contributions are summed per contributor (initiative) before the rules apply, so several
applications of one initiative count as one contributor. :func:`suppress_magnitudes` marks the
sensitive cells (and cells below the minimum number of contributors) and then hides further cells
along every line so no hidden cell can be recovered by subtraction
(:func:`maexlab.reporting.privacy.suppress_small_cells` does the same for counts).

>>> import pandas as pd
>>> c = pd.DataFrame({"source": ["fund"] * 3 + ["bank"] * 3, "initiative_id": list("abcdef"),
...                   "amount": [900.0, 50.0, 50.0, 300.0, 350.0, 350.0]})
>>> sensitive_cells(c, ["source"], value="amount", unit="initiative_id", min_units=3)[["source", "dominance", "p_percent"]]
  source  dominance  p_percent
0   bank      False      False
1   fund       True       True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd

from maexlab.reporting.privacy import DEFAULT_MIN_GROUP_SIZE, SUPPRESSED_FLAG, _secondary_suppression

__all__ = [
    "DEFAULT_DOMINANCE",
    "DEFAULT_P_PERCENT",
    "DOMINANCE_K",
    "DOMINANCE_N",
    "MagnitudeRules",
    "P_PERCENT",
    "dominance_rule",
    "p_percent_rule",
    "sensitive_cells",
    "suppress_magnitudes",
]

#: Dominance rule, n: how many of the largest contributors are summed (ESSnet handbook 4.2.2: n = 2
#: protects each of two large contributors against the other).
DOMINANCE_N: int = 2
#: Dominance rule, k: the percentage of the cell total the n largest may hold at most (85 is the
#: handbook's and tau-Argus's usual example value).
DOMINANCE_K: float = 85.0
#: p% rule, p: the rest of a cell after its two largest contributions must be at least p percent of
#: the largest, so the second largest cannot estimate the largest to within p% (handbook 4.2.3).
P_PERCENT: float = 10.0
#: (n, k) as the functions take it.
DEFAULT_DOMINANCE: tuple[int, float] = (DOMINANCE_N, DOMINANCE_K)
#: p as the functions take it.
DEFAULT_P_PERCENT: float = P_PERCENT


@dataclass(frozen=True)
class MagnitudeRules:
    """The dominance (n, k) and p% rule parameters of one run, checked on creation.

    Notebooks that publish euro tables take them as report parameters (``dominance_n``,
    ``dominance_k``, ``p_percent``; defaults :data:`DOMINANCE_N`, :data:`DOMINANCE_K`,
    :data:`P_PERCENT`), and :func:`maexlab.reporting.open_report` makes one of these.

    >>> MagnitudeRules(3, 90.0, 15.0).dominance
    (3, 90.0)
    >>> MagnitudeRules(2, 150.0, 10.0)
    Traceback (most recent call last):
    ...
    ValueError: dominance_k must be a percentage above 0 and below 100 (the share of a cell total the dominance_n largest contributors may hold); got 150.0
    """

    dominance_n: int = DOMINANCE_N
    dominance_k: float = DOMINANCE_K
    p_percent: float = P_PERCENT

    def __post_init__(self) -> None:
        n, k, p = self.dominance_n, self.dominance_k, self.p_percent
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise ValueError(
                f"dominance_n must be a whole number of at least 1 (how many of the largest contributors are summed); got {n!r}"
            )
        if isinstance(k, bool) or not isinstance(k, Real) or not 0 < float(k) < 100:
            raise ValueError(
                "dominance_k must be a percentage above 0 and below 100 (the share of a cell total "
                f"the dominance_n largest contributors may hold); got {k!r}"
            )
        if isinstance(p, bool) or not isinstance(p, Real) or not 0 < float(p) < 100:
            raise ValueError(
                "p_percent must be a percentage above 0 and below 100 (how closely the second largest "
                f"contributor may estimate the largest); got {p!r}"
            )
        object.__setattr__(self, "dominance_n", int(n))
        object.__setattr__(self, "dominance_k", float(k))
        object.__setattr__(self, "p_percent", float(p))

    @property
    def dominance(self) -> tuple[int, float]:
        """(n, k) as :func:`sensitive_cells` and :func:`suppress_magnitudes` take it."""
        return (self.dominance_n, self.dominance_k)

    def as_dict(self) -> dict[str, float]:
        """The parameters by name, as results.json records them."""
        return {"dominance_n": self.dominance_n, "dominance_k": self.dominance_k, "p_percent": self.p_percent}


def dominance_rule(contributions: Sequence[float], n: int = DEFAULT_DOMINANCE[0], k: float = DEFAULT_DOMINANCE[1]) -> bool:
    """True when the ``n`` largest contributions exceed ``k`` percent of the total (sensitive).

    >>> dominance_rule([90, 5, 5], n=1, k=85)
    True
    >>> dominance_rule([40, 30, 30], n=2, k=85)
    False
    """
    values = np.sort(np.asarray(contributions, dtype=float))[::-1]
    total = values.sum()
    if total <= 0:
        return False
    return bool(values[:n].sum() > k / 100.0 * total)


def p_percent_rule(contributions: Sequence[float], p: float = DEFAULT_P_PERCENT) -> bool:
    """True when total minus the two largest contributions is below ``p`` percent of the largest.

    >>> p_percent_rule([100, 95, 3], p=10)
    True
    >>> p_percent_rule([100, 50, 40], p=10)
    False
    """
    values = np.sort(np.asarray(contributions, dtype=float))[::-1]
    if len(values) == 0 or values[0] <= 0:
        return False
    rest = values.sum() - values[:2].sum()
    return bool(rest < p / 100.0 * values[0])


def sensitive_cells(
    contributions: pd.DataFrame,
    by: Sequence[str],
    *,
    value: str | Sequence[str],
    unit: str = "initiative_id",
    dominance: tuple[int, float] | None = DEFAULT_DOMINANCE,
    p_percent: float | None = DEFAULT_P_PERCENT,
    min_units: int = DEFAULT_MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Per cell of ``by``: contributors, total, and which rule makes it sensitive.

    Returns columns ``by``, ``n_units``, ``total``, ``threshold`` (fewer than ``min_units``
    contributors), ``dominance``, ``p_percent`` and ``sensitive`` (any of the three).
    A rule given as None is not applied (its column is False). With several ``value`` columns
    (a table showing both euros requested and euros granted) a cell is flagged by a rule when
    that rule flags any of them; ``total`` is then the first column's.
    """
    if not isinstance(value, str):
        values = list(value)
        parts = [
            sensitive_cells(contributions, by, value=v, unit=unit, dominance=dominance, p_percent=p_percent, min_units=min_units)
            for v in values
        ]
        out = parts[0].copy()
        for part in parts[1:]:
            for rule in ("dominance", "p_percent", "sensitive"):
                out[rule] = out[rule].to_numpy() | part[rule].to_numpy()
        return out
    by = list(by)
    per_unit = contributions.groupby([*by, unit], dropna=False, observed=True)[value].sum().reset_index()
    rows = []
    for key, cell in per_unit.groupby(by, dropna=False, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        amounts = cell[value].clip(lower=0).to_numpy()
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "n_units": int(cell[unit].nunique()),
                "total": float(amounts.sum()),
                "threshold": bool(cell[unit].nunique() < min_units),
                "dominance": bool(dominance is not None and dominance_rule(amounts, *dominance)),
                "p_percent": bool(p_percent is not None and p_percent_rule(amounts, p_percent)),
            }
        )
    out = pd.DataFrame(rows, columns=[*by, "n_units", "total", "threshold", "dominance", "p_percent"])
    out["sensitive"] = out[["threshold", "dominance", "p_percent"]].any(axis=1)
    return out


def suppress_magnitudes(
    table: pd.DataFrame,
    contributions: pd.DataFrame,
    by: Sequence[str],
    *,
    value: str | Sequence[str],
    unit: str = "initiative_id",
    count_column: str = "n_initiatives",
    dominance: tuple[int, float] | None = DEFAULT_DOMINANCE,
    p_percent: float | None = DEFAULT_P_PERCENT,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Hide every statistic of sensitive cells of ``table`` (keyed by ``by``), then secondary cells.

    ``table`` holds one row per cell of ``by`` with a count of contributors in ``count_column``;
    ``contributions`` holds the rows the euro amounts come from (``value`` per ``unit``).
    Adds ``suppressed`` and ``suppressed_rule`` (threshold, dominance, p_percent, secondary).
    """
    by = list(by)
    flags = sensitive_cells(
        contributions, by, value=value, unit=unit, dominance=dominance, p_percent=p_percent, min_units=min_group_size
    )
    merged = table.merge(flags[[*by, "threshold", "dominance", "p_percent", "sensitive"]], on=by, how="left")
    primary = merged["sensitive"].fillna(True).astype(bool)
    counts = merged[count_column].astype(float)
    # Secondary cells are hidden until every line's hidden cells are safe together, as for counts;
    # a sensitive cell is treated like a small one.
    forced_small = counts.where(~primary, 0.0)
    hidden = _secondary_suppression(primary, forced_small, merged[by], min_group_size)
    rule = np.select(
        [
            merged["threshold"].fillna(True),
            merged["dominance"].fillna(False),
            merged["p_percent"].fillna(False),
            hidden & ~primary,
        ],
        ["threshold", "dominance", "p_percent", "secondary"],
        default="",
    )
    out = table.copy()
    for column in out.columns:
        if column in by:
            continue
        if pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Int64").mask(hidden.to_numpy())
        elif pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("float64").mask(hidden.to_numpy())
        else:
            out[column] = out[column].astype(object).mask(hidden.to_numpy())
    out[SUPPRESSED_FLAG] = hidden.to_numpy()
    out["suppressed_rule"] = rule
    return out
