"""Notebook-facing sections of notebook 02 (investor valuation bias), one function per section.

Each function takes the :class:`~maexlab.reporting.Report` (``report.data`` is the loaded data),
shows the section's heading and explanation in the report language, checks the section's
declared preconditions before estimating anything, publishes its tables and figures and returns
a :class:`~maexlab.reporting.SectionOutput`. When a precondition fails the section says "Not
computed" with the reasons and returns with ``skipped`` filled. Later sections use what earlier
ones computed (features, fitted models ...), kept on the report (:func:`state`), so the
sections must run in the order of :data:`SECTIONS`.

>>> from maexlab.reporting import open_report                         # doctest: +SKIP
>>> report = open_report("02_valuation_bias", province="Zeeland")     # doctest: +SKIP
>>> for section in SECTIONS:                                          # doctest: +SKIP
...     section(report)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from maexlab.impact.sroi import discount_rate_named
from maexlab.reporting import NOT_TESTABLE, Col, Needs, Reason, SectionOutput, Verdict, unmet
from maexlab.valuation import audit as vaudit
from maexlab.valuation.blended import DEFAULT_HORIZON_YEARS, DEFAULT_SOCIAL_DISCOUNT_RATE, blended_gap, blended_gap_table
from maexlab.valuation.claims import CLAIMS
from maexlab.valuation.claims import verdicts as claim_verdicts
from maexlab.valuation.common import FUNDAMENTALS, MIN_MODEL_ROWS
from maexlab.valuation.decomposition import _OAXACA_COLUMNS, MIN_OAXACA_ROWS, OAXACA_COVARIATES
from maexlab.valuation.features import (
    COUNT_LABELS,
    SUMMARY_LABELS,
    assessment_counts,
    build_features,
    complete_rows,
    group_summary,
)
from maexlab.valuation.models import _rows_for, coefficient_table, fits_to_results, hedonic_models, impact_difference
from maexlab.valuation.oaxaca import CONSTANT, decompose_bootstrap
from maexlab.valuation.plots import (
    plot_blended_gap,
    plot_coefficients,
    plot_decomposition,
    plot_detailed_decomposition,
    plot_wtp,
    term_label,
)
from maexlab.valuation.wtp import BMY_RANGE_PP, willingness_to_pay


class Output(SectionOutput):
    """A :class:`~maexlab.reporting.SectionOutput` that shows nothing as a cell's result.

    The section has already displayed its text, tables and figures; without this a notebook
    cell ``sections.features(report)`` would also print the object's repr (a trailing ``;``
    does not suppress it under nbval).
    """

    def _ipython_display_(self) -> None:
        return None


#: Cluster-bootstrap draws of the decomposition and of the audit's intervals.
OAXACA_REPS = 300
AUDIT_REPS = 200
#: Reference coefficients of the twofold and detailed decomposition: a pooled fit over both sides
#: with a side indicator (Jann 2008 after Fortin 2008); "A", "B" and "neumark" are the alternatives.
OAXACA_REFERENCE = "pooled"
TWOFOLD: tuple[str, ...] = ("gap", "explained", "unexplained")
THREEFOLD: tuple[str, ...] = ("endowments", "coefficients", "interaction")
_TWOFOLD_COLUMNS = _OAXACA_COLUMNS

_ASSESS = ("investor_type", "instrument", "assessed_on", "decision")
_FIN = ("revenue", "costs", "earned_income")
#: What each section needs from the data (present and non-empty), checked before estimating.
NEEDS: dict[str, Needs] = {
    "features": Needs({"assessments": _ASSESS, "initiatives": ("value_model",), "financials": _FIN}),
}
NEEDS["models"] = NEEDS["features"] | Needs({"impact": ("quantity",), "proxies": ("euro_per_unit",)})
NEEDS["decomposition"] = NEEDS["models"] | Needs({"assessments": ("valuation",)})
NEEDS["blended"] = NEEDS["decomposition"]
NEEDS["audit"] = NEEDS["models"]
NEEDS["wtp"] = NEEDS["models"] | Needs({"assessments": ("interest_rate",)})

_MODEL_KEYS = (
    "log_valuation|mainstream",
    "log_valuation|impact",
    "interest_rate_pp|mainstream",
    "interest_rate_pp|impact",
    "accepted|mainstream",
    "accepted|impact",
)
_SHOWN_TERMS = ("log_revenue", "log_impact", "z_log_revenue", "z_log_impact", "hybrid", "social")


def state(report) -> dict[str, Any]:
    """What the sections of this report computed so far (features, fits, oaxaca, wtp, audit)."""
    if not hasattr(report, "_valuation"):
        report._valuation = {
            "features": None,
            "fits": {},
            "oaxaca": None,
            "wtp": None,
            "wtp_reason": None,
            "audit": None,
            "blocked": None,
        }
    return report._valuation


def _model_key(key: str) -> str:
    outcome, group = key.split("|")
    return f"valuation.models.{outcome}_{group}"


def _skip(report, out: Output, section: str, reasons: list[Reason]) -> Output:
    report.not_computed(section, reasons)
    out.skipped = list(reasons)
    return out


def _needs_features(report, out: Output, section: str, needs: Needs) -> bool:
    """Check ``needs``; when met but the features were not built, say so too."""
    reasons = unmet(report.data, needs)
    if reasons:
        _skip(report, out, section, reasons)
        return False
    if state(report)["features"] is None:
        _skip(report, out, section, [Reason("valuation.reasons.no_features")])
        return False
    return True


def _left_out(report, label_key: str, record: dict[str, Any]) -> None:
    """One sentence on the rows a model or table left out for missing data (nothing when none)."""
    if record.get("n_dropped"):
        columns = ", ".join(term_label(c.removeprefix("z_"), report.language) for c in record.get("missing_by_column", {}))
        report.say(
            "valuation.left_out", what=report.t(label_key), n=record["n_dropped"], total=record["n_input"], columns=columns
        )


# --- 1. features ------------------------------------------------------------------------------


def features(report) -> Output:
    """Features per assessment: counts by investor group and type, and medians per value model."""
    out = Output()
    report.heading("valuation.sections.features")
    report.say("valuation.text.features")
    reasons = unmet(report.data, NEEDS["features"])
    if reasons:
        state(report)["blocked"] = reasons
        return _skip(report, out, "valuation.sections.features", reasons)
    f = build_features(report.data)
    state(report)["features"] = f
    complete = int(f[list(FUNDAMENTALS)].notna().all(axis=1).sum())
    report.say("valuation.text.features_counts", n=len(f), complete=complete, impact=int(f["impact_value"].notna().sum()))
    report.headline("valuation.headline_assessments", int(len(f)), kind="count")
    counts = assessment_counts(f)
    out.tables["assessments_by_investor"] = report.show(
        counts,
        "assessments_by_investor",
        [
            *(Col(c, "term", label=f"valuation.col.{c}") for c in COUNT_LABELS),
            Col("n", "count", label="valuation.col.assessments"),
            Col("n_initiatives", "count"),
        ],
        keep=COUNT_LABELS,
        count_column="n_initiatives",
    )
    summary = group_summary(f)
    out.tables["features_by_group"] = report.show(
        summary,
        "features_by_group",
        [
            Col("investor_group", "term", label="valuation.col.investor_group"),
            Col("value_model", "term"),
            Col("n", "count", label="valuation.col.assessments"),
            Col("n_initiatives", "count"),
            Col("revenue_median_eur", "money", label="valuation.col.revenue_median"),
            Col("margin_median", "percent", label="valuation.col.margin_median"),
            Col("earned_share_median", "percent", label="valuation.col.earned_share_median"),
            Col("impact_value_median_eur", "money", label="valuation.col.impact_value_median"),
            Col("acceptance_rate", "percent", label="valuation.col.acceptance_rate"),
        ],
        keep=SUMMARY_LABELS,
        count_column="n_initiatives",
    )
    return out


# --- 2. hedonic models ---------------------------------------------------------------------------


def _coefficient_display(report, published: pd.DataFrame) -> pd.DataFrame:
    order = {o: k for k, o in enumerate(("log_valuation", "interest_rate_pp", "accepted"))}
    shown = published[published["term"].isin(_SHOWN_TERMS)].copy()
    shown = shown.sort_values(["outcome", "group"], key=lambda c: c.map(order) if c.name == "outcome" else c, kind="stable")
    shown["model"] = [report.t(f"valuation.outcomes.{o}") for o in shown["outcome"]]
    shown["term_label"] = [term_label(t, report.language) for t in shown["term"]]
    return shown


def hedonic(report) -> Output:
    """Hedonic models of valuation, loan rate and the accept decision, per investor group."""
    out = Output()
    report.heading("valuation.sections.hedonic")
    report.say("valuation.text.hedonic", min_rows=MIN_MODEL_ROWS)
    if not _needs_features(report, out, "valuation.sections.hedonic", NEEDS["models"]):
        return out
    f = state(report)["features"]
    fits = hedonic_models(f)
    for key in _MODEL_KEYS:
        fit = fits[key]
        _left_out(report, _model_key(key), fit.rows_left_out)
        if not fit.ok:
            report.not_computed(_model_key(key), [fit.reason or Reason("valuation.reasons.not_fitted")])
    usable = {k: v for k, v in fits.items() if v.ok}
    state(report)["fits"] = fits
    report.results["hedonic"] = fits_to_results(fits)
    if not usable:
        out.skipped = [fits[k].reason for k in _MODEL_KEYS if fits[k].reason is not None]
        return out
    published = report.table(
        coefficient_table(usable), "hedonic_coefficients", keep=("outcome", "group", "term"), count_column="n_initiatives"
    )
    out.tables["hedonic_coefficients"] = published
    report.show(
        _coefficient_display(report, published),
        None,
        [
            Col("model", "text", label="valuation.col.model"),
            Col("group", "term", label="valuation.col.investor_group"),
            Col("term_label", "text", label="valuation.col.term"),
            Col("estimate", "number3", lo="ci_low", hi="ci_high", label="valuation.col.coefficient"),
            Col("n", "count", label="valuation.col.rows"),
            Col("n_initiatives", "count"),
        ],
    )
    out.figures["hedonic_coefficients"] = report.figure(plot_coefficients(usable, report.language), "hedonic_coefficients")
    for key in ("log_valuation|mainstream", "log_valuation|impact"):
        t = fits[key].term("log_impact")
        if t is not None and fits[key].n_clusters >= report.min_group_size:
            report.headline(
                f"valuation.headline_elasticity.{key.split('|')[1]}",
                t["estimate"],
                kind="number3",
                lo=t["ci_low"],
                hi=t["ci_high"],
            )
    _difference(report, f)
    return out


def _difference(report, f: pd.DataFrame) -> None:
    """Impact minus mainstream impact elasticity, from one fully interacted model per outcome."""
    for outcome, term in (("log_valuation", "log_impact"), ("accepted", "z_log_impact")):
        diff = impact_difference(f, outcome)
        t = diff.term(f"impact_investor:{term}")
        if t is None:
            report.not_computed(f"valuation.difference_names.{outcome}", [diff.reason or Reason("valuation.reasons.not_fitted")])
            continue
        report.results.setdefault("impact_difference", {})[outcome] = t
        report.say(
            f"valuation.difference.{outcome}",
            evidence=report.m.interval(t["estimate"], t["ci_low"], t["ci_high"], "signed3"),
            n=diff.n,
        )


# --- 3. decomposition ---------------------------------------------------------------------------


def _oaxaca_sides(f: pd.DataFrame, group: str, minimum_rows: int, minimum_initiatives: int) -> Reason | None:
    """A reason unless both sides (social-or-hybrid, commercial) have enough accepted equity offers."""
    offers = f[(f["investor_group"] == group) & (f["instrument"] == "equity") & (f["accepted"] == 1) & f["log_valuation"].notna()]
    n1 = int(offers["social_or_hybrid"].sum())
    n0 = len(offers) - n1
    i1 = offers.loc[offers["social_or_hybrid"] == 1, "initiative_id"].nunique()
    i0 = offers.loc[offers["social_or_hybrid"] == 0, "initiative_id"].nunique()
    if min(n0, n1) < minimum_rows or min(i0, i1) < minimum_initiatives:
        return Reason(
            "valuation.reasons.oaxaca_sides",
            {
                "group": group,
                "n1": n1,
                "n0": n0,
                "i1": int(i1),
                "i0": int(i0),
                "rows": minimum_rows,
                "initiatives": minimum_initiatives,
            },
        )
    return None


def _oaxaca_rows(f: pd.DataFrame, group: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Accepted equity offers of ``group`` with every covariate present (the decomposition's sample)."""
    offers = _rows_for(f[f["investor_group"] == group], "log_valuation")
    return complete_rows(offers, ["log_valuation", *OAXACA_COVARIATES], f"accepted equity offers from {group} investors")


def _full_rank(rows: pd.DataFrame) -> bool:
    """Whether each side's design (constant and covariates) has full column rank, so OLS is identified."""
    for side in (0, 1):
        X = rows.loc[rows["social_or_hybrid"] == side, list(OAXACA_COVARIATES)].astype(float).to_numpy()
        X = np.column_stack([np.ones(len(X)), X])
        if np.linalg.matrix_rank(X) < X.shape[1]:
            return False
    return True


def _oaxaca_group(report, f: pd.DataFrame, group: str) -> tuple[pd.DataFrame | None, Reason | None]:
    """Twofold table (as before) and the full bootstrap result of one investor group, or a reason."""
    rows, left_out = _oaxaca_rows(f, group)
    report.results.setdefault("rows_left_out", {})[f"decomposition ({group})"] = left_out
    _left_out(report, f"valuation.sections.decomposition_for.{group}", left_out)
    n1 = int(rows["social_or_hybrid"].sum())
    n0 = len(rows) - n1
    i1 = int(rows.loc[rows["social_or_hybrid"] == 1, "initiative_id"].nunique())
    i0 = int(rows.loc[rows["social_or_hybrid"] == 0, "initiative_id"].nunique())
    counts = {"n1": n1, "n0": n0, "i1": i1, "i0": i0, "rows": MIN_OAXACA_ROWS, "initiatives": report.min_group_size}
    if min(n0, n1) < MIN_OAXACA_ROWS or min(i0, i1) < report.min_group_size:
        return None, Reason("valuation.reasons.oaxaca_sides", {"group": group, **counts})
    if not _full_rank(rows):
        return None, Reason("valuation.reasons.oaxaca_rank", {"group": group})
    boot = decompose_bootstrap(
        rows,
        "log_valuation",
        OAXACA_COVARIATES,
        group="social_or_hybrid",
        a=1,
        cluster="initiative_id",
        reference=OAXACA_REFERENCE,
        reps=OAXACA_REPS,
        seed=report.seed,
    )
    used = int(boot["reps_used"].iloc[0])
    if used < OAXACA_REPS // 2:
        return None, Reason("valuation.reasons.oaxaca_reps", {"group": group, "used": used, "reps": OAXACA_REPS})
    boot = boot.assign(
        group=group,
        n_social_hybrid=n1,
        n_commercial=n0,
        n_initiatives_social_hybrid=i1,
        n_initiatives_commercial=i0,
        n_initiatives=min(i0, i1),
        n_left_out=left_out["n_dropped"],
        reps=used,
    )
    state(report).setdefault("oaxaca_parts", {})[group] = boot
    twofold = boot[(boot["part"] == "aggregate") & boot["name"].isin(TWOFOLD)].rename(columns={"name": "component"})
    return twofold.drop(columns=["part", "reps_used"]).reset_index(drop=True), None


def decomposition(report) -> Output:
    """Oaxaca-Blinder decomposition of the valuation gap, social-or-hybrid minus commercial.

    The twofold split (pooled reference) comes from :func:`maexlab.valuation.oaxaca.decompose_bootstrap`;
    the same result feeds :func:`detailed_decomposition`, so both sections show the same numbers.
    """
    out = Output()
    report.heading("valuation.sections.decomposition")
    report.say("valuation.text.decomposition", rows=MIN_OAXACA_ROWS, reps=OAXACA_REPS)
    if not _needs_features(report, out, "valuation.sections.decomposition", NEEDS["decomposition"]):
        return out
    f = state(report)["features"]
    parts = []
    for group in ("mainstream", "impact"):
        table, reason = _oaxaca_group(report, f, group)
        if reason is not None:
            if group == "mainstream":
                state(report)["oaxaca_reason"] = reason
            report.not_computed(f"valuation.sections.decomposition_for.{group}", [reason])
            out.skipped.append(reason)
            continue
        parts.append(table)
    if not parts:
        return out
    oaxaca = pd.concat(parts, ignore_index=True)[list(_TWOFOLD_COLUMNS)]
    state(report)["oaxaca"] = oaxaca
    published = report.table(oaxaca, "oaxaca_decomposition", keep=("group", "component"), count_column="n_initiatives")
    out.tables["oaxaca_decomposition"] = published
    report.results["oaxaca"] = published.to_dict(orient="records")
    shown = published.assign(component_label=[report.t(f"valuation.components.{c}") for c in published["component"]])
    report.show(
        shown,
        None,
        [
            Col("group", "term", label="valuation.col.investor_group"),
            Col("component_label", "text", label="valuation.col.component"),
            Col("estimate", "signed3", lo="ci_low", hi="ci_high", label="valuation.col.log_gap"),
            Col("n_social_hybrid", "count", label="valuation.col.n_social_hybrid"),
            Col("n_commercial", "count", label="valuation.col.n_commercial"),
            Col("n_initiatives", "count", label="valuation.col.n_initiatives_smaller"),
        ],
    )
    u = published[(published["group"] == "mainstream") & (published["component"] == "unexplained")]
    if len(u) and pd.notna(u["estimate"].iloc[0]):
        report.headline(
            "valuation.headline_unexplained",
            float(u["estimate"].iloc[0]),
            kind="signed3",
            lo=float(u["ci_low"].iloc[0]),
            hi=float(u["ci_high"].iloc[0]),
        )
    visible = published.dropna(subset=["estimate"])
    if len(visible):
        out.figures["oaxaca_decomposition"] = report.figure(plot_decomposition(visible, report.language), "oaxaca_decomposition")
    return detailed_decomposition(report, out)


# --- 3b. detailed and threefold decomposition ----------------------------------------------------


def detailed_parts(boot: pd.DataFrame) -> pd.DataFrame:
    """One row per covariate (and ``total``): explained and unexplained share with intervals.

    ``boot`` is one group's :func:`~maexlab.valuation.oaxaca.decompose_bootstrap` result with
    the section's count columns. The constant's explained share is 0 by construction (both groups
    have mean 1), so it is left missing; its unexplained share is the shift in the intercept. The
    ``total`` row is the twofold explained and unexplained parts of the same result, so the
    covariate rows add up to it.

    >>> import pandas as pd
    >>> b = pd.DataFrame({"part": ["aggregate", "aggregate", "explained", "unexplained", "explained", "unexplained"],
    ...     "name": ["explained", "unexplained", "const", "const", "x", "x"], "estimate": [1.0, 2.0, 0.0, 0.5, 1.0, 1.5],
    ...     "ci_low": 0.0, "ci_high": 3.0, "group": "g", "n_initiatives": 12})
    >>> detailed_parts(b)[["covariate", "explained", "unexplained"]].to_dict("list")
    {'covariate': ['x', 'const', 'total'], 'explained': [1.0, nan, 1.0], 'unexplained': [1.5, 0.5, 2.0]}
    """
    covariates = [c for c in boot.loc[boot["part"] == "explained", "name"] if c != CONSTANT] + [CONSTANT, "total"]
    rows = []
    for c in covariates:
        row: dict[str, Any] = {"group": boot["group"].iloc[0], "covariate": c}
        for part in ("explained", "unexplained"):
            sel = (
                boot[(boot["part"] == "aggregate") & (boot["name"] == part)]
                if c == "total"
                else boot[(boot["part"] == part) & (boot["name"] == c)]
            )
            est, lo, hi = (float(sel[k].iloc[0]) for k in ("estimate", "ci_low", "ci_high"))
            if c == CONSTANT and part == "explained":
                est = lo = hi = np.nan
            row.update({part: est, f"{part}_low": lo, f"{part}_high": hi})
        row["n_initiatives"] = int(boot["n_initiatives"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def _covariate_label(report, covariate: str) -> str:
    if covariate in ("total", CONSTANT):
        return report.t(f"valuation.detailed.{'total' if covariate == 'total' else 'constant'}")
    # The coefficient labels name their scale ("margin (per 0.10)"); a share of the gap has none.
    key = f"valuation.detailed.covariates.{covariate}"
    return report.t(key) if report.m.has(key) else term_label(covariate, report.language)


def detailed_decomposition(report, out: Output | None = None) -> Output:
    """Which fundamentals explain the valuation gap: the detailed and threefold decomposition.

    The second half of :func:`decomposition` (which calls it with its own ``out``), shown under
    a sub-heading. Uses the decomposition computed there (same offers, same bootstrap draws), so
    the totals equal the twofold table shown just above.
    """
    out = Output() if out is None else out
    report.heading("valuation.sections.detailed_decomposition", level=3)
    report.say(
        "valuation.text.detailed_decomposition", reference=report.t(f"valuation.references.{OAXACA_REFERENCE}"), reps=OAXACA_REPS
    )
    parts = state(report).get("oaxaca_parts") or {}
    if not parts:
        reason = state(report).get("oaxaca_reason") or Reason("valuation.reasons.no_decomposition")
        return _skip(report, out, "valuation.sections.detailed_decomposition", [reason])
    detailed = pd.concat([detailed_parts(b) for b in parts.values()], ignore_index=True)
    published = report.table(detailed, "oaxaca_detailed", keep=("group", "covariate"), count_column="n_initiatives")
    out.tables["oaxaca_detailed"] = published
    report.results["oaxaca_detailed"] = published.to_dict(orient="records")
    shown = published.assign(covariate_label=[_covariate_label(report, c) for c in published["covariate"]])
    report.show(
        shown,
        None,
        [
            Col("group", "term", label="valuation.col.investor_group"),
            Col("covariate_label", "text", label="valuation.col.term"),
            Col("explained", "signed3", lo="explained_low", hi="explained_high", label="valuation.col.explained_part"),
            Col("unexplained", "signed3", lo="unexplained_low", hi="unexplained_high", label="valuation.col.unexplained_part"),
        ],
    )
    threefold = pd.concat(
        [b[(b["part"] == "aggregate") & b["name"].isin(THREEFOLD)] for b in parts.values()], ignore_index=True
    ).rename(columns={"name": "component"})[["group", "component", "estimate", "ci_low", "ci_high", "n_initiatives"]]
    published3 = report.table(threefold, "oaxaca_threefold", keep=("group", "component"), count_column="n_initiatives")
    out.tables["oaxaca_threefold"] = published3
    report.results["oaxaca_threefold"] = published3.to_dict(orient="records")
    report.say("valuation.text.threefold")
    report.show(
        published3.assign(component_label=[report.t(f"valuation.components.{c}") for c in published3["component"]]),
        None,
        [
            Col("group", "term", label="valuation.col.investor_group"),
            Col("component_label", "text", label="valuation.col.component"),
            Col("estimate", "signed3", lo="ci_low", hi="ci_high", label="valuation.col.log_gap"),
        ],
    )
    for group in parts:
        _largest(report, published[published["group"] == group], group)
    bars = published[~published["covariate"].isin(["total", CONSTANT])].dropna(subset=["explained"])
    if len(bars):
        labels = {c: _covariate_label(report, c) for c in bars["covariate"]}
        fig = plot_detailed_decomposition(bars, labels, report.language)
        out.figures["oaxaca_detailed"] = report.figure(fig, "oaxaca_detailed")
    return out


def _largest(report, table: pd.DataFrame, group: str) -> None:
    """One sentence naming the fundamental with the largest explained share, and whether its interval excludes 0."""
    rows = table[~table["covariate"].isin(["total", CONSTANT])].dropna(subset=["explained"])
    total = table[table["covariate"] == "total"]
    if rows.empty or total.empty or pd.isna(total["explained"].iloc[0]):
        return
    top = rows.loc[rows["explained"].abs().idxmax()]
    clear = top["explained_low"] > 0 or top["explained_high"] < 0
    key = "valuation.detailed.largest_clear" if clear else "valuation.detailed.largest_unclear"
    values = {
        "group": group,
        "covariate": _covariate_label(report, top["covariate"]),
        "evidence": report.m.interval(top["explained"], top["explained_low"], top["explained_high"], "signed3"),
        "explained": report.m.interval(
            total["explained"].iloc[0], total["explained_low"].iloc[0], total["explained_high"].iloc[0], "signed3"
        ),
    }
    report.say(key, **values)
    if group == "mainstream":
        report.finding(key, **values)


# --- 4. blended value ---------------------------------------------------------------------------


def blended(
    report, horizon_years: int = DEFAULT_HORIZON_YEARS, social_discount_rate: float = DEFAULT_SOCIAL_DISCOUNT_RATE
) -> Output:
    """Blended value (fundamentals-only value plus capitalised impact value) against the investor's valuation."""
    out = Output()
    report.heading("valuation.sections.blended")
    named = discount_rate_named(social_discount_rate)
    source = report.t(f"valuation.discount_sources.{named.name if named else 'chosen'}")
    report.say("valuation.text.blended", years=horizon_years, rate=social_discount_rate, source=source)
    if not _needs_features(report, out, "valuation.sections.blended", NEEDS["blended"]):
        return out
    ref = state(report)["fits"].get("log_valuation|mainstream")
    if ref is None or not ref.ok:
        reason = (ref.reason if ref is not None else None) or Reason("valuation.reasons.not_fitted")
        return _skip(report, out, "valuation.sections.blended", [Reason("valuation.reasons.needs_mainstream_model"), reason])
    b = blended_gap(state(report)["features"], ref, horizon_years=horizon_years, social_discount_rate=social_discount_rate)
    _left_out(report, "valuation.sections.blended", b.attrs["rows_left_out"])
    if b.empty:
        return _skip(report, out, "valuation.sections.blended", [Reason("valuation.reasons.no_offers")])
    cols = [
        Col("value_model", "term"),
        Col("phase", "term"),
        Col("n", "count", label="valuation.col.offers"),
        Col("n_initiatives", "count"),
        Col("ratio_median", "number2", lo="ratio_q25", hi="ratio_q75", label="valuation.col.ratio_median"),
        Col("gap_median", "money", lo="gap_q25", hi="gap_q75", label="valuation.col.gap_median"),
    ]
    by_phase = report.show(
        blended_gap_table(b),
        "blended_gap_by_value_model_phase",
        cols,
        keep=("value_model", "phase"),
        count_column="n_initiatives",
    )
    by_vm = report.show(
        blended_gap_table(b, by=("value_model",)),
        "blended_gap_by_value_model",
        [c for c in cols if c.name != "phase"],
        keep=("value_model",),
        count_column="n_initiatives",
    )
    out.tables.update(blended_gap_by_value_model_phase=by_phase, blended_gap_by_value_model=by_vm)
    report.results["blended"] = {
        "horizon_years": horizon_years,
        "social_discount_rate": social_discount_rate,
        "rows_left_out": b.attrs["rows_left_out"],
        "by_value_model": by_vm.to_dict(orient="records"),
    }
    state(report)["blended"] = by_vm
    out.figures["blended_gap_boxplot"] = report.figure(
        plot_blended_gap(b, report.min_group_size, report.language), "blended_gap_boxplot"
    )
    return out


# --- 5. predictive audit ---------------------------------------------------------------------------


def _audit_reason(report, message: str | None) -> Reason:
    return (
        Reason("valuation.reasons.audit_rows", {"minimum": MIN_MODEL_ROWS}) if message else Reason("valuation.reasons.no_audit")
    )


def audit(report) -> Output:
    """Predictive audit: what drives acceptance, and does the mainstream rule under-rate high impact?"""
    out = Output()
    report.heading("valuation.sections.audit")
    report.say("valuation.text.audit", reps=AUDIT_REPS)
    if not _needs_features(report, out, "valuation.sections.audit", NEEDS["audit"]):
        return out
    result = vaudit.audit(state(report)["features"], seed=report.seed, reps=AUDIT_REPS, min_group_size=report.min_group_size)
    state(report)["audit"] = result
    rec = result["rows"]
    report.results["audit"] = {"rows": rec}
    if rec["n_filled_people_reached"]:
        report.say(
            "valuation.text.audit_filled",
            n=rec["n_filled_people_reached"],
            total=rec["n_input"],
            value=rec["people_reached_fill_value"],
        )
    _left_out(report, "valuation.sections.audit", rec)
    for part in sorted(result["messages"]):
        report.not_computed(f"valuation.audit_parts.{part}", [_audit_reason(report, result["messages"][part])])
        out.skipped.append(_audit_reason(report, result["messages"][part]))
    if len(result["auc"]):
        auc = report.show(
            result["auc"],
            "audit_auc",
            [
                Col("group", "term", label="valuation.col.investor_group"),
                Col("auc", "number2", lo="ci_low", hi="ci_high", label="valuation.col.auc"),
                Col("auc_fold_mean", "number2", label="valuation.col.auc_fold_mean"),
                Col("n", "count", label="valuation.col.assessments"),
                Col("n_initiatives", "count"),
            ],
            keep=("group",),
            count_column="n_initiatives",
        )
        importance = report.table(
            result["importance"], "audit_group_importance", keep=("group", "feature_group"), count_column="n_initiatives"
        )
        report.show(
            importance.assign(
                feature_label=[report.t(f"valuation.feature_groups.{g.replace(' ', '_')}") for g in importance["feature_group"]]
            ),
            None,
            [
                Col("group", "term", label="valuation.col.investor_group"),
                Col("feature_label", "text", label="valuation.col.feature_group"),
                Col("importance", "number3", lo="ci_low", hi="ci_high", label="valuation.col.importance"),
            ],
        )
        out.tables.update(audit_auc=auc, audit_group_importance=importance)
        report.results["audit"].update(auc=auc.to_dict(orient="records"), importance=importance.to_dict(orient="records"))
    c = result["contrast"]
    if c is not None:
        calib = report.show(
            result["calibration"],
            "audit_calibration_by_impact_decile",
            [
                Col("decile", "count", label="valuation.col.decile", group=True),
                Col("n", "count", label="valuation.col.assessments"),
                Col("n_initiatives", "count"),
                Col("impact_value_median_eur", "money", label="valuation.col.impact_value_median"),
                Col("observed", "percent", label="valuation.col.observed"),
                Col("mainstream_rule", "percent", label="valuation.col.mainstream_rule"),
                Col("impact_rule", "percent", label="valuation.col.impact_rule"),
                Col("observed_impact", "percent", label="valuation.col.observed_impact"),
            ],
            keep=("decile",),
            count_column="n_initiatives",
        )
        out.tables["audit_calibration_by_impact_decile"] = calib
        report.results["audit"]["contrast"] = c
        report.say(
            "valuation.text.audit_contrast",
            evidence=report.m.interval(c["estimate"], c["ci_low"], c["ci_high"], "signed3"),
            n=c["n"],
        )
        if calib["observed"].notna().any():
            out.figures["audit_calibration_by_impact_decile"] = report.figure(
                vaudit.plot_calibration(calib, report.language), "audit_calibration_by_impact_decile"
            )
    return out


# --- 6. willingness to pay ---------------------------------------------------------------------------


def wtp(report) -> Output:
    """Willingness to pay: the loan-rate discount impact investors grant for the same fundamentals."""
    out = Output()
    report.heading("valuation.sections.wtp")
    report.say("valuation.text.wtp", lo=BMY_RANGE_PP[0], hi=BMY_RANGE_PP[1])
    if not _needs_features(report, out, "valuation.sections.wtp", NEEDS["wtp"]):
        state(report)["wtp_reason"] = out.skipped[0] if out.skipped else None
        return out
    summary, fit = willingness_to_pay(state(report)["features"])
    _left_out(report, "valuation.sections.wtp", fit.rows_left_out)
    report.results.setdefault("rows_left_out", {})["willingness to pay"] = fit.rows_left_out
    if summary is None:
        state(report)["wtp_reason"] = fit.reason
        return _skip(report, out, "valuation.sections.wtp", [fit.reason or Reason("valuation.reasons.not_fitted")])
    state(report)["wtp"] = summary
    report.results["wtp"] = summary
    report.say(
        "valuation.text.wtp_result",
        evidence=report.m.interval(summary["wtp_pp"], summary["ci_low"], summary["ci_high"], "number2"),
        impact=summary["n_impact"],
        mainstream=summary["n_mainstream"],
    )
    report.headline("valuation.headline_wtp", summary["wtp_pp"], kind="number2", lo=summary["ci_low"], hi=summary["ci_high"])
    out.figures["wtp_vs_published"] = report.figure(plot_wtp(summary, report.language), "wtp_vs_published")
    return out


# --- 7. verdicts and findings ---------------------------------------------------------------------------


def _finding(report, v) -> None:
    verdict = report.t(f"common.verdict.{v.verdict}")
    if v.estimate is None:
        why = "; ".join(report.reason_text(r) for r in v.reasons) or report.t("valuation.reasons.not_fitted")
        report.finding("valuation.findings.not_testable", claim=report.t(v.claim), verdict=verdict, why=why)
        return
    evidence = report.m.interval(v.estimate, v.lo, v.hi, v.kind)
    instrument = v.rule_values.get("instrument")
    extra = {"instrument": report.t(f"valuation.instrument_names.{instrument}")} if instrument else {}
    report.finding(f"valuation.findings.{v.claim.rsplit('.', 1)[1]}", evidence=evidence, verdict=verdict, **extra)


def verdicts(report) -> Output:
    """The verdict on every claim (rule, evidence, reasons) and the findings summary."""
    out = Output()
    report.heading("valuation.sections.verdicts")
    report.say("valuation.text.verdicts")
    s = state(report)
    if s["features"] is None:
        blocked = tuple(s.get("blocked") or unmet(report.data, NEEDS["features"]) or [Reason("valuation.reasons.no_features")])
        found = [Verdict(claim, NOT_TESTABLE, "common.rules.not_testable", reasons=blocked) for claim in CLAIMS]
    else:
        found = claim_verdicts(
            s["fits"],
            s["oaxaca"],
            s["wtp"],
            s["audit"],
            min_group_size=report.min_group_size,
            wtp_reason=s["wtp_reason"],
            oaxaca_reason=s.get("oaxaca_reason"),
        )
    out.verdicts = report.verdicts(found, heading=False)
    table = pd.DataFrame([{**v.to_dict(), "reasons": "; ".join(r.key for r in v.reasons)} for v in found]).drop(
        columns="rule_values"
    )
    out.tables["verdicts"] = report.table(table, "verdicts", count_column=None)
    if s["features"] is None:
        # Nothing could be estimated: one sentence with the reasons, not one per claim.
        why = "; ".join(report.reason_text(r) for r in found[0].reasons)
        report.finding("valuation.findings.none_testable", why=why)
        return out
    for v in found:
        _finding(report, v)
    return out


#: The sections of notebook 02 in notebook order (the degenerate-data battery runs them all).
SECTIONS = (features, hedonic, decomposition, blended, audit, wtp, verdicts)
