"""Verdicts on the continuity claims: hazard ratios, CBS comparison, moving on from start, valley of death.

Each ``verdict_*`` returns ``{"claim", "verdict", "evidence", ...}`` with verdict 'supported',
'not supported' or 'not testable on this data'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maexlab.survival.kaplan_meier import CBS_REFERENCE

__all__ = [
    "CBS_EQUIVALENCE_MARGIN",
    "verdict_cbs",
    "verdict_few_move_on",
    "verdict_hazard_ratio",
    "verdict_valley",
]

#: Equivalence margin for the CBS comparison (:func:`verdict_cbs`): 5 percentage points either side.
CBS_EQUIVALENCE_MARGIN = 0.05


def _period_columns(ph: pd.DataFrame) -> tuple[str, str]:
    """Names of the before/after HR columns of a :func:`ph_check_time_split` table."""
    before = next(c for c in ph.columns if c.startswith("hr_before_") and c.endswith("y"))
    after = next(c for c in ph.columns if c.startswith("hr_after_") and c.endswith("y"))
    return before, after


def verdict_hazard_ratio(table: pd.DataFrame | None, covariate: str, claim: str, ph: pd.DataFrame | None = None) -> dict:
    """'supported' when the HR's 95% CI lies below 1, 'not supported' otherwise.

    When ``ph`` (a :func:`ph_check_time_split` table) says the covariate fails proportional
    hazards (``ph_ok`` False), one pooled HR is not an adequate summary and the verdict rests on
    the HRs before and after the cut: 'supported' when both periods' 95% CIs lie below 1, or when
    the pooled CI lies below 1 and neither period contradicts it (no period's CI lies wholly
    above 1); 'not supported' otherwise.
    """
    if table is None or covariate not in set(table["covariate"]):
        return {"claim": claim, "verdict": "not testable on this data", "evidence": f"{covariate} not estimable"}
    r = table.set_index("covariate").loc[covariate]
    hr, lo, hi = float(r["hazard_ratio"]), float(r["hr_low"]), float(r["hr_high"])
    out = {"claim": claim, "estimate": hr, "low": lo, "high": hi}
    p_row = None
    if ph is not None and len(ph) and covariate in set(ph["covariate"]):
        p_row = ph.set_index("covariate").loc[covariate]
    if p_row is None or bool(p_row["ph_ok"]):
        v = "supported" if hi < 1 else "not supported"
        return {**out, "verdict": v, "evidence": f"HR {hr:.2f} (95% CI {lo:.2f}-{hi:.2f}); supported if the upper bound < 1"}
    before, after = _period_columns(ph)
    periods = {
        name: (float(p_row[col]), float(p_row[f"{col}_low"]), float(p_row[f"{col}_high"]))
        for name, col in (
            (before.removeprefix("hr_").replace("_", " "), before),
            (after.removeprefix("hr_").replace("_", " "), after),
        )
    }
    both_below = all(p[2] < 1 for p in periods.values())
    contradicted = any(p[1] > 1 for p in periods.values())
    v = "supported" if both_below or (hi < 1 and not contradicted) else "not supported"
    text = "; ".join(f"{k} HR {p[0]:.2f} ({p[1]:.2f}-{p[2]:.2f})" for k, p in periods.items())
    return {
        **out,
        "verdict": v,
        "periods": {k: {"hr": p[0], "low": p[1], "high": p[2]} for k, p in periods.items()},
        "evidence": (
            f"proportional hazards fail (time split p = {float(p_row['p_value']):.3f}): {text}; pooled HR {hr:.2f} "
            f"({lo:.2f}-{hi:.2f}); supported if both periods' upper bounds < 1, or the pooled upper bound < 1 and "
            "no period's lower bound > 1"
        ),
    }


def verdict_cbs(
    km_all: pd.DataFrame | None,
    claim: str = "survival of initiatives is comparable to CBS firm survival",
    margin: float = CBS_EQUIVALENCE_MARGIN,
) -> dict:
    """Equivalence rule for 5-year survival against the CBS range 56% (2010 cohort) to 65% (2015 cohort).

    'supported' when the whole 95% CI lies within the CBS range widened by ``margin`` (5 pp:
    51%-70%); 'not supported' when the whole CI lies outside the CBS range itself (56%-65%);
    otherwise (the CI straddles a boundary of the widened range, or is too wide to decide)
    'not testable on this data'. Overlap alone is not evidence of comparability: a wide interval
    overlaps anything.
    """
    if km_all is None or "surv_5y" not in km_all or pd.isna(km_all["surv_5y"].iloc[0]):
        return {"claim": claim, "verdict": "not testable on this data", "evidence": "5-year survival not estimable"}
    s, lo, hi = (float(km_all[c].iloc[0]) for c in ("surv_5y", "surv_5y_low", "surv_5y_high"))
    cbs_lo, cbs_hi = CBS_REFERENCE["CBS NL firms founded 2010"][5], CBS_REFERENCE["CBS NL firms founded 2015"][5]
    eq_lo, eq_hi = round(cbs_lo - margin, 10), round(cbs_hi + margin, 10)
    if eq_lo <= lo and hi <= eq_hi:
        v, how = "supported", f"lies within the CBS range widened by {margin * 100:.0f} pp ({eq_lo:.0%}-{eq_hi:.0%})"
    elif hi < cbs_lo:
        v, how = "not supported", f"lies below the CBS range ({cbs_lo:.0%}-{cbs_hi:.0%})"
    elif lo > cbs_hi:
        v, how = "not supported", f"lies above the CBS range ({cbs_lo:.0%}-{cbs_hi:.0%})"
    else:
        v = "not testable on this data"
        how = f"is neither within {eq_lo:.0%}-{eq_hi:.0%} nor wholly outside {cbs_lo:.0%}-{cbs_hi:.0%} (interval too wide or on a boundary)"
    return {
        "claim": claim,
        "verdict": v,
        "estimate": s,
        "low": lo,
        "high": hi,
        "evidence": (
            f"5-year survival {s:.0%} (95% CI {lo:.0%}-{hi:.0%}) {how}; CBS cohorts 2010 and 2015: "
            f"{cbs_lo:.0%}-{cbs_hi:.0%}; supported if the CI lies within {eq_lo:.0%}-{eq_hi:.0%}"
        ),
    }


def verdict_few_move_on(cr: dict | None, claim: str = "few initiatives survive the move from start to growth") -> dict:
    """'supported' when the upper 95% bound of P(reach growth within 3 years of start) is below 50%;
    'not testable on this data' when it is missing (too few at risk in start by the horizon)."""
    if not cr or cr.get("n", 0) == 0:
        return {"claim": claim, "verdict": "not testable on this data", "evidence": "no stays in start"}
    p, lo, hi = cr["p_growth"], cr["p_growth_low"], cr["p_growth_high"]
    if not np.isfinite(hi):
        end = (cr.get("window") or (np.nan, np.nan))[1]
        return {
            "claim": claim,
            "verdict": "not testable on this data",
            "evidence": (
                f"P(growth within {cr['horizon_years']:g} y of start) not shown: fewer than {cr.get('min_at_risk', 0)} "
                f"initiatives at risk in start by then (risk set too small from {end:.1f} y)"
            ),
        }
    v = "supported" if hi < 0.5 else "not supported"
    return {
        "claim": claim,
        "verdict": v,
        "estimate": p,
        "low": lo,
        "high": hi,
        "evidence": f"P(growth within {cr['horizon_years']:g} y of start) {p:.0%} (95% CI {lo:.0%}-{hi:.0%}); P(closing first) {cr['p_close']:.0%} ({cr['p_close_low']:.0%}-{cr['p_close_high']:.0%}); supported if fewer than half reach growth",
    }


def verdict_valley(
    h: pd.DataFrame | None,
    bands: pd.DataFrame | None,
    claim: str = "valley of death in the first years after start",
    early: float = 3.0,
) -> dict:
    """'supported' when the smoothed hazard peaks within ``early`` years of start (interior points)
    and the highest crude rate in the first ``early`` years exceeds the 5-10 year rate (CIs apart).

    'not testable on this data' when there is nothing to compare: no interior hazard points or no
    closures, every band in the first ``early`` years suppressed (removed or masked), or no
    5-10 year band with person-time. A 5-10 year band without closures still has an exact upper
    bound and is compared."""
    if h is None or bands is None or h.empty:
        return {
            "claim": claim,
            "verdict": "not testable on this data",
            "evidence": "no smoothed hazard after start (no closures, or too few initiatives at risk)",
        }
    hi_ = h[h["interior"]].dropna(subset=["hazard"])
    if hi_.empty or bands["events"].sum() == 0:
        return {"claim": claim, "verdict": "not testable on this data", "evidence": "too little follow-up"}
    peak = float(hi_.loc[hi_["hazard"].idxmax(), "years"])
    # bands suppressed for small counts arrive removed or with missing rates: nothing to compare
    first = bands[(bands["from_years"] < early)].dropna(subset=["hazard", "hazard_low"])
    late = bands[(bands["from_years"] >= 5) & np.isfinite(bands["hazard_high"].astype(float))]
    if first.empty or late.empty:
        which = f"the bands in the first {early:g} years" if first.empty else "the 5-10 year band"
        return {
            "claim": claim,
            "verdict": "not testable on this data",
            "peak_years": peak,
            "evidence": f"smoothed hazard peaks {peak:.1f} y after start, but {which} are suppressed or empty (too few initiatives)",
        }
    top = first.loc[first["hazard"].idxmax()]
    late_hi = float(late["hazard_high"].iloc[0])
    ok = bool(peak <= early and float(top["hazard_low"]) > late_hi)
    return {
        "claim": claim,
        "verdict": "supported" if ok else "not supported",
        "peak_years": peak,
        "early_rate": float(top["hazard"]),
        "early_low": float(top["hazard_low"]),
        "late_rate_high": late_hi,
        "evidence": f"smoothed hazard peaks {peak:.1f} y after start; highest early rate {float(top['hazard']):.3f}/y ({top['band']}, CI from {float(top['hazard_low']):.3f}) vs 5-10 y rate up to {late_hi:.3f}/y",
    }
