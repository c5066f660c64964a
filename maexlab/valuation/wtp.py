"""Willingness to pay for impact (section 5 of notebook 02).

:func:`willingness_to_pay`: the loan rate impact investors give up given fundamentals, beside
the range published by Barber, Morse and Yasuda (2021).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from maexlab.reporting.verdicts import Reason
from maexlab.valuation.common import MIN_MODEL_ROWS
from maexlab.valuation.features import complete_rows
from maexlab.valuation.models import RATE_REGRESSORS, ModelFit, _rows_for, fit_model

#: Published range of the return impact investors give up, percentage points of IRR.
BMY_RANGE_PP: tuple[float, float] = (2.5, 3.7)
BMY_SOURCE = 'Barber, Morse and Yasuda (2021), "Impact investing", Journal of Financial Economics'


def willingness_to_pay(features: pd.DataFrame, min_rows: int = MIN_MODEL_ROWS) -> tuple[dict[str, Any] | None, ModelFit]:
    """Interest rate impact investors give up, in percentage points, given fundamentals.

    Pooled OLS over accepted loans: ``rate_pp ~ impact_investor + fundamentals + log_impact +
    value model``, errors clustered by initiative (CR2, t(G - 1); see :func:`~maexlab.valuation.models.fit_model`). WTP = minus the ``impact_investor``
    coefficient (positive = impact investors charge less). Returns ``(summary, fit)``; the
    summary is None when the model could not be fitted (``fit.message`` says why), else has
    ``wtp_pp, ci_low, ci_high, n, n_initiatives, n_impact, n_mainstream`` and the reference
    range. Loans left out for missing data are counted in ``fit.rows_left_out``.
    """
    rows = _rows_for(features, "interest_rate_pp")
    complete, left_out = complete_rows(rows, ["interest_rate_pp", *RATE_REGRESSORS], "accepted loans")
    counts = complete["investor_group"].value_counts()
    n_imp, n_main = int(counts.get("impact", 0)), int(counts.get("mainstream", 0))
    if min(n_imp, n_main) < 10:
        fit = ModelFit(
            "loan rate, pooled",
            "interest_rate_pp",
            "pooled",
            n_imp + n_main,
            int(complete["initiative_id"].nunique()),
            message=f"too few accepted loans per investor group in this selection (impact n={n_imp}, mainstream n={n_main}; need 10 each) to estimate the rate difference",
            rows_left_out=left_out,
            reason=Reason("valuation.reasons.few_loans_per_group", {"impact": n_imp, "mainstream": n_main, "minimum": 10}),
        )
        return None, fit
    fit = fit_model(
        rows,
        "interest_rate_pp",
        ["impact_investor", *RATE_REGRESSORS],
        group="pooled",
        name="interest rate (pp), pooled",
        min_rows=min_rows,
    )
    if not fit.ok:
        return None, fit
    t = fit.term("impact_investor")
    summary = {
        "wtp_pp": -t["estimate"],
        "ci_low": -t["ci_high"],
        "ci_high": -t["ci_low"],
        "n": fit.n,
        "n_initiatives": fit.n_clusters,
        "n_impact": n_imp,
        "n_mainstream": n_main,
        "reference_low_pp": BMY_RANGE_PP[0],
        "reference_high_pp": BMY_RANGE_PP[1],
        "reference": BMY_SOURCE,
    }
    return summary, fit
