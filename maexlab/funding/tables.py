"""Funding gaps: how much of what initiatives ask for they receive, by source, phase, purpose,
value model, theme, request size and year, with cluster-bootstrap intervals.

Definitions (``docs/funding_gaps.md`` has the full methods):

* **Decided application**: status ``granted``, ``partial`` or ``rejected``
  (:data:`maexlab.data.schema.DECIDED_STATUSES`). Every gap statistic is over decided applications;
  ``pending`` and ``withdrawn`` ones are counted separately (:func:`undecided_table`).
* **Approved**: ``granted`` or ``partial``.
* **Coverage** (money-weighted): ``sum(amount_granted) / sum(amount_requested)`` over the decided
  applications of a group (rejected ones count with 0 granted).
* **Share fully / partly / not funded**: shares of decided applications with status
  granted / partial / rejected.
* **Intervals**: 95% percentile intervals from a cluster bootstrap that resamples initiatives
  (with all their applications) with replacement, seeded, ``n_boot`` replicates.

The models (approval logit, fractional coverage logit, marginal effects, verdicts) live in
:mod:`maexlab.funding.models`.

>>> import maexlab
>>> from maexlab import funding
>>> apps = funding.applications(maexlab.load("embedded"))   # doctest: +SKIP
>>> funding.gap_table(apps, by=["source"], seed=1, n_boot=200)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from maexlab.data.phases import phase_on
from maexlab.data.schema import (
    DECIDED_STATUSES,
    FUNDING_SOURCES,
    PHASES,
    PURPOSES,
    THEMES,
    VALUE_MODELS,
)
from maexlab.reporting.disclosure import DEFAULT_DOMINANCE, DEFAULT_P_PERCENT, MagnitudeRules, suppress_magnitudes
from maexlab.reporting.i18n import DEFAULT_LANGUAGE, messages
from maexlab.reporting.linked import linked_patterns
from maexlab.reporting.privacy import DEFAULT_MIN_GROUP_SIZE, suppress_small_cells

__all__ = [
    "linked_gap_patterns",
    "protect_gap_amounts",
    "ESEM_COVERAGE",
    "SIZE_BANDS",
    "SOURCE_GROUPS",
    "analysis_plan",
    "applications",
    "dimension_needs",
    "for_display",
    "cluster_bootstrap_weights",
    "coverage_by_year",
    "gap_table",
    "left_out",
    "multi_year_by_phase",
    "phase_needs",
    "plot_coverage_by_year",
    "plot_gap_heatmap",
    "plot_missing_middle",
    "plot_share_distribution",
    "share_capped",
    "size_band",
    "undecided_table",
]

#: European Social Enterprise Monitor 2021-22: enterprises secured 60.7% of their financing needs.
ESEM_COVERAGE: float = 0.607

#: Request-size bands (EUR, lower bound inclusive). The 25-250k bands are the "missing middle".
SIZE_BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 5_000.0, "<5k"),
    (5_000.0, 25_000.0, "5-25k"),
    (25_000.0, 50_000.0, "25-50k"),
    (50_000.0, 250_000.0, "50-250k"),
    (250_000.0, math.inf, "250k+"),
)
SIZE_BAND_LABELS: tuple[str, ...] = tuple(b[2] for b in SIZE_BANDS)

#: Sources pooled for the value-model interaction in the approval model.
SOURCE_GROUPS: dict[str, str] = {
    "government_subsidy": "subsidy",
    "fund_grant": "fund",
    "investor_equity": "investor",
    "investor_loan": "investor",
    "donation_crowdfunding": "other",
    "earned_income": "other",
    "social_return_contract": "other",
}
SOURCE_GROUP_ORDER: tuple[str, ...] = ("subsidy", "fund", "investor", "other")
#: Centre of the log request amount (EUR 25,000), so the source terms are for a EUR 25k request.
LOG_AMOUNT_CENTRE: float = math.log(25_000.0)

#: Display order of each grouping column.
ORDERS: dict[str, tuple] = {
    "source": FUNDING_SOURCES,
    "source_group": SOURCE_GROUP_ORDER,
    "phase": PHASES,
    "purpose": PURPOSES,
    "value_model": VALUE_MODELS,
    "theme": THEMES,
    "size_band": SIZE_BAND_LABELS,
    "status": ("granted", "partial", "rejected", "pending", "withdrawn"),
}


def size_band(amount: pd.Series) -> pd.Series:
    """Request-size band of each amount (EUR), as text.

    >>> size_band(pd.Series([100.0, 5000.0, 30000.0, 1e6])).tolist()
    ['<5k', '5-25k', '25-50k', '250k+']
    """
    edges = [b[0] for b in SIZE_BANDS] + [math.inf]
    bands = pd.cut(amount.astype(float), bins=edges, right=False, labels=list(SIZE_BAND_LABELS))
    return bands.astype(object).where(bands.notna(), None)


def phase_needs(data) -> dict[str, tuple[str, ...]]:
    """What the phase at application needs: ``funding.phase_at_application`` when the table
    records it, otherwise the phases table (looked up on ``applied_on``)."""
    if data.has("funding", "phase_at_application"):
        return {"funding": ("phase_at_application",)}
    return {"funding": ("applied_on",), "phases": ("phase", "entered_on")}


#: What every gap table needs from the funding table.
BASE_NEEDS: dict[str, tuple[str, ...]] = {"funding": ("initiative_id", "status", "amount_requested", "amount_granted")}

#: Grouping dimensions of the gap tables, with a readable label.
DIMENSIONS: dict[str, str] = {
    "source": "funding source",
    "phase": "phase at application",
    "purpose": "purpose of the request",
    "value_model": "value model",
    "theme": "theme",
    "size_band": "request size (EUR)",
    "year": "year of application",
}


def dimension_needs(data, dimension: str) -> dict[str, tuple[str, ...]]:
    """Tables and columns a gap table by ``dimension`` needs (on top of :data:`BASE_NEEDS`).

    >>> dimension_needs(None, "value_model")
    {'funding': ('initiative_id', 'status', 'amount_requested', 'amount_granted'), 'initiatives': ('value_model',)}
    """
    if dimension == "phase":
        extra = phase_needs(data)
    elif dimension in ("value_model", "theme"):
        extra = {"initiatives": (dimension,)}
    elif dimension == "size_band":
        extra = {}
    elif dimension == "year":
        extra = {"funding": ("applied_on",)}
    else:
        extra = {"funding": (dimension,)}
    needs = dict(BASE_NEEDS)
    for table, cols in extra.items():
        needs[table] = tuple(dict.fromkeys(needs.get(table, ()) + cols))
    return needs


def analysis_plan(data) -> pd.DataFrame:
    """Which parts of the funding-gap analysis this dataset supports, and what is missing.

    One row per analysis: ``analysis``, ``computable`` and ``missing`` (empty when computable).
    """
    rows = [("gap overall", dict(BASE_NEEDS))]
    rows += [(f"gap by {label}", dimension_needs(data, dim)) for dim, label in DIMENSIONS.items()]
    model = {"funding": BASE_NEEDS["funding"] + ("source", "purpose", "multi_year")}
    rows += [
        ("approval and coverage models", model),
        ("model term: value model x source group", {**model, "initiatives": ("value_model",)}),
        (
            "model term: phase at application",
            {
                **model,
                **{k: v for k, v in phase_needs(data).items() if k != "funding"},
                "funding": model["funding"] + phase_needs(data).get("funding", ()),
            },
        ),
        ("claim: hybrids fall between two stools", {**model, "initiatives": ("value_model",)}),
        ("claim: funders avoid organisational strengthening", model),
        ("claim: multi-year funding is hard to get", model),
        ("claim: about 60% of needs met", dict(BASE_NEEDS)),
        (
            "multi-year share by phase",
            dimension_needs(data, "phase") | {"funding": dimension_needs(data, "phase")["funding"] + ("multi_year",)},
        ),
    ]
    out = []
    for name, needs in rows:
        gaps = [g + " (or column funding.phase_at_application)" if g == "table phases" else g for g in data.missing(needs)]
        out.append({"analysis": name, "computable": not gaps, "missing": ", ".join(gaps)})
    return pd.DataFrame(out)


def applications(data) -> pd.DataFrame:
    """One row per funding application with everything the gap tables and models use.

    Columns: ``funding_id, initiative_id, source, source_group, purpose, status, decided,
    approved, amount_requested, amount_granted, share_granted, multi_year, year, size_band,
    log_amount_c`` and, when the data has them, ``phase`` (phase at application: the recorded
    ``phase_at_application``, gaps filled from the phases table), ``value_model`` and ``theme``.
    ``approved`` is missing for undecided applications; ``amount_granted`` is 0 for rejected ones;
    ``share_granted`` = granted / requested, clipped to [0, 1]; ``granted_above_request`` flags the
    decided applications whose grant exceeds the request (top-ups, allowed for status granted),
    whose ``share_granted`` is therefore capped at 1 (:func:`share_capped` counts them);
    ``log_amount_c`` = log(requested / 25,000).

    >>> import maexlab
    >>> apps = applications(maexlab.load("embedded"))  # doctest: +SKIP
    """
    f = data.funding
    if f is None:
        raise ValueError("applications() needs the funding table, which this dataset lacks")
    f = f.sort_values("funding_id").reset_index(drop=True)
    out = pd.DataFrame(
        {
            "funding_id": f["funding_id"].astype(str),
            "initiative_id": f["initiative_id"].astype(str),
            "source": f["source"].astype(str),
            "purpose": f["purpose"].astype(str),
            "status": f["status"].astype(str),
        }
    )
    out["source_group"] = out["source"].map(SOURCE_GROUPS)
    out["decided"] = out["status"].isin(DECIDED_STATUSES)
    approved = out["status"].isin(("granted", "partial")).astype("boolean")
    out["approved"] = approved.mask(~out["decided"])
    requested = f["amount_requested"].astype(float)
    granted = f["amount_granted"].astype(float)
    granted = granted.where(~(out["status"] == "rejected"), granted.fillna(0.0))
    out["amount_requested"] = requested
    out["amount_granted"] = granted.where(out["decided"])
    share = out["amount_granted"] / requested.where(requested > 0)
    out["granted_above_request"] = (share > 1.0).fillna(False).astype(bool)
    out["share_granted"] = share.clip(0.0, 1.0)
    multi = f["multi_year"] if "multi_year" in f.columns else pd.Series(pd.NA, index=f.index)
    out["multi_year"] = multi.astype("boolean")
    out["year"] = f["applied_on"].dt.year.astype("Int64")
    out["size_band"] = size_band(requested)
    out["log_amount_c"] = np.log(requested.where(requested > 0)) - LOG_AMOUNT_CENTRE
    phase = pd.Series([None] * len(f), dtype=object)
    if "phase_at_application" in f.columns:
        phase = f["phase_at_application"].astype(object).where(f["phase_at_application"].notna(), None)
    if data.has("phases", "phase", "entered_on") and phase.isna().any():
        looked_up = phase_on(data.phases, f, "applied_on")
        phase = phase.where(phase.notna(), looked_up)
    if phase.notna().any():
        out["phase"] = phase.where(phase != "closed", None)
    if data.has("initiatives", "value_model"):
        cols = ["initiative_id", "value_model"] + (["theme"] if "theme" in data.initiatives.columns else [])
        profile = data.initiatives[cols].astype({"initiative_id": str})
        out = out.merge(profile, on="initiative_id", how="left", validate="many_to_one")
    return out


def cluster_bootstrap_weights(clusters: np.ndarray, seed: int, n_boot: int) -> np.ndarray:
    """Bootstrap weights (``n_boot`` x ``len(clusters)``): how often each cluster is drawn when
    the clusters are resampled with replacement. Seeded, so tables built on the same initiatives
    with the same seed share the same replicates.

    >>> w = cluster_bootstrap_weights(np.array(["a", "b", "c"]), seed=1, n_boot=4)
    >>> w.shape, bool((w.sum(axis=1) == 3).all())
    ((4, 3), True)
    """
    n = len(clusters)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    flat = draws + (np.arange(n_boot)[:, None] * n)
    return np.bincount(flat.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)


def _group_keys(df: pd.DataFrame, by: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct groups (sorted in vocabulary order) and the group code of every row."""
    if not by:
        return pd.DataFrame(index=[0]), np.zeros(len(df), dtype=int)
    keys = df[list(by)].astype(object)
    groups = keys.drop_duplicates().reset_index(drop=True)

    def rank(col: pd.Series) -> pd.Series:
        order = ORDERS.get(col.name)
        if order is not None:
            return col.map({v: i for i, v in enumerate(order)}).fillna(len(order))
        return col

    groups = groups.sort_values(list(by), key=rank).reset_index(drop=True)
    code = keys.merge(groups.reset_index(), on=list(by), how="left")["index"].to_numpy()
    return groups, code


def _ratio_intervals(num: np.ndarray, den: np.ndarray, w: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of sum(num)/sum(den) per group; num, den: clusters x groups."""
    bnum, bden = w @ num, w @ den
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(bden > 0, bnum / np.where(bden > 0, bden, 1.0), np.nan)
    alpha = (1 - level) / 2
    lo = np.full(num.shape[1], np.nan)
    hi = np.full(num.shape[1], np.nan)
    ok = np.isfinite(ratio).sum(axis=0) > 0
    if ok.any():
        lo[ok] = np.nanquantile(ratio[:, ok], alpha, axis=0)
        hi[ok] = np.nanquantile(ratio[:, ok], 1 - alpha, axis=0)
    return lo, hi


def _cluster_matrix(
    values: pd.Series, cluster_code: np.ndarray, group_code: np.ndarray, n_clusters: int, n_groups: int
) -> np.ndarray:
    m = np.zeros((n_clusters, n_groups))
    np.add.at(m, (cluster_code, group_code), values.to_numpy(dtype=float))
    return m


def _ratio_table(
    df: pd.DataFrame,
    by: Sequence[str],
    ratios: dict[str, tuple[str, str]],
    seed: int,
    n_boot: int,
    level: float,
) -> pd.DataFrame:
    """Per group: n rows, n initiatives, and each ratio sum(num)/sum(den) with bootstrap interval."""
    groups, gcode = _group_keys(df, by)
    clusters, ccode = np.unique(df["initiative_id"].to_numpy(), return_inverse=True)
    w = cluster_bootstrap_weights(clusters, seed, n_boot) if n_boot > 0 else None
    table = groups.copy()
    table["n"] = np.bincount(gcode, minlength=len(groups))
    table["n_initiatives"] = pd.Series(ccode).groupby(gcode).nunique().reindex(range(len(groups)), fill_value=0).to_numpy()
    for name, (num_col, den_col) in ratios.items():
        num = _cluster_matrix(df[num_col], ccode, gcode, len(clusters), len(groups))
        den = _cluster_matrix(df[den_col], ccode, gcode, len(clusters), len(groups))
        tn, td = num.sum(axis=0), den.sum(axis=0)
        table[name] = np.where(td > 0, tn / np.where(td > 0, td, 1.0), np.nan)
        if w is not None:
            table[f"{name}_lo"], table[f"{name}_hi"] = _ratio_intervals(num, den, w, level)
    return table


def gap_table(
    data,
    by: Sequence[str] = (),
    *,
    seed: int,
    n_boot: int = 300,
    level: float = 0.95,
) -> pd.DataFrame:
    """The funding gap per group of decided applications.

    ``data`` is a :class:`~maexlab.data.MaexData` or the frame from :func:`applications`;
    ``by`` any of its columns (``source``, ``phase``, ``purpose``, ``value_model``, ``theme``,
    ``size_band``, ``year`` ...); empty ``by`` gives one overall row.

    Columns: the ``by`` columns, ``n`` (decided applications), ``n_initiatives``,
    ``requested_eur``, ``granted_eur``, ``coverage`` (granted/requested, money-weighted) with
    ``coverage_lo``/``coverage_hi``, ``approval_rate`` (granted or partial) with interval,
    ``share_full``, ``share_partial``, ``share_rejected``. Intervals: cluster bootstrap over
    initiatives (``n_boot`` replicates, ``seed``), percentile method.

    >>> apps = pd.DataFrame({"initiative_id": ["a", "a", "b"], "source": ["fund_grant"] * 3,
    ...     "status": ["granted", "rejected", "partial"], "decided": [True] * 3,
    ...     "approved": [True, False, True], "amount_requested": [100.0, 100.0, 200.0],
    ...     "amount_granted": [100.0, 0.0, 50.0]})
    >>> gap_table(apps, by=["source"], seed=1, n_boot=0)[["source", "n", "coverage", "share_full"]]
           source  n  coverage  share_full
    0  fund_grant  3     0.375    0.333333
    """
    apps = applications(data) if not isinstance(data, pd.DataFrame) else data
    by = list(by)
    d = apps[apps["decided"]].dropna(subset=by).copy()
    dropped = left_out(apps, by)
    d["_approved"] = d["approved"].astype(float)
    d["_one"] = 1.0
    table = _ratio_table(
        d,
        by,
        {"coverage": ("amount_granted", "amount_requested"), "approval_rate": ("_approved", "_one")},
        seed,
        n_boot,
        level,
    )
    groups, gcode = _group_keys(d, by)
    sums = d.groupby(gcode)
    table["requested_eur"] = sums["amount_requested"].sum().reindex(range(len(groups))).to_numpy()
    table["granted_eur"] = sums["amount_granted"].sum().reindex(range(len(groups))).to_numpy()
    for status, column in (("granted", "share_full"), ("partial", "share_partial"), ("rejected", "share_rejected")):
        table[column] = (d["status"] == status).groupby(gcode).mean().reindex(range(len(groups))).to_numpy()
    order = by + ["n", "n_initiatives", "requested_eur", "granted_eur", "coverage"]
    order += [c for c in ("coverage_lo", "coverage_hi") if c in table] + ["approval_rate"]
    order += [c for c in ("approval_rate_lo", "approval_rate_hi") if c in table]
    order += ["share_full", "share_partial", "share_rejected"]
    table = table[order].reset_index(drop=True)
    table.attrs["left_out"] = dropped
    return table


#: Why a decided application has no value for a grouping column.
MISSING_REASONS: dict[str, str] = {
    "phase": "no phase at application (not recorded, not covered by the phases table, or applied after closure)",
    "value_model": "initiative has no value model",
    "theme": "initiative has no theme",
    "year": "no application date",
    "size_band": "no amount requested",
    "multi_year": "multi-year flag not recorded",
}


def left_out(apps: pd.DataFrame, by: Sequence[str]) -> dict:
    """Decided applications a table by ``by`` leaves out because a grouping value is missing.

    Returns ``{"applications": k, "by_column": {column: k_column}, "reasons": {column: why}}``
    (``k`` counts each application once; an application can miss several columns).

    >>> apps = pd.DataFrame({"decided": [True, True, False], "phase": ["start", None, None]})
    >>> left_out(apps, ["phase"])["applications"]
    1
    """
    d = apps[apps["decided"]]
    by = [c for c in by if c in d.columns]
    missing = d[by].isna() if by else pd.DataFrame(index=d.index)
    per_column = {c: int(missing[c].sum()) for c in by if missing[c].any()}
    return {
        "applications": int(missing.any(axis=1).sum()) if by else 0,
        "by_column": per_column,
        "reasons": {c: MISSING_REASONS.get(c, f"missing {c}") for c in per_column},
    }


def share_capped(apps: pd.DataFrame) -> int:
    """Number of decided applications granted more than they requested (top-ups), whose share
    granted is capped at 1. Money-weighted coverage uses the amounts as granted, uncapped."""
    if "granted_above_request" not in apps.columns:
        return 0
    return int((apps["decided"] & apps["granted_above_request"]).sum())


#: The euro columns of a gap table and the application columns they sum.
GAP_AMOUNTS: dict[str, str] = {"requested_eur": "amount_requested", "granted_eur": "amount_granted"}


def linked_gap_patterns(
    apps: pd.DataFrame,
    initiatives: pd.DataFrame,
    tables: dict[str, Sequence[str]],
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    rules: MagnitudeRules | None = None,
) -> dict[str, pd.DataFrame]:
    """The linked suppression pattern of each gap table over nation, provinces and municipalities.

    ``apps`` are the whole dataset's :func:`applications`, ``initiatives`` its initiatives (their
    ``province`` and ``municipality_code`` place each application); ``tables`` maps a published
    table's name to its ``by`` columns (``()`` for ``gap_overall``). The rules run on the decided
    applications' euros requested and granted, summed per initiative, as in
    :func:`protect_gap_amounts`; see :mod:`maexlab.reporting.linked`.
    """
    places = initiatives[["initiative_id", "province", "municipality_code"]].rename(columns={"municipality_code": "municipality"})
    decided = apps[apps["decided"]].merge(places.astype({"initiative_id": str}), on="initiative_id", how="left")
    for column in {d for by in tables.values() for d in by}:
        # whole years stored as floats (a missing year) must match the tables' integer labels
        if pd.api.types.is_float_dtype(decided[column]):
            whole = decided[column].dropna()
            if len(whole) and (whole == whole.round()).all():
                decided[column] = decided[column].astype("Int64")
    return linked_patterns(
        decided,
        {name: list(by) for name, by in tables.items()},
        value=list(GAP_AMOUNTS.values()),
        unit="initiative_id",
        rules=rules or MagnitudeRules(),
        min_group_size=min_group_size,
    )


def protect_gap_amounts(
    table: pd.DataFrame,
    apps: pd.DataFrame,
    by: Sequence[str],
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    dominance: tuple[int, float] | None = DEFAULT_DOMINANCE,
    p_percent: float | None = DEFAULT_P_PERCENT,
) -> pd.DataFrame:
    """A :func:`gap_table` with its sensitive rows hidden: threshold, dominance and p% rules.

    A group's euros requested or granted can reveal one initiative's amount when one or two
    initiatives hold nearly all of it, however many initiatives the group counts. The rules of
    :func:`maexlab.reporting.disclosure.suppress_magnitudes` run on the decided applications
    summed per initiative (both amount columns; a row is sensitive when either is), then cells
    are hidden along every line so no hidden row can be recovered by subtraction. Every statistic
    of a hidden row is hidden (its coverage is granted over requested, so it would reveal the
    dominant initiative's ratio). Adds ``suppressed`` and ``suppressed_rule``.
    With ``min_group_size`` 1 (protection switched off) only the threshold rule runs.

    >>> apps = pd.DataFrame({"initiative_id": [f"i{k}" for k in range(20)], "decided": True,
    ...     "source": ["bank"] * 10 + ["fund_grant"] * 10, "approved": True, "status": "granted",
    ...     "amount_requested": [1e6] + [1e3] * 19, "amount_granted": [1e6] + [1e3] * 19})
    >>> t = protect_gap_amounts(gap_table(apps, ["source"], seed=1, n_boot=0), apps, ["source"], min_group_size=5)
    >>> t[["source", "suppressed", "suppressed_rule"]].to_dict("list")
    {'source': ['fund_grant', 'bank'], 'suppressed': [True, True], 'suppressed_rule': ['secondary', 'dominance']}
    """
    if min_group_size <= 1:
        # A minimum group of 1 switches disclosure control off (every initiative may be shown),
        # so the magnitude rules, which always hide a cell of one or two contributors, are off too.
        dominance = p_percent = None
    by = list(by)
    contributions = apps[apps["decided"]].dropna(subset=by)
    return suppress_magnitudes(
        table,
        contributions,
        by,
        value=list(GAP_AMOUNTS.values()),
        unit="initiative_id",
        count_column="n_initiatives",
        dominance=dominance,
        p_percent=p_percent,
        min_group_size=min_group_size,
    )


def coverage_by_year(data, *, seed: int, n_boot: int = 300) -> pd.DataFrame:
    """:func:`gap_table` by year of application."""
    return gap_table(data, by=["year"], seed=seed, n_boot=n_boot)


def multi_year_by_phase(
    data,
    *,
    seed: int,
    n_boot: int = 300,
    level: float = 0.95,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Per phase at application: how much of the approved funding is multi-year, and how often
    multi-year and single-year requests are approved.

    Columns: ``phase``, ``n`` (approved applications), ``n_initiatives``, ``multi_year_share``
    (share of approved applications that are multi-year) with cluster-bootstrap interval, and
    for each of ``multi_year`` / ``single_year``: ``approval_<kind>`` (approval rate over the
    decided requests of that kind) with its own counts ``decided_<kind>_n`` (decided
    applications) and ``decided_<kind>_initiatives``.

    The approval rates are over decided requests, a different group from ``n``, so each is
    suppressed on its own count: a rate (and its counts) is blank when fewer than
    ``min_group_size`` initiatives made such requests in that phase. Within a phase, hiding one
    of the two rates hides the other too (the phase's overall approval rate is published in the
    gap tables, so one could be recovered from the other), by the same line-wise rule as
    :func:`maexlab.reporting.privacy.suppress_small_cells`.
    """
    apps = applications(data) if not isinstance(data, pd.DataFrame) else data
    d = apps[apps["decided"]].dropna(subset=["phase", "multi_year"]).copy()
    d["_multi"] = d["multi_year"].astype(float)
    ok = d[d["approved"].astype(bool)].copy()
    ok["_one"] = 1.0
    table = _ratio_table(ok, ["phase"], {"multi_year_share": ("_multi", "_one")}, seed, n_boot, level)
    d["_approved"] = d["approved"].astype(float)
    d["_kind"] = np.where(d["multi_year"].astype(bool), "multi_year", "single_year")
    rates = (
        d.groupby(["phase", "_kind"])
        .agg(n=("_approved", "size"), initiatives=("initiative_id", "nunique"), approval=("_approved", "mean"))
        .reset_index()
    )
    rates = suppress_small_cells(rates, count_column="initiatives", min_group_size=min_group_size, keep=("phase", "_kind"))
    for kind in ("multi_year", "single_year"):
        r = rates[rates["_kind"] == kind].set_index("phase")
        table[f"approval_{kind}"] = table["phase"].map(r["approval"]).astype(float)
        table[f"decided_{kind}_n"] = table["phase"].map(r["n"]).astype("Int64")
        table[f"decided_{kind}_initiatives"] = table["phase"].map(r["initiatives"]).astype("Int64")
    table.attrs["left_out"] = left_out(apps, ["phase", "multi_year"])
    return table


def undecided_table(data) -> pd.DataFrame:
    """Applications without a decision (pending, withdrawn), by status and source: reported
    beside the gap tables, never mixed into them."""
    apps = applications(data) if not isinstance(data, pd.DataFrame) else data
    d = apps[~apps["decided"]]
    if d.empty:
        return pd.DataFrame(columns=["status", "source", "n", "n_initiatives", "requested_eur"])
    groups, gcode = _group_keys(d, ["status", "source"])
    g = d.groupby(gcode)
    groups["n"] = g.size().to_numpy()
    groups["n_initiatives"] = g["initiative_id"].nunique().to_numpy()
    groups["requested_eur"] = g["amount_requested"].sum().to_numpy()
    return groups


def for_display(table: pd.DataFrame, columns: Sequence[str] | None = None, decimals: int = 3) -> pd.DataFrame:
    """A published table ready to show: chosen columns, rounded, counts as integers.

    >>> for_display(pd.DataFrame({"n": [12.0, None], "coverage": [0.61234, None]}))
          n  coverage
    0    12     0.612
    1  <NA>       NaN
    """
    shown = table[list(columns)] if columns is not None else table.copy()
    shown = shown.round(decimals)
    for c in ("n", "n_initiatives"):
        if c in shown.columns:
            shown[c] = shown[c].astype("Float64").round().astype("Int64")
    return shown


# --- figures ------------------------------------------------------------------------------------
# Every text on a figure comes from the catalogue (funding.plots.*) in the report's language.


def plot_gap_heatmap(
    shown: pd.DataFrame, rows: str = "source", cols: str = "phase", value: str = "coverage", language: str = DEFAULT_LANGUAGE
):
    """Heatmap of a published (suppressed) two-way gap table, cell for cell: suppressed cells
    are blank and hatched, marked with the suppression mark; combinations with no decided
    applications (no row in the table) are blank, marked '-'. Returns the figure."""
    m = messages(language)
    row_levels = [v for v in ORDERS.get(rows, sorted(shown[rows].unique())) if v in set(shown[rows])]
    col_levels = [v for v in ORDERS.get(cols, sorted(shown[cols].unique())) if v in set(shown[cols])]
    grid = shown.pivot(index=rows, columns=cols, values=value).reindex(index=row_levels, columns=col_levels)
    present = (
        shown.assign(_row=True)
        .pivot(index=rows, columns=cols, values="_row")
        .reindex(index=row_levels, columns=col_levels)
        .notna()
    )
    fig, ax = plt.subplots(figsize=(min(1.3 * len(col_levels) + 3.2, 8), 0.5 * len(row_levels) + 2.0))
    masked = np.ma.masked_invalid(grid.to_numpy(dtype=float))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="white")
    im = ax.imshow(masked, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    mark = m.text("common.suppressed_mark")
    for i in range(len(row_levels)):
        for j in range(len(col_levels)):
            v = grid.iat[i, j]
            if not present.iat[i, j]:
                ax.text(j, i, "-", ha="center", va="center", fontsize=9, color="#555555")
            elif pd.isna(v):
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#999999", lw=0))
                ax.text(j, i, mark, ha="center", va="center", fontsize=18, fontweight="bold", color="#444444")
            else:
                ax.text(j, i, m.value(v, "percent"), ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(col_levels)), [m.term(c) for c in col_levels], fontsize=9)
    ax.set_yticks(range(len(row_levels)), [m.term(r) for r in row_levels], fontsize=9)
    ax.set_xlabel(m.text(f"funding.plots.axis.{cols}"))
    ax.set_ylabel(m.text(f"funding.plots.axis.{rows}"))
    ax.grid(False)
    ax.set_title(m.text("funding.plots.heatmap_title"), fontsize=11)
    bar = fig.colorbar(im, ax=ax, fraction=0.04)
    bar.set_label(m.text("funding.plots.coverage_axis"), fontsize=9)
    bar.ax.yaxis.set_major_formatter(_percent_formatter(m))
    # Below the axis label (bbox_inches="tight" keeps it in the saved image).
    ax.annotate(
        m.text("funding.plots.heatmap_note", mark=mark),
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -52),
        textcoords="offset points",
        fontsize=7.5,
        ha="left",
        va="top",
    )
    return fig


def plot_share_distribution(apps: pd.DataFrame, overall: float | None = None, language: str = DEFAULT_LANGUAGE):
    """Histogram of the share granted among approved applications (granted or partial)."""
    m = messages(language)
    d = apps[apps["decided"] & apps["approved"].fillna(False).astype(bool)]["share_granted"].dropna()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.hist(d, bins=np.linspace(0, 1, 21), color="#4c72b0", edgecolor="white")
    ax.axvline(ESEM_COVERAGE, color="#b22222", ls="--", lw=1.5, label=m.text("funding.plots.esem_line", esem=ESEM_COVERAGE))
    if overall is not None and not pd.isna(overall):
        ax.axvline(overall, color="black", ls=":", lw=1.5, label=m.text("funding.plots.overall_line", coverage=overall))
    ax.set_xlabel(m.text("funding.plots.share_x"))
    ax.set_ylabel(m.text("funding.plots.applications_axis"))
    ax.set_title(m.text("funding.plots.share_title"))
    ax.xaxis.set_major_formatter(_percent_formatter(m))
    ax.legend(loc="upper left", fontsize=8)
    return fig


def _percent_formatter(m):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: m.value(x, "percent"))


def _interval_plot(ax, labels, est, lo, hi, label: str, mark: str, color="#4c72b0"):
    x = np.arange(len(labels))
    est, lo, hi = (np.asarray(a, dtype=float) for a in (est, lo, hi))
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    ax.errorbar(x[ok], est[ok], yerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="o", color=color, capsize=4, label=label)
    for xi in x[~ok]:
        ax.text(xi, 0.05, mark, ha="center", color="#555555", fontsize=12)
    ax.set_xticks(x, labels)


def plot_missing_middle(shown: pd.DataFrame, language: str = DEFAULT_LANGUAGE):
    """Coverage and approval by request-size band with 95% intervals (published table)."""
    m = messages(language)
    t = shown.set_index("size_band").reindex([b for b in SIZE_BAND_LABELS if b in set(shown["size_band"])]).reset_index()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    # Keep "€ 5.000" together: wrap only between words of the label, never after the euro sign.
    labels = [textwrap.fill(m.text(f"funding.size_bands.{b}").replace("€ ", "€\u00a0"), 13) for b in t["size_band"]]
    mark = m.text("common.suppressed_mark")
    _interval_plot(ax, labels, t["coverage"], t["coverage_lo"], t["coverage_hi"], m.text("funding.plots.coverage_points"), mark)
    ax.plot(np.arange(len(t)), t["approval_rate"], "s--", color="#55a868", label=m.text("funding.plots.approval_line"))
    ax.axhline(ESEM_COVERAGE, color="#b22222", ls="--", lw=1, label=m.text("funding.plots.esem_line", esem=ESEM_COVERAGE))
    middle = [i for i, b in enumerate(t["size_band"]) if b in ("25-50k", "50-250k")]
    if middle:
        ax.axvspan(
            min(middle) - 0.5, max(middle) + 0.5, color="#f0e442", alpha=0.15, label=m.text("funding.plots.missing_middle")
        )
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(_percent_formatter(m))
    ax.set_xlabel(m.text("funding.plots.axis.size_band"))
    ax.set_ylabel(m.text("funding.plots.coverage_axis"))
    ax.set_title(m.text("funding.plots.missing_middle_title"))
    ax.legend(fontsize=8, loc="lower left")
    return fig


def plot_coverage_by_year(shown: pd.DataFrame, language: str = DEFAULT_LANGUAGE):
    """Coverage by year of application with 95% intervals (published table)."""
    m = messages(language)
    t = shown.sort_values("year")
    fig, ax = plt.subplots(figsize=(8, 4.2))
    mark = m.text("common.suppressed_mark")
    years = t["year"].astype(int).astype(str)
    _interval_plot(ax, years, t["coverage"], t["coverage_lo"], t["coverage_hi"], m.text("funding.plots.coverage_points"), mark)
    ax.axhline(ESEM_COVERAGE, color="#b22222", ls="--", lw=1, label=m.text("funding.plots.esem_line", esem=ESEM_COVERAGE))
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(_percent_formatter(m))
    if len(t) > 10:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(m.text("funding.plots.axis.year"))
    ax.set_ylabel(m.text("funding.plots.coverage_axis"))
    ax.set_title(m.text("funding.plots.year_title"))
    ax.legend(fontsize=8, loc="lower left")
    return fig
