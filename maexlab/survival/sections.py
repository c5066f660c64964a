"""Notebook-facing sections of the continuity report (notebook 03), one function per section.

Each function takes the :class:`~maexlab.reporting.Report` (``report.data`` is the loaded data)
and shows one section in the report's language: heading, explanation, preconditions (checked
before anything is estimated, named when they fail), tables, figures, verdicts and findings. It
returns a :class:`~maexlab.reporting.SectionOutput`. Later sections reuse what earlier ones
estimated (the durations, the Cox fit) through a per-report cache, so :data:`SECTIONS` must run
in order; each section also runs alone (it then computes what it needs).

>>> from maexlab.reporting import open_report
>>> from maexlab.survival import sections
>>> report = open_report("03_continuity", output_dir="/tmp/x", intro=True)  # doctest: +SKIP
>>> for section in sections.SECTIONS:  # doctest: +SKIP
...     section(report)
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np
import pandas as pd

from maexlab.reporting.display import Col
from maexlab.reporting.plots import PALETTE
from maexlab.reporting.preconditions import Needs, unmet
from maexlab.reporting.report import Report, SectionOutput
from maexlab.reporting.verdicts import Reason, Verdict, not_testable
from maexlab.survival import multistate as ms
from maexlab.survival import needs
from maexlab.survival.competing_risks import fine_gray_from_start, gray_test
from maexlab.survival.cox import (
    baseline_cox,
    cox_covariates,
    entry_covariates,
    fit_errors,
    ph_check_time_split,
    phase_reference,
    poisson_closure_model,
    try_fit_cox_tv,
)
from maexlab.survival.duration_tables import durations, phase_durations, start_to_closure
from maexlab.survival.hazard import piecewise_hazard, plot_smoothed_hazard, smoothed_hazard
from maexlab.survival.kaplan_meier import CBS_REFERENCE, delayed_entry_bias, km_table, plot_km
from maexlab.survival.logrank_tests import logrank, pairwise_logrank
from maexlab.survival.multistate import start_cohort
from maexlab.survival.plots import plot_hazard_ratios, plot_phase_paths
from maexlab.survival.start_stop import counting_process
from maexlab.survival.transitions import cause_specific_cox, expected_time_in_phase, transition_probabilities
from maexlab.survival.verdicts import CLAIMS, verdict_cbs, verdict_few_move_on, verdict_hazard_ratio, verdict_valley

__all__ = [
    "SECTIONS",
    "claims",
    "competing_effects",
    "cox_model",
    "delayed_entry",
    "hazard_after_start",
    "leaving_start",
    "phase_paths",
    "ph_checks",
    "state_occupation",
    "survival_by_group",
    "survival_by_phase",
    "survival_overall",
    "transitions",
]

HORIZONS = (1, 3, 5)
_SURV_LABELS = {1: "survival.col.surv_1y", 3: "survival.col.surv_3y", 5: "survival.col.surv_5y"}
#: Per grouping of the Kaplan-Meier section: heading, section name, log-rank name, figure title.
_GROUPINGS = {
    "value_model": (
        "survival.groups.by_value_model",
        "survival.groups.section_value_model",
        "survival.groups.logrank_value_model",
        "survival.plot.km_by_value_model",
    ),
    "cohort": (
        "survival.groups.by_cohort",
        "survival.groups.section_cohort",
        "survival.groups.logrank_cohort",
        "survival.plot.km_by_cohort",
    ),
}
_FINDINGS_HR = {"org": "survival.findings.hr_org", "multi": "survival.findings.hr_multi"}
_SAMPLING_REASONS = {
    "outcome_selected": "survival.reasons.sampling_outcome_selected",
    "closures_undated": "survival.reasons.sampling_closures_undated",
}
_OUTCOMES = {"growth": "survival.start.outcome_growth", "closed": "survival.start.outcome_closed"}
#: The horizon of the headline survival and the CBS comparison.
HORIZON = 5.0
#: Years after founding at which the PH check splits time.
PH_CUT = 5.0
#: Bandwidth (years) of the smoothed hazard after start.
BANDWIDTH = 1.0
#: Bootstrap replicates of the competing-risks intervals.
N_BOOT = 300


class _Output(SectionOutput):
    """A SectionOutput that shows nothing as a cell's last value: the section has shown its content
    already, and a repr would land in the report."""

    def _ipython_display_(self) -> None:
        return None


_STATE: weakref.WeakKeyDictionary[Report, dict[str, Any]] = weakref.WeakKeyDictionary()


def _state(report: Report) -> dict[str, Any]:
    return _STATE.setdefault(report, {})


def _ini(report: Report) -> pd.DataFrame | None:
    return report.data.tables.get("initiatives")


def _durations(report: Report) -> pd.DataFrame | None:
    st = _state(report)
    if "durations" not in st:
        ok = not unmet(report.data, needs.DURATIONS)
        st["durations"] = durations(_ini(report)) if ok else None
    return st["durations"]


def _delayed(report: Report) -> bool:
    return needs.delayed_entry_recorded(_ini(report))


def _sampling_note(report: Report) -> None:
    """Say what a declared sampling (dataset.json ``sampling``) means for the estimate just shown."""
    declared = report.data.metadata.get("sampling")
    raw = declared if isinstance(declared, list | tuple) else [declared]
    for kind, text in zip(needs.sampling_of(report.data.metadata), [str(r) for r in raw if r], strict=False):
        key = f"survival.sampling.{kind}"
        if report.m.has(key):
            report.say(key)
        else:
            report.say("survival.sampling.other", sampling=text)


def _skip(report: Report, out: SectionOutput, section: str, reasons: list[Reason | None]) -> bool:
    """Record and show the reasons ``section`` cannot be computed; True when there are any."""
    found = [r for r in reasons if r is not None]
    if found:
        report.not_computed(section, found)
        out.skipped.extend(found)
        _state(report).setdefault("not_computed", {})[section] = found
    return bool(found)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _km_columns(group: str | None, kind: str = "text", rmst: bool = True) -> list[Col]:
    cols = [] if group is None else [Col(group, kind, label=f"survival.col.{group}")]
    cols += [Col("n", "count", label="survival.col.n"), Col("closures", "count", label="survival.col.closures")]
    cols += [Col(f"surv_{t}y", "percent", lo=f"surv_{t}y_low", hi=f"surv_{t}y_high", label=_SURV_LABELS[t]) for t in HORIZONS]
    cols.append(Col("median_years", "number", lo="median_low", hi="median_high", label="survival.col.median_years"))
    if rmst:
        cols.append(Col("rmst_5y", "number", lo="rmst_5y_low", hi="rmst_5y_high", label="survival.col.rmst_5y"))
    return cols


def _horizons_beyond(report: Report, d: pd.DataFrame) -> None:
    """Name the horizons the follow-up does not reach (their survival is left empty, not guessed)."""
    beyond = [t for t in HORIZONS if needs.follow_up_reaches(d, t) is not None]
    if beyond:
        report.say("survival.km.horizons_beyond", horizons=", ".join(str(t) for t in beyond), years=float(d["duration"].max()))


# --- 1. durations and delayed entry -------------------------------------------------------------


def delayed_entry(report: Report) -> SectionOutput:
    """Durations, censoring and delayed entry: counts, and the bias of ignoring late entry (when ``joined_on`` exists)."""
    out = _Output()
    report.heading("survival.durations.heading")
    report.say("survival.durations.text")
    if not report.check("survival.durations.section", needs.DURATIONS):
        return out
    d = _durations(report)
    report.say("survival.durations.counts", n=len(d), closures=int(d["event"].sum()), years=float(d["duration"].max()))
    _sampling_note(report)
    if not _delayed(report):
        report.say("survival.durations.no_joined_on")
        return out
    late = d["entry"] > 0
    if not late.any():
        report.say("survival.durations.no_late_entry")
        return out
    report.say(
        "survival.durations.late_entry",
        late=int(late.sum()),
        share=float(late.mean()),
        delay=float(d.loc[late, "entry"].median()),
    )
    if _skip(report, out, "survival.durations.bias_section", [needs.closures_present(d), needs.follow_up_reaches(d, HORIZON)]):
        return out
    report.say("survival.durations.bias_intro")
    bias = delayed_entry_bias(d, HORIZON)
    shown = report.table(bias, "delayed_entry_bias", keep=("estimate",))
    out.tables["delayed_entry_bias"] = shown
    report.results["delayed_entry_bias"] = shown.set_index("estimate")["surv_5y"].to_dict()
    view = shown.assign(label=[report.t(f"survival.durations.{e}") for e in shown["estimate"]])
    cols = [
        Col("label", "text", label="survival.col.estimate"),
        Col("surv_5y", "percent", lo="low", hi="high", label="survival.col.surv_5y"),
    ]
    report.show(view, None, cols)
    return out


# --- 2. Kaplan-Meier ------------------------------------------------------------------------------


def survival_overall(report: Report) -> SectionOutput:
    """Kaplan-Meier survival since founding, the CBS and Eurostat references, and the CBS claim."""
    out = _Output()
    st = _state(report)
    report.heading("survival.km.heading")
    report.say("survival.km.text")
    d = _durations(report)
    reasons = unmet(report.data, needs.DURATIONS) or [_enough_initiatives(report, d), needs.closures_present(d)]
    if _skip(report, out, "survival.km.section", reasons):
        st["cbs"] = verdict_cbs(None, problem=out.skipped[0])
        report.finding("survival.findings.surv_5y_not_computed", reason=report.reason_text(out.skipped[0]))
        return out
    km = report.table(_quiet(km_table, d, min_at_risk=report.min_group_size), "km_overall", keep=("group",))
    out.tables["km_overall"] = km
    report.results["km_overall"] = km.drop(columns="suppressed", errors="ignore").iloc[0].to_dict()
    fig = plot_km(d, min_group_size=report.min_group_size, language=report.language, delayed_entry=_delayed(report))
    out.figures["km_overall"] = report.figure(fig, "km_overall")
    report.show(km, None, _km_columns(None))
    _horizons_beyond(report, d)
    if not _delayed(report):
        report.say("survival.km.no_delayed_entry")
    _sampling_note(report)
    problem = needs.follow_up_reaches(d, HORIZON)
    biased = [k for k in needs.sampling_of(report.data.metadata) if k in needs.SURVIVAL_BIASED_SAMPLING]
    if problem is None and biased:
        problem = Reason(_SAMPLING_REASONS[biased[0]])
    row = km.iloc[0]
    s5 = row.get("surv_5y", np.nan)
    if problem is None and pd.isna(s5):
        problem = Reason("survival.reasons.no_5y_survival")
    st["cbs"] = verdict_cbs(km, problem=problem)
    if pd.notna(s5):
        report.headline(
            "survival.headline_surv_5y", float(s5), kind="percent", lo=float(row["surv_5y_low"]), hi=float(row["surv_5y_high"])
        )
        interval = report.m.interval(s5, row["surv_5y_low"], row["surv_5y_high"], "percent")
        cbs = CBS_REFERENCE["CBS NL firms founded 2015"][5]
        report.finding(
            "survival.findings.surv_5y", interval=interval, cbs=cbs, verdict=report.t(f"common.verdict.{st['cbs'].verdict}")
        )
    else:
        reason = problem or Reason("survival.reasons.no_5y_survival")
        report.finding("survival.findings.surv_5y_not_computed", reason=report.reason_text(reason))
    out.verdicts.append(st["cbs"])
    return out


def survival_by_group(report: Report) -> SectionOutput:
    """Kaplan-Meier by value model and by founding cohort, with log-rank tests (two groups of the minimum size needed)."""
    out = _Output()
    report.heading("survival.groups.heading", level=3)
    report.say("survival.groups.text")
    d = _durations(report)
    reasons = unmet(report.data, needs.DURATIONS) or [needs.closures_present(d)]
    if _skip(report, out, "survival.groups.section", reasons):
        return out
    for by, (heading, section, _, title) in _GROUPINGS.items():
        report.heading(heading, level=4)
        counts = d[by].value_counts().to_dict() if by in d else {}
        counts = {report.m.term(k) if by == "value_model" else str(k): int(v) for k, v in counts.items()}
        if _skip(report, out, section, [_two_groups(counts, report.min_group_size)]):
            continue
        table = report.table(_quiet(km_table, d, by, min_at_risk=report.min_group_size), f"km_by_{by}", keep=(by,))
        out.tables[f"km_by_{by}"] = table
        palette = {k: v for k, v in PALETTE.items()} if by == "value_model" else None
        fig = plot_km(
            d,
            by,
            min_group_size=report.min_group_size,
            palette=palette,
            language=report.language,
            delayed_entry=_delayed(report),
            title=report.t(title, how=report.t("survival.plot.bands_delayed" if _delayed(report) else "survival.plot.bands")),
        )
        out.figures[f"km_by_{by}"] = report.figure(fig, f"km_by_{by}")
        view = (
            table.assign(cohort=table["cohort"].replace({"before 2010": report.t("survival.cohort_before_2010")}))
            if by == "cohort"
            else table
        )
        report.show(view, None, _km_columns(by, "term" if by == "value_model" else "text"))
        _logrank(report, out, d, by)
    _sampling_note(report)
    return out


def _enough_initiatives(report: Report, d: pd.DataFrame | None) -> Reason | None:
    """A reason when fewer initiatives than the minimum group size are followed: nothing may be published."""
    n = 0 if d is None else len(d)
    if n >= report.min_group_size:
        return None
    return Reason("survival.reasons.too_few_initiatives", {"n": n, "minimum": report.min_group_size})


def _two_groups(counts: dict[str, int], minimum: int) -> Reason | None:
    large = [g for g, n in counts.items() if n >= minimum]
    if len(large) >= 2:
        return None
    return Reason("survival.reasons.too_few_groups", {"minimum": minimum, "groups": len(large)})


def _logrank(report: Report, out: SectionOutput, d: pd.DataFrame, by: str) -> None:
    """Log-rank test over the groups of at least the minimum size (smaller ones would be published through it)."""
    sizes = d[by].value_counts()
    sub = d[d[by].isin(sizes[sizes >= report.min_group_size].index)]
    try:
        test = logrank(sub, by)
    except np.linalg.LinAlgError:
        _skip(report, out, _GROUPINGS[by][2], [Reason("survival.reasons.logrank_singular")])
        return
    if not np.isfinite(test["test_statistic"]):
        _skip(report, out, _GROUPINGS[by][2], [Reason("survival.reasons.logrank_singular")])
        return
    report.results[f"logrank_{by}"] = {"chi2": test["test_statistic"], "df": test["df"], "p_value": test["p_value"]}
    key = "survival.groups.logrank_small_p" if test["p_value"] < 0.001 else "survival.groups.logrank"
    report.say(key, chi2=test["test_statistic"], df=test["df"], p=test["p_value"])
    pairs = report.table(pairwise_logrank(sub, by), f"logrank_pairs_{by}", keep=("group_a", "group_b"))
    out.tables[f"logrank_pairs_{by}"] = pairs
    kind = "term" if by == "value_model" else "text"
    cols = [
        Col("group_a", kind, label="survival.col.group_a"),
        Col("group_b", kind, label="survival.col.group_b"),
        Col("n", "count", label="survival.col.n"),
        Col("test_statistic", "number2", label="survival.col.chi2"),
        Col("p_holm", "number3", label="survival.col.p_holm"),
    ]
    report.show(pairs, None, cols)


def survival_by_phase(report: Report) -> SectionOutput:
    """Survival from entering each phase (to closing in that phase or a later one)."""
    out = _Output()
    report.heading("survival.phase.heading", level=3)
    report.say("survival.phase.text")
    if not report.check("survival.phase.section", needs.PHASES):
        return out
    pd_ = phase_durations(_ini(report), report.data.phases)
    if _skip(
        report, out, "survival.phase.section", [_enough_initiatives(report, _durations(report)), needs.closures_present(pd_)]
    ):
        return out
    table = report.table(_quiet(km_table, pd_, "phase", min_at_risk=report.min_group_size), "km_by_phase", keep=("phase",))
    out.tables["km_by_phase"] = table
    report.show(table, None, _km_columns("phase", "term"))
    return out


# --- 3. multi-state -------------------------------------------------------------------------------


def _sojourns(report: Report) -> pd.DataFrame | None:
    st = _state(report)
    if "sojourns" not in st:
        ok = not unmet(report.data, needs.PHASES)
        st["sojourns"] = ms.sojourns(_ini(report), report.data.phases) if ok else None
    return st["sojourns"]


def transitions(report: Report) -> SectionOutput:
    """Transition hazards between phases (events / person-years) and the Nelson-Aalen curves."""
    out = _Output()
    report.heading("survival.transitions.heading")
    report.say("survival.transitions.text")
    if not report.check("survival.transitions.section", needs.PHASES):
        return out
    soj = _sojourns(report)
    moves = int((soj["next"] != "censored").sum()) if soj is not None else 0
    if _skip(report, out, "survival.transitions.section", [None if moves else Reason("survival.reasons.no_transitions")]):
        return out
    rates = ms.transition_rates(soj)
    if needs.closures_present(_durations(report)) is not None:
        # closing is never recorded: no closure rate is estimated (never a 0 per year)
        rates = rates[rates["to_phase"] != "closed"].reset_index(drop=True)
        report.say("survival.transitions.no_closures")
    rates = report.table(rates, "transition_hazards", keep=("from_phase", "to_phase"))
    out.tables["transition_hazards"] = rates
    report.results["transition_hazards"] = {
        f"{r.from_phase}->{r.to_phase}": {"hazard": r.hazard, "low": r.hazard_low, "high": r.hazard_high}
        for r in rates.itertuples()
        if not getattr(r, "suppressed", False)
    }
    curves = _quiet(ms.nelson_aalen_transitions, soj)
    fig = ms.plot_nelson_aalen(
        curves, min_group_size=report.min_group_size, language=report.language, delayed_entry=_delayed(report)
    )
    out.figures["nelson_aalen_transitions"] = report.figure(fig, "nelson_aalen_transitions")
    cols = [
        Col("from_phase", "term", label="survival.col.from_phase"),
        Col("to_phase", "term", label="survival.col.to_phase"),
        Col("n", "count", label="survival.col.n"),
        Col("events", "count", label="survival.col.events"),
        Col("person_years", "number", label="survival.col.person_years"),
        Col("hazard", "number3", lo="hazard_low", hi="hazard_high", label="survival.col.hazard"),
    ]
    report.show(rates, None, cols)
    return out


def leaving_start(report: Report) -> SectionOutput:
    """Leaving start: growth or closure within 3 years (Aalen-Johansen), and the "few move on" claim."""
    out = _Output()
    st = _state(report)
    report.heading("survival.start.heading", level=3)
    report.say("survival.start.text")
    claim = CLAIMS["few_move_on"]
    missing = unmet(report.data, needs.PHASES)
    recorded = needs.phases_in(report.data.tables.get("phases"))
    reasons = missing or [needs.phase_recorded(report.data.phases, p) for p in ("start", "growth")]
    if _skip(report, out, "survival.start.section", reasons):
        first = next(r for r in reasons if r is not None)
        st["few_move_on"] = Verdict(claim, "not_testable", "survival.rules.few_move_on", reasons=(first,))
        return out
    soj = _sojourns(report)
    cr = ms.competing_risks_from_start(soj, horizon=3.0, n_boot=N_BOOT, seed=report.seed, min_at_risk=report.min_group_size)
    n_reason = (
        None
        if cr.get("n", 0) >= report.min_group_size
        else Reason("survival.reasons.few_stays_in_start", {"n": cr.get("n", 0), "minimum": report.min_group_size})
    )
    if _skip(report, out, "survival.start.section", [n_reason]):
        st["few_move_on"] = Verdict(claim, "not_testable", "survival.rules.few_move_on", reasons=(n_reason,))
        return out
    if _delayed(report):
        report.say("survival.start.delayed")
    verdict = verdict_few_move_on(cr, phases_recorded=recorded)
    st["few_move_on"] = verdict
    out.verdicts.append(verdict)
    report.results["competing_risks_from_start"] = {k: v for k, v in cr.items() if k != "curves"}
    fig = ms.plot_competing_risks(cr, language=report.language)
    out.figures["competing_risks_from_start"] = report.figure(fig, "competing_risks_from_start")
    if np.isfinite(cr["p_growth_high"]) and verdict.verdict != "not_testable":
        closures = needs.closures_present(_durations(report)) is None
        summary = pd.DataFrame(
            [
                {
                    "outcome": "growth",
                    "n": cr["n"],
                    "probability": cr["p_growth"],
                    "low": cr["p_growth_low"],
                    "high": cr["p_growth_high"],
                },
                {
                    "outcome": "closed",
                    "n": cr["n"],
                    "probability": cr["p_close"],
                    "low": cr["p_close_low"],
                    "high": cr["p_close_high"],
                },
            ]
        )
        if not closures:  # closing never recorded: no 0% estimate of closing first
            summary = summary[summary["outcome"] != "closed"].reset_index(drop=True)
        summary = report.table(summary, "competing_risks_from_start", keep=("outcome",))
        out.tables["competing_risks_from_start"] = summary
        view = summary.assign(label=[report.t(_OUTCOMES[o]) for o in summary["outcome"]])
        cols = [
            Col("label", "text", label="survival.col.outcome"),
            Col("n", "count", label="survival.col.n_start"),
            Col("probability", "percent", lo="low", hi="high", label="survival.col.probability_3y"),
        ]
        report.show(view, None, cols)
        report.headline(
            "survival.headline_p_growth", cr["p_growth"], kind="percent", lo=cr["p_growth_low"], hi=cr["p_growth_high"]
        )
        interval = report.m.interval(cr["p_growth"], cr["p_growth_low"], cr["p_growth_high"], "percent")
        report.finding("survival.findings.few_move_on", interval=interval, verdict=report.t(f"common.verdict.{verdict.verdict}"))
    else:
        report.say("survival.start.not_shown", reason="; ".join(report.reason_text(r) for r in verdict.reasons))
    if cr.get("window") is not None and np.isfinite(cr["window"][1]):
        report.say("survival.start.window_end", years=cr["window"][1], n=report.min_group_size)
    _sampling_note(report)
    return out


# --- 3b. phase paths and competing effects (issue 16) -------------------------------------------

#: The starting time s of the phase paths: initiatives in start this many years after founding.
PATHS_FROM = 1.0
#: Years after s at which P(s, s + h) is shown.
PATHS_HORIZONS = (3.0, 5.0)
#: Years after s over which the expected years in each phase are summed.
PATHS_SPAN = 10.0
#: Bootstrap replicates over initiatives of the phase-path intervals (kept small: the notebook stays fast).
PATHS_BOOT = 100
_PATH_PHASES = ("start", "growth", "mature", "closed")


def _in_start_at(soj: pd.DataFrame, years: float) -> int:
    """Initiatives under observation in start at ``years`` after founding (the risk set of P(s, t))."""
    g = soj[soj["phase"] == "start"]
    a = np.maximum(g["t_enter"], g["entry"])
    return int(((a <= years) & (g["t_exit"] > years)).sum())


def _moves_out_of_start(soj: pd.DataFrame, after: float, to: str) -> int:
    g = soj[(soj["phase"] == "start") & (soj["t_exit"] > np.maximum(after, soj["entry"]))]
    return int((g["next"] == to).sum())


def phase_paths(report: Report) -> SectionOutput:
    """P(start -> growth / mature / closed) 3 and 5 years after a starting time, and expected years in each phase."""
    out = _Output()
    s = PATHS_FROM
    report.heading("survival.paths.heading", level=3)
    report.say("survival.paths.text", years=s, boot=PATHS_BOOT)
    if not report.check("survival.paths.section", needs.PHASES):
        return out
    soj, d = _sojourns(report), _durations(report)
    phases = report.data.phases
    reasons = [needs.phase_recorded(phases, p) for p in ("start", "growth")] + [needs.closures_present(d)]
    if not any(reasons):
        reasons = [
            needs.enough_in_phase(_in_start_at(soj, s), "start", s, report.min_group_size),
            needs.enough_transitions(_moves_out_of_start(soj, s, "growth"), "start → growth"),
            needs.enough_transitions(_moves_out_of_start(soj, s, "closed"), "start → closed"),
            needs.follow_up_reaches(d, s + PATHS_HORIZONS[0]),
        ]
    if _skip(report, out, "survival.paths.section", reasons):
        return out
    shown = [p for p in _PATH_PHASES if p == "closed" or p in needs.phases_in(phases)]  # never 0% for an unrecorded phase
    horizons = [h for h in PATHS_HORIZONS if needs.follow_up_reaches(d, s + h) is None]
    P = _quiet(transition_probabilities, soj, s, [s + h for h in horizons], reps=PATHS_BOOT, seed=report.seed)
    P = P[(P["from_phase"] == "start") & P["to_phase"].isin(shown)]
    wide = pd.DataFrame({"to_phase": shown, "n": int(P["at_risk_from"].iloc[0])})
    for h in horizons:
        at = P[np.isclose(P["years"], s + h)].set_index("to_phase")
        for col, src in (("", "probability"), ("_low", "ci_low"), ("_high", "ci_high")):
            wide[f"p_{int(h)}y{col}"] = wide["to_phase"].map(at[src]).to_numpy(float)
    table = report.table(wide, "phase_paths", keep=("to_phase",))
    out.tables["phase_paths"] = table
    report.results["phase_paths"] = {"from_years": s, "n_in_start": int(wide["n"].iloc[0])} | {
        f"{r.to_phase}_{int(h)}y": getattr(r, f"p_{int(h)}y") for r in table.itertuples() for h in horizons
    }
    grid = np.round(np.arange(s + 0.1, s + min(PATHS_SPAN, float(d["duration"].max()) - s) + 1e-9, 0.1), 2)
    curves = transition_probabilities(soj, s, grid, reps=0)
    curves = curves[(curves["from_phase"] == "start") & curves["to_phase"].isin(shown)]
    out.figures["phase_paths"] = report.figure(plot_phase_paths(curves, s, language=report.language), "phase_paths")
    cols = [Col("to_phase", "term", label="survival.col.phase"), Col("n", "count", label="survival.paths.col_n")]
    cols += [
        Col(f"p_{int(h)}y", "percent", lo=f"p_{int(h)}y_low", hi=f"p_{int(h)}y_high", label=f"survival.paths.col_p_{int(h)}y")
        for h in horizons
    ]
    report.show(table, None, cols)
    last = int(horizons[-1])
    closed = table[table["to_phase"] == "closed"].iloc[0]
    growth = table[table["to_phase"] == "growth"].iloc[0]
    if pd.notna(closed[f"p_{last}y"]):
        report.headline(
            "survival.paths.headline_closed",
            float(closed[f"p_{last}y"]),
            kind="percent",
            lo=float(closed[f"p_{last}y_low"]),
            hi=float(closed[f"p_{last}y_high"]),
        )
        report.finding(
            "survival.paths.finding",
            years=s,
            horizon=last,
            growth=report.m.interval(growth[f"p_{last}y"], growth[f"p_{last}y_low"], growth[f"p_{last}y_high"], "percent"),
            closed=report.m.interval(closed[f"p_{last}y"], closed[f"p_{last}y_low"], closed[f"p_{last}y_high"], "percent"),
        )
    _expected_years(report, out, soj, d, shown)
    if _delayed(report):
        report.say("survival.paths.delayed")
    _sampling_note(report)
    return out


def _expected_years(report: Report, out: SectionOutput, soj: pd.DataFrame, d: pd.DataFrame, shown: list[str]) -> None:
    """Expected years in each phase over PATHS_SPAN years from s, for those in start at s (mstate ELOS)."""
    s, tau = PATHS_FROM, PATHS_FROM + PATHS_SPAN
    report.heading("survival.paths.elos_heading", level=4)
    if _skip(report, out, "survival.paths.elos_section", [needs.follow_up_reaches(d, tau)]):
        return
    e = _quiet(expected_time_in_phase, soj, s, tau, reps=PATHS_BOOT, seed=report.seed)
    e = e[(e["from_phase"] == "start") & e["to_phase"].isin(shown)].reset_index(drop=True)
    e = report.table(e.assign(n=_in_start_at(soj, s)), "expected_years_in_phase", keep=("to_phase",))
    out.tables["expected_years_in_phase"] = e
    report.results["expected_years_in_phase"] = dict(zip(e["to_phase"], e["expected_years"], strict=True))
    report.say("survival.paths.elos_text", years=s, span=PATHS_SPAN)
    cols = [
        Col("to_phase", "term", label="survival.col.phase"),
        Col("expected_years", "number", lo="ci_low", hi="ci_high", label="survival.paths.col_expected_years"),
    ]
    report.show(e, None, cols)


def _start_covariates(report: Report, soj: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One row per initiative in start: value-model indicators (groups of the minimum size, vs
    social) and, where funding is recorded, funding granted by the day it entered start
    (known at the start of the clock, so no immortal time)."""
    ini = _ini(report)
    cohort = start_cohort(soj)
    vm = cohort[["initiative_id"]].merge(ini[["initiative_id", "value_model"]], on="initiative_id", how="left")
    sizes = vm["value_model"].value_counts()
    groups = [g for g in ("social", "hybrid", "commercial") if sizes.get(g, 0) >= report.min_group_size]
    cov = vm[vm["value_model"].isin(groups)].drop_duplicates("initiative_id").reset_index(drop=True)
    columns = []
    # the covariate labels compare with social: without a social group of the minimum size no value-model term is fitted
    for g in groups[1:] if groups[:1] == ["social"] else []:
        cov[g] = (cov["value_model"] == g).astype(float)
        columns.append(g)
    if report.data.has("funding", "status", "decided_on") and report.data.has("phases", "phase", "entered_on"):
        f, ph = report.data.funding, report.data.phases
        entered = ph[ph["phase"] == "start"].groupby("initiative_id")["entered_on"].min()
        granted = f[f["status"].isin(["granted", "partial"]) & f["decided_on"].notna()]
        by = granted.assign(at=granted["initiative_id"].map(entered)).dropna(subset=["at"])
        funded = set(by.loc[by["decided_on"] <= by["at"], "initiative_id"])
        cov["funded_at_start"] = cov["initiative_id"].isin(funded).astype(float)
        if cov["funded_at_start"].nunique() > 1:
            columns.append("funded_at_start")
    return cov, columns, groups


def _covariate_label(report: Report, c: str) -> str:
    return report.t("survival.competing.cov_funded_at_start") if c == "funded_at_start" else report.t(f"survival.covariates.{c}")


def competing_effects(report: Report) -> SectionOutput:
    """Leaving start: cause-specific Cox per transition (growth, closure), Fine-Gray for closure, Gray's test."""
    out = _Output()
    report.heading("survival.competing.heading", level=3)
    report.say("survival.competing.text")
    report.say("survival.competing.confounders")
    if not report.check("survival.competing.section", needs.PHASES | Needs({"initiatives": ("value_model",)})):
        return out
    soj, d, phases = _sojourns(report), _durations(report), report.data.phases
    reasons = [needs.phase_recorded(phases, p) for p in ("start", "growth")] + [needs.closures_present(d)]
    if not any(reasons):
        cov, columns, groups = _start_covariates(report, soj)
        counts = {report.m.term(g): int((cov["value_model"] == g).sum()) for g in groups}
        reasons = [_two_groups(counts, report.min_group_size)]
    if _skip(report, out, "survival.competing.section", reasons):
        return out
    cs = _quiet(cause_specific_cox, soj, cov, "start", columns=columns, min_events=needs.MIN_TRANSITION_EVENTS)
    rows = []
    for to in ("growth", "closed"):
        fit = cs.get(to, {"events": 0})
        if "table" not in fit:
            _skip(report, out, f"survival.competing.cs_{to}", [needs.enough_transitions(fit.get("events", 0), f"start → {to}")])
            continue
        rows.append(fit["table"].assign(to_phase=to, events=fit["events"], n=fit["n"]))
    if rows:
        cs_table = report.table(pd.concat(rows, ignore_index=True), "cause_specific_cox_start", keep=("to_phase", "covariate"))
        out.tables["cause_specific_cox_start"] = cs_table
        report.results["cause_specific_cox_start"] = {
            f"{r.to_phase}:{r.covariate}": {"hr": r.hazard_ratio, "low": r.hr_low, "high": r.hr_high}
            for r in cs_table.itertuples()
        }
        report.say("survival.competing.cs_intro", n=int(cs_table["n"].iloc[0]))
        cols = [
            Col("to_phase", "term", label="survival.col.to_phase"),
            Col("label", "text", label="survival.col.covariate"),
            Col("events", "count", label="survival.col.events"),
            Col("hazard_ratio", "number2", lo="hr_low", hi="hr_high", label="survival.col.hazard_ratio"),
            Col("p_value", "number3", label="survival.col.p_value"),
        ]
        report.show(cs_table.assign(label=[_covariate_label(report, c) for c in cs_table["covariate"]]), None, cols)
    _fine_gray(report, out, soj, cov, columns)
    _gray(report, out, soj, cov)
    _sampling_note(report)
    return out


def _fine_gray(report: Report, out: SectionOutput, soj: pd.DataFrame, cov: pd.DataFrame, columns: list[str]) -> None:
    report.heading("survival.competing.fg_heading", level=4)
    report.say("survival.competing.fg_text")
    fg = _quiet(fine_gray_from_start, soj, cov, columns=columns, outcome="closed", min_events=needs.MIN_TRANSITION_EVENTS)
    if "fit" not in fg:
        events = fg.get("events", 0)
        reason = needs.enough_transitions(events, "start → closed") or Reason("survival.competing.reason_fg_failed")
        _skip(report, out, "survival.competing.fg_section", [reason])
        return
    fit = fg["fit"]
    t = fit.summary.reset_index().rename(columns={"lo": "shr_low", "hi": "shr_high", "p": "p_value"})
    t = report.table(t[["covariate", "shr", "shr_low", "shr_high", "p_value"]], "fine_gray_closure_from_start", count_column=None)
    out.tables["fine_gray_closure_from_start"] = t
    report.results["fine_gray_closure_from_start"] = {
        r.covariate: {"shr": r.shr, "low": r.shr_low, "high": r.shr_high, "p": r.p_value} for r in t.itertuples()
    }
    report.say(
        "survival.competing.fg_counts", n=fg["n"], events=fit.events, competing=fit.competing, dropped=fg["dropped_missing"]
    )
    cols = [
        Col("label", "text", label="survival.col.covariate"),
        Col("shr", "number2", lo="shr_low", hi="shr_high", label="survival.competing.col_shr"),
        Col("p_value", "number3", label="survival.col.p_value"),
    ]
    report.show(t.assign(label=[_covariate_label(report, c) for c in t["covariate"]]), None, cols)
    row = t[t["covariate"] == "funded_at_start"]
    if len(row) and np.isfinite(row[["shr", "shr_low", "shr_high"]].to_numpy(float)).all():
        r = row.iloc[0]
        report.finding(
            "survival.competing.finding_funded", interval=report.m.interval(r["shr"], r["shr_low"], r["shr_high"], "number2")
        )


def _gray(report: Report, out: SectionOutput, soj: pd.DataFrame, cov: pd.DataFrame) -> None:
    """Gray's test of equal cumulative incidence of closure across value models, only without delayed entry."""
    report.heading("survival.competing.gray_heading", level=4)
    cohort = start_cohort(soj).merge(cov[["initiative_id", "value_model"]], on="initiative_id")
    if (cohort["entry"] > 0).any():
        # Gray's statistic is derived for right-censored data; the Fine-Gray SHR of the value models compares them instead
        _skip(report, out, "survival.competing.gray_section", [Reason("survival.competing.reason_gray_delayed")])
        return
    test = gray_test(cohort["duration"], cohort["cause"], cohort["value_model"], cause_of_interest=2)
    if not np.isfinite(test.statistic):
        _skip(report, out, "survival.competing.gray_section", [Reason("survival.competing.reason_gray_undefined")])
        return
    report.results["gray_test_closure_value_model"] = {"chi2": test.statistic, "df": test.df, "p_value": test.p_value}
    report.say("survival.competing.gray_result", chi2=test.statistic, df=test.df, p=test.p_value)


def state_occupation(report: Report) -> SectionOutput:
    """Where initiatives are by age: P(plan / start / growth / mature / closed), multi-state Aalen-Johansen."""
    out = _Output()
    report.heading("survival.occupation.heading", level=3)
    report.say("survival.occupation.text")
    if not report.check("survival.occupation.section", needs.PHASES):
        return out
    soj = _sojourns(report)
    if _skip(report, out, "survival.occupation.section", [None if len(soj) else Reason("survival.reasons.no_transitions")]):
        return out
    occ = ms.state_occupation(soj, np.round(np.arange(0, 15.01, 0.1), 2), min_at_risk=report.min_group_size)
    fig = ms.plot_state_occupation(occ, min_group_size=report.min_group_size, language=report.language)
    out.figures["state_occupation"] = report.figure(fig, "state_occupation")
    yearly = occ[occ["years_since_founding"].isin(np.arange(0, 16, 1.0))].reset_index(drop=True)
    yearly = report.table(yearly, "state_occupation", count_column=None)
    out.tables["state_occupation"] = yearly
    at5 = occ.loc[occ["years_since_founding"] == 5.0, list(ms.STATES)]
    if len(at5) and at5.notna().all(axis=None):
        report.results["state_occupation_5y"] = at5.iloc[0].to_dict()
    cols = [Col("years_since_founding", "number", label="survival.col.age", group=True)]
    cols += [Col(s, "percent", label=f"vocabulary.{s}") for s in ms.STATES]
    cols.append(Col("at_risk", "count", label="survival.col.at_risk"))
    report.show(yearly.dropna(subset=["at_risk"]), None, cols)
    return out


# --- 4. Cox models ----------------------------------------------------------------------------


def _labelled(report: Report, table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(label=[report.t(f"survival.covariates.{c}") for c in table["covariate"]])


def cox_model(report: Report) -> SectionOutput:
    """Time-varying Cox model of closure (funding, phase, subsidy share, volunteers, value model), Poisson cross-check, forest plot."""
    out = _Output()
    st = _state(report)
    report.heading("survival.cox.heading")
    report.say("survival.cox.text")
    report.say("survival.cox.confounders")
    if not report.check("survival.cox.section", needs.COX):
        st["cox_problem"] = _first_reason(report, "survival.cox.section")
        return out
    data = report.data
    phases = data.phases if data.has("phases", "phase", "entered_on") else None
    financials = data.financials if data.has("financials", "year", "subsidies", "revenue") else None
    cp = counting_process(_ini(report), phases, data.funding, financials, extra_cuts=[PH_CUT])
    covariates = cox_covariates(cp)
    usable = [c for c in covariates if cp[c].nunique(dropna=True) > 1]
    closures = int(cp["event"].sum())
    minimum = needs.MIN_EVENTS_PER_COVARIATE * max(len(usable), 1)
    too_few = needs.closures_present(cp) if closures == 0 else needs.enough_closures(closures, minimum)
    if _skip(report, out, "survival.cox.section", [too_few]):
        st["cox_problem"] = out.skipped[0]
        return out
    ctv, raw, problem = try_fit_cox_tv(cp, covariates)
    if _skip(
        report,
        out,
        "survival.cox.section",
        [None if problem is None else Reason("survival.reasons.cox_failed", {"detail": problem})],
    ):
        st["cox_problem"] = out.skipped[0]
        return out
    report.say("survival.cox.delayed" if _delayed(report) else "survival.cox.from_founding")
    st.update(cp=cp, covariates=[c for c in covariates if c in set(raw["covariate"])], cox_raw=raw, cox_fitter=ctv)
    reference = phase_reference(cp) if phases is not None else None
    report.results["phase_reference"] = reference
    report.say("survival.cox.rows", intervals=len(cp), initiatives=int(cp["initiative_id"].nunique()), closures=closures)
    if reference is not None:
        report.say("survival.cox.reference", phase=reference)
    _left_out(report, ctv.dropped_, len(cp))
    _dropped_covariates(report, st, cp, covariates)
    cox = report.table(raw, "cox_time_varying", keep=("covariate",), count_column=None)
    out.tables["cox_time_varying"] = cox
    st["cox"] = cox
    report.results["cox_time_varying"] = {
        r.covariate: {"hr": r.hazard_ratio, "low": r.hr_low, "high": r.hr_high, "p": r.p_value} for r in cox.itertuples()
    }
    fig = plot_hazard_ratios(cox, language=report.language)
    out.figures["cox_hazard_ratios"] = report.figure(fig, "cox_hazard_ratios")
    cols = [
        Col("label", "text", label="survival.col.covariate"),
        Col("hazard_ratio", "number2", lo="hr_low", hi="hr_high", label="survival.col.hazard_ratio"),
        Col("p_value", "number3", label="survival.col.p_value"),
    ]
    report.show(_labelled(report, cox), None, cols)
    for key, label in (
        ("org_strengthening_received", "survival.headline_hr_org"),
        ("multi_year_received", "survival.headline_hr_multi"),
    ):
        row = cox[cox["covariate"] == key]
        if len(row):
            report.headline(
                label,
                float(row["hazard_ratio"].iloc[0]),
                kind="number2",
                lo=float(row["hr_low"].iloc[0]),
                hi=float(row["hr_high"].iloc[0]),
            )
    _poisson(report, out, cp, st["covariates"])
    _sampling_note(report)
    return out


def _first_reason(report: Report, section: str) -> Reason:
    found = report.results["not_computed"].get(section, {})
    reasons = found.get("reasons", []) if isinstance(found, dict) else []
    if reasons:
        values = {k: v for k, v in reasons[0].items() if k != "key"}
        return Reason(reasons[0]["key"], values)
    return Reason("survival.reasons.cox_not_computed")


def _left_out(report: Report, left_out: pd.DataFrame, intervals: int) -> None:
    """Say how many intervals, initiatives and closures a complete-case fit left out, and why."""
    report.results["cox_time_varying_left_out"] = left_out.to_dict(orient="records")
    total = left_out.set_index("covariate").loc["all"]
    if int(total["intervals"]) == 0:
        return
    report.say(
        "survival.cox.left_out",
        intervals=int(total["intervals"]),
        total=intervals,
        initiatives=int(total["initiatives"]),
        closures=int(total["closures"]),
    )


def _dropped_covariates(report: Report, st: dict, cp: pd.DataFrame, covariates: list[str]) -> None:
    """Name covariates that do not vary here (e.g. no multi-year grant recorded) and so are not in the model."""
    fitted = set(st["cox_raw"]["covariate"])
    for c in covariates:
        if c not in fitted:
            report.say("survival.cox.covariate_constant", covariate=report.t(f"survival.covariates.{c}"))
            st.setdefault("constant", set()).add(c)


def _poisson(report: Report, out: SectionOutput, cp: pd.DataFrame, covariates: list[str]) -> None:
    report.heading("survival.poisson.heading", level=3)
    report.say("survival.poisson.text")
    try:
        pois = _quiet(poisson_closure_model, cp, covariates)
    except (np.linalg.LinAlgError, ValueError) as error:
        _skip(report, out, "survival.poisson.section", [Reason("survival.reasons.cox_failed", {"detail": type(error).__name__})])
        return
    if not np.isfinite(pois[["estimate", "low", "high"]].to_numpy(float)).all():
        _skip(report, out, "survival.poisson.section", [Reason("survival.reasons.cox_failed", {"detail": "non-finite estimate"})])
        return
    pois = report.table(pois, "poisson_closure_model", count_column=None)
    out.tables["poisson_closure_model"] = pois
    report.results["poisson_closure_model"] = {
        r.term: {"estimate": r.estimate, "low": r.low, "high": r.high} for r in pois.itertuples()
    }
    view = pois.assign(
        label=[
            report.t(f"survival.terms.{t}") if report.m.has(f"survival.terms.{t}") else report.t(f"survival.covariates.{t}")
            for t in pois["term"]
        ]
    )
    cols = [
        Col("label", "text", label="survival.col.term"),
        Col("estimate", "number3", lo="low", hi="high", label="survival.col.rate_or_ratio"),
    ]
    report.show(view, None, cols)


def ph_checks(report: Report) -> SectionOutput:
    """Proportional-hazards checks (time split; baseline model with Schoenfeld test) and the funding verdicts."""
    out = _Output()
    st = _state(report)
    report.heading("survival.ph.heading", level=3)
    report.say("survival.ph.text")
    if "cox" not in st:
        problem = st.get("cox_problem") or Reason("survival.reasons.cox_not_computed")
        _skip(report, out, "survival.ph.section", [problem])
        _funding_verdicts(report, out, None, problem)
        return out
    cp, covariates = st["cp"], st["covariates"]
    ph = _quiet(ph_check_time_split, cp, covariates, cut=PH_CUT)
    ph = report.table(ph, "ph_check_time_split", count_column=None)
    out.tables["ph_check_time_split"] = ph
    st["ph"] = ph
    checked = ph.loc[ph["checked"], "covariate"].tolist()
    failed = ph.loc[ph["checked"] & ~ph["ph_ok"], "covariate"].tolist()
    report.results["ph_time_varying_checked"] = checked
    report.results["ph_time_varying_failed"] = failed
    names = ", ".join(report.t(f"survival.covariates.{c}") for c in checked) or report.t("survival.ph.none")
    report.say("survival.ph.checked", covariates=names)
    for r in ph[~ph["checked"]].itertuples():
        report.say(
            "survival.ph.unchecked",
            covariate=report.t(f"survival.covariates.{r.covariate}"),
            reason=report.t(r.reason, minimum=5),
        )
    report.say(
        "survival.ph.failed" if failed else "survival.ph.none_failed",
        covariates=", ".join(report.t(f"survival.covariates.{c}") for c in failed),
    )
    view = _labelled(report, ph).assign(status=[_ph_status(report, r) for r in ph.itertuples()])
    cols = [
        Col("label", "text", label="survival.col.covariate"),
        Col("hr_before_5y", "number2", lo="hr_before_5y_low", hi="hr_before_5y_high", label="survival.col.hr_before"),
        Col("hr_after_5y", "number2", lo="hr_after_5y_low", hi="hr_after_5y_high", label="survival.col.hr_after"),
        Col("p_value", "number3", label="survival.col.p_interaction"),
        Col("status", "text", label="survival.col.ph_status"),
    ]
    report.show(view, None, cols)
    _baseline(report, out, st)
    _funding_verdicts(report, out, ph, None)
    return out


def _ph_status(report: Report, r) -> str:
    if not r.checked:
        return report.t("survival.ph.status_unchecked")
    return report.t("survival.ph.status_ok" if r.ph_ok else "survival.ph.status_fails")


def _baseline(report: Report, out: SectionOutput, st: dict) -> None:
    """Time-fixed Cox model at entry with the scaled-Schoenfeld test; stratified by a failing covariate."""
    report.heading("survival.baseline.heading", level=4)
    report.say("survival.baseline.text")
    cov = [c for c in st["covariates"] if not c.endswith("_received")]
    d = _durations(report)
    if d is None or not cov:
        _skip(report, out, "survival.baseline.section", [Reason("survival.reasons.no_baseline_covariates")])
        return
    try:
        base = _quiet(baseline_cox, entry_covariates(d, st["cp"], cov), cov)
    except fit_errors() as error:
        _skip(report, out, "survival.baseline.section", [Reason("survival.reasons.cox_failed", {"detail": type(error).__name__})])
        return
    if not np.isfinite(base["table"][["hazard_ratio", "hr_low", "hr_high"]].to_numpy(float)).all():
        _skip(
            report, out, "survival.baseline.section", [Reason("survival.reasons.cox_failed", {"detail": "non-finite estimate"})]
        )
        return
    report.results["ph_baseline_failed"] = base["failed"]
    report.say("survival.baseline.summary", n=base["n"], closures=base["events"], dropped=base["dropped"])
    failed = ", ".join(report.t(f"survival.covariates.{c}") for c in base["failed"])
    report.say("survival.baseline.stratified" if base["failed"] else "survival.baseline.no_failure", covariates=failed)
    out.tables["cox_baseline"] = report.table(base["table"], "cox_baseline", count_column=None)
    test = report.table(base["ph_test"], "ph_check_schoenfeld", count_column=None)
    out.tables["ph_check_schoenfeld"] = test
    view = _labelled(report, test).merge(
        base["table"][["covariate", "hazard_ratio", "hr_low", "hr_high"]], on="covariate", how="left"
    )
    view = view.assign(status=[report.t("survival.ph.status_ok" if ok else "survival.ph.status_fails") for ok in view["ph_ok"]])
    cols = [
        Col("label", "text", label="survival.col.covariate"),
        Col("hazard_ratio", "number2", lo="hr_low", hi="hr_high", label="survival.col.hazard_ratio_entry"),
        Col("test_statistic", "number2", label="survival.col.chi2"),
        Col("p_value", "number3", label="survival.col.p_value"),
        Col("status", "text", label="survival.col.ph_status"),
    ]
    report.show(view, None, cols)
    if base["failed"]:
        out.tables["cox_baseline_stratified"] = report.table(
            base["stratified_table"], "cox_baseline_stratified", count_column=None
        )
        out.tables["ph_check_schoenfeld_stratified"] = report.table(
            base["stratified_ph_test"], "ph_check_schoenfeld_stratified", count_column=None
        )


def _funding_verdicts(report: Report, out: SectionOutput, ph: pd.DataFrame | None, problem: Reason | None) -> None:
    """Verdicts on the two funding claims (associations): from the Cox HRs and the PH check."""
    st = _state(report)
    for key, covariate in (("org", "org_strengthening_received"), ("multi", "multi_year_received")):
        claim = CLAIMS[key]
        if problem is not None:
            verdict = Verdict(claim, "not_testable", "survival.rules.hazard_ratio", reasons=(problem,))
        elif covariate in st.get("constant", set()):
            verdict = not_testable(
                claim, "survival.reasons.covariate_constant", rule="survival.rules.hazard_ratio", covariate=covariate
            )
        else:
            verdict = verdict_hazard_ratio(st.get("cox"), covariate, claim, ph=ph)
        st[key] = verdict
        out.verdicts.append(verdict)
        if verdict.estimate is not None:
            interval = report.m.interval(verdict.estimate, verdict.lo, verdict.hi, "number2")
            report.finding(_FINDINGS_HR[key], interval=interval, verdict=report.t(f"common.verdict.{verdict.verdict}"))


# --- 5. valley of death -------------------------------------------------------------------------


def hazard_after_start(report: Report) -> SectionOutput:
    """Closure hazard by years since entering start (smoothed and banded) and the "valley of death" claim."""
    out = _Output()
    st = _state(report)
    report.heading("survival.valley.heading")
    report.say("survival.valley.text", bandwidth=BANDWIDTH)
    claim = CLAIMS["valley"]
    missing = unmet(report.data, needs.PHASES)
    reasons = missing or [needs.phase_recorded(report.data.phases, "start")]
    if not missing and reasons[0] is None:
        starts = start_to_closure(_ini(report), report.data.phases)
        reasons = [
            needs.closures_present(starts),
            None
            if len(starts) >= report.min_group_size
            else Reason("survival.reasons.few_stays_in_start", {"n": len(starts), "minimum": report.min_group_size}),
        ]
    if _skip(report, out, "survival.valley.section", reasons):
        first = next(r for r in reasons if r is not None)
        st["valley"] = Verdict(
            claim, "not_testable", "survival.rules.valley", reasons=(first,), rule_values={"early": 3.0, "bandwidth": BANDWIDTH}
        )
        return out
    h = _quiet(smoothed_hazard, starts, bandwidth=BANDWIDTH, min_at_risk=report.min_group_size)
    bands = report.table(
        piecewise_hazard(starts, min_at_risk=report.min_group_size),
        "hazard_after_start",
        keep=("band", "from_years", "to_years", "few_at_risk"),
    )
    out.tables["hazard_after_start"] = bands
    shown = bands[~bands["suppressed"]].reset_index(drop=True) if "suppressed" in bands else bands
    fig = plot_smoothed_hazard(
        h, BANDWIDTH, shown, min_group_size=report.min_group_size, language=report.language, delayed_entry=_delayed(report)
    )
    out.figures["hazard_after_start"] = report.figure(fig, "hazard_after_start")
    verdict = verdict_valley(h, shown, bandwidth=BANDWIDTH)
    st["valley"] = verdict
    out.verdicts.append(verdict)
    report.results["hazard_after_start"] = bands.set_index("band")["hazard"].to_dict()
    cols = [
        Col("band", "text", label="survival.col.band"),
        Col("n", "count", label="survival.col.n"),
        Col("events", "count", label="survival.col.closures"),
        Col("person_years", "number", label="survival.col.person_years"),
        Col("hazard", "number3", lo="hazard_low", hi="hazard_high", label="survival.col.hazard"),
    ]
    report.show(
        bands.assign(
            band=[
                report.t("survival.valley.band", lo=a, hi=b) for a, b in zip(bands["from_years"], bands["to_years"], strict=True)
            ]
        ),
        None,
        cols,
    )
    if verdict.estimate is not None:
        values = verdict.rule_values
        report.finding(
            "survival.findings.valley",
            peak=values["peak_years"],
            interval=report.m.interval(verdict.estimate, verdict.lo, verdict.hi, "number3"),
            verdict=report.t(f"common.verdict.{verdict.verdict}"),
        )
    _sampling_note(report)
    return out


# --- 6. claims ---------------------------------------------------------------------------------


def claims(report: Report) -> SectionOutput:
    """The verdict table of the continuity claims, each with its rule, evidence and reasons."""
    out = _Output()
    st = _state(report)
    report.heading("survival.claims_heading")
    report.say("survival.claims_text")
    verdicts = [st.get(key) or not_testable(claim, "survival.reasons.section_not_run") for key, claim in CLAIMS.items()]
    out.verdicts = report.verdicts(verdicts)
    report.say("survival.association_caveat")
    return out


SECTIONS = (
    delayed_entry,
    survival_overall,
    survival_by_group,
    survival_by_phase,
    transitions,
    leaving_start,
    phase_paths,
    competing_effects,
    state_occupation,
    cox_model,
    ph_checks,
    hazard_after_start,
    claims,
)
