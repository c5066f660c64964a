"""The notebook toolkit: output folders, published tables and figures, results, privacy, plot theme.

Modules
    :mod:`~maexlab.reporting.report` :func:`open_report` and :class:`Report` (tables, figures,
        requirements, results.json)
    :mod:`~maexlab.reporting.privacy` small-cell suppression
    :mod:`~maexlab.reporting.plots` one theme, the value-model palette, the synthetic-data stamp
    :mod:`~maexlab.reporting.i18n` message catalogues (nl, en) and locale formatting (Babel)
    :mod:`~maexlab.reporting.display` display tables for people (labels, percentages, euros, intervals)
    :mod:`~maexlab.reporting.verdicts` the verdict vocabulary and its rules
    :mod:`~maexlab.reporting.preconditions` what a section needs, checked before estimating

>>> from maexlab.reporting import open_report
>>> report = open_report("00_data_profile", echo=False)   # doctest: +SKIP
"""

from maexlab.reporting.display import Col, display_table
from maexlab.reporting.i18n import LANGUAGES, Messages, messages
from maexlab.reporting.preconditions import (
    Needs,
    category_recorded,
    enough_events,
    enough_follow_up,
    enough_rows,
    two_groups_large_enough,
    unmet,
)
from maexlab.reporting.report import Report, SectionOutput, open_report
from maexlab.reporting.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_TESTABLE,
    SUPPORTED,
    Reason,
    Verdict,
    direction_verdict,
    equivalence_verdict,
    not_testable,
)

__all__ = [
    "CONTRADICTED",
    "INCONCLUSIVE",
    "LANGUAGES",
    "NOT_TESTABLE",
    "SUPPORTED",
    "Col",
    "Messages",
    "Needs",
    "Reason",
    "Report",
    "SectionOutput",
    "Verdict",
    "category_recorded",
    "direction_verdict",
    "display_table",
    "enough_events",
    "enough_follow_up",
    "enough_rows",
    "equivalence_verdict",
    "messages",
    "not_testable",
    "open_report",
    "two_groups_large_enough",
    "unmet",
]
