"""Transition probabilities P(s, t), expected time per phase and cause-specific Cox per transition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maexlab.data import synth
from maexlab.survival import multistate as ms
from maexlab.survival import transitions as tr


@pytest.fixture(scope="module")
def stays() -> pd.DataFrame:
    tables, _ = synth.generate(seed=11, n_initiatives=400)
    return ms.sojourns(tables["initiatives"], tables["phases"])


def test_probabilities_from_founding_agree_with_state_occupation(stays):
    times = [1.0, 3.0, 5.0]
    occupation = ms.state_occupation(stays, times, min_at_risk=0)
    P = tr.transition_matrices(stays, 0.0, times)
    first = stays.sort_values(["initiative_id", "t_enter"]).drop_duplicates("initiative_id")
    first = first[first["t_enter"] == 0]["phase"].value_counts(normalize=True)
    pi0 = np.array([first.get(p, 0.0) for p in ms.STATES])
    np.testing.assert_allclose(pi0 @ P, occupation[list(ms.STATES)].to_numpy(), atol=1e-10)


def test_rows_are_probabilities_and_time_in_phase_adds_up_to_the_horizon(stays):
    P = tr.transition_matrices(stays, 2.0, [4.0, 8.0])
    np.testing.assert_allclose(P.sum(axis=2), 1.0)
    assert (P >= -1e-12).all()
    elos = tr.expected_time_in_phase(stays, 2.0, 8.0, reps=0)
    np.testing.assert_allclose(elos.groupby("from_phase")["expected_years"].sum(), 6.0)
    # from 'closed' one stays closed
    closed = elos[(elos["from_phase"] == "closed") & (elos["to_phase"] == "closed")]["expected_years"].iloc[0]
    assert closed == pytest.approx(6.0)


def test_competing_risks_from_one_phase_equal_the_aalen_johansen_incidence():
    rng = np.random.default_rng(3)
    n = 300
    t = rng.exponential(3.0, n).round(1) + 0.1
    nxt = rng.choice(["growth", "closed", "censored"], size=n, p=[0.4, 0.3, 0.3])
    s = pd.DataFrame(
        {"initiative_id": [f"i{i}" for i in range(n)], "phase": "start", "t_enter": 0.0, "t_exit": t, "next": nxt, "entry": 0.0}
    )
    times = [1.0, 2.0, 5.0]
    P = tr.transition_matrices(s, 0.0, times)
    cause = np.select([nxt == "growth", nxt == "closed"], [1, 2], 0)
    cif = ms.aalen_johansen(t, cause, None, times)
    i = ms.STATES.index
    np.testing.assert_allclose(P[:, i("start"), i("growth")], cif[1], atol=1e-12)
    np.testing.assert_allclose(P[:, i("start"), i("closed")], cif[2], atol=1e-12)


def test_bootstrap_intervals_are_seeded_and_cover_the_estimate(stays):
    a = tr.transition_probabilities(stays, 1.0, [4.0], reps=30, seed=5)
    b = tr.transition_probabilities(stays, 1.0, [4.0], reps=30, seed=5)
    pd.testing.assert_frame_equal(a, b)
    row = a[(a["from_phase"] == "start") & (a["to_phase"] == "growth")].iloc[0]
    assert row["ci_low"] <= row["probability"] <= row["ci_high"] and row["ci_high"] - row["ci_low"] > 0


def test_a_phase_nobody_is_in_at_s_has_no_estimate(stays):
    P = tr.transition_probabilities(stays, 0.0, [3.0], reps=0)
    mature = P[P["from_phase"] == "mature"]
    assert mature["at_risk_from"].eq(0).all() and mature["probability"].isna().all()


def test_cause_specific_cox_fits_each_transition_or_says_why_not(stays):
    covariates = stays[["initiative_id"]].drop_duplicates().assign(x=lambda d: np.arange(len(d)) % 2)
    fits = tr.cause_specific_cox(stays, covariates, "start", columns=["x"], min_events=10)
    assert "growth" in fits and "table" in fits["growth"]
    rare = tr.cause_specific_cox(stays, covariates, "start", columns=["x"], min_events=10_000)
    assert all("skipped" in v for v in rare.values())
