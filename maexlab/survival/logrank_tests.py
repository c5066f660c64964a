"""Log-rank tests with delayed entry: k-sample and pairwise (Holm-adjusted)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "logrank",
    "pairwise_logrank",
]


def logrank(d: pd.DataFrame, by: str, entry: bool = True) -> dict:
    """k-sample log-rank test with delayed entry (risk set at t: entry < t <= duration).

    Without entry it equals lifelines' ``multivariate_logrank_test``. Returns
    ``{"test_statistic", "df", "p_value", "groups"}``.
    """
    d = d.dropna(subset=[by])
    labels = sorted(d[by].astype(str).unique())
    if len(labels) < 2:
        return {"test_statistic": np.nan, "df": 0, "p_value": np.nan, "groups": labels}
    g = d[by].astype(str).map({k: i for i, k in enumerate(labels)}).to_numpy()
    dur = d["duration"].to_numpy(float)
    ent = d["entry"].to_numpy(float) if entry else np.zeros(len(d))
    ev = d["event"].to_numpy(bool)
    u, inv = np.unique(dur[ev], return_inverse=True)
    k = len(labels)
    n = np.zeros((len(u), k))
    o = np.zeros((len(u), k))
    for j in range(k):
        m = g == j
        n[:, j] = np.searchsorted(np.sort(ent[m]), u, side="left") - np.searchsorted(np.sort(dur[m]), u, side="left")
        o[:, j] = np.bincount(inv[g[ev] == j], minlength=len(u))
    N = n.sum(1)
    D = o.sum(1)
    ok = N > 1
    n, o, N, D = n[ok], o[ok], N[ok], D[ok]
    e = n * (D / N)[:, None]
    z = (o - e).sum(0)
    f = (D * (N - D) / (N * N * (N - 1)))[:, None, None]
    V = (f * (np.einsum("ti,ij->tij", n * N[:, None], np.eye(k)) - np.einsum("ti,tj->tij", n, n))).sum(0)
    stat = float(z[:-1] @ np.linalg.solve(V[:-1, :-1], z[:-1]))
    return {"test_statistic": stat, "df": k - 1, "p_value": float(stats.chi2.sf(stat, k - 1)), "groups": labels}


def pairwise_logrank(d: pd.DataFrame, by: str, entry: bool = True) -> pd.DataFrame:
    """Log-rank test for each pair of groups, with Holm-adjusted p-values."""
    labels = sorted(d[by].dropna().astype(str).unique())
    rows = []
    for a, b in combinations(labels, 2):
        sub = d[d[by].astype(str).isin([a, b])]
        r = logrank(sub, by, entry=entry)
        rows.append(
            {"group_a": a, "group_b": b, "n": int(len(sub)), "test_statistic": r["test_statistic"], "p_value": r["p_value"]}
        )
    out = pd.DataFrame(rows, columns=["group_a", "group_b", "n", "test_statistic", "p_value"])
    if len(out):
        order = np.argsort(out["p_value"].to_numpy())
        m = len(out)
        adj = np.empty(m)
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * out["p_value"].iloc[i]))
            adj[i] = running
        out["p_holm"] = adj
    return out
