"""The sections of notebook 01 (funding gaps): each takes the report and does one section.

Every section shows its heading and explanation in the report's language, checks what it
needs before estimating (:data:`NEEDS` and the estimand checks below), publishes its tables
(raw CSV in tables/, formatted on screen), shows its figures, records results and verdicts,
and returns a :class:`~maexlab.reporting.SectionOutput`. A section that cannot be computed
says why and returns with ``skipped`` set. Sections share the applications and fitted models
through a small cache on the report, so each can also run on its own.

>>> from maexlab.funding import sections
>>> [s.__name__ for s in sections.SECTIONS][:3]
['applications_overview', 'overall_coverage', 'gap_tables']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from maexlab.funding import claims
from maexlab.funding import models as fm
from maexlab.funding.tables import (
    ESEM_COVERAGE,
    applications,
    coverage_by_year,
    dimension_needs,
    gap_table,
    linked_gap_patterns,
    multi_year_by_phase,
    phase_needs,
    plot_coverage_by_year,
    plot_gap_heatmap,
    plot_missing_middle,
    plot_share_distribution,
    protect_gap_amounts,
    share_capped,
    undecided_table,
)
from maexlab.reporting import Col, Needs, Reason, SectionOutput, two_groups_large_enough, unmet
from maexlab.reporting.linked import apply_linked, population, report_area
from maexlab.reporting.privacy import suppress_small_cells
from maexlab.reporting.verdicts import Verdict

__all__ = [
    "NEEDS",
    "SECTIONS",
    "applications_overview",
    "claims_tested",
    "gap_tables",
    "marginal_effects",
    "missing_middle",
    "models",
    "overall_coverage",
    "over_time",
    "share_distribution",
    "source_by_phase",
]


class _Output(SectionOutput):
    """A SectionOutput that shows nothing when it is a cell's last value: the section has shown
    its content already (``cell: sections.x(report)`` must not print a repr into the report)."""

    def _ipython_display_(self) -> None:
        return None


#: Cluster-bootstrap replicates behind every interval on coverage and shares.
N_BOOT = 300
#: Dimensions of the one-way gap tables, in report order.
GAP_DIMENSIONS: tuple[str, ...] = ("source", "phase", "purpose", "value_model", "theme", "size_band")
#: What the sections need from the data (present and non-empty), declared once.
NEEDS: dict[str, Needs] = {
    "applications": Needs({"funding": ("initiative_id", "source", "purpose", "status", "amount_requested", "amount_granted")}),
    "year": Needs({"funding": ("applied_on",)}),
    "multi_year": Needs({"funding": ("multi_year",)}),
}

GAP_COLUMNS = (
    Col("n", "count"),
    Col("n_initiatives", "count"),
    Col("requested_eur", "money"),
    Col("coverage", "percent", lo="coverage_lo", hi="coverage_hi", label="funding.col.coverage"),
    Col("approval_rate", "percent", lo="approval_rate_lo", hi="approval_rate_hi", label="funding.col.approval_rate"),
    Col("share_rejected", "percent"),
)


@dataclass
class _State:
    """What the sections of one report share (computed once, on first use)."""

    apps: pd.DataFrame | None = None
    overall: pd.DataFrame | None = None
    gaps: dict[str, pd.DataFrame] = field(default_factory=dict)
    linked: dict[str, pd.DataFrame] | None = None
    fits: dict[str, fm.ModelFit | None] | None = None
    fit_reasons: list[Reason] = field(default_factory=list)


def _state(report) -> _State:
    return report.__dict__.setdefault("_funding_sections", _State())


def _apps(report) -> pd.DataFrame:
    state = _state(report)
    if state.apps is None:
        state.apps = applications(report.data)
    return state.apps


def _needs_apps(report, section: str, out: SectionOutput, extra=()) -> bool:
    """The applications precondition (funding table with its core columns, one decided application)."""
    reasons = unmet(report.data, NEEDS["applications"])
    if not reasons:
        decided = int(_apps(report)["decided"].sum())
        reasons = [] if decided else [Reason("funding.reasons.no_decided")]
    reasons += [r for r in extra if r is not None]
    if reasons:
        report.not_computed(section, reasons)
        out.skipped.extend(reasons)
        return False
    return True


def _skip(report, section: str, out: SectionOutput, reasons) -> SectionOutput:
    reasons = [r for r in reasons if r is not None]
    report.not_computed(section, reasons)
    out.skipped.extend(reasons)
    return out


def _left_out_note(report, table: pd.DataFrame, name: str) -> None:
    """Say (and record) how many decided applications a table leaves out, and why."""
    info = table.attrs.get("left_out") or {"applications": 0, "by_column": {}}
    report.results.setdefault("left_out", {})[name] = {"applications": info["applications"], "by_column": info["by_column"]}
    if info["applications"]:
        detail = "; ".join(
            report.t("funding.left_out_part", what=report.t(f"funding.missing.{c}"), n=n) for c, n in info["by_column"].items()
        )
        report.say("funding.left_out", n=info["applications"], detail=detail)


def _group_label(report, dim: str, value) -> str:
    if dim == "size_band":
        return report.t(f"funding.size_bands.{value}")
    return str(value) if dim == "year" else report.m.term(value)


def _large_groups(report, table: pd.DataFrame, dim: str) -> Reason | None:
    """A reason unless two groups of ``dim`` reach the minimum group size (groups named in words)."""
    labels = [_group_label(report, dim, v) for v in table[dim]]
    counts = dict(zip(labels, table["n_initiatives"].fillna(0).astype(int), strict=True))
    return two_groups_large_enough(counts, report.min_group_size)


def _linked(report) -> dict[str, pd.DataFrame]:
    """The run's suppression pattern of every gap table, over nation, provinces and municipalities.

    Computed on the whole dataset (same period), so the report of every place hides the same
    cells; empty when protection is off (minimum group size 1) or there is no funding table.
    """
    state = _state(report)
    if state.linked is None:
        whole = population(report)
        state.linked = {}
        if report.min_group_size > 1 and whole.has("funding", "amount_requested") and whole.initiatives is not None:
            apps = _apps(report) if whole is report.data else applications(whole)
            tables = {"gap_overall": ()}
            tables.update({f"gap_by_{dim}": (dim,) for dim in (*GAP_DIMENSIONS, "year") if dim in apps.columns})
            if "phase" in apps.columns:
                tables["gap_by_source_phase"] = ("source", "phase")
            state.linked = linked_gap_patterns(
                apps, whole.initiatives, tables, min_group_size=report.min_group_size, rules=report.magnitude_rules
            )
    return state.linked


def _publish_gap(report, table: pd.DataFrame, name: str, by: tuple[str, ...]) -> pd.DataFrame:
    """Publish a gap table after the threshold, dominance and p% rules (its euro columns) and the
    run's linked pattern (a cell hidden in another place's table stays hidden here)."""
    protected = protect_gap_amounts(
        table,
        _apps(report),
        by,
        min_group_size=report.min_group_size,
        dominance=report.magnitude_rules.dominance,
        p_percent=report.magnitude_rules.p_percent,
    )
    pattern = _linked(report).get(name)
    if pattern is not None:
        protected = apply_linked(table, pattern, report_area(report), by, fallback=protected)
    rules = protected["suppressed_rule"].value_counts()
    report.results.setdefault("disclosure", {})[name] = {str(k): int(v) for k, v in rules.items() if k}
    # Suppression is done; publishing only rounds and writes (count_column=None: no second pass).
    return report.table(protected, name, count_column=None)


def _dominance_note(report, shown: pd.DataFrame) -> None:
    """Say that "·" also hides amounts dominated by one or two initiatives, when it does here."""
    if shown.get("suppressed_rule") is not None and shown["suppressed_rule"].isin(["dominance", "p_percent"]).any():
        report.say(
            "funding.dominance_note",
            mark=report.t("common.suppressed_mark"),
            n=report.magnitude_rules.dominance_n,
            k=report.magnitude_rules.dominance_k / 100,
            p=report.magnitude_rules.p_percent / 100,
        )


def _show_gap(report, shown: pd.DataFrame, by: tuple[str, ...]) -> None:
    """Show a published gap table with its labels translated (size bands, vocabulary terms)."""
    display = shown.copy()
    cols = []
    for dim in by:
        if dim == "size_band":
            display[dim] = [report.t(f"funding.size_bands.{b}") for b in display[dim]]
            cols.append(Col(dim, "text", label="funding.col.size_band"))
        elif dim == "year":
            cols.append(Col(dim, "year"))
        else:
            cols.append(Col(dim, "term", label=f"funding.col.{dim}"))
    report.show(display, None, [*cols, *GAP_COLUMNS])
    _dominance_note(report, shown)


# --- 1. applications and decisions -------------------------------------------------------------


def applications_overview(report) -> SectionOutput:
    """How many applications were decided, and those still pending or withdrawn."""
    out = _Output()
    report.heading("funding.sections.applications")
    report.say("funding.text.applications")
    if not _needs_apps(report, "funding.sections.applications", out):
        return out
    apps = _apps(report)
    decided = apps[apps["decided"]]
    n_undecided = int((~apps["decided"]).sum())
    report.say(
        "funding.text.decided_counts", n=len(decided), initiatives=decided["initiative_id"].nunique(), undecided=n_undecided
    )
    report.headline("funding.headline.decided", len(decided), kind="count")
    report.results["applications"] = {
        "decided": len(decided),
        "undecided": n_undecided,
        "initiatives_with_decided": int(decided["initiative_id"].nunique()),
    }
    if n_undecided:
        table = report.table(
            undecided_table(apps), "undecided_applications", keep=("status", "source"), count_column="n_initiatives"
        )
        cols = [
            Col("status", "term"),
            Col("source", "term"),
            Col("n", "count"),
            Col("n_initiatives", "count"),
            Col("requested_eur", "money"),
        ]
        report.show(table, None, cols)
        out.tables["undecided_applications"] = table
    return out


# --- 2. overall coverage -----------------------------------------------------------------------


def _overall(report) -> pd.DataFrame:
    state = _state(report)
    if state.overall is None:
        table = gap_table(_apps(report), [], seed=report.seed, n_boot=N_BOOT)
        # The place's total is a cell of its province's table by municipality: threshold rule here,
        # then the run's linked pattern (dominance, p% and the cells hidden with other places').
        protected = suppress_small_cells(table, count_column="n_initiatives", min_group_size=report.min_group_size)
        protected["suppressed_rule"] = np.where(protected["suppressed"].astype(bool), "threshold", "")
        pattern = _linked(report).get("gap_overall")
        if pattern is not None:
            protected = apply_linked(table, pattern, report_area(report), (), fallback=protected)
        rules = protected["suppressed_rule"].value_counts()
        report.results.setdefault("disclosure", {})["gap_overall"] = {str(k): int(v) for k, v in rules.items() if k}
        state.overall = report.table(protected, "gap_overall", count_column=None)
    return state.overall


def _overall_reason(report, row) -> Reason:
    """Why the place's overall figures are hidden: too few initiatives, or the euro rules."""
    if row.get("suppressed_rule", "threshold") in ("threshold", ""):
        return Reason("funding.reasons.suppressed_overall", {"minimum": report.min_group_size})
    return Reason("funding.reasons.suppressed_overall_linked")


def overall_coverage(report) -> SectionOutput:
    """Money-weighted coverage over all decided applications, with its cluster-bootstrap interval."""
    out = _Output()
    report.heading("funding.sections.overall")
    report.say("funding.text.overall", n_boot=N_BOOT)
    if not _needs_apps(report, "funding.sections.overall", out):
        return out
    overall = _overall(report)
    out.tables["gap_overall"] = overall
    row = overall.iloc[0]
    if bool(row["suppressed"]):
        return _skip(
            report,
            "funding.sections.overall",
            out,
            [_overall_reason(report, row)],
        )
    report.show(overall, None, list(GAP_COLUMNS))
    report.say(
        "funding.text.overall_result",
        coverage=report.m.interval(row["coverage"], row["coverage_lo"], row["coverage_hi"], "percent1"),
        requested=row["requested_eur"],
        esem=ESEM_COVERAGE,
    )
    report.headline(
        "funding.headline.coverage",
        float(row["coverage"]),
        kind="percent",
        lo=float(row["coverage_lo"]),
        hi=float(row["coverage_hi"]),
    )
    report.results["coverage_overall"] = {k: float(row[k]) for k in ("coverage", "coverage_lo", "coverage_hi", "approval_rate")}
    return out


# --- 3. gap tables -----------------------------------------------------------------------------


def gap_tables(report) -> SectionOutput:
    """One gap table per dimension (source, phase, purpose, value model, theme, request size)."""
    out = _Output()
    report.heading("funding.sections.gaps")
    report.say("funding.text.gaps")
    if not _needs_apps(report, "funding.sections.gaps", out):
        return out
    apps = _apps(report)
    for dim in GAP_DIMENSIONS:
        section = f"funding.sections.gap_by.{dim}"
        report.heading(section, level=3)
        reasons = unmet(report.data, dimension_needs(report.data, dim))
        if reasons or dim not in apps.columns:
            _skip(report, section, out, reasons or [Reason("funding.reasons.phase_unknown")])
            continue
        table = gap_table(apps, [dim], seed=report.seed, n_boot=N_BOOT)
        too_few = _large_groups(report, table, dim)
        if too_few:
            _skip(report, section, out, [too_few])
            continue
        shown = _publish_gap(report, table, f"gap_by_{dim}", (dim,))
        _state(report).gaps[dim] = shown
        _show_gap(report, shown, (dim,))
        _left_out_note(report, table, f"gap_by_{dim}")
        out.tables[f"gap_by_{dim}"] = shown
        visible = shown[~shown["suppressed"].astype(bool)]
        report.results[f"coverage_by_{dim}"] = {
            str(r[dim]): {"coverage": r["coverage"], "lo": r["coverage_lo"], "hi": r["coverage_hi"]}
            for _, r in visible.iterrows()
        }
        if dim == "source" and len(visible) >= 2:
            low, high = visible.loc[visible["coverage"].idxmin()], visible.loc[visible["coverage"].idxmax()]
            report.finding(
                "funding.findings.sources",
                low=low["source"],
                low_cov=report.m.interval(low["coverage"], low["coverage_lo"], low["coverage_hi"], "percent"),
                high=high["source"],
                high_cov=report.m.interval(high["coverage"], high["coverage_lo"], high["coverage_hi"], "percent"),
            )
    return out


# --- 4. source x phase -------------------------------------------------------------------------


def source_by_phase(report) -> SectionOutput:
    """Coverage for every combination of source and phase at application, as a heatmap."""
    out = _Output()
    section = "funding.sections.source_phase"
    report.heading(section)
    report.say("funding.text.source_phase", mark=report.t("common.suppressed_mark"))
    needs = dimension_needs(report.data, "phase")
    if not _needs_apps(report, section, out, unmet(report.data, needs)):
        return out
    apps = _apps(report)
    if "phase" not in apps.columns:
        return _skip(report, section, out, [Reason("funding.reasons.phase_unknown")])
    table = gap_table(apps, ["source", "phase"], seed=report.seed, n_boot=N_BOOT)
    cross = _publish_gap(report, table, "gap_by_source_phase", ("source", "phase"))
    if (~cross["suppressed"].astype(bool)).sum() < 2:
        return _skip(report, section, out, [Reason("funding.reasons.cells_suppressed", {"minimum": report.min_group_size})])
    out.figures["gap_heatmap_source_phase"] = report.figure(
        plot_gap_heatmap(cross, "source", "phase", language=report.language), "gap_heatmap_source_phase"
    )
    _dominance_note(report, cross)
    _left_out_note(report, table, "gap_by_source_phase")
    out.tables["gap_by_source_phase"] = cross
    return out


# --- 5. missing middle -------------------------------------------------------------------------


def missing_middle(report) -> SectionOutput:
    """Coverage and approval by request size: do mid-sized requests (EUR 25-250k) fare worse?"""
    out = _Output()
    section = "funding.sections.missing_middle"
    report.heading(section)
    report.say("funding.text.missing_middle", esem=ESEM_COVERAGE)
    if not _needs_apps(report, section, out):
        return out
    shown = _state(report).gaps.get("size_band")
    if shown is None:
        table = gap_table(_apps(report), ["size_band"], seed=report.seed, n_boot=N_BOOT)
        too_few = _large_groups(report, table, "size_band")
        if too_few:
            return _skip(report, section, out, [too_few])
        shown = _publish_gap(report, table, "gap_by_size_band", ("size_band",))
    out.figures["missing_middle"] = report.figure(plot_missing_middle(shown, language=report.language), "missing_middle")
    _dominance_note(report, shown)
    return out


# --- 6. share granted --------------------------------------------------------------------------


def share_distribution(report) -> SectionOutput:
    """How much of the request approved applications receive."""
    out = _Output()
    section = "funding.sections.share"
    report.heading(section)
    report.say("funding.text.share")
    if not _needs_apps(report, section, out):
        return out
    apps = _apps(report)
    approved = apps[apps["decided"] & apps["approved"].fillna(False).astype(bool)]
    n_init = int(approved["initiative_id"].nunique())
    if n_init < report.min_group_size:
        return _skip(
            report, section, out, [Reason("funding.reasons.too_few_approved", {"n": n_init, "minimum": report.min_group_size})]
        )
    capped = share_capped(apps)
    report.results.setdefault("left_out", {})["share_granted_capped_at_1"] = capped
    if capped:
        report.say("funding.text.capped", n=capped)
    overall = _overall(report)["coverage"].iloc[0]
    out.figures["share_granted_distribution"] = report.figure(
        plot_share_distribution(apps, overall=overall, language=report.language), "share_granted_distribution"
    )
    return out


# --- 7. models ---------------------------------------------------------------------------------


def _why_no_fit(apps: pd.DataFrame, fit: fm.ModelFit | None) -> list[Reason]:
    """The true reason a model could not be fitted (too few decided applications, one outcome)."""
    frame, _ = fm.model_frame(apps, *_model_options(apps))
    if len(frame) < fm.MIN_DECIDED:
        return [Reason("funding.reasons.too_few_decided", {"n": len(frame), "minimum": fm.MIN_DECIDED})]
    if frame["approved"].astype(bool).nunique() < 2:
        key = "funding.reasons.all_approved" if bool(frame["approved"].iloc[0]) else "funding.reasons.none_approved"
        return [Reason(key, {"n": len(frame)})]
    return [Reason("funding.reasons.too_few_after_perfect_prediction", {"minimum": fm.MIN_DECIDED})]


def _model_options(apps: pd.DataFrame) -> tuple[bool, bool, bool]:
    options, _ = fm.terms_available(apps)
    return options["value_model"], options["phase"], options["multi_year"]


def _fits(report) -> dict[str, fm.ModelFit | None]:
    state = _state(report)
    if state.fits is None:
        apps = _apps(report)
        state.fits = {
            "approval": fm.fit_approval(apps),
            "coverage": fm.fit_coverage(apps),
            "fund": fm.fit_approval(apps, fund_purpose=True),
        }
        state.fit_reasons = _why_no_fit(apps, state.fits["approval"]) if state.fits["approval"] is None else []
    return state.fits


def _usable(fit: fm.ModelFit | None) -> bool:
    return fit is not None and fit.usable


def _reference_levels(report, fit: fm.ModelFit) -> str:
    """The reference level of each factor in the model, in words (replaced ones included)."""
    factors = ["purpose"] + [f for f in ("phase", "value_model") if fit.options.get(f)]
    return ", ".join(report.t(f"funding.text.reference_part.{f}", level=fit.references[f]) for f in factors)


def _describe_fit(report, fit: fm.ModelFit) -> None:
    report.say("funding.text.fit_size", n=fit.n_obs, clusters=fit.n_clusters)
    report.say("funding.text.references", levels=_reference_levels(report, fit))
    for reason in (*fit.omitted.values(), *fit.notes):
        values = dict(reason.values)
        # Term names are stored as the model spells them; the reader sees them in words.
        if "terms" in values:
            terms = values["terms"].split(", ")
            if reason.key == "funding.notes.dropped_empty":
                # Sources nobody applied to are no news; other empty levels are worth a line.
                terms = [t for t in terms if not t.startswith("source[")]
                if not terms:
                    continue
            values["terms"] = ", ".join(fm.term_label(t, report.language) for t in terms)
        if "term" in values:
            values["term"] = fm.term_label(values["term"], report.language)
        report.say(reason.key, **values)


def _odds_table(report, fit: fm.ModelFit, name: str) -> pd.DataFrame:
    table = report.table(fm.odds_ratio_table(fit), name, count_column=None)
    # p below 0.001 is shown as "< 0.001": three zeros would read as "no chance at all".
    p_shown = [report.t("funding.p_below", p=0.001) if p < 0.001 else report.m.value(p, "number3") for p in table["p"]]
    shown = table.assign(term=[fm.term_label(t, report.language) for t in table["term"]], p=p_shown)
    cols = [
        Col("term", "text", label="funding.col.term"),
        Col("odds_ratio", "number2", lo="or_lo", hi="or_hi", label="funding.col.odds_ratio"),
        Col("p", "text", label="funding.col.p"),
    ]
    caption = report.t("funding.text.odds_caption", levels=_reference_levels(report, fit))
    report.show(shown, None, cols, caption=caption)
    return table


def models(report) -> SectionOutput:
    """Who gets approved, and how much of the request: approval logit and fractional coverage logit."""
    out = _Output()
    section = "funding.sections.models"
    report.heading(section)
    report.say("funding.text.models")
    report.say("funding.text.associations")
    if not _needs_apps(report, section, out):
        return out
    fits = _fits(report)
    report.results["model_notes"] = {}
    report.results["model_references"] = {}
    for name in ("approval", "coverage"):
        fit = fits[name]
        sub = f"funding.sections.model.{name}"
        report.heading(sub, level=3)
        if fit is None:
            _skip(report, sub, out, _state(report).fit_reasons or _why_no_fit(_apps(report), None))
            continue
        report.results["model_notes"][name] = fit.notes_record()
        report.results["model_references"][name] = fit.references
        if not fit.usable:
            _skip(report, sub, out, fit.problems)
            continue
        _describe_fit(report, fit)
        table = _odds_table(report, fit, f"{name}_odds_ratios")
        out.tables[f"{name}_odds_ratios"] = table
        report.results[f"{name}_model"] = {
            t: {k: v[k] for k in ("coef", "lo", "hi", "odds_ratio")} for t, v in fit.terms().items()
        }
    return out


def marginal_effects(report) -> SectionOutput:
    """The model contrasts in percentage points (average marginal effects)."""
    out = _Output()
    section = "funding.sections.ame"
    report.heading(section)
    report.say("funding.text.ame")
    if not _needs_apps(report, section, out):
        return out
    fits = _fits(report)
    tables = {name: fm.ame_table(fits[name]) for name in ("approval", "coverage") if _usable(fits[name])}
    if not tables:
        problems = [p for name in ("approval", "coverage") if fits[name] is not None for p in fits[name].problems]
        return _skip(report, section, out, problems or _state(report).fit_reasons)
    ame = pd.concat(tables.values(), ignore_index=True)
    shown = report.table(ame, "average_marginal_effects", count_column="n", keep=("effect", "model"))
    report.results["average_marginal_effects_pp"] = {
        f"{r.model}|{r.effect}": {"ame": r.ame_pp, "lo": r.lo_pp, "hi": r.hi_pp} for r in shown.itertuples() if not r.suppressed
    }
    published = {name: shown[shown["model"] == name] for name in tables}
    out.figures["marginal_effects_forest"] = report.figure(
        fm.plot_ame_forest(published, report.language), "marginal_effects_forest"
    )
    display = shown.assign(
        effect=[report.t(f"funding.effects.{e}") for e in shown["effect"]],
        model=[report.t(f"funding.model_names.{m}") for m in shown["model"]],
    )
    cols = [
        Col("model", "text", label="funding.col.model"),
        Col("effect", "text", label="funding.col.effect"),
        Col("ame_pp", "signed2", lo="lo_pp", hi="hi_pp", label="funding.col.ame"),
        Col("n", "count"),
    ]
    report.show(display, None, cols)
    out.tables["average_marginal_effects"] = shown
    return out


# --- 8. claims ---------------------------------------------------------------------------------


def _coverage_claim(report) -> Verdict:
    reasons = unmet(report.data, NEEDS["applications"])
    if reasons:
        return claims.coverage_verdict(None, None, None, reasons)
    if not int(_apps(report)["decided"].sum()):
        return claims.coverage_verdict(None, None, None, [Reason("funding.reasons.no_decided")])
    row = _overall(report).iloc[0]
    if bool(row["suppressed"]):
        return claims.coverage_verdict(None, None, None, [_overall_reason(report, row)])
    return claims.coverage_verdict(row["coverage"], row["coverage_lo"], row["coverage_hi"])


#: The contrast a model claim is decided on (its ``funding.evidence`` label) -> the model it comes
#: from and the average marginal effect that states the same contrast in percentage points
#: (:data:`fm.AME_SPECS`). Organisational strengthening against projects within funds has no AME.
EVIDENCE_AME = {
    "hybrid_social_subsidy": ("approval", "hybrid_social_subsidy"),
    "hybrid_commercial_investor": ("approval", "hybrid_commercial_investor"),
    "fund_org_startup": ("fund", "org_startup_fund"),
    "multi_year": ("approval", "multi_year"),
}


def _decisive_label(v: Verdict) -> str | None:
    """The evidence label of the contrast whose estimate decided ``v`` (the claim's own for one-contrast claims)."""
    for r in v.reasons:
        if r.key.startswith("funding.evidence.") and r.values.get("estimate") == v.estimate:
            return r.key.rsplit(".", 1)[1]
    return v.claim.rsplit(".", 1)[1] if not v.reasons else None


def _points(report, v: Verdict) -> str | None:
    """The deciding contrast in percentage points of approval probability, for readers who do not
    think in log-odds; None when the model or the averaged group does not give it (or it is too small)."""
    source = EVIDENCE_AME.get(_decisive_label(v) or "")
    if source is None or not _usable(fit := _fits(report).get(source[0])):
        return None
    table = fm.ame_table(fit)
    row = table[table["effect"] == source[1]]
    if row.empty or int(row["n"].iloc[0]) < report.min_group_size:
        return None
    r = row.iloc[0]
    value = {k: report.m.value(r[c], "signed1") for k, c in (("estimate", "ame_pp"), ("lo", "lo_pp"), ("hi", "hi_pp"))}
    return report.t("funding.findings.points", **value)


def _claim_finding(report, v: Verdict) -> None:
    verdict = report.t(f"common.verdict.{v.verdict}")
    if v.estimate is not None and v.verdict != "not_testable":
        evidence = report.m.interval(v.estimate, v.lo, v.hi, v.kind)
        key = f"funding.findings.{v.claim.rsplit('.', 1)[1]}"
        points = _points(report, v) if v.claim != "funding.claims.coverage_60" else None
        if points is None:
            report.finding(key, verdict=verdict, evidence=evidence)
        else:
            report.finding(f"{key}_points", verdict=verdict, evidence=evidence, points=points)
    else:
        why = "; ".join(report.reason_text(r) for r in v.reasons)
        report.finding("funding.findings.claim_not_testable", claim=report.t(v.claim), verdict=verdict, reason=why)


def claims_tested(report) -> SectionOutput:
    """Verdicts on claims 9 (hybrids), 10 (organisational strength), 7 (multi-year) and the 60% claim."""
    out = _Output()
    report.heading("funding.sections.claims")
    report.say("funding.text.claims")
    data_reasons = unmet(report.data, NEEDS["applications"])
    if not data_reasons and not int(_apps(report)["decided"].sum()):
        data_reasons = [Reason("funding.reasons.no_decided")]
    if data_reasons:
        fits: dict = {"approval": None, "fund": None}
        why = data_reasons
    else:
        fits = _fits(report)
        why = _state(report).fit_reasons
    multi_why = unmet(report.data, NEEDS["multi_year"]) or why
    verdicts = [
        _coverage_claim(report),
        claims.hybrid_verdict(fits["approval"], why),
        claims.org_strength_verdict(fits["approval"], fits["fund"], why),
        claims.multi_year_verdict(fits["approval"], multi_why if fits["approval"] is not None else why),
    ]
    report.verdicts(verdicts, heading=False)
    report.say("funding.text.esem_caveat")
    for v in verdicts:
        _claim_finding(report, v)
    out.verdicts = verdicts
    return out


# --- 9. over time ------------------------------------------------------------------------------


def over_time(report) -> SectionOutput:
    """Coverage by year of application, and how much approved funding is multi-year by phase."""
    out = _Output()
    report.heading("funding.sections.over_time")
    report.say("funding.text.over_time")
    section = "funding.sections.by_year"
    report.heading(section, level=3)
    if _needs_apps(report, section, out, unmet(report.data, NEEDS["year"])):
        table = coverage_by_year(_apps(report), seed=report.seed, n_boot=N_BOOT)
        too_few = _large_groups(report, table, "year")
        if too_few:
            _skip(report, section, out, [too_few])
        else:
            by_year = _publish_gap(report, table, "gap_by_year", ("year",))
            out.figures["coverage_by_year"] = report.figure(
                plot_coverage_by_year(by_year, language=report.language), "coverage_by_year"
            )
            _show_gap(report, by_year, ("year",))
            _left_out_note(report, table, "gap_by_year")
            out.tables["gap_by_year"] = by_year
    section = "funding.sections.multi_year"
    report.heading(section, level=3)
    report.say("funding.text.multi_year")
    needs = unmet(report.data, NEEDS["multi_year"]) + unmet(report.data, Needs(phase_needs(report.data)))
    if not _needs_apps(report, section, out, needs):
        return out
    if "phase" not in _apps(report).columns:
        return _skip(report, section, out, [Reason("funding.reasons.phase_unknown")])
    table = multi_year_by_phase(_apps(report), seed=report.seed, n_boot=N_BOOT, min_group_size=report.min_group_size)
    too_few = _large_groups(report, table, "phase")
    if too_few:
        return _skip(report, section, out, [too_few])
    multi = report.table(table, "multi_year_by_phase", keep=("phase",), count_column="n_initiatives")
    cols = [
        Col("phase", "term", label="funding.col.phase"),
        Col("n", "count", label="funding.col.approved_n"),
        Col("n_initiatives", "count"),
        Col(
            "multi_year_share",
            "percent",
            lo="multi_year_share_lo",
            hi="multi_year_share_hi",
            label="funding.col.multi_year_share",
        ),
        Col("approval_multi_year", "percent", label="funding.col.approval_multi_year"),
        Col("approval_single_year", "percent", label="funding.col.approval_single_year"),
    ]
    report.show(multi, None, cols)
    _left_out_note(report, table, "multi_year_by_phase")
    out.tables["multi_year_by_phase"] = multi
    return out


#: The sections of notebook 01, in notebook order (the degenerate-data battery runs them all).
SECTIONS = (
    applications_overview,
    overall_coverage,
    gap_tables,
    source_by_phase,
    missing_middle,
    share_distribution,
    models,
    marginal_effects,
    claims_tested,
    over_time,
)
