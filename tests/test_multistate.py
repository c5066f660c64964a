"""Tests for maexlab.survival.multistate: sojourns, transition hazards against the planted per-year hazards,
Aalen-Johansen against lifelines and the planted competing-risk probabilities, state occupation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import maexlab
from maexlab import survival as sv
from maexlab.data.loader import EMBEDDED_DIR
from maexlab.survival import multistate as ms

TRUTH = json.loads((Path(EMBEDDED_DIR) / "planted_effects.json").read_text())


@pytest.fixture(scope="module")
def data():
    return maexlab.load("embedded")


@pytest.fixture(scope="module")
def soj(data):
    return ms.sojourns(data.initiatives, data.phases)


def _ini(founded, joined, closed=None):
    return pd.DataFrame(
        {
            "initiative_id": ["a"],
            "founded_on": pd.to_datetime([founded]),
            "joined_on": pd.to_datetime([joined]),
            "closed_on": pd.to_datetime([closed]),
            "observed_until": pd.to_datetime(["2026-06-30"]),
        }
    )


def test_sojourns_collapse_same_day_phases_and_censor():
    ph = pd.DataFrame(
        {
            "initiative_id": ["a"] * 4,
            "phase": ["growth", "plan", "start", "mature"],  # unsorted, start and growth on one day
            "entered_on": pd.to_datetime(["2018-01-01", "2015-01-01", "2018-01-01", "2030-01-01"]),
        }
    )
    s = ms.sojourns(_ini("2015-01-01", "2015-01-01"), ph)
    assert s["phase"].tolist() == ["plan", "growth"]  # mature after the cut-off is ignored
    assert s["next"].tolist() == ["growth", "censored"]
    assert (s["t_exit"] > s["t_enter"]).all()


def test_transition_hazards_recover_planted_rates(soj):
    r = ms.transition_rates(soj).set_index(["from_phase", "to_phase"])
    for key, (a, b) in {
        "plan_to_start": ("plan", "start"),
        "start_to_growth": ("start", "growth"),
        "growth_to_mature": ("growth", "mature"),
    }.items():
        row = r.loc[(a, b)]
        assert row["hazard_low"] <= TRUTH["transitions"][key] <= row["hazard_high"], (key, row.to_dict())
    # crude closure rates mix in initiatives that received grants (HR < 1): at most the baseline
    for phase, base in TRUTH["closure_hazard"].items():
        assert r.loc[(phase, "closed"), "hazard_low"] <= base


def test_transition_rates_count_only_after_entry():
    ph = pd.DataFrame(
        {
            "initiative_id": ["a", "a", "a"],
            "phase": ["plan", "start", "closed"],
            "entered_on": pd.to_datetime(["2010-01-01", "2012-01-01", "2016-01-01"]),
        }
    )
    r = ms.transition_rates(ms.sojourns(_ini("2010-01-01", "2013-01-01", "2016-01-01"), ph))
    # joined in 2013 while in start: the plan stay and the plan -> start move are not observed
    assert set(r.loc[r["events"] > 0, "from_phase"]) == {"start"}
    assert r.loc[(r["from_phase"] == "start") & (r["to_phase"] == "closed"), "person_years"].iloc[0] == pytest.approx(
        3.0, abs=0.01
    )


def test_aalen_johansen_matches_lifelines_with_entry():
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(5)
    n = 300
    t1, t2, c = rng.exponential(2.0, n), rng.exponential(4.0, n), rng.exponential(5.0, n)
    dur = np.minimum.reduce([t1, t2, c])
    cause = np.select([dur == t1, dur == t2], [1, 2], 0)
    entry = np.where(rng.random(n) < 0.3, rng.uniform(0, 1, n), 0.0)
    keep = dur > entry
    dur, cause, entry = dur[keep], cause[keep], entry[keep]
    times = [0.5, 1.0, 2.0, 3.0]
    ours = ms.aalen_johansen(dur, cause, entry, times)
    for k in (1, 2):
        aj = AalenJohansenFitter(calculate_variance=False).fit(dur, cause, event_of_interest=k, entry=entry)
        ref = aj.cumulative_density_.iloc[:, 0]
        expected = [float(ref[ref.index <= t].iloc[-1]) for t in times]
        assert ours[k] == pytest.approx(expected, abs=1e-10)


def test_competing_risks_recover_planted_probabilities(soj):
    cr = ms.competing_risks_from_start(soj, horizon=3.0, n_boot=200, seed=1)
    d = TRUTH["derived"]
    assert cr["p_growth_low"] <= d["p_growth_within_3y_of_start"] <= cr["p_growth_high"]
    assert cr["p_close_low"] <= d["p_close_before_growth_within_3y_of_start"] <= cr["p_close_high"]
    assert sv.verdict_few_move_on(cr).verdict == "contradicted"  # about 70% reach growth
    c = cr["curves"].dropna()  # cut where fewer than 10 are at risk in start (about 7 years)
    assert 6 < c["years_since_start"].max() < 8 and cr["curves"]["cif_growth"].isna().any()
    assert (np.diff(c["cif_growth"]) >= -1e-12).all() and (c["cif_growth"] + c["cif_closed"] <= 1 + 1e-12).all()


def test_state_occupation_consistent_with_kaplan_meier(data, soj):
    occ = ms.state_occupation(soj, [0.0, 1.0, 3.0, 5.0])
    assert np.allclose(occ[list(ms.STATES)].sum(axis=1), 1.0)
    km = sv.km_table(sv.durations(data.initiatives)).iloc[0]
    for t in (1, 3, 5):
        p_closed = float(occ.loc[occ["years_since_founding"] == t, "closed"].iloc[0])
        assert p_closed == pytest.approx(1 - km[f"surv_{t}y"], abs=0.015)
        assert 1 - p_closed == pytest.approx(TRUTH["derived"][f"survival_{t}y"], abs=0.03)
    assert occ.loc[0, "start"] == pytest.approx(0.30, abs=0.03)  # share founded in start


def test_nelson_aalen_slopes_match_rates(soj):
    curves = ms.nelson_aalen_transitions(soj)
    c = curves["start -> growth"]
    at2 = float(c.loc[c["timeline"] <= 2.0, "cumulative_hazard"].iloc[-1])
    assert at2 / 2.0 == pytest.approx(TRUTH["transitions"]["start_to_growth"], rel=0.1)


def test_poisson_interval_exact():
    lo, hi = ms.poisson_interval(np.array([0, 5]), np.array([10.0, 10.0]))
    assert lo[0] == 0 and hi[0] == pytest.approx(0.3689, abs=1e-4)
    assert lo[1] == pytest.approx(0.16235, abs=1e-4) and hi[1] == pytest.approx(1.16683, abs=1e-4)


def test_small_province_runs(data):
    d = data.filter(province="Zeeland")
    s = ms.sojourns(d.initiatives, d.phases)
    cr = ms.competing_risks_from_start(s, n_boot=50, seed=1, min_at_risk=0)
    assert cr["n"] == len(ms.start_cohort(s)) and 0 <= cr["p_growth_low"] <= cr["p_growth"] <= cr["p_growth_high"] <= 1
    assert len(ms.transition_rates(s)) > 0
    # with the default threshold fewer than 10 remain in start before 3 years: nothing to publish there
    cut = ms.competing_risks_from_start(s, n_boot=50, seed=1)
    assert cut["window"][1] < 3 and np.isnan(cut["p_growth"]) and np.isnan(cut["p_close_high"])
    assert sv.verdict_few_move_on(cut).verdict == "not_testable"


def test_nelson_aalen_figure_skips_small_risk_sets_and_cuts_curves(soj):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = ms.nelson_aalen_transitions(soj)
    assert {"at_risk", "observed"} <= set(curves["mature -> closed"].columns)
    m = 600  # mature has 552 stays at risk: never reaches 600
    assert curves["mature -> closed"]["at_risk"].max() < m
    fig = ms.plot_nelson_aalen(curves, max_years=30, min_group_size=m)
    labels = [ln.get_label() for ax in fig.axes for ln in ax.lines]
    mature_closed, start_growth = ms._transition_label("mature -> closed", "en"), ms._transition_label("start -> growth", "en")
    assert mature_closed not in labels and start_growth in labels
    note = " ".join(t.get_text() for t in fig.texts)
    assert mature_closed in note and f"at least {m}" in note
    c = curves["start -> growth"]
    end = ms.risk_window(c.set_index("timeline"), m)[1]
    line = next(ln for ax in fig.axes for ln in ax.lines if ln.get_label() == start_growth)
    assert max(line.get_xdata()) == pytest.approx(end)
    assert c.loc[c["timeline"] == end, "at_risk"].iloc[0] < m
    plt.close(fig)


def test_phase_on_same_day_takes_the_later_phase():
    from maexlab.data.phases import phase_on

    ev = pd.DataFrame({"initiative_id": ["a", "b"], "on": pd.to_datetime(["2019-01-01", "2019-01-01"])})
    for order in (["growth", "start", "plan"], ["start", "growth", "plan"], ["plan", "growth", "start"]):
        ph = pd.DataFrame(
            {
                "initiative_id": ["a", "a", "a", "b", "b"],
                "phase": [*order, "closed", "mature"],
                "entered_on": pd.to_datetime(
                    [{"plan": "2015-01-01"}.get(p, "2018-01-01") for p in order] + ["2018-05-01", "2018-05-01"]
                ),
            }
        )
        assert phase_on(ph, ev, "on").tolist() == ["growth", "closed"], order


# --- small risk sets: competing risks and state occupation are cut like the KM curves -----------


def _thin_tail_sojourns() -> pd.DataFrame:
    """15 initiatives enter start at founding; 12 leave it by 1.6 years (even: growth, odd:
    closed), their growth stays censored half a year later; 3 stay in start until 5, 6 and 7
    years: the tail has 3 at risk."""
    rows = []
    for i in range(12):
        t = 0.5 + 0.1 * i
        nxt = "growth" if i % 2 == 0 else "closed"
        rows.append((f"i{i}", "start", 0.0, t, nxt))
        if nxt == "growth":
            rows.append((f"i{i}", "growth", t, t + 0.5, "censored"))
    for i, end in zip((12, 13, 14), (5.0, 6.0, 7.0), strict=True):
        rows.append((f"i{i}", "start", 0.0, end, "closed" if i == 13 else "censored"))
    s = pd.DataFrame(rows, columns=["initiative_id", "phase", "t_enter", "t_exit", "next"])
    return s.assign(entry=0.0)


def test_competing_risks_stop_where_fewer_than_min_group_size_are_at_risk():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = _thin_tail_sojourns()
    cr = ms.competing_risks_from_start(s, horizon=3.0, n_boot=20, seed=1, min_at_risk=10)
    # 15 at risk until 0.5 y; at 1.0 y 10 remain (the one leaving then included), at 1.1 y 9
    assert cr["window"] == pytest.approx((0.0, 1.1))
    c = cr["curves"]
    tail = c["years_since_start"] >= 1.1
    assert c.loc[tail, ["cif_growth", "cif_closed", "cif_growth_high", "cif_closed_low"]].isna().all().all()
    assert c.loc[~tail, ["cif_growth", "cif_closed"]].notna().all().all()
    assert np.isnan(cr["p_growth"]) and np.isnan(cr["p_close"])  # 3 years lies in the tail of 3 at risk
    assert sv.verdict_few_move_on(cr).verdict == "not_testable"
    fig = ms.plot_competing_risks(cr)
    xs = [max(ln.get_xdata()) for ln in fig.axes[0].lines if ln.get_label().startswith(("moved", "closed"))]
    assert xs and max(xs) == pytest.approx(1.1)
    assert any("at least 10" in t.get_text() for t in fig.texts)
    plt.close(fig)
    # no threshold: the whole curve, as before
    full = ms.competing_risks_from_start(s, horizon=3.0, n_boot=20, seed=1, min_at_risk=0)
    assert full["curves"]["cif_growth"].notna().all() and full["p_growth"] == pytest.approx(6 / 15)


def test_state_occupation_rows_blank_where_few_are_at_risk():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = _thin_tail_sojourns()
    times = np.round(np.arange(0, 8.01, 0.1), 2)
    occ = ms.state_occupation(s, times, min_at_risk=10)
    full = ms.state_occupation(s, times, min_at_risk=0)
    assert full[list(ms.STATES)].notna().all().all()
    shown = occ["closed"].notna()
    # under observation at 1.2 y: 15 less those closed at 0.6, 0.8, 1.0 and censored at 1.0 = 11;
    # at 1.3 y (a transition) 9, so the curve ends there and the tail (3 at risk) is blank
    assert occ.loc[shown, "years_since_founding"].max() == pytest.approx(1.2)
    assert occ.loc[occ["years_since_founding"] == 1.2, "at_risk"].iloc[0] == 11
    assert (occ.loc[shown, "at_risk"] >= 10).all()
    tail = occ["years_since_founding"] >= 1.3
    assert occ.loc[tail, [*ms.STATES, "at_risk"]].isna().all().all()  # incl. the tail with 3 at risk
    pd.testing.assert_frame_equal(occ.loc[shown, list(ms.STATES)], full.loc[shown, list(ms.STATES)])
    fig = ms.plot_state_occupation(occ, min_group_size=10)
    drawn = fig.axes[0].collections[0].get_paths()[0].vertices[:, 0]
    assert drawn.max() == pytest.approx(1.2)
    assert any("at least 10" in t.get_text() for t in fig.texts)
    plt.close(fig)
