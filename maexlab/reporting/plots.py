"""One plot theme for every report, and small helpers for labelled figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

PALETTE = {"social": "#1b9e77", "hybrid": "#d95f02", "commercial": "#7570b3"}


def set_theme() -> None:
    """Apply the maexlab theme: white grid, readable fonts, colour-blind safe palette."""
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    plt.rcParams.update({"figure.figsize": (8, 4.5), "figure.dpi": 100, "axes.titleweight": "bold", "savefig.dpi": 100})


def synthetic_caption(ax, synthetic: bool) -> None:
    """Stamp 'synthetic data' on a figure so it cannot be mistaken for real findings."""
    if synthetic:
        ax.figure.text(0.99, 0.005, "SYNTHETIC DATA (maexlab.data.synth)", ha="right", va="bottom", fontsize=7, color="#b22222")
