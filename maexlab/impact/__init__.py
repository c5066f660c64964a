"""Impact value: MAEX-style impact value from sourced proxies, SROI, volunteer time, social return.

Modules
    :mod:`~maexlab.impact.metrics` impact value, volunteer time, social return, MAEX ratios
    :mod:`~maexlab.impact.sroi` SROI (Social Value UK 2012) with one-at-a-time and Monte Carlo
        sensitivity
    :mod:`~maexlab.impact.summaries` group tables and figures for notebook 04

The metrics and SROI names are re-exported here: ``from maexlab import impact; impact.impact_value(...)``.
"""

from maexlab.impact.metrics import *  # noqa: F403
from maexlab.impact.metrics import __all__ as _metrics_all
from maexlab.impact.sroi import *  # noqa: F403
from maexlab.impact.sroi import __all__ as _sroi_all

__all__ = [*_metrics_all, *_sroi_all]
