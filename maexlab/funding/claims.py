"""Verdicts on the funding claims, in the one vocabulary of :mod:`maexlab.reporting.verdicts`.

==================  ==========================================================================
claim               rule (95% intervals from the clustered covariance, log-odds scale)
==================  ==========================================================================
hybrid (claim 9)    two parts, both decided by the direction rule with claimed sign -1:
                    hybrid - social among subsidy applications, and hybrid - commercial among
                    investor applications. Supported when both intervals lie below 0;
                    contradicted when either lies wholly above 0; inconclusive otherwise.
org_strength (10)   the same two-part rule within fund grants (approval logit with fund-grant
                    purpose terms): organisational strengthening - start-up
                    ``[org + org:fund]`` and - project ``[org + org:fund - project - project:fund]``.
multi_year (7)      the multi-year term: supported when its interval lies below 0, contradicted
                    when above, inconclusive when it covers 0.
coverage_60         equivalence rule on overall money-weighted coverage: supported when the
                    interval lies within 60.7% +/- 10 pp, contradicted when it lies wholly
                    outside 60.7% +/- 5 pp, inconclusive otherwise.
==================  ==========================================================================

Nominal false-positive rate of each "supported": 2.5% (a one-sided 95% rule; for the two-part
claims an intersection-union test, so at most 2.5%; for the equivalence rule each bound is a
one-sided 2.5% test). A claim is decided only from a fit that converged without separation
(:attr:`maexlab.funding.models.ModelFit.usable`); otherwise it is not testable and the fit's
problems are the reasons. The evidence of both parts of a two-part claim is given in its reasons.

>>> v = coverage_verdict(0.593, 0.570, 0.613)
>>> v.verdict, v.rule
('supported', 'funding.rules.coverage')
>>> coverage_verdict(0.60, 0.30, 0.90).verdict
'inconclusive'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from maexlab.funding.models import ORG, ORG_FUND, PROJECT, PROJECT_FUND, ModelFit
from maexlab.funding.tables import ESEM_COVERAGE
from maexlab.reporting.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_TESTABLE,
    SUPPORTED,
    Reason,
    Verdict,
    direction_verdict,
    equivalence_verdict,
)

__all__ = [
    "CLAIMS",
    "COVERAGE_DIFFERENCE_BAND",
    "COVERAGE_EQUIVALENCE_BAND",
    "NOMINAL_RATE",
    "coverage_verdict",
    "hybrid_verdict",
    "multi_year_verdict",
    "org_strength_verdict",
]

#: "About 60% of needs met": supported when the whole 95% interval of coverage lies within
#: ESEM's 60.7% +/- 10 percentage points ...
COVERAGE_EQUIVALENCE_BAND: tuple[float, float] = (ESEM_COVERAGE - 0.10, ESEM_COVERAGE + 0.10)
#: ... and contradicted when the whole interval lies outside 60.7% +/- 5 percentage points.
COVERAGE_DIFFERENCE_BAND: tuple[float, float] = (ESEM_COVERAGE - 0.05, ESEM_COVERAGE + 0.05)
NOMINAL_RATE = 0.025
#: Catalogue keys of the claims' statements, in the order the report shows them.
CLAIMS: dict[str, str] = {
    "hybrid": "funding.claims.hybrid",
    "org_strength": "funding.claims.org_strength",
    "multi_year": "funding.claims.multi_year",
    "coverage_60": "funding.claims.coverage_60",
}


def _coverage_bounds() -> dict[str, float]:
    (lo, hi), (outer_lo, outer_hi) = COVERAGE_EQUIVALENCE_BAND, COVERAGE_DIFFERENCE_BAND
    return {"lo": lo, "hi": hi, "outer_lo": outer_lo, "outer_hi": outer_hi, "esem": ESEM_COVERAGE}


def _not_testable(claim: str, rule: str, reasons: Sequence[Reason], kind: str = "signed2") -> Verdict:
    reasons = tuple(reasons) or (Reason("common.reasons.no_estimate"),)
    values = _coverage_bounds() if kind.startswith("percent") else {"null": 0.0}
    return Verdict(claim, NOT_TESTABLE, rule, kind=kind, reasons=reasons, nominal_rate=NOMINAL_RATE, rule_values=values)


def _fit_reasons(fit: ModelFit | None, why: Sequence[Reason]) -> list[Reason] | None:
    """Why ``fit`` cannot decide anything (None when it can)."""
    if fit is None:
        return list(why) or [Reason("funding.reasons.no_model")]
    if not fit.usable:
        return list(fit.problems) or [Reason("funding.reasons.not_converged", {"model": fit.name})]
    return None


def _term_reason(fit: ModelFit, terms: Sequence[str]) -> Reason:
    """Why a contrast on ``terms`` is not identified: the true reason each term is missing."""
    for term in terms:
        if term in fit.params.index:
            continue
        why = fit.dropped_why.get(term) or "absent"
        if term == "multi_year":
            return Reason(MULTI_YEAR_DROPPED[why])
        parts = [p.split("[", 1)[1].rstrip("]") for p in term.split(":") if "[" in p]
        return Reason(TERM_DROPPED[why], {"level": parts[0], "within": parts[1] if len(parts) > 1 else "all"})
    return Reason("common.reasons.no_estimate")


#: Why a term the claim needs is not in the model -> the reason's catalogue key.
TERM_DROPPED: dict[str, str] = {
    "empty": "funding.reasons.term_empty",
    "collinear": "funding.reasons.term_collinear",
    "perfect_prediction": "funding.reasons.term_perfect_prediction",
    "absent": "funding.reasons.term_absent",
}
MULTI_YEAR_DROPPED: dict[str, str] = {
    "empty": "funding.reasons.multi_year_empty",
    "collinear": "funding.reasons.multi_year_collinear",
    "perfect_prediction": "funding.reasons.multi_year_perfect_prediction",
    "absent": "funding.reasons.multi_year_absent",
}


def _evidence(label: str, c: dict[str, float]) -> Reason:
    """One contrast as evidence beside a verdict (message ``funding.evidence.<label>``)."""
    return Reason(f"funding.evidence.{label}", {"estimate": c["estimate"], "lo": c["lo"], "hi": c["hi"]})


def _two_part(claim: str, rule: str, parts: list[tuple[str, dict[str, float]]], context: Sequence[Reason] = ()) -> Verdict:
    """Both parts must lie below 0 (supported); either wholly above 0 contradicts the claim."""
    verdicts = [direction_verdict(claim, c["estimate"], c["lo"], c["hi"], claimed_sign=-1, rule=rule) for _, c in parts]
    states = {v.verdict for v in verdicts}
    if states == {SUPPORTED}:
        verdict = SUPPORTED
    elif CONTRADICTED in states:
        verdict = CONTRADICTED
    elif NOT_TESTABLE in states:
        verdict = NOT_TESTABLE
    else:
        verdict = INCONCLUSIVE
    # The evidence shown is the part that decides: the one whose interval reaches highest.
    _, binding = max(parts, key=lambda p: p[1]["hi"])
    reasons = tuple(_evidence(label, c) for label, c in parts) + tuple(context)
    return Verdict(
        claim,
        verdict,
        rule,
        estimate=binding["estimate"],
        lo=binding["lo"],
        hi=binding["hi"],
        kind="signed2",
        reasons=reasons,
        nominal_rate=NOMINAL_RATE,
        rule_values={"null": 0.0},
    )


def hybrid_verdict(fit: ModelFit | None, why: Sequence[Reason] = ()) -> Verdict:
    """Claim 9: hybrid value models fall between two stools (less subsidy approval than social
    initiatives, less investor approval than commercial ones). ``why`` gives the reasons when
    ``fit`` is None (the model could not be fitted)."""
    claim, rule = CLAIMS["hybrid"], "funding.rules.hybrid"
    blocked = _fit_reasons(fit, why)
    if blocked:
        return _not_testable(claim, rule, blocked)
    if not fit.options.get("value_model"):
        return _not_testable(claim, rule, [Reason("funding.reasons.no_value_model")])
    parts = []
    for label, a, group in (
        ("hybrid_social_subsidy", "social", "subsidy"),
        ("hybrid_commercial_investor", "commercial", "investor"),
    ):
        weights = fit.level_weights("value_model", a, "hybrid", f":group[{group}]")
        if weights is None:
            needed = [f"vm[{v}]:group[{group}]" for v in ("hybrid", a) if v != fit.references["value_model"]]
            return _not_testable(claim, rule, [_term_reason(fit, needed)])
        parts.append((label, fit.contrast(weights)))
    return _two_part(claim, rule, parts)


def org_strength_verdict(fit: ModelFit | None, fund_fit: ModelFit | None, why: Sequence[Reason] = ()) -> Verdict:
    """Claim 10: funds pay for start-up and projects, not organisational strength. Decided
    within fund grants on ``fund_fit`` (``fit_approval(apps, fund_purpose=True)``); the pooled
    contrasts of ``fit`` (all sources) are given beside it in the reasons, never deciding."""
    claim, rule = CLAIMS["org_strength"], "funding.rules.org_strength"
    pooled: list[Reason] = []
    if fit is not None and fit.usable and fit.references["purpose"] == "startup" and fit.has(ORG, PROJECT):
        pooled = [
            _evidence("pooled_org_startup", fit.coef(ORG)),
            _evidence("pooled_org_project", fit.contrast({ORG: 1.0, PROJECT: -1.0})),
        ]
    blocked = _fit_reasons(fund_fit, why)
    if blocked:
        return _not_testable(claim, rule, [*blocked, *pooled])
    if fund_fit.references["purpose"] != "startup":
        reason = Reason("funding.reasons.no_startup_applications")
        return _not_testable(claim, rule, [reason, *pooled])
    rows = fund_fit.frame[fund_fit.frame["source"] == "fund_grant"]
    counts = {p: int((rows["purpose"] == p).sum()) for p in ("organisational_strengthening", "startup", "project")}
    if min(counts.values()) == 0:
        reason = Reason("funding.reasons.fund_purposes_missing", {"counts": counts, **{f"n_{k}": v for k, v in counts.items()}})
        return _not_testable(claim, rule, [reason, *pooled])
    needed = (ORG, PROJECT, ORG_FUND, PROJECT_FUND, "source[fund_grant]")
    if not fund_fit.has(*needed):
        return _not_testable(claim, rule, [_term_reason(fund_fit, needed), *pooled])
    vs_start = fund_fit.contrast({ORG: 1.0, ORG_FUND: 1.0})
    vs_project = fund_fit.contrast({ORG: 1.0, ORG_FUND: 1.0, PROJECT: -1.0, PROJECT_FUND: -1.0})
    extra = _evidence("fund_vs_other_org_startup", fund_fit.coef(ORG_FUND))
    return _two_part(claim, rule, [("fund_org_startup", vs_start), ("fund_org_project", vs_project)], [*pooled, extra])


def multi_year_verdict(fit: ModelFit | None, why: Sequence[Reason] = ()) -> Verdict:
    """Claim 7: long-term (multi-year) funding is hard to get: the multi-year term of the
    approval logit, direction rule with claimed sign -1. Not testable, with the true reason,
    when the flag is not recorded, no decided application is multi-year, or the term was dropped."""
    claim, rule = CLAIMS["multi_year"], "funding.rules.multi_year"
    blocked = _fit_reasons(fit, why)
    if blocked:
        return _not_testable(claim, rule, blocked)
    if not fit.options.get("multi_year"):
        return _not_testable(claim, rule, [*why] or [Reason("funding.reasons.no_multi_year_flag")])
    if "multi_year" not in fit.params.index:
        return _not_testable(claim, rule, [_term_reason(fit, ["multi_year"])])
    c = fit.coef("multi_year")
    v = direction_verdict(claim, c["estimate"], c["lo"], c["hi"], claimed_sign=-1, rule=rule, kind="signed2")
    return replace(v, nominal_rate=NOMINAL_RATE)


def coverage_verdict(estimate: float | None, lo: float | None, hi: float | None, why: Sequence[Reason] = ()) -> Verdict:
    """ESEM: initiatives secure about 60% of their financing needs (60.7%); equivalence rule on
    the 95% interval of overall money-weighted coverage (see the module docstring).

    >>> [coverage_verdict(c, lo, hi).verdict for c, lo, hi in [(0.6, 0.58, 0.62), (0.4, 0.3, 0.5), (0.55, 0.5, 0.6)]]
    ['supported', 'contradicted', 'inconclusive']
    """
    claim, rule = CLAIMS["coverage_60"], "funding.rules.coverage"
    if why:
        return _not_testable(claim, rule, why, kind="percent1")
    v = equivalence_verdict(
        claim,
        estimate,
        lo,
        hi,
        margin=COVERAGE_EQUIVALENCE_BAND,
        difference_margin=COVERAGE_DIFFERENCE_BAND,
        rule=rule,
        kind="percent1",
    )
    v = replace(v, nominal_rate=NOMINAL_RATE, rule_values={**v.rule_values, "esem": ESEM_COVERAGE})
    if v.verdict == INCONCLUSIVE:
        width = float(hi) - float(lo)
        key = "funding.reasons.coverage_too_wide" if width > 0.20 else "funding.reasons.coverage_between_bands"
        v = replace(v, reasons=(Reason(key, {"width": width}),))
    return v
