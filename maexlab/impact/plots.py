"""Figures of notebook 04: impact value by group, value model x phase, the SROI sensitivity, the waardenweb.

Every figure takes the report ``language``: titles, axis labels, legends and tick labels come
from the message catalogue (``impact.plots.*``, vocabulary terms, SDG names), and numbers are
formatted for the locale. Figures draw *published* (suppressed) tables, and only group
summaries, so a figure never discloses a group below the minimum size.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> t = pd.DataFrame({"year": [2024], "theme": ["care_wellbeing"], "n": [12], "impact_value_eur": [2.0e6],
...                   "median_per_initiative_eur": [9.0e4]})
>>> fig = plot_impact_by(t, "theme", 2024, language="en")
>>> [x.get_text() for x in fig.axes[0].get_yticklabels()]
['care and wellbeing']
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from babel.numbers import format_decimal
from matplotlib.ticker import FuncFormatter

from maexlab.data.schema import PHASES, VALUE_MODELS
from maexlab.impact.sroi import MonteCarloResult
from maexlab.impact.tables import shown_rows
from maexlab.reporting.i18n import DEFAULT_LANGUAGE, messages
from maexlab.reporting.plots import PALETTE, terms

__all__ = [
    "group_labels",
    "plot_impact_by",
    "plot_monte_carlo",
    "plot_phase_heatmap",
    "plot_tornado",
    "plot_waardenweb",
]

#: One colour per quantity across the figures of notebook 04 (colour-blind safe, distinct).
TOTAL_COLOUR, MEDIAN_COLOUR, LOW_COLOUR, HIGH_COLOUR, DRAWS_COLOUR = "#0072b2", "#009e73", "#56b4e9", "#e69f00", "#8172b3"


def group_labels(values: Iterable, dim: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """Human labels of group values: vocabulary terms, or "SDG 8 · decent work" for SDGs.

    Examples
    --------
    >>> group_labels([8], "sdg", "en")
    ['SDG 8 · decent work and economic growth']
    >>> group_labels(["social"], "value_model", "nl")
    ['sociaal']
    """
    m = messages(language)
    if dim == "sdg":
        return [m.text("impact.sdg_label", sdg=int(v), name=m.text(f"impact.sdg.{int(v)}")) for v in values]
    return terms(values, language)


def plot_impact_by(table: pd.DataFrame, dim: str, year: int, language: str = DEFAULT_LANGUAGE):
    """Two bar panels for one year: total impact value (EUR million) and median per initiative (EUR thousand).

    ``table`` is the *published* (suppressed) output of
    :func:`maexlab.impact.tables.impact_value_table`; suppressed groups are left out and the
    title says how many. Each panel has its own short title, so the axis labels of the two
    panels cannot run into each other.
    """
    import matplotlib.pyplot as plt

    m = messages(language)
    t = shown_rows(table[table["year"] == year]).sort_values("impact_value_eur")
    labels = group_labels(t[dim], dim, language)
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.42 * max(len(t), 3) + 1.9), sharey=True)
    axes[0].barh(labels, t["impact_value_eur"] / 1e6, color=TOTAL_COLOUR)
    axes[0].set_title(m.text("impact.plots.total_panel"), fontsize=11)
    axes[0].set_xlabel(m.text("impact.plots.million_per_year"))
    axes[1].barh(labels, t["median_per_initiative_eur"] / 1e3, color=MEDIAN_COLOUR)
    axes[1].set_title(m.text("impact.plots.median_panel"), fontsize=11)
    axes[1].set_xlabel(m.text("impact.plots.thousand_per_year"))
    hidden = int((table["year"] == year).sum() - len(t))
    title = m.text("impact.plots.by_title", dim=m.text(f"impact.dims.{dim}"), year=year)
    if hidden:
        title += "\n" + m.text("impact.plots.hidden_groups", n=hidden)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_phase_heatmap(table: pd.DataFrame, year: int, language: str = DEFAULT_LANGUAGE):
    """Heatmap of value model (rows) x phase at year end (columns): median per initiative, EUR thousand.

    ``table`` is the published output of :func:`~maexlab.impact.tables.impact_value_table` with
    ``by=["value_model", "phase"]``; suppressed cells are grey and marked with the suppression mark.
    """
    import matplotlib.pyplot as plt

    m = messages(language)
    t = table[table["year"] == year]
    phases = [p for p in (*PHASES, "unknown") if p in set(t["phase"])]
    models = [v for v in VALUE_MODELS if v in set(t["value_model"])]
    grid = np.full((len(models), len(phases)), np.nan)
    for r in t.itertuples(index=False):
        if pd.notna(r.n) and r.value_model in models:
            grid[models.index(r.value_model), phases.index(r.phase)] = r.median_per_initiative_eur / 1e3
    fig, ax = plt.subplots(figsize=(min(1.4 * len(phases) + 3.2, 9), 0.9 * len(models) + 2.2))
    ax.set_facecolor("#dddddd")
    ax.grid(False)
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(phases)), terms(phases, language))
    ax.set_yticks(range(len(models)), terms(models, language))
    present = {(r.value_model, r.phase) for r in t.itertuples(index=False)}
    finite = grid[np.isfinite(grid)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    mark = m.text("common.suppressed_mark")
    for i, model in enumerate(models):
        for j, phase in enumerate(phases):
            if np.isfinite(grid[i, j]):
                light = hi > lo and (grid[i, j] - lo) / (hi - lo) > 0.6
                ax.text(j, i, m.value(grid[i, j], "count"), ha="center", va="center", color="black" if light else "white")
            elif (model, phase) in present:
                ax.text(j, i, mark, ha="center", va="center", color="black", fontsize=14)
    ax.set_xlabel(m.text("impact.plots.phase_at_year_end"))
    ax.set_ylabel(m.text("columns.value_model"))
    ax.set_title(m.text("impact.plots.heatmap_title", year=year))
    fig.colorbar(im, ax=ax, label=m.text("impact.plots.thousand_per_year"))
    fig.tight_layout()
    return fig


def plot_tornado(tornado: pd.DataFrame, year: int, language: str = DEFAULT_LANGUAGE):
    """Tornado diagram of :func:`maexlab.impact.sroi.sroi_one_at_a_time` with human parameter labels.

    Each bar runs from the base ratio to the ratio at the parameter's low (light blue) and high
    (orange) value; the largest swing is on top; lines mark the base ratio and break-even (1).
    """
    import matplotlib.pyplot as plt

    m = messages(language)
    d = tornado.assign(_swing=(tornado["ratio_high"] - tornado["ratio_low"]).abs()).sort_values("_swing", kind="stable")
    base = float(d["base_ratio"].iloc[0])
    y = np.arange(len(d))
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(d) + 2.2))
    ax.barh(y, d["ratio_low"] - base, left=base, color=LOW_COLOUR, label=m.text("impact.plots.at_low"))
    ax.barh(y, d["ratio_high"] - base, left=base, color=HIGH_COLOUR, label=m.text("impact.plots.at_high"))
    ax.set_yticks(y, [_range_label(m, p, lo, hi) for p, lo, hi in zip(d["parameter"], d["low"], d["high"], strict=True)])
    ax.axvline(base, color="black", lw=1, label=m.text("impact.plots.base_ratio", ratio=base))
    ax.axvline(1.0, color="grey", ls="--", lw=1, label=m.text("impact.plots.break_even"))
    ax.set_xlabel(m.text("impact.plots.sroi_ratio"))
    ax.set_title(m.text("impact.plots.tornado_title", year=year))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def _range_label(m, parameter: str, low: float, high: float) -> str:
    kind = "count" if parameter == "duration_years" else ("percent1" if parameter == "discount_rate" else "percent")
    if parameter == "proxy_multiplier":
        kind = "number"
    return m.text(
        "impact.plots.range_label", name=m.text(f"impact.parameters.{parameter}"), lo=m.value(low, kind), hi=m.value(high, kind)
    )


def plot_monte_carlo(mc: MonteCarloResult, language: str = DEFAULT_LANGUAGE, bins: int = 60):
    """Histogram of the simulated SROI ratios with the median, the 90% interval and break-even."""
    import matplotlib.pyplot as plt

    m = messages(language)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.hist(mc.ratios, bins=bins, color=DRAWS_COLOUR, alpha=0.85)
    ax.axvline(mc.median, color="black", lw=1.5, label=m.text("impact.plots.mc_median", ratio=mc.median))
    ax.axvline(mc.q05, color="black", ls=":", lw=1.2, label=m.text("impact.plots.mc_interval", lo=mc.q05, hi=mc.q95))
    ax.axvline(mc.q95, color="black", ls=":", lw=1.2)
    ax.axvline(1.0, color="#d55e00", ls="--", lw=1.2, label=m.text("impact.plots.mc_break_even", p=mc.p_ratio_above_1))
    ax.set_xlabel(m.text("impact.plots.sroi_ratio"))
    ax.set_ylabel(m.text("impact.plots.draws", n=mc.n))
    ax.set_title(m.text("impact.plots.mc_title"))
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


def plot_waardenweb(ratios: pd.DataFrame, initiatives: pd.DataFrame, min_group_size: int = 10, language: str = DEFAULT_LANGUAGE):
    """MAEX's two "waardenweb" axes by value model: group medians with interquartile ranges.

    x: paid staff FTE per volunteer (symmetric-log axis, so 0 = no paid staff is shown);
    y: subsidies per euro of earned income (log axis). Only group summaries are drawn, never
    single initiatives; value models with fewer than ``min_group_size`` plottable initiatives
    are left out and named in the title. Returns None when no value model can be drawn.
    """
    import matplotlib.pyplot as plt

    m = messages(language)
    d = ratios.merge(initiatives[["initiative_id", "value_model"]], on="initiative_id", how="left", validate="1:1")
    d = d.dropna(subset=["staff_per_volunteer", "subsidy_per_earned_income"])
    d = d[d["subsidy_per_earned_income"] > 0]
    groups = {vm: d[d["value_model"] == vm] for vm in VALUE_MODELS}
    drawn = {vm: g for vm, g in groups.items() if len(g) >= min_group_size}
    if not drawn:
        return None
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for vm, g in drawn.items():
        qx = g["staff_per_volunteer"].quantile([0.25, 0.5, 0.75]).to_numpy()
        qy = g["subsidy_per_earned_income"].quantile([0.25, 0.5, 0.75]).to_numpy()
        ax.errorbar(
            [qx[1]], [qy[1]], xerr=[[qx[1] - qx[0]], [qx[2] - qx[1]]], yerr=[[qy[1] - qy[0]], [qy[2] - qy[1]]],
            fmt="X", markersize=12, color=PALETTE[vm], markeredgecolor="black", capsize=4, lw=1.5,
            label=m.text("impact.plots.waardenweb_group", group=vm, n=len(g)),
        )  # fmt: skip
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_yscale("log")
    # Plain locale numbers on both axes (0,01 · 0,1 · 1 · 10), not powers of ten.
    plain = FuncFormatter(lambda x, _: format_decimal(x, format="#,##0.###", locale=m.locale))
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.axhline(1.0, color="grey", ls="--", lw=1, label=m.text("impact.plots.subsidy_equals_income"))
    ax.set_xlabel(m.text("impact.plots.staff_per_volunteer"))
    ax.set_ylabel(m.text("impact.plots.subsidy_per_income"))
    left_out = [vm for vm, g in groups.items() if 0 < len(g) < min_group_size]
    title = m.text("impact.plots.waardenweb_title")
    if left_out:
        title += "\n" + m.text("impact.plots.left_out", groups=", ".join(terms(left_out, language)))
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize="small", frameon=False, ncol=2)
    fig.tight_layout()
    return fig
