"""Oaxaca-Blinder decomposition as Stata's ``oaxaca`` (Jann 2008) offers it: twofold, threefold, detailed.

The mean outcome gap between group A and group B, ``R = mean(y_A) - mean(y_B)``, is split with
group-wise OLS fits ``y = X b_A`` and ``y = X b_B`` (X with a constant) and group means
``x_A``, ``x_B``:

* **Threefold** (from the viewpoint of group B, Jann 2008 eq. 4):
  ``R = (x_A - x_B)' b_B + x_B' (b_A - b_B) + (x_A - x_B)' (b_A - b_B)``,
  i.e. endowments + coefficients + interaction.
* **Twofold** with a reference coefficient vector ``b*`` (Jann 2008 eq. 5-7):
  explained ``Q = (x_A - x_B)' b*``; unexplained ``U = x_A' (b_A - b*) + x_B' (b* - b_B)``.
  ``reference`` selects ``b*``: ``"A"`` (b_A), ``"B"`` (b_B), ``"pooled"`` (a pooled fit over
  both groups *with* a group indicator, Jann's recommendation after Fortin 2008), ``"neumark"``
  (a pooled fit without the indicator, Neumark 1988).
* **Detailed**: each covariate's share of the explained part, ``(x_A,k - x_B,k) b*_k``, and of
  the unexplained part, ``x_A,k (b_A,k - b*_k) + x_B,k (b*_k - b_B,k)`` (the constant's share is
  the rest of U). For a set of dummies the detailed unexplained part depends on which category is
  omitted; ``categorical`` lists such sets, whose coefficients are normalised to deviations from
  their mean over all categories, the omitted one included (Yun 2005; Gardeazabal and Ugidos 2004),
  as Stata's ``oaxaca ..., categorical()`` does. The totals do not change.

Intervals: :func:`decompose_bootstrap` resamples clusters (initiatives) with replacement.

Sign convention: everything is A minus B. statsmodels' ``OaxacaBlinder`` reports the same
figures with ``swap=True`` when A is the group with the higher mean.

>>> import pandas as pd
>>> from statsmodels.datasets.ccard.data import load_pandas
>>> d = load_pandas().data
>>> r = decompose(d, "AVGEXP", ["AGE", "INCOME", "INCOMESQ"], group="OWNRENT", a=1, reference="pooled")
>>> round(r.gap, 4), round(r.explained, 4), round(r.unexplained, 4)
(158.7504, 130.8095, 27.9409)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["OaxacaResult", "decompose", "decompose_bootstrap"]

Reference = Literal["A", "B", "pooled", "neumark"]
REFERENCES: tuple[str, ...] = ("A", "B", "pooled", "neumark")
CONSTANT = "const"


@dataclass(frozen=True)
class OaxacaResult:
    """One decomposition of ``mean(y_A) - mean(y_B)``.

    Attributes
    ----------
    gap, explained, unexplained : the twofold decomposition with ``reference``
    endowments, coefficients, interaction : the threefold decomposition (viewpoint of group B)
    detailed : one row per covariate (constant included; normalised dummy sets list every
        category): ``explained``, ``unexplained``, ``mean_a``, ``mean_b``, ``coef_a``, ``coef_b``,
        ``coef_reference``
    n_a, n_b : rows in each group
    """

    reference: str
    gap: float
    explained: float
    unexplained: float
    endowments: float
    coefficients: float
    interaction: float
    detailed: pd.DataFrame
    n_a: int
    n_b: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> pd.DataFrame:
        """The aggregate components as a tidy table (component, estimate)."""
        rows = [
            ("gap", self.gap),
            ("explained", self.explained),
            ("unexplained", self.unexplained),
            ("endowments", self.endowments),
            ("coefficients", self.coefficients),
            ("interaction", self.interaction),
        ]
        return pd.DataFrame(rows, columns=["component", "estimate"])


def _ols(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return beta


def _normalise(beta: pd.Series, sets: Mapping[str, Sequence[str]], omitted: Mapping[str, str]) -> pd.Series:
    """Coefficients with every dummy set expressed as deviations from its mean (omitted category included)."""
    out = beta.copy()
    for name, dummies in sets.items():
        levels = [*dummies, omitted[name]]
        values = pd.Series([beta[d] for d in dummies] + [0.0], index=levels)
        mean = values.mean()
        out = out.drop(list(dummies))
        for level in levels:
            out[level] = values[level] - mean
        out[CONSTANT] = out[CONSTANT] + mean
    return out


def decompose(
    frame: pd.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    *,
    group: str,
    a: object,
    reference: Reference = "pooled",
    categorical: Mapping[str, Sequence[str]] | None = None,
) -> OaxacaResult:
    """Decompose the gap in ``outcome`` between rows with ``frame[group] == a`` (A) and the rest (B).

    Parameters
    ----------
    frame : one row per observation, numeric ``outcome`` and ``covariates`` (no missing values)
    covariates : regressors; a constant is added
    group, a : the column that splits the groups and the value of group A
    reference : ``"A"``, ``"B"``, ``"pooled"`` (with group indicator) or ``"neumark"`` (without)
    categorical : dummy sets to normalise, ``{"phase": ["phase_growth", "phase_mature"]}``; the
        omitted category is named ``<set>_omitted`` in the detailed table unless the set's name
        is given with a colon: ``{"phase:start": [...]}``

    Returns
    -------
    OaxacaResult
    """
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    covariates = list(covariates)
    needed = [outcome, group, *covariates]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise KeyError(f"decompose needs columns {missing}")
    data = frame[needed].astype({outcome: float, **{c: float for c in covariates}})
    if data.isna().any().any():
        raise ValueError("decompose needs complete rows: drop or impute missing values first")
    in_a = (frame[group] == a).to_numpy()
    if in_a.sum() <= len(covariates) + 1 or (~in_a).sum() <= len(covariates) + 1:
        raise ValueError(
            f"each group needs more rows than coefficients ({len(covariates) + 1}); got {int(in_a.sum())} and {int((~in_a).sum())}"
        )
    names = [CONSTANT, *covariates]
    X = np.column_stack([np.ones(len(data)), data[covariates].to_numpy()])
    y = data[outcome].to_numpy()
    b_a = pd.Series(_ols(y[in_a], X[in_a]), index=names)
    b_b = pd.Series(_ols(y[~in_a], X[~in_a]), index=names)
    if reference == "A":
        b_ref = b_a
    elif reference == "B":
        b_ref = b_b
    else:
        design = np.column_stack([X, in_a.astype(float)]) if reference == "pooled" else X
        b_ref = pd.Series(_ols(y, design)[: len(names)], index=names)
    x_a = pd.Series(X[in_a].mean(axis=0), index=names)
    x_b = pd.Series(X[~in_a].mean(axis=0), index=names)

    sets, omitted = {}, {}
    for key, dummies in (categorical or {}).items():
        name, _, base = key.partition(":")
        sets[name] = list(dummies)
        omitted[name] = base or f"{name}_omitted"
    if sets:
        b_a, b_b, b_ref = (_normalise(b, sets, omitted) for b in (b_a, b_b, b_ref))
        for name, dummies in sets.items():
            # The omitted category's mean share is one minus the set's shown shares.
            x_a[omitted[name]] = 1.0 - x_a[list(dummies)].sum()
            x_b[omitted[name]] = 1.0 - x_b[list(dummies)].sum()
        order = list(b_a.index)
        x_a, x_b = x_a[order], x_b[order]

    explained_k = (x_a - x_b) * b_ref
    unexplained_k = x_a * (b_a - b_ref) + x_b * (b_ref - b_b)
    detailed = pd.DataFrame(
        {
            "covariate": b_a.index,
            "explained": explained_k.to_numpy(),
            "unexplained": unexplained_k.to_numpy(),
            "mean_a": x_a.to_numpy(),
            "mean_b": x_b.to_numpy(),
            "coef_a": b_a.to_numpy(),
            "coef_b": b_b.to_numpy(),
            "coef_reference": b_ref.to_numpy(),
        }
    )
    diff_x, diff_b = x_a - x_b, b_a - b_b
    return OaxacaResult(
        reference=reference,
        gap=float(y[in_a].mean() - y[~in_a].mean()),
        explained=float(explained_k.sum()),
        unexplained=float(unexplained_k.sum()),
        endowments=float((diff_x * b_b).sum()),
        coefficients=float((x_b * diff_b).sum()),
        interaction=float((diff_x * diff_b).sum()),
        detailed=detailed,
        n_a=int(in_a.sum()),
        n_b=int((~in_a).sum()),
    )


def decompose_bootstrap(
    frame: pd.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    *,
    group: str,
    a: object,
    cluster: str,
    reference: Reference = "pooled",
    categorical: Mapping[str, Sequence[str]] | None = None,
    reps: int = 300,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Aggregate and detailed components with percentile intervals from a cluster bootstrap.

    Clusters (e.g. initiatives, each with all its assessments) are drawn with replacement;
    replicates in which a group is too small to fit are skipped and counted (``reps_used``).

    Returns one row per (part, name): part ``aggregate`` (gap, explained, unexplained,
    endowments, coefficients, interaction) and ``explained`` / ``unexplained`` per covariate,
    with ``estimate``, ``ci_low``, ``ci_high``, ``reps_used``.
    """
    point = decompose(frame, outcome, covariates, group=group, a=a, reference=reference, categorical=categorical)

    def _flat(r: OaxacaResult) -> pd.Series:
        parts = {("aggregate", k): v for k, v in r.summary().set_index("component")["estimate"].items()}
        for _, row in r.detailed.iterrows():
            parts[("explained", row["covariate"])] = row["explained"]
            parts[("unexplained", row["covariate"])] = row["unexplained"]
        return pd.Series(parts)

    estimate = _flat(point)
    rng = np.random.default_rng(seed)
    clusters = frame[cluster].to_numpy()
    ids = pd.unique(clusters)
    rows_of = {c: np.flatnonzero(clusters == c) for c in ids}
    draws = []
    for _ in range(reps):
        picked = rng.choice(ids, size=len(ids), replace=True)
        sample = frame.iloc[np.concatenate([rows_of[c] for c in picked])]
        try:
            draws.append(
                _flat(decompose(sample, outcome, covariates, group=group, a=a, reference=reference, categorical=categorical))
            )
        except ValueError:
            continue
    table = pd.DataFrame(draws)
    alpha = (1 - level) / 2
    out = pd.DataFrame(
        {
            "part": [k[0] for k in estimate.index],
            "name": [k[1] for k in estimate.index],
            "estimate": estimate.to_numpy(),
            "ci_low": [table[k].quantile(alpha) if len(table) else np.nan for k in estimate.index],
            "ci_high": [table[k].quantile(1 - alpha) if len(table) else np.nan for k in estimate.index],
        }
    )
    out["reps_used"] = len(table)
    return out
