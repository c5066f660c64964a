"""Investor valuation bias: do investors price social impact, and are social enterprises under-valued?

Tests the seed's claim 5 ("investors judge financial return and cannot value social impact")
on investor assessments joined to the initiative's fundamentals in the assessment year.
This package re-exports the public names of its modules, so ``from maexlab import valuation as
val`` and ``val.<name>`` work; the predictive audit is imported as its own module
(``from maexlab.valuation import audit``).

Sections (each a function; notebook 02 calls them in order)
-----------------------------------------------------------
0. :func:`build_features` -- one row per assessment with financial fundamentals, impact
   measures, value model, phase at assessment and investor group (mainstream vs impact).
1. :func:`hedonic_models` -- hedonic regressions of log valuation (accepted equity), interest
   rate (accepted loans) and the accept decision (logit, all assessments), separately for
   mainstream and impact investors, errors clustered by initiative (CR2, t(G - 1)), 95% intervals.
2. :func:`oaxaca_gap` -- Oaxaca-Blinder decomposition of the log-valuation gap between
   social-or-hybrid and commercial initiatives, with cluster-bootstrap intervals.
3. :func:`blended_gap` -- blended value (fundamentals-only financial value plus capitalised
   impact value) against the investor's valuation.
4. :mod:`maexlab.valuation.audit` -- predictive audit of investor decisions (scikit-learn).
5. :func:`willingness_to_pay` -- the loan rate impact investors give up, given fundamentals,
   beside Barber, Morse and Yasuda (2021).
6. :func:`verdicts` -- a verdict per claim (shared vocabulary, rule and nominal rate).

The notebook-facing section functions are in :mod:`maexlab.valuation.sections` (``SECTIONS``).

Modules
-------
* :mod:`~maexlab.valuation.common` -- fundamentals, minimum model size, data needs per section
  (``NEEDS``), outcome types, ``NotComputable``.
* :mod:`~maexlab.valuation.features` -- investor groups, yearly impact value, ``build_features``,
  counts and summaries, ``complete_rows``, ``z_scale``.
* :mod:`~maexlab.valuation.models` -- ``ModelFit``, ``fit_model``, ``hedonic_models``,
  ``coefficient_table``, ``impact_difference``, ``decision_frame``, ``fits_to_results``.
* :mod:`~maexlab.valuation.decomposition` -- Oaxaca-Blinder (``oaxaca_gap``).
* :mod:`~maexlab.valuation.blended` -- ``blended_gap``, ``blended_gap_table``.
* :mod:`~maexlab.valuation.wtp` -- ``willingness_to_pay`` and the published reference range.
* :mod:`~maexlab.valuation.claims` -- the verdict rules (shared vocabulary, nominal rates):
  ``verdicts``, ``ignores_impact`` (claim 5 over equity and loans), ``gives_up_return`` ...
* :mod:`~maexlab.valuation.sections` -- the notebook's section functions and ``SECTIONS``.
* :mod:`~maexlab.valuation.plots` -- the figures of sections 1, 2, 3 and 5.
* :mod:`~maexlab.valuation.audit` -- the predictive audit (section 4; not re-exported here).

Definitions
-----------
* Mainstream investors: bank, venture_capital, angel; impact investors:
  :data:`maexlab.data.schema.IMPACT_INVESTOR_TYPES` (impact_fund, foundation, government).
* ``growth`` = revenue / revenue of the year before - 1; ``margin`` = (revenue - costs) / revenue;
  ``earned_income_share`` = earned_income / revenue (zero revenue gives NaN, never inf).
* ``impact_value`` = sum over indicators of quantity x euro_per_unit in the assessment year
  (:func:`maexlab.impact.impact_value`); ``log_impact`` = log(impact_value + 1).
* SROI is not in the canonical data (it needs inputs, deadweight and attribution per outcome),
  so the ``sroi`` column is empty unless a caller supplies it.
"""

from __future__ import annotations

from maexlab.valuation.blended import DEFAULT_HORIZON_YEARS, DEFAULT_SOCIAL_DISCOUNT_RATE, blended_gap, blended_gap_table
from maexlab.valuation.claims import CLAIMS, EQUIVALENCE_MARGIN, gives_up_return, ignores_impact, verdicts
from maexlab.valuation.common import (
    FUNDAMENTALS,
    MIN_MODEL_ROWS,
    NEEDS,
    VALUE_MODEL_DUMMIES,
    Group,
    NotComputable,
    Outcome,
)
from maexlab.valuation.decomposition import MIN_OAXACA_ROWS, OAXACA_COVARIATES, oaxaca_gap
from maexlab.valuation.features import (
    COUNT_LABELS,
    SUMMARY_LABELS,
    assessment_counts,
    build_features,
    complete_rows,
    group_summary,
    investor_group,
    yearly_impact_value,
    z_scale,
)
from maexlab.valuation.models import (
    DECISION_REGRESSORS,
    RATE_REGRESSORS,
    VALUATION_REGRESSORS,
    ModelFit,
    cluster_robust_cr2,
    coefficient_table,
    decision_frame,
    fit_model,
    fits_to_results,
    hedonic_models,
    impact_difference,
)
from maexlab.valuation.plots import plot_blended_gap, plot_coefficients, plot_decomposition, plot_wtp
from maexlab.valuation.wtp import BMY_RANGE_PP, BMY_SOURCE, willingness_to_pay

#: Modules this package's functions import on first use (the runner's warm worker imports
#: them before it forks the reports of a notebook that uses this package).
LAZY_IMPORTS = (
    "maexlab.data.phases",
    "maexlab.funding.tables",
    "scipy.stats",
    "statsmodels.discrete.discrete_model",
    "statsmodels.regression.linear_model",
    "statsmodels.tools.tools",
    "statsmodels.stats.oaxaca",
    "statsmodels.tsa.tsatools",
    # what statsmodels imports when a fit asks for cluster-robust standard errors
    "statsmodels.base.covtype",
    "statsmodels.stats.moment_helpers",
    "statsmodels.stats.sandwich_covariance",
    "statsmodels.tools.grouputils",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
)

__all__ = [
    "BMY_RANGE_PP",
    "BMY_SOURCE",
    "COUNT_LABELS",
    "DECISION_REGRESSORS",
    "DEFAULT_HORIZON_YEARS",
    "DEFAULT_SOCIAL_DISCOUNT_RATE",
    "EQUIVALENCE_MARGIN",
    "FUNDAMENTALS",
    "MIN_MODEL_ROWS",
    "MIN_OAXACA_ROWS",
    "NEEDS",
    "CLAIMS",
    "OAXACA_COVARIATES",
    "RATE_REGRESSORS",
    "SUMMARY_LABELS",
    "VALUATION_REGRESSORS",
    "VALUE_MODEL_DUMMIES",
    "Group",
    "ModelFit",
    "NotComputable",
    "Outcome",
    "assessment_counts",
    "blended_gap",
    "blended_gap_table",
    "build_features",
    "cluster_robust_cr2",
    "coefficient_table",
    "complete_rows",
    "decision_frame",
    "fit_model",
    "fits_to_results",
    "gives_up_return",
    "group_summary",
    "hedonic_models",
    "ignores_impact",
    "impact_difference",
    "investor_group",
    "oaxaca_gap",
    "plot_blended_gap",
    "plot_coefficients",
    "plot_decomposition",
    "plot_wtp",
    "verdicts",
    "willingness_to_pay",
    "yearly_impact_value",
    "z_scale",
]
