"""One plot theme for every report, and small helpers for labelled figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from maexlab.reporting.i18n import DEFAULT_LANGUAGE, messages

PALETTE = {"social": "#1b9e77", "hybrid": "#d95f02", "commercial": "#7570b3"}


def set_theme() -> None:
    """Apply the maexlab theme: white grid, readable fonts, colour-blind safe palette."""
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    plt.rcParams.update({"figure.figsize": (8, 4.5), "figure.dpi": 100, "axes.titleweight": "bold", "savefig.dpi": 100})


def synthetic_caption(ax, synthetic: bool, language: str = DEFAULT_LANGUAGE) -> None:
    """Stamp 'synthetic data' on a figure so it cannot be mistaken for real findings.

    The stamp sits in the top-right corner above the axes, clear of axis labels and footnotes.
    """
    if synthetic:
        ax.figure.text(
            0.995, 0.995, messages(language).text("plots.synthetic_stamp"), ha="right", va="top", fontsize=7, color="#b22222"
        )


def terms(values, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """Vocabulary labels for tick labels and legends (``government_subsidy`` -> "overheidssubsidie")."""
    m = messages(language)
    return [m.term(v) for v in values]
