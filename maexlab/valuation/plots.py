"""Figures of notebook 02: hedonic coefficients, decomposition, blended value and WTP.

Every title, axis label and legend comes from the report language's catalogue
(``valuation.plot.*``, ``valuation.terms.*``, vocabulary terms). The figures are 8 inches wide
(800 px at the report's 100 dpi), so text stays readable at that size; legends sit outside the
plotted points. The audit's calibration figure is in :mod:`maexlab.valuation.audit`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from maexlab.data.schema import PHASES, VALUE_MODELS
from maexlab.reporting.i18n import DEFAULT_LANGUAGE, messages
from maexlab.valuation.blended import DEFAULT_HORIZON_YEARS, DEFAULT_SOCIAL_DISCOUNT_RATE
from maexlab.valuation.models import ModelFit
from maexlab.valuation.wtp import BMY_RANGE_PP

GROUP_COLOURS = {"mainstream": "#4c72b0", "impact": "#dd8452"}
_PLOT_SCALE = {"margin": 0.1}
OUTCOMES = ("log_valuation", "interest_rate_pp", "accepted")
FIGURE_WIDTH = 8.0


def locale_ticks(axis, language: str = DEFAULT_LANGUAGE) -> None:
    """Tick labels written for the report's locale, up to two decimals (nl: 0,25 and -0,5)."""
    from babel.numbers import format_decimal
    from matplotlib.ticker import FuncFormatter

    locale = messages(language).locale
    axis.set_major_formatter(
        FuncFormatter(lambda v, _: format_decimal(0.0 if abs(v) < 1e-12 else v, format="#,##0.##", locale=locale))
    )


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def term_label(term: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The reader's name of a model term (``log_impact`` -> "log(impactwaarde + 1)")."""
    m = messages(language)
    key = f"valuation.terms.{term}"
    return m.text(key) if m.has(key) else term


def plot_coefficients(fits: dict[str, ModelFit], language: str = DEFAULT_LANGUAGE):
    """Forest plot: each hedonic model's coefficients with 95% intervals, mainstream vs impact.

    One panel per outcome, stacked, with one legend below the panels (never over a point).
    """
    import matplotlib.pyplot as plt

    m = messages(language)
    outcomes = [o for o in OUTCOMES if any(fits.get(f"{o}|{g}") is not None and fits[f"{o}|{g}"].ok for g in GROUP_COLOURS)]
    rows = max(len(outcomes), 1)
    fig, axes = plt.subplots(rows, 1, figsize=(FIGURE_WIDTH, 2.9 * rows + 0.9), squeeze=False)
    for ax, outcome in zip(axes[:, 0], outcomes, strict=False):
        terms: list[str] = []
        for g in GROUP_COLOURS:
            f = fits.get(f"{outcome}|{g}")
            if f is not None and f.ok:
                terms += [t for t in f.coefs["term"] if t != "const" and t not in terms]
        ypos = {t: k for k, t in enumerate(terms)}
        for j, (g, colour) in enumerate(GROUP_COLOURS.items()):
            f = fits.get(f"{outcome}|{g}")
            if f is None or not f.ok:
                continue
            c = f.coefs[f.coefs["term"] != "const"].copy()
            scale = c["term"].map(_PLOT_SCALE).fillna(1.0)  # margin drawn per +0.10 so panels stay readable
            c[["estimate", "ci_low", "ci_high"]] = c[["estimate", "ci_low", "ci_high"]].mul(scale, axis=0)
            y = np.array([ypos[t] for t in c["term"]]) + (0.17 if j else -0.17)
            ax.errorbar(
                c["estimate"],
                y,
                xerr=[c["estimate"] - c["ci_low"], c["ci_high"] - c["estimate"]],
                fmt="o",
                ms=4,
                color=colour,
                capsize=2,
                label=m.term(g),
            )
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(range(len(terms)), [term_label(t, language) for t in terms], fontsize=9)
        ax.invert_yaxis()
        ax.set_title(m.text(f"valuation.plot.coef_title.{outcome}"), fontsize=11)
        ax.set_xlabel(m.text(f"valuation.plot.coef_axis.{outcome}"), fontsize=9)
        locale_ticks(ax.xaxis, language)
    if outcomes:
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=9)
    else:
        axes[0, 0].text(0.5, 0.5, m.text("valuation.plot.no_model"), ha="center")
        axes[0, 0].set_axis_off()
    fig.suptitle(m.text("valuation.plot.coef_suptitle"), fontsize=12, fontweight="bold")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plot_decomposition(oaxaca: pd.DataFrame, language: str = DEFAULT_LANGUAGE):
    """Bars of gap, explained and unexplained log-valuation gap with bootstrap 95% intervals."""
    import matplotlib.pyplot as plt

    m = messages(language)
    groups = [g for g in GROUP_COLOURS if g in set(oaxaca["group"])]
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 4.2))
    comps = ["gap", "explained", "unexplained"]
    width = 0.8 / max(len(groups), 1)
    for j, g in enumerate(groups):
        t = oaxaca[oaxaca["group"] == g].set_index("component").reindex(comps)
        x = np.arange(len(comps)) + (j - (len(groups) - 1) / 2) * width
        ax.bar(x, t["estimate"], width, color=GROUP_COLOURS[g], label=m.term(g))
        ax.errorbar(
            x,
            t["estimate"],
            yerr=[t["estimate"] - t["ci_low"], t["ci_high"] - t["estimate"]],
            fmt="none",
            color="black",
            capsize=4,
        )
    ax.axhline(0, color="grey", lw=1)
    ax.set_xticks(range(len(comps)), [_wrap(m.text(f"valuation.components.{c}"), 18) for c in comps])
    ax.set_ylabel(m.text("valuation.plot.oaxaca_axis"))
    locale_ticks(ax.yaxis, language)
    ax.set_title(_wrap(m.text("valuation.plot.oaxaca_title"), 70), fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(groups), frameon=False)
    fig.tight_layout()
    return fig


def plot_detailed_decomposition(detailed: pd.DataFrame, labels: dict[str, str], language: str = DEFAULT_LANGUAGE):
    """Horizontal bars: each fundamental's explained share of the valuation gap, with 95% intervals.

    ``detailed`` has ``group, covariate, explained, explained_low, explained_high`` (one row per
    covariate and investor group, from :func:`maexlab.valuation.sections.detailed_parts`);
    ``labels`` maps each covariate to its reader's name.
    """
    import matplotlib.pyplot as plt

    m = messages(language)
    groups = [g for g in GROUP_COLOURS if g in set(detailed["group"])]
    covariates = list(dict.fromkeys(detailed["covariate"]))
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 1.2 + 0.55 * len(covariates) * max(len(groups), 1)))
    height = 0.8 / max(len(groups), 1)
    for j, g in enumerate(groups):
        t = detailed[detailed["group"] == g].set_index("covariate").reindex(covariates)
        y = np.arange(len(covariates)) + (j - (len(groups) - 1) / 2) * height
        ax.barh(y, t["explained"], height, color=GROUP_COLOURS[g], label=m.term(g))
        ax.errorbar(
            t["explained"],
            y,
            xerr=[t["explained"] - t["explained_low"], t["explained_high"] - t["explained"]],
            fmt="none",
            color="black",
            capsize=3,
        )
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(range(len(covariates)), [_wrap(labels.get(c, c), 28) for c in covariates])
    ax.invert_yaxis()
    ax.set_xlabel(m.text("valuation.plot.detailed_axis"))
    locale_ticks(ax.xaxis, language)
    ax.set_title(_wrap(m.text("valuation.plot.detailed_title"), 70), fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=max(len(groups), 1), frameon=False)
    fig.tight_layout()
    return fig


def _ratio_axis(ax, values: np.ndarray, language: str) -> None:
    """A y axis with at least three labelled ticks: log scale over a wide range, linear otherwise."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    m = messages(language)
    values = values[np.isfinite(values) & (values > 0)]
    fmt = FuncFormatter(lambda v, _: m.value(v, "number2") if v < 1 else m.value(v, "number"))
    if len(values) and values.max() / values.min() >= 4:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel(m.text("valuation.plot.blended_axis_log"))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(6))
        ax.set_ylabel(m.text("valuation.plot.blended_axis"))
    ax.yaxis.set_major_formatter(fmt)


def plot_blended_gap(blended: pd.DataFrame, min_group_size: int = 10, language: str = DEFAULT_LANGUAGE):
    """Boxplot of blended value / investor valuation by phase and value model.

    Groups with fewer than ``min_group_size`` distinct initiatives are left out, as in the table.
    """
    import matplotlib.pyplot as plt

    from maexlab.reporting.plots import PALETTE

    m = messages(language)
    b = blended.copy()
    b["phase"] = b["phase"].fillna("unknown").astype(str)
    sizes = b.groupby(["phase", "value_model"])["initiative_id"].transform("nunique")
    b = b[sizes >= min_group_size]
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 4.5))
    phases = [p for p in (*PHASES, "unknown") if p in set(b["phase"])]
    vms = [v for v in VALUE_MODELS if v in set(b["value_model"])]
    width = 0.8 / max(len(vms), 1)
    drawn = []
    for j, vm in enumerate(vms):
        data, pos = [], []
        for k, p in enumerate(phases):
            v = b.loc[(b["phase"] == p) & (b["value_model"] == vm), "blended_ratio"].to_numpy()
            if len(v):
                data.append(v)
                pos.append(k + (j - (len(vms) - 1) / 2) * width)
        if data:
            bp = ax.boxplot(
                data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False, medianprops={"color": "black"}
            )
            for patch in bp["boxes"]:
                patch.set_facecolor(PALETTE[vm])
                patch.set_alpha(0.8)
            drawn += [w.get_ydata() for w in bp["whiskers"]]
            ax.plot([], [], "s", color=PALETTE[vm], label=m.term(vm))
    ax.axhline(1, color="black", ls="--", lw=1, label=m.text("valuation.plot.blended_parity"))
    _ratio_axis(ax, np.concatenate([np.ravel(d) for d in drawn] + [np.array([1.0])]), language)
    ax.set_xticks(range(len(phases)), [m.term(p) for p in phases])
    ax.set_xlabel(m.text("valuation.plot.blended_phase"))
    h = int(blended["horizon_years"].iloc[0]) if len(blended) else DEFAULT_HORIZON_YEARS
    r = float(blended["social_discount_rate"].iloc[0]) if len(blended) else DEFAULT_SOCIAL_DISCOUNT_RATE
    ax.set_title(_wrap(m.text("valuation.plot.blended_title", years=h, rate=r), 70), fontsize=11)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(vms) + 1, frameon=False)
    fig.text(0.01, 0.01, m.text("valuation.plot.blended_note"), fontsize=8, color="#555555")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_wtp(wtp: dict[str, Any], language: str = DEFAULT_LANGUAGE):
    """WTP estimate with its 95% interval beside the published 2.5-3.7 pp band (BMY 2021)."""
    import matplotlib.pyplot as plt

    m = messages(language)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.2))
    lo, hi = BMY_RANGE_PP
    ax.axvspan(lo, hi, color="#bbbbbb", alpha=0.6, label=m.text("valuation.plot.wtp_band", lo=lo, hi=hi))
    ax.errorbar(
        [wtp["wtp_pp"]],
        [0],
        xerr=[[wtp["wtp_pp"] - wtp["ci_low"]], [wtp["ci_high"] - wtp["wtp_pp"]]],
        fmt="o",
        color=GROUP_COLOURS["impact"],
        capsize=5,
        label=m.text("valuation.plot.wtp_point", n=wtp["n"]),
    )
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks([])
    ax.set_xlabel(m.text("valuation.plot.wtp_axis"))
    locale_ticks(ax.xaxis, language)
    ax.set_title(m.text("valuation.plot.wtp_title"))
    ax.set_xlim(min(-0.5, wtp["ci_low"] - 0.5), max(hi + 0.8, wtp["ci_high"] + 0.5))
    ax.set_ylim(-1, 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=1, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
