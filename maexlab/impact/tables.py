"""Group tables of impact value, volunteer time, MAEX ratios and unit costs (notebook 04's tables).

The metrics live in :mod:`maexlab.impact.metrics`; this module shapes them into the group
tables a report publishes: impact value by year and group (with the per-initiative mean and
median and the count ``n`` that small-cell suppression needs), medians with bootstrap
intervals, volunteer time valued three ways, the "waardenweb" ratio medians, unit costs,
and the declared social-return example.

Every group table has a count column ``n`` = number of distinct initiatives in the group, so
:meth:`maexlab.reporting.report.Report.table` can suppress small groups.

>>> from types import SimpleNamespace
>>> proxies_for(SimpleNamespace(proxies=None))[1]
'reference'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from maexlab.data.phases import phase_on
from maexlab.impact.metrics import (
    VOLUNTEER_RATES,
    cost_per_person_reached,
    impact_value,
    impact_value_by,
    impact_value_per_euro_funding,
    load_reference_proxies,
    social_return_fulfilment,
    social_return_obligation,
    volunteer_value,
)
from maexlab.reporting.disclosure import DEFAULT_DOMINANCE, DEFAULT_P_PERCENT, MagnitudeRules, suppress_magnitudes
from maexlab.reporting.linked import linked_patterns
from maexlab.reporting.privacy import DEFAULT_MIN_GROUP_SIZE

__all__ = [
    "SOCIAL_RETURN_ITEMS",
    "bootstrap_median_ci",
    "impact_contributions",
    "impact_value_table",
    "LINKED_IMPACT_TABLES",
    "latest_full_year",
    "linked_impact_patterns",
    "median_impact_value_by",
    "phase_at_year_end",
    "protect_impact_totals",
    "proxies_for",
    "ratio_medians",
    "shown_rows",
    "social_return_example",
    "unit_costs_by",
    "volunteer_rates_table",
    "volunteer_valuation",
]


def proxies_for(data) -> tuple[pd.DataFrame, str]:
    """The euro proxies to use: the dataset's own ``proxies`` table, else the sourced reference file.

    Returns the table and where it came from: ``"dataset"`` or ``"reference"``
    (``data/reference/proxies.csv``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> px, origin = proxies_for(SimpleNamespace(proxies=None))
    >>> "people_to_work" in set(px["indicator"]), origin
    (True, 'reference')
    """
    own = getattr(data, "proxies", None)
    if own is not None and len(own) > 0:
        return own, "dataset"
    return load_reference_proxies(), "reference"


def latest_full_year(data) -> int | None:
    """Latest calendar year that is fully observed and present in the impact table.

    A year is full when the data cut-off (the latest ``initiatives.observed_until``) is on or
    after its 31 December. Without an initiatives table the latest impact year is taken;
    without impact rows, the latest financial year; None when neither exists.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> d = SimpleNamespace(
    ...     initiatives=pd.DataFrame({"observed_until": pd.to_datetime(["2026-06-30"])}),
    ...     impact=pd.DataFrame({"year": [2024, 2025, 2026]}), financials=None)
    >>> latest_full_year(d)
    2025
    """
    years = None
    for name in ("impact", "financials"):
        df = getattr(data, name, None)
        if df is not None and len(df) and "year" in df.columns and df["year"].notna().any():
            years = pd.to_numeric(df["year"]).dropna().astype(int)
            break
    if years is None:
        return None
    inits = getattr(data, "initiatives", None)
    if inits is not None and "observed_until" in inits.columns and inits["observed_until"].notna().any():
        cutoff = pd.Timestamp(inits["observed_until"].max())
        last_full = cutoff.year if (cutoff.month, cutoff.day) == (12, 31) else cutoff.year - 1
        years = years[years <= last_full]
        if years.empty:
            return None
    return int(years.max())


def phase_at_year_end(phases: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """Phase of each row's initiative on 31 December of the row's ``year``.

    Uses :func:`maexlab.data.phases.phase_on`; a row dated before the initiative's first phase
    gets ``"unknown"``. Aligned with ``rows``.

    Examples
    --------
    >>> ph = pd.DataFrame({"initiative_id": ["a", "a"], "phase": ["start", "growth"],
    ...                    "entered_on": pd.to_datetime(["2015-01-01", "2018-06-01"])})
    >>> rows = pd.DataFrame({"initiative_id": ["a", "a", "a"], "year": [2014, 2017, 2018]})
    >>> phase_at_year_end(ph, rows).tolist()
    ['unknown', 'start', 'growth']
    """
    events = pd.DataFrame(
        {
            "initiative_id": rows["initiative_id"].to_numpy(),
            "year_end": pd.to_datetime(pd.to_numeric(rows["year"]).astype(int).astype(str) + "-12-31"),
        },
        index=rows.index,
    )
    out = phase_on(phases, events, "year_end")
    return out.where(out.notna(), "unknown").astype(object)


def impact_value_table(
    impact: pd.DataFrame,
    proxies: pd.DataFrame,
    initiatives: pd.DataFrame | None = None,
    by: Sequence[str] | str = ("theme",),
    phases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Impact value per year and group: total, and mean and median per initiative.

    Totals come from :func:`maexlab.impact.impact_value_by`; the per-initiative figures sum
    each initiative's ``quantity x euro_per_unit`` within the cell first. ``phase`` in ``by``
    is the phase at the year's end (:func:`phase_at_year_end`) and needs ``phases``.

    Returns
    -------
    DataFrame
        ``year, *by, n, impact_value_eur, mean_per_initiative_eur, median_per_initiative_eur``
        with ``n`` = distinct initiatives in the cell, sorted by year and groups.

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A", "B", "B"], "year": [2023] * 3,
    ...     "indicator": ["volunteer_hours"] * 3, "quantity": [10.0, 5.0, 1.0]})
    >>> proxies = pd.DataFrame({"indicator": ["volunteer_hours"], "unit": ["hour"],
    ...     "euro_per_unit": [20.0], "source": ["s"]})
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B"], "theme": ["x", "x"]})
    >>> t = impact_value_table(impact, proxies, inits, by="theme")
    >>> t[["year", "theme", "n", "impact_value_eur", "median_per_initiative_eur"]]
       year theme  n  impact_value_eur  median_per_initiative_eur
    0  2023     x  2             320.0                      160.0
    """
    dims = [by] if isinstance(by, str) else list(by)
    rows = _with_phase(impact, phases, dims)
    totals = impact_value_by(rows, proxies, initiatives, by=dims)
    keys = ["year", *dims]
    per_init = impact_contributions(rows, proxies, initiatives, dims)
    stats = (
        per_init.groupby(keys, dropna=False, observed=True)["impact_value_eur"]
        .agg(mean_per_initiative_eur="mean", median_per_initiative_eur="median")
        .reset_index()
    )
    out = totals.merge(stats, on=keys, how="left", validate="1:1").rename(columns={"n_initiatives": "n"})
    out = out[[*keys, "n", "impact_value_eur", "mean_per_initiative_eur", "median_per_initiative_eur"]]
    return out.sort_values(keys).reset_index(drop=True)


def _with_phase(impact: pd.DataFrame, phases: pd.DataFrame | None, dims: Sequence[str]) -> pd.DataFrame:
    if "phase" in dims and "phase" not in impact.columns:
        if phases is None:
            raise ValueError("grouping by phase needs the phases table (phase at the year's end)")
        return impact.assign(phase=phase_at_year_end(phases, impact))
    return impact


def impact_contributions(
    impact: pd.DataFrame,
    proxies: pd.DataFrame,
    initiatives: pd.DataFrame | None,
    by: Sequence[str] | str = (),
    phases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each initiative's impact value per year and group: what a cell total of euros is made of.

    Columns ``year, *by, initiative_id, impact_value_eur``; the input of the dominance and p%
    rules (:func:`protect_impact_totals`) and of the per-initiative mean and median.

    >>> impact = pd.DataFrame({"initiative_id": ["A", "B", "B"], "year": [2023] * 3,
    ...     "indicator": ["volunteer_hours"] * 3, "quantity": [10.0, 5.0, 1.0]})
    >>> proxies = pd.DataFrame({"indicator": ["volunteer_hours"], "unit": ["hour"],
    ...     "euro_per_unit": [20.0], "source": ["s"]})
    >>> impact_contributions(impact, proxies, None)["impact_value_eur"].tolist()
    [200.0, 120.0]
    """
    dims = [by] if isinstance(by, str) else list(by)
    valued = impact_value(_with_phase(impact, phases, dims), proxies)
    need = [d for d in dims if d not in valued.columns]
    if need:
        valued = valued.merge(initiatives[["initiative_id", *need]], on="initiative_id", how="left", validate="m:1")
    keys = ["year", *dims]
    return valued.groupby([*keys, "initiative_id"], dropna=False, observed=True)["impact_value_eur"].sum().reset_index()


#: The published tables of impact value totals and their groups (besides the year).
LINKED_IMPACT_TABLES: dict[str, tuple[str, ...]] = {
    "impact_value_by_year": (),
    "impact_value_by_theme": ("theme",),
    "impact_value_by_sdg": ("sdg",),
    "impact_value_by_value_model": ("value_model",),
    "impact_value_by_phase": ("phase",),
    "impact_value_by_value_model_phase": ("value_model", "phase"),
}


def linked_impact_patterns(
    data,
    proxies: pd.DataFrame,
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    rules: MagnitudeRules | None = None,
) -> dict[str, pd.DataFrame]:
    """The linked suppression pattern of each impact total table, over nation, provinces and municipalities.

    ``data`` is the run's whole dataset (every place, same period). Each initiative's impact
    value per year and group (:func:`impact_contributions`, every group column the data has,
    an unknown group kept as an unpublished rest), placed by its initiative's ``province`` and
    ``municipality_code``; the tables of :data:`LINKED_IMPACT_TABLES` the data can make share
    their margins (the by-year totals are the year margins of every other table).
    See :mod:`maexlab.reporting.linked`.
    """
    ini = data.initiatives
    dims = [d for d in ("theme", "value_model") if d in ini.columns]
    impact = data.impact
    if "sdg" in impact.columns:
        impact = impact.assign(sdg=pd.to_numeric(impact["sdg"], errors="coerce").astype("Int64"))
        dims.append("sdg")
    if data.phases is not None:
        dims.append("phase")
    contributions = impact_contributions(impact, proxies, ini, dims, phases=data.phases)
    places = ini[["initiative_id", "province", "municipality_code"]].rename(columns={"municipality_code": "municipality"})
    contributions = contributions.merge(places, on="initiative_id", how="left")
    tables = {name: ["year", *by] for name, by in LINKED_IMPACT_TABLES.items() if set(by) <= set(dims)}
    return linked_patterns(
        contributions,
        tables,
        value="impact_value_eur",
        unit="initiative_id",
        rules=rules or MagnitudeRules(),
        min_group_size=min_group_size,
        split=["year"],
    )


def protect_impact_totals(
    table: pd.DataFrame,
    contributions: pd.DataFrame,
    by: Sequence[str],
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    dominance: tuple[int, float] | None = DEFAULT_DOMINANCE,
    p_percent: float | None = DEFAULT_P_PERCENT,
) -> pd.DataFrame:
    """A table of impact value per ``year`` and ``by`` with its sensitive rows hidden.

    Threshold, dominance and p% rules (:func:`maexlab.reporting.disclosure.suppress_magnitudes`)
    on each initiative's impact value (``contributions``, from :func:`impact_contributions`), then
    secondary suppression along every line (years and groups). Every statistic of a hidden row is
    hidden (a mean or median of a dominated cell would reveal the large initiative too). ``table``
    counts initiatives in ``n``. Adds ``suppressed`` and ``suppressed_rule``.
    With ``min_group_size`` 1 (protection switched off) only the threshold rule runs.

    >>> contributions = pd.DataFrame({"year": 2023, "theme": ["a"] * 6 + ["b"] * 6,
    ...     "initiative_id": list("abcdefghijkl"), "impact_value_eur": [1e6] + [10.0] * 11})
    >>> table = contributions.groupby(["year", "theme"]).agg(n=("initiative_id", "nunique"),
    ...     impact_value_eur=("impact_value_eur", "sum")).reset_index()
    >>> protect_impact_totals(table, contributions, ["theme"], min_group_size=5)["suppressed_rule"].tolist()
    ['dominance', 'secondary']
    """
    if min_group_size <= 1:
        # A minimum group of 1 switches disclosure control off (every initiative may be shown),
        # so the magnitude rules, which always hide a cell of one or two contributors, are off too.
        dominance = p_percent = None
    keys = ["year", *by]
    return suppress_magnitudes(
        table,
        contributions,
        keys,
        value="impact_value_eur",
        unit="initiative_id",
        count_column="n",
        dominance=dominance,
        p_percent=p_percent,
        min_group_size=min_group_size,
    )


def shown_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a published table that are not suppressed."""
    out = table
    if "suppressed" in out.columns:
        out = out[~out["suppressed"].astype(bool)]
    return out.dropna(subset=["n"])


def _median_where_enough(values: pd.Series, min_group_size: int) -> tuple[int, float]:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return len(v), (float(v.median()) if len(v) >= min_group_size else float("nan"))


def bootstrap_median_ci(
    values: pd.Series | np.ndarray, reps: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of a median (missing values dropped; NaN when empty).

    Resamples the values with replacement ``reps`` times; returns the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles of the resampled medians.

    Examples
    --------
    >>> lo, hi = bootstrap_median_ci(np.arange(1.0, 101.0), 400, np.random.default_rng(1))
    >>> 40 < lo < 50.5 < hi < 61
    True
    """
    v = pd.to_numeric(pd.Series(np.asarray(values, dtype=float)), errors="coerce").dropna().to_numpy()
    if len(v) == 0 or reps < 1:
        return float("nan"), float("nan")
    medians = np.median(v[rng.integers(0, len(v), size=(int(reps), len(v)))], axis=1)
    lo, hi = np.quantile(medians, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def median_impact_value_by(
    impact: pd.DataFrame,
    proxies: pd.DataFrame,
    initiatives: pd.DataFrame,
    year: int,
    by: str = "value_model",
    reps: int = 400,
    seed: int = 0,
    min_group_size: int = 10,
) -> pd.DataFrame:
    """Median impact value per initiative in one year, per group, with a bootstrap 95% interval.

    Per initiative: the sum of ``quantity x euro_per_unit`` over its indicators in ``year``.
    Groups are processed in sorted order with one ``numpy.random.default_rng(seed)``, so the
    result is deterministic. Groups below ``min_group_size`` get no median or interval.

    Returns
    -------
    DataFrame
        ``{by}, n, median_per_initiative_eur, ci_low, ci_high``.

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A", "B", "C"], "year": [2024] * 3,
    ...     "indicator": ["x"] * 3, "quantity": [1.0, 2.0, 9.0]})
    >>> proxies = pd.DataFrame({"indicator": ["x"], "unit": ["u"], "euro_per_unit": [100.0], "source": ["s"]})
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B", "C"], "value_model": ["social"] * 3})
    >>> t = median_impact_value_by(impact, proxies, inits, 2024, reps=50, min_group_size=1)
    >>> int(t.loc[0, "n"]), float(t.loc[0, "median_per_initiative_eur"])
    (3, 200.0)
    """
    valued = impact_value(impact[impact["year"] == year], proxies)
    per_init = valued.groupby("initiative_id", as_index=False)["impact_value_eur"].sum()
    per_init = per_init.merge(initiatives[["initiative_id", by]], on="initiative_id", how="left", validate="1:1")
    rng = np.random.default_rng(seed)
    rows = []
    for group, g in per_init.groupby(by, observed=True, sort=True):
        n, med = _median_where_enough(g["impact_value_eur"], min_group_size)
        lo, hi = bootstrap_median_ci(g["impact_value_eur"], reps, rng) if n >= min_group_size else (float("nan"),) * 2
        rows.append((str(group), n, med, lo, hi))
    return pd.DataFrame(rows, columns=[by, "n", "median_per_initiative_eur", "ci_low", "ci_high"])


def ratio_medians(
    ratios: pd.DataFrame, initiatives: pd.DataFrame, by: str = "value_model", min_group_size: int = 10
) -> pd.DataFrame:
    """Medians of the two "waardenweb" ratios per group.

    ``ratios`` is the output of :func:`maexlab.impact.maex_ratios`. ``n`` counts initiatives
    in the group; ``n_staff_ratio`` / ``n_subsidy_ratio`` count those with a finite ratio
    (the zero-denominator rule gives NaN), and a median computed on fewer than
    ``min_group_size`` of them is blanked.

    Examples
    --------
    >>> r = pd.DataFrame({"initiative_id": list("ABC"), "staff_per_volunteer": [0.1, 0.3, np.nan],
    ...     "subsidy_per_earned_income": [1.0, 2.0, 4.0]})
    >>> inits = pd.DataFrame({"initiative_id": list("ABC"), "value_model": ["social"] * 3})
    >>> ratio_medians(r, inits, min_group_size=1)[["value_model", "n", "n_staff_ratio", "median_staff_per_volunteer"]]
      value_model  n  n_staff_ratio  median_staff_per_volunteer
    0      social  3              2                         0.2
    """
    d = ratios.merge(initiatives[["initiative_id", by]], on="initiative_id", how="left", validate="1:1")
    rows = []
    for group, g in d.groupby(by, observed=True, sort=True):
        n_s, med_s = _median_where_enough(g["staff_per_volunteer"], min_group_size)
        n_r, med_r = _median_where_enough(g["subsidy_per_earned_income"], min_group_size)
        rows.append((str(group), g["initiative_id"].nunique(), n_s, med_s, n_r, med_r))
    return pd.DataFrame(
        rows,
        columns=[by, "n", "n_staff_ratio", "median_staff_per_volunteer", "n_subsidy_ratio", "median_subsidy_per_earned_income"],
    )


def unit_costs_by(
    initiatives: pd.DataFrame,
    financials: pd.DataFrame | None,
    impact: pd.DataFrame | None = None,
    proxies: pd.DataFrame | None = None,
    funding: pd.DataFrame | None = None,
    year: int | None = None,
    by: str = "value_model",
    min_group_size: int = 10,
    reps: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """Cost per person reached and impact value per euro of funding, per group.

    Per initiative: :func:`maexlab.impact.cost_per_person_reached` (financial ``year``) and,
    when impact, proxies and funding are given, :func:`maexlab.impact.impact_value_per_euro_funding`
    over the whole record in the data. Per group: the median of the per-initiative ratios
    (blanked when fewer than ``min_group_size`` are finite) and the pooled ratio
    (sum of numerators / sum of denominators over initiatives with both).

    Returns
    -------
    DataFrame
        ``{by}, n, n_cost, median_cost_per_person_eur, pooled_cost_per_person_eur`` and, with
        funding, ``n_funded, median_impact_per_euro, pooled_impact_per_euro``. With ``reps > 0``
        each median gets a percentile-bootstrap 95% interval (``*_ci_low``, ``*_ci_high``; one
        ``numpy.random.default_rng(seed)``, groups in sorted order).

    Examples
    --------
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B"], "value_model": ["social"] * 2,
    ...     "people_reached": [100, 300]})
    >>> fin = pd.DataFrame({"initiative_id": ["A", "B"], "year": [2025] * 2, "costs": [1000.0, 9000.0]})
    >>> t = unit_costs_by(inits, fin, year=2025, min_group_size=1)
    >>> float(t.loc[0, "median_cost_per_person_eur"]), float(t.loc[0, "pooled_cost_per_person_eur"])
    (20.0, 25.0)
    """
    cp = cost_per_person_reached(initiatives, financials, year=year)
    cp = cp.merge(initiatives[["initiative_id", by]], on="initiative_id", how="left", validate="1:1")
    with_funding = impact is not None and proxies is not None and funding is not None
    if with_funding:
        ipe = impact_value_per_euro_funding(impact, proxies, funding)
        cp = cp.merge(ipe, on="initiative_id", how="left", validate="1:1")
    rng = np.random.default_rng(seed)
    nan2 = (float("nan"), float("nan"))
    rows = []
    for group, g in cp.groupby(by, observed=True, sort=True):
        both = g.dropna(subset=["cost_per_person_reached"])
        n_c, med_c = _median_where_enough(g["cost_per_person_reached"], min_group_size)
        pooled_c = (
            float(both["costs"].sum() / both["people_reached"].astype(float).sum()) if n_c >= min_group_size else float("nan")
        )
        row = {
            by: str(group),
            "n": g["initiative_id"].nunique(),
            "n_cost": n_c,
            "median_cost_per_person_eur": med_c,
            "pooled_cost_per_person_eur": pooled_c,
        }
        if reps > 0:
            lo, hi = bootstrap_median_ci(both["cost_per_person_reached"], reps, rng) if n_c >= min_group_size else nan2
            row.update(median_cost_ci_low=lo, median_cost_ci_high=hi)
        if with_funding:
            f = g.dropna(subset=["impact_value_per_euro"])
            n_f, med_f = _median_where_enough(f["impact_value_per_euro"], min_group_size)
            row.update(
                n_funded=n_f,
                median_impact_per_euro=med_f,
                pooled_impact_per_euro=float(f["impact_value_eur"].sum() / f["amount_granted"].sum())
                if n_f >= min_group_size
                else float("nan"),
            )
            if reps > 0:
                lo, hi = bootstrap_median_ci(f["impact_value_per_euro"], reps, rng) if n_f >= min_group_size else nan2
                row.update(median_impact_ci_low=lo, median_impact_ci_high=hi)
        rows.append(row)
    order = [by, "n", "n_cost", "median_cost_per_person_eur", "median_cost_ci_low", "median_cost_ci_high",
             "pooled_cost_per_person_eur", "n_funded", "median_impact_per_euro", "median_impact_ci_low",
             "median_impact_ci_high", "pooled_impact_per_euro"]  # fmt: skip
    out = pd.DataFrame(rows)
    return out[[c for c in order if c in out.columns]]


def volunteer_valuation(
    initiatives: pd.DataFrame,
    hours_per_volunteer: float,
    opportunity_rate: float,
    by: str = "value_model",
    active_only: bool = True,
) -> pd.DataFrame:
    """Yearly value of volunteer time, three ways, per group and in total.

    ``hours = volunteers x hours_per_volunteer``; value = :func:`maexlab.impact.volunteer_value`
    with the sourced default rates for market value and replacement cost and the declared
    ``opportunity_rate`` (no sourced default exists). ``active_only`` keeps initiatives
    without ``closed_on`` (the volunteer count is the current profile figure).

    Returns
    -------
    DataFrame
        ``{by}, n, volunteers, hours, value_market_value_eur, value_replacement_cost_eur,
        value_opportunity_cost_eur``; the last row is ``all``.

    Examples
    --------
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B"], "value_model": ["social", "hybrid"],
    ...     "volunteers": [10, 5], "closed_on": [pd.NaT, pd.NaT]})
    >>> t = volunteer_valuation(inits, 100, opportunity_rate=25.0)
    >>> t[["value_model", "hours", "value_market_value_eur", "value_replacement_cost_eur"]]
      value_model   hours  value_market_value_eur  value_replacement_cost_eur
    0      hybrid   500.0                 10000.0                      7200.0
    1      social  1000.0                 20000.0                     14400.0
    2         all  1500.0                 30000.0                     21600.0
    """
    if hours_per_volunteer < 0:
        raise ValueError("hours_per_volunteer must be >= 0")
    d = initiatives
    if active_only and "closed_on" in d.columns:
        d = d[d["closed_on"].isna()]
    d = d[["initiative_id", by, "volunteers"]].copy()
    d["volunteers"] = pd.to_numeric(d["volunteers"], errors="coerce").astype(float)
    d["hours"] = d["volunteers"] * float(hours_per_volunteer)
    rates = {"market_value": None, "replacement_cost": None, "opportunity_cost": opportunity_rate}
    for method, rate in rates.items():
        d[f"value_{method}_eur"] = volunteer_value(d["hours"].fillna(0.0), method=method, rate=rate)
    value_cols = [f"value_{m}_eur" for m in rates]
    g = (
        d.groupby(by, observed=True)
        .agg(
            n=("initiative_id", "nunique"),
            volunteers=("volunteers", "sum"),
            hours=("hours", "sum"),
            **{c: (c, "sum") for c in value_cols},
        )
        .reset_index()
    )
    g[by] = g[by].astype(str)
    total = pd.DataFrame(
        [
            {
                by: "all",
                "n": d["initiative_id"].nunique(),
                "volunteers": d["volunteers"].sum(),
                "hours": d["hours"].sum(),
                **{c: d[c].sum() for c in value_cols},
            }
        ]
    )
    out = pd.concat([g.sort_values(by), total], ignore_index=True)
    return out


def volunteer_rates_table(opportunity_rate: float) -> pd.DataFrame:
    """The hourly rate used per method, with its source (the declared rate for opportunity cost).

    ``method`` is the key of :data:`maexlab.impact.VOLUNTEER_RATES` (``market_value``,
    ``replacement_cost``, ``opportunity_cost``); ``sourced`` is False for the declared rate.

    Examples
    --------
    >>> volunteer_rates_table(25.0)["rate_eur_per_hour"].tolist()
    [20.0, 14.4, 25.0]
    """
    rows = []
    for method, (rate, source) in VOLUNTEER_RATES.items():
        if rate is None:
            rate, source = opportunity_rate, f"ASSUMPTION declared in this report. {source}"
        rows.append((method, float(rate), source))
    out = pd.DataFrame(rows, columns=["method", "rate_eur_per_hour", "source"])
    out["sourced"] = ~out["source"].str.startswith("ASSUMPTION")
    return out


#: The rows of :func:`social_return_example`: item key and how its value is shown.
SOCIAL_RETURN_ITEMS: tuple[tuple[str, str], ...] = (
    ("contract_value", "money"),
    ("share", "percent"),
    ("obligation", "money"),
    ("se_contract_value", "money"),
    ("credited", "money"),
    ("share_fulfilled", "percent"),
    ("remaining", "money"),
)


def social_return_example(
    contract_value: float, share: float, se_contract_value: float, credit_rate: float = 1.0, threshold: float = 250_000
) -> pd.DataFrame:
    """Obligation of a declared contract and its fulfilment by a social-enterprise subcontract.

    Returns ``item, kind, value``: the items of :data:`SOCIAL_RETURN_ITEMS` (contract value,
    social return share, obligation, subcontract, credited, share fulfilled, remaining) and
    whether each is money or a share. Below ``threshold`` there is no obligation and the
    share fulfilled is NaN.

    Examples
    --------
    >>> social_return_example(1_000_000, 0.05, 30_000)["value"].tolist()
    [1000000.0, 0.05, 50000.0, 30000.0, 30000.0, 0.6, 20000.0]
    """
    obligation = social_return_obligation(contract_value, share=share, threshold=threshold)
    f = social_return_fulfilment(obligation, se_contract_value, credit_rate=credit_rate)
    values = (float(contract_value), float(share), f.obligation, float(se_contract_value), f.fulfilled, f.share, f.remaining)
    return pd.DataFrame(
        [(item, kind, float(v)) for (item, kind), v in zip(SOCIAL_RETURN_ITEMS, values, strict=True)],
        columns=["item", "kind", "value"],
    )
