"""The notebook toolkit: output folders, published tables and figures, results, privacy, plot theme.

Modules
    :mod:`~maexlab.reporting.report` :func:`open_report` and :class:`Report` (tables, figures,
        requirements, results.json)
    :mod:`~maexlab.reporting.privacy` small-cell suppression
    :mod:`~maexlab.reporting.plots` one theme, the value-model palette, the synthetic-data stamp

>>> from maexlab.reporting import open_report
>>> report = open_report("00_data_profile", echo=False)   # doctest: +SKIP
"""

from maexlab.reporting.report import Report, open_report

__all__ = ["Report", "open_report"]
