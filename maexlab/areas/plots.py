"""Figures of the municipality profile: funnel plots and a caterpillar plot of raw against shrunk estimates.

Every label comes from the catalogue in the report's language.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker

from maexlab.areas.funnel import LEVELS, binomial_limits, normal_limits
from maexlab.reporting.i18n import messages

__all__ = ["plot_caterpillar", "plot_funnel"]

PLACE_COLOUR = "#d95f02"
OTHER_COLOUR = "#4c72b0"


def plot_funnel(
    funnel: pd.DataFrame, info: dict, highlight: str | None, language: str, measure_label: str, kind: str = "percent"
):
    """Rate against size for every shown place, the national line and the 95% and 99.8% limits."""
    m = messages(language)
    fig, ax = plt.subplots(figsize=(8.5, 5))
    units = funnel["units"].to_numpy(float)
    grid = np.unique(np.round(np.geomspace(max(units.min() * 0.8, 1.0), units.max() * 1.2, 200))).astype(float)
    theta = float(info["national"])
    for level, style in zip(LEVELS, ("--", ":"), strict=True):
        if info["kind"] == "binomial":
            lo, hi = binomial_limits(theta, grid, level)
        else:
            lo, hi = normal_limits(theta, np.sqrt(info["spread"] / grid), level, info["tau2"])
            if kind == "percent":  # a share cannot leave [0, 1], whatever the normal approximation says
                lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
        label = m.text("areas.plot.limit", level=level)
        ax.plot(grid, lo, style, color="grey", lw=1, label=label)
        ax.plot(grid, hi, style, color="grey", lw=1)
    ax.axhline(theta, color="black", lw=1, label=m.text("areas.plot.national", value=m.value(theta, kind)))
    others = funnel[funnel["area"] != highlight]
    ax.scatter(others["units"], others["raw"], s=18, color=OTHER_COLOUR, alpha=0.8, label=m.text("areas.plot.places"))
    place = funnel[funnel["area"] == highlight]
    if len(place):
        ax.scatter(
            place["units"],
            place["raw"],
            s=70,
            color=PLACE_COLOUR,
            edgecolor="black",
            zorder=5,
            label=str(place["area_name"].iloc[0]),
        )
    ax.set_xscale("log")
    # plain numbers on the log axis (10, 20, 50, 100), not powers of ten
    plain = ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_xlabel(
        m.text("areas.plot.size_applications" if info["measure"] in ("approval", "coverage") else "areas.plot.size_initiatives")
    )
    ax.set_ylabel(measure_label)
    ax.set_title(m.text("areas.plot.funnel_title", measure=measure_label))
    ax.legend(fontsize=8, loc="lower right")
    note = m.text("areas.plot.funnel_note_od" if info.get("overdispersed") else "areas.plot.funnel_note", places=len(funnel))
    fig.text(0.01, 0.005, note, fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_caterpillar(
    table: pd.DataFrame, national: float, highlight: str | None, language: str, measure_label: str, kind: str = "percent"
):
    """Each shown place's raw estimate and its shrunk estimate with 95% interval, sorted by the shrunk value."""
    m = messages(language)
    t = table.sort_values("shrunk").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8.5, max(3.5, 0.07 * len(t) + 1.5)))
    y = np.arange(len(t))
    colours = [PLACE_COLOUR if a == highlight else OTHER_COLOUR for a in t["area"]]
    ax.hlines(y, t["shrunk_lo"], t["shrunk_hi"], color=colours, lw=1.5)
    ax.scatter(t["shrunk"], y, color=colours, s=16, zorder=3, label=m.text("areas.plot.shrunk"))
    ax.scatter(t["raw"], y, facecolor="none", edgecolor="grey", s=16, zorder=2, label=m.text("areas.plot.raw"))
    ax.axvline(national, color="black", lw=1, label=m.text("areas.plot.national", value=m.value(national, kind)))
    show_names = len(t) <= 40
    ax.set_yticks(y if show_names else [])
    if show_names:
        ax.set_yticklabels(t["area_name"], fontsize=7)
    ax.set_xlabel(measure_label)
    ax.set_title(m.text("areas.plot.caterpillar_title", measure=measure_label))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
