"""Verdicts on the claims of notebook 02, in the shared vocabulary of :mod:`maexlab.reporting.verdicts`.

Every claim is decided only from an estimate that exists, was fitted without problems, rests on
at least ``min_group_size`` initiatives and has its interval; otherwise it is *not testable*
with the reason. An interval covering the null is *inconclusive*, never a refutation.

=============================  ===========================================================  ============
claim (catalogue key)          rule                                                         nominal rate
=============================  ===========================================================  ============
``valuation.claims.ignores``   claim 5, mainstream investors ignore impact, over equity     5% false
                               (impact elasticity of valuation) and loans (impact term of    contradiction
                               the rate): contradicted when any instrument's 97.5%           (family-wise);
                               interval excludes 0 (Bonferroni over the two instruments),   2.5% false
                               naming it; supported when every instrument with an           support at the
                               estimate has its 95% interval inside its margin              margin
                               (:data:`EQUIVALENCE_MARGIN`) and log revenue priced;
                               otherwise inconclusive
``valuation.claims.priced``    impact investors' impact elasticity > 0 (95% interval)       2.5% one-sided
``valuation.claims.penalty``   mainstream unexplained log gap < 0 (bootstrap 95% interval)  2.5% one-sided
``valuation.claims.wtp``       WTP (rate discount of impact investors) > 0 (95% interval)   2.5% one-sided
``valuation.claims.audit``     audit contrast > 0 (bootstrap 95% interval)                  2.5% one-sided
=============================  ===========================================================  ============

The nominal rate is the chance of a wrong decision when the truth sits exactly at the null (or,
for support of claim 5, at the margin); ``benchmarks/validate.py --only valuation`` measures it.

>>> from maexlab.valuation.claims import positive_claim
>>> positive_claim("valuation.claims.wtp", 1.2, -0.1, 2.5, kind="number2").verdict
'inconclusive'
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from maexlab.reporting.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_TESTABLE,
    SUPPORTED,
    Reason,
    Verdict,
    direction_verdict,
    not_testable,
)
from maexlab.valuation.models import ModelFit

#: Claim 5 equivalence margin per instrument: the impact term of the mainstream model must lie
#: within +-margin. Equity: impact elasticity of valuation (log points per log point; 0.10 means a
#: 10% higher impact value moves the valuation by less than 1%, 1.1**0.1 = 1.0096). Loans: rate in
#: percentage points per log point of impact value (0.10 pp: a tenfold impact value moves the
#: rate by less than 0.23 pp).
EQUIVALENCE_MARGIN: dict[str, float] = {"equity": 0.10, "loan": 0.10}
#: The mainstream model and term behind claim 5 for each instrument.
CLAIM5_MODELS: dict[str, str] = {"equity": "log_valuation|mainstream", "loan": "interest_rate_pp|mainstream"}
#: Level of each instrument's interval for contradicting claim 5 (Bonferroni over two instruments).
CLAIM5_CONTRADICTION_LEVEL = 0.975
ONE_SIDED_NOMINAL = 0.025

CLAIMS: tuple[str, ...] = (
    "valuation.claims.ignores",
    "valuation.claims.priced",
    "valuation.claims.penalty",
    "valuation.claims.wtp",
    "valuation.claims.audit",
)


def positive_claim(claim: str, estimate, lo, hi, *, claimed_sign: int = 1, kind: str = "signed3") -> Verdict:
    """A one-sided direction claim at 95%: nominal false-support rate 2.5% (written into the rule)."""
    v = direction_verdict(claim, estimate, lo, hi, claimed_sign=claimed_sign, kind=kind)
    rule = "valuation.rules.above_zero" if claimed_sign > 0 else "valuation.rules.below_zero"
    reasons = v.reasons or ((Reason("valuation.reasons.covers_zero"),) if v.verdict == INCONCLUSIVE else ())
    nominal = round(float(v.nominal_rate), 10)  # (1 - 0.95) / 2 without floating-point dust
    return replace(v, rule=rule, rule_values={"nominal": nominal}, nominal_rate=nominal, reasons=reasons)


def _few(n: int, minimum: int) -> Reason | None:
    return Reason("valuation.reasons.few_initiatives", {"n": int(n), "minimum": int(minimum)}) if n < minimum else None


def fit_problem(fit: ModelFit | None, min_group_size: int) -> Reason | None:
    """Why a fitted model cannot carry a verdict (missing, failed, too few initiatives), or None."""
    if fit is None:
        return Reason("valuation.reasons.not_fitted")
    if not fit.ok:
        return fit.reason or Reason("valuation.reasons.not_fitted")
    return _few(fit.n_clusters, min_group_size)


def _term(fit: ModelFit, name: str) -> dict[str, float] | None:
    return fit.term(name) if fit is not None and fit.ok else None


def ignores_impact(fits: dict[str, ModelFit], *, min_group_size: int = 10) -> Verdict:
    """Claim 5 over equity and loans: mainstream investors price fundamentals and ignore impact.

    * **contradicted** when, for any instrument with an estimate, the 97.5% interval of the
      impact term excludes 0 (impact is priced there; Bonferroni over the two instruments, so
      at most 5% false contradiction when impact is ignored in both); the evidence is that
      instrument's estimate with its 95% interval, and the reasons name it;
    * **supported** when every instrument with an estimate has its 95% impact interval inside
      +-:data:`EQUIVALENCE_MARGIN` and its log-revenue interval excluding 0 (fundamentals are
      priced): an intersection-union equivalence test, at most 2.5% false support at the margin;
      the reasons say which instruments decided it;
    * **inconclusive** otherwise (an interval covers 0 but reaches beyond the margin, or
      fundamentals are not shown to be priced), with the reasons;
    * **not testable** when neither instrument has a usable estimate.

    >>> ignores_impact({}).verdict
    'not_testable'
    """
    claim = "valuation.claims.ignores"
    rule_values = {"margin_equity": EQUIVALENCE_MARGIN["equity"], "margin_loan": EQUIVALENCE_MARGIN["loan"]}
    usable: dict[str, ModelFit] = {}
    notes: list[Reason] = []
    for instrument, key in CLAIM5_MODELS.items():
        fit = fits.get(key)
        problem = fit_problem(fit, min_group_size)
        if problem is None and (fit.term("log_impact") is None or fit.term("log_revenue") is None):
            problem = Reason("valuation.reasons.term_missing")
        if problem is None:
            usable[instrument] = fit
        else:
            notes.append(Reason(f"valuation.reasons.instrument_unusable.{instrument}", {"instrument": instrument}))
            notes.append(problem)
    common = {"rule": "valuation.rules.ignores", "rule_values": rule_values, "kind": "signed3", "nominal_rate": 0.05}
    if not usable:
        return Verdict(claim, NOT_TESTABLE, reasons=tuple(notes), **common)
    priced = []
    for instrument, fit in usable.items():
        lo, hi = fit.interval("log_impact", CLAIM5_CONTRADICTION_LEVEL)
        if lo > 0 or hi < 0:
            priced.append((instrument, fit, lo, hi))
    if priced:
        instrument, fit, lo, hi = priced[0]
        t = fit.term("log_impact")
        reasons = [
            Reason(f"valuation.reasons.impact_priced_in.{i}", {"instrument": i, "lo": a, "hi": b}) for i, _, a, b in priced
        ]
        common["rule_values"] = {**rule_values, "instrument": instrument}
        return Verdict(
            claim, CONTRADICTED, estimate=t["estimate"], lo=t["ci_low"], hi=t["ci_high"], reasons=tuple(reasons + notes), **common
        )
    inside, fundamentals = True, True
    for instrument, fit in usable.items():
        t, rev = fit.term("log_impact"), fit.term("log_revenue")
        margin = EQUIVALENCE_MARGIN[instrument]
        if not (-margin <= t["ci_low"] and t["ci_high"] <= margin):
            inside = False
            notes.append(
                Reason(f"valuation.reasons.too_wide_for_margin.{instrument}", {"instrument": instrument, "margin": margin})
            )
        if rev["ci_low"] <= 0 <= rev["ci_high"]:
            fundamentals = False
            notes.append(Reason(f"valuation.reasons.fundamentals_not_priced.{instrument}", {"instrument": instrument}))
    first = next(iter(usable))
    t = usable[first].term("log_impact")
    evidence = {"estimate": t["estimate"], "lo": t["ci_low"], "hi": t["ci_high"]}
    common["rule_values"] = {**rule_values, "instrument": first}
    if inside and fundamentals:
        used = Reason(f"valuation.reasons.decided_from.{'_'.join(usable)}", {"instruments": list(usable)})
        return Verdict(claim, SUPPORTED, reasons=(used, *notes), **evidence, **common)
    return Verdict(claim, INCONCLUSIVE, reasons=tuple(notes), **evidence, **common)


def impact_priced(fits: dict[str, ModelFit], *, min_group_size: int = 10) -> Verdict:
    """Impact investors price impact: their impact elasticity of valuation > 0 (one-sided 2.5%)."""
    claim = "valuation.claims.priced"
    fit = fits.get("log_valuation|impact")
    problem = fit_problem(fit, min_group_size)
    t = _term(fit, "log_impact")
    if problem is not None or t is None:
        return not_testable(
            claim, (problem or Reason("valuation.reasons.term_missing")).key, **(problem.values if problem else {})
        )
    return positive_claim(claim, t["estimate"], t["ci_low"], t["ci_high"])


def undervalued(oaxaca: pd.DataFrame | None, oaxaca_reason: Reason | None = None, *, min_group_size: int = 10) -> Verdict:
    """Social/hybrid initiatives valued below their fundamentals by mainstream investors (one-sided 2.5%).

    ``oaxaca_reason`` says why the mainstream decomposition was not computed, when known.
    """
    claim = "valuation.claims.penalty"
    u = (
        pd.DataFrame()
        if oaxaca is None or oaxaca.empty
        else oaxaca[(oaxaca["group"] == "mainstream") & (oaxaca["component"] == "unexplained")]
    )
    if u.empty:
        reason = oaxaca_reason or Reason("valuation.reasons.no_decomposition")
        return not_testable(claim, reason.key, **reason.values)
    u = u.iloc[0]
    few = _few(int(u["n_initiatives"]), min_group_size)
    if few is not None:
        return not_testable(claim, few.key, **few.values)
    return positive_claim(claim, u["estimate"], u["ci_low"], u["ci_high"], claimed_sign=-1)


def gives_up_return(wtp: dict[str, Any] | None, wtp_reason: Reason | None = None, *, min_group_size: int = 10) -> Verdict:
    """Impact investors give up return: WTP (pp) > 0, one-sided at 2.5% (the 95% interval's lower end above 0)."""
    claim = "valuation.claims.wtp"
    if wtp is None:
        reason = wtp_reason or Reason("valuation.reasons.not_fitted")
        return not_testable(claim, reason.key, **reason.values)
    few = _few(int(wtp["n_initiatives"]), min_group_size)
    if few is not None:
        return not_testable(claim, few.key, **few.values)
    return positive_claim(claim, wtp["wtp_pp"], wtp["ci_low"], wtp["ci_high"], kind="number2")


def audit_underrates(audit: dict[str, Any] | None, *, min_group_size: int = 10) -> Verdict:
    """The mainstream decision rule under-rates high-impact initiatives: audit contrast > 0 (one-sided 2.5%)."""
    claim = "valuation.claims.audit"
    c = (audit or {}).get("contrast")
    if c is None:
        return not_testable(claim, "valuation.reasons.no_audit")
    few = _few(int(c["n_initiatives"]), min_group_size)
    if few is not None:
        return not_testable(claim, few.key, **few.values)
    return positive_claim(claim, c["estimate"], c["ci_low"], c["ci_high"])


def verdicts(
    fits: dict[str, ModelFit],
    oaxaca: pd.DataFrame | None = None,
    wtp: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
    *,
    min_group_size: int = 10,
    wtp_reason: Reason | None = None,
    oaxaca_reason: Reason | None = None,
) -> list[Verdict]:
    """One :class:`~maexlab.reporting.verdicts.Verdict` per claim of :data:`CLAIMS`, in that order."""
    return [
        ignores_impact(fits, min_group_size=min_group_size),
        impact_priced(fits, min_group_size=min_group_size),
        undervalued(oaxaca, oaxaca_reason, min_group_size=min_group_size),
        gives_up_return(wtp, wtp_reason, min_group_size=min_group_size),
        audit_underrates(audit, min_group_size=min_group_size),
    ]
