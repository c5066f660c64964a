"""Verdicts on the claims of notebook 02 (section 6), computed from the estimates.

:func:`verdicts` gives one verdict per claim with its numbers; :func:`ignores_impact` is the
equivalence rule for claim 5 (mainstream investors price fundamentals and ignore impact).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from maexlab.valuation.models import ModelFit
from maexlab.valuation.wtp import BMY_RANGE_PP, BMY_SOURCE

#: Claim 5 equivalence margin for the mainstream impact elasticity: an elasticity within +-0.10
#: means a 10% higher impact value moves the valuation by less than 1% (1.1**0.1 = 1.0096).
EQUIVALENCE_MARGIN = 0.10


def _fmt(t: dict[str, float] | None, scale: float = 1.0) -> str:
    if t is None:
        return "n/a"
    return f"{scale * t['estimate']:.3f} [{scale * t['ci_low']:.3f}, {scale * t['ci_high']:.3f}]"


def _covers_zero(t: dict[str, float]) -> bool:
    return t["ci_low"] <= 0 <= t["ci_high"]


NOT_TESTABLE = "not testable on this data"


def ignores_impact(
    revenue: dict[str, float] | None, impact: dict[str, float] | None, margin: float = EQUIVALENCE_MARGIN
) -> tuple[str, str]:
    """Claim 5 verdict from the log-revenue and log-impact terms of the mainstream valuation model.

    An equivalence rule, so that less data never gives more support:

    * "not supported" when the impact elasticity's 95% interval excludes 0 (impact is priced);
    * "supported" when the whole interval lies within +-``margin`` (0.10: a 10% higher impact
      value moves the valuation by less than 1%) and the log-revenue interval excludes 0
      (fundamentals are priced);
    * otherwise "not testable on this data": the interval covers 0 but is too wide to rule out
      an elasticity of ``margin``, or fundamentals are not significant.

    Returns ``(verdict, reason)``.

    >>> ignores_impact({"estimate": 0.9, "ci_low": 0.8, "ci_high": 1.0}, {"estimate": 0.0, "ci_low": -0.05, "ci_high": 0.05})[0]
    'supported'
    >>> ignores_impact({"estimate": 0.9, "ci_low": 0.8, "ci_high": 1.0}, {"estimate": 0.0, "ci_low": -0.3, "ci_high": 0.3})[0]
    'not testable on this data'
    >>> ignores_impact({"estimate": 0.9, "ci_low": 0.8, "ci_high": 1.0}, {"estimate": 0.2, "ci_low": 0.1, "ci_high": 0.3})[0]
    'not supported'
    """
    if revenue is None or impact is None:
        return NOT_TESTABLE, "log revenue or log impact not in the fitted model"
    if not _covers_zero(impact):
        return "not supported", "the impact interval excludes 0: impact is priced"
    within = -margin <= impact["ci_low"] and impact["ci_high"] <= margin
    fundamentals = not _covers_zero(revenue)
    if within and fundamentals:
        return "supported", f"the impact interval lies within ±{margin:.2f} and log revenue is priced"
    reasons = []
    if not within:
        reasons.append(f"the impact interval covers 0 but reaches beyond ±{margin:.2f}, too imprecise to show impact is ignored")
    if not fundamentals:
        reasons.append("the log-revenue interval covers 0, so fundamentals are not shown to be priced")
    return NOT_TESTABLE, "; ".join(reasons)


def _few_initiatives(n: int, min_group_size: int) -> str | None:
    if n < min_group_size:
        return f"fewer than {min_group_size} initiatives behind this estimate in this selection (n={n}), so it is not published"
    return None


def _unusable_fit(fit: ModelFit | None, min_group_size: int) -> str | None:
    """Why a fitted model cannot carry a verdict (missing, failed, or too few initiatives), or None."""
    if fit is None:
        return "valuation model not fitted"
    if not fit.ok:
        return fit.message
    return _few_initiatives(fit.n_clusters, min_group_size)


def verdicts(
    fits: dict[str, ModelFit],
    oaxaca: pd.DataFrame | None = None,
    wtp: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
    *,
    min_group_size: int = 10,
) -> pd.DataFrame:
    """One verdict per claim ("supported" / "not supported" / "not testable on this data"), with numbers.

    * investors price fundamentals and ignore impact (claim 5): mainstream valuation model,
      equivalence rule of :func:`ignores_impact` (impact elasticity interval within +-0.10 and
      log-revenue interval excluding 0; "not supported" when the impact interval excludes 0);
    * impact investors price impact: impact investors' log-impact elasticity CI > 0;
    * social/hybrid under-valued beyond fundamentals: mainstream unexplained gap < 0, CI excludes 0;
    * impact investors give up return: WTP CI > 0 (compared with 2.5-3.7 pp, BMY 2021);
    * the mainstream rule under-rates high-impact initiatives: the audit's top-minus-bottom
      impact-decile contrast (impact rule minus observed, mainstream cases) CI > 0.

    A claim whose estimate rests on fewer than ``min_group_size`` distinct initiatives (for the
    decomposition: on its smaller side) is "not testable on this data", as its table is
    suppressed.
    """
    rows = []
    NT = NOT_TESTABLE

    m = fits.get("log_valuation|mainstream")
    claim = "Claim 5: mainstream investors price fundamentals and ignore impact"
    unusable = _unusable_fit(m, min_group_size)
    if unusable:
        rows.append((claim, NT, unusable))
    else:
        rev, imp = m.term("log_revenue"), m.term("log_impact")
        verdict, reason = ignores_impact(rev, imp)
        rows.append(
            (
                claim,
                verdict,
                f"log-revenue elasticity {_fmt(rev)}; impact elasticity {_fmt(imp)} (n={m.n}, {m.n_clusters} initiatives): {reason}",
            )
        )

    i = fits.get("log_valuation|impact")
    claim = "Impact investors price impact (valuation)"
    unusable = _unusable_fit(i, min_group_size)
    if unusable:
        rows.append((claim, NT, unusable))
    else:
        imp = i.term("log_impact")
        rows.append(
            (
                claim,
                "supported" if imp is not None and imp["ci_low"] > 0 else "not supported",
                f"impact elasticity {_fmt(imp)} (n={i.n}, {i.n_clusters} initiatives)",
            )
        )

    claim = "Social/hybrid enterprises are under-valued beyond fundamentals (mainstream investors)"
    if oaxaca is None or oaxaca.empty or "unexplained" not in set(oaxaca.loc[oaxaca["group"] == "mainstream", "component"]):
        rows.append((claim, NT, "decomposition not computed for mainstream investors"))
    else:
        u = oaxaca[(oaxaca["group"] == "mainstream") & (oaxaca["component"] == "unexplained")].iloc[0]
        few = _few_initiatives(int(u["n_initiatives"]), min_group_size) if "n_initiatives" in u else None
        if few:
            rows.append((claim, NT, few.replace("initiatives", "initiatives on the smaller side", 1)))
        else:
            ok = u["estimate"] < 0 and u["ci_high"] < 0
            rows.append(
                (
                    claim,
                    "supported" if ok else "not supported",
                    f"unexplained log gap {u['estimate']:.3f} [{u['ci_low']:.3f}, {u['ci_high']:.3f}] (social/hybrid n={int(u['n_social_hybrid'])}, commercial n={int(u['n_commercial'])})",
                )
            )

    claim = "Impact investors give up return (lower loan rate given fundamentals)"
    few = _few_initiatives(int(wtp.get("n_initiatives", min_group_size)), min_group_size) if wtp is not None else None
    if wtp is None or few:
        rows.append((claim, NT, few or "loan-rate model not fitted"))
    else:
        lo, hi = BMY_RANGE_PP
        overlap = "overlaps" if wtp["ci_low"] <= hi and wtp["ci_high"] >= lo else "does not overlap"
        rows.append(
            (
                claim,
                "supported" if wtp["ci_low"] > 0 else "not supported",
                f"WTP {wtp['wtp_pp']:.2f} pp [{wtp['ci_low']:.2f}, {wtp['ci_high']:.2f}]; {overlap} the published {lo}-{hi} pp ({BMY_SOURCE})",
            )
        )

    claim = "The mainstream decision rule under-rates high-impact initiatives"
    c = (audit or {}).get("contrast")
    few = _few_initiatives(int(c.get("n_initiatives", min_group_size)), min_group_size) if c is not None else None
    if c is None or few:
        rows.append((claim, NT, few or (audit or {}).get("message") or "predictive audit not computed"))
    else:
        rows.append(
            (
                claim,
                "supported" if c["ci_low"] > 0 else "not supported",
                f"top-3 minus bottom-3 impact deciles of (impact rule - observed acceptance) {c['estimate']:.3f} [{c['ci_low']:.3f}, {c['ci_high']:.3f}] (n={c['n']})",
            )
        )
    return pd.DataFrame(rows, columns=["claim", "verdict", "evidence"])
