"""Funding gaps: what initiatives ask for against what they get, and the models and verdicts on it.

Modules
    :mod:`~maexlab.funding.tables` the application table, gap tables with cluster-bootstrap
        intervals, over-time tables and their figures
    :mod:`~maexlab.funding.models` approval logit and fractional-logit coverage with clustered
        errors, convergence and separation checks, marginal effects
    :mod:`~maexlab.funding.claims` the verdict rules of the funding claims (9, 10, 7, 60%)
    :mod:`~maexlab.funding.sections` the sections of notebook 01, and ``SECTIONS``

Every public name of tables and models is re-exported here: ``from maexlab import funding; funding.gap_table(...)``.
"""

from maexlab.funding.models import *  # noqa: F403
from maexlab.funding.models import __all__ as _models_all
from maexlab.funding.tables import *  # noqa: F403
from maexlab.funding.tables import BASE_NEEDS, DIMENSIONS, SIZE_BAND_LABELS  # noqa: F401
from maexlab.funding.tables import __all__ as _tables_all

#: Modules this package's functions import on first use (the runner's warm worker imports
#: them before it forks the reports of a notebook that uses this package).
LAZY_IMPORTS = (
    # what statsmodels imports when a fit asks for cluster-robust standard errors
    "statsmodels.base.covtype",
    "statsmodels.stats.moment_helpers",
    "statsmodels.stats.sandwich_covariance",
    "statsmodels.tools.grouputils",
)

__all__ = [*_tables_all, *_models_all]
