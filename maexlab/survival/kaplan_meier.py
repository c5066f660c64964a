"""Kaplan-Meier survival with delayed entry: fits, tables (S(t), median, RMST), the delayed-entry bias and plots.

References (cited in plots and the notebook)
    CBS (Statistics Netherlands, StatLine, via press coverage): of Dutch firms founded in 2015
    about 96% existed after 1 year, more than 75% after 3 and about 65% after 5; of the 2010
    cohort 56% after 5 years. Eurostat (business demography): EU 1-year survival about 80-82%;
    5-year survival of 2009 births nearly 44%.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from maexlab.survival.multistate import _clip_steps, risk_window

__all__ = [
    "CBS_REFERENCE",
    "EUROSTAT_REFERENCE",
    "Z95",
    "delayed_entry_bias",
    "km_fit",
    "km_table",
    "plot_km",
    "rmst_variance",
]

#: CBS firm survival, Netherlands (StatLine via press coverage): cohort -> {years: share}.
CBS_REFERENCE: dict[str, dict[int, float]] = {
    "CBS NL firms founded 2015": {1: 0.96, 3: 0.75, 5: 0.65},
    "CBS NL firms founded 2010": {5: 0.56},
}
#: Eurostat business demography, EU: 1-year survival about 80-82%, 5-year survival of 2009 births nearly 44%.
EUROSTAT_REFERENCE: dict[str, dict[int, float]] = {"Eurostat EU firms": {1: 0.81, 5: 0.44}}


#: Two-sided 95% normal quantile (1.959964...).
Z95 = float(stats.norm.ppf(0.975))


def km_fit(d: pd.DataFrame, label: str = "all", entry: bool = True):
    """Kaplan-Meier fit (lifelines) of a durations table; ``entry=False`` ignores delayed entry.

    Returns None when the estimate does not exist: with delayed entry a small group's risk set
    can empty before anyone enters late, and S(t) then drops to 0 for good (lifelines' StatError).
    """
    from lifelines import KaplanMeierFitter
    from lifelines.exceptions import StatError

    try:
        return KaplanMeierFitter().fit(d["duration"], d["event"], entry=d["entry"] if entry else None, label=label)
    except StatError:
        return None


def _surv_at(kmf, t: float, min_at_risk: int = 0) -> tuple[float, float, float]:
    """S(t) with its 95% CI; missing beyond follow-up or when, at some time up to ``t``, fewer
    than ``min_at_risk`` were at risk while an event happened (delayed entry can leave early
    risk sets nearly empty, e.g. for cohorts founded before the platform existed)."""
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_survival_function_
    if t > sf.index.max():
        return (np.nan, np.nan, np.nan)
    et = kmf.event_table
    thin = et[(et.index <= t) & (et["observed"] > 0) & (et["at_risk"] < min_at_risk)]
    if len(thin):
        return (np.nan, np.nan, np.nan)
    i = sf.index.searchsorted(t, side="right") - 1
    return float(sf.iloc[i]), float(ci.iloc[i, 0]), float(ci.iloc[i, 1])


def km_table(
    d: pd.DataFrame,
    by: str | None = None,
    horizons: Sequence[int] = (1, 3, 5),
    rmst_years: float = 5.0,
    entry: bool = True,
    min_at_risk: int = 10,
) -> pd.DataFrame:
    """Per group: n, closures, S(t) with 95% CI at ``horizons``, median survival with CI, RMST.

    The restricted mean survival time (RMST) to ``rmst_years`` is the expected number of years
    alive within the first ``rmst_years`` (lifelines ``restricted_mean_survival_time``; CI from
    its variance). A median that is not reached is missing. Estimates that rest on a risk set
    smaller than ``min_at_risk`` at an event time (see ``_surv_at``) are missing too.
    """
    from lifelines.utils import median_survival_times, restricted_mean_survival_time

    groups = [("all", d)] if by is None else [(str(k), g) for k, g in d.groupby(by, sort=True)]
    rows = []
    for name, g in groups:
        row: dict = {"group": name, "n": int(len(g)), "closures": int(g["event"].sum())}
        if len(g) and g["event"].any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kmf = km_fit(g, name, entry=entry)
            if kmf is None:
                row["note"] = "not estimable: the risk set empties early (too few early entries)"
                rows.append(row)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for t in horizons:
                    row[f"surv_{t}y"], row[f"surv_{t}y_low"], row[f"surv_{t}y_high"] = _surv_at(kmf, t, min_at_risk)
                med = kmf.median_survival_time_
                mci = median_survival_times(kmf.confidence_interval_)
                row["median_years"] = float(med) if np.isfinite(med) else np.nan
                row["median_low"] = float(mci.iloc[0, 0]) if np.isfinite(mci.iloc[0, 0]) else np.nan
                row["median_high"] = float(mci.iloc[0, 1]) if np.isfinite(mci.iloc[0, 1]) else np.nan
                rm = restricted_mean_survival_time(kmf, t=rmst_years)
                var = rmst_variance(kmf, rmst_years)
            if np.isnan(_surv_at(kmf, rmst_years, min_at_risk)[0]):
                rm = var = np.nan
            row[f"rmst_{int(rmst_years)}y"] = float(rm)
            row[f"rmst_{int(rmst_years)}y_low"] = float(rm - Z95 * np.sqrt(var))
            row[f"rmst_{int(rmst_years)}y_high"] = float(rm + Z95 * np.sqrt(var))
        rows.append(row)
    out = pd.DataFrame(rows)
    if by is not None:
        out = out.rename(columns={"group": by})
    return out


def rmst_variance(kmf, tau: float) -> float:
    """Greenwood-type variance of the Kaplan-Meier restricted mean survival time to ``tau``:
    sum over event times t_j <= tau of A_j^2 d_j / (n_j (n_j - d_j)), A_j = integral of S from t_j to tau.

    (lifelines' ``restricted_mean_survival_time(return_variance=True)`` returns the variance of
    min(T, tau) across initiatives, not the sampling variance of the estimate.)
    """
    et = kmf.event_table
    sf = kmf.survival_function_.iloc[:, 0]
    t = sf.index.to_numpy(float)
    s = sf.to_numpy(float)
    keep = t <= tau
    t, s = t[keep], s[keep]
    widths = np.diff(np.concatenate([t, [tau]]))
    area_after = np.cumsum((s * widths)[::-1])[::-1]  # integral of S from t_j to tau
    d = et["observed"].reindex(t).to_numpy(float)
    n = et["at_risk"].reindex(t).to_numpy(float)
    ok = (d > 0) & (n > d)
    return float(np.sum(area_after[ok] ** 2 * d[ok] / (n[ok] * (n[ok] - d[ok]))))


def delayed_entry_bias(d: pd.DataFrame, horizon: float = 5.0) -> pd.DataFrame:
    """S(horizon) with and without delayed entry: the bias of ignoring left truncation.

    ``estimate`` is ``delayed_entry`` (the correct estimate, at risk from joining) or
    ``ignoring_delayed_entry`` (at risk from founding). Only meaningful when the data has
    ``joined_on`` (without it both rows are the same estimate).
    """
    rows = []
    for label, use in (("delayed_entry", True), ("ignoring_delayed_entry", False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kmf = km_fit(d, label, entry=use)
            s, lo, hi = (np.nan, np.nan, np.nan) if kmf is None else _surv_at(kmf, horizon)
        rows.append({"estimate": label, "n": int(len(d)), f"surv_{int(horizon)}y": s, "low": lo, "high": hi})
    return pd.DataFrame(rows)


def plot_km(
    d: pd.DataFrame,
    by: str | None = None,
    min_group_size: int = 10,
    max_years: float = 12.0,
    references: bool = True,
    palette: dict | None = None,
    title: str | None = None,
    language: str = "en",
    delayed_entry: bool = True,
):
    """Kaplan-Meier curves with 95% bands; CBS and Eurostat reference points.

    Groups smaller than ``min_group_size`` are not drawn, and every curve is drawn only while at
    least ``min_group_size`` initiatives are at risk (:func:`risk_window`): it starts when the
    risk set reaches that size (delayed entry can leave it small at first) and ends when it falls
    below it, so no step rests on a handful of initiatives. A group whose curve would start after
    closures among fewer at risk is not drawn (its level would rest on them).

    Texts come from the ``language`` catalogue; the title says "delayed entry" only when
    ``delayed_entry`` (the data has ``joined_on``), so it never claims a correction not applied.
    Group values that are vocabulary terms (value models) are shown by their labels.
    """
    import matplotlib.pyplot as plt

    from maexlab.reporting.i18n import messages

    m = messages(language)
    fig, ax = plt.subplots(figsize=(9, 5))
    groups = [(m.text("survival.plot.all_initiatives"), d)] if by is None else [(str(k), g) for k, g in d.groupby(by, sort=True)]
    for name, g in groups:
        if len(g) < min_group_size or not g["event"].any():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kmf = km_fit(g, name, entry=delayed_entry)
        if kmf is None:
            continue
        window = risk_window(kmf.event_table, min_group_size)
        if window is None:
            continue
        t0, t1 = window[0], min(window[1], max_years)
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_survival_function_
        x, y, lo, hi = _clip_steps(
            sf.index.to_numpy(float), [sf.to_numpy(), ci.iloc[:, 0].to_numpy(), ci.iloc[:, 1].to_numpy()], t0, t1
        )
        colour = (palette or {}).get(name)
        shown = m.text("survival.cohort_before_2010") if name == "before 2010" else m.term(name)
        label = m.text("survival.plot.group_n", group=shown, n=len(g))
        line = ax.step(x, y, where="post", label=label, color=colour)[0]
        ax.fill_between(x, lo, hi, step="post", alpha=0.15, color=line.get_color())
    if references:
        markers = {
            "CBS NL firms founded 2015": ("s", "black", "survival.plot.ref_cbs_2015"),
            "CBS NL firms founded 2010": ("D", "dimgrey", "survival.plot.ref_cbs_2010"),
            "Eurostat EU firms": ("^", "#b22222", "survival.plot.ref_eurostat"),
        }
        for ref, pts in {**CBS_REFERENCE, **EUROSTAT_REFERENCE}.items():
            mk, c, key = markers[ref]
            ax.scatter(list(pts), list(pts.values()), marker=mk, color=c, zorder=5, s=40, label=m.text(key))
    ax.set_xlim(0, max_years)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(m.text("survival.plot.years_since_founding"))
    ax.set_ylabel(m.text("survival.plot.share_active"))
    how = m.text("survival.plot.bands_delayed" if delayed_entry else "survival.plot.bands")
    ax.set_title(title or m.text("survival.plot.km_title", how=how))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower left")
    note = m.text("survival.plot.note_at_risk", n=min_group_size)
    if references:
        note += "\n" + m.text("survival.plot.note_references")
    fig.text(0.01, 0.005, note, fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.05 if references else 0.03, 1, 0.97))
    return fig
