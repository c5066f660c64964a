"""Impact value: MAEX-style impact value from sourced proxies, SROI, volunteer time, social return.

Modules (the same inner shape as the other analysis packages)
    :mod:`~maexlab.impact.metrics` estimation: impact value, volunteer time, social return, MAEX ratios
    :mod:`~maexlab.impact.sroi` estimation: SROI (Social Value UK 2012) with leakage, sourced
        discount rates, evaluative or forecast mode, one-at-a-time and Monte Carlo sensitivity
    :mod:`~maexlab.impact.sroi_case` the SROI worked example: declared assumptions and the
        value map built from the data
    :mod:`~maexlab.impact.tables` group tables (impact value by group, medians with intervals,
        volunteer time, ratios, unit costs)
    :mod:`~maexlab.impact.plots` the figures of notebook 04, in the report's language
    :mod:`~maexlab.impact.sections` notebook 04's sections and their ``SECTIONS`` tuple

The metrics and SROI names are re-exported here: ``from maexlab import impact; impact.impact_value(...)``.
"""

from maexlab.impact.metrics import *  # noqa: F403
from maexlab.impact.metrics import __all__ as _metrics_all
from maexlab.impact.sroi import *  # noqa: F403
from maexlab.impact.sroi import __all__ as _sroi_all

__all__ = [*_metrics_all, *_sroi_all]
