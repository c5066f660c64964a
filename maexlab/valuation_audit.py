"""Predictive audit of investor decisions: what drives acceptance, and does the mainstream rule
under-rate high-impact initiatives?

Used by notebook 02 (section 4). Models are scikit-learn pipelines (standardise, then logistic
regression) fitted per investor group (mainstream vs impact, see :mod:`maexlab.valuation`).

* :func:`cv_auc` -- cross-validated AUC (StratifiedGroupKFold by initiative, seeded).
* :func:`group_permutation_importance` -- drop in held-out AUC when a whole feature group
  (financial, impact, value model) is permuted jointly.
* :func:`impact_decile_calibration` -- per impact decile, the mainstream investors' observed
  acceptance rate against their own fitted rule and against the impact investors' fitted
  rule applied to the same mainstream cases, with a cluster-bootstrap interval for the
  top-3 minus bottom-3 decile contrast of (impact rule - observed).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from maexlab.valuation import FUNDAMENTALS, MIN_MODEL_ROWS

__all__ = [
    "FEATURE_GROUPS",
    "audit",
    "cv_auc",
    "group_permutation_importance",
    "impact_decile_calibration",
    "make_pipeline",
    "plot_calibration",
]

#: Feature groups for the permutation importance.
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "financial": FUNDAMENTALS,
    "impact": ("log_impact", "log_people_reached"),
    "value model": ("hybrid", "social"),
}
N_SPLITS = 5


def _features(groups: dict[str, tuple[str, ...]] = FEATURE_GROUPS) -> list[str]:
    return [c for cols in groups.values() for c in cols]


def make_pipeline(seed: int = 20261128):
    """Standardise, then an L2 logistic regression (C=1): the audited decision rule.

    >>> make_pipeline().steps[-1][0]
    'logit'
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("logit", LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200, random_state=seed)),
        ]
    )


def audit_frame(features: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Assessments with every audit feature present (people reached filled by its median if partly missing)."""
    cols = list(columns or _features())
    rows = features.copy()
    if "log_people_reached" in cols and rows["log_people_reached"].notna().any():
        rows["log_people_reached"] = rows["log_people_reached"].fillna(rows["log_people_reached"].median())
    return rows.dropna(subset=[c for c in cols if rows[c].notna().any()] + ["accepted"]).reset_index(drop=True)


def _usable(cols: Sequence[str], rows: pd.DataFrame) -> list[str]:
    return [c for c in cols if rows[c].notna().all() and rows[c].nunique() > 1]


def _check(rows: pd.DataFrame, label: str, min_rows: int) -> str | None:
    counts = rows["accepted"].value_counts()
    if len(rows) < min_rows or counts.min() < N_SPLITS or len(counts) < 2 or rows["initiative_id"].nunique() < N_SPLITS:
        return f"too few {label} assessments with complete data in this selection (n={len(rows)}; need {min_rows} with both decisions) for the predictive audit"
    return None


def _folds(rows: pd.DataFrame, seed: int):
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=N_SPLITS, shuffle=True, random_state=seed)
    return list(cv.split(rows, rows["accepted"], groups=rows["initiative_id"]))


def cv_auc(rows: pd.DataFrame, columns: Sequence[str], seed: int = 20261128) -> dict[str, float]:
    """Cross-validated AUC of the pipeline (5 folds grouped by initiative, stratified, seeded).

    Returns the mean fold AUC, its 95% t-interval over folds, and the pooled out-of-fold AUC.
    """
    from scipy import stats
    from sklearn.metrics import roc_auc_score

    X, y = rows[list(columns)].to_numpy(float), rows["accepted"].to_numpy(int)
    oof = np.zeros(len(rows))
    aucs = []
    for train, test in _folds(rows, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make_pipeline(seed).fit(X[train], y[train])
            p = model.predict_proba(X[test])[:, 1]
        oof[test] = p
        aucs.append(roc_auc_score(y[test], p))
    a = np.array(aucs)
    half = stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a))
    return {
        "auc": float(a.mean()),
        "ci_low": float(a.mean() - half),
        "ci_high": float(a.mean() + half),
        "auc_pooled_oof": float(roc_auc_score(y, oof)),
        "n": int(len(rows)),
    }


def group_permutation_importance(
    rows: pd.DataFrame,
    groups: dict[str, tuple[str, ...]] = FEATURE_GROUPS,
    *,
    seed: int = 20261128,
    repeats: int = 5,
) -> pd.DataFrame:
    """Drop in held-out AUC when each feature group's columns are permuted together.

    For every CV fold the model is fitted on the training part; on the held-out part each
    group's columns are shuffled jointly (same row permutation, ``repeats`` times, seeded).
    Returns ``feature_group, importance`` (mean AUC drop) with a 95% t-interval over folds.
    """
    from scipy import stats
    from sklearn.metrics import roc_auc_score

    cols = _usable(_features(groups), rows)
    X, y = rows[cols].to_numpy(float), rows["accepted"].to_numpy(int)
    rng = np.random.default_rng(seed)
    per_fold: dict[str, list[float]] = {g: [] for g in groups}
    for train, test in _folds(rows, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make_pipeline(seed).fit(X[train], y[train])
            base = roc_auc_score(y[test], model.predict_proba(X[test])[:, 1])
            for g, gcols in groups.items():
                idx = [cols.index(c) for c in gcols if c in cols]
                if not idx:
                    continue
                drops = []
                for _ in range(repeats):
                    Xp = X[test].copy()
                    perm = rng.permutation(len(test))
                    Xp[:, idx] = Xp[perm][:, idx]
                    drops.append(base - roc_auc_score(y[test], model.predict_proba(Xp)[:, 1]))
                per_fold[g].append(float(np.mean(drops)))
    out = []
    for g, vals in per_fold.items():
        if not vals:
            continue
        a = np.array(vals)
        half = stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.nan
        out.append({"feature_group": g, "importance": a.mean(), "ci_low": a.mean() - half, "ci_high": a.mean() + half})
    return pd.DataFrame(out)


def _fit_rule(rows: pd.DataFrame, cols: list[str], seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_pipeline(seed).fit(rows[cols].to_numpy(float), rows["accepted"].to_numpy(int))


def _calibration_once(main: pd.DataFrame, imp: pd.DataFrame, cols: list[str], seed: int) -> pd.DataFrame:
    m_rule, i_rule = _fit_rule(main, cols, seed), _fit_rule(imp, cols, seed)
    X = main[cols].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main.assign(mainstream_rule=m_rule.predict_proba(X)[:, 1], impact_rule=i_rule.predict_proba(X)[:, 1])


def _contrast(scored: pd.DataFrame) -> float:
    d = scored["impact_rule"] - scored["accepted"]
    return float(d[scored["decile"] >= 8].mean() - d[scored["decile"] <= 3].mean())


def impact_decile_calibration(
    rows: pd.DataFrame,
    *,
    seed: int = 20261128,
    reps: int = 200,
    min_rows: int = MIN_MODEL_ROWS,
) -> tuple[pd.DataFrame, dict[str, Any] | None, str | None]:
    """Observed vs fitted acceptance of mainstream cases per impact decile; impact rule applied to them.

    Deciles of log(impact value + 1) are cut over all assessments (both groups). For the
    mainstream cases in each decile: ``observed`` acceptance, ``mainstream_rule`` (their own
    fitted rule) and ``impact_rule`` (the impact investors' fitted rule applied to the same
    cases); ``observed_impact`` is the impact investors' own acceptance rate in the decile.
    The contrast (deciles 8-10 minus 1-3 of impact rule minus observed, mainstream cases) is
    > 0 when the mainstream rule under-rates high-impact initiatives relative to a rule that
    counts impact; its 95% interval is a percentile cluster bootstrap over initiatives
    (both rules refitted each draw).

    Returns ``(table, contrast, message)``; message says why nothing was computed.
    """
    cols = _usable(_features(), rows)
    rows = rows.copy()
    rows["decile"] = pd.qcut(rows["log_impact"].rank(method="first"), 10, labels=False) + 1
    main, imp = rows[rows["investor_group"] == "mainstream"], rows[rows["investor_group"] == "impact"]
    for label, part in (("mainstream", main), ("impact", imp)):
        msg = _check(part, label, min_rows)
        if msg:
            return pd.DataFrame(), None, msg
    scored = _calibration_once(main, imp, cols, seed)
    g = scored.groupby("decile")
    table = pd.DataFrame(
        {
            "n": g.size(),
            "impact_value_median_eur": g["impact_value"].median(),
            "observed": g["accepted"].mean(),
            "mainstream_rule": g["mainstream_rule"].mean(),
            "impact_rule": g["impact_rule"].mean(),
        }
    )
    table["impact_rule_minus_observed"] = table["impact_rule"] - table["observed"]
    table["n_impact"] = imp.groupby("decile").size().reindex(table.index).fillna(0).astype(int)
    table["observed_impact"] = imp.groupby("decile")["accepted"].mean().reindex(table.index)
    table = table.reset_index()
    table["decile"] = table["decile"].astype(int)

    rng = np.random.default_rng(seed)
    draws = []
    ids_m, ids_i = main["initiative_id"].to_numpy(), imp["initiative_id"].to_numpy()
    uniq = np.unique(np.concatenate([ids_m, ids_i]))
    pos = {u: k for k, u in enumerate(uniq)}
    km, ki = np.array([pos[u] for u in ids_m]), np.array([pos[u] for u in ids_i])
    mem_m = pd.Series(np.arange(len(km))).groupby(km).apply(np.array).reindex(range(len(uniq))).tolist()
    mem_i = pd.Series(np.arange(len(ki))).groupby(ki).apply(np.array).reindex(range(len(uniq))).tolist()
    for _ in range(int(reps)):
        pick = rng.integers(0, len(uniq), len(uniq))
        im = np.concatenate([mem_m[k] for k in pick if isinstance(mem_m[k], np.ndarray)] or [np.array([], int)])
        ii = np.concatenate([mem_i[k] for k in pick if isinstance(mem_i[k], np.ndarray)] or [np.array([], int)])
        bm, bi = main.iloc[im], imp.iloc[ii]
        if bm["accepted"].nunique() < 2 or bi["accepted"].nunique() < 2:
            continue
        draws.append(_contrast(_calibration_once(bm, bi, cols, seed)))
    d = np.array(draws)
    contrast = {
        "estimate": _contrast(scored),
        "ci_low": float(np.percentile(d, 2.5)) if len(d) else float("nan"),
        "ci_high": float(np.percentile(d, 97.5)) if len(d) else float("nan"),
        "n": int(len(main)),
        "reps": int(len(d)),
    }
    return table, contrast, None


def audit(features: pd.DataFrame, *, seed: int = 20261128, reps: int = 200, min_rows: int = MIN_MODEL_ROWS) -> dict[str, Any]:
    """Run the whole audit: AUC and group importance per investor group, and the decile calibration.

    Returns a dict with ``auc`` (DataFrame), ``importance`` (DataFrame), ``calibration``
    (DataFrame), ``contrast`` (dict or None) and ``messages`` (why parts were not computed).
    """
    rows = audit_frame(features)
    cols = _usable(_features(), rows)
    aucs, imps, messages = [], [], {}
    for group in ("mainstream", "impact"):
        part = rows[rows["investor_group"] == group].reset_index(drop=True)
        msg = _check(part, group, min_rows)
        if msg:
            messages[group] = msg
            continue
        aucs.append({"group": group, **cv_auc(part, cols, seed)})
        imp = group_permutation_importance(part, seed=seed)
        imp.insert(0, "n", len(part))
        imp.insert(0, "group", group)
        imps.append(imp)
    calibration, contrast, msg = (
        (pd.DataFrame(), None, "no rows")
        if rows.empty
        else impact_decile_calibration(rows, seed=seed, reps=reps, min_rows=min_rows)
    )
    if msg:
        messages["calibration"] = msg
    return {
        "auc": pd.DataFrame(aucs),
        "importance": pd.concat(imps, ignore_index=True) if imps else pd.DataFrame(),
        "calibration": calibration,
        "contrast": contrast,
        "messages": messages,
        "message": "; ".join(messages.values()) if messages else None,
    }


def plot_calibration(table: pd.DataFrame):
    """Acceptance of mainstream cases per impact decile: observed, own rule, impact investors' rule."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    t = table.dropna(subset=["observed"])
    ax.plot(t["decile"], t["observed"], "o-", color="#4c72b0", label="mainstream investors: observed acceptance")
    ax.plot(t["decile"], t["mainstream_rule"], "--", color="#4c72b0", alpha=0.7, label="mainstream rule (fitted)")
    ax.plot(t["decile"], t["impact_rule"], "s-", color="#dd8452", label="impact investors' rule applied to the same cases")
    if "observed_impact" in t:
        ax.plot(
            t["decile"],
            t["observed_impact"],
            ":",
            color="#dd8452",
            alpha=0.7,
            label="impact investors: observed acceptance (own cases)",
        )
    ax.set_xticks(range(1, 11))
    ax.set_xlabel("decile of yearly impact value (1 = lowest)")
    ax.set_ylabel("acceptance rate (share of assessments)")
    ax.set_ylim(0, 1)
    ax.set_title("Does the mainstream rule under-rate high-impact initiatives?")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
