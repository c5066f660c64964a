"""Thin helpers for notebook 04 (impact value, SROI, volunteer time, MAEX ratios).

The metrics themselves live in :mod:`maexlab.impact` and :mod:`maexlab.impact.sroi`; this module
only shapes them into the group tables and figures the notebook publishes: impact value by
year and group (with the per-initiative median and the count ``n`` that small-cell
suppression needs), an SROI value map built from the data for a declared group, declared
sensitivity assumptions, volunteer time valued three ways, and ratio summaries by value model.

Every group table has a count column ``n`` = number of distinct initiatives in the group, so
:meth:`maexlab.reporting.report.Report.table` can suppress small groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from maexlab.data.phases import phase_on
from maexlab.data.schema import PHASES, VALUE_MODELS
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
from maexlab.impact.sroi import DEFAULT_DISCOUNT_RATE, MonteCarloResult

__all__ = [
    "SROI_ASSUMPTIONS",
    "Assumption",
    "SROICase",
    "assumptions_markdown",
    "assumptions_table",
    "bootstrap_median_ci",
    "build_sroi_case",
    "impact_value_table",
    "latest_full_year",
    "mc_distributions",
    "median_impact_value_by",
    "phase_at_year_end",
    "plot_impact_by",
    "plot_monte_carlo",
    "plot_phase_heatmap",
    "plot_waardenweb",
    "proxies_for",
    "ratio_medians",
    "social_return_example",
    "tornado_ranges",
    "unit_costs_by",
    "volunteer_rates_table",
    "volunteer_valuation",
]

_METHOD_LABELS = {
    "market_value": "market value",
    "replacement_cost": "replacement cost",
    "opportunity_cost": "opportunity cost",
}


# --- data plumbing -------------------------------------------------------------------------


def proxies_for(data) -> tuple[pd.DataFrame, str]:
    """The euro proxies to use: the dataset's own ``proxies`` table, else the sourced reference file.

    Returns the table and a sentence saying which one was used.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> px, where = proxies_for(SimpleNamespace(proxies=None))
    >>> "people_to_work" in set(px["indicator"]), where.startswith("reference")
    (True, True)
    """
    own = getattr(data, "proxies", None)
    if own is not None and len(own) > 0:
        return own, "the dataset's own proxies table"
    return load_reference_proxies(), "reference proxies (data/reference/proxies.csv), because the dataset has no proxies table"


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


# --- impact value by group -----------------------------------------------------------------


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
    rows = impact
    if "phase" in dims and "phase" not in impact.columns:
        if phases is None:
            raise ValueError("grouping by phase needs the phases table (phase at the year's end)")
        rows = impact.assign(phase=phase_at_year_end(phases, impact))
    totals = impact_value_by(rows, proxies, initiatives, by=dims)
    valued = impact_value(rows, proxies)
    need = [d for d in dims if d not in valued.columns]
    if need:
        valued = valued.merge(initiatives[["initiative_id", *need]], on="initiative_id", how="left", validate="m:1")
    keys = ["year", *dims]
    per_init = valued.groupby([*keys, "initiative_id"], dropna=False, observed=True)["impact_value_eur"].sum().reset_index()
    stats = (
        per_init.groupby(keys, dropna=False, observed=True)["impact_value_eur"]
        .agg(mean_per_initiative_eur="mean", median_per_initiative_eur="median")
        .reset_index()
    )
    out = totals.merge(stats, on=keys, how="left", validate="1:1").rename(columns={"n_initiatives": "n"})
    out = out[[*keys, "n", "impact_value_eur", "mean_per_initiative_eur", "median_per_initiative_eur"]]
    return out.sort_values(keys).reset_index(drop=True)


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a published table that are not suppressed."""
    out = table
    if "suppressed" in out.columns:
        out = out[~out["suppressed"].astype(bool)]
    return out.dropna(subset=["n"])


def plot_impact_by(table: pd.DataFrame, dim: str, year: int, label: str | None = None):
    """Two bar panels for one year: total impact value (EUR m) and median per initiative (EUR k).

    ``table`` is the *published* (suppressed) output of :func:`impact_value_table`;
    suppressed groups are left out and the title says so.
    """
    import matplotlib.pyplot as plt

    t = _shown(table[table["year"] == year]).copy()
    t[dim] = t[dim].astype(str)
    t = t.sort_values("impact_value_eur")
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.45 * max(len(t), 3) + 1.8), sharey=True)
    axes[0].barh(t[dim], t["impact_value_eur"] / 1e6, color="#4c72b0")
    axes[0].set_xlabel("total impact value (EUR million per year)")
    axes[0].set_ylabel(label or dim)
    axes[1].barh(t[dim], t["median_per_initiative_eur"] / 1e3, color="#55a868")
    axes[1].set_xlabel("median impact value per initiative (EUR thousand per year)")
    n_hidden = int((table["year"] == year).sum() - len(t))
    note = f"; {n_hidden} group(s) below the minimum size not shown" if n_hidden else ""
    fig.suptitle(f"Gross impact value (quantity x euro proxy) by {label or dim}, {year}{note}", fontweight="bold")
    fig.tight_layout()
    return fig


def plot_phase_heatmap(table: pd.DataFrame, year: int, value: str = "median_per_initiative_eur"):
    """Heatmap of value model (rows) x phase at year end (columns) for one year, in EUR thousand.

    ``table`` is the published output of :func:`impact_value_table` with ``by=["value_model",
    "phase"]``; suppressed cells are blank (grey) and annotated "<min".
    """
    import matplotlib.pyplot as plt

    t = table[table["year"] == year]
    phases = [p for p in (*PHASES, "unknown") if p in set(t["phase"])]
    models = [m for m in VALUE_MODELS if m in set(t["value_model"])]
    grid = np.full((len(models), len(phases)), np.nan)
    for r in t.itertuples(index=False):
        if pd.notna(r.n) and r.value_model in models:
            grid[models.index(r.value_model), phases.index(r.phase)] = getattr(r, value) / 1e3
    fig, ax = plt.subplots(figsize=(1.5 * len(phases) + 3, 1.0 * len(models) + 2))
    ax.set_facecolor("#dddddd")
    ax.grid(False)
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(phases)), phases)
    ax.set_yticks(range(len(models)), models)
    present = {(r.value_model, r.phase) for r in t.itertuples(index=False)}
    lo, hi = (np.nanmin(grid), np.nanmax(grid)) if np.isfinite(grid).any() else (0.0, 1.0)
    for i, m in enumerate(models):
        for j, p in enumerate(phases):
            if np.isfinite(grid[i, j]):
                light = hi > lo and (grid[i, j] - lo) / (hi - lo) > 0.6
                ax.text(j, i, f"{grid[i, j]:,.0f}", ha="center", va="center", color="black" if light else "white", fontsize=9)
            elif (m, p) in present:
                ax.text(j, i, "<min", ha="center", va="center", color="black", fontsize=8)
    ax.set_xlabel("phase at the end of the year")
    ax.set_ylabel("value model")
    what = "median" if value.startswith("median") else ("mean" if value.startswith("mean") else "total")
    ax.set_title(f"{what.capitalize()} impact value per initiative (EUR thousand), {year}")
    fig.colorbar(im, ax=ax, label="EUR thousand per year")
    fig.tight_layout()
    return fig


# --- SROI worked example -------------------------------------------------------------------


@dataclass(frozen=True)
class Assumption:
    """One declared SROI parameter: base value, sensitivity range and where it comes from.

    ``source`` starts with ``"ASSUMPTION"`` when no source backs the number.
    """

    parameter: str
    value: float
    low: float
    high: float
    source: str
    in_monte_carlo: bool = True


#: Declared assumptions for the work-participation SROI example. None of the
#: deadweight/attribution/displacement/drop-off/duration values has a source in the
#: project's domain notes: they are marked ASSUMPTION and varied widely.
SROI_ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "deadweight", 0.30, 0.10, 0.50, "ASSUMPTION: share of people who would have found work anyway without the initiative"
    ),
    Assumption("attribution", 0.20, 0.00, 0.40, "ASSUMPTION: share of the outcome owed to others (municipality, UWV, employers)"),
    Assumption("displacement", 0.10, 0.00, 0.25, "ASSUMPTION: share of the jobs that displace other job seekers"),
    Assumption("drop_off", 0.25, 0.00, 0.50, "ASSUMPTION: yearly share of people leaving work again after year 1"),
    Assumption(
        "duration_years",
        3,
        1,
        5,
        "ASSUMPTION: years the benefit saving lasts (integer; one-at-a-time only)",
        in_monte_carlo=False,
    ),
    Assumption(
        "proxy_multiplier",
        1.0,
        0.5,
        1.5,
        "Proxy from the proxies table (its source says 'indicative, order of magnitude'); the +/-50% range is an ASSUMPTION",
    ),
    Assumption(
        "discount_rate",
        DEFAULT_DISCOUNT_RATE,
        0.0,
        0.07,
        "3.5%: HM Treasury Green Book social time preference rate, referenced by the SROI guide "
        "(Social Value UK, 2012); the 0-7% range is an ASSUMPTION",
    ),
)


def assumptions_table(assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS) -> pd.DataFrame:
    """The declared assumptions as a table (``parameter, value, low, high, source, monte_carlo``).

    Examples
    --------
    >>> assumptions_table()["parameter"].tolist()[:2]
    ['deadweight', 'attribution']
    """
    return pd.DataFrame(
        [(a.parameter, a.value, a.low, a.high, a.source, a.in_monte_carlo) for a in assumptions],
        columns=["parameter", "value", "low", "high", "source", "monte_carlo"],
    )


def assumptions_markdown(assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS) -> str:
    """The declared assumptions as a Markdown table for the notebook text.

    Examples
    --------
    >>> print(assumptions_markdown([Assumption("deadweight", 0.3, 0.1, 0.5, "ASSUMPTION")]))
    | parameter | base value | range (low-high) | Monte Carlo | source |
    |---|---|---|---|---|
    | deadweight | 0.3 | 0.1-0.5 | triangular(0.1, 0.3, 0.5) | ASSUMPTION |
    """
    lines = ["| parameter | base value | range (low-high) | Monte Carlo | source |", "|---|---|---|---|---|"]
    for a in assumptions:
        mc = f"triangular({a.low:g}, {a.value:g}, {a.high:g})" if a.in_monte_carlo else "fixed at base"
        lines.append(f"| {a.parameter} | {a.value:g} | {a.low:g}-{a.high:g} | {mc} | {a.source} |")
    return "\n".join(lines)


def _assumption(assumptions: Sequence[Assumption], name: str, default: float) -> float:
    for a in assumptions:
        if a.parameter == name:
            return a.value
    return default


def tornado_ranges(assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS) -> dict[str, tuple[float, float]]:
    """``{parameter: (low, high)}`` for :func:`maexlab.impact.sroi.sroi_one_at_a_time`.

    Examples
    --------
    >>> tornado_ranges()["deadweight"]
    (0.1, 0.5)
    """
    return {a.parameter: (a.low, a.high) for a in assumptions}


def mc_distributions(assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS) -> dict[str, tuple]:
    """``{parameter: ("triangular", low, mode, high)}`` for :func:`maexlab.impact.sroi.sroi_monte_carlo`.

    Integer parameters (``in_monte_carlo=False``) stay at their base value.

    Examples
    --------
    >>> mc_distributions()["attribution"]
    ('triangular', 0.0, 0.2, 0.4)
    """
    return {a.parameter: ("triangular", a.low, a.value, a.high) for a in assumptions if a.in_monte_carlo}


@dataclass(frozen=True)
class SROICase:
    """An SROI value map built from the data for one declared group.

    Attributes
    ----------
    year, theme, indicator : the declared group and outcome.
    initiative_ids : initiatives in the group (report ``indicator`` in ``year`` and have
        financials that year).
    n : number of initiatives in the group.
    quantity : summed indicator quantity of the group in ``year``.
    financial_proxy, proxy_source : from the proxies table.
    inputs : the group's total costs in ``year`` (financials), EUR.
    value_map : one-row value map (DataFrame) for :func:`maexlab.impact.sroi.sroi`.
    discount_rate : from the assumptions.
    """

    year: int
    theme: str
    indicator: str
    initiative_ids: tuple[str, ...]
    n: int
    quantity: float
    financial_proxy: float
    proxy_source: str
    inputs: float
    value_map: pd.DataFrame
    discount_rate: float


def build_sroi_case(
    impact: pd.DataFrame,
    proxies: pd.DataFrame,
    initiatives: pd.DataFrame,
    financials: pd.DataFrame,
    year: int,
    theme: str = "work_participation",
    indicator: str = "people_to_work",
    stakeholder: str = "participants moved into paid work",
    outcome: str = "into paid work",
    assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS,
) -> SROICase:
    """Build the value map of a declared group from the data.

    Group: initiatives with ``theme`` that report ``indicator`` in ``year`` and have a
    financials row that year (so outcomes and inputs cover the same initiatives).
    ``quantity`` = their summed indicator quantity that year; ``financial_proxy`` = the
    proxy of ``indicator``; ``inputs`` = their summed ``costs`` that year (all costs, so
    outcomes other than ``indicator`` are not valued: a conservative ratio). Deadweight,
    attribution, displacement, drop-off, duration and discount rate come from
    ``assumptions``.

    Raises
    ------
    ValueError
        If the group is empty or its costs are 0.

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A", "B", "C"], "year": [2025] * 3,
    ...     "indicator": ["people_to_work"] * 3, "quantity": [2.0, 3.0, 9.0]})
    >>> proxies = pd.DataFrame({"indicator": ["people_to_work"], "unit": ["person"],
    ...     "euro_per_unit": [15000.0], "source": ["s"]})
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B", "C"],
    ...     "theme": ["work_participation", "work_participation", "care_wellbeing"]})
    >>> fin = pd.DataFrame({"initiative_id": ["A", "B", "C"], "year": [2025] * 3, "costs": [10.0, 20.0, 5.0]})
    >>> c = build_sroi_case(impact, proxies, inits, fin, 2025)
    >>> c.n, c.quantity, c.inputs, float(c.value_map.loc[0, "deadweight"])
    (2, 5.0, 30.0, 0.3)
    """
    valued = impact_value(impact[(impact["year"] == year) & (impact["indicator"] == indicator)], proxies)
    members = set(initiatives.loc[initiatives["theme"] == theme, "initiative_id"])
    fin = financials[(financials["year"] == year) & financials["initiative_id"].isin(members)]
    ids = sorted(set(valued["initiative_id"]) & set(fin["initiative_id"]))
    if not ids:
        raise ValueError(f"no initiative with theme {theme!r} reports {indicator!r} and financials in {year}")
    quantity = float(pd.to_numeric(valued.loc[valued["initiative_id"].isin(ids), "quantity"]).sum())
    inputs = float(pd.to_numeric(fin.loc[fin["initiative_id"].isin(ids), "costs"]).sum())
    if not inputs > 0:
        raise ValueError(f"the group's costs in {year} are {inputs:g}; SROI needs inputs > 0")
    px = proxies.set_index("indicator")
    proxy = float(px.loc[indicator, "euro_per_unit"])
    vm = pd.DataFrame(
        [
            {
                "stakeholder": stakeholder,
                "outcome": outcome,
                "indicator": indicator,
                "quantity": quantity,
                "financial_proxy": proxy,
                "duration_years": int(_assumption(assumptions, "duration_years", 1)),
                "deadweight": _assumption(assumptions, "deadweight", 0.0),
                "attribution": _assumption(assumptions, "attribution", 0.0),
                "displacement": _assumption(assumptions, "displacement", 0.0),
                "drop_off": _assumption(assumptions, "drop_off", 0.0),
                "start_year": 0,
            }
        ]
    )
    mult = _assumption(assumptions, "proxy_multiplier", 1.0)
    vm["financial_proxy"] = vm["financial_proxy"] * mult
    return SROICase(
        year=int(year),
        theme=theme,
        indicator=indicator,
        initiative_ids=tuple(ids),
        n=len(ids),
        quantity=quantity,
        financial_proxy=proxy,
        proxy_source=str(px.loc[indicator, "source"]),
        inputs=inputs,
        value_map=vm,
        discount_rate=_assumption(assumptions, "discount_rate", DEFAULT_DISCOUNT_RATE),
    )


def plot_monte_carlo(mc: MonteCarloResult, bins: int = 60):
    """Histogram of the simulated SROI ratios with median, 90% interval and break-even lines."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.hist(mc.ratios, bins=bins, color="#8172b3", alpha=0.85)
    ax.axvline(mc.median, color="black", lw=1.5, label=f"median {mc.median:.2f}")
    ax.axvline(mc.q05, color="black", ls=":", lw=1.2, label=f"90% interval {mc.q05:.2f}-{mc.q95:.2f}")
    ax.axvline(mc.q95, color="black", ls=":", lw=1.2)
    ax.axvline(1.0, color="#c44e52", ls="--", lw=1.2, label=f"break-even 1.0 (P(ratio > 1) = {mc.p_ratio_above_1:.3f})")
    ax.set_xlabel("SROI ratio (present value of outcomes / inputs)")
    ax.set_ylabel(f"draws (of {mc.n:,})")
    ax.set_title(f"Monte Carlo sensitivity of the SROI ratio (seed {mc.seed})")
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


# --- volunteer time ------------------------------------------------------------------------


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

    Examples
    --------
    >>> volunteer_rates_table(25.0)["rate_eur_per_hour"].tolist()
    [20.0, 14.4, 25.0]
    """
    rows = []
    for method, (rate, source) in VOLUNTEER_RATES.items():
        if rate is None:
            rate, source = opportunity_rate, f"ASSUMPTION declared in this notebook. {source}"
        rows.append((_METHOD_LABELS.get(method, method), float(rate), source))
    return pd.DataFrame(rows, columns=["method", "rate_eur_per_hour", "source"])


# --- ratios by value model -----------------------------------------------------------------


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


def plot_waardenweb(ratios: pd.DataFrame, initiatives: pd.DataFrame, min_group_size: int = 10):
    """MAEX's two "waardenweb" axes by value model: group medians with interquartile ranges.

    x: paid staff FTE per volunteer (symmetric-log axis, so 0 = no paid staff is shown);
    y: subsidies per euro of earned income (log axis). Only group summaries are drawn, never
    single initiatives, so a published figure discloses no group below ``min_group_size``;
    value models with fewer plottable initiatives are left out and named in the title.
    """
    import matplotlib.pyplot as plt

    from maexlab.reporting.plots import PALETTE

    d = ratios.merge(initiatives[["initiative_id", "value_model"]], on="initiative_id", how="left", validate="1:1")
    d = d.dropna(subset=["staff_per_volunteer", "subsidy_per_earned_income"])
    d = d[d["subsidy_per_earned_income"] > 0]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    left_out = []
    for vm in VALUE_MODELS:
        g = d[d["value_model"] == vm]
        if len(g) < min_group_size:
            if len(g):
                left_out.append(vm)
            continue
        x, y = g["staff_per_volunteer"], g["subsidy_per_earned_income"]
        qx, qy = x.quantile([0.25, 0.5, 0.75]).to_numpy(), y.quantile([0.25, 0.5, 0.75]).to_numpy()
        ax.errorbar(
            [qx[1]],
            [qy[1]],
            xerr=[[qx[1] - qx[0]], [qx[2] - qx[1]]],
            yerr=[[qy[1] - qy[0]], [qy[2] - qy[1]]],
            fmt="X",
            markersize=12,
            color=PALETTE[vm],
            markeredgecolor="black",
            capsize=4,
            lw=1.5,
            label=f"{vm}: median and interquartile range (n={len(g):,})",
        )
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="subsidy = earned income")
    ax.set_xlabel("paid staff per volunteer (FTE per person; symlog, 0 = no paid staff)")
    ax.set_ylabel("subsidies per euro of earned income (log)")
    note = f" ({', '.join(left_out)} left out: below minimum group size)" if left_out else ""
    ax.set_title("The MAEX 'waardenweb' axes by value model" + note)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize="small", frameon=False, ncol=2)
    fig.tight_layout()
    return fig


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


# --- social return -------------------------------------------------------------------------


def social_return_example(
    contract_value: float, share: float, se_contract_value: float, credit_rate: float = 1.0, threshold: float = 250_000
) -> pd.DataFrame:
    """Obligation of a declared contract and its fulfilment by a social-enterprise subcontract.

    Examples
    --------
    >>> social_return_example(1_000_000, 0.05, 30_000)["value"].tolist()
    [1000000.0, 0.05, 50000.0, 30000.0, 30000.0, 0.6, 20000.0]
    """
    obligation = social_return_obligation(contract_value, share=share, threshold=threshold)
    f = social_return_fulfilment(obligation, se_contract_value, credit_rate=credit_rate)
    rows = [
        ("contract value (declared), EUR", float(contract_value)),
        ("social return share (declared)", float(share)),
        ("obligation, EUR", f.obligation),
        ("social-enterprise subcontract (declared), EUR", float(se_contract_value)),
        ("credited towards the obligation, EUR", f.fulfilled),
        ("share of the obligation fulfilled", f.share),
        ("remaining obligation, EUR", f.remaining),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
