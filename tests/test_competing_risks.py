"""Tests for maexlab.survival.competing_risks: crprep weights against the Aalen-Johansen estimate,
the weighted Cox fit against lifelines, recovery of a planted subdistribution hazard ratio with and
without delayed entry, Gray's test under the null and under a planted difference, and R cmprsk's
published results on the bmtcrr data (tests/reference/cmprsk_bmtcrr.py)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference import cmprsk_bmtcrr as ref

import maexlab
from maexlab.survival import competing_risks as cr
from maexlab.survival.multistate import aalen_johansen, sojourns, start_cohort

REFERENCE = Path(__file__).resolve().parent / "reference"
TRUTH = {"z1": 0.5, "z2": -0.5}  # simulate_fine_gray's default beta1


def _tied(entry_max: float, seed: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated competing-risks data rounded to 0.1 so that events, censorings and entries tie."""
    d = cr.simulate_fine_gray(500, entry_max=entry_max, seed=seed)
    dur = np.round(d["duration"].to_numpy(), 1) + 0.1
    ent = np.round(d["entry"].to_numpy(), 1)
    keep = dur > ent
    return dur[keep], d["cause"].to_numpy()[keep], ent[keep]


# --- (a) the weights: 1 - weighted product limit = Aalen-Johansen ------------------------------


@pytest.mark.parametrize("entry_max", [0.0, 1.0], ids=["right-censored", "delayed-entry"])
@pytest.mark.parametrize("cause", [1, 2])
def test_weighted_product_limit_equals_aalen_johansen(entry_max, cause):
    dur, c, ent = _tied(entry_max)
    assert len(np.unique(dur)) < len(dur)  # ties are present
    entry = ent if entry_max > 0 else None
    prep = cr.crprep(dur, c, entry, cause_of_interest=cause)
    times = np.unique(np.concatenate([dur, ent, [0.05, 1e3]]))
    np.testing.assert_allclose(
        cr.cumulative_incidence_from_weights(prep, times), aalen_johansen(dur, c, entry, times)[cause], atol=1e-12
    )


def test_truncation_weight_is_the_reverse_time_product_limit_of_entry():
    """weight / weight_censoring equals H(t-)/H(T-), H computed here directly from its definition."""
    dur, c, ent = _tied(1.0, seed=7)
    prep = cr.crprep(dur, c, ent)
    later = prep[prep["count"] > 1]
    assert len(later) > 50
    v = np.unique(ent)
    after = np.array([np.sum((ent <= a) & (dur > a)) for a in v])
    entering = np.array([np.sum(ent == a) for a in v])

    def h(t: float) -> float:
        s = v >= t
        return float(np.prod(1 - entering[s] / after[s]))

    event_time = dict(enumerate(dur))
    expected = [h(t) / h(event_time[i]) for i, t in zip(later["id"], later["stop"], strict=True)]
    np.testing.assert_allclose(later["weight_truncation"], expected, rtol=1e-12)
    np.testing.assert_allclose(later["weight"], later["weight_censoring"] * later["weight_truncation"], rtol=1e-12)


def test_crprep_rows_follow_mstate():
    p = cr.crprep([1.0, 2.0, 3.0, 4.0, 5.0], [2, 0, 1, 2, 1], [0.0, 0.0, 0.5, 0.0, 0.0], ids=list("abcde"))
    # a competing event stays in the risk set up to the last event of interest; others have one row
    assert p.groupby("id").size().to_dict() == {"a": 2, "b": 1, "c": 1, "d": 2, "e": 1}
    a = p[p["id"] == "a"]
    assert a[["start", "stop"]].to_numpy().tolist() == [[0.0, 1.0], [1.0, 5.0]]  # rows merged: weight constant
    assert a["event"].sum() == 0 and p["event"].sum() == 2
    # censoring at 2 among 4 under observation (c entered at 0.5) leaves 3 of 4: G(5-)/G(1-) = 3/4
    assert a["weight"].iloc[1] == pytest.approx(0.75)
    assert (p.loc[p["count"] == 1, "weight"] == 1).all()


def test_crprep_rejects_bad_rows():
    with pytest.raises(ValueError, match="row 1: duration 1 is not after entry 2"):
        cr.crprep([1.0, 1.0], [1, 0], [0.0, 2.0])
    with pytest.raises(ValueError, match="cause: row 0"):
        cr.crprep([1.0, 2.0], [-1, 0])
    with pytest.raises(ValueError, match="duration: row 1"):
        cr.crprep([1.0, np.nan], [1, 0])


def test_crprep_refuses_weights_after_everyone_at_risk_failed():
    # the only subject at risk fails at 1 (competing); others enter at 2: S = 0, later weights undefined
    with pytest.raises(ValueError, match="everyone at risk at 1 had an event"):
        cr.crprep([1.0, 3.0, 4.0], [2, 1, 0], [0.0, 2.0, 2.0])


# --- the weighted Cox fit ------------------------------------------------------------------------


def test_fine_gray_equals_lifelines_weighted_cox_on_crprep_rows():
    from lifelines import CoxTimeVaryingFitter

    d = cr.simulate_fine_gray(500, entry_max=1.0, seed=3)  # continuous times: Breslow = Efron
    fit = cr.fine_gray(d["duration"], d["cause"], d["entry"], d[["z1", "z2"]])
    prep = cr.crprep(d["duration"], d["cause"], d["entry"], covariates=d[["z1", "z2"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctv = CoxTimeVaryingFitter().fit(
            prep[["id", "start", "stop", "event", "weight", "z1", "z2"]],
            event_col="event",
            start_col="start",
            stop_col="stop",
            weights_col="weight",
            id_col="id",
        )
    np.testing.assert_allclose(fit.summary["coef"], ctv.summary["coef"], atol=1e-6)
    np.testing.assert_allclose(fit.summary["se_model"], ctv.summary["se(coef)"], rtol=1e-5)


def test_robust_errors_equal_lifelines_sandwich_without_competing_events():
    """With no competing event the model is a Cox model; its robust errors equal lifelines'."""
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, 2))
    t, cens = rng.exponential(np.exp(-z @ [0.5, -0.3])), rng.exponential(1.5, 300)
    frame = pd.DataFrame({"d": np.minimum(t, cens), "e": (t <= cens).astype(int), "x1": z[:, 0], "x2": z[:, 1]})
    fit = cr.fine_gray(frame["d"], frame["e"], None, frame[["x1", "x2"]])
    ref_fit = CoxPHFitter().fit(frame, "d", "e", robust=True, fit_options={"precision": 1e-12})
    np.testing.assert_allclose(fit.summary["coef"], ref_fit.summary["coef"], atol=1e-6)
    np.testing.assert_allclose(fit.summary["se"], ref_fit.summary["se(coef)"], rtol=1e-5)


# --- (b) recovery of a planted subdistribution hazard ratio ------------------------------------


@pytest.mark.parametrize("entry_max", [0.0, 1.0], ids=["right-censored", "delayed-entry"])
def test_fine_gray_recovers_planted_log_shr(entry_max):
    d = cr.simulate_fine_gray(3000, entry_max=entry_max, seed=11)
    if entry_max > 0:
        assert len(d) < 3000 and (d["entry"] > 0).mean() > 0.3  # truncation happened
    fit = cr.fine_gray(d["duration"], d["cause"], d["entry"], d[["z1", "z2"]])
    assert fit.converged and fit.competing > 0 and fit.censored > 0
    s = fit.summary
    for name, beta in TRUTH.items():
        # within 3 robust standard errors (a 99.7% band: one fixed seed must not fail by chance)
        assert abs(s.loc[name, "coef"] - beta) < 3 * s.loc[name, "se"], (name, s.loc[name].to_dict())
        assert s.loc[name, "se"] < 0.08  # a large sample: the band is narrow
        assert s.loc[name, "lo"] < s.loc[name, "shr"] < s.loc[name, "hi"]


def test_ignoring_competing_events_is_not_the_same_model():
    """The cause-specific Cox model (competing events censored) estimates another quantity: under
    the Fine-Gray design its log-HR for z2 is far from the planted log-SHR, which fine_gray recovers."""
    from lifelines import CoxPHFitter

    d = cr.simulate_fine_gray(2000, seed=12)
    cs = CoxPHFitter().fit(d.assign(event=(d["cause"] == 1).astype(int))[["duration", "event", "z1", "z2"]], "duration", "event")
    fg = cr.fine_gray(d["duration"], d["cause"], None, d[["z1", "z2"]])
    fg_error = abs(fg.summary.loc["z2", "coef"] - TRUTH["z2"])
    cs_error = abs(cs.summary.loc["z2", "coef"] - TRUTH["z2"])
    assert fg_error < 2.5 * fg.summary.loc["z2", "se"] and cs_error > 0.1 and cs_error > 3 * fg_error


def test_fine_gray_rejects_bad_covariates():
    d = cr.simulate_fine_gray(50, seed=1)
    bad = d[["z1", "z2"]].copy()
    bad.loc[3, "z2"] = np.nan
    with pytest.raises(ValueError, match="column 'z2', row 3"):
        cr.fine_gray(d["duration"], d["cause"], None, bad)
    with pytest.raises(ValueError, match="constant"):
        cr.fine_gray(d["duration"], d["cause"], None, d[["z1"]].assign(z1=1.0))
    with pytest.raises(ValueError, match="no events of cause 3"):
        cr.fine_gray(d["duration"], d["cause"], None, d[["z1"]], cause_of_interest=3)


def test_fine_gray_from_start_on_embedded_data():
    data = maexlab.load("embedded")
    stays = sojourns(data.initiatives, data.phases)
    covariates = data.initiatives[["initiative_id"]].assign(social=(data.initiatives["value_model"] == "social").astype(float))
    out = cr.fine_gray_from_start(stays, covariates, columns=["social"], outcome="closed")
    cohort = start_cohort(stays)
    assert out["events"] == int((cohort["cause"] == 2).sum())
    assert out["events"] > 100  # the embedded data has closures from start enough for a fit
    assert out["fit"].converged and out["n"] == len(cohort) - out["dropped_missing"]
    assert out["fit"].summary.loc["social", "lo"] < out["fit"].summary.loc["social", "hi"]
    few = cr.fine_gray_from_start(stays, covariates, columns=["social"], min_events=10**6)
    assert "fit" not in few and "at least 1000000" in few["skipped"]


# --- (c) Gray's test -----------------------------------------------------------------------------


def test_gray_test_null_and_planted_difference():
    null = cr.simulate_fine_gray(800, beta1=(0.0, -0.5), beta2=(0.0, 0.5), seed=21)
    r0 = cr.gray_test(null["duration"], null["cause"], null["z1"])
    assert r0.df == 1 and r0.p_value > 0.2, r0
    planted = cr.simulate_fine_gray(800, beta1=(0.8, -0.5), seed=21)
    r1 = cr.gray_test(planted["duration"], planted["cause"], planted["z1"])
    assert r1.p_value < 1e-4
    assert r1.groups["n"].sum() == len(planted)


def test_gray_test_three_groups_and_strata():
    d = cr.simulate_fine_gray(600, beta1=(0.0, 0.0), seed=22)
    three = pd.cut(d["z2"], [-np.inf, -0.5, 0.5, np.inf], labels=["low", "mid", "high"]).astype(str)
    r = cr.gray_test(d["duration"], d["cause"], three, strata=d["z1"])
    assert r.df == 2 and r.variance.shape == (2, 2) and 0 <= r.p_value <= 1


def test_gray_test_without_competing_events_is_a_logrank_test():
    """With one cause, R_k = n_k and the score is observed minus expected; Gray's variance estimator
    differs from the hypergeometric one of the log-rank test only slightly."""
    from lifelines.statistics import logrank_test

    rng = np.random.default_rng(0)
    g = rng.integers(0, 2, 400)
    t, cens = rng.exponential(np.where(g == 1, 1.2, 1.0)), rng.exponential(2.0, 400)
    d, e = np.minimum(t, cens), (t <= cens).astype(int)
    lr = logrank_test(d[g == 0], d[g == 1], e[g == 0], e[g == 1])
    assert cr.gray_test(d, e, g).statistic == pytest.approx(lr.test_statistic, rel=0.01)


def test_gray_test_refuses_delayed_entry():
    d = cr.simulate_fine_gray(200, entry_max=1.0, seed=1)
    with pytest.raises(ValueError, match="delayed entry"):
        cr.gray_test(d["duration"], d["cause"], d["z1"], entry=d["entry"])
    with pytest.raises(ValueError, match="at least two"):
        cr.gray_test(d["duration"], d["cause"], np.zeros(len(d)))


# --- R cmprsk on bmtcrr (tests/reference/cmprsk_bmtcrr.py) --------------------------------------


@pytest.fixture(scope="module")
def bmtcrr():
    return pd.read_csv(REFERENCE / "bmtcrr.csv")


@pytest.mark.parametrize("cause", sorted(ref.GRAY_TEST_BY_D))
def test_gray_test_matches_cmprsk_cuminc(bmtcrr, cause):
    r = cr.gray_test(bmtcrr["ftime"], bmtcrr["Status"], bmtcrr["D"], cause_of_interest=cause)
    expected = ref.GRAY_TEST_BY_D[cause]
    assert r.df == expected["df"]
    assert r.statistic == pytest.approx(expected["stat"], abs=5e-7)
    assert r.p_value == pytest.approx(expected["p"], abs=5e-8)


def test_cumulative_incidence_by_group_matches_cmprsk_cuminc(bmtcrr):
    for (group, cause), expected in ref.CUMINC_BY_D.items():
        g = bmtcrr[bmtcrr["D"] == group]
        prep = cr.crprep(g["ftime"], g["Status"], cause_of_interest=cause)
        got = cr.cumulative_incidence_from_weights(prep, ref.CUMINC_TIMES)
        shown = [i for i, v in enumerate(expected) if v is not None]
        np.testing.assert_allclose(got[shown], [expected[i] for i in shown], atol=5e-8)


def test_fine_gray_matches_cmprsk_crr(bmtcrr):
    covs = pd.DataFrame({name: bmtcrr[name].map(codes) for name, codes in ref.CRR_CODES.items()})
    covs = covs.assign(Age=bmtcrr["Age"])[list(ref.CRR)]
    fit = cr.fine_gray(bmtcrr["ftime"], bmtcrr["Status"], None, covs)
    s = fit.summary
    for name, expected in ref.CRR.items():
        assert s.loc[name, "coef"] == pytest.approx(expected["coef"], abs=5e-5), name
        assert s.loc[name, "se"] == pytest.approx(expected["se"], abs=2e-4), name
