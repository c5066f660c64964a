"""Verdicts on the continuity claims, in the shared vocabulary of :mod:`maexlab.reporting.verdicts`.

Every function returns a :class:`~maexlab.reporting.verdicts.Verdict` (supported, contradicted,
inconclusive or not testable), with its rule (a catalogue key), the evidence (estimate and 95%
interval) and, when undecided, the reasons. A claim is decided only from an estimate that exists,
converged and has its interval; a phase that is never recorded makes the claim not testable.

==========================  ==================================================================  ==========
claim                       rule                                                                nominal
==========================  ==================================================================  ==========
funding lowers the hazard   HR 95% CI wholly below 1 (per period when proportional hazards      2.5%
(association)               fail); contradicted wholly above 1; inconclusive otherwise          one-sided
comparable to CBS           5-year survival 95% CI inside 51%-70% (CBS 56%-65% widened by       --
                            5 pp); contradicted wholly outside 56%-65%; inconclusive otherwise
few move on from start      P(growth within 3 y of start) 95% CI wholly below 50%;              2.5%
                            contradicted wholly above; inconclusive otherwise                   one-sided
valley of death             the smoothed hazard peaks inside the well-estimated window          --
                            (not at its edge, within 3 y of start) and the peak's 95% band
                            lies above the hazard at the window's start and above the 5-10 y
                            crude rate; contradicted when the early crude rates lie wholly
                            below the 5-10 y rate; inconclusive otherwise
==========================  ==================================================================  ==========

>>> v = verdict_few_move_on({"n": 400, "events_growth": 120, "p_growth": 0.3, "p_growth_low": 0.25,
...                          "p_growth_high": 0.35, "horizon_years": 3.0}, phases_recorded={"start", "growth"})
>>> v.verdict, v.rule
('supported', 'survival.rules.few_move_on')
>>> verdict_few_move_on({"n": 400, "events_growth": 0, "p_growth": 0.0, "p_growth_low": 0.0,
...                      "p_growth_high": 0.0, "horizon_years": 3.0}, phases_recorded={"start"}).verdict
'not_testable'
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from maexlab.reporting.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_TESTABLE,
    SUPPORTED,
    Reason,
    Verdict,
    direction_verdict,
    equivalence_verdict,
    not_testable,
)
from maexlab.survival.cox import MIN_SPLIT_CLOSURES
from maexlab.survival.kaplan_meier import CBS_REFERENCE

__all__ = [
    "CBS_EQUIVALENCE_MARGIN",
    "CLAIMS",
    "MIN_MOVES",
    "verdict_cbs",
    "verdict_few_move_on",
    "verdict_hazard_ratio",
    "verdict_valley",
]

#: Equivalence margin for the CBS comparison (:func:`verdict_cbs`): 5 percentage points either side.
CBS_EQUIVALENCE_MARGIN = 0.05
#: Fewest moves from start to growth for P(growth) to be judged (a bootstrap of fewer is degenerate).
MIN_MOVES = 5

#: Catalogue keys of the continuity claims, in the order of the verdict table.
CLAIMS: dict[str, str] = {
    "org": "survival.claims.org",
    "multi": "survival.claims.multi",
    "cbs": "survival.claims.cbs",
    "valley": "survival.claims.valley",
    "few_move_on": "survival.claims.few_move_on",
}


def _period_columns(ph: pd.DataFrame) -> tuple[str, str]:
    """Names of the before/after HR columns of a :func:`ph_check_time_split` table."""
    before = next(c for c in ph.columns if c.startswith("hr_before_") and c.endswith("y"))
    after = next(c for c in ph.columns if c.startswith("hr_after_") and c.endswith("y"))
    return before, after


def _row(table: pd.DataFrame | None, covariate: str) -> pd.Series | None:
    if table is None or "covariate" not in table or covariate not in set(table["covariate"]):
        return None
    return table.set_index("covariate").loc[covariate]


def verdict_hazard_ratio(
    table: pd.DataFrame | None,
    covariate: str,
    claim: str,
    ph: pd.DataFrame | None = None,
    ph_problem: Reason | None = None,
) -> Verdict:
    """Is the closure hazard lower with ``covariate`` (an association, HR < 1)?

    ``table`` is the Cox table (:func:`fit_cox_tv`), ``ph`` the :func:`ph_check_time_split` table.

    * PH checked and holding: supported when the pooled HR's 95% CI lies below 1, contradicted
      when above, inconclusive when it covers 1 (rule ``survival.rules.hazard_ratio``).
    * PH checked and failing (p < 0.01): one pooled HR is no adequate summary, so the verdict rests
      on the periods (``survival.rules.hazard_ratio_periods``): supported when both periods' CIs lie
      below 1, or the pooled CI lies below 1 and no period's CI lies wholly above 1; contradicted
      when the same holds above 1; inconclusive otherwise (also when the HR changes direction).
    * PH not checked for this covariate (too few closures in a period, the check not computed):
      decided from the pooled HR, and the rule says the check is missing and why
      (``survival.rules.hazard_ratio_unchecked``): never a silent fallback.
    """
    r = _row(table, covariate)
    if r is None:
        return not_testable(claim, "survival.reasons.hr_not_estimable", covariate=covariate)
    hr, lo, hi = float(r["hazard_ratio"]), float(r["hr_low"]), float(r["hr_high"])
    p_row = _row(ph, covariate)
    checked = p_row is not None and bool(p_row.get("checked", pd.notna(p_row["p_value"])))
    if not checked:
        why = ph_problem or (
            Reason(str(p_row["reason"]) or "survival.reasons.ph_not_estimable", {"minimum": MIN_SPLIT_CLOSURES})
            if p_row is not None
            else Reason("survival.reasons.ph_not_computed", {})
        )
        base = direction_verdict(claim, hr, lo, hi, claimed_sign=-1, null=1.0, rule="survival.rules.hazard_ratio_unchecked")
        reasons = (why,) if base.verdict != INCONCLUSIVE else (Reason("survival.reasons.interval_undecided"), why)
        return Verdict(**{**_fields(base), "reasons": reasons, "rule_values": {"null": 1.0}})
    if bool(p_row["ph_ok"]):
        return _explained(direction_verdict(claim, hr, lo, hi, claimed_sign=-1, null=1.0, rule="survival.rules.hazard_ratio"))
    before, after = _period_columns(ph)
    periods = [(float(p_row[c]), float(p_row[f"{c}_low"]), float(p_row[f"{c}_high"])) for c in (before, after)]
    below = [p[2] < 1 for p in periods]
    above = [p[1] > 1 for p in periods]
    if all(below) or (hi < 1 and not any(above)):
        verdict = SUPPORTED
    elif all(above) or (lo > 1 and not any(below)):
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE
    reasons = (Reason("survival.reasons.hr_changes_direction", {}),) if any(below) and any(above) else ()
    if verdict == INCONCLUSIVE and not reasons:
        reasons = (Reason("survival.reasons.interval_undecided"),)
    values = {
        "null": 1.0,
        "before": periods[0][0],
        "before_lo": periods[0][1],
        "before_hi": periods[0][2],
        "after": periods[1][0],
        "after_lo": periods[1][1],
        "after_hi": periods[1][2],
        "p": float(p_row["p_value"]),
    }
    return Verdict(
        claim,
        verdict,
        "survival.rules.hazard_ratio_periods",
        estimate=hr,
        lo=lo,
        hi=hi,
        kind="number2",
        reasons=reasons,
        nominal_rate=0.025,
        rule_values=values,
    )


def _explained(v: Verdict) -> Verdict:
    """An inconclusive verdict says why: its interval is too wide to decide (covers the null or straddles the margin)."""
    if v.verdict == INCONCLUSIVE and not v.reasons:
        return Verdict(
            **{**_fields(v), "reasons": (Reason("survival.reasons.interval_undecided"),), "rule_values": v.rule_values}
        )
    return v


def _fields(v: Verdict) -> dict:
    return {f: getattr(v, f) for f in ("claim", "verdict", "rule", "estimate", "lo", "hi", "kind", "reasons", "nominal_rate")}


def verdict_cbs(
    km_all: pd.DataFrame | None,
    claim: str = CLAIMS["cbs"],
    margin: float = CBS_EQUIVALENCE_MARGIN,
    problem: Reason | None = None,
) -> Verdict:
    """Equivalence rule for 5-year survival against the CBS range 56% (2010 cohort) to 65% (2015 cohort).

    Supported when the whole 95% CI lies within the CBS range widened by ``margin`` (5 pp:
    51%-70%); contradicted when the whole CI lies outside the CBS range itself (56%-65%);
    inconclusive otherwise (the CI straddles a boundary or is too wide: overlap alone is not
    evidence of comparability). Not testable when 5-year survival was not estimated (``problem``
    says why: too short a follow-up, no closures, an outcome-selected sample).

    >>> row = pd.DataFrame({"surv_5y": [0.59], "surv_5y_low": [0.56], "surv_5y_high": [0.62]})
    >>> verdict_cbs(row).verdict
    'supported'
    """
    if problem is not None:
        return Verdict(claim, NOT_TESTABLE, "survival.rules.cbs", reasons=(problem,))
    if km_all is None or "surv_5y" not in km_all or km_all.empty or pd.isna(km_all["surv_5y"].iloc[0]):
        return not_testable(claim, "survival.reasons.no_5y_survival", rule="survival.rules.cbs")
    s, lo, hi = (float(km_all[c].iloc[0]) for c in ("surv_5y", "surv_5y_low", "surv_5y_high"))
    cbs_lo, cbs_hi = CBS_REFERENCE["CBS NL firms founded 2010"][5], CBS_REFERENCE["CBS NL firms founded 2015"][5]
    eq = (round(cbs_lo - margin, 10), round(cbs_hi + margin, 10))
    return _explained(
        equivalence_verdict(claim, s, lo, hi, margin=eq, difference_margin=(cbs_lo, cbs_hi), rule="survival.rules.cbs")
    )


def verdict_few_move_on(
    cr: dict | None,
    claim: str = CLAIMS["few_move_on"],
    phases_recorded: Iterable[str] | None = None,
    min_moves: int = MIN_MOVES,
) -> Verdict:
    """Do fewer than half of the initiatives reach growth within 3 years of entering start?

    Supported when the upper 95% bound of P(growth within ``horizon`` years) lies below 50%,
    contradicted when the lower bound lies above 50%, inconclusive otherwise. Not testable when
    start or growth is never recorded in the phases (a phase never recorded gives no 0% estimate),
    when fewer than ``min_moves`` moves from start to growth were observed, or when the
    probability is missing (too few at risk in start by the horizon).
    """
    rule = "survival.rules.few_move_on"
    recorded = set(phases_recorded) if phases_recorded is not None else {"start", "growth"}
    for phase in ("start", "growth"):
        if phase not in recorded:
            return not_testable(claim, "survival.reasons.phase_never_recorded", rule=rule, phase=phase)
    if not cr or cr.get("n", 0) == 0:
        return not_testable(claim, "survival.reasons.no_stays_in_start", rule=rule)
    if cr.get("events_growth", 0) < min_moves:
        moves = int(cr.get("events_growth", 0))
        return not_testable(claim, "survival.reasons.too_few_moves", rule=rule, n=moves, minimum=min_moves)
    p, lo, hi = cr["p_growth"], cr["p_growth_low"], cr["p_growth_high"]
    if not np.isfinite(hi):
        return not_testable(claim, "survival.reasons.few_at_risk_in_start", rule=rule, horizon=cr["horizon_years"])
    return _explained(direction_verdict(claim, p, lo, hi, claimed_sign=-1, null=0.5, rule=rule, kind="percent"))


def verdict_valley(
    h: pd.DataFrame | None,
    bands: pd.DataFrame | None,
    claim: str = CLAIMS["valley"],
    early: float = 3.0,
    bandwidth: float = 1.0,
) -> Verdict:
    """Is closure most likely in the first years after start, with a peak (a "valley of death")?

    Only the well-estimated window counts: interior points of the smoothed hazard (at least one
    ``bandwidth`` from 0, where the kernel is cut off and biased down) that :func:`smoothed_hazard`
    kept (enough at risk). Supported when the hazard peaks strictly inside that window (not at its
    first or last point), within ``early`` years of start, and the peak's 95% band lies wholly
    above the hazard's band at the window's start (a rise, not a decline from the edge) and above
    the 5-10 year crude rate's interval. Contradicted when the highest early crude rate's interval
    lies wholly below the 5-10 year rate's (closure is more likely later). Inconclusive otherwise,
    e.g. a peak at the edge of the window while the crude rates simply decline. Not testable
    without closures after start, interior points, or the early and the 5-10 year bands.
    """
    rule = "survival.rules.valley"
    values = {"early": early, "bandwidth": bandwidth}
    if h is None or bands is None or h.empty or bands["events"].fillna(0).sum() == 0:
        return Verdict(claim, NOT_TESTABLE, rule, reasons=(Reason("survival.reasons.no_hazard_after_start"),), rule_values=values)
    interior = h[h["interior"]].dropna(subset=["hazard", "low", "high"]).reset_index(drop=True)
    first = bands[bands["from_years"] < early].dropna(subset=["hazard", "hazard_low", "hazard_high"])
    late = bands[(bands["from_years"] >= 5)].dropna(subset=["hazard_high", "hazard_low"])
    if len(interior) < 3 or first.empty or late.empty:
        why = "survival.reasons.valley_window_short" if len(interior) < 3 else "survival.reasons.valley_bands_missing"
        return Verdict(claim, NOT_TESTABLE, rule, reasons=(Reason(why, {"early": early}),), rule_values=values)
    k = int(interior["hazard"].idxmax())
    peak = interior.loc[k]
    late_lo, late_hi = float(late["hazard_low"].iloc[0]), float(late["hazard_high"].iloc[0])
    evidence = {"estimate": float(peak["hazard"]), "lo": float(peak["low"]), "hi": float(peak["high"]), "kind": "number3"}
    values = {**values, "peak_years": float(peak["years"]), "late_hi": late_hi}
    inside = 0 < k < len(interior) - 1 and float(peak["years"]) <= early
    rises = float(peak["low"]) > float(interior.loc[0, "high"])
    above_late = float(peak["low"]) > late_hi
    if inside and rises and above_late:
        return Verdict(claim, SUPPORTED, rule, rule_values=values, **evidence)
    if float(first["hazard_high"].max()) < late_lo:
        return Verdict(claim, CONTRADICTED, rule, rule_values=values, **evidence)
    why = (
        Reason("survival.reasons.valley_peak_at_edge", {"peak_years": float(peak["years"])})
        if not inside
        else Reason("survival.reasons.valley_no_rise" if not rises else "survival.reasons.valley_not_above_late", {})
    )
    return Verdict(claim, INCONCLUSIVE, rule, reasons=(why,), rule_values=values, **evidence)
