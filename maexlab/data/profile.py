"""What is in a loaded dataset: counts, place and phase mix, missingness (notebook 00)."""

from __future__ import annotations

import pandas as pd

from maexlab.data.loader import MaexData
from maexlab.data.phases import current_phase
from maexlab.data.schema import PHASES, PROVINCES


def missingness(data: MaexData) -> pd.DataFrame:
    """Share of empty cells per table and column, for every present table.

    >>> from maexlab import load
    >>> m = missingness(load("embedded"))
    >>> set(m.columns) == {"table", "column", "rows", "missing", "share_missing"}
    True
    """
    rows = []
    for name, df in data.tables.items():
        if df is None:
            continue
        for column in df.columns:
            missing = int(df[column].isna().sum())
            rows.append(
                {
                    "table": name,
                    "column": column,
                    "rows": len(df),
                    "missing": missing,
                    "share_missing": missing / len(df) if len(df) else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=["table", "column", "rows", "missing", "share_missing"])


def initiatives_by_province(data: MaexData) -> pd.DataFrame:
    """Initiatives per province, with the count as ``n``, in the order of :data:`PROVINCES`.

    Only provinces with at least one initiative are listed: a province report (data filtered
    to one province) lists that province, not the other eleven as if they were small groups.

    >>> import maexlab
    >>> initiatives_by_province(maexlab.load("embedded", province="Zeeland"))["province"].tolist()
    ['Zeeland']
    """
    counts = data.initiatives["province"].value_counts()
    present = [p for p in PROVINCES if counts.get(p, 0) > 0]
    return pd.DataFrame({"province": present, "n": [int(counts[p]) for p in present]}, columns=["province", "n"])


def phase_mix(data: MaexData) -> pd.DataFrame:
    """Initiatives by phase at the data cut-off: counts ``n``, shares of all and of those still active."""
    phase = current_phase(data.phases, data.initiatives).fillna("unknown")
    counts = phase.value_counts()
    order = [p for p in (*PHASES, "unknown") if p in counts.index]
    table = pd.DataFrame({"phase": order, "n": [int(counts[p]) for p in order]})
    table["share"] = table["n"] / table["n"].sum()
    active = table["phase"].isin(PHASES[:-1])
    # Published phase mixes (ESEM) describe enterprises still operating, so compare with these.
    table["share_of_active"] = (table["n"] / table.loc[active, "n"].sum()).where(active)
    return table


def counts_by(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Rows per group as ``n`` (and distinct initiatives as ``n_initiatives``), sorted by group.

    Publish event tables (applications, assessments) with ``count_column="n_initiatives"``:
    the units a reader could recognise are initiatives, not their applications.
    """
    grouped = df.groupby(by, dropna=False)
    table = grouped.size().rename("n").to_frame()
    if "initiative_id" in df.columns and by != ["initiative_id"]:
        table["n_initiatives"] = grouped["initiative_id"].nunique()
    return table.reset_index().sort_values(by).reset_index(drop=True)
