"""Figures of notebook 02: hedonic coefficients, decomposition, blended value and WTP.

The audit's calibration figure is in :mod:`maexlab.valuation.audit`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from maexlab.data.schema import VALUE_MODELS
from maexlab.valuation.blended import DEFAULT_HORIZON_YEARS, DEFAULT_SOCIAL_DISCOUNT_RATE
from maexlab.valuation.models import ModelFit
from maexlab.valuation.wtp import BMY_RANGE_PP, BMY_SOURCE

_GROUP_COLOURS = {"mainstream": "#4c72b0", "impact": "#dd8452"}
_TERM_LABELS = {
    "log_revenue": "log revenue",
    "growth": "revenue growth (y/y)",
    "margin": "margin (per +0.10)",
    "earned_income_share": "earned-income share",
    "log_impact": "log(impact value + 1)",
    "hybrid": "hybrid vs commercial",
    "social": "social vs commercial",
    "z_log_revenue": "log revenue (z)",
    "z_growth": "growth (z)",
    "z_margin": "margin (z)",
    "z_earned_income_share": "earned-income share (z)",
    "z_log_impact": "log(impact value + 1) (z)",
}
_PLOT_SCALE = {"margin": 0.1}
_PANEL = {
    "log_valuation": ("Log valuation (accepted equity)", "coefficient (log points)"),
    "interest_rate_pp": ("Interest rate (accepted loans)", "coefficient (percentage points)"),
    "accepted": ("Accept decision (logit, all)", "coefficient (log-odds)"),
}


def plot_coefficients(fits: dict[str, ModelFit]):
    """Forest plot: each hedonic model's coefficients with 95% intervals, mainstream vs impact."""
    import matplotlib.pyplot as plt

    outcomes = [o for o in _PANEL if any(fits.get(f"{o}|{g}") is not None and fits[f"{o}|{g}"].ok for g in _GROUP_COLOURS)]
    fig, axes = plt.subplots(1, max(len(outcomes), 1), figsize=(5.2 * max(len(outcomes), 1), 4.8), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=False):
        terms: list[str] = []
        for g in _GROUP_COLOURS:
            f = fits.get(f"{outcome}|{g}")
            if f is not None and f.ok:
                terms += [t for t in f.coefs["term"] if t != "const" and t not in terms]
        ypos = {t: k for k, t in enumerate(terms)}
        for j, (g, colour) in enumerate(_GROUP_COLOURS.items()):
            f = fits.get(f"{outcome}|{g}")
            if f is None or not f.ok:
                continue
            c = f.coefs[f.coefs["term"] != "const"].copy()
            scale = c["term"].map(_PLOT_SCALE).fillna(1.0)  # margin drawn per +0.10 so panels stay readable
            c[["estimate", "ci_low", "ci_high"]] = c[["estimate", "ci_low", "ci_high"]].mul(scale, axis=0)
            y = np.array([ypos[t] for t in c["term"]]) + (0.15 if j else -0.15)
            ax.errorbar(
                c["estimate"],
                y,
                xerr=[c["estimate"] - c["ci_low"], c["ci_high"] - c["estimate"]],
                fmt="o",
                color=colour,
                capsize=3,
                label=f"{g} investors (n={f.n})",
            )
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(range(len(terms)), [_TERM_LABELS.get(t, t) for t in terms])
        ax.invert_yaxis()
        title, xlabel = _PANEL[outcome]
        ax.set_title(title)
        ax.set_xlabel(xlabel + ", 95% CI")
        ax.legend(loc="best", fontsize=8)
    if not outcomes:
        axes[0][0].text(0.5, 0.5, "no model could be fitted", ha="center")
    fig.suptitle("What investors price: hedonic coefficients, errors clustered by initiative")
    fig.tight_layout()
    return fig


def plot_decomposition(oaxaca: pd.DataFrame):
    """Bars of gap, explained and unexplained log-valuation gap with bootstrap 95% intervals."""
    import matplotlib.pyplot as plt

    groups = [g for g in ("mainstream", "impact") if g in set(oaxaca["group"])]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    comps = ["gap", "explained", "unexplained"]
    width = 0.8 / max(len(groups), 1)
    for j, g in enumerate(groups):
        t = oaxaca[oaxaca["group"] == g].set_index("component").loc[comps]
        x = np.arange(len(comps)) + (j - (len(groups) - 1) / 2) * width
        ax.bar(x, t["estimate"], width, color=_GROUP_COLOURS[g], label=f"{g} investors")
        ax.errorbar(
            x,
            t["estimate"],
            yerr=[t["estimate"] - t["ci_low"], t["ci_high"] - t["estimate"]],
            fmt="none",
            color="black",
            capsize=4,
        )
    ax.axhline(0, color="grey", lw=1)
    ax.set_xticks(range(len(comps)), ["total gap", "explained by fundamentals", "unexplained"])
    ax.set_ylabel("log valuation, social/hybrid minus commercial")
    ax.set_title("Oaxaca-Blinder decomposition of the valuation gap (95% cluster bootstrap)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_blended_gap(blended: pd.DataFrame, min_group_size: int = 10):
    """Boxplot of blended value / investor valuation by phase and value model.

    Groups with fewer than ``min_group_size`` distinct initiatives are left out, as in the table.
    """
    import matplotlib.pyplot as plt

    from maexlab.reporting.plots import PALETTE

    b = blended.copy()
    b["phase"] = b["phase"].fillna("unknown").astype(str)
    sizes = b.groupby(["phase", "value_model"])["initiative_id"].transform("nunique")
    b = b[sizes >= min_group_size]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    phases = [p for p in ("plan", "start", "growth", "mature", "closed", "unknown") if p in set(b["phase"])]
    vms = [v for v in VALUE_MODELS if v in set(b["value_model"])]
    width = 0.8 / max(len(vms), 1)
    for j, vm in enumerate(vms):
        data, pos = [], []
        for k, p in enumerate(phases):
            v = b.loc[(b["phase"] == p) & (b["value_model"] == vm), "blended_ratio"].to_numpy()
            if len(v):
                data.append(v)
                pos.append(k + (j - (len(vms) - 1) / 2) * width)
        if data:
            bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False)
            for patch in bp["boxes"]:
                patch.set_facecolor(PALETTE[vm])
                patch.set_alpha(0.8)
            ax.plot([], [], "s", color=PALETTE[vm], label=vm)
    ax.axhline(1, color="black", ls="--", lw=1, label="blended = investor valuation")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(range(len(phases)), phases)
    ax.set_xlabel("phase at assessment")
    ax.set_ylabel("blended value / investor valuation (log scale)")
    ax.text(
        0.01, 0.01, "boxes: quartiles; whiskers: 1.5 IQR; outliers not drawn", transform=ax.transAxes, fontsize=7, color="grey"
    )
    h, r = (
        int(blended["horizon_years"].iloc[0]) if len(blended) else DEFAULT_HORIZON_YEARS,
        float(blended["social_discount_rate"].iloc[0]) if len(blended) else DEFAULT_SOCIAL_DISCOUNT_RATE,
    )
    ax.set_title(f"Blended value (impact over {h} years at {100 * r:.1f}%) against the investor's valuation")
    ax.legend(title="value model", fontsize=8)
    fig.tight_layout()
    return fig


def plot_wtp(wtp: dict[str, Any]):
    """WTP estimate with its 95% interval beside the published 2.5-3.7 pp band (BMY 2021)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    lo, hi = BMY_RANGE_PP
    ax.axvspan(lo, hi, color="#bbbbbb", alpha=0.6, label=f"published range {lo}-{hi} pp\n({BMY_SOURCE})")
    ax.errorbar(
        [wtp["wtp_pp"]],
        [0],
        xerr=[[wtp["wtp_pp"] - wtp["ci_low"]], [wtp["ci_high"] - wtp["wtp_pp"]]],
        fmt="o",
        color=_GROUP_COLOURS["impact"],
        capsize=5,
        label=f"this data: loan-rate discount of impact investors (n={wtp['n']})",
    )
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks([])
    ax.set_xlabel("return given up by impact investors (percentage points), 95% CI")
    ax.set_title("Willingness to pay for impact")
    ax.set_xlim(min(-0.5, wtp["ci_low"] - 0.5), max(hi + 0.8, wtp["ci_high"] + 0.5))
    ax.set_ylim(-1, 1.4)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.95)
    fig.tight_layout()
    return fig
