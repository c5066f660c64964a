"""Notebook 04's figures speak the report language, with human labels and plain locale numbers."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from maexlab.impact import plots
from maexlab.impact.sroi import Outcome, sroi_monte_carlo, sroi_one_at_a_time

matplotlib.use("Agg")

VALUE_MAP = [Outcome("people", "into work", "jobs", 10, 1000.0, 2, deadweight=0.3, leakage=0.1)]


@pytest.fixture(autouse=True)
def _close():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_group_labels_name_sdgs_and_terms():
    assert plots.group_labels([3, 13], "sdg", "nl") == ["SDG 3 · goede gezondheid en welzijn", "SDG 13 · klimaatactie"]
    assert plots.group_labels(["care_wellbeing"], "theme", "en") == ["care and wellbeing"]


@pytest.mark.parametrize(
    ("language", "leakage", "title"),
    [("nl", "weglek (0% tot 30%)", "één parameter tegelijk"), ("en", "leakage (0% to 30%)", "one parameter at a time")],
)
def test_tornado_has_human_parameter_labels(language, leakage, title):
    tornado = sroi_one_at_a_time(VALUE_MAP, 5_000, {"leakage": (0.0, 0.3), "deadweight": (0.1, 0.5)})
    fig = plots.plot_tornado(tornado, 2025, language)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert leakage in labels and all("_" not in label for label in labels)
    assert title in ax.get_title() and "2025" in ax.get_title()


def test_monte_carlo_legend_in_the_language():
    mc = sroi_monte_carlo(VALUE_MAP, 5_000, {"deadweight": ("uniform", 0.1, 0.5)}, n=500, seed=1)
    fig = plots.plot_monte_carlo(mc, "nl")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == f"mediaan {mc.median:.2f}".replace(".", ",")
    assert "simulaties" in fig.axes[0].get_ylabel() and "500" in fig.axes[0].get_ylabel()


def test_waardenweb_plain_numbers_and_nothing_to_draw():
    rng = np.random.default_rng(3)
    ids = [f"I{i}" for i in range(30)]
    ratios = pd.DataFrame(
        {
            "initiative_id": ids,
            "staff_per_volunteer": rng.uniform(0, 2, 30),
            "subsidy_per_earned_income": rng.uniform(0.05, 5, 30),
        }
    )
    inits = pd.DataFrame({"initiative_id": ids, "value_model": ["social"] * 20 + ["hybrid"] * 10})
    fig = plots.plot_waardenweb(ratios, inits, min_group_size=12, language="en")
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks and not any("10^" in t or "mathdefault" in t for t in ticks)  # no powers of ten
    assert "hybrid" in fig.axes[0].get_title()  # left out: 10 < 12, named in the title
    assert plots.plot_waardenweb(ratios, inits, min_group_size=50, language="en") is None
