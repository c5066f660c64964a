"""The day/month order of a date column: one decision for the whole column, never row by row.

``03/04/2020`` is 3 April day-first and 4 March month-first. A value with a number above 12
in the first place (``13/04/2020``) proves day-first; above 12 in the second place
(``04/13/2020``) proves month-first. :func:`decide_order` looks at every value of a column:

* the declared ``date_format`` (dmy or mdy) is used when the column does not prove the other
  order; if it proves only the other order the mapping is wrong: a mapping-level problem citing
  example rows;
* with ``date_format: auto`` a column that proves one order is read in that order; one that
  proves both, or where nothing decides (every value has day and month <= 12 and some differ),
  is a mapping-level problem asking for ``date_format``.

Columns holding only ISO dates (``2020-04-03``), month names or partial dates need no decision.

>>> import pandas as pd
>>> decide_order(pd.Series(["13/04/2020", "03/04/2020"]), "auto").order
'dmy'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_DAY_MONTH = r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.]\d{4}(?:[tT ].*)?$"


@dataclass
class OrderDecision:
    """The order used for a column, how it was decided, and a problem when none can be used."""

    order: str  # dmy | mdy | iso (no day/month number pairs in the column)
    how: str  # declared | inferred | not needed
    evidence: str = ""  # e.g. "13 in the first place, row position 5: '13/04/2020'"
    problem: str | None = None  # a mapping-level problem (text without file and line)
    first_proof: int | None = None  # position of a value proving day-first
    second_proof: int | None = None  # position of a value proving month-first
    ambiguous: int | None = None  # position of a value that either order reads differently


def decide_order(texts: pd.Series, declared: str) -> OrderDecision:
    """Decide the day/month order of ``texts`` (non-empty cells, any index) for ``declared``.

    Positions in the result are index labels of ``texts``. ``declared`` is ``auto``, ``dmy``,
    ``mdy`` or ``iso``; ``iso`` reads year-first forms only and needs no decision.
    """
    if declared == "iso":
        return OrderDecision("iso", "declared")
    as_text = texts.astype(str)
    codes, uniques = pd.factorize(as_text)
    parts = pd.Series(uniques).str.extract(_DAY_MONTH)
    have = parts[0].notna().to_numpy()
    if not have.any():
        return OrderDecision(declared if declared != "auto" else "dmy", "declared" if declared != "auto" else "not needed")
    first = parts[0].where(have, "0").astype(int).to_numpy()
    second = parts[1].where(have, "0").astype(int).to_numpy()
    index = texts.index.to_numpy()

    def position(unique_mask: np.ndarray) -> int | None:
        hits = np.flatnonzero(unique_mask)
        if not len(hits):
            return None
        return int(index[np.flatnonzero(codes == hits[0])[0]])

    day_first = position(have & (first > 12) & (second <= 12))
    month_first = position(have & (second > 12) & (first <= 12))
    ambiguous = position(have & (first <= 12) & (second <= 12) & (first != second))
    decision = OrderDecision("dmy", "inferred", first_proof=day_first, second_proof=month_first, ambiguous=ambiguous)
    if declared in ("dmy", "mdy"):
        decision.order, decision.how = declared, "declared"
        proves_other = month_first if declared == "dmy" else day_first
        proves_declared = day_first if declared == "dmy" else month_first
        if proves_other is not None and proves_declared is None:
            decision.problem = (
                f"date_format {declared} is declared but the column is written "
                f"{'month' if declared == 'dmy' else 'day'}-first: no value has a number above 12 in the "
                f"{'first' if declared == 'dmy' else 'second'} place, and some have one in the other; "
                f"declare date_format: {'mdy' if declared == 'dmy' else 'dmy'}"
            )
        return decision
    if day_first is not None and month_first is not None:
        decision.problem = (
            "the column holds day-first and month-first dates (a number above 12 in the first place in some "
            "rows, in the second place in others), so no single order reads it; fix the source, or declare "
            "date_format: dmy or mdy to quarantine the rows that do not fit"
        )
    elif day_first is not None:
        decision.order, decision.evidence = "dmy", "a number above 12 in the first place"
    elif month_first is not None:
        decision.order, decision.evidence = "mdy", "a number above 12 in the second place"
    elif ambiguous is not None:
        decision.problem = (
            "every day/month date in the column has both numbers <= 12, so it can be read day-first or "
            "month-first and nothing in the column decides; declare date_format: dmy (day first) or mdy (month first)"
        )
    else:
        decision.how = "not needed"  # every pair reads the same either way (01/01, 05/05, ...)
    return decision
