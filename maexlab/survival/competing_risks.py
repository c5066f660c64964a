"""Competing risks beyond the cumulative incidence: Fine-Gray regression and Gray's test.

An initiative in the start phase either moves on (to growth) or closes, whichever comes first.
:func:`~maexlab.survival.multistate.aalen_johansen` estimates the cumulative incidence of each;
this module adds

* :func:`crprep` -- the weighted counting-process data of R mstate's ``crprep`` (Geskus 2011):
  a subject with the *competing* event stays in the risk set of the cause of interest after its
  event, with a weight that falls as the probability of still being observed falls. Under right
  censoring the weight is ``G(t-) / G(T_i-)`` (``G`` the censoring survival function); under left
  truncation (delayed entry) it is multiplied by ``H(t-) / H(T_i-)`` (``H(t) = P(entry < t)``),
  both product-limit estimates (Geskus 2011, Biometrics 67:39-49).
* :func:`cumulative_incidence_from_weights` -- 1 minus the weighted product-limit estimate on
  those data; it equals the Aalen-Johansen cumulative incidence exactly (the identity that makes
  the weights right, checked in the tests with and without delayed entry).
* :func:`fine_gray` -- the Fine-Gray proportional subdistribution hazards model (Fine and Gray
  1999, JASA 94:496-509), fitted as a weighted Cox model (Breslow ties, as cmprsk's ``crr``) on
  the :func:`crprep` data, with robust (sandwich) standard errors clustered by subject, as
  ``coxph(Surv(Tstart, Tstop, status == 1) ~ x + cluster(id), weights = weight)`` after
  ``crprep`` in R. The sandwich treats the weights as known; cmprsk's ``crr`` adds a term for
  their estimation, so its standard errors differ slightly (the reference test shows by how much).
* :func:`gray_test` -- Gray's K-sample test for equal cumulative incidence of one cause (Gray
  1988, Annals of Statistics 16:1141-1154), the statistic and variance of cmprsk ``cuminc``'s
  ``crstm``, with strata. Right-censored data only: with delayed entry it raises.
* :func:`fine_gray_from_start` -- the model on maexlab's phase stays: closing (or moving on) from
  the start phase, with the other exit competing, delayed entry at joining respected.
* :func:`simulate_fine_gray` -- data from a Fine-Gray model (the design of Fine and Gray 1999,
  section 5) with optional delayed entry, for the tests and benchmarks/validate.py (``--only competing``).

>>> d = simulate_fine_gray(400, seed=1)
>>> fit = fine_gray(d["duration"], d["cause"], d["entry"], d[["z1", "z2"]])
>>> list(fit.summary.columns)
['coef', 'se', 'shr', 'lo', 'hi', 'p', 'z', 'se_model']
>>> bool(fit.converged)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from maexlab.survival.multistate import start_cohort

__all__ = [
    "FineGrayResult",
    "GrayTestResult",
    "crprep",
    "cumulative_incidence_from_weights",
    "fine_gray",
    "fine_gray_from_start",
    "gray_test",
    "simulate_fine_gray",
]


# --- input checks ------------------------------------------------------------------------------


def _as_arrays(
    duration: Sequence[float] | np.ndarray | pd.Series,
    cause: Sequence[int] | np.ndarray | pd.Series,
    entry: Sequence[float] | np.ndarray | pd.Series | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float durations and entries, integer causes; a clear error naming the first bad row."""
    x = np.asarray(duration, dtype=float)
    c_raw = np.asarray(cause)
    n = len(x)
    if c_raw.shape != (n,):
        raise ValueError(f"cause has {c_raw.size} values, duration has {n}: one of each per subject was expected")
    ent = np.zeros(n) if entry is None else np.asarray(entry, dtype=float)
    if ent.shape != (n,):
        raise ValueError(f"entry has {ent.size} values, duration has {n}: one of each per subject was expected")
    for name, v in (("duration", x), ("entry", ent)):
        bad = ~np.isfinite(v)
        if bad.any():
            raise ValueError(f"{name}: row {int(np.argmax(bad))} is {float(v[bad][0])}; a finite number was expected")
    try:
        c = c_raw.astype(float)
    except (TypeError, ValueError) as err:
        raise ValueError("cause: integer codes were expected (0 censored, 1, 2, ... for the events)") from err
    bad = ~np.isfinite(c) | (c < 0) | (c != np.round(c))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"cause: row {i} is {c_raw[i]}; an integer code >= 0 was expected (0 = censored)")
    bad = ent < 0
    if bad.any():
        raise ValueError(f"entry: row {int(np.argmax(bad))} is {float(ent[bad][0]):g}; entry times are >= 0")
    bad = x <= ent
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"row {i}: duration {x[i]:g} is not after entry {ent[i]:g}; a subject must be at risk for some time")
    return x, c.astype(int), ent


# --- weights: censoring and truncation product-limit estimates ---------------------------------


def _step_sum(times: np.ndarray, log_factor: np.ndarray, gap: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of ``log_factor`` and count of ``gap`` over the jump ``times`` strictly before each of ``at``."""
    cum = np.concatenate([[0.0], np.cumsum(log_factor)])
    cum_gap = np.concatenate([[0], np.cumsum(gap)])
    k = np.searchsorted(times, at, side="left")
    return cum[k], cum_gap[k]


def _censoring_steps(x: np.ndarray, cause: np.ndarray, ent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jumps of log G, the product-limit censoring survival under delayed entry.

    At a censoring time u the factor is ``1 - c(u) / (n(u) - d(u))`` with ``n(u) = #{entry < u <=
    duration}`` and d(u) the events at u: events at u come before censorings at u (as ``crprep``
    does by moving censorings a hair later). ``gap`` marks a time after which nobody is left.
    """
    xs, es = np.sort(x), np.sort(ent)
    u, c_count = np.unique(x[cause == 0], return_counts=True)
    n_at = np.searchsorted(es, u, side="left") - np.searchsorted(xs, u, side="left")
    ev_times = np.sort(x[cause != 0])
    d_at = np.searchsorted(ev_times, u, side="right") - np.searchsorted(ev_times, u, side="left")
    left = n_at - d_at - c_count
    log_factor = np.where(left > 0, np.log(np.maximum(left, 1) / np.maximum(n_at - d_at, 1)), 0.0)
    return u, log_factor, (left <= 0).astype(int)


def _log_observed(x: np.ndarray, cause: np.ndarray, ent: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``log(n(t) / S(t-))``: n(t) = #{entry < t <= duration}, S the all-cause Kaplan-Meier under
    delayed entry.

    ``n(t) / (N S(t-))`` estimates P(entry < t <= censoring time). It is the same function, up to a
    constant factor, as ``G(t-) H(t-)`` with G the product-limit censoring survival (events at a
    time before the censorings at it) and H(t) = P(entry < t) the reverse-time product-limit
    estimate of the entry times (exits at a time before the entries at it): every jump of n is a
    factor of S, G or H. Using n/S directly keeps the weights defined where nobody is under
    observation for a while (there G H is 0 times infinity), and it is what makes the weighted
    product limit equal the Aalen-Johansen estimate exactly, tied times included.
    """
    xs, es = np.sort(x), np.sort(ent)
    u, d = np.unique(x[cause != 0], return_counts=True)
    n_u = np.searchsorted(es, u, side="left") - np.searchsorted(xs, u, side="left")
    gone = d >= n_u
    if gone[:-1].any() and (ent > u[:-1][gone[:-1]].min()).any():
        v = float(u[:-1][gone[:-1]].min())
        raise ValueError(
            f"everyone at risk at {v:g} had an event then, and subjects enter later: the all-cause survival is 0 "
            "from there on and the weights of the later risk sets are not defined; start the clock later (analyse "
            "those still event-free at a time when more are at risk)"
        )
    with np.errstate(divide="ignore"):
        log_s = np.concatenate([[0.0], np.cumsum(np.log1p(-np.minimum(d / n_u, 1.0)))])
    n_t = np.searchsorted(es, t, side="left") - np.searchsorted(xs, t, side="left")
    return np.log(n_t) - log_s[np.searchsorted(u, t, side="left")]


def crprep(
    duration: Sequence[float] | np.ndarray | pd.Series,
    cause: Sequence[int] | np.ndarray | pd.Series,
    entry: Sequence[float] | np.ndarray | pd.Series | None = None,
    *,
    cause_of_interest: int = 1,
    ids: Sequence | np.ndarray | pd.Series | None = None,
    covariates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Weighted counting-process data for the subdistribution hazard of one cause (mstate ``crprep``).

    Parameters
    ----------
    duration : time of the event or of censoring, per subject
    cause : 0 censored, ``cause_of_interest`` the event analysed, any other code a competing event
    entry : delayed-entry time per subject (at risk on ``(entry, duration]``); None = all from 0
    cause_of_interest : the event whose cumulative incidence is modelled
    ids : subject identifiers (default 0 .. n-1)
    covariates : one row per subject (same order), copied onto each of its rows

    Returns
    -------
    DataFrame, one row per interval ``(start, stop]`` of a subject, sorted by subject and start:

    ``id``
        the subject
    ``start``, ``stop``
        the interval; the subject's first row is ``(entry, duration]``
    ``status``
        the subject's original cause code (repeated on every row)
    ``event``
        1 on the row that ends in the event of interest, else 0
    ``weight``
        1 on a first row; on the later rows of a subject with a competing event at ``T``,
        ``G(t-) H(t-) / (G(T-) H(T-))`` with t the row's ``stop`` (the weight holds at every event
        time of the cause of interest inside the row), computed as ``[n(t) / S(t-)] / [n(T) /
        S(T-)]`` (the same number; see :func:`_log_observed`)
    ``weight_censoring``, ``weight_truncation``
        the two factors ``G(t-)/G(T-)`` and ``H(t-)/H(T-)`` (the latter 1 without delayed entry);
        missing (NaN) on a row across a time at which everyone still observed was censored, where
        only their product is defined
    ``count``
        row number within the subject (1 = the observed interval)

    A subject with a competing event gets extra rows up to the last event time of the cause of
    interest; consecutive rows with the same weight are merged (``shorten = TRUE`` in mstate).
    Raises ValueError when everyone at risk at some time fails then while others enter later (the
    all-cause survival is 0 and later weights are not defined).

    Examples
    --------
    >>> p = crprep([1.0, 2.0, 3.0, 4.0], [2, 0, 1, 1])
    >>> p[["id", "start", "stop", "status", "event", "weight"]]
       id  start  stop  status  event    weight
    0   0    0.0   1.0       2      0  1.000000
    1   0    1.0   4.0       2      0  0.666667
    2   1    0.0   2.0       0      0  1.000000
    3   2    0.0   3.0       1      1  1.000000
    4   3    0.0   4.0       1      1  1.000000
    """
    x, c, ent = _as_arrays(duration, cause, entry)
    n = len(x)
    ids_arr = np.arange(n) if ids is None else np.asarray(ids)
    if len(ids_arr) != n:
        raise ValueError(f"ids has {len(ids_arr)} values, duration has {n}")
    if covariates is not None and len(covariates) != n:
        raise ValueError(f"covariates has {len(covariates)} rows, duration has {n}: one row per subject was expected")
    e_times = np.unique(x[c == cause_of_interest])
    competing = np.flatnonzero((c != 0) & (c != cause_of_interest))
    k0 = np.searchsorted(e_times, x[competing], side="right")  # first event time after the competing event
    reps = len(e_times) - k0
    who = np.repeat(competing, reps)
    kk = np.concatenate([np.arange(a, len(e_times)) for a in k0]) if reps.sum() else np.zeros(0, int)
    t_row = e_times[kk]
    w = np.exp(_log_observed(x, c, ent, t_row) - _log_observed(x, c, ent, x[who]))
    steps = _censoring_steps(x, c, ent)
    at_t, gap_t = _step_sum(*steps, t_row)
    at_0, gap_0 = _step_sum(*steps, x[who])
    # the censoring factor alone is undefined across a time at which everyone left was censored
    w_cens = np.where(gap_t == gap_0, np.exp(at_t - at_0), np.nan)
    w_trunc = w / w_cens
    # merge consecutive rows of a subject whose weight does not change (mstate shorten = TRUE)
    # n/S is one function computed two ways at different times: equal weights may differ in the last bit
    changes = ~np.isclose(w[1:], w[:-1], rtol=1e-12, atol=0.0)
    keep = np.r_[(who[1:] != who[:-1]) | changes, True] if len(who) else np.zeros(0, bool)
    who_k, stop_k = who[keep], t_row[keep]
    first_extra = np.r_[True, who_k[1:] != who_k[:-1]]
    start_k = np.where(first_extra, x[who_k], np.r_[0.0, stop_k[:-1]])
    subject = np.r_[np.arange(n), who_k]
    out = pd.DataFrame(
        {
            "id": ids_arr[subject],
            "start": np.r_[ent, start_k],
            "stop": np.r_[x, stop_k],
            "status": c[subject],
            "event": np.r_[(c == cause_of_interest).astype(int), np.zeros(len(who_k), int)],
            "weight": np.r_[np.ones(n), w[keep]],
            "weight_censoring": np.r_[np.ones(n), w_cens[keep]],
            "weight_truncation": np.r_[np.ones(n), w_trunc[keep]],
            "_subject": subject,
        }
    )
    out = out.sort_values(["_subject", "start"], kind="stable").reset_index(drop=True)
    out["count"] = out.groupby("_subject").cumcount() + 1
    if covariates is not None:
        cov = covariates.reset_index(drop=True).iloc[out["_subject"].to_numpy()].reset_index(drop=True)
        out = pd.concat([out, cov], axis=1)
    cols = ["id", "start", "stop", "status", "event", "weight", "weight_censoring", "weight_truncation", "count"]
    return out[cols + ([] if covariates is None else list(covariates.columns))]


def cumulative_incidence_from_weights(prep: pd.DataFrame, times: Sequence[float]) -> np.ndarray:
    """1 - the weighted product-limit estimate on :func:`crprep` data, at ``times``.

    At each event time u of the cause of interest, the hazard of the subdistribution is
    ``d(u) / sum of weights of the rows with start < u <= stop``; the cumulative incidence is
    ``1 - prod_{u <= t} (1 - hazard(u))``. It equals the Aalen-Johansen estimate.

    >>> p = crprep([1.0, 2.0, 3.0, 4.0], [2, 0, 1, 1])
    >>> [round(float(v), 4) for v in cumulative_incidence_from_weights(p, [2.5, 3.5, 5])]
    [0.0, 0.375, 0.75]
    """
    times = np.asarray(times, dtype=float)
    ev = prep["event"].to_numpy() == 1
    stop, start, w = prep["stop"].to_numpy(float), prep["start"].to_numpy(float), prep["weight"].to_numpy(float)
    u, d = np.unique(stop[ev], return_counts=True)
    if len(u) == 0:
        return np.zeros(len(times))
    r = _risk_sums(start, stop, w, u)
    surv = np.cumprod(1.0 - d / r)
    idx = np.searchsorted(u, times, side="right") - 1
    return np.where(idx >= 0, 1.0 - surv[np.clip(idx, 0, None)], 0.0)


def _risk_sums(start: np.ndarray, stop: np.ndarray, values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each time in ``u``: the sum of ``values`` (rows, optionally with trailing dims) over
    rows with ``start < u <= stop``, by suffix sums over rows sorted by stop and by start."""
    o_stop, o_start = np.argsort(stop, kind="stable"), np.argsort(start, kind="stable")
    zero = np.zeros((1, *values.shape[1:]))
    suf_stop = np.concatenate([np.cumsum(values[o_stop][::-1], axis=0)[::-1], zero])
    suf_start = np.concatenate([np.cumsum(values[o_start][::-1], axis=0)[::-1], zero])
    i_stop = np.searchsorted(stop[o_stop], u, side="left")  # rows with stop >= u
    i_start = np.searchsorted(start[o_start], u, side="left")  # rows with start >= u (not yet at risk)
    return suf_stop[i_stop] - suf_start[i_start]


# --- Fine-Gray: weighted Cox on the crprep data -------------------------------------------------


@dataclass(frozen=True)
class FineGrayResult:
    """A fitted Fine-Gray model.

    ``summary``: one row per covariate with ``coef`` (log subdistribution hazard ratio), ``se``
    (robust, clustered by subject), ``shr`` (exp(coef)), ``lo``/``hi`` (95% interval of the SHR, or
    the ``level`` asked), ``p`` (Wald), ``z`` and ``se_model`` (model-based, for comparison).
    """

    summary: pd.DataFrame
    covariance: np.ndarray
    n: int
    events: int
    competing: int
    censored: int
    rows: int
    converged: bool
    iterations: int
    log_pseudo_likelihood: float
    cause_of_interest: int
    level: float = 0.95
    notes: tuple[str, ...] = field(default_factory=tuple)


def _breslow_parts(beta, X, start, stop, w, event_rows, u, dN):
    """log pseudo-likelihood, score, information and the per-row pieces for the sandwich."""
    eta = X @ beta
    r = w * np.exp(eta)
    p = X.shape[1]
    S0 = _risk_sums(start, stop, r, u)
    S1 = _risk_sums(start, stop, r[:, None] * X, u)
    S2 = _risk_sums(start, stop, (r[:, None, None] * X[:, :, None] * X[:, None, :]).reshape(len(r), p * p), u)
    S2 = S2.reshape(len(u), p, p)
    xbar = S1 / S0[:, None]
    ev_w = w[event_rows]
    loglik = float(np.sum(ev_w * eta[event_rows]) - np.sum(dN * np.log(S0)))
    score = (ev_w[:, None] * X[event_rows]).sum(axis=0) - (dN[:, None] * xbar).sum(axis=0)
    info = np.einsum("k,kij->ij", dN / S0, S2) - np.einsum("k,ki,kj->ij", dN, xbar, xbar)
    return loglik, score, info, r, S0, xbar


def _fit_weighted_cox(X, start, stop, w, event, cluster, max_iter=50, tol=1e-10):
    """Newton-Raphson for the weighted Cox pseudo-likelihood with Breslow ties on (start, stop]
    rows; robust variance ``I^-1 (sum_c U_c U_c') I^-1`` from score residuals summed by cluster
    (Lin and Wei 1989), as R ``coxph(..., cluster(id))``."""
    event_rows = np.flatnonzero(event == 1)
    u, inv = np.unique(stop[event_rows], return_inverse=True)
    dN = np.bincount(inv, weights=w[event_rows], minlength=len(u))
    beta = np.zeros(X.shape[1])
    loglik, score, info, *_ = _breslow_parts(beta, X, start, stop, w, event_rows, u, dN)
    converged, iterations = False, 0
    for iteration in range(1, max_iter + 1):
        iterations = iteration
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        new = beta + step
        new_ll, new_score, new_info, *_ = _breslow_parts(new, X, start, stop, w, event_rows, u, dN)
        halvings = 0
        while (not np.isfinite(new_ll) or new_ll < loglik - 1e-12) and halvings < 30:
            step = step / 2
            new = beta + step
            new_ll, new_score, new_info, *_ = _breslow_parts(new, X, start, stop, w, event_rows, u, dN)
            halvings += 1
        done = abs(new_ll - loglik) <= tol * (1 + abs(loglik)) and np.max(np.abs(step)) < 1e-8
        beta, loglik, score, info = new, new_ll, new_score, new_info
        if done:
            converged = True
            break
    loglik, score, info, r, S0, xbar = _breslow_parts(beta, X, start, stop, w, event_rows, u, dN)
    try:
        inv_info = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        inv_info = np.full_like(info, np.nan)
        converged = False
    # score residuals per row: event part minus the compensator over the row's interval
    dA = dN / S0
    A = np.concatenate([[0.0], np.cumsum(dA)])
    B = np.concatenate([np.zeros((1, X.shape[1])), np.cumsum(dA[:, None] * xbar, axis=0)])
    hi = np.searchsorted(u, stop, side="right")
    lo = np.searchsorted(u, start, side="right")
    resid = -r[:, None] * (X * (A[hi] - A[lo])[:, None] - (B[hi] - B[lo]))
    k_ev = np.searchsorted(u, stop[event_rows])
    resid[event_rows] += w[event_rows, None] * (X[event_rows] - xbar[k_ev])
    codes, _ = pd.factorize(cluster)
    U = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(U, codes, resid)
    robust = inv_info @ (U.T @ U) @ inv_info
    return beta, robust, inv_info, loglik, converged, iterations


def fine_gray(
    duration: Sequence[float] | np.ndarray | pd.Series,
    cause: Sequence[int] | np.ndarray | pd.Series,
    entry: Sequence[float] | np.ndarray | pd.Series | None,
    covariates: pd.DataFrame,
    cause_of_interest: int = 1,
    *,
    ids: Sequence | np.ndarray | pd.Series | None = None,
    level: float = 0.95,
    max_iter: int = 50,
) -> FineGrayResult:
    """Fine-Gray proportional subdistribution hazards model, with delayed entry.

    The subdistribution hazard of ``cause_of_interest`` is ``h0(t) exp(x'beta)``; exp(beta) is the
    subdistribution hazard ratio (SHR): above 1, the covariate raises the cumulative incidence of
    the cause. Fitted by maximising the weighted Cox pseudo-likelihood (Breslow ties) on the
    :func:`crprep` data (IPCW under right censoring, times the truncation weights under delayed
    entry, Geskus 2011), with the robust sandwich variance clustered by subject.

    Parameters
    ----------
    duration, cause, entry : as for :func:`crprep`
    covariates : numeric DataFrame, one row per subject (same order); constant columns are refused
    cause_of_interest : the event modelled; every other non-zero code competes
    ids : subject identifiers used for the clustering (default: one cluster per row)
    level : confidence level of ``lo``/``hi``

    Returns
    -------
    :class:`FineGrayResult`

    Examples
    --------
    >>> d = simulate_fine_gray(300, beta1=(0.5, 0.0), seed=3)
    >>> fit = fine_gray(d["duration"], d["cause"], None, d[["z1"]])
    >>> round(float(fit.summary.loc["z1", "shr"]), 2) > 1
    True
    """
    x, c, ent = _as_arrays(duration, cause, entry)
    if not isinstance(covariates, pd.DataFrame) or covariates.shape[1] == 0:
        raise ValueError("covariates: a DataFrame with at least one numeric column was expected")
    if len(covariates) != len(x):
        raise ValueError(f"covariates has {len(covariates)} rows, duration has {len(x)}: one row per subject was expected")
    cov = covariates.reset_index(drop=True)
    for col in cov.columns:
        values = pd.to_numeric(cov[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.astype(float))
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(f"covariates, column {col!r}, row {i}: {cov[col].iloc[i]!r} is not a finite number")
        if values.nunique() < 2:
            raise ValueError(f"covariates, column {col!r}: constant; its effect cannot be estimated")
        cov[col] = values.astype(float)
    events = int((c == cause_of_interest).sum())
    if events == 0:
        raise ValueError(f"no events of cause {cause_of_interest}: the model cannot be fitted")
    prep = crprep(x, c, ent, cause_of_interest=cause_of_interest, ids=ids, covariates=cov)
    X = prep[list(cov.columns)].to_numpy(float)
    X = X - X.mean(axis=0)  # centring changes no coefficient and keeps the risk-set sums accurate
    cluster = prep["id"].to_numpy()
    beta, robust, model, loglik, converged, it = _fit_weighted_cox(
        X,
        prep["start"].to_numpy(float),
        prep["stop"].to_numpy(float),
        prep["weight"].to_numpy(float),
        prep["event"].to_numpy(int),
        cluster,
        max_iter=max_iter,
    )
    se = np.sqrt(np.diag(robust))
    zq = stats.norm.ppf(0.5 + level / 2)
    z = beta / se
    summary = pd.DataFrame(
        {
            "coef": beta,
            "se": se,
            "shr": np.exp(beta),
            "lo": np.exp(beta - zq * se),
            "hi": np.exp(beta + zq * se),
            "p": 2 * stats.norm.sf(np.abs(z)),
            "z": z,
            "se_model": np.sqrt(np.diag(model)),
        },
        index=pd.Index(list(cov.columns), name="covariate"),
    )
    notes = () if converged else (f"did not converge in {max_iter} iterations: the estimates are not usable",)
    return FineGrayResult(
        summary=summary,
        covariance=robust,
        n=len(x),
        events=events,
        competing=int(((c != 0) & (c != cause_of_interest)).sum()),
        censored=int((c == 0).sum()),
        rows=len(prep),
        converged=bool(converged),
        iterations=int(it),
        log_pseudo_likelihood=loglik,
        cause_of_interest=int(cause_of_interest),
        level=level,
        notes=notes,
    )


def fine_gray_from_start(
    stays: pd.DataFrame,
    covariates: pd.DataFrame,
    *,
    columns: Sequence[str],
    outcome: str = "closed",
    min_events: int = 10,
    level: float = 0.95,
) -> dict:
    """Fine-Gray model for leaving the start phase: closing (``outcome="closed"``) with moving on
    to growth competing, or the reverse (``outcome="growth"``).

    Time is years since entering start; a stay counts from ``max(t_enter, entry)`` (delayed entry
    at joining, :func:`~maexlab.survival.multistate.start_cohort`). ``covariates`` has one row per
    initiative (``initiative_id`` and ``columns``); initiatives with a missing covariate are left
    out and counted. Returns ``{"fit": FineGrayResult, "n", "events", "dropped_missing"}``, or
    ``{"skipped": reason, "events"}`` when fewer than ``min_events`` events of the outcome exist,
    no covariate varies, the weights are not defined or the fit did not converge.
    """
    if outcome not in ("closed", "growth"):
        raise ValueError(f"outcome {outcome!r}: 'closed' or 'growth' was expected")
    cohort = start_cohort(stays)
    merged = cohort.merge(covariates[["initiative_id", *columns]], on="initiative_id", how="left")
    missing = merged[list(columns)].isna().any(axis=1)
    merged = merged[~missing].reset_index(drop=True)
    code = 2 if outcome == "closed" else 1
    events = int((merged["cause"] == code).sum())
    if events < min_events:
        return {"skipped": f"{events} initiatives {outcome} from start; at least {min_events} are needed", "events": events}
    varying = [col for col in columns if merged[col].nunique() > 1]
    if not varying:
        return {"skipped": "no covariate varies among the initiatives in start", "events": events}
    try:
        fit = fine_gray(
            merged["duration"],
            merged["cause"],
            merged["entry"],
            merged[varying],
            cause_of_interest=code,
            ids=merged["initiative_id"],
            level=level,
        )
    except ValueError as err:  # e.g. weights undefined where the risk set ran empty: say why, do not guess
        return {"skipped": f"not estimable: {err}", "events": events}
    if not fit.converged:
        return {"skipped": "; ".join(fit.notes), "events": events}
    return {"fit": fit, "n": int(len(merged)), "events": events, "dropped_missing": int(missing.sum())}


# --- Gray's test ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrayTestResult:
    """Gray's test: ``statistic`` ~ chi-square(``df``) under equal cumulative incidence;
    ``groups`` counts subjects and events per group; ``score`` and ``variance`` are the score
    vector and its covariance for all groups but the last (cmprsk's ``s`` and ``vs``)."""

    statistic: float
    df: int
    p_value: float
    groups: pd.DataFrame
    score: np.ndarray
    variance: np.ndarray
    cause_of_interest: int
    rho: float
    note: str = ""


def _gray_stratum(y: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Score and variance contribution of one stratum (Gray 1988, section 2 and appendix; the
    statistic computed by cmprsk's ``crst``). ``m``: 1 cause of interest, 2 other cause, 0 censored."""
    ng1 = ng - 1
    at_risk = np.bincount(g, minlength=ng).astype(float)
    km_before = np.ones(ng)  # all-cause Kaplan-Meier per group, just before the time
    cif_before = np.zeros(ng)  # cumulative incidence of the cause per group, just before
    pooled_before = 0.0  # pooled cumulative-incidence estimate, just before
    s = np.zeros(ng1)
    v = np.zeros((ng1, ng1))
    c_mat = np.zeros((ng, ng))
    v2 = np.zeros((ng1, ng))
    v3 = np.zeros(ng)
    times, first = np.unique(y, return_index=True)
    bounds = np.r_[first, len(y)]
    for j in range(len(times)):
        sl = slice(bounds[j], bounds[j + 1])
        d1 = np.bincount(g[sl][m[sl] == 1], minlength=ng).astype(float)
        d2 = np.bincount(g[sl][m[sl] == 2], minlength=ng).astype(float)
        leaving = np.bincount(g[sl], minlength=ng).astype(float)
        nd1, nd2 = d1.sum(), d2.sum()
        if nd1 > 0 or nd2 > 0:
            live = at_risk > 0  # without delayed entry a group with subjects at risk has S_k(t-) > 0
            rs = np.where(live, at_risk, 1.0)
            km_b = np.where(live, km_before, 1.0)
            km = np.where(live, km_before * (at_risk - d1 - d2) / rs, km_before)
            cif = np.where(live, cif_before + km_before * d1 / rs, cif_before)
            h = np.where(live, at_risk / km_b, 0.0)  # R_k / S_k(t-): the group's weight in the pooled risk set
            tr = h.sum()
            tq = np.sum(np.where(live, at_risk * (1 - cif_before) / km_b, 0.0))
            pooled = pooled_before + nd1 / tr
            fb = (1 - pooled_before) ** rho
            a = -fb * np.outer(h, h) / tr
            a[np.diag_indices(ng)] = fb * h * (1 - h / tr)
            a[~live, :] = 0.0
            a[:, ~live] = 0.0
            c_mat += a * nd1 / (tr * (1 - pooled_before))
            s += np.where(live, fb * (d1 - nd1 * at_risk * (1 - cif_before) / (km_b * tq)), 0.0)[:ng1]
            if nd1 > 0:
                t4 = np.where(km > 0, 1 - (1 - pooled) / np.where(km > 0, km, 1.0), 1.0)
                t5 = 1 - (nd1 - 1) / (tr * km_b - 1) if nd1 > 1 else np.ones(ng)
                t3 = np.where(live, t5 * km_before * nd1 / (tr * rs), 0.0)
                v3 += t4 * t4 * t3
                t1 = a[:ng1, :] - t4[None, :] * c_mat[:ng1, :]
                v2 += t1 * (t4 * t3)[None, :]
                v += (t1 * t3[None, :]) @ t1.T
            if nd2 > 0:
                ok = (km > 0) & (d2 > 0)
                kms = np.where(ok, km, 1.0)
                t4 = np.where(ok, (1 - pooled) / kms, 0.0)
                t5 = np.where(d2 > 1, 1 - (d2 - 1) / np.maximum(at_risk - 1, 1), 1.0)
                t3 = np.where(ok, t5 * km_before**2 * d2 / rs**2, 0.0)
                v3 += t4 * t4 * t3
                t1 = t4[None, :] * c_mat[:ng1, :]
                v2 -= t1 * (t4 * t3)[None, :]
                v += (t1 * t3[None, :]) @ t1.T
            km_before, cif_before, pooled_before = km, cif, pooled
        at_risk = at_risk - leaving
    cc = c_mat[:ng1, :]
    v += (cc * v3[None, :]) @ cc.T + cc @ v2.T + v2 @ cc.T
    return s, v


def gray_test(
    duration: Sequence[float] | np.ndarray | pd.Series,
    cause: Sequence[int] | np.ndarray | pd.Series,
    group: Sequence | np.ndarray | pd.Series,
    *,
    cause_of_interest: int = 1,
    entry: Sequence[float] | np.ndarray | pd.Series | None = None,
    strata: Sequence | np.ndarray | pd.Series | None = None,
    rho: float = 0.0,
) -> GrayTestResult:
    """Gray's test that the cumulative incidence of one cause is the same in K groups.

    The score for group k sums, over event times of the cause, ``(1 - F(t-))^rho`` times the
    difference between the group's subdistribution hazard increment and the pooled one, weighted
    by the group's subdistribution risk set ``R_k(t) = n_k(t) (1 - F_k(t-)) / S_k(t-)``; its
    covariance is Gray's (1988) estimator (the one cmprsk ``cuminc`` computes in ``crstm``). The
    statistic ``s' V^-1 s`` over the first K-1 groups is chi-square with K-1 degrees of freedom
    under the null; with ``strata`` scores and variances are summed over strata.

    Delayed entry is not supported: Gray's statistic and variance are derived for right-censored
    data, and cmprsk has no entry times. Passing any ``entry > 0`` raises ValueError (compare
    groups with :func:`fine_gray` on a group indicator instead, which handles delayed entry).

    Parameters
    ----------
    duration, cause : as for :func:`crprep`
    group : group label per subject (at least two groups)
    cause_of_interest : the cause whose cumulative incidence is compared
    entry : must be None or all 0
    strata : optional stratum label per subject
    rho : power of the weight ``(1 - F(t-))^rho`` (0, cmprsk's default, is the log-rank-like test)

    Examples
    --------
    >>> d = simulate_fine_gray(300, seed=5)
    >>> r = gray_test(d["duration"], d["cause"], d["z1"])
    >>> r.df, 0.0 <= r.p_value <= 1.0
    (1, True)
    """
    x, c, ent = _as_arrays(duration, cause, entry)
    if (ent > 0).any():
        raise ValueError(
            "gray_test: entry times > 0 were given, but Gray's test is defined for right-censored data without "
            "delayed entry; use fine_gray with a group indicator for left-truncated data"
        )
    grp = pd.Series(np.asarray(group)).reset_index(drop=True)
    if len(grp) != len(x):
        raise ValueError(f"group has {len(grp)} values, duration has {len(x)}")
    if grp.isna().any():
        raise ValueError(f"group: row {int(np.argmax(grp.isna().to_numpy()))} is missing; every subject needs a group")
    codes, labels = pd.factorize(grp, sort=True)
    ng = len(labels)
    if ng < 2:
        raise ValueError(f"gray_test: {ng} group(s) found; at least two are needed")
    st = np.zeros(len(x), dtype=int) if strata is None else pd.factorize(pd.Series(np.asarray(strata)), sort=True)[0]
    if (st < 0).any():
        raise ValueError("strata: missing values; every subject needs a stratum")
    m = np.where(c == cause_of_interest, 1, np.where(c == 0, 0, 2))
    s = np.zeros(ng - 1)
    v = np.zeros((ng - 1, ng - 1))
    for k in np.unique(st):
        sel = np.flatnonzero(st == k)
        o = sel[np.argsort(x[sel], kind="stable")]
        sk, vk = _gray_stratum(x[o], m[o], codes[o], ng, rho)
        s += sk
        v += vk
    table = pd.DataFrame(
        {
            "group": list(labels),
            "n": np.bincount(codes, minlength=ng),
            "events": np.bincount(codes[m == 1], minlength=ng),
            "competing": np.bincount(codes[m == 2], minlength=ng),
            "censored": np.bincount(codes[m == 0], minlength=ng),
        }
    )
    note = ""
    if (m == 1).sum() == 0:
        stat, note = np.nan, f"no events of cause {cause_of_interest}: nothing to compare"
    else:
        try:
            stat = float(s @ np.linalg.solve(v, s))
        except np.linalg.LinAlgError:
            stat, note = np.nan, "the variance matrix is singular (a group without subjects at risk at the event times)"
    p = float(stats.chi2.sf(stat, ng - 1)) if np.isfinite(stat) else np.nan
    return GrayTestResult(
        statistic=stat,
        df=ng - 1,
        p_value=p,
        groups=table,
        score=s,
        variance=v,
        cause_of_interest=int(cause_of_interest),
        rho=float(rho),
        note=note,
    )


# --- simulation from a Fine-Gray model ------------------------------------------------------------


def simulate_fine_gray(
    n: int,
    *,
    beta1: Sequence[float] = (0.5, -0.5),
    beta2: Sequence[float] = (-0.5, 0.5),
    p: float = 0.4,
    censor_max: float = 3.0,
    entry_max: float = 0.0,
    delayed_share: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Competing-risks data whose cause-1 subdistribution follows a Fine-Gray model.

    The design of Fine and Gray (1999, section 5): with covariates ``z = (z1, z2)``
    (``z1`` Bernoulli(1/2), ``z2`` standard normal),
    ``P(T <= t, cause 1 | z) = 1 - (1 - p (1 - exp(-t)))^exp(z'beta1)``, so the subdistribution
    hazard ratio of cause 1 is exp(beta1); a subject not failing from cause 1 fails from cause 2
    at an exponential time with rate ``exp(z'beta2)``. Censoring is uniform on
    ``(entry, entry + censor_max)``. With ``entry_max > 0`` a share ``delayed_share`` of the
    subjects enters late, at a time uniform on ``(0, entry_max)`` (the others at 0, as initiatives
    that joined before entering the phase), and only subjects still event-free at entry are kept
    (left truncation: the returned sample has fewer than ``n`` rows; ``n`` are drawn before it).

    Returns a DataFrame ``duration, cause, entry, z1, z2``.

    >>> d = simulate_fine_gray(5, seed=0)
    >>> list(d.columns)
    ['duration', 'cause', 'entry', 'z1', 'z2']
    """
    rng = np.random.default_rng(seed)
    z = np.column_stack([rng.integers(0, 2, n).astype(float), rng.standard_normal(n)])
    r1 = np.exp(z @ np.asarray(beta1, float))
    r2 = np.exp(z @ np.asarray(beta2, float))
    p1 = 1 - (1 - p) ** r1  # P(cause 1 | z)
    is1 = rng.random(n) < p1
    u = rng.random(n)
    # invert F1(t | z) / P(cause 1 | z) = u for t
    inner = 1 - (1 - u * p1) ** (1 / r1)
    t1 = -np.log1p(-np.minimum(inner / p, 1 - 1e-15))
    t2 = rng.exponential(1 / r2)
    t = np.where(is1, t1, t2)
    cause = np.where(is1, 1, 2)
    late = rng.random(n) < delayed_share
    entry = np.where(late, rng.uniform(0, entry_max, n), 0.0) if entry_max > 0 else np.zeros(n)
    cens = entry + rng.uniform(0, censor_max, n)
    observed = t > entry
    dur = np.minimum(t, cens)
    status = np.where(t <= cens, cause, 0)
    out = pd.DataFrame({"duration": dur, "cause": status, "entry": entry, "z1": z[:, 0], "z2": z[:, 1]})
    return out[observed].reset_index(drop=True)
