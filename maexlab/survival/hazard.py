"""Closure hazard over time (since entering start): kernel-smoothed and piecewise-constant, and its plot.

Used for the "valley of death" question: is closure most likely in the first years after start?
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from maexlab.survival.multistate import _event_table, at_risk_window, poisson_interval

__all__ = [
    "piecewise_hazard",
    "plot_smoothed_hazard",
    "smoothed_hazard",
]


def smoothed_hazard(d: pd.DataFrame, bandwidth: float = 1.0, max_years: float = 10.0, min_at_risk: int = 10) -> pd.DataFrame:
    """Kernel-smoothed closure hazard (lifelines ``NelsonAalenFitter.smoothed_hazard_``,
    Epanechnikov kernel) with 95% bands, delayed entry. Within one bandwidth of 0 the kernel is
    cut off by the origin and biased down; ``interior`` marks the points not affected.

    Only points whose kernel (one bandwidth either side) lies within the :func:`risk_window`
    (at least ``min_at_risk`` at risk; 0 = no cut) are returned: the curve ends one bandwidth
    before the risk set first falls below ``min_at_risk``, so no point uses closures among fewer.
    """
    from lifelines import NelsonAalenFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naf = NelsonAalenFitter().fit(d["duration"], d["event"], entry=d["entry"])
        h = naf.smoothed_hazard_(bandwidth).iloc[:, 0]
        ci = naf.smoothed_hazard_confidence_intervals_(bandwidth)
    c = ci.to_numpy(float)
    out = pd.DataFrame({"years": h.index.to_numpy(float), "hazard": h.to_numpy(), "low": c.min(axis=1), "high": c.max(axis=1)})
    window = at_risk_window(naf.event_table, min_at_risk) or (np.inf, -np.inf)
    keep = (out["years"] >= window[0]) & (out["years"] + bandwidth <= window[1]) & (out["years"] <= max_years)
    out = out[keep].reset_index(drop=True)
    out["interior"] = out["years"] >= bandwidth
    return out


def piecewise_hazard(d: pd.DataFrame, breaks: Sequence[float] = (0, 1, 2, 3, 5, 10), min_at_risk: int = 10) -> pd.DataFrame:
    """Closure rate per year in bands of time (events / person-years after delayed entry), exact CI.

    A band not wholly inside the :func:`risk_window` (somewhere in it fewer than ``min_at_risk``
    at risk; 0 = no cut) keeps its label and ``n`` but its events, person-years and rates are
    left missing; ``few_at_risk`` marks it."""
    rows = []
    dur, ent, ev = d["duration"].to_numpy(float), d["entry"].to_numpy(float), d["event"].to_numpy(bool)
    for lo, hi in zip(breaks[:-1], breaks[1:], strict=True):
        a, b = np.maximum(ent, lo), np.minimum(dur, hi)
        py = np.clip(b - a, 0, None).sum()
        e = int((ev & (dur > lo) & (dur <= hi) & (dur > ent)).sum())
        n = int(((b - a) > 0).sum())
        rows.append(
            {"band": f"{lo:g}-{hi:g} y", "from_years": lo, "to_years": hi, "n": n, "events": e, "person_years": float(py)}
        )
    out = pd.DataFrame(rows)
    out["hazard"] = out["events"] / out["person_years"].where(out["person_years"] > 0)
    out["hazard_low"], out["hazard_high"] = poisson_interval(out["events"].to_numpy(), out["person_years"].to_numpy())
    window = at_risk_window(_event_table(dur, ev, ent), min_at_risk) if len(d) else None
    if window is None:
        inside = np.zeros(len(out), dtype=bool)
    else:
        inside = ((out["from_years"] >= window[0]) & (out["to_years"] < window[1])).to_numpy()
    out["few_at_risk"] = ~inside
    cols = ["events", "person_years", "hazard", "hazard_low", "hazard_high"]
    out[cols] = out[cols].astype(float).where(~out["few_at_risk"], axis=0)
    return out


def plot_smoothed_hazard(
    h: pd.DataFrame,
    bandwidth: float,
    bands: pd.DataFrame | None = None,
    min_group_size: int | None = None,
    language: str = "en",
    delayed_entry: bool = True,
):
    """Smoothed closure hazard since entering start, 95% band, and banded crude rates.

    ``h`` and ``bands`` come cut by :func:`smoothed_hazard` and :func:`piecewise_hazard`
    (bands with missing rates are not drawn); ``min_group_size`` puts that in the footnote.
    Texts come from the ``language`` catalogue; the footnote sits bottom left, clear of the
    synthetic-data stamp (top right)."""
    import matplotlib.pyplot as plt

    from maexlab.reporting.i18n import messages

    m = messages(language)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.plot(h["years"], h["hazard"], color="#b22222", label=m.text("survival.plot.smoothed_hazard", bandwidth=bandwidth))
    ax.fill_between(h["years"], h["low"], h["high"], color="#b22222", alpha=0.15, label=m.text("survival.plot.band95"))
    ax.axvspan(0, bandwidth, color="grey", alpha=0.1, label=m.text("survival.plot.boundary_zone"))
    if bands is not None:
        bands = bands.dropna(subset=["hazard"])
        for k, (_, r) in enumerate(bands.iterrows()):
            label = m.text("survival.plot.crude_rate") if k == 0 else None
            ax.hlines(r["hazard"], r["from_years"], r["to_years"], color="black", lw=2, label=label)
    ax.set_xlabel(m.text("survival.plot.years_since_start"))
    ax.set_ylabel(m.text("survival.plot.closures_per_year"))
    ax.set_ylim(bottom=0)
    ax.set_title(m.text("survival.plot.hazard_title"))
    ax.legend(fontsize=8, loc="upper right")
    notes = []
    if min_group_size:
        notes.append(m.text("survival.plot.note_hazard_at_risk", n=min_group_size))
    if not delayed_entry:
        notes.append(m.text("survival.plot.note_no_delayed_entry"))
    if notes:
        fig.text(0.01, 0.005, "\n".join(notes), fontsize=7, color="dimgrey", wrap=True)
    fig.tight_layout(rect=(0, 0.035 * len(notes), 1, 0.97))
    return fig
