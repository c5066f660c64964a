"""Phases as a multi-state process: plan -> start -> growth -> mature, closure from any phase.

The phase history of each initiative (table ``phases``) becomes a list of *sojourns*: one row per
phase it stayed in, with the time it entered the phase, the time it left, and where it went
(the next phase, ``closed``, or ``censored`` at ``observed_until``). Time is in years
(365.25 days) since founding.

Delayed entry (left truncation)
    An initiative is only in the data because it was still alive when it joined the platform
    (``joined_on``); initiatives that closed earlier are missing. Every estimator here therefore
    counts an initiative at risk only from its entry time ``entry = joined_on - founded_on``
    onwards: a sojourn contributes the interval ``(max(enter, entry), exit]`` and its transition
    only when that interval is not empty. Phase history before ``joined_on`` is used to know
    *which* phase the initiative was in at entry, never as exposure.

What is estimated
    * :func:`transition_rates`: events / person-time per transition (constant-hazard estimate,
      exact Poisson 95% interval), e.g. start -> growth per year.
    * :func:`nelson_aalen_transitions`: Nelson-Aalen cumulative hazard per transition, on the
      clock "time since entering the phase" (lifelines ``NelsonAalenFitter`` with ``entry=``).
    * :func:`competing_risks_from_start`: cumulative incidence of moving on (to growth) and of
      closing, from entering start, by the Aalen-Johansen estimator with left truncation, with
      bootstrap intervals (:func:`aalen_johansen` is exact with tied times; lifelines'
      ``AalenJohansenFitter`` breaks ties by random jitter, so it is used only as a check in the
      tests).
    * :func:`state_occupation`: P(plan/start/growth/mature/closed at age t) by the multi-state
      Aalen-Johansen product integral of the transition matrix.

Small risk sets
    Curves and tables are cut where fewer than ``min_at_risk`` initiatives are at risk, by one
    rule for every estimator (:func:`risk_window`, as for the Kaplan-Meier figures): a curve is
    shown from the first time at least that many are at risk to the first later time fewer are.

>>> import pandas as pd
>>> ph = pd.DataFrame({"initiative_id": ["a", "a", "a"], "phase": ["plan", "start", "closed"],
...                    "entered_on": pd.to_datetime(["2015-01-01", "2016-01-01", "2018-01-01"])})
>>> ini = pd.DataFrame({"initiative_id": ["a"], "founded_on": pd.to_datetime(["2015-01-01"]),
...                     "joined_on": pd.to_datetime(["2015-07-02"]), "closed_on": pd.to_datetime(["2018-01-01"]),
...                     "observed_until": pd.to_datetime(["2026-06-30"])})
>>> sojourns(ini, ph)[["phase", "t_enter", "t_exit", "next", "entry"]].round(2)
   phase  t_enter  t_exit    next  entry
0   plan      0.0     1.0   start    0.5
1  start      1.0     3.0  closed    0.5
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from maexlab.data.schema import ACTIVE_PHASES, PHASES

__all__ = [
    "DAYS_PER_YEAR",
    "STATES",
    "at_risk_window",
    "aalen_johansen",
    "competing_risks_from_start",
    "nelson_aalen_transitions",
    "plot_competing_risks",
    "plot_nelson_aalen",
    "plot_state_occupation",
    "poisson_interval",
    "in_window",
    "risk_window",
    "sojourns",
    "state_occupation",
    "transition_rates",
]

DAYS_PER_YEAR = 365.25
#: States of the multi-state model, in order; ``closed`` is absorbing.
STATES: tuple[str, ...] = PHASES
_ORDER = {p: i for i, p in enumerate(PHASES)}
#: The transitions the model expects (skips such as plan -> growth on one day are kept as observed).
MAIN_TRANSITIONS: tuple[tuple[str, str], ...] = (
    ("plan", "start"),
    ("start", "growth"),
    ("growth", "mature"),
    ("plan", "closed"),
    ("start", "closed"),
    ("growth", "closed"),
    ("mature", "closed"),
)
STATE_COLOURS = {"plan": "#c7e9c0", "start": "#74c476", "growth": "#31a354", "mature": "#006d2c", "closed": "#969696"}


def _years(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days.astype("float64") / DAYS_PER_YEAR


def frame(initiatives: pd.DataFrame) -> pd.DataFrame:
    """Per initiative: founding, entry (years from founding to joining), end and whether it closed.

    ``joined_on`` missing (column absent or empty) means observed from founding (entry 0).
    ``end`` is ``closed_on`` when it closed by ``observed_until``, else ``observed_until``.
    """
    d = initiatives[["initiative_id", "founded_on", "observed_until"]].copy()
    closed = initiatives["closed_on"] if "closed_on" in initiatives else pd.Series(pd.NaT, index=initiatives.index)
    joined = initiatives["joined_on"] if "joined_on" in initiatives else pd.Series(pd.NaT, index=initiatives.index)
    d["closed"] = (closed.notna() & (closed <= d["observed_until"])).to_numpy(bool)
    end_date = closed.where(d["closed"], d["observed_until"])
    d["end"] = _years(end_date, d["founded_on"]).clip(lower=0.5 / DAYS_PER_YEAR)
    d["entry"] = _years(joined.fillna(d["founded_on"]), d["founded_on"]).clip(lower=0.0)
    return d.reset_index(drop=True)


def sojourns(initiatives: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """One row per phase stay: ``phase, t_enter, t_exit, next, entry`` (years since founding).

    ``next`` is the following phase, ``closed`` or ``censored``. Stays of zero length (two phases
    entered on the same day) are dropped and the previous stay moves straight on to the later
    phase, so every stay has positive length. Phase dates before founding count as founding.
    """
    fr = frame(initiatives)
    ph = phases[phases["phase"].isin(ACTIVE_PHASES)].merge(fr, on="initiative_id", how="inner")
    ph = ph.assign(t_enter=_years(ph["entered_on"], ph["founded_on"]).clip(lower=0.0), _o=ph["phase"].map(_ORDER))
    ph = ph[ph["t_enter"] < ph["end"]]
    ph = ph.sort_values(["initiative_id", "t_enter", "_o"], kind="stable")
    # keep the last phase entered on each day (zero-length stays collapse)
    ph = ph.drop_duplicates(["initiative_id", "t_enter"], keep="last")
    ph["t_exit"] = ph.groupby("initiative_id")["t_enter"].shift(-1)
    ph["next"] = ph.groupby("initiative_id")["phase"].shift(-1)
    last = ph["t_exit"].isna()
    ph.loc[last, "t_exit"] = ph.loc[last, "end"]
    ph.loc[last, "next"] = np.where(ph.loc[last, "closed"], "closed", "censored")
    cols = ["initiative_id", "phase", "t_enter", "t_exit", "next", "entry"]
    return ph[cols].reset_index(drop=True)


def _at_risk(s: pd.DataFrame) -> pd.DataFrame:
    """Stays with their observed part ``(a, b]`` after delayed entry; empty parts dropped."""
    a = np.maximum(s["t_enter"].to_numpy(float), s["entry"].to_numpy(float))
    out = s.assign(a=a, b=s["t_exit"].to_numpy(float))
    return out[out["b"] > out["a"]].reset_index(drop=True)


def poisson_interval(
    events: np.ndarray | float, exposure: np.ndarray | float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a rate events / exposure.

    >>> lo, hi = poisson_interval(10, 100.0)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.048, 0.1839)
    """
    d = np.asarray(events, dtype=float)
    t = np.asarray(exposure, dtype=float)
    q = (1 - level) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(d > 0, stats.chi2.ppf(q, 2 * d) / (2 * t), 0.0)
        hi = stats.chi2.ppf(1 - q, 2 * d + 2) / (2 * t)
    return lo, hi


def transition_rates(
    s: pd.DataFrame,
    *,
    states: Sequence[str] = STATES,
    transitions: Sequence[tuple[str, str]] = MAIN_TRANSITIONS,
) -> pd.DataFrame:
    """Events, person-years at risk and hazard per year for each transition, with exact 95% CI.

    Person-time in a phase counts only after delayed entry. Columns: ``from_phase, to_phase,
    n`` (initiatives at risk in the phase), ``events, person_years, hazard, hazard_low, hazard_high``.
    Transitions run forward in the order of ``states`` (maexlab's phases by default); one with no
    event is listed only when it is among the model's ``transitions``. Another state space (e.g.
    the EBMT reference data in tests/reference/) is given by ``states`` and ``transitions``.
    """
    order = _ORDER if tuple(states) == STATES else {p: i for i, p in enumerate(states)}
    r = _at_risk(s)
    rows = []
    for frm, g in r.groupby("phase", sort=False):
        py = float((g["b"] - g["a"]).sum())
        n = int(g["initiative_id"].nunique())
        for to in [p for p in states if order[p] > order[frm]]:
            d = int((g["next"] == to).sum())
            if d == 0 and (frm, to) not in transitions:
                continue
            rows.append({"from_phase": frm, "to_phase": to, "n": n, "events": d, "person_years": py})
    out = pd.DataFrame(rows, columns=["from_phase", "to_phase", "n", "events", "person_years"])
    lo, hi = poisson_interval(out["events"].to_numpy(), out["person_years"].to_numpy())
    out["hazard"] = out["events"] / out["person_years"]
    out["hazard_low"], out["hazard_high"] = lo, hi
    key = out["from_phase"].map(order) * len(order) + out["to_phase"].map(order)
    return out.assign(_k=key).sort_values("_k").drop(columns="_k").reset_index(drop=True)


def nelson_aalen_transitions(
    s: pd.DataFrame, transitions: Sequence[tuple[str, str]] = MAIN_TRANSITIONS
) -> dict[str, pd.DataFrame]:
    """Nelson-Aalen cumulative hazard per transition on the clock "years since entering the phase".

    Returns ``{"start -> growth": DataFrame(timeline, cumulative_hazard, low, high, at_risk,
    observed)}`` (``at_risk``: stays in the phase at risk at that time; ``observed``: transitions
    then); delayed entry via lifelines ``entry=``.
    """
    from lifelines import NelsonAalenFitter

    out: dict[str, pd.DataFrame] = {}
    for frm, to in transitions:
        g = s[s["phase"] == frm]
        dur = (g["t_exit"] - g["t_enter"]).to_numpy(float)
        ent = np.clip(g["entry"].to_numpy(float) - g["t_enter"].to_numpy(float), 0.0, None)
        keep = dur > ent
        if keep.sum() == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            naf = NelsonAalenFitter().fit(dur[keep], (g["next"] == to).to_numpy()[keep], entry=ent[keep], label=f"{frm} -> {to}")
        ch = naf.cumulative_hazard_.iloc[:, 0]
        ci = naf.confidence_interval_
        et = naf.event_table.reindex(ch.index)
        out[f"{frm} -> {to}"] = pd.DataFrame(
            {
                "timeline": ch.index.to_numpy(float),
                "cumulative_hazard": ch.to_numpy(),
                "low": ci.iloc[:, 0].to_numpy(),
                "high": ci.iloc[:, 1].to_numpy(),
                "at_risk": et["at_risk"].fillna(0).to_numpy(int),
                "observed": et["observed"].fillna(0).to_numpy(int),
            }
        )
    return out


def risk_window(event_table: pd.DataFrame, min_at_risk: int) -> tuple[float, float] | None:
    """The time span over which a survival or cumulative-hazard curve may be drawn.

    From the first time at least ``min_at_risk`` are at risk to the first later time at which
    fewer are (the curve is cut there), using a lifelines ``event_table`` (``at_risk`` and
    ``observed`` per time). None when the risk set never reaches ``min_at_risk``, or when events
    happened before it did (the curve's level at the start would rest on them).

    >>> et = pd.DataFrame({"observed": [0, 1, 1, 0, 1], "at_risk": [12, 15, 14, 9, 5]}, index=[0.0, 1.0, 2.0, 3.0, 4.0])
    >>> risk_window(et, 10)
    (0.0, 3.0)
    """
    n = event_table["at_risk"].to_numpy(float)
    t = event_table.index.to_numpy(float)
    ok = n >= min_at_risk
    if not ok.any():
        return None
    i0 = int(np.argmax(ok))
    if (event_table["observed"].to_numpy(float)[:i0] > 0).any():
        return None
    below = ~ok[i0:]
    i1 = i0 + int(np.argmax(below)) if below.any() else len(t) - 1
    return float(t[i0]), float(t[i1])


def at_risk_window(event_table: pd.DataFrame, min_at_risk: int) -> tuple[float, float] | None:
    """:func:`risk_window`, or no cut at all (the whole time axis) when ``min_at_risk`` <= 0."""
    if min_at_risk <= 0:
        return (-np.inf, np.inf)
    return risk_window(event_table, min_at_risk)


def in_window(x: Sequence[float] | np.ndarray, window: tuple[float, float] | None) -> np.ndarray:
    """Which points of a curve evaluated at ``x`` may be shown: ``t0 <= x < t1``, as
    :func:`_clip_steps` keeps them (the value at ``t1`` includes what happens among fewer at risk).

    >>> in_window([0.0, 1.0, 2.9, 3.0], (0.0, 3.0)).tolist()
    [True, True, True, False]
    """
    x = np.asarray(x, dtype=float)
    if window is None:
        return np.zeros(len(x), dtype=bool)
    return (x >= window[0]) & (x < window[1])


def _event_table(duration: np.ndarray, observed: np.ndarray, entry: np.ndarray | None = None) -> pd.DataFrame:
    """lifelines' event table (``at_risk``, ``observed`` per time; entrants at t count at t),
    the input :func:`risk_window` reads, without fitting a curve."""
    from lifelines.utils import survival_table_from_events

    return survival_table_from_events(np.asarray(duration, float), np.asarray(observed, bool), birth_times=entry)


def _clip_steps(x: np.ndarray, ys: list[np.ndarray], t0: float, t1: float) -> tuple[np.ndarray, ...]:
    """Right-continuous step curves restricted to ``[t0, t1]``: points before ``t1`` kept, the
    level just before ``t1`` extended to ``t1`` (what happens at ``t1`` is not shown)."""
    keep = (x >= t0) & (x < t1)
    out_x = np.append(x[keep], t1)
    outs = [np.append(y[keep], y[keep][-1] if keep.any() else np.nan) for y in ys]
    return (out_x, *outs)


# --- competing risks from entering start ---------------------------------------------------


def aalen_johansen(
    duration: np.ndarray, cause: np.ndarray, entry: np.ndarray | None, times: Sequence[float]
) -> dict[int, np.ndarray]:
    """Cumulative incidence per cause at ``times``, Aalen-Johansen with left truncation.

    At each distinct event time t the risk set is {entry < t <= duration}; with d_k(t) events of
    cause k among n(t) at risk and S(t-) the all-cause Kaplan-Meier just before t,
    CIF_k(t) = sum_{s <= t} S(s-) d_k(s) / n(s). Tied times are handled exactly. ``cause`` is 0
    for censored, 1, 2, ... for the competing events.

    >>> aj = aalen_johansen(np.array([1., 2., 3., 4.]), np.array([1, 2, 0, 1]), None, [2.5, 5])
    >>> [round(float(v), 3) for v in aj[1]], [round(float(v), 3) for v in aj[2]]
    ([0.25, 0.75], [0.25, 0.25])
    """
    duration = np.asarray(duration, dtype=float)
    cause = np.asarray(cause, dtype=int)
    entry = np.zeros_like(duration) if entry is None else np.asarray(entry, dtype=float)
    times = np.asarray(times, dtype=float)
    causes = sorted(int(c) for c in np.unique(cause) if c != 0)
    ev = cause != 0
    u, inv = np.unique(duration[ev], return_inverse=True)
    if len(u) == 0:
        return {c: np.zeros(len(times)) for c in causes}
    n = np.searchsorted(np.sort(entry), u, side="left") - np.searchsorted(np.sort(duration), u, side="left")
    d_all = np.bincount(inv, minlength=len(u)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        haz = np.where(n > 0, d_all / n, 0.0)
    s_before = np.concatenate([[1.0], np.cumprod(1.0 - haz)[:-1]])
    idx = np.searchsorted(u, times, side="right") - 1
    out = {}
    for c in causes:
        dk = np.bincount(inv[cause[ev] == c], minlength=len(u)).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(n > 0, s_before * dk / n, 0.0)
        cif = np.cumsum(inc)
        out[c] = np.where(idx >= 0, cif[np.clip(idx, 0, None)], 0.0)
    return out


def start_cohort(s: pd.DataFrame) -> pd.DataFrame:
    """Stays in start as competing-risks data: duration since entering start, entry, cause.

    cause 1 = moved on (growth or later), 2 = closed, 0 = censored.
    """
    g = s[s["phase"] == "start"]
    dur = (g["t_exit"] - g["t_enter"]).to_numpy(float)
    ent = np.clip(g["entry"].to_numpy(float) - g["t_enter"].to_numpy(float), 0.0, None)
    cause = np.select([g["next"].isin(["growth", "mature"]).to_numpy(), (g["next"] == "closed").to_numpy()], [1, 2], 0)
    out = pd.DataFrame({"initiative_id": g["initiative_id"].to_numpy(), "duration": dur, "entry": ent, "cause": cause})
    return out[out["duration"] > out["entry"]].reset_index(drop=True)


def competing_risks_from_start(
    s: pd.DataFrame,
    horizon: float = 3.0,
    n_boot: int = 300,
    seed: int = 0,
    grid: Sequence[float] | None = None,
    min_at_risk: int = 10,
) -> dict:
    """P(moving on to growth within ``horizon`` years of entering start) and P(closing first), with
    percentile bootstrap 95% intervals (initiatives resampled), plus the curves on ``grid``.

    Curve points outside the :func:`risk_window` of the stays in start (fewer than
    ``min_at_risk`` at risk; 0 = no cut) are missing, and so are the probabilities at ``horizon``
    when it lies outside it. Returns ``{"n", "p_growth", "p_growth_low", "p_growth_high",
    "p_close", ..., "window", "min_at_risk", "curves": DataFrame}``.
    """
    c = start_cohort(s)
    grid = np.round(np.linspace(0, 8, 161), 3) if grid is None else np.asarray(grid, dtype=float)
    at = np.concatenate([[horizon], grid])
    if len(c) == 0:
        return {"n": 0}
    dur, cause, ent = c["duration"].to_numpy(), c["cause"].to_numpy(), c["entry"].to_numpy()
    est = aalen_johansen(dur, cause, ent, at)
    g1 = est.get(1, np.zeros(len(at)))
    g2 = est.get(2, np.zeros(len(at)))
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, 2, len(at)))
    for b in range(n_boot):
        i = rng.integers(0, len(c), len(c))
        e = aalen_johansen(dur[i], cause[i], ent[i], at)
        boot[b, 0] = e.get(1, np.zeros(len(at)))
        boot[b, 1] = e.get(2, np.zeros(len(at)))
    lo = np.quantile(boot, 0.025, axis=0)
    hi = np.quantile(boot, 0.975, axis=0)
    window = at_risk_window(_event_table(dur, cause > 0, ent), min_at_risk)
    shown = in_window(at, window)
    g1, g2 = np.where(shown, g1, np.nan), np.where(shown, g2, np.nan)
    lo, hi = np.where(shown, lo, np.nan), np.where(shown, hi, np.nan)
    curves = pd.DataFrame(
        {
            "years_since_start": grid,
            "cif_growth": g1[1:],
            "cif_growth_low": lo[0, 1:],
            "cif_growth_high": hi[0, 1:],
            "cif_closed": g2[1:],
            "cif_closed_low": lo[1, 1:],
            "cif_closed_high": hi[1, 1:],
        }
    )
    return {
        "n": int(len(c)),
        "events_growth": int((cause == 1).sum()),
        "events_closed": int((cause == 2).sum()),
        "horizon_years": horizon,
        "p_growth": float(g1[0]),
        "p_growth_low": float(lo[0, 0]),
        "p_growth_high": float(hi[0, 0]),
        "p_close": float(g2[0]),
        "p_close_low": float(lo[1, 0]),
        "p_close_high": float(hi[1, 0]),
        "n_boot": n_boot,
        "min_at_risk": int(min_at_risk),
        "window": None if window is None else (float(window[0]), float(window[1])),
        "curves": curves,
    }


# --- state occupation ----------------------------------------------------------------------


def state_occupation(s: pd.DataFrame, times: Sequence[float], min_at_risk: int = 10) -> pd.DataFrame:
    """P(in each state at ``times`` years since founding), multi-state Aalen-Johansen estimator.

    P(t) = pi0 . prod_{u <= t} (I + dA(u)), with dA_jk(u) = d_jk(u) / Y_j(u) (transitions j -> k
    at u over stays in j at risk at u, after delayed entry). pi0 is the share founded in plan
    vs start. Rows: ``years_since_founding``, one column per state (rows sum to 1) and
    ``at_risk`` (initiatives under observation at that age, in any phase).

    Rows outside the :func:`risk_window` of the initiatives under observation (fewer than
    ``min_at_risk`` at risk; every transition counts as an event; 0 = no cut) are left missing.
    """
    times = np.asarray(times, dtype=float)
    k = len(STATES)
    r = _at_risk(s)
    first = s.sort_values(["initiative_id", "t_enter"]).drop_duplicates("initiative_id")
    first = first[first["t_enter"] == 0]
    pi0 = np.zeros(k)
    for p, cnt in first["phase"].value_counts().items():
        pi0[_ORDER[p]] = cnt
    if pi0.sum() == 0:
        pi0[_ORDER["plan"]] = 1
    pi0 = pi0 / pi0.sum()
    ev = r[r["next"] != "censored"]
    u = np.unique(ev["b"].to_numpy(float))
    # risk sets per state at each event time
    Y = np.zeros((len(u), k))
    for p, g in r.groupby("phase"):
        Y[:, _ORDER[p]] = np.searchsorted(np.sort(g["a"].to_numpy()), u, side="left") - np.searchsorted(
            np.sort(g["b"].to_numpy()), u, side="left"
        )
    ti = np.searchsorted(u, ev["b"].to_numpy(float))
    D = np.zeros((len(u), k, k))
    np.add.at(D, (ti, ev["phase"].map(_ORDER).to_numpy(), ev["next"].map(_ORDER).to_numpy()), 1.0)
    out = np.zeros((len(times), k))
    p = pi0.copy()
    j = 0
    order = np.argsort(times)
    for i in order:
        while j < len(u) and u[j] <= times[i]:
            with np.errstate(divide="ignore", invalid="ignore"):
                dA = np.where(Y[j][:, None] > 0, D[j] / Y[j][:, None], 0.0)
            dA[np.diag_indices(k)] = -dA.sum(axis=1)
            p = p + p @ dA
            j += 1
        out[i] = p
    res = pd.DataFrame(out, columns=list(STATES))
    res.insert(0, "years_since_founding", times)
    # the initiatives under observation: from their first to their last observed moment
    span = r.groupby("initiative_id").agg(a=("a", "min"), b=("b", "max"))
    a_sorted, b_sorted = np.sort(span["a"].to_numpy()), np.sort(span["b"].to_numpy())
    grid = np.unique(np.concatenate([a_sorted, b_sorted, u]))
    n_at = np.searchsorted(a_sorted, grid, side="right") - np.searchsorted(b_sorted, grid, side="left")
    moves = pd.Series(ev["b"].to_numpy(float)).value_counts()
    table = pd.DataFrame({"observed": moves.reindex(grid, fill_value=0).to_numpy(), "at_risk": n_at}, index=grid)
    shown = in_window(times, at_risk_window(table, min_at_risk))
    res["at_risk"] = np.searchsorted(a_sorted, times, side="right") - np.searchsorted(b_sorted, times, side="left")
    res[[*STATES, "at_risk"]] = res[[*STATES, "at_risk"]].astype(float).where(pd.Series(shown, index=res.index), axis=0)
    return res


# --- plots ---------------------------------------------------------------------------------


#: Colours of the transition curves: Okabe-Ito colours, no two alike within a panel.
TRANSITION_COLOURS: dict[str, str] = {
    "plan -> start": "#0072B2",
    "start -> growth": "#009E73",
    "growth -> mature": "#CC79A7",
    "plan -> closed": "#000000",
    "start -> closed": "#D55E00",
    "growth -> closed": "#56B4E9",
    "mature -> closed": "#999933",
}
_TRANSITION_STYLES = ("-", "--", "-.", ":")


def _transition_label(name: str, language: str) -> str:
    from maexlab.reporting.i18n import messages

    m = messages(language)
    frm, to = name.split(" -> ")
    return m.text("survival.plot.transition", frm=frm, to=to)


def plot_nelson_aalen(
    curves: dict[str, pd.DataFrame],
    max_years: float = 8.0,
    min_group_size: int = 10,
    language: str = "en",
    delayed_entry: bool = True,
):
    """Cumulative hazard per transition (steps with 95% bands); slope = hazard per year.

    Each curve is drawn only while at least ``min_group_size`` stays are at risk
    (:func:`risk_window`); a transition whose risk set never reaches that size (or that has
    transitions before it does) is not drawn, and the figure names it. Colours and line styles
    differ within each panel (:data:`TRANSITION_COLOURS`); texts follow ``language``.
    """
    import matplotlib.pyplot as plt

    from maexlab.reporting.i18n import messages

    m = messages(language)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharex=True)
    skipped = []
    drawn = [0, 0]
    for name, c in curves.items():
        side = 1 if name.endswith("closed") else 0
        ax = axes[side]
        window = risk_window(c.set_index("timeline"), min_group_size) if "at_risk" in c else (0.0, float(c["timeline"].max()))
        if window is None:
            skipped.append(_transition_label(name, language))
            continue
        x, y, lo, hi = _clip_steps(
            c["timeline"].to_numpy(float),
            [c["cumulative_hazard"].to_numpy(), c["low"].to_numpy(), c["high"].to_numpy()],
            window[0],
            min(window[1], max_years),
        )
        colour = TRANSITION_COLOURS.get(name)
        style = _TRANSITION_STYLES[drawn[side] % len(_TRANSITION_STYLES)]
        drawn[side] += 1
        line = ax.step(x, y, where="post", label=_transition_label(name, language), color=colour, ls=style)[0]
        ax.fill_between(x, lo, hi, step="post", alpha=0.15, color=line.get_color())
    axes[0].set_title(m.text("survival.plot.na_next_phase"))
    axes[1].set_title(m.text("survival.plot.na_closing"))
    for ax in axes:
        ax.set_xlabel(m.text("survival.plot.years_since_phase"))
        ax.set_ylabel(m.text("survival.plot.cumulative_hazard"))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left")
    how = m.text("survival.plot.bands_delayed" if delayed_entry else "survival.plot.bands")
    fig.suptitle(m.text("survival.plot.na_title", how=how))
    note = m.text("survival.plot.note_at_risk_phase", n=min_group_size)
    if skipped:
        note += " " + m.text("survival.plot.note_not_drawn", which=", ".join(skipped))
    fig.text(0.01, 0.005, note, fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig


def plot_competing_risks(cr: dict, reference: dict[str, float] | None = None, language: str = "en"):
    """Cumulative incidence of moving on and of closing after entering start, 95% bootstrap bands.

    The curves are drawn over the risk window of :func:`competing_risks_from_start` only (its
    missing points are not drawn; the last level is carried to the window's end), and the
    footnote says so. Texts follow ``language``."""
    import matplotlib.pyplot as plt

    from maexlab.reporting.i18n import messages

    m = messages(language)
    c = cr["curves"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = c["years_since_start"].to_numpy(float)
    shown = c["cif_growth"].notna().to_numpy()
    window = cr.get("window")
    lines = (("cif_growth", "survival.plot.moved_on", "#009E73"), ("cif_closed", "survival.plot.closed_in_start", "#b22222"))
    for col, key, colour in lines:
        if not shown.any():
            break
        end = min(window[1], float(x.max())) if window else float(x[shown].max())
        xs, y, lo, hi = _clip_steps(
            x[shown], [c[k].to_numpy(float)[shown] for k in (col, f"{col}_low", f"{col}_high")], float(x[shown].min()), end
        )
        ax.step(xs, y, where="post", color=colour, label=m.text(key))
        ax.fill_between(xs, lo, hi, step="post", alpha=0.2, color=colour)
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.axvline(cr["horizon_years"], color="grey", ls=":", lw=1)
    ax.set_xlabel(m.text("survival.plot.years_since_start"))
    ax.set_ylabel(m.text("survival.plot.cumulative_incidence"))
    ax.set_ylim(0, 1)
    ax.set_title(m.text("survival.plot.cr_title"))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left")
    n = cr.get("min_at_risk", 0)
    if n > 0:
        note = m.text("survival.plot.note_at_risk_start" if shown.any() else "survival.plot.note_at_risk_start_never", n=n)
        fig.text(0.01, 0.005, note, fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig


def plot_state_occupation(occ: pd.DataFrame, min_group_size: int | None = None, language: str = "en"):
    """Stacked area of P(state) by years since founding; ages left missing by
    :func:`state_occupation` (fewer than ``min_group_size`` at risk) are not drawn."""
    import matplotlib.pyplot as plt

    from maexlab.reporting.i18n import messages

    m = messages(language)
    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    shown = occ.dropna(subset=list(STATES))
    if len(shown):
        ax.stackplot(
            shown["years_since_founding"],
            *[shown[p] for p in STATES],
            labels=[m.term(p) for p in STATES],
            colors=[STATE_COLOURS[p] for p in STATES],
            alpha=0.9,
        )
    ax.set_xlim(occ["years_since_founding"].min(), occ["years_since_founding"].max())
    ax.set_ylim(0, 1)
    ax.set_xlabel(m.text("survival.plot.years_since_founding"))
    ax.set_ylabel(m.text("survival.plot.probability_in_state"))
    ax.set_title(m.text("survival.plot.occupation_title"))
    if len(shown):
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    if min_group_size:
        key = "survival.plot.note_occupation" if len(shown) else "survival.plot.note_occupation_none"
        fig.text(0.01, 0.005, m.text(key, n=min_group_size), fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig
