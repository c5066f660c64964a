"""Small-area estimates per municipality or province: approval, funding coverage, 5-year survival, impact.

Each measure gives, per place, the raw estimate with its 95% interval, the empirical-Bayes
(shrunk) estimate with its 95% interval and the amount of shrinkage, and, where the data allows,
an indirectly standardised ratio observed / expected (case mix) with its interval:

=============  ==============================  =========================  =================================
measure        raw estimate                    shrinkage                  case mix (indirect standardisation)
=============  ==============================  =========================  =================================
approval       approved / decided apps,        beta-binomial (marginal    expected = national approval rate of
               exact (Clopper-Pearson) CI      ML), posterior Beta         each application's source x phase x
                                                                          value model
coverage       granted / requested (money),    normal model on logit      expected = requested x national
               model-based variance pooled     coverage, averaged over    coverage of its source x phase x
               over places, logit CI           tau^2                      value model
assessments    accepted / assessments,         beta-binomial              expected = national acceptance of
               Clopper-Pearson CI                                         each investor type x instrument
survival_5y    Kaplan-Meier S(5) with delayed  Poisson-gamma on closures  expected closures = national hazard
               entry (joined_on), Greenwood    observed / expected,       of each year since founding x the
                                               S = S_national ** theta    place's person-time
impact         geometric mean yearly impact    normal model on mean log   expected = national mean log value of
               value per initiative (latest    value                      the initiative's theme x value model
               full year)
=============  ==============================  =========================  =================================

>>> import maexlab
>>> est = area_estimates(maexlab.load("embedded"), level="province")   # doctest: +SKIP
>>> sorted(est)                                                        # doctest: +SKIP
['approval', 'assessments', 'coverage', 'impact', 'survival_5y']
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from maexlab.areas.shrinkage import beta_binomial_eb, clopper_pearson, normal_eb, poisson_gamma_eb

#: How the between-place variance of the normal model is found (see :func:`maexlab.areas.shrinkage.normal_eb`).
NORMAL_METHOD = "integrated"
#: How the gamma prior of the survival ratios is found (see :func:`maexlab.areas.shrinkage.poisson_gamma_eb`).
POISSON_GAMMA_METHOD = "integrated"

__all__ = [
    "AREA_LEVELS",
    "CASE_MIX",
    "MEASURES",
    "AreaMeasure",
    "acceptance_by_area",
    "approval_by_area",
    "area_estimates",
    "area_keys",
    "coverage_by_area",
    "impact_by_area",
    "survival_by_area",
]

AREA_LEVELS = ("municipality", "province")
MEASURES = ("approval", "coverage", "survival_5y", "impact", "assessments")
#: Case-mix strata each measure is standardised for, when the data holds them.
CASE_MIX: dict[str, tuple[str, ...]] = {
    "approval": ("source", "phase", "value_model"),
    "coverage": ("source", "phase", "value_model"),
    "survival_5y": ("years_since_founding",),
    "impact": ("theme", "value_model"),
    "assessments": ("investor_type", "instrument"),
}
Z95 = float(stats.norm.ppf(0.975))
#: Coverage is kept inside [COVERAGE_CLIP, 1 - COVERAGE_CLIP] on the logit scale (a place granted nothing).
COVERAGE_CLIP = 0.005
#: Kaplan-Meier estimates resting on fewer at risk at an event time are not used.
MIN_AT_RISK = 5
HORIZON_YEARS = 5.0


@dataclass
class AreaMeasure:
    """One measure for every place: the table and what was done to get it."""

    measure: str
    level: str
    table: pd.DataFrame
    national: float | None
    national_lo: float | None = None
    national_hi: float | None = None
    adjustment: tuple[str, ...] = ()
    between_sd: float | None = None
    notes: list[str] = field(default_factory=list)


def area_keys(initiatives: pd.DataFrame, level: str = "municipality") -> pd.DataFrame:
    """Per initiative: ``initiative_id, area, area_name, province`` for ``level`` (municipality or province).

    Initiatives without a place are left out (their area is unknown).

    >>> ini = pd.DataFrame({"initiative_id": ["a"], "municipality_code": ["GM0363"], "municipality": ["Amsterdam"],
    ...                     "province": ["Noord-Holland"]})
    >>> area_keys(ini).iloc[0].tolist()
    ['a', 'GM0363', 'Amsterdam', 'Noord-Holland']
    """
    if level not in AREA_LEVELS:
        raise ValueError(f"level must be one of {AREA_LEVELS}, got {level!r}")
    prov = initiatives["province"] if "province" in initiatives else pd.Series(pd.NA, index=initiatives.index)
    if level == "municipality":
        area = initiatives["municipality_code"]
        name = initiatives.get("municipality", area)
    else:
        area, name = prov, prov
    out = pd.DataFrame(
        {
            "initiative_id": initiatives["initiative_id"].astype(str),
            "area": area.astype(object),
            "area_name": name.fillna(area).astype(object),
            "province": prov.astype(object),
        }
    )
    return out[out["area"].notna()].reset_index(drop=True)


def _areas_frame(keys: pd.DataFrame) -> pd.DataFrame:
    counts = keys.groupby("area", sort=True).agg(
        area_name=("area_name", "first"), province=("province", "first"), n=("initiative_id", "nunique")
    )
    return counts.reset_index()


def _strata(frame: pd.DataFrame, wanted: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in wanted if c in frame.columns and frame[c].notna().any())


def _expected(frame: pd.DataFrame, numerator: str, denominator: str, strata: tuple[str, ...]) -> pd.Series:
    """Each row's expected numerator: its denominator times the national ratio of its stratum."""
    overall = frame[numerator].sum() / frame[denominator].sum()
    if not strata:
        return frame[denominator] * overall
    key = frame[list(strata)].astype(str).agg("|".join, axis=1)
    sums = frame.groupby(key)[[numerator, denominator]].sum()
    rate = (sums[numerator] / sums[denominator]).where(sums[denominator] > 0, overall)
    return frame[denominator] * key.map(rate).fillna(overall)


def _poisson_ratio_interval(observed: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval of observed / expected (Garwood), the usual interval of an SMR."""
    o = np.asarray(observed, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(o > 0, stats.chi2.ppf(0.025, 2 * o) / 2, 0.0) / expected
        hi = stats.chi2.ppf(0.975, 2 * (o + 1)) / 2 / expected
    return lo, hi


def _rate_by_area(d: pd.DataFrame, keys: pd.DataFrame, measure: str, level: str) -> AreaMeasure:
    """A rate (``_event`` among rows) per place: exact raw interval, beta-binomial shrinkage, O/E."""
    d = d.merge(keys, on="initiative_id", how="inner").assign(_one=1.0)
    strata = _strata(d, CASE_MIX[measure])
    d["_expected"] = _expected(d, "_event", "_one", strata)
    areas = _areas_frame(keys)
    g = d.groupby("area").agg(units=("_one", "sum"), events=("_event", "sum"), expected=("_expected", "sum"))
    t = areas.merge(g, on="area", how="inner")
    t = t[t["units"] > 0].reset_index(drop=True)
    y, n = t["events"].to_numpy(float), t["units"].to_numpy(float)
    national = float(d["_event"].mean()) if len(d) else None
    if len(t) == 0:
        return AreaMeasure(measure, level, t, national, adjustment=strata)
    t["raw"] = y / n
    t["raw_lo"], t["raw_hi"] = clopper_pearson(y, n)
    fit = beta_binomial_eb(y, n)
    t["shrunk"], t["shrunk_lo"], t["shrunk_hi"], t["shrinkage"] = fit.posterior_mean, fit.lo, fit.hi, fit.shrinkage
    t["se"] = np.sqrt(national * (1 - national) / n)
    _add_ratio(t, y, t["expected"].to_numpy(float), national)
    nlo, nhi = clopper_pearson(np.array([d["_event"].sum()]), np.array([len(d)]))
    out = AreaMeasure(measure, level, t, national, float(nlo[0]), float(nhi[0]), strata, fit.between_sd)
    if not fit.converged:
        out.notes.append("areas.notes.fit_not_converged")
    return out


def approval_by_area(apps: pd.DataFrame, keys: pd.DataFrame, level: str = "municipality") -> AreaMeasure:
    """Approval rate (granted or partial among decided applications) per place, raw and shrunk.

    ``apps`` is :func:`maexlab.funding.applications`; ``keys`` is :func:`area_keys`.
    """
    d = apps[apps["decided"]]
    return _rate_by_area(d.assign(_event=d["approved"].astype(float)), keys, "approval", level)


def acceptance_by_area(assessments: pd.DataFrame, keys: pd.DataFrame, level: str = "municipality") -> AreaMeasure:
    """Share of investor assessments that ended in an offer (``decision == "accepted"``) per place."""
    d = assessments.assign(initiative_id=assessments["initiative_id"].astype(str))
    return _rate_by_area(d.assign(_event=(d["decision"] == "accepted").astype(float)), keys, "assessments", level)


def _add_ratio(t: pd.DataFrame, observed: np.ndarray, expected: np.ndarray, national: float | None) -> None:
    with np.errstate(invalid="ignore", divide="ignore"):
        t["oe_ratio"] = observed / expected
    t["oe_lo"], t["oe_hi"] = _poisson_ratio_interval(observed, expected)
    if national is not None:
        t["adjusted"] = t["oe_ratio"] * national


def coverage_by_area(apps: pd.DataFrame, keys: pd.DataFrame, level: str = "municipality") -> AreaMeasure:
    """Funding coverage (sum granted / sum requested over decided applications) per place, raw and shrunk.

    The sampling variance of a place's ratio is model-based: application j (EUR x_j requested) has
    granted share variance ``phi c_j (1 - c_j)``, ``c_j`` the national coverage of its stratum, so
    ``var(R_i) = phi sum_j x_j^2 c_j (1 - c_j) / X_i^2``; ``phi`` is pooled over all places from the
    residuals of initiatives' totals about their place's ratio (initiatives as clusters). The
    place's own linearised variance was too small for small places with skewed amounts (raw
    intervals covered 85% of planted truths over 50 seeds). On the logit scale the variance is divided by
    ``(c_i (1 - c_i))^2`` with ``c_i`` the place's case-mix expected coverage, not its raw ratio, so
    that the variance does not depend on the place's own luck. The raw interval is symmetric on the
    logit scale; the shrinkage is a normal hierarchical model on logit coverage. See docs/small_area.md.
    """
    d = apps[apps["decided"] & (apps["amount_requested"] > 0)].merge(keys, on="initiative_id", how="inner")
    d = d.assign(amount_granted=d["amount_granted"].fillna(0.0))
    strata = _strata(d, CASE_MIX["coverage"])
    d["_expected"] = _expected(d, "amount_granted", "amount_requested", strata)
    c_j = (d["_expected"] / d["amount_requested"]).clip(COVERAGE_CLIP, 1 - COVERAGE_CLIP)
    d["_unit_var"] = d["amount_requested"] ** 2 * c_j * (1 - c_j)
    areas = _areas_frame(keys)
    per = d.groupby(["area", "initiative_id"], sort=True)[["amount_granted", "amount_requested", "_unit_var", "_expected"]].sum()
    by = per.groupby(level="area")
    req, granted = by["amount_requested"].sum(), by["amount_granted"].sum()
    ratio = granted / req
    x, u = per["amount_requested"], per["_unit_var"]
    area_of = per.index.get_level_values("area")
    resid2 = ((per["amount_granted"] - x * ratio.reindex(area_of).to_numpy()) ** 2).groupby(level="area").sum()
    # E[sum_k (G_k - R X_k)^2] under var(G_k) = phi U_k: phi (U - 2 sum X_k U_k / X + sum X_k^2 U / X^2)
    unit = by["_unit_var"].sum()
    expect = unit - 2 * (x * u).groupby(level="area").sum() / req + (x**2).groupby(level="area").sum() * unit / req**2
    phi = float(resid2.sum() / expect.sum()) if expect.sum() > 0 else np.nan
    g = pd.DataFrame(
        {
            "units": d.groupby("area").size(),
            "raw": ratio,
            "observed": granted,
            "expected": by["_expected"].sum(),
            "requested": req,
            "coverage_var": phi * unit / req**2,
        }
    )
    g.index.name = "area"
    t = areas.merge(g.reset_index(), on="area")
    t["units"] = t["units"].astype(int)
    rc = t["raw"].clip(COVERAGE_CLIP, 1 - COVERAGE_CLIP)
    ce = (t["expected"] / t["requested"]).clip(COVERAGE_CLIP, 1 - COVERAGE_CLIP)
    t["logit"] = special.logit(rc)
    t["logit_var"] = (t["coverage_var"] / (ce * (1 - ce)) ** 2).where(t["coverage_var"] > 0)
    national = float(d["amount_granted"].sum() / d["amount_requested"].sum()) if len(d) else None
    if len(t) == 0 or not np.isfinite(t["logit_var"]).any():
        return AreaMeasure("coverage", level, t.iloc[0:0], national, adjustment=strata)
    se = np.sqrt(t["logit_var"].to_numpy(float))
    # A place granted all or nothing sits at the clip on the logit scale; its interval must still
    # reach the 100% (or 0%) it observed.
    t["raw_lo"] = np.minimum(special.expit(t["logit"] - Z95 * se), t["raw"])
    t["raw_hi"] = np.maximum(special.expit(t["logit"] + Z95 * se), t["raw"])
    fit = normal_eb(t["logit"].to_numpy(float), t["logit_var"].to_numpy(float), method=NORMAL_METHOD)
    t["shrunk"], t["shrunk_lo"], t["shrunk_hi"] = special.expit(fit.posterior_mean), special.expit(fit.lo), special.expit(fit.hi)
    t["shrinkage"] = fit.shrinkage
    t["se"] = np.sqrt(t["coverage_var"])  # on the coverage scale, for the funnel limits
    with np.errstate(invalid="ignore", divide="ignore"):
        t["oe_ratio"] = t["observed"] / t["expected"]
        oe_se = t["se"] / ce  # var(log R) = var(R) / c^2
    t["oe_lo"] = t["oe_ratio"] * np.exp(-Z95 * oe_se)
    t["oe_hi"] = t["oe_ratio"] * np.exp(Z95 * oe_se)
    if national is not None:
        t["adjusted"] = t["oe_ratio"] * national
    out = AreaMeasure("coverage", level, t, national, adjustment=strata, between_sd=math.sqrt(fit.tau2))
    out.national_lo, out.national_hi = _national_coverage_interval(d, national)
    return out


def _national_coverage_interval(d: pd.DataFrame, r: float | None) -> tuple[float | None, float | None]:
    if r is None:
        return None, None
    per = d.groupby("initiative_id")[["amount_granted", "amount_requested"]].sum()
    x, g = per["amount_requested"].to_numpy(float), per["amount_granted"].to_numpy(float)
    k = len(per)
    if k < 2:
        return None, None
    se = math.sqrt((k / (k - 1)) * np.sum((g - r * x) ** 2)) / x.sum()
    return max(0.0, r - Z95 * se), min(1.0, r + Z95 * se)


def _km_at(duration: pd.DataFrame, horizon: float) -> tuple[float, float]:
    """S(horizon) with delayed entry and the Greenwood variance of log(-log S); NaN when not estimable."""
    from maexlab.survival import km_fit

    if len(duration) == 0 or not duration["event"].any():
        return (1.0 if len(duration) and duration["duration"].max() >= horizon else np.nan), np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmf = km_fit(duration, "area", entry=True)
    if kmf is None:
        return np.nan, np.nan
    sf = kmf.survival_function_.iloc[:, 0]
    if horizon > sf.index.max():
        return np.nan, np.nan
    et = kmf.event_table
    upto = et[(et.index <= horizon) & (et["observed"] > 0)]
    if (upto["at_risk"] < MIN_AT_RISK).any():
        return np.nan, np.nan
    s = float(sf.iloc[sf.index.searchsorted(horizon, side="right") - 1])
    d, n = upto["observed"].to_numpy(float), upto["at_risk"].to_numpy(float)
    if s <= 0 or s >= 1 or (n <= d).any():
        return s, np.nan
    greenwood = float(np.sum(d / (n * (n - d))))
    return s, greenwood / math.log(s) ** 2


def _expected_closures(dur: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Per initiative: closures within ``horizon`` years of founding and the number expected from the
    national hazard of each year since founding (person-time after delayed entry)."""
    bands = np.arange(0.0, horizon + 1e-9, 1.0)
    start = dur["entry"].to_numpy(float)
    stop = np.minimum(dur["duration"].to_numpy(float), horizon)
    exposure = np.clip(np.minimum(stop[:, None], bands[None, 1:]) - np.maximum(start[:, None], bands[None, :-1]), 0.0, None)
    closed = dur["event"].to_numpy(bool) & (dur["duration"].to_numpy(float) <= horizon) & (stop > start)
    band_of_event = np.clip(np.floor(np.minimum(dur["duration"].to_numpy(float), horizon - 1e-9)), 0, len(bands) - 2).astype(int)
    events = np.zeros_like(exposure)
    events[np.arange(len(dur))[closed], band_of_event[closed]] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(exposure.sum(axis=0) > 0, events.sum(axis=0) / exposure.sum(axis=0), 0.0)
    return pd.DataFrame({"initiative_id": dur["initiative_id"], "observed": closed.astype(float), "expected": exposure @ hazard})


def survival_by_area(
    initiatives: pd.DataFrame, keys: pd.DataFrame, level: str = "municipality", horizon: float = HORIZON_YEARS
) -> AreaMeasure:
    """Share of initiatives still active ``horizon`` years after founding, per place (delayed entry).

    Raw: the place's own Kaplan-Meier S(horizon) (:func:`maexlab.survival.durations` with entry at
    ``joined_on``, :func:`maexlab.survival.km_fit`), Greenwood interval on the log(-log) scale;
    missing when it rests on fewer than 5 at risk at a closure. Shrunk: the place's closures in the
    first ``horizon`` years against those expected from the national hazard of each year since
    founding (its person-time after joining), a hazard ratio theta shrunk by a Poisson-gamma model
    (Clayton and Kaldor 1987), and ``S = S_national(horizon) ** theta`` (proportional hazards); its
    posterior mean is ``(b / (b + H))**a`` with ``H = -log S_national``. ``oe_ratio`` is the raw
    ratio observed / expected closures (indirect standardisation by time since founding).
    """
    from maexlab.survival import durations

    dur = durations(initiatives).merge(keys[["initiative_id", "area"]], on="initiative_id", how="inner")
    areas = _areas_frame(keys)
    oe = _expected_closures(dur, horizon).assign(area=dur["area"].to_numpy())
    rows = []
    for area, g in dur.groupby("area", sort=True):
        s, v = _km_at(g, horizon)
        rows.append({"area": area, "units": int(len(g)), "events": int(g["event"].sum()), "raw": s, "cloglog_var": v})
    t = areas.merge(pd.DataFrame(rows, columns=["area", "units", "events", "raw", "cloglog_var"]), on="area")
    t = t.merge(oe.groupby("area")[["observed", "expected"]].sum().reset_index(), on="area", how="left")
    nat_s, nat_v = _km_at(dur, horizon)
    national = None if not np.isfinite(nat_s) else nat_s
    measure = AreaMeasure("survival_5y", level, t.iloc[0:0], national, adjustment=("years_since_founding",))
    if national is not None and np.isfinite(nat_v):
        c = math.log(-math.log(nat_s))
        measure.national_lo = math.exp(-math.exp(c + Z95 * math.sqrt(nat_v)))
        measure.national_hi = math.exp(-math.exp(c - Z95 * math.sqrt(nat_v)))
    ok = t["expected"].fillna(0) > 0
    if national is None or not 0 < national < 1 or ok.sum() == 0:
        return measure
    t = t[ok].reset_index(drop=True)
    raw_ok = np.isfinite(t["raw"]) & np.isfinite(t["cloglog_var"]) & (t["raw"] > 0) & (t["raw"] < 1)
    c = np.log(-np.log(t["raw"].where(raw_ok).to_numpy(float)))
    se = np.sqrt(t["cloglog_var"].where(raw_ok).to_numpy(float))
    # S = exp(-exp(c)) falls as c rises, so the interval's ends swap
    t["raw_lo"], t["raw_hi"] = np.exp(-np.exp(c + Z95 * se)), np.exp(-np.exp(c - Z95 * se))
    fit = poisson_gamma_eb(t["observed"].to_numpy(float), t["expected"].to_numpy(float), method=POISSON_GAMMA_METHOD)
    big_h = -math.log(national)
    t["shrunk"] = fit.mean_exp(big_h)
    t["shrunk_lo"], t["shrunk_hi"] = _survival_interval(fit, big_h, nat_v)
    t["shrinkage"] = fit.shrinkage
    t["se"] = se * t["raw"] * np.abs(np.log(t["raw"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        t["oe_ratio"] = t["observed"] / t["expected"]
    t["oe_lo"], t["oe_hi"] = _poisson_ratio_interval(t["observed"].to_numpy(float), t["expected"].to_numpy(float))
    measure.table, measure.between_sd = t, fit.between_sd
    if not fit.converged:
        measure.notes.append("areas.notes.fit_not_converged")
    return measure


def _survival_interval(fit, big_h: float, national_var: float) -> tuple[np.ndarray, np.ndarray]:
    """95% interval of S_i = exp(-H theta_i): the posterior of theta_i widened by the uncertainty of H.

    ``log(-log S_i) = log H + log theta_i``; the national ``H = -log S_national(5)`` is one estimate
    shared by every place, with Greenwood variance ``national_var`` of ``log H``. Each side of the
    posterior interval of ``log theta_i`` (about its median) is widened to
    ``sqrt(side^2 + z^2 national_var)``: without it, a national estimate that is off by chance moved
    every place's interval together (survival intervals covered 93.6% of planted truths over 50 seeds).
    """
    q_lo, q_mid, q_hi = (np.log(q) for q in fit.quantiles((0.025, 0.5, 0.975)))
    extra = Z95**2 * (national_var if np.isfinite(national_var) else 0.0)
    log_lo = q_mid - np.sqrt((q_mid - q_lo) ** 2 + extra)
    log_hi = q_mid + np.sqrt((q_hi - q_mid) ** 2 + extra)
    # S falls as theta rises, so the ends swap
    return np.exp(-big_h * np.exp(log_hi)), np.exp(-big_h * np.exp(log_lo))


def _impact_per_initiative(impact: pd.DataFrame, proxies: pd.DataFrame, year: int) -> pd.DataFrame:
    from maexlab.impact import impact_value

    rows = impact[impact["year"] == year]
    valued = impact_value(rows, proxies)
    per = valued.groupby("initiative_id", as_index=False)["impact_value_eur"].sum()
    per = per[per["impact_value_eur"] > 0]
    return per.assign(initiative_id=per["initiative_id"].astype(str), log_value=np.log(per["impact_value_eur"]))


def impact_by_area(
    impact: pd.DataFrame,
    proxies: pd.DataFrame,
    initiatives: pd.DataFrame,
    keys: pd.DataFrame,
    year: int,
    level: str = "municipality",
) -> AreaMeasure:
    """Yearly impact value per initiative (geometric mean, EUR) in ``year`` per place, raw and shrunk.

    Impact value is :func:`maexlab.impact.impact_value` summed per initiative. Analysis on the log
    scale: the place's mean log value with a pooled within-place variance; shrinkage by a normal
    model on it. Case mix: each initiative's log value is compared with the national mean of its
    theme x value model; the place's mean difference, exponentiated, is the ratio observed/expected.
    """
    per = _impact_per_initiative(impact, proxies, year).merge(keys, on="initiative_id", how="inner")
    profile_cols = [c for c in ("theme", "value_model") if c in initiatives.columns]
    if profile_cols:
        per = per.merge(
            initiatives[["initiative_id", *profile_cols]].astype({"initiative_id": str}), on="initiative_id", how="left"
        )
    strata = _strata(per, CASE_MIX["impact"])
    areas = _areas_frame(keys)
    national = float(np.exp(per["log_value"].mean())) if len(per) else None
    measure = AreaMeasure("impact", level, areas.iloc[0:0], national, adjustment=strata)
    if len(per) < 2:
        return measure
    if strata:
        key = per[list(strata)].astype(str).agg("|".join, axis=1)
        per["_expected_log"] = key.map(per.groupby(key)["log_value"].mean())
    else:
        per["_expected_log"] = per["log_value"].mean()
    per["_resid"] = per["log_value"] - per["_expected_log"]
    g = per.groupby("area").agg(units=("log_value", "size"), mean_log=("log_value", "mean"), mean_resid=("_resid", "mean"))
    # pooled within-place variance: small places' own spread would be too noisy to weigh them by
    within = per.groupby("area")["log_value"].transform("mean")
    dof = len(per) - len(g)
    pooled = float(((per["log_value"] - within) ** 2).sum() / dof) if dof > 0 else float(per["log_value"].var())
    t = areas.merge(g.reset_index(), on="area")
    var = pooled / t["units"].to_numpy(float)
    se = np.sqrt(var)
    m = t["mean_log"].to_numpy(float)
    t["raw"], t["raw_lo"], t["raw_hi"] = np.exp(m), np.exp(m - Z95 * se), np.exp(m + Z95 * se)
    fit = normal_eb(m, var, method=NORMAL_METHOD)
    t["shrunk"], t["shrunk_lo"], t["shrunk_hi"] = np.exp(fit.posterior_mean), np.exp(fit.lo), np.exp(fit.hi)
    t["shrinkage"] = fit.shrinkage
    t["log_se"] = se
    t["oe_ratio"] = np.exp(t["mean_resid"])
    t["oe_lo"], t["oe_hi"] = t["oe_ratio"] * np.exp(-Z95 * se), t["oe_ratio"] * np.exp(Z95 * se)
    measure.table, measure.between_sd = t, math.sqrt(fit.tau2)
    n_all = len(per)
    half = Z95 * math.sqrt(float(per["log_value"].var()) / n_all)
    measure.national_lo, measure.national_hi = national * math.exp(-half), national * math.exp(half)
    return measure


def area_estimates(data, level: str = "municipality", year: int | None = None) -> dict[str, AreaMeasure]:
    """Every measure the data allows, per place at ``level``; measures it cannot compute are absent.

    ``year`` is the impact year (default: the latest fully observed year,
    :func:`maexlab.impact.tables.latest_full_year`).
    """
    from maexlab.funding import applications
    from maexlab.impact.tables import latest_full_year, proxies_for

    out: dict[str, AreaMeasure] = {}
    ini = data.tables.get("initiatives")
    if ini is None or len(ini) == 0 or "municipality_code" not in ini or not ini["municipality_code"].notna().any():
        return out
    keys = area_keys(ini, level)
    if data.has("funding", "status", "amount_requested"):
        apps = applications(data)
        if apps["decided"].any():
            out["approval"] = approval_by_area(apps, keys, level)
            out["coverage"] = coverage_by_area(apps, keys, level)
    if data.has("assessments", "decision"):
        out["assessments"] = acceptance_by_area(data.assessments, keys, level)
    if data.has("initiatives", "founded_on", "observed_until"):
        out["survival_5y"] = survival_by_area(ini, keys, level)
    if data.has("impact", "quantity", "indicator", "year"):
        year = year if year is not None else latest_full_year(data)
        if year is not None:
            proxies, _ = proxies_for(data)
            out["impact"] = impact_by_area(data.impact, proxies, ini, keys, year, level)
    return out
