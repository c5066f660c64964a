"""How does my municipality compare? Small-area estimates, funnel plots and the municipality profile.

Modules
    :mod:`~maexlab.areas.shrinkage` empirical Bayes: beta-binomial for rates, a normal hierarchical model
    :mod:`~maexlab.areas.estimates` approval, coverage, 5-year survival and impact per place, raw and shrunk,
        with case-mix adjustment (indirect standardisation)
    :mod:`~maexlab.areas.funnel` funnel-plot control limits and overdispersion (Spiegelhalter 2005)
    :mod:`~maexlab.areas.flags` funnel positions and the verdict on "this place lags the country"
    :mod:`~maexlab.areas.tables` the place against its province and the country, funnel outliers
    :mod:`~maexlab.areas.plots` funnel and caterpillar plots
    :mod:`~maexlab.areas.sections` the sections of notebook 05_municipality_profile

Method page: docs/small_area.md.

>>> from maexlab.areas import beta_binomial_eb
>>> import numpy as np
>>> round(float(beta_binomial_eb(np.array([3, 40]), np.array([10, 50])).mean), 2)
0.72
"""

from maexlab.areas.estimates import AreaMeasure, area_estimates, area_keys
from maexlab.areas.funnel import binomial_limits, normal_limits, overdispersion
from maexlab.areas.shrinkage import beta_binomial_eb, clopper_pearson, normal_eb

#: Modules this package's functions import on first use (the runner's warm worker imports
#: them, and what they import on first use, before it forks the reports of a notebook that
#: uses this package).
LAZY_IMPORTS = ("maexlab.funding", "maexlab.impact", "maexlab.impact.tables", "maexlab.survival")

__all__ = [
    "AreaMeasure",
    "area_estimates",
    "area_keys",
    "beta_binomial_eb",
    "binomial_limits",
    "clopper_pearson",
    "normal_eb",
    "normal_limits",
    "overdispersion",
]
