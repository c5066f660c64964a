"""maexlab's multi-state estimators on R mstate's EBMT data (``ebmt4``, six states).

Figures and sources: tests/reference/mstate_ebmt4.py. The test turns the wide data into
maexlab's sojourns (one row per state stayed in) the way R's ``msprep`` does, then calls
maexlab's public functions: ``transition_rates`` for the counts, ``transition_matrices`` and
``transition_probabilities`` for the Aalen-Johansen matrix P(s, t).

No published non-parametric P(0, t) for these data was found to compare with (mstate's papers
plot ``probtrans`` on ``ebmt4`` without printing its values; calibmsm's ``tps0`` are Cox-model
predictions per patient). P(0, t) is therefore checked by what must hold for any correct
Aalen-Johansen estimate: rows sum to 1, absorbing states stay absorbing, states that cannot
be reached have probability 0, and P(0, t)[Tx, Tx] equals the Kaplan-Meier curve of the time
to leaving Tx (lifelines), exactly; the union of the absorbing states is compared with
1 - Kaplan-Meier of relapse-free survival, an identity that holds only approximately for a
multi-state Aalen-Johansen estimate (here within 0.001).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference import mstate_ebmt4 as ref

from maexlab.survival.multistate import transition_rates
from maexlab.survival.transitions import transition_matrices, transition_probabilities

REFERENCE = Path(__file__).resolve().parent / "reference"
TIME_COLUMN = {"Rec": "rec", "AE": "ae", "Rec+AE": "recae", "Rel": "rel", "Death": "srv"}
TRANSITIONS = [(a, b) for a, nexts in ref.NEXT.items() for b in nexts]
DAYS = [30.0, 100.0, 182.5, 365.25, 730.5, 1826.25, 3652.5]


def ebmt_stays(wide: pd.DataFrame) -> pd.DataFrame:
    """Wide EBMT rows -> sojourns ``initiative_id, phase, t_enter, t_exit, next, entry`` (days).

    As ``msprep``: from the current state, the next state is the possible one with the earliest
    time; it is entered when its status is 1, otherwise the stay is censored at that time.
    """
    rows = []
    for patient in wide.to_dict("records"):
        state, since = "Tx", 0.0
        while ref.NEXT[state]:
            options = [(float(patient[TIME_COLUMN[n]]), n, int(patient[TIME_COLUMN[n] + ".s"])) for n in ref.NEXT[state]]
            first = min(t for t, _, _ in options)
            entered = [n for t, n, status in options if t == first and status == 1]
            rows.append((patient["id"], state, since, first, entered[0] if entered else "censored"))
            if not entered:
                break
            state, since = entered[0], first
    return pd.DataFrame(rows, columns=["initiative_id", "phase", "t_enter", "t_exit", "next"]).assign(entry=0.0)


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "ebmt4.csv")


@pytest.fixture(scope="module")
def stays(wide) -> pd.DataFrame:
    return ebmt_stays(wide)


def test_the_data_is_mstates_ebmt4(wide, stays):
    assert len(wide) == wide["id"].nunique() == ref.PATIENTS
    # msprep's long data: one row per stay and possible next state
    possible = stays["phase"].map(lambda s: len(ref.NEXT[s])).sum()
    assert possible == ref.LONG_ROWS


def test_transition_counts_equal_events_of_msprep(stays):
    rates = transition_rates(stays, states=ref.STATES, transitions=TRANSITIONS)
    counts = rates.set_index(["from_phase", "to_phase"])
    for frm, expected in ref.EVENTS.items():
        stays_here = int(counts.loc[frm, "n"].iloc[0])
        assert stays_here == ref.ENTERING[frm]
        moved = 0
        for to, n in expected.items():
            if to == "no event":
                continue
            assert int(counts.loc[(frm, to), "events"]) == n, (frm, to)
            moved += n
        assert stays_here - moved == expected["no event"], frm
    assert set(zip(rates["from_phase"], rates["to_phase"], strict=True)) == set(TRANSITIONS)
    for absorbing in ("Rel", "Death"):
        assert int(rates.loc[rates["to_phase"] == absorbing, "events"].sum()) == ref.ENTERING[absorbing]


def test_aalen_johansen_from_transplant(wide, stays):
    from lifelines import KaplanMeierFitter

    P = transition_matrices(stays, 0.0, DAYS, states=ref.STATES)
    np.testing.assert_allclose(P.sum(axis=2), 1.0, atol=1e-12)
    assert (P >= -1e-12).all()
    tx = stays[stays["phase"] == "Tx"]
    km = KaplanMeierFitter().fit(tx["t_exit"], tx["next"] != "censored")
    np.testing.assert_allclose(P[:, 0, 0], km.survival_function_at_times(DAYS).to_numpy(), atol=1e-12)
    # absorbing states stay absorbing; Rec and AE never lead back
    np.testing.assert_allclose(P[:, 4, 4], 1.0)
    np.testing.assert_allclose(P[:, 5, 5], 1.0)
    assert (P[:, 1, 2] == 0).all() and (P[:, 2, 1] == 0).all()
    # relapse or death by ten years: the union of the absorbing states against 1 - Kaplan-Meier of
    # relapse-free survival. The Aalen-Johansen estimate is not collapsible, so the two agree only
    # approximately (censoring in the intermediate states weighs them differently).
    first = np.minimum(wide["rel"], wide["srv"])
    rfs = KaplanMeierFitter().fit(first, (wide["rel.s"] == 1) | (wide["srv.s"] == 1))
    np.testing.assert_allclose(P[:, 0, 4] + P[:, 0, 5], 1 - rfs.survival_function_at_times(DAYS).to_numpy(), atol=1e-3)


def test_probabilities_from_a_later_start_with_intervals(stays):
    P = transition_probabilities(stays, 365.25, [730.5, 1826.25], reps=20, seed=1, states=ref.STATES)
    known = P[P["at_risk_from"] > 0]
    assert {"Tx", "Rec", "AE", "Rec+AE"} <= set(known["from_phase"])
    sums = known.groupby(["years", "from_phase"])["probability"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-12)
    assert (known["ci_low"] <= known["probability"] + 1e-12).all()
    assert (known["probability"] <= known["ci_high"] + 1e-12).all()
    # the patients still in Tx one year after transplant are the risk set of that row
    tx_at_risk = int((stays["phase"].eq("Tx") & (stays["t_exit"] > 365.25)).sum())
    assert int(P.loc[P["from_phase"] == "Tx", "at_risk_from"].iloc[0]) == tx_at_risk
