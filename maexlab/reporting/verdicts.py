"""One verdict vocabulary for every claim in every notebook, each with a stated rule.

=================  =========================================================================
verdict            rule
=================  =========================================================================
``supported``      the 95% interval lies on the claimed side of the null (a direction claim),
                   or wholly inside the equivalence margin (an "about X" claim)
``contradicted``   the interval excludes the claim: wholly on the opposite side of the null,
                   or wholly outside the (narrower) difference margin
``inconclusive``   an estimate with its interval exists, but the interval is too wide to
                   decide either way (it covers the null, or straddles the margin)
``not_testable``   the data lacks what the estimate needs, the model did not converge, or the
                   estimate has no interval; the reason is always given
=================  =========================================================================

A claim is decided only from an estimate that exists, converged and has its interval.
Absence of evidence (an interval covering 0) is *inconclusive*, never "not supported".

>>> v = direction_verdict("funding.claim_hybrid", -0.8, -0.97, -0.67, claimed_sign=-1)
>>> v.verdict
'supported'
>>> direction_verdict("funding.claim_hybrid", 0.50, -0.63, 1.64, claimed_sign=-1).verdict
'inconclusive'
>>> not_testable("funding.claim_hybrid", "common.reasons.empty_table", table="funding").verdict
'not_testable'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONTRADICTED",
    "INCONCLUSIVE",
    "NOT_TESTABLE",
    "SUPPORTED",
    "VERDICTS",
    "Verdict",
    "direction_verdict",
    "equivalence_verdict",
    "not_testable",
]

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE = "supported", "contradicted", "inconclusive", "not_testable"
VERDICTS: tuple[str, ...] = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE)


@dataclass(frozen=True)
class Reason:
    """Why a verdict could not be reached: a catalogue key and the values its message needs."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The verdict on one claim, with its rule and its evidence.

    Attributes
    ----------
    claim : catalogue key of the claim's statement (e.g. ``"funding.claim_hybrid"``)
    verdict : one of :data:`VERDICTS`
    rule : catalogue key of the decision rule's text
    estimate, lo, hi : the estimate and its 95% interval (None when not testable)
    kind : how the estimate is shown (a :class:`maexlab.reporting.i18n.Messages` kind)
    reasons : why it is not testable or inconclusive (empty when decided)
    nominal_rate : the rule's nominal false-positive rate (e.g. 0.025 for a one-sided 95% rule)
    """

    claim: str
    verdict: str
    rule: str
    estimate: float | None = None
    lo: float | None = None
    hi: float | None = None
    kind: str = "number2"
    reasons: tuple[Reason, ...] = ()
    nominal_rate: float | None = None
    rule_values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def decided(self) -> bool:
        return self.verdict in (SUPPORTED, CONTRADICTED)

    def to_dict(self) -> dict[str, Any]:
        """The record results.json keeps: verdict, rule and evidence."""
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "rule": self.rule,
            "rule_values": dict(self.rule_values),
            "estimate": self.estimate,
            "lo": self.lo,
            "hi": self.hi,
            "nominal_rate": self.nominal_rate,
            "reasons": [{"key": r.key, **r.values} for r in self.reasons],
        }


def _finite(*values: float | None) -> bool:
    return all(v is not None and isinstance(v, int | float) and math.isfinite(float(v)) for v in values)


def not_testable(claim: str, reason_key: str, *, rule: str = "common.rules.not_testable", **values: Any) -> Verdict:
    """A claim the data cannot decide, with the reason (a ``common.reasons.*`` key or another)."""
    return Verdict(claim, NOT_TESTABLE, rule, reasons=(Reason(reason_key, values),))


def direction_verdict(
    claim: str,
    estimate: float | None,
    lo: float | None,
    hi: float | None,
    *,
    claimed_sign: int,
    null: float = 0.0,
    converged: bool = True,
    rule: str = "common.rules.direction",
    kind: str = "number2",
    level: float = 0.95,
) -> Verdict:
    """Decide a direction claim ("X is lower than Y") from an estimate and its interval.

    ``claimed_sign`` is -1 when the claim says the estimate is below ``null`` and +1 when above.
    Supported: the interval lies wholly on the claimed side; contradicted: wholly on the other
    side; inconclusive: it covers ``null``. The nominal false-positive rate of the rule is
    (1 - level) / 2 (one-sided).
    """
    if claimed_sign not in (-1, 1):
        raise ValueError("claimed_sign must be -1 or +1")
    nominal = (1 - level) / 2
    common = {"rule": rule, "kind": kind, "nominal_rate": nominal, "rule_values": {"null": null}}
    if not converged:
        return Verdict(claim, NOT_TESTABLE, reasons=(Reason("common.reasons.not_converged", {"detail": "fit"}),), **common)
    if not _finite(estimate, lo, hi):
        reason = Reason("common.reasons.interval_missing") if _finite(estimate) else Reason("common.reasons.no_estimate")
        return Verdict(claim, NOT_TESTABLE, estimate=estimate if _finite(estimate) else None, reasons=(reason,), **common)
    lo_side, hi_side = (float(lo) - null) * claimed_sign, (float(hi) - null) * claimed_sign
    if min(lo_side, hi_side) > 0:
        verdict = SUPPORTED
    elif max(lo_side, hi_side) < 0:
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE
    return Verdict(claim, verdict, estimate=float(estimate), lo=float(lo), hi=float(hi), **common)


def equivalence_verdict(
    claim: str,
    estimate: float | None,
    lo: float | None,
    hi: float | None,
    *,
    margin: tuple[float, float],
    difference_margin: tuple[float, float] | None = None,
    converged: bool = True,
    rule: str = "common.rules.equivalence",
    kind: str = "percent",
) -> Verdict:
    """Decide an "about X" claim: supported when the interval lies inside ``margin``.

    Contradicted when it lies wholly outside ``difference_margin`` (default: ``margin``);
    inconclusive otherwise.
    """
    outer = difference_margin or margin
    bounds = {"lo": margin[0], "hi": margin[1], "outer_lo": outer[0], "outer_hi": outer[1]}
    common = {"rule": rule, "kind": kind, "rule_values": bounds}
    if not converged:
        return Verdict(claim, NOT_TESTABLE, reasons=(Reason("common.reasons.not_converged", {"detail": "fit"}),), **common)
    if not _finite(estimate, lo, hi):
        return Verdict(claim, NOT_TESTABLE, reasons=(Reason("common.reasons.interval_missing"),), **common)
    lo, hi = float(lo), float(hi)
    if margin[0] <= lo and hi <= margin[1]:
        verdict = SUPPORTED
    elif hi < outer[0] or lo > outer[1]:
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE
    return Verdict(claim, verdict, estimate=float(estimate), lo=lo, hi=hi, **common)
