"""Figures of the Cox models: the hazard-ratio forest plot (the survival curves live beside their estimators).

>>> import pandas as pd
>>> t = pd.DataFrame({"covariate": ["hybrid"], "hazard_ratio": [0.8], "hr_low": [0.6], "hr_high": [1.1]})
>>> fig = plot_hazard_ratios(t, language="en")
>>> [x.get_text() for x in fig.axes[0].get_yticklabels()]
['hybrid value model (vs social)']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maexlab.reporting.i18n import messages

__all__ = ["HR_TICKS", "PHASE_COLOURS", "plot_hazard_ratios", "plot_phase_paths"]

#: Candidate ticks of the log hazard-ratio axis, written as plain numbers (0.25, 0.5, 1, 2, 4).
HR_TICKS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 8.0, 16.0)


def plot_hazard_ratios(table: pd.DataFrame, language: str = "en", title_key: str = "survival.plot.hr_title"):
    """Forest plot of hazard ratios with 95% intervals on a log axis, human covariate labels.

    ``table`` has ``covariate, hazard_ratio, hr_low, hr_high`` (a :func:`fit_cox_tv` table,
    suppressed rows removed). Ticks are plain numbers in the report's locale (0,5 · 1 · 2), not
    powers of ten; labels come from ``survival.covariates.<name>``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    m = messages(language)
    shown = table.dropna(subset=["hazard_ratio", "hr_low", "hr_high"]).reset_index(drop=True)
    labels = [m.text(f"survival.covariates.{c}") if m.has(f"survival.covariates.{c}") else str(c) for c in shown["covariate"]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.8))
    y = np.arange(len(shown))[::-1]
    hr = shown["hazard_ratio"].to_numpy(float)
    err = [hr - shown["hr_low"].to_numpy(float), shown["hr_high"].to_numpy(float) - hr]
    ax.errorbar(hr, y, xerr=err, fmt="o", color="#333333", capsize=3)
    ax.axvline(1, color="grey", ls="--")
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    lo = float(min(shown["hr_low"].min(), 1.0)) if len(shown) else 0.5
    hi = float(max(shown["hr_high"].max(), 1.0)) if len(shown) else 2.0
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ticks = [t for t in HR_TICKS if lo / 1.15 <= t <= hi * 1.15] or [1.0]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: m.value(v, "number")))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(m.text("survival.plot.hr_axis"))
    ax.set_title(m.text(title_key))
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


#: Line colours of the phases in the phase-path figure.
PHASE_COLOURS = {"start": "#9e9e9e", "growth": "#2e7d32", "mature": "#1565c0", "closed": "#c62828"}


def plot_phase_paths(curves: pd.DataFrame, s_time: float, language: str = "en"):
    """P(in each phase at t | in start at s) against years since s, one line per phase.

    ``curves`` has ``years, to_phase, probability`` (the ``from_phase == "start"`` rows of
    :func:`~maexlab.survival.transitions.transition_probabilities`, phases never recorded removed).

    >>> c = pd.DataFrame({"years": [2.0, 2.0], "to_phase": ["start", "growth"], "probability": [0.6, 0.4]})
    >>> len(plot_phase_paths(c, 1.0).axes[0].lines)
    2
    """
    import matplotlib.pyplot as plt

    from maexlab.reporting.plots import terms

    m = messages(language)
    fig, ax = plt.subplots(figsize=(8, 4))
    phases = [p for p in PHASE_COLOURS if p in set(curves["to_phase"])]
    for phase, label in zip(phases, terms(phases, language), strict=True):
        c = curves[curves["to_phase"] == phase].sort_values("years")
        ax.step(c["years"] - s_time, c["probability"], where="post", color=PHASE_COLOURS[phase], label=label)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: m.value(v, "percent"))
    ax.set_xlabel(m.text("survival.paths.plot_axis", years=s_time))
    ax.set_ylabel(m.text("survival.plot.probability_in_state"))
    ax.set_title(m.text("survival.paths.plot_title"))
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
