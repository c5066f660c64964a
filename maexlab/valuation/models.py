"""Hedonic models of investor decisions (section 1 of notebook 02).

:class:`ModelFit` and :func:`fit_model` (OLS or logit with errors clustered by initiative),
:func:`hedonic_models` (log valuation, interest rate and accept decision per investor group),
:func:`decision_frame`, :func:`coefficient_table`, :func:`impact_difference` (impact minus
mainstream from one interacted model) and :func:`fits_to_results` (JSON-able summary).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from maexlab.reporting.verdicts import Reason
from maexlab.valuation.common import FUNDAMENTALS, MIN_MODEL_ROWS, VALUE_MODEL_DUMMIES, Outcome
from maexlab.valuation.features import complete_rows


def cluster_robust_cr2(X: np.ndarray, resid: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Bias-reduced cluster-robust covariance (CR2, Bell and McCaffrey 2002) of OLS coefficients.

    ``V = (X'X)^-1 [sum_g X_g' A_g e_g e_g' A_g X_g] (X'X)^-1`` with
    ``A_g = (I - H_gg)^(-1/2)``, ``H_gg = X_g (X'X)^-1 X_g'``. Under independent homoskedastic
    errors it is unbiased, where the usual CR1 (statsmodels ``cov_type="cluster"``) is biased
    downwards at high-leverage rows; intervals use t(G - 1) (Imbens and Kolesar 2016;
    Cameron and Miller 2015, section VI).

    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> V = cluster_robust_cr2(X, rng.normal(size=40), np.arange(40) // 2)
    >>> V.shape, bool(np.all(np.diag(V) > 0))
    ((2, 2), True)
    """
    X = np.asarray(X, float)
    resid = np.asarray(resid, float)
    bread = np.linalg.pinv(X.T @ X)
    meat = np.zeros((X.shape[1], X.shape[1]))
    order = np.argsort(clusters, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(np.asarray(clusters)[order]) != 0, True])
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        rows = order[start:stop]
        Xg, eg = X[rows], resid[rows]
        # I - H_gg is symmetric positive semi-definite; its inverse square root via eigenvalues,
        # with eigenvalues near 0 (a cluster that fixes its own coefficient) left out.
        w, U = np.linalg.eigh(np.eye(len(rows)) - Xg @ bread @ Xg.T)
        inv_sqrt = np.where(w > 1e-10, 1.0 / np.sqrt(np.clip(w, 1e-10, None)), 0.0)
        u = Xg.T @ (U @ (inv_sqrt * (U.T @ eg)))
        meat += np.outer(u, u)
    return bread @ meat @ bread


@dataclass
class ModelFit:
    """A fitted model (or why it was not fitted): tidy coefficients with 95% intervals.

    ``coefs`` has ``term, estimate, ci_low, ci_high, p_value``; ``message`` is None when fitted.
    ``n_clusters`` is the number of distinct initiatives; ``rows_left_out`` records the rows
    left out for a missing outcome or regressor (see :func:`complete_rows`).
    """

    name: str
    outcome: str
    group: str
    n: int
    n_clusters: int = 0
    coefs: pd.DataFrame = field(default_factory=pd.DataFrame)
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    rows_left_out: dict[str, Any] = field(default_factory=dict)
    reason: Reason | None = None
    df: int | None = None

    @property
    def ok(self) -> bool:
        return self.message is None

    def interval(self, name: str, level: float = 0.95) -> tuple[float, float] | None:
        """The ``level`` interval of one term from its standard error (t(G - 1) for OLS, normal for the logit)."""
        if not self.ok or name not in set(self.coefs["term"]):
            return None
        from scipy import stats

        row = self.coefs.set_index("term").loc[name]
        q = stats.t.ppf(0.5 + level / 2, self.df) if self.df else stats.norm.ppf(0.5 + level / 2)
        return float(row["estimate"] - q * row["std_error"]), float(row["estimate"] + q * row["std_error"])

    def term(self, name: str) -> dict[str, float] | None:
        """Estimate and interval of one term, or None."""
        if not self.ok or name not in set(self.coefs["term"]):
            return None
        row = self.coefs.set_index("term").loc[name]
        return {
            "estimate": float(row["estimate"]),
            "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]),
            "p_value": float(row["p_value"]),
        }


_OUTCOME_LABEL = {"log_valuation": "accepted equity offers", "interest_rate_pp": "accepted loans", "accepted": "assessments"}


def _rows_for(features: pd.DataFrame, outcome: Outcome) -> pd.DataFrame:
    if outcome == "log_valuation":
        return features[(features["instrument"] == "equity") & (features["accepted"] == 1)]
    if outcome == "interest_rate_pp":
        return features[(features["instrument"] == "loan") & (features["accepted"] == 1)]
    return features


def fit_model(
    features: pd.DataFrame,
    outcome: Outcome,
    regressors: Sequence[str],
    *,
    group: str = "all",
    name: str | None = None,
    min_rows: int = MIN_MODEL_ROWS,
) -> ModelFit:
    """OLS (log valuation, rate) or logit (accepted) with errors clustered by initiative.

    Rows with a missing outcome or regressor are left out and counted in ``rows_left_out``
    (with the missing variables); regressors constant in the rows are dropped (and named in
    ``extra['dropped']``). Below ``min_rows`` rows nothing is fitted and ``message`` says so.
    Standard errors: for OLS the bias-reduced cluster-robust estimator CR2 by initiative
    (:func:`cluster_robust_cr2`), 95% intervals from t(G - 1), G = number of initiatives; for the
    logit statsmodels' cluster-robust estimator (CR1) and the normal distribution. ``coefs`` also
    holds ``std_error``; :meth:`ModelFit.interval` gives other levels. A logit that does not
    converge or shows separation is not used: ``message`` and ``reason`` say so, no coefficients
    are kept and no warning text escapes.

    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"initiative_id": [str(i // 2) for i in range(200)], "x": rng.normal(size=200)})
    >>> df["log_valuation"] = 1 + 2 * df["x"] + rng.normal(scale=0.1, size=200)
    >>> fit = fit_model(df, "log_valuation", ["x"])
    >>> round(fit.term("x")["estimate"], 1)
    2.0
    """
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tools.tools import add_constant

    name = name or f"{outcome} ({group})"
    cols = list(dict.fromkeys(regressors))
    what = _OUTCOME_LABEL.get(outcome, "rows")
    rows, left_out = complete_rows(features, [outcome, *cols], what)
    n = len(rows)
    if n < min_rows:
        return ModelFit(
            name,
            outcome,
            group,
            n,
            int(rows["initiative_id"].nunique()),
            message=f"too few {what} with complete data in this selection (n={n} < {min_rows}) to fit the model",
            rows_left_out=left_out,
            reason=Reason("valuation.reasons.too_few_model_rows", {"n": n, "minimum": min_rows}),
        )
    keep = [c for c in cols if rows[c].astype(float).nunique() > 1]
    dropped = [c for c in cols if c not in keep]
    X = add_constant(rows[keep].astype(float), has_constant="add")
    y = rows[outcome].astype(float)
    clusters = pd.factorize(rows["initiative_id"])[0]
    n_clusters = int(len(np.unique(clusters)))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if outcome == "accepted":
                if y.nunique() < 2:
                    raise ValueError("the outcome does not vary")
                res = Logit(y, X).fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": clusters})
                converged = bool(res.mle_retvals.get("converged", True))
                params, se, df = np.asarray(res.params, float), np.asarray(res.bse, float), None
            else:
                res = OLS(y, X).fit()
                converged = True
                params = np.asarray(res.params, float)
                se = np.sqrt(np.clip(np.diag(cluster_robust_cr2(X.to_numpy(), np.asarray(res.resid, float), clusters)), 0, None))
                df = max(n_clusters - 1, 1)
    except Exception as exc:  # perfect separation, singular design
        return ModelFit(
            name,
            outcome,
            group,
            n,
            n_clusters,
            message=f"the model could not be fitted on this selection ({type(exc).__name__}: {exc})",
            rows_left_out=left_out,
            reason=Reason("valuation.reasons.fit_failed"),
        )
    from scipy import stats

    trouble = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning | UserWarning)]
    separated = any("separation" in t.lower() for t in trouble)
    if not converged or separated:
        kind = "separation" if separated else "not_converged"
        return ModelFit(
            name,
            outcome,
            group,
            n,
            n_clusters,
            message=f"the model did not converge on this selection ({kind.replace('_', ' ')})",
            rows_left_out=left_out,
            reason=Reason(f"valuation.reasons.{kind}"),
        )
    q = stats.t.ppf(0.975, df) if df else stats.norm.ppf(0.975)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = params / se
        p = 2 * (stats.t.sf(np.abs(z), df) if df else stats.norm.sf(np.abs(z)))
    coefs = pd.DataFrame(
        {
            "term": list(X.columns),
            "estimate": params,
            "std_error": se,
            "ci_low": params - q * se,
            "ci_high": params + q * se,
            "p_value": p,
        }
    )
    if not np.all(np.isfinite(coefs[["estimate", "ci_low", "ci_high"]].to_numpy())) or bool((se[1:] <= 0).any()):
        return ModelFit(
            name,
            outcome,
            group,
            n,
            n_clusters,
            message="the model gave non-finite estimates on this selection (too little variation)",
            rows_left_out=left_out,
            reason=Reason("valuation.reasons.non_finite"),
        )
    extra: dict[str, Any] = {"dropped": dropped}
    if outcome != "accepted":
        extra["residuals"] = np.asarray(res.resid, float)
        extra["params"] = res.params
    else:
        extra["params"] = res.params
    return ModelFit(name, outcome, group, n, n_clusters, coefs, None, extra, left_out, df=df)


#: Regressors of each hedonic model (before any z-scaling).
VALUATION_REGRESSORS: tuple[str, ...] = (*FUNDAMENTALS, "log_impact", *VALUE_MODEL_DUMMIES)
RATE_REGRESSORS: tuple[str, ...] = VALUATION_REGRESSORS
DECISION_REGRESSORS: tuple[str, ...] = (
    "z_log_revenue",
    "z_growth",
    "z_margin",
    "z_earned_income_share",
    "z_log_impact",
    *VALUE_MODEL_DUMMIES,
)


def decision_frame(features: pd.DataFrame) -> pd.DataFrame:
    """All assessments with ``z_`` columns: fundamentals and impact standardised with the mean and
    population sd over the assessments that have all of them (both groups). A missing value
    stays missing, so :func:`fit_model` leaves those rows out and says which variable was missing.
    """
    cols = [*FUNDAMENTALS, "log_impact"]
    complete = features.loc[features[cols].notna().all(axis=1), cols].astype(float)
    out = features.copy()
    for c in cols:
        sd = complete[c].std(ddof=0)
        out[f"z_{c}"] = (out[c].astype(float) - complete[c].mean()) / sd if sd > 0 else np.nan
    return out


def hedonic_models(features: pd.DataFrame, min_rows: int = MIN_MODEL_ROWS) -> dict[str, ModelFit]:
    """The hedonic models, separately for mainstream and impact investors.

    Keys ``"<outcome>|<group>"`` for outcome in log_valuation (accepted equity: fundamentals,
    log(impact value + 1), value model), interest_rate_pp (accepted loans, same regressors)
    and accepted (logit over all assessments, z-scaled fundamentals and impact), and group
    in mainstream, impact.

    >>> fits = hedonic_models(build_features(maexlab.load("embedded")))  # doctest: +SKIP
    >>> fits["log_valuation|impact"].term("log_impact")["estimate"]  # doctest: +SKIP
    0.25...
    """
    out: dict[str, ModelFit] = {}
    dec = decision_frame(features)
    for group in ("mainstream", "impact"):
        sub = features[features["investor_group"] == group]
        out[f"log_valuation|{group}"] = fit_model(
            _rows_for(sub, "log_valuation"),
            "log_valuation",
            VALUATION_REGRESSORS,
            group=group,
            name=f"log valuation, {group} investors",
            min_rows=min_rows,
        )
        out[f"interest_rate_pp|{group}"] = fit_model(
            _rows_for(sub, "interest_rate_pp"),
            "interest_rate_pp",
            RATE_REGRESSORS,
            group=group,
            name=f"interest rate (pp), {group} investors",
            min_rows=min_rows,
        )
        out[f"accepted|{group}"] = fit_model(
            dec[dec["investor_group"] == group],
            "accepted",
            DECISION_REGRESSORS,
            group=group,
            name=f"accept decision (logit), {group} investors",
            min_rows=min_rows,
        )
    return out


def coefficient_table(fits: dict[str, ModelFit]) -> pd.DataFrame:
    """Tidy table of every fitted model's coefficients (model, group, n, term, estimate, 95% CI)."""
    frames = []
    for _key, fit in sorted(fits.items()):
        if not fit.ok:
            continue
        t = fit.coefs.copy()
        t.insert(0, "n_initiatives", fit.n_clusters)
        t.insert(0, "n", fit.n)
        t.insert(0, "group", fit.group)
        t.insert(0, "outcome", fit.outcome)
        frames.append(t)
    if not frames:
        return pd.DataFrame(
            columns=["outcome", "group", "n", "n_initiatives", "term", "estimate", "ci_low", "ci_high", "p_value"]
        )
    return pd.concat(frames, ignore_index=True)


def impact_difference(features: pd.DataFrame, outcome: Outcome = "log_valuation", min_rows: int = MIN_MODEL_ROWS) -> ModelFit:
    """Difference (impact minus mainstream) of every coefficient, from one fully interacted model.

    The ``impact_investor:<term>`` rows give the difference with a 95% interval clustered by
    initiative; ``impact_investor:log_impact`` answers "do impact investors price impact more?".
    """
    rows = features if outcome != "accepted" else decision_frame(features)
    rows = _rows_for(rows, outcome).copy()
    regs = list(VALUATION_REGRESSORS if outcome != "accepted" else DECISION_REGRESSORS)
    complete, left_out = complete_rows(rows, [outcome, *regs], _OUTCOME_LABEL[outcome])
    inter = []
    for r in regs:
        rows[f"impact_investor:{r}"] = rows["impact_investor"] * rows[r]
        inter.append(f"impact_investor:{r}")
    if complete["impact_investor"].nunique() < 2 or min(complete["impact_investor"].value_counts()) < min_rows:
        return ModelFit(
            f"{outcome} interaction",
            outcome,
            "difference",
            len(complete),
            int(complete["initiative_id"].nunique()),
            message=f"too few {_OUTCOME_LABEL[outcome]} per investor group in this selection to compare the groups (need {min_rows} each)",
            rows_left_out=left_out,
            reason=Reason("valuation.reasons.too_few_per_group", {"minimum": min_rows}),
        )
    return fit_model(
        rows,
        outcome,
        [*regs, "impact_investor", *inter],
        group="difference",
        name=f"{outcome}, impact minus mainstream",
        min_rows=min_rows,
    )


def fits_to_results(fits: dict[str, ModelFit]) -> dict[str, Any]:
    """JSON-able summary: per model, n, initiatives, rows left out for missing data (how many and
    which variables were missing) and each term's estimate and interval (or the reason not fitted)."""
    out: dict[str, Any] = {}
    for key, f in sorted(fits.items()):
        if not f.ok:
            out[key] = {"n": f.n, "n_clusters": f.n_clusters, "rows_left_out": f.rows_left_out, "not_computed": f.message}
            continue
        out[key] = {
            "n": f.n,
            "n_clusters": f.n_clusters,
            "rows_left_out": f.rows_left_out,
            "terms": {r.term: {"estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high} for r in f.coefs.itertuples()},
        }
    return out
