"""Transition probabilities P(s, t), expected time in each phase, and effects per transition.

What R's mstate offers for a Markov multi-state model (de Wreede, Fiocco and Putter 2011,
Journal of Statistical Software 38(7); Putter, Fiocco and Geskus 2007, Statistics in Medicine
26:2389-2430), on maexlab's phase sojourns (:func:`maexlab.survival.multistate.sojourns`,
time in years since founding, delayed entry respected):

* :func:`transition_probabilities` -- the Aalen-Johansen estimator of the transition matrix
  ``P(s, t) = prod_{s < u <= t} (I + dA(u))`` with ``dA_jk(u) = d_jk(u) / Y_j(u)`` from *any*
  starting time ``s`` (mstate ``probtrans(..., predt = s)``), with pointwise 95% intervals from a
  bootstrap over initiatives (each initiative resampled with its whole history).
* :func:`expected_time_in_phase` -- expected years spent in each phase between ``s`` and a
  horizon ``tau``, starting from a given phase: ``ELOS_jk(s, tau) = integral_s^tau P_jk(s, u) du``
  (mstate ``ELOS``; the integral of a step function, exact).
* :func:`cause_specific_cox` -- one Cox model per transition out of a phase (e.g. start ->
  growth and start -> closed), each with the other transitions censored (the cause-specific
  hazards of competing risks), delayed entry respected.

Under delayed entry a stay counts at risk only from ``max(t_enter, entry)``.

>>> import pandas as pd
>>> s = pd.DataFrame({"initiative_id": ["a", "b", "c", "d"], "phase": ["start"] * 4,
...                   "t_enter": [0.0] * 4, "t_exit": [1.0, 2.0, 3.0, 4.0],
...                   "next": ["growth", "closed", "censored", "growth"], "entry": [0.0] * 4})
>>> P = transition_probabilities(s, s_time=0.0, times=[2.5, 5.0], reps=0)
>>> P[(P["from_phase"] == "start") & (P["years"] == 2.5)][["to_phase", "probability"]].round(3).to_dict("list")
{'to_phase': ['plan', 'start', 'growth', 'mature', 'closed'], 'probability': [0.0, 0.5, 0.25, 0.0, 0.25]}
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from maexlab.survival.multistate import STATES, _at_risk

__all__ = ["cause_specific_cox", "expected_time_in_phase", "transition_matrices", "transition_probabilities"]

_INDEX = {p: i for i, p in enumerate(STATES)}


def transition_matrices(
    stays: pd.DataFrame, s_time: float, times: Sequence[float], *, states: Sequence[str] = STATES
) -> np.ndarray:
    """``P(s, t)`` for each ``t`` in ``times`` (array ``len(times) x k x k``), Aalen-Johansen.

    ``stays`` are sojourns (``phase, t_enter, t_exit, next, entry``). Rows of a matrix sum to 1;
    a phase with nobody at risk after ``s`` keeps its row at the identity (nothing is known).
    ``states`` orders the rows and columns: maexlab's phases by default, any other state space
    (e.g. the six states of the EBMT reference data, tests/reference/) when given.
    """
    index = _INDEX if tuple(states) == STATES else {p: i for i, p in enumerate(states)}
    k = len(states)
    times = np.asarray(times, dtype=float)
    r = _at_risk(stays)
    moves = r[(r["next"] != "censored") & (r["b"] > s_time)]
    u = np.unique(moves["b"].to_numpy(float))
    Y = np.zeros((len(u), k))
    for phase, g in r.groupby("phase"):
        a, b = np.sort(g["a"].to_numpy(float)), np.sort(g["b"].to_numpy(float))
        Y[:, index[phase]] = np.searchsorted(a, u, side="left") - np.searchsorted(b, u, side="left")
    D = np.zeros((len(u), k, k))
    if len(u):
        np.add.at(
            D,
            (
                np.searchsorted(u, moves["b"].to_numpy(float)),
                moves["phase"].map(index).to_numpy(),
                moves["next"].map(index).to_numpy(),
            ),
            1.0,
        )
    out = np.empty((len(times), k, k))
    P = np.eye(k)
    j = 0
    for i in np.argsort(times):
        while j < len(u) and u[j] <= times[i]:
            with np.errstate(divide="ignore", invalid="ignore"):
                dA = np.where(Y[j][:, None] > 0, D[j] / Y[j][:, None], 0.0)
            dA[np.diag_indices(k)] = -dA.sum(axis=1)
            P = P @ (np.eye(k) + dA)
            j += 1
        out[i] = P if times[i] > s_time else np.eye(k)
    return out


def _long(matrices: np.ndarray, times: np.ndarray, column: str, states: Sequence[str] = STATES) -> pd.DataFrame:
    k = len(states)
    rows = {
        "years": np.repeat(times, k * k),
        "from_phase": np.tile(np.repeat(list(states), k), len(times)),
        "to_phase": np.tile(list(states), k * len(times)),
        column: matrices.reshape(-1),
    }
    return pd.DataFrame(rows)


def _bootstrap(stays: pd.DataFrame, reps: int, seed: int, statistic) -> np.ndarray:
    """``statistic`` over resamples of initiatives, each drawn with all its stays."""
    rng = np.random.default_rng(seed)
    codes, ids = pd.factorize(stays["initiative_id"])
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(ids) + 1))
    draws = []
    for _ in range(reps):
        picked = rng.integers(0, len(ids), size=len(ids))
        rows = np.concatenate([order[starts[i] : starts[i + 1]] for i in picked])
        draws.append(statistic(stays.iloc[rows]))
    return np.stack(draws)


def transition_probabilities(
    stays: pd.DataFrame,
    s_time: float,
    times: Sequence[float],
    *,
    reps: int = 200,
    seed: int = 0,
    level: float = 0.95,
    states: Sequence[str] = STATES,
) -> pd.DataFrame:
    """P(phase k at time t | phase j at time s) for every pair of phases, with bootstrap intervals.

    Parameters
    ----------
    stays : sojourns from :func:`maexlab.survival.multistate.sojourns`
    s_time : the starting time s (years since founding); 0 gives the probabilities from founding
    times : the times t > s to report
    reps : bootstrap replicates over initiatives (0: no intervals)
    states : the state space, in order (maexlab's phases by default)

    Returns
    -------
    DataFrame with ``years, from_phase, to_phase, probability, ci_low, ci_high, at_risk_from``
    (initiatives at risk in ``from_phase`` just after s; a row whose phase nobody occupies then
    has no estimate).
    """
    times = np.asarray(times, dtype=float)
    point = _long(transition_matrices(stays, s_time, times, states=states), times, "probability", states)
    if reps > 0:
        draws = _bootstrap(stays, reps, seed, lambda b: transition_matrices(b, s_time, times, states=states).reshape(-1))
        alpha = (1 - level) / 2
        point["ci_low"] = np.quantile(draws, alpha, axis=0)
        point["ci_high"] = np.quantile(draws, 1 - alpha, axis=0)
    else:
        point["ci_low"] = point["ci_high"] = np.nan
    r = _at_risk(stays)
    at_risk = {p: int(((g["a"] <= s_time) & (g["b"] > s_time)).sum()) for p, g in r.groupby("phase")}
    point["at_risk_from"] = point["from_phase"].map(at_risk).fillna(0).astype(int)
    unknown = point["at_risk_from"] == 0
    point.loc[unknown, ["probability", "ci_low", "ci_high"]] = np.nan
    return point


def expected_time_in_phase(
    stays: pd.DataFrame,
    s_time: float,
    horizon: float,
    *,
    grid_step: float = 1 / 52,
    reps: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Expected years in each phase between ``s_time`` and ``horizon``, from each starting phase.

    ``ELOS_jk = integral_s^horizon P_jk(s, u) du``, evaluated on the jump times of P (exact for
    the step function) plus a grid of ``grid_step`` years. Rows: ``from_phase, to_phase,
    expected_years, ci_low, ci_high``; each ``from_phase`` row sums to ``horizon - s_time``.
    """
    if horizon <= s_time:
        raise ValueError(f"horizon ({horizon}) must be after the starting time ({s_time})")
    r = _at_risk(stays)
    jumps = r.loc[(r["next"] != "censored") & (r["b"] > s_time) & (r["b"] <= horizon), "b"].to_numpy(float)
    grid = np.unique(np.concatenate([[s_time, horizon], jumps, np.arange(s_time, horizon, grid_step)]))

    def elos(sample: pd.DataFrame) -> np.ndarray:
        P = transition_matrices(sample, s_time, grid)
        widths = np.diff(grid)
        # P is right-continuous and constant on [grid_i, grid_{i+1}).
        return np.tensordot(widths, P[:-1], axes=(0, 0))

    k = len(STATES)
    point = elos(stays)
    out = pd.DataFrame({"from_phase": np.repeat(STATES, k), "to_phase": np.tile(STATES, k), "expected_years": point.reshape(-1)})
    if reps > 0:
        draws = _bootstrap(stays, reps, seed, lambda b: elos(b).reshape(-1))
        alpha = (1 - level) / 2
        out["ci_low"], out["ci_high"] = np.quantile(draws, alpha, axis=0), np.quantile(draws, 1 - alpha, axis=0)
    else:
        out["ci_low"] = out["ci_high"] = np.nan
    return out


def cause_specific_cox(
    stays: pd.DataFrame,
    covariates: pd.DataFrame,
    from_phase: str,
    *,
    columns: Sequence[str],
    min_events: int = 10,
) -> dict[str, dict]:
    """One Cox model per transition out of ``from_phase`` (cause-specific hazards).

    Time is years since entering ``from_phase``; a stay is at risk from ``max(t_enter, entry)``;
    for the transition to ``to`` the other exits count as censored. ``covariates`` holds one row
    per initiative (``initiative_id`` and ``columns``). Returns ``{to_phase: {"table", "events",
    "n"}}`` for transitions with at least ``min_events`` events, and ``{to_phase: {"skipped":
    reason}}`` for the others.
    """
    from lifelines import CoxPHFitter

    here = _at_risk(stays[stays["phase"] == from_phase]).merge(
        covariates[["initiative_id", *columns]], on="initiative_id", how="inner"
    )
    here = here.dropna(subset=list(columns))
    here = here.assign(duration=here["b"] - here["t_enter"], entry=here["a"] - here["t_enter"])
    out: dict[str, dict] = {}
    for to in sorted(set(here["next"]) - {"censored"}, key=lambda p: _INDEX[p]):
        events = int((here["next"] == to).sum())
        if events < min_events:
            out[to] = {
                "skipped": f"{events} transitions {from_phase} -> {to}; at least {min_events} are needed",
                "events": events,
            }
            continue
        varying = [c for c in columns if here[c].nunique() > 1]
        frame = here[["duration", "entry", *varying]].astype(float).assign(event=(here["next"] == to).astype(float))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CoxPHFitter().fit(frame, duration_col="duration", event_col="event", entry_col="entry")
        table = fit.summary[["coef", "se(coef)", "exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p"]].copy()
        table.columns = ["coef", "se", "hazard_ratio", "hr_low", "hr_high", "p_value"]
        out[to] = {"table": table.rename_axis("covariate").reset_index(), "events": events, "n": int(len(frame))}
    return out
