"""Cox models of closure: time-varying and baseline fits, proportional-hazards checks, Poisson cross-check.

Cox models with time-varying covariates
    On the start-stop rows of :func:`~maexlab.survival.start_stop.counting_process`,
    :func:`fit_cox_tv` fits lifelines' ``CoxTimeVaryingFitter``; :func:`ph_check_time_split`
    checks proportional hazards by covariate x time-period interactions; :func:`baseline_cox`
    fits a time-fixed ``CoxPHFitter`` and runs the scaled-Schoenfeld test
    (``proportional_hazard_test``, what ``check_assumptions`` uses), stratifying by a covariate
    that fails. :func:`poisson_closure_model` is a piecewise-exponential cross-check.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from maexlab.data.schema import ACTIVE_PHASES
from maexlab.survival.kaplan_meier import Z95
from maexlab.survival.multistate import DAYS_PER_YEAR
from maexlab.survival.start_stop import COX_COVARIATES, PHASE_DUMMIES

__all__ = [
    "DUMMY_GROUPS",
    "MISSING_REASONS",
    "after_cut",
    "baseline_cox",
    "cox_covariates",
    "entry_covariates",
    "fit_cox_tv",
    "fit_errors",
    "missing_covariates",
    "ph_check_time_split",
    "phase_reference",
    "try_fit_cox_tv",
    "poisson_closure_model",
    "schoenfeld_test",
]


def _cox_table(summary: pd.DataFrame) -> pd.DataFrame:
    t = summary[["coef", "se(coef)", "exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p"]].copy()
    t.columns = ["coef", "se", "hazard_ratio", "hr_low", "hr_high", "p_value"]
    t.index.name = "covariate"
    return t.reset_index()


def phase_reference(cp: pd.DataFrame) -> str | None:
    """The reference phase of the phase indicators: the phase with most person-time in ``cp``.

    With the most person-time the reference has closures early and late in life, so every other
    phase's HR can be checked for proportional hazards against it (plan, the natural first
    phase, has almost no person-time after 5 years and no closures there). The choice changes
    only what the phase HRs compare with, not the other covariates' HRs (the same model,
    parametrised differently). None when ``cp`` has no phase columns.

    >>> cp = pd.DataFrame({"start": [0.0, 1.0, 0.0], "stop": [1.0, 5.0, 2.0], "phase_plan": [1, 0, 1],
    ...                    "phase_start": [0, 1, 0], "phase_growth": 0, "phase_mature": 0})
    >>> phase_reference(cp)
    'start'
    """
    cols = [c for c in PHASE_DUMMIES if c in cp.columns]
    if not cols:
        return None
    years = (cp["stop"] - cp["start"]).to_numpy(float)
    person_time = {c.removeprefix("phase_"): float(years[cp[c].to_numpy() == 1].sum()) for c in cols}
    return max(person_time, key=lambda p: person_time[p])


def _without_phase_reference(covariates: Sequence[str], cp: pd.DataFrame, reference: str | None = None) -> list[str]:
    """``covariates`` with the reference phase's indicator left out when all of them are listed
    (all four together are collinear with the baseline hazard)."""
    covariates = list(covariates)
    if all(c in covariates for c in PHASE_DUMMIES):
        reference = reference or phase_reference(cp)
        covariates = [c for c in covariates if c != f"phase_{reference}"]
    return covariates


def cox_covariates(cp: pd.DataFrame, reference: str | None = None) -> list[str]:
    """The covariates of :data:`COX_COVARIATES` present in ``cp``, with the phase indicators of
    every phase but the reference (``reference``, or :func:`phase_reference`)."""
    return _without_phase_reference([c for c in COX_COVARIATES if c in cp.columns], cp, reference)


MISSING_REASONS: dict[str, str] = {
    "subsidy_share": "no financials in or before the interval's calendar year",
}


def missing_covariates(cp: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """What a complete-case fit on ``columns`` leaves out of the start-stop rows ``cp``.

    One row per column with missing values (``intervals``, ``initiatives`` touched, ``closures``
    on those intervals, ``reason``) and a final ``all`` row: intervals left out in total,
    initiatives left out entirely (no complete interval), and closures lost. An interval left out
    is time the initiative is not counted at risk (like time before delayed entry), so the
    estimate stays valid when the missingness does not depend on the closure risk.

    >>> cp = pd.DataFrame({"initiative_id": ["a", "a", "b"], "event": [0, 1, 1], "x": [np.nan, 0.2, np.nan]})
    >>> missing_covariates(cp, ["x"])[["covariate", "intervals", "initiatives", "closures"]]
      covariate  intervals  initiatives  closures
    0         x          2            2         1
    1       all          2            1         1
    """
    rows = []
    any_missing = np.zeros(len(cp), dtype=bool)
    for c in columns:
        m = cp[c].isna().to_numpy()
        if m.any():
            any_missing |= m
            rows.append(
                {
                    "covariate": c,
                    "intervals": int(m.sum()),
                    "initiatives": int(cp.loc[m, "initiative_id"].nunique()),
                    "closures": int(cp.loc[m, "event"].sum()),
                    "reason": MISSING_REASONS.get(c, "value missing"),
                }
            )
    kept = set(cp.loc[~any_missing, "initiative_id"])
    rows.append(
        {
            "covariate": "all",
            "intervals": int(any_missing.sum()),
            "initiatives": int(cp["initiative_id"].nunique() - len(kept)),
            "closures": int(cp.loc[any_missing, "event"].sum()),
            "reason": "left out of the fit (initiatives: no complete interval at all)",
        }
    )
    return pd.DataFrame(rows, columns=["covariate", "intervals", "initiatives", "closures", "reason"])


def fit_cox_tv(
    cp: pd.DataFrame, covariates: Sequence[str] | None = None, strata: Sequence[str] | None = None, penalizer: float = 0.0
):
    """Fit lifelines' ``CoxTimeVaryingFitter`` on start-stop rows; returns ``(fitter, table)``.

    The table has one row per covariate: coefficient, SE, hazard ratio with 95% CI, p-value, and
    the number of closures, initiatives and intervals used (``events``, ``n``, ``intervals``)
    and intervals left out (``intervals_dropped``). Covariates that do not vary in ``cp`` are
    dropped (a small province may have no granted multi-year funding). Intervals with a missing
    covariate are left out (complete cases); ``fitter.dropped_`` holds
    :func:`missing_covariates` for them (what was left out and why). By default the covariates
    are :func:`cox_covariates` (phase indicators against the phase with most person-time); when
    all four phase indicators are given, the reference phase's is left out.
    """
    from lifelines import CoxTimeVaryingFitter

    covariates = _without_phase_reference([c for c in (covariates or cox_covariates(cp)) if c in cp.columns], cp)
    usable = [c for c in covariates if cp[c].nunique(dropna=True) > 1 and cp.loc[cp["event"] == 1, c].notna().any()]
    cols = ["initiative_id", "start", "stop", "event", *usable, *(strata or [])]
    dropped = missing_covariates(cp[cols], cols)
    df = cp[cols].dropna()
    ctv = CoxTimeVaryingFitter(penalizer=penalizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctv.fit(
            df,
            id_col="initiative_id",
            event_col="event",
            start_col="start",
            stop_col="stop",
            strata=list(strata) if strata else None,
            show_progress=False,
        )
    ctv.dropped_ = dropped
    t = _cox_table(ctv.summary)
    t["events"] = int(df["event"].sum())
    t["n"] = int(df["initiative_id"].nunique())
    t["intervals"] = int(len(df))
    t["intervals_dropped"] = int(len(cp) - len(df))
    return ctv, t


def after_cut(start: pd.Series | np.ndarray, cut: float) -> np.ndarray:
    """1 for start-stop intervals that begin at or after ``cut`` years, else 0.

    Compared in whole days, as :func:`counting_process` splits rows: the split at ``cut`` years
    lies on day ``round(cut * 365.25)`` (5 years = day 1826 = 4.9993 years), so comparing years
    with ``start >= cut`` would put the interval that begins at the split on the wrong side.

    >>> after_cut(np.array([1825, 1826, 1827]) / DAYS_PER_YEAR, 5.0).tolist()
    [0, 1, 1]
    """
    start_d = np.round(np.asarray(start, dtype=float) * DAYS_PER_YEAR)
    return (start_d >= round(cut * DAYS_PER_YEAR)).astype(int)


#: Fewest closures a group (and its reference group) needs in each period of the time split.
MIN_SPLIT_CLOSURES = 5
#: A log hazard ratio with a larger standard error is taken as not estimable (a diverging fit).
MAX_LOG_HR_SE = 3.0
#: What a failed lifelines fit raises (convergence, a singular Hessian, NaN steps).
FIT_ERRORS: tuple[type[BaseException], ...] = (np.linalg.LinAlgError, ValueError, ZeroDivisionError, FloatingPointError)


def fit_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a lifelines Cox fit raises when it fails (convergence, singular matrix)."""
    from lifelines.exceptions import ConvergenceError

    return (ConvergenceError, *FIT_ERRORS)


def try_fit_cox_tv(cp: pd.DataFrame, covariates: Sequence[str] | None = None, **kw):
    """:func:`fit_cox_tv` that never raises on a fit that fails: returns ``(fitter, table, problem)``.

    ``problem`` is None for a usable fit, else a short English reason (the fit raised, or a
    coefficient's standard error is not finite or above :data:`MAX_LOG_HR_SE`, the mark of a
    fit running off to 0 or infinity); the fitter and table are then None.

    >>> cp = pd.DataFrame({"initiative_id": ["a", "b"], "start": [0.0, 0.0], "stop": [1.0, 2.0],
    ...                    "event": [1, 0], "x": [1, 0]})
    >>> try_fit_cox_tv(cp, ["x"])[2]
    'unstable fit (standard error of x not finite or too large)'
    """
    try:
        ctv, table = fit_cox_tv(cp, covariates, **kw)
    except fit_errors() as error:
        return None, None, f"fit failed ({type(error).__name__})"
    if table.empty:
        return None, None, "no covariate varies in this data"
    bad = table.loc[~np.isfinite(table["se"]) | (table["se"] > MAX_LOG_HR_SE), "covariate"].tolist()
    if bad:
        return None, None, f"unstable fit (standard error of {', '.join(bad)} not finite or too large)"
    return ctv, table, None


def ph_check_time_split(
    cp: pd.DataFrame,
    covariates: Sequence[str],
    cut: float = 5.0,
    alpha: float = 0.01,
    min_closures: int = MIN_SPLIT_CLOSURES,
    **kw,
) -> pd.DataFrame:
    """Proportional-hazards check for the time-varying model by splitting time; never raises.

    Refits with ``covariate x 1(t >= cut)`` for every covariate (the rows must be split at
    ``cut``, see ``counting_process(extra_cuts=...)``): the interaction coefficient is the change
    in log-HR after ``cut`` years. Per covariate: HR before and after ``cut`` with 95% CIs and the
    Wald p-value of the interaction; ``ph_ok`` is p >= ``alpha``. A covariate with ``ph_ok``
    False is reported (and judged, :func:`~maexlab.survival.verdicts.verdict_hazard_ratio`) per period.

    A covariate whose split cannot be estimated is left out of the check (``checked`` False,
    ``p_value`` missing, ``ph_ok`` True = not rejected because not tested) with the reason in
    ``note`` and a catalogue key in ``reason``:

    * ``survival.reasons.ph_few_closures``: a 0/1 covariate whose group or reference group (the
      reference phase, :func:`phase_reference`, for the phase indicators; social for the
      value-model indicators; 0 otherwise) has fewer than ``min_closures`` closures in a period
      (its HR there rests on a handful of closures, or does not exist: the fit would run off to 0
      or infinity, e.g. 189 closures in plan before 5 years and 1 after);
    * ``survival.reasons.ph_period_few_closures``: fewer than ``min_closures`` closures at all in
      a period (nothing can be checked);
    * ``survival.reasons.ph_not_estimable``: the split model did not converge or gave an unstable
      estimate for this covariate, even when fitted with its interaction alone.

    The rest is checked: when the joint fit of all interactions fails, each interaction is
    fitted on its own (with every covariate's main effect).
    """
    covariates = [c for c in _without_phase_reference(covariates, cp) if c in cp.columns and cp[c].nunique() > 1]
    late = after_cut(cp["start"], cut)
    cp2 = cp.copy()
    ev = cp2["event"].to_numpy() == 1
    skipped: dict[str, tuple[str, str]] = {}
    per_period = [int((ev & (late == lt)).sum()) for lt in (0, 1)]
    names: list[str] = []
    if min(per_period) < min_closures:
        why = f"fewer than {min_closures} closures before or after {cut:g} y ({per_period[0]} and {per_period[1]})"
        skipped = {c: ("survival.reasons.ph_period_few_closures", "not tested: " + why) for c in covariates}
    else:
        for c in covariates:
            if cp2[c].nunique() == 2:
                ref = _reference_rows(cp2, c, covariates)
                on = (cp2[c] == 1).to_numpy()
                few = [
                    f"{_reference_name(cp2, c, covariates) if grp is ref else c} {'after' if lt else 'before'} {cut:g} y "
                    f"({int((ev & grp & (late == lt)).sum())})"
                    for grp in (on, ref)
                    for lt in (0, 1)
                    if (ev & grp & (late == lt)).sum() < min_closures
                ]
                if few:
                    note = f"not tested: fewer than {min_closures} closures in " + ", ".join(few)
                    skipped[c] = ("survival.reasons.ph_few_closures", note)
                    continue
            cp2[f"{c}_x_late"] = cp2[c] * late
            names.append(c)
    estimates = _split_estimates(cp2, covariates, names, **kw)
    rows = []
    for c in names:
        if c not in estimates:
            skipped[c] = ("survival.reasons.ph_not_estimable", "not tested: the split model did not converge for it")
            continue
        b_c, b_i, v_cc, v_ii, v_ci = estimates[c]
        z = b_i / np.sqrt(v_ii)
        se_early, se_late = np.sqrt(v_cc), np.sqrt(v_cc + v_ii + 2 * v_ci)
        rows.append(
            {
                "covariate": c,
                f"hr_before_{cut:g}y": float(np.exp(b_c)),
                f"hr_before_{cut:g}y_low": float(np.exp(b_c - Z95 * se_early)),
                f"hr_before_{cut:g}y_high": float(np.exp(b_c + Z95 * se_early)),
                f"hr_after_{cut:g}y": float(np.exp(b_c + b_i)),
                f"hr_after_{cut:g}y_low": float(np.exp(b_c + b_i - Z95 * se_late)),
                f"hr_after_{cut:g}y_high": float(np.exp(b_c + b_i + Z95 * se_late)),
                "p_value": float(2 * stats.norm.sf(abs(z))),
                "checked": True,
                "reason": "",
                "note": "",
            }
        )
    rows += [
        {"covariate": c, "p_value": np.nan, "checked": False, "reason": key, "note": why} for c, (key, why) in skipped.items()
    ]
    columns = [
        "covariate",
        *(f"hr_{p}_{cut:g}y{s}" for p in ("before", "after") for s in ("", "_low", "_high")),
        "p_value",
        "checked",
        "reason",
        "note",
    ]
    out = pd.DataFrame(rows, columns=columns)
    out["checked"] = out["checked"].astype(bool)
    out["ph_ok"] = out["p_value"].isna() | (out["p_value"] >= alpha)
    order = {c: i for i, c in enumerate(covariates)}
    out = out.sort_values("covariate", key=lambda x: x.map(order), kind="stable").reset_index(drop=True)
    return out[[c for c in columns if c != "note"] + ["ph_ok", "note"]]


def _split_estimates(cp2: pd.DataFrame, covariates: Sequence[str], names: Sequence[str], **kw) -> dict[str, tuple]:
    """Per checked covariate: (b, b_interaction, var b, var b_interaction, cov) of the split model.

    Fits all interactions jointly; when that fails, each interaction alone (with every main
    effect). A covariate whose estimate is missing or unstable is absent from the result."""

    def estimates(fitter, which) -> dict[str, tuple]:
        b = fitter.params_
        V = pd.DataFrame(np.asarray(fitter.variance_matrix_), index=b.index, columns=b.index)
        got = {}
        for c in which:
            i = f"{c}_x_late"
            if c not in b.index or i not in b.index:
                continue
            values = (b[c], b[i], V.loc[c, c], V.loc[i, i], V.loc[c, i])
            if np.all(np.isfinite(values)) and 0 < V.loc[i, i] <= MAX_LOG_HR_SE**2 and V.loc[c, c] > 0:
                got[c] = values
        return got

    if not names:
        return {}
    interactions = [f"{c}_x_late" for c in names]
    fitter, _, problem = try_fit_cox_tv(cp2, [*covariates, *interactions], **kw)
    if problem is None:
        return estimates(fitter, names)
    got: dict[str, tuple] = {}
    for c in names:
        fitter, _, problem = try_fit_cox_tv(cp2, [*covariates, f"{c}_x_late"], **kw)
        if problem is None:
            got.update(estimates(fitter, [c]))
    return got


#: Dummy sets whose reference is "all those in the model at zero" (the reference phase; social).
DUMMY_GROUPS: tuple[tuple[str, ...], ...] = (PHASE_DUMMIES, ("hybrid", "commercial"))


def _reference_rows(cp: pd.DataFrame, c: str, covariates: Sequence[str] | None = None) -> np.ndarray:
    """Rows in the reference group of the 0/1 covariate ``c``: every indicator of its set that is
    in the model (``covariates``; default: all in ``cp``) at 0."""
    for group in DUMMY_GROUPS:
        if c in group:
            members = [g for g in group if g in cp.columns and (covariates is None or g in covariates)]
            return (cp[members] == 0).all(axis=1).to_numpy()
    return (cp[c] == 0).to_numpy()


def _reference_name(cp: pd.DataFrame, c: str, covariates: Sequence[str]) -> str:
    """How the reference group of ``c`` is named in notes."""
    if c in PHASE_DUMMIES:
        left = [g.removeprefix("phase_") for g in PHASE_DUMMIES if g in cp.columns and g not in covariates]
        return f"the reference phase ({', '.join(left)})" if left else "the reference group"
    return "the reference group"


def schoenfeld_test(
    df: pd.DataFrame, cph, covariates: Sequence[str], strata: Sequence[str] = (), alpha: float = 0.01
) -> pd.DataFrame:
    """Grambsch-Therneau test of proportional hazards from scaled Schoenfeld residuals, with
    delayed entry (risk set at t: entry < t <= duration, within stratum) and rank time transform.

    Same statistic as lifelines ``proportional_hazard_test(time_transform="rank")``, which
    ``check_assumptions`` uses but which raises for models with ``entry_col``; without entry the
    two agree (tested). Per covariate: ``test_statistic`` (chi-squared, 1 df), ``p_value``,
    ``ph_ok`` (p >= ``alpha``).
    """
    cov = list(covariates)
    beta = cph.params_.loc[cov].to_numpy()
    V = np.asarray(cph.variance_matrix_.loc[cov, cov] if hasattr(cph.variance_matrix_, "loc") else cph.variance_matrix_)
    se = cph.standard_errors_.loc[cov].to_numpy()
    X = df[cov].to_numpy(float)
    t = df["duration"].to_numpy(float)
    a = df["entry"].to_numpy(float) if "entry" in df else np.zeros(len(df))
    e = df["event"].to_numpy(bool)
    st = df[list(strata)].astype(str).agg("|".join, axis=1).to_numpy() if strata else np.zeros(len(df), dtype=object)
    w = np.exp((X - X.mean(0)) @ beta)
    order = np.argsort(t, kind="stable")
    ev = order[e[order]]
    resid = np.empty((len(ev), len(cov)))
    for k in range(0, len(ev), 500):
        idx = ev[k : k + 500]
        R = (a[None, :] < t[idx, None]) & (t[None, :] >= t[idx, None]) & (st[None, :] == st[idx, None])
        W = R * w[None, :]
        resid[k : k + 500] = X[idx] - (W @ X) / W.sum(1, keepdims=True)
    n_d = len(ev)
    scaled = n_d * resid @ V
    g = np.arange(1, n_d + 1, dtype=float)
    g = g - g.mean()
    T = (g[:, None] * scaled).sum(0) ** 2 / (n_d * se**2 * (g**2).sum())
    out = pd.DataFrame({"covariate": cov, "test_statistic": T, "p_value": stats.chi2.sf(T, 1)})
    out["ph_ok"] = out["p_value"] >= alpha
    return out


def baseline_cox(d: pd.DataFrame, covariates: Sequence[str], alpha: float = 0.01) -> dict:
    """Time-fixed Cox model (covariate values at entry; delayed entry via ``entry_col``) with the
    scaled-Schoenfeld proportional-hazards test (:func:`schoenfeld_test`).

    When covariates fail (p < ``alpha``) the model is refitted stratified by them (a continuous
    covariate is cut at its median to form strata) and tested again. Returns ``{"table",
    "ph_test", "failed", "stratified_table", "stratified_ph_test", "action", "n", "events",
    "dropped"}`` (``dropped``: initiatives left out for a missing covariate at entry).
    """
    from lifelines import CoxPHFitter

    covariates = _without_phase_reference([c for c in covariates if c in d and d[c].nunique() > 1], d)
    cols = ["duration", "event", "entry", *covariates]
    df = d[cols].dropna().astype(float).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(df, duration_col="duration", event_col="event", entry_col="entry")
    ph = schoenfeld_test(df, cph, covariates, alpha=alpha)
    failed = ph.loc[~ph["ph_ok"], "covariate"].tolist()
    out = {
        "table": _cox_table(cph.summary),
        "ph_test": ph,
        "failed": failed,
        "n": int(len(df)),
        "events": int(df["event"].sum()),
        "dropped": int(len(d) - len(df)),
    }
    if failed:
        df2 = df.copy()
        for c in failed:
            if df2[c].nunique() > 2:
                df2[c] = (df2[c] > df2[c].median()).astype(float)
        rest = [c for c in covariates if c not in failed]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph2 = CoxPHFitter().fit(df2, duration_col="duration", event_col="event", entry_col="entry", strata=failed)
        out.update(
            stratified_table=_cox_table(cph2.summary),
            stratified_ph_test=schoenfeld_test(df2, cph2, rest, strata=failed, alpha=alpha),
            action=f"stratified by {', '.join(failed)} (baseline hazard free per stratum, no HR for it)",
        )
    else:
        out["action"] = "none needed: no covariate fails the test"
    return out


def entry_covariates(d: pd.DataFrame, cp: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """``durations`` rows with each initiative's covariate values on its first (entry) interval."""
    first = cp.sort_values(["initiative_id", "start"]).drop_duplicates("initiative_id").set_index("initiative_id")
    out = d.copy()
    for c in covariates:
        if c in first.columns:
            out[c] = out["initiative_id"].map(first[c])
    return out


def poisson_closure_model(cp: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Piecewise-exponential (Poisson GLM with log person-time offset) closure model on the
    start-stop rows: baseline closure rate per year by current phase (``phase_*`` covariates
    interpreted as a phase-specific constant hazard) and rate ratios for ``covariates``.

    Returns one row per term: ``term, estimate, low, high`` (rates per year for ``rate_<phase>``,
    rate ratios otherwise).
    """
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    d = cp.dropna(subset=list(covariates))
    phase = np.select(
        [d.get("phase_start", 0) == 1, d.get("phase_growth", 0) == 1, d.get("phase_mature", 0) == 1],
        ["start", "growth", "mature"],
        "plan",
    )
    X = pd.get_dummies(pd.Categorical(phase, categories=list(ACTIVE_PHASES)), prefix="rate", dtype=float)
    X = X.loc[:, X.sum() > 0]
    X.index = d.index
    X = pd.concat([X, d[[c for c in covariates if not c.startswith("phase_")]].astype(float)], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = GLM(d["event"].astype(float), X, family=families.Poisson(), offset=np.log(d["stop"] - d["start"])).fit()
    ci = fit.conf_int()
    return pd.DataFrame(
        {
            "term": X.columns,
            "estimate": np.exp(fit.params.to_numpy()),
            "low": np.exp(ci[0].to_numpy()),
            "high": np.exp(ci[1].to_numpy()),
        }
    )
