"""Features per investor assessment (section 0 of notebook 02).

Investor groups, the yearly impact value per initiative, :func:`build_features` (one row per
assessment with the initiative's fundamentals in the assessment year), counts and summaries per
group, :func:`complete_rows` (rows with complete data and a record of those left out) and
:func:`z_scale`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from maexlab.data.schema import IMPACT_INVESTOR_TYPES
from maexlab.impact.metrics import _safe_ratio
from maexlab.valuation.common import NEEDS, NotComputable


def investor_group(investor_type: pd.Series) -> pd.Series:
    """'impact' for :data:`IMPACT_INVESTOR_TYPES`, else 'mainstream'.

    >>> investor_group(pd.Series(["bank", "impact_fund", "angel", "foundation"])).tolist()
    ['mainstream', 'impact', 'mainstream', 'impact']
    """
    return pd.Series(np.where(investor_type.isin(IMPACT_INVESTOR_TYPES), "impact", "mainstream"), index=investor_type.index)


def yearly_impact_value(impact: pd.DataFrame, proxies: pd.DataFrame) -> pd.DataFrame:
    """Impact value in EUR per initiative and year: sum of quantity x euro_per_unit.

    Uses :func:`maexlab.impact.impact_value` (which refuses proxies without a source).

    >>> imp = pd.DataFrame({"initiative_id": ["A", "A"], "year": [2023, 2023],
    ...     "indicator": ["volunteer_hours", "meals_served"], "quantity": [100.0, 50.0]})
    >>> px = pd.DataFrame({"indicator": ["volunteer_hours", "meals_served"], "unit": ["hour", "meal"],
    ...     "euro_per_unit": [20.0, 4.0], "source": ["s1", "s2"]})
    >>> yearly_impact_value(imp, px)
      initiative_id  year  impact_value
    0             A  2023        2200.0
    """
    from maexlab.impact.metrics import impact_value

    rows = impact_value(impact, proxies)
    out = rows.groupby(["initiative_id", "year"], as_index=False)["impact_value_eur"].sum()
    out["year"] = out["year"].astype(int)
    return out.rename(columns={"impact_value_eur": "impact_value"})


def build_features(data) -> pd.DataFrame:
    """One row per assessment with the initiative's fundamentals in the assessment year.

    Columns: ids, ``investor_type``, ``investor_group`` (mainstream/impact), ``instrument``,
    ``decision``, ``accepted`` (0/1), ``valuation``, ``log_valuation``, ``interest_rate_pp``
    (percentage points), ``value_model`` with ``hybrid``/``social``/``social_or_hybrid``
    indicators, ``phase`` at assessment (None without a phases table), ``revenue``,
    ``growth``, ``margin``, ``earned_income_share``, ``log_revenue``, ``impact_value``,
    ``log_impact``, ``people_reached``, ``log_people_reached`` and ``sroi`` (always empty:
    the canonical data holds no SROI inputs).

    Impact columns are NaN when the dataset has no impact or proxies table.

    Raises
    ------
    NotComputable
        When assessments, initiatives (value_model) or financials are missing.

    Examples
    --------
    >>> import maexlab
    >>> f = build_features(maexlab.load("embedded", province="Zeeland"))  # doctest: +SKIP
    >>> sorted(f["investor_group"].unique())  # doctest: +SKIP
    ['impact', 'mainstream']
    """
    gaps = data.missing(NEEDS["features"])
    if gaps:
        raise NotComputable(f"investor features need {', '.join(gaps)}, which this dataset lacks")
    a = data.assessments.copy()
    a["year"] = a["assessed_on"].dt.year.astype("Int64")
    ini = data.initiatives[
        ["initiative_id", "value_model"] + (["people_reached"] if "people_reached" in data.initiatives.columns else [])
    ]
    a = a.merge(ini, on="initiative_id", how="left")
    fin = data.financials[["initiative_id", "year", "revenue", "costs", "earned_income"]].copy()
    fin["year"] = fin["year"].astype("Int64")
    prev = fin[["initiative_id", "year", "revenue"]].rename(columns={"revenue": "revenue_prev"})
    prev["year"] = prev["year"] + 1
    a = a.merge(fin, on=["initiative_id", "year"], how="left").merge(prev, on=["initiative_id", "year"], how="left")
    if data.has("impact", "quantity") and data.has("proxies", "euro_per_unit"):
        iv = yearly_impact_value(data.impact, data.proxies)
        iv["year"] = iv["year"].astype("Int64")
        a = a.merge(iv, on=["initiative_id", "year"], how="left")
    else:
        a["impact_value"] = np.nan
    if data.has("phases", "phase", "entered_on"):
        from maexlab.data.phases import phase_on

        a["phase"] = phase_on(data.phases, a, "assessed_on")
    else:
        a["phase"] = None
    out = pd.DataFrame(
        {
            "assessment_id": a["assessment_id"].astype(str),
            "initiative_id": a["initiative_id"].astype(str),
            "investor_type": a["investor_type"].astype(str),
            "investor_group": investor_group(a["investor_type"].astype(str)),
            "instrument": a["instrument"].astype(str),
            "assessed_on": a["assessed_on"],
            "year": a["year"],
            "decision": a["decision"].astype(str),
            "accepted": (a["decision"] == "accepted").astype(int),
            "value_model": a["value_model"].astype(str),
            "phase": a["phase"],
        }
    )
    rev = pd.to_numeric(a["revenue"], errors="coerce").astype(float)
    out["revenue"] = rev
    out["growth"] = _safe_ratio(rev, a["revenue_prev"]) - 1.0
    out["margin"] = _safe_ratio(rev - pd.to_numeric(a["costs"], errors="coerce").astype(float), rev)
    out["earned_income_share"] = _safe_ratio(a["earned_income"], rev)
    out["log_revenue"] = np.log(rev.where(rev > 0))
    out["impact_value"] = pd.to_numeric(a["impact_value"], errors="coerce").astype(float)
    out["log_impact"] = np.log1p(out["impact_value"])
    reached = (
        pd.to_numeric(a["people_reached"], errors="coerce").astype(float)
        if "people_reached" in a.columns
        else pd.Series(np.nan, index=a.index)
    )
    out["people_reached"] = reached
    out["log_people_reached"] = np.log1p(reached)
    out["sroi"] = np.nan  # not in the canonical data: SROI needs inputs, deadweight and attribution
    out["hybrid"] = (out["value_model"] == "hybrid").astype(int)
    out["social"] = (out["value_model"] == "social").astype(int)
    out["social_or_hybrid"] = (out["value_model"] != "commercial").astype(int)
    out["impact_investor"] = (out["investor_group"] == "impact").astype(int)
    val = (
        pd.to_numeric(a["valuation"], errors="coerce").astype(float)
        if "valuation" in a.columns
        else pd.Series(np.nan, index=a.index)
    )
    out["valuation"] = val
    out["log_valuation"] = np.log(val.where(val > 0))
    rate = (
        pd.to_numeric(a["interest_rate"], errors="coerce").astype(float)
        if "interest_rate" in a.columns
        else pd.Series(np.nan, index=a.index)
    )
    out["interest_rate_pp"] = 100.0 * rate
    return out.sort_values("assessment_id", kind="stable").reset_index(drop=True)


#: Label columns of :func:`assessment_counts` and :func:`group_summary` (pass as ``keep=``).
COUNT_LABELS: tuple[str, ...] = ("investor_group", "investor_type", "instrument", "decision")
SUMMARY_LABELS: tuple[str, ...] = ("investor_group", "value_model")


def assessment_counts(features: pd.DataFrame, by: Sequence[str] = COUNT_LABELS) -> pd.DataFrame:
    """Assessments (``n``) and distinct initiatives (``n_initiatives``) per group.

    Assessments are events: publish with ``count_column="n_initiatives"`` so a group is shown
    only when it holds enough distinct initiatives, not merely enough assessments.

    >>> f = pd.DataFrame({"investor_group": ["impact"] * 3, "investor_type": ["impact_fund"] * 3,
    ...     "instrument": ["equity"] * 3, "decision": ["accepted"] * 3, "initiative_id": ["A", "A", "B"]})
    >>> assessment_counts(f)[["n", "n_initiatives"]].values.tolist()
    [[3, 2]]
    """
    g = features.groupby(list(by), sort=True)
    return pd.DataFrame({"n": g.size(), "n_initiatives": g["initiative_id"].nunique()}).reset_index()


def group_summary(features: pd.DataFrame, by: Sequence[str] = SUMMARY_LABELS) -> pd.DataFrame:
    """Per investor group and value model: ``n`` assessments, ``n_initiatives`` and medians.

    Medians of revenue, margin, earned-income share and impact value, and the acceptance rate.
    Publish with ``count_column="n_initiatives"`` and ``keep=by``.
    """
    g = features.groupby(list(by), sort=True)
    return g.agg(
        n=("assessment_id", "size"),
        n_initiatives=("initiative_id", "nunique"),
        revenue_median_eur=("revenue", "median"),
        margin_median=("margin", "median"),
        earned_share_median=("earned_income_share", "median"),
        impact_value_median_eur=("impact_value", "median"),
        acceptance_rate=("accepted", "mean"),
    ).reset_index()


def complete_rows(rows: pd.DataFrame, columns: Sequence[str], label: str = "rows") -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows with every column present, and a record of how many were left out and why.

    The record has ``n_input``, ``n_dropped``, ``missing_by_column`` (a row can miss several
    columns, so these counts may add up to more than ``n_dropped``) and ``note``, a sentence
    for the notebook (None when nothing was left out). ``z_`` prefixes are dropped in the note.

    >>> df = pd.DataFrame({"a": [1.0, None, 3.0], "b": [1.0, 2.0, None]})
    >>> kept, rec = complete_rows(df, ["a", "b"], "offers")
    >>> len(kept), rec["n_dropped"], rec["note"]
    (1, 2, '2 of 3 offers left out for missing data (a missing in 1, b missing in 1)')
    """
    cols = list(dict.fromkeys(columns))
    missing = rows[cols].isna()
    complete = ~missing.any(axis=1)
    by_col = {c: int(k) for c, k in missing.sum().items() if k}
    n_in, n_dropped = int(len(rows)), int((~complete).sum())
    note = None
    if n_dropped:
        reasons = ", ".join(f"{c.removeprefix('z_')} missing in {k}" for c, k in sorted(by_col.items(), key=lambda kv: -kv[1]))
        note = f"{n_dropped} of {n_in} {label} left out for missing data ({reasons})"
    return rows[complete], {"n_input": n_in, "n_dropped": n_dropped, "missing_by_column": by_col, "note": note}


def z_scale(features: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Standardise ``columns`` to mean 0, sd 1 (population sd) over the rows given; adds ``z_<col>``.

    >>> z_scale(pd.DataFrame({"x": [1.0, 3.0]}), ["x"])["z_x"].tolist()
    [-1.0, 1.0]
    """
    out = features.copy()
    for c in columns:
        v = out[c].astype(float)
        sd = v.std(ddof=0)
        out[f"z_{c}"] = (v - v.mean()) / sd if sd > 0 else np.nan
    return out
