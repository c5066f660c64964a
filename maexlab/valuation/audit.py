"""Predictive audit of investor decisions: what drives acceptance, and does the mainstream rule
under-rate high-impact initiatives?

Used by notebook 02 (section 4). Models are scikit-learn pipelines (standardise, then logistic
regression) fitted per investor group (mainstream vs impact, see :mod:`maexlab.valuation`).

* :func:`cv_auc` -- pooled out-of-fold AUC (StratifiedGroupKFold by initiative, seeded) with
  a cluster (initiative) bootstrap interval.
* :func:`group_permutation_importance` -- drop in pooled out-of-fold AUC when a whole feature
  group (financial, impact, value model) is permuted jointly, with the same bootstrap.
* :func:`impact_decile_calibration` -- per impact decile, the mainstream investors' observed
  acceptance rate against their own fitted rule and against the impact investors' fitted
  rule applied to the same mainstream cases, with a cluster-bootstrap interval for the
  top-3 minus bottom-3 decile contrast of (impact rule - observed).

Bootstrap draws come from :func:`maexlab.funding.cluster_bootstrap_weights` (initiatives
resampled with replacement, seeded).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from maexlab.reporting.privacy import DEFAULT_MIN_GROUP_SIZE, suppress_small_cells
from maexlab.valuation.common import FUNDAMENTALS, MIN_MODEL_ROWS

__all__ = [
    "FEATURE_GROUPS",
    "audit",
    "audit_frame",
    "audit_rows",
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
#: Cluster-bootstrap draws for the AUC and importance intervals.
AUC_REPS = 200


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


def audit_rows(features: pd.DataFrame, columns: Sequence[str] | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Assessments for the audit, and a record of the rows filled or left out and why.

    ``log_people_reached`` missing in some rows is filled with its median over the others (a
    profile field, often left blank); a feature missing in every row is not used. Rows still
    missing a feature or the decision are left out. The record has ``n_input``,
    ``n_filled_people_reached``, ``people_reached_fill_value``, ``n_dropped``,
    ``missing_by_column``, ``unused_columns`` and ``notes`` (sentences for the notebook).

    >>> f = pd.DataFrame({"log_people_reached": [1.0, None, 3.0], "x": [1.0, 2.0, None], "accepted": [1, 0, 1]})
    >>> rows, rec = audit_rows(f, ["log_people_reached", "x"])
    >>> len(rows), rec["n_filled_people_reached"], rec["n_dropped"]
    (2, 1, 1)
    """
    cols = list(columns or _features())
    rows = features.copy()
    notes = []
    n_filled, fill_value = 0, None
    if "log_people_reached" in cols and rows["log_people_reached"].notna().any():
        missing = rows["log_people_reached"].isna()
        n_filled = int(missing.sum())
        if n_filled:
            fill_value = float(rows["log_people_reached"].median())
            rows["log_people_reached"] = rows["log_people_reached"].fillna(fill_value)
            notes.append(
                f"people reached missing for {n_filled} of {len(rows)} assessments: filled with the median "
                f"log(people reached + 1) = {fill_value:.2f} of the others"
            )
    unused = [c for c in cols if not rows[c].notna().any()]
    if unused:
        notes.append(f"not used (missing in every assessment): {', '.join(unused)}")
    check = [c for c in cols if c not in unused] + ["accepted"]
    missing = rows[check].isna()
    drop = missing.any(axis=1)
    by_col = {c: int(k) for c, k in missing.sum().items() if k}
    if drop.any():
        reasons = ", ".join(f"{c} missing in {k}" for c, k in sorted(by_col.items(), key=lambda kv: -kv[1]))
        notes.append(f"{int(drop.sum())} of {len(rows)} assessments left out for missing data ({reasons})")
    record = {
        "n_input": int(len(rows)),
        "n_filled_people_reached": n_filled,
        "people_reached_fill_value": fill_value,
        "n_dropped": int(drop.sum()),
        "missing_by_column": by_col,
        "unused_columns": unused,
        "notes": notes,
    }
    return rows[~drop].reset_index(drop=True), record


def audit_frame(features: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The rows of :func:`audit_rows` (without the record)."""
    return audit_rows(features, columns)[0]


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


def weighted_auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUC under each row of case weights (``weights``: draws x cases), ties counted half.

    Vectorised Mann-Whitney statistic, so a whole bootstrap is a few array operations.

    >>> from sklearn.metrics import roc_auc_score
    >>> y, s = np.array([0, 1, 0, 1, 1]), np.array([0.1, 0.4, 0.4, 0.8, 0.3])
    >>> w = np.array([[1.0, 2.0, 0.0, 1.0, 1.0]])
    >>> bool(np.isclose(weighted_auc(y, s, w)[0], roc_auc_score(y, s, sample_weight=w[0])))
    True
    """
    weights = np.atleast_2d(np.asarray(weights, float))
    order = np.argsort(score, kind="mergesort")
    s, yy, w = np.asarray(score)[order], np.asarray(y)[order], weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    neg = np.add.reduceat(w * (yy == 0), starts, axis=1)
    pos = np.add.reduceat(w * (yy == 1), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def _oof(rows: pd.DataFrame, columns: Sequence[str], seed: int, permute: dict[str, list[int]] | None = None, repeats: int = 5):
    """Out-of-fold scores; with ``permute`` also the scores with each group's columns shuffled jointly."""
    X, y = rows[list(columns)].to_numpy(float), rows["accepted"].to_numpy(int)
    oof = np.zeros(len(rows))
    permuted = {g: np.zeros((repeats, len(rows))) for g in permute or {}}
    fold_aucs = []
    rng = np.random.default_rng(seed)
    from sklearn.metrics import roc_auc_score

    for train, test in _folds(rows, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make_pipeline(seed).fit(X[train], y[train])
            oof[test] = model.predict_proba(X[test])[:, 1]
            for g, idx in (permute or {}).items():
                for r in range(repeats):
                    Xp = X[test].copy()
                    perm = rng.permutation(len(test))
                    Xp[:, idx] = Xp[perm][:, idx]
                    permuted[g][r, test] = model.predict_proba(Xp)[:, 1]
        fold_aucs.append(roc_auc_score(y[test], oof[test]))
    return y, oof, permuted, np.array(fold_aucs)


def _row_weights(rows: pd.DataFrame, seed: int, reps: int) -> np.ndarray:
    from maexlab.funding.tables import cluster_bootstrap_weights

    uniq, inverse = np.unique(rows["initiative_id"].to_numpy(), return_inverse=True)
    return cluster_bootstrap_weights(uniq, seed, int(reps))[:, inverse]


def _interval(draws: np.ndarray) -> tuple[float, float]:
    d = draws[np.isfinite(draws)]
    if not len(d):
        return float("nan"), float("nan")
    return float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))


def cv_auc(rows: pd.DataFrame, columns: Sequence[str], seed: int = 20261128, reps: int = AUC_REPS) -> dict[str, float]:
    """Pooled out-of-fold AUC of the pipeline (5 folds grouped by initiative, stratified, seeded).

    ``auc`` is the AUC of all out-of-fold scores together; ``ci_low, ci_high`` its 95%
    percentile cluster bootstrap (initiatives resampled, ``reps`` draws). The fold models are
    held fixed in the bootstrap: the interval reflects which initiatives were sampled, not
    the variability of refitting. ``auc_fold_mean`` is the mean of the 5 fold AUCs (no
    interval: 5 correlated folds do not give an honest one). Also ``n`` (assessments),
    ``n_initiatives`` and ``reps``.
    """
    y, oof, _, folds = _oof(rows, columns, seed)
    draws = weighted_auc(y, oof, _row_weights(rows, seed, reps))
    lo, hi = _interval(draws)
    return {
        "auc": float(weighted_auc(y, oof, np.ones((1, len(y))))[0]),
        "ci_low": lo,
        "ci_high": hi,
        "auc_fold_mean": float(folds.mean()),
        "n": int(len(rows)),
        "n_initiatives": int(rows["initiative_id"].nunique()),
        "reps": int(np.isfinite(draws).sum()),
    }


def group_permutation_importance(
    rows: pd.DataFrame,
    groups: dict[str, tuple[str, ...]] = FEATURE_GROUPS,
    *,
    seed: int = 20261128,
    repeats: int = 5,
    reps: int = AUC_REPS,
) -> pd.DataFrame:
    """Drop in pooled out-of-fold AUC when each feature group's columns are permuted together.

    For every CV fold the model is fitted on the training part; on the held-out part each
    group's columns are shuffled jointly (same row permutation, ``repeats`` times, seeded).
    Importance = pooled out-of-fold AUC minus the pooled AUC with the group shuffled (mean over
    repeats). Returns ``feature_group, importance, ci_low, ci_high``: a 95% percentile cluster
    bootstrap over initiatives (``reps`` draws; fold models and permutations held fixed).
    """
    cols = _usable(_features(groups), rows)
    permute = {g: [cols.index(c) for c in gcols if c in cols] for g, gcols in groups.items()}
    permute = {g: idx for g, idx in permute.items() if idx}
    y, oof, permuted, _ = _oof(rows, cols, seed, permute, repeats)
    W = np.vstack([np.ones((1, len(y))), _row_weights(rows, seed, reps)])
    base = weighted_auc(y, oof, W)
    out = []
    for g, scores in permuted.items():
        drop = base - np.mean([weighted_auc(y, s, W) for s in scores], axis=0)
        lo, hi = _interval(drop[1:])
        out.append({"feature_group": g, "importance": float(drop[0]), "ci_low": lo, "ci_high": hi})
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
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
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

    Counts per decile: ``n`` and ``n_initiatives`` (mainstream cases; publish the table with
    ``count_column="n_initiatives"``, which blanks the mainstream statistics of small deciles),
    and ``n_impact`` and ``n_impact_initiatives`` (impact investors' cases). The impact side is
    suppressed here by its own count: ``n_impact`` and ``observed_impact`` are blank in deciles
    with fewer than ``min_group_size`` impact-investor initiatives (with secondary suppression
    across deciles, as :func:`maexlab.reporting.privacy.suppress_small_cells`), flagged by
    ``impact_suppressed``.

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
            "n_initiatives": g["initiative_id"].nunique(),
            "impact_value_median_eur": g["impact_value"].median(),
            "observed": g["accepted"].mean(),
            "mainstream_rule": g["mainstream_rule"].mean(),
            "impact_rule": g["impact_rule"].mean(),
        }
    )
    table["impact_rule_minus_observed"] = table["impact_rule"] - table["observed"]
    gi = imp.groupby("decile")
    impact_side = pd.DataFrame(
        {
            "n_impact": gi.size(),
            "n_impact_initiatives": gi["initiative_id"].nunique(),
            "observed_impact": gi["accepted"].mean(),
        }
    ).reindex(table.index)
    impact_side[["n_impact", "n_impact_initiatives"]] = impact_side[["n_impact", "n_impact_initiatives"]].fillna(0)
    impact_side = suppress_small_cells(
        impact_side.rename_axis("decile").reset_index(),
        count_column="n_impact_initiatives",
        min_group_size=min_group_size,
        keep=("decile",),
    ).rename(columns={"suppressed": "impact_suppressed"})
    impact_side["n_impact"] = impact_side["n_impact"].round().astype("Int64")
    table = table.reset_index().merge(impact_side, on="decile", how="left", validate="1:1")
    table["decile"] = table["decile"].astype(int)

    from maexlab.funding.tables import cluster_bootstrap_weights

    draws = []
    ids_m, ids_i = main["initiative_id"].to_numpy(), imp["initiative_id"].to_numpy()
    uniq, inverse = np.unique(np.concatenate([ids_m, ids_i]), return_inverse=True)
    km, ki = inverse[: len(ids_m)], inverse[len(ids_m) :]
    pos_m, pos_i = np.arange(len(main)), np.arange(len(imp))
    for w in cluster_bootstrap_weights(uniq, seed, int(reps)).astype(int):
        bm, bi = main.iloc[np.repeat(pos_m, w[km])], imp.iloc[np.repeat(pos_i, w[ki])]
        if bm["accepted"].nunique() < 2 or bi["accepted"].nunique() < 2:
            continue
        draws.append(_contrast(_calibration_once(bm, bi, cols, seed)))
    d = np.array(draws)
    contrast = {
        "estimate": _contrast(scored),
        "ci_low": float(np.percentile(d, 2.5)) if len(d) else float("nan"),
        "ci_high": float(np.percentile(d, 97.5)) if len(d) else float("nan"),
        "n": int(len(main)),
        "n_initiatives": int(main["initiative_id"].nunique()),
        "reps": int(len(d)),
    }
    return table, contrast, None


def audit(
    features: pd.DataFrame,
    *,
    seed: int = 20261128,
    reps: int = 200,
    min_rows: int = MIN_MODEL_ROWS,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> dict[str, Any]:
    """Run the whole audit: AUC and group importance per investor group, and the decile calibration.

    Returns a dict with ``auc`` (DataFrame; publish with ``count_column="n_initiatives"``),
    ``importance`` (DataFrame, same), ``calibration`` (DataFrame, same), ``contrast`` (dict or
    None), ``rows`` (the :func:`audit_rows` record: rows filled or left out and why) and
    ``messages`` (why parts were not computed). ``reps`` bootstrap draws are used for every
    interval.
    """
    rows, record = audit_rows(features)
    cols = _usable(_features(), rows)
    aucs, imps, messages = [], [], {}
    for group in ("mainstream", "impact"):
        part = rows[rows["investor_group"] == group].reset_index(drop=True)
        msg = _check(part, group, min_rows)
        if msg:
            messages[group] = msg
            continue
        aucs.append({"group": group, **cv_auc(part, cols, seed, reps=reps)})
        imp = group_permutation_importance(part, seed=seed, reps=reps)
        imp.insert(0, "n_initiatives", int(part["initiative_id"].nunique()))
        imp.insert(0, "n", len(part))
        imp.insert(0, "group", group)
        imps.append(imp)
    calibration, contrast, msg = (
        (pd.DataFrame(), None, "no rows")
        if rows.empty
        else impact_decile_calibration(rows, seed=seed, reps=reps, min_rows=min_rows, min_group_size=min_group_size)
    )
    if msg:
        messages["calibration"] = msg
    return {
        "auc": pd.DataFrame(aucs),
        "importance": pd.concat(imps, ignore_index=True) if imps else pd.DataFrame(),
        "calibration": calibration,
        "contrast": contrast,
        "rows": record,
        "messages": messages,
        "message": "; ".join(messages.values()) if messages else None,
    }


def plot_calibration(table: pd.DataFrame, language: str = "nl"):
    """Acceptance of mainstream cases per impact decile: observed, own rule, impact investors' rule.

    Labels come from the report language's catalogue (``valuation.plot.calib_*``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from maexlab.reporting.i18n import messages

    m = messages(language)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    t = table.dropna(subset=["observed"])
    ax.plot(t["decile"], t["observed"], "o-", color="#4c72b0", label=m.text("valuation.plot.calib_observed"))
    ax.plot(t["decile"], t["mainstream_rule"], "--", color="#4c72b0", alpha=0.7, label=m.text("valuation.plot.calib_own_rule"))
    ax.plot(t["decile"], t["impact_rule"], "s-", color="#dd8452", label=m.text("valuation.plot.calib_impact_rule"))
    if "observed_impact" in t:
        ax.plot(
            t["decile"],
            t["observed_impact"],
            ":",
            color="#dd8452",
            alpha=0.8,
            label=m.text("valuation.plot.calib_impact_observed"),
        )
    ax.set_xticks(range(1, 11))
    ax.set_xlabel(m.text("valuation.plot.calib_axis_x"))
    ax.set_ylabel(m.text("valuation.plot.calib_axis_y"))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, 1)
    ax.set_title(m.text("valuation.plot.calib_title"))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    return fig
