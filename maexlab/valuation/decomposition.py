"""Oaxaca-Blinder decomposition of the valuation gap (section 2 of notebook 02).

:func:`oaxaca_gap` splits the log-valuation gap between social-or-hybrid and commercial
initiatives into a part explained by fundamentals and impact and an unexplained part, with
cluster-bootstrap intervals.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from maexlab.valuation.common import FUNDAMENTALS, Group
from maexlab.valuation.features import complete_rows
from maexlab.valuation.models import _rows_for

#: Fewest rows per side (social-or-hybrid, commercial) for the Oaxaca-Blinder decomposition.
MIN_OAXACA_ROWS = 20


#: Covariates whose group differences form the "explained" part of the decomposition.
OAXACA_COVARIATES: tuple[str, ...] = (*FUNDAMENTALS, "log_impact")
_OAXACA_COLUMNS: tuple[str, ...] = (
    "group",
    "component",
    "estimate",
    "ci_low",
    "ci_high",
    "n_social_hybrid",
    "n_commercial",
    "n_initiatives_social_hybrid",
    "n_initiatives_commercial",
    "n_initiatives",
    "n_left_out",
    "reps",
)


def _oaxaca_once(rows: pd.DataFrame, covariates: Sequence[str]) -> tuple[float, float, float]:
    """(gap, explained, unexplained) of social-or-hybrid minus commercial, pooled reference (Jann 2008)."""
    from statsmodels.stats.oaxaca import OaxacaBlinder

    X = rows[list(covariates)].astype(float).copy()
    X.insert(0, "const", 1.0)
    X["commercial"] = 1 - rows["social_or_hybrid"].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # bifurcate value 0 = social-or-hybrid comes first, so gap = social/hybrid - commercial (swap off)
        ob = OaxacaBlinder(rows["log_valuation"].astype(float).to_numpy(), X, "commercial", hasconst=True, swap=False)
        res = ob.two_fold(two_fold_type="pooled")
    unexplained, explained, gap = res.params
    return float(gap), float(explained), float(unexplained)


def oaxaca_gap(
    features: pd.DataFrame,
    group: Group = "mainstream",
    *,
    reps: int = 300,
    seed: int = 20261128,
    covariates: Sequence[str] = OAXACA_COVARIATES,
    min_rows: int = MIN_OAXACA_ROWS,
) -> tuple[pd.DataFrame, str | None]:
    """Oaxaca-Blinder decomposition of the log-valuation gap, social-or-hybrid minus commercial.

    Two-fold decomposition with the pooled regression including the group indicator as the
    non-discriminatory reference (Jann 2008; ``statsmodels`` ``two_fold_type="pooled"``):
    ``gap = explained + unexplained``; explained = differences in fundamentals (and impact)
    priced at the pooled coefficients; unexplained < 0 means social/hybrid initiatives are
    valued lower than their fundamentals imply. Intervals: percentile cluster bootstrap
    (resampling initiatives with replacement, ``reps`` draws, seeded; the draws come from
    :func:`maexlab.funding.cluster_bootstrap_weights`).

    Returns ``(table, message)``: the table has ``component, estimate, ci_low, ci_high,
    n_social_hybrid, n_commercial`` (accepted offers), ``n_initiatives_social_hybrid,
    n_initiatives_commercial``, ``n_initiatives`` (distinct initiatives on the smaller side:
    publish with ``count_column="n_initiatives"``), ``n_left_out`` (offers left out for
    missing data) and ``reps``; ``message`` says why nothing was computed (table empty) or is
    None. ``table.attrs["rows_left_out"]`` holds the :func:`complete_rows` record.
    """
    from maexlab.funding.tables import cluster_bootstrap_weights

    offers = _rows_for(features[features["investor_group"] == group], "log_valuation")
    rows, left_out = complete_rows(offers, ["log_valuation", *covariates], f"accepted equity offers from {group} investors")
    n1 = int(rows["social_or_hybrid"].sum())
    n0 = int(len(rows) - n1)
    i1 = int(rows.loc[rows["social_or_hybrid"] == 1, "initiative_id"].nunique())
    i0 = int(rows.loc[rows["social_or_hybrid"] == 0, "initiative_id"].nunique())
    empty = pd.DataFrame(columns=[*_OAXACA_COLUMNS])
    empty.attrs["rows_left_out"] = left_out
    if min(n0, n1) < min_rows:
        return empty, (
            f"too few accepted equity offers from {group} investors in this selection "
            f"(social/hybrid n={n1}, commercial n={n0}; need {min_rows} each) to decompose the valuation gap"
        )
    point = _oaxaca_once(rows, covariates)
    ids = rows["initiative_id"].to_numpy()
    uniq, inverse = np.unique(ids, return_inverse=True)
    weights = cluster_bootstrap_weights(uniq, seed, int(reps)).astype(int)
    positions = np.arange(len(rows))
    draws = []
    for w in weights:
        sample = rows.iloc[np.repeat(positions, w[inverse])]
        s1 = int(sample["social_or_hybrid"].sum())
        if min(s1, len(sample) - s1) <= len(covariates) + 1:
            continue
        try:
            draws.append(_oaxaca_once(sample, covariates))
        except Exception:  # singular resample
            continue
    draws_arr = np.array(draws) if draws else np.full((1, 3), np.nan)
    lo = np.nanpercentile(draws_arr, 2.5, axis=0)
    hi = np.nanpercentile(draws_arr, 97.5, axis=0)
    table = pd.DataFrame(
        {
            "group": group,
            "component": ["gap", "explained", "unexplained"],
            "estimate": point,
            "ci_low": lo,
            "ci_high": hi,
            "n_social_hybrid": n1,
            "n_commercial": n0,
            "n_initiatives_social_hybrid": i1,
            "n_initiatives_commercial": i0,
            "n_initiatives": min(i0, i1),
            "n_left_out": left_out["n_dropped"],
            "reps": len(draws),
        }
    )
    table.attrs["rows_left_out"] = left_out
    return table, None
