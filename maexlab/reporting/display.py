"""Display tables for people; the CSV in tables/ keeps the raw values for machines.

:func:`display_table` turns a published (suppressed, raw) table into what a report shows:
human column labels from the catalogue (``columns.<name>``, or a key of your own), no index
column, vocabulary terms translated, shares as percentages, euros with thousands separators,
intervals written as "59% (56-62%)", counts as whole numbers, suppressed cells as a mark with a
footnote, and an en dash instead of NaN. Wide tables scroll inside the page.

>>> import pandas as pd
>>> t = pd.DataFrame({"source": ["fund_grant"], "n": [40], "coverage": [0.593], "coverage_lo": [0.56],
...                   "coverage_hi": [0.62], "suppressed": [False]})
>>> shown = display_table(t, [Col("source", "term"), Col("n", "count"), Col("coverage", "percent", lo="coverage_lo", hi="coverage_hi")],
...                       language="en")
>>> shown.frame.iloc[0].tolist()
['fund grant', '40', '59% (56-62%)']
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from maexlab.reporting.i18n import DEFAULT_LANGUAGE, MISSING, Messages, messages

__all__ = ["Col", "DisplayTable", "display_table"]

SUPPRESSED_FLAG = "suppressed"


@dataclass(frozen=True)
class Col:
    """One shown column: its source column, how to format it, and its label.

    ``kind`` is a :class:`~maexlab.reporting.i18n.Messages` kind (``percent``, ``money``,
    ``count``, ``number2``, ``term`` ...) or ``text``. With ``lo`` and ``hi`` the cell shows the
    estimate with its interval. ``label`` is a catalogue key (default ``columns.<name>``).
    ``group`` marks a label column, which stays visible in suppressed rows.
    """

    name: str
    kind: str = "number"
    label: str | None = None
    lo: str | None = None
    hi: str | None = None
    group: bool | None = None

    @property
    def is_group(self) -> bool:
        return self.group if self.group is not None else self.kind in ("term", "text", "year")


class DisplayTable:
    """A formatted table and its footnotes; shows as HTML in notebooks and reports."""

    def __init__(self, frame: pd.DataFrame, notes: Sequence[str], caption: str | None = None):
        self.frame = frame
        self.notes = list(notes)
        self.caption = caption

    def _repr_html_(self) -> str:
        body = self.frame.to_html(index=False, escape=True, border=0, classes="maexlab-table")
        caption = f'<p class="maexlab-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        notes = "".join(f'<p class="maexlab-note">{html.escape(n)}</p>' for n in self.notes)
        return f'<div class="maexlab-table-wrap" style="overflow-x:auto;max-width:100%">{caption}{body}</div>{notes}'

    def __repr__(self) -> str:
        text = self.frame.to_string(index=False)
        lines = ([self.caption] if self.caption else []) + [text] + self.notes
        return "\n".join(lines)


def _cell(m: Messages, row: pd.Series, col: Col) -> str:
    value = row.get(col.name)
    if col.kind == "text":
        return MISSING if value is None or (isinstance(value, float) and value != value) else str(value)
    if col.lo and col.hi:
        return m.interval(value, row.get(col.lo), row.get(col.hi), col.kind)
    return m.value(value, col.kind)


def display_table(
    table: pd.DataFrame,
    columns: Sequence[Col],
    *,
    language: str = DEFAULT_LANGUAGE,
    min_group_size: int | None = None,
    caption: str | None = None,
) -> DisplayTable:
    """Format ``table`` for people (see the module docstring); ``table`` itself is not changed."""
    m = messages(language)
    suppressed = (
        table[SUPPRESSED_FLAG].fillna(False).astype(bool)
        if SUPPRESSED_FLAG in table.columns
        else pd.Series(False, index=table.index)
    )
    mark = m.text("common.suppressed_mark")
    out: dict[str, list[str]] = {}
    for col in columns:
        label = m.text(col.label or f"columns.{col.name}")
        cells = []
        for index, row in table.iterrows():
            cells.append(mark if suppressed[index] and not col.is_group else _cell(m, row, col))
        out[label] = cells
    frame = pd.DataFrame(out)
    notes = []
    if suppressed.any():
        notes.append(m.text("common.suppressed_note", min_group_size=min_group_size or 0))
    if (frame == MISSING).any().any():
        notes.append(m.text("common.missing_note"))
    return DisplayTable(frame, notes, caption)
