"""Blended value against the investor's valuation (section 3 of notebook 02).

:func:`blended_gap` adds the capitalised impact value to a fundamentals-only financial value
(or the investor's own valuation); :func:`blended_gap_table` summarises the gap per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from maexlab.data.schema import VALUE_MODELS
from maexlab.impact.sroi import DUTCH_DISCOUNT_RATE
from maexlab.valuation.common import VALUE_MODEL_DUMMIES, NotComputable
from maexlab.valuation.features import complete_rows
from maexlab.valuation.models import ModelFit, _rows_for

#: Default horizon (years) and social discount rate for capitalising yearly impact value: the
#: Dutch standard discount rate, as for the SROI of notebook 04 (:data:`maexlab.impact.sroi.DISCOUNT_RATES`
#: names it and the UK Green Book alternative with their sources).
DEFAULT_HORIZON_YEARS = 5
DEFAULT_SOCIAL_DISCOUNT_RATE = DUTCH_DISCOUNT_RATE


def blended_gap(
    features: pd.DataFrame,
    reference: ModelFit | None = None,
    *,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    social_discount_rate: float = DEFAULT_SOCIAL_DISCOUNT_RATE,
    financial: Literal["fundamentals", "investor"] = "fundamentals",
) -> pd.DataFrame:
    """Counterfactual blended value of every accepted equity offer, against the investor's valuation.

    ``blended = financial value + sum_{t=1..H} impact_value / (1 + r)^t``
    (:func:`maexlab.impact.blended_value`, horizon ``H`` years, social discount rate ``r``).
    Financial value: with ``financial="fundamentals"`` the fundamentals-only value predicted by
    ``reference`` (a log-valuation :class:`ModelFit`, normally the mainstream one) for a
    commercial initiative with the same fundamentals and impact (value-model terms set to 0),
    retransformed with Duan's smearing factor; with ``financial="investor"`` the investor's own
    valuation. Adds ``financial_value``, ``social_value_pv``, ``blended_value``, ``gap_eur`` =
    blended - investor valuation, and ``blended_ratio`` = blended / investor valuation.
    Offers without a valuation, an impact value or (for ``"fundamentals"``) a model regressor
    are left out; ``result.attrs["rows_left_out"]`` records how many and why.
    """
    from maexlab.impact.metrics import blended_value

    offers = _rows_for(features, "log_valuation")
    needed = ["valuation", "impact_value"]
    annuity = blended_value(0.0, 1.0, social_discount_rate, horizon_years)  # PV of EUR 1 a year
    if financial == "fundamentals":
        if reference is None or not reference.ok:
            raise NotComputable("a fundamentals-only value needs a fitted log-valuation model")
        params = reference.extra["params"]
        needed += [t for t in params.index if t != "const" and t not in needed]
    rows, left_out = complete_rows(offers, needed, "accepted equity offers")
    rows = rows.copy()
    if financial == "fundamentals":
        eta = pd.Series(float(params.get("const", 0.0)), index=rows.index)
        for term, b in params.items():
            if term == "const" or term in VALUE_MODEL_DUMMIES:
                continue
            eta = eta + float(b) * rows[term].astype(float)
        smear = float(np.mean(np.exp(reference.extra["residuals"])))
        rows["financial_value"] = np.exp(eta) * smear
    else:
        rows["financial_value"] = rows["valuation"]
    rows["social_value_pv"] = annuity * rows["impact_value"]
    rows["blended_value"] = rows["financial_value"] + rows["social_value_pv"]
    rows["gap_eur"] = rows["blended_value"] - rows["valuation"]
    rows["blended_ratio"] = rows["blended_value"] / rows["valuation"]
    rows["horizon_years"] = horizon_years
    rows["social_discount_rate"] = social_discount_rate
    rows.attrs["rows_left_out"] = left_out
    return rows


def blended_gap_table(blended: pd.DataFrame, by: Sequence[str] = ("value_model", "phase")) -> pd.DataFrame:
    """Median and IQR of the blended-minus-investor gap (EUR and as a ratio) per group.

    ``n`` counts accepted offers and ``n_initiatives`` distinct initiatives. Publish through
    ``report.table(..., keep=by, count_column="n_initiatives")`` so groups with few initiatives
    are suppressed (an initiative can have several offers).

    >>> b = pd.DataFrame({"value_model": ["social"] * 3, "phase": ["growth"] * 3, "initiative_id": ["A", "A", "B"],
    ...     "gap_eur": [1.0, 2.0, 3.0], "blended_ratio": [1.0, 1.5, 2.0]})
    >>> blended_gap_table(b)[["n", "n_initiatives", "gap_median", "ratio_median"]].values.tolist()
    [[3.0, 2.0, 2.0, 1.5]]
    """
    by = list(by)
    b = blended.copy()
    for c in by:
        b[c] = b[c].fillna("unknown").astype(str)
    g = b.groupby(by, sort=True)
    out = pd.DataFrame(
        {
            "n": g.size(),
            "n_initiatives": g["initiative_id"].nunique(),
            "gap_median": g["gap_eur"].median(),
            "gap_q25": g["gap_eur"].quantile(0.25),
            "gap_q75": g["gap_eur"].quantile(0.75),
            "ratio_median": g["blended_ratio"].median(),
            "ratio_q25": g["blended_ratio"].quantile(0.25),
            "ratio_q75": g["blended_ratio"].quantile(0.75),
        }
    ).reset_index()
    order = {v: i for i, v in enumerate(VALUE_MODELS)}
    if "value_model" in out.columns:
        out = out.sort_values(
            by, key=lambda s: s.map(order).fillna(99) if s.name == "value_model" else s, kind="stable"
        ).reset_index(drop=True)
    return out
