"""Tests for maexlab.survival: recovery of the planted closure effects, delayed-entry bias,
a published Cox result (Rossi), the log-rank and Schoenfeld implementations against lifelines,
and behaviour on partial data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import maexlab
from maexlab import survival as sv
from maexlab.data.loader import EMBEDDED_DIR, MaexData

TRUTH = json.loads((Path(EMBEDDED_DIR) / "planted_effects.json").read_text())


@pytest.fixture(scope="module")
def data() -> MaexData:
    return maexlab.load("embedded")


@pytest.fixture(scope="module")
def cp(data):
    return sv.counting_process(data.initiatives, data.phases, data.funding, data.financials)


@pytest.fixture(scope="module")
def cox(cp):
    return sv.fit_cox_tv(cp)[1].set_index("covariate")


# --- delayed entry ----------------------------------------------------------------------------


def test_ignoring_delayed_entry_inflates_survival(data):
    dur = sv.durations(data.initiatives)
    bias = sv.delayed_entry_bias(dur).set_index("estimate")
    with_entry = bias.loc["delayed_entry"]
    without = bias.loc["ignoring_delayed_entry"]
    assert without["surv_5y"] > with_entry["surv_5y"] + 0.03
    true_s5 = TRUTH["derived"]["survival_5y"]
    assert with_entry["low"] <= true_s5 <= with_entry["high"]
    assert not (without["low"] <= true_s5 <= without["high"])


def test_km_table_matches_truth_at_1_3_5_years(data):
    km = sv.km_table(sv.durations(data.initiatives)).iloc[0]
    for t in (1, 3, 5):
        assert km[f"surv_{t}y_low"] <= TRUTH["derived"][f"survival_{t}y"] <= km[f"surv_{t}y_high"], t
    assert km["rmst_5y_low"] < km["rmst_5y"] < km["rmst_5y_high"] < 5


# --- Cox with time-varying covariates: recovery -----------------------------------------------


def test_planted_hazard_ratios_inside_intervals(cox):
    hr = TRUTH["closure_hazard_ratio"]
    for key, truth in (
        ("org_strengthening_received", hr["organisational_strengthening_received"]),
        ("multi_year_received", hr["multi_year_received"]),
    ):
        row = cox.loc[key]
        assert row["hr_low"] <= truth <= row["hr_high"], (key, row.to_dict())
        assert row["hr_high"] < 1
    for vm in ("hybrid", "commercial"):  # planted HR 1
        assert cox.loc[vm, "hr_low"] <= hr["value_model"][vm] <= cox.loc[vm, "hr_high"]
    for nothing in ("subsidy_share", "log_volunteers_per_fte"):  # no planted effect
        assert cox.loc[nothing, "hr_low"] <= 1 <= cox.loc[nothing, "hr_high"]


def test_poisson_baseline_rates_recover_phase_closure_hazards(cp):
    covs = sv.cox_covariates(cp)
    t = sv.poisson_closure_model(cp, covs).set_index("term")
    for phase, rate in TRUTH["closure_hazard"].items():
        assert t.loc[f"rate_{phase}", "low"] <= rate <= t.loc[f"rate_{phase}", "high"], phase


def test_no_effect_data_intervals_cover_one():
    from maexlab.data import synth

    tables, truth = synth.generate(20261128, effects=False)
    assert truth["closure_hazard_ratio"]["organisational_strengthening_received"] == 1.0
    cpn = sv.counting_process(tables["initiatives"], tables["phases"], tables["funding"], tables["financials"])
    t = sv.fit_cox_tv(cpn)[1].set_index("covariate")
    for key in ("org_strengthening_received", "multi_year_received"):
        assert t.loc[key, "hr_low"] <= 1.0 <= t.loc[key, "hr_high"], t.loc[key].to_dict()
    v = sv.verdict_hazard_ratio(t.reset_index(), "org_strengthening_received", "claim")
    assert v.verdict == "inconclusive" and v.reasons  # an interval covering 1 is no refutation


def test_counting_process_starts_at_entry_and_switches_at_decision(tiny_dataset):
    d = maexlab.load(tiny_dataset)
    cp = sv.counting_process(d.initiatives, d.phases, d.funding, d.financials)
    i1 = cp[cp["initiative_id"] == "I1"]
    # I1 founded 2015-03-01, joined 2016-01-01: first interval starts at entry, not 0
    assert i1["start"].iloc[0] == pytest.approx((pd.Timestamp("2016-01-01") - pd.Timestamp("2015-03-01")).days / 365.25)
    # partial organisational-strengthening multi-year grant decided 2019-04-01
    t_dec = (pd.Timestamp("2019-04-01") - pd.Timestamp("2015-03-01")).days / 365.25
    assert (i1.loc[i1["start"] >= t_dec - 1e-9, "org_strengthening_received"] == 1).all()
    assert (i1.loc[i1["stop"] <= t_dec + 1e-9, "org_strengthening_received"] == 0).all()
    assert (i1["multi_year_received"] == i1["org_strengthening_received"]).all()
    assert i1["event"].sum() == 0
    i2 = cp[cp["initiative_id"] == "I2"]
    assert i2["event"].tolist()[-1] == 1 and i2["event"].sum() == 1
    assert (i2["org_strengthening_received"] == 0).all()
    assert (cp["stop"] > cp["start"]).all()
    # phase switches at 2018-01-01 for I2 (plan -> start)
    t_start = (pd.Timestamp("2018-01-01") - pd.Timestamp("2017-05-01")).days / 365.25
    assert (i2.loc[i2["start"] >= t_start - 1e-9, "phase_start"] == 1).all()


# --- validation on published data ---------------------------------------------------------------


def test_rossi_reproduces_fox_weisberg():
    """Fox & Weisberg, 'Cox Proportional-Hazards Regression for Survival Data in R' (appendix to
    An R Companion to Applied Regression): coefficients of coxph(Surv(week, arrest) ~ fin + age +
    race + wexp + mar + paro + prio) on the Rossi recidivism data (Efron ties)."""
    from lifelines import CoxPHFitter
    from lifelines.datasets import load_rossi

    published = {"fin": -0.379, "age": -0.057, "race": 0.314, "wexp": -0.150, "mar": -0.434, "paro": -0.085, "prio": 0.091}
    cph = CoxPHFitter().fit(load_rossi(), "week", "arrest")
    for k, v in published.items():
        assert round(float(cph.params_[k]), 3) == pytest.approx(v, abs=1e-3), k
    # same model through the time-varying fitter (one interval per person) gives the same answer
    r = load_rossi().reset_index().rename(columns={"index": "initiative_id", "week": "stop", "arrest": "event"})
    r["start"] = 0.0
    ctv, table = sv.fit_cox_tv(r, list(published))
    assert table.set_index("covariate")["coef"].round(3).to_dict() == pytest.approx(published, abs=1e-3)


def test_schoenfeld_test_matches_lifelines_without_entry():
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    rng = np.random.default_rng(1)
    n = 400
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.5, n).astype(float)
    t = rng.exponential(1 / np.exp(0.5 * x1 - 0.3 * x2))
    c = rng.exponential(2.0, n)
    df = pd.DataFrame({"duration": np.minimum(t, c), "event": (t <= c).astype(float), "x1": x1, "x2": x2})
    cph = CoxPHFitter().fit(df, "duration", "event")
    ref = proportional_hazard_test(cph, df, time_transform="rank").summary
    ours = sv.schoenfeld_test(df, cph, ["x1", "x2"]).set_index("covariate")
    for k in ("x1", "x2"):
        assert ours.loc[k, "test_statistic"] == pytest.approx(ref.loc[k, "test_statistic"], rel=1e-6)


def test_baseline_cox_stratifies_a_failing_covariate():
    rng = np.random.default_rng(2)
    n = 1500
    g = rng.binomial(1, 0.5, n).astype(float)
    # group 1: high hazard early, low late (crossing hazards) -> proportional hazards fail
    t = np.where(g == 1, rng.weibull(0.5, n) * 1.0, rng.weibull(2.0, n) * 1.5)
    z = rng.normal(size=n)
    c = rng.uniform(0.5, 4, n)
    d = pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c, "entry": 0.0, "g": g, "z": z})
    out = sv.baseline_cox(d, ["g", "z"])
    assert out["failed"] == ["g"]
    assert out["action"].startswith("stratified by g")
    assert out["stratified_ph_test"]["ph_ok"].all()
    assert list(out["stratified_table"]["covariate"]) == ["z"]


def test_logrank_equals_lifelines_without_entry(data):
    from lifelines.statistics import multivariate_logrank_test

    dur = sv.durations(data.initiatives)
    ours = sv.logrank(dur, "value_model", entry=False)
    ref = multivariate_logrank_test(dur["duration"], dur["value_model"], dur["event"])
    assert ours["test_statistic"] == pytest.approx(ref.test_statistic, rel=1e-6)
    assert ours["p_value"] == pytest.approx(ref.p_value, rel=1e-6)
    pairs = sv.pairwise_logrank(dur, "value_model")
    assert len(pairs) == 3 and (pairs["p_holm"] >= pairs["p_value"]).all()


def test_rmst_variance_close_to_bootstrap(data):
    from lifelines.utils import restricted_mean_survival_time

    dur = sv.durations(data.initiatives).iloc[:800]
    var = sv.rmst_variance(sv.km_fit(dur), 5.0)
    rng = np.random.default_rng(3)
    boots = []
    for _ in range(60):
        b = dur.iloc[rng.integers(0, len(dur), len(dur))]
        boots.append(restricted_mean_survival_time(sv.km_fit(b), t=5.0))
    assert np.sqrt(var) == pytest.approx(np.std(boots), rel=0.35)


# --- hazard after start, verdicts -----------------------------------------------------------------


def test_valley_of_death_and_verdicts(data):
    st = sv.start_to_closure(data.initiatives, data.phases)
    h = sv.smoothed_hazard(st, 1.0)
    assert (h["low"] <= h["hazard"]).all() and (h["hazard"] <= h["high"]).all()
    bands = sv.piecewise_hazard(st)
    v = sv.verdict_valley(h, bands)
    # the embedded hazard is highest at the edge of the well-estimated window while the crude
    # rates decline: no peak inside it, so no valley of death is claimed (it was "supported")
    assert v.verdict == "inconclusive" and v.reasons[0].key == "survival.reasons.valley_peak_at_edge"
    assert v.rule_values["peak_years"] == pytest.approx(1.0, abs=0.05)
    assert bands["hazard"].is_monotonic_decreasing
    km = sv.km_table(sv.durations(data.initiatives))
    assert sv.verdict_cbs(km).verdict == "supported"  # true 5-year survival 0.604 lies in 56-65%
    low = km.assign(surv_5y=0.4, surv_5y_low=0.35, surv_5y_high=0.45)
    assert sv.verdict_cbs(low).verdict == "contradicted"
    assert sv.verdict_cbs(None).verdict == "not_testable"
    assert sv.verdict_few_move_on({"n": 0}).verdict == "not_testable"
    assert sv.verdict_hazard_ratio(None, "x", "c").verdict == "not_testable"


# --- partial data -------------------------------------------------------------------------------


def test_partial_data_without_phases_and_funding(data):
    tables = dict(data.tables)
    tables["phases"] = None
    tables["funding"] = None
    part = MaexData(tables, source="test", synthetic=True)
    needs_cox = {"initiatives": ("founded_on", "observed_until"), "funding": ("purpose", "status", "decided_on", "multi_year")}
    assert part.missing(needs_cox) == ["table funding"]
    assert part.missing({"phases": ("phase", "entered_on")}) == ["table phases"]
    # KM from founded/closed still works
    km = sv.km_table(sv.durations(part.initiatives), "value_model")
    assert km["surv_5y"].notna().all()
    # counting process without phases or funding: only the other covariates
    cpp = sv.counting_process(part.initiatives, None, None, part.financials)
    assert "org_strengthening_received" not in cpp.columns and "phase_start" not in cpp.columns
    assert "subsidy_share" in cpp.columns
    # no joined_on column at all: observed from founding
    ini = part.initiatives.drop(columns="joined_on")
    assert (sv.durations(ini)["entry"] == 0).all()


# --- review follow-up: verdict rules, time split, look-ahead, dropped rows, figures --------------


def _km_row(s, lo, hi):
    return pd.DataFrame({"surv_5y": [s], "surv_5y_low": [lo], "surv_5y_high": [hi]})


def test_verdict_cbs_is_an_equivalence_rule():
    # CBS range 56%-65%, widened by 5 pp to 51%-70%
    assert sv.verdict_cbs(_km_row(0.59, 0.5675, 0.6122)).verdict == "supported"
    assert sv.verdict_cbs(_km_row(0.60, 0.51, 0.70)).verdict == "supported"  # bounds inclusive
    assert sv.verdict_cbs(_km_row(0.40, 0.35, 0.45)).verdict == "contradicted"  # wholly below 56%
    assert sv.verdict_cbs(_km_row(0.80, 0.76, 0.84)).verdict == "contradicted"  # wholly above 65%
    # a wide interval overlaps the CBS range but says nothing: inconclusive, with the reason
    wide = sv.verdict_cbs(_km_row(0.60, 0.40, 0.80))
    assert wide.verdict == "inconclusive" and wide.reasons and wide.rule == "survival.rules.cbs"
    assert wide.rule_values == {"lo": 0.51, "hi": 0.70, "outer_lo": 0.56, "outer_hi": 0.65}
    # straddling 51%:
    assert sv.verdict_cbs(_km_row(0.55, 0.50, 0.60)).verdict == "inconclusive"
    # below the widened range but touching the CBS range is not contradicted either
    assert sv.verdict_cbs(_km_row(0.52, 0.49, 0.565)).verdict == "inconclusive"


def test_time_split_puts_the_interval_starting_at_the_cut_after_it(data):
    cut_day = round(5 * 365.25)
    assert cut_day / 365.25 < 5  # the old comparison in years put this interval before the cut
    assert sv.after_cut(np.array([cut_day - 1, cut_day, cut_day + 1]) / 365.25, 5.0).tolist() == [0, 1, 1]
    sub = data.initiatives.iloc[:300]
    cp5 = sv.counting_process(sub, data.phases, data.funding, data.financials, extra_cuts=[5.0])
    at_cut = np.isclose(cp5["start"] * 365.25, cut_day)
    assert at_cut.any() and (sv.after_cut(cp5.loc[at_cut, "start"], 5.0) == 1).all()
    ends_at_cut = np.isclose(cp5["stop"] * 365.25, cut_day)
    assert (sv.after_cut(cp5.loc[ends_at_cut, "start"], 5.0) == 0).all()


def test_verdict_valley_when_early_bands_are_suppressed(data):
    st = sv.start_to_closure(data.initiatives, data.phases)
    h = sv.smoothed_hazard(st, 1.0)
    bands = sv.piecewise_hazard(st)
    assert (bands["to_years"] > bands["from_years"]).all()
    # the notebook passes only the bands shown: every band under 3 years suppressed
    shown = bands[bands["from_years"] >= 3].reset_index(drop=True)
    v = sv.verdict_valley(h, shown)
    assert v.verdict == "not_testable" and v.reasons[0].key == "survival.reasons.valley_bands_missing"
    # masked rather than removed (statistics set to missing)
    masked = bands.copy()
    masked.loc[masked["from_years"] < 3, ["events", "hazard", "hazard_low", "hazard_high"]] = np.nan
    assert sv.verdict_valley(h, masked).verdict == "not_testable"
    # the comparison band missing
    assert sv.verdict_valley(h, bands[bands["from_years"] < 5]).verdict == "not_testable"


def _one_initiative(financial_years):
    ini = pd.DataFrame(
        {
            "initiative_id": ["a"],
            "founded_on": pd.to_datetime(["2015-01-01"]),
            "joined_on": pd.to_datetime(["2015-01-01"]),
            "closed_on": pd.to_datetime(["2021-06-01"]),
            "observed_until": pd.to_datetime(["2026-06-30"]),
        }
    )
    fin = pd.DataFrame(
        {
            "initiative_id": "a",
            "year": financial_years,
            "subsidies": [10.0 * (i + 1) for i in range(len(financial_years))],
            "revenue": 100.0,
        }
    )
    return ini, fin


def test_subsidy_share_is_carried_forward_never_taken_from_a_later_year():
    ini, fin = _one_initiative([2016, 2019])  # shares 0.1 (2016) and 0.2 (2019)
    cp = sv.counting_process(ini, financials=fin)
    year = (pd.Timestamp("2015-01-01") + pd.to_timedelta(np.round(cp["start"] * 365.25), unit="D")).dt.year
    share = dict(zip(year, cp["subsidy_share"], strict=True))
    assert np.isnan(share[2015])  # before the first year with financials: missing, not 2016's value
    assert share[2016] == pytest.approx(0.1) and share[2017] == pytest.approx(0.1) and share[2018] == pytest.approx(0.1)
    assert share[2019] == pytest.approx(0.2) and share[2021] == pytest.approx(0.2)


def test_fit_cox_tv_reports_what_it_leaves_out(cp):
    covs = sv.cox_covariates(cp)
    cpm = cp.copy()
    first_ids = cpm["initiative_id"].drop_duplicates().iloc[:40]
    gone = cpm["initiative_id"].isin(first_ids[:20])  # all intervals of 20 initiatives
    part = cpm["initiative_id"].isin(first_ids[20:]) & (cpm.groupby("initiative_id").cumcount() == 0)
    cpm.loc[gone | part, "subsidy_share"] = np.nan
    ctv, t = sv.fit_cox_tv(cpm, covs)
    dropped = ctv.dropped_.set_index("covariate")
    assert dropped.loc["subsidy_share", "intervals"] == int((gone | part).sum())
    assert dropped.loc["subsidy_share", "initiatives"] == 40
    assert dropped.loc["all", "initiatives"] == 20  # only those without any complete interval
    assert dropped.loc["all", "closures"] == int(cpm.loc[gone | part, "event"].sum())
    assert "financials" in dropped.loc["subsidy_share", "reason"]
    assert (t["intervals_dropped"] == int((gone | part).sum())).all()
    assert (t["intervals"] + t["intervals_dropped"] == len(cpm)).all()
    ctv_full, t_full = sv.fit_cox_tv(cp, covs)
    assert (t_full["intervals_dropped"] == 0).all() and ctv_full.dropped_.set_index("covariate").loc["all", "intervals"] == 0


def _ph_row(before, after, p, ok):
    return pd.DataFrame(
        [
            {
                "covariate": "x",
                "hr_before_5y": before[0],
                "hr_before_5y_low": before[1],
                "hr_before_5y_high": before[2],
                "hr_after_5y": after[0],
                "hr_after_5y_low": after[1],
                "hr_after_5y_high": after[2],
                "p_value": p,
                "ph_ok": ok,
            }
        ]
    )


def test_verdict_hazard_ratio_per_period_when_ph_fails():
    pooled = pd.DataFrame({"covariate": ["x"], "hazard_ratio": [0.7], "hr_low": [0.55], "hr_high": [0.9]})
    # PH holds: the pooled HR decides
    ok = sv.verdict_hazard_ratio(pooled, "x", "c", ph=_ph_row((0.6, 0.4, 0.9), (0.8, 0.5, 1.2), 0.3, True))
    assert ok.verdict == "supported" and ok.rule == "survival.rules.hazard_ratio"
    # PH fails, both periods below 1
    both = sv.verdict_hazard_ratio(pooled, "x", "c", ph=_ph_row((0.4, 0.3, 0.6), (0.8, 0.65, 0.95), 0.001, False))
    assert both.verdict == "supported" and both.rule == "survival.rules.hazard_ratio_periods"
    assert both.rule_values["before"] == 0.4 and both.rule_values["after_hi"] == 0.95
    # PH fails, pooled below 1, one period covers 1 without contradicting
    covers = sv.verdict_hazard_ratio(pooled, "x", "c", ph=_ph_row((0.4, 0.3, 0.6), (1.1, 0.8, 1.5), 0.004, False))
    assert covers.verdict == "supported"
    # PH fails, one period wholly above 1 (hazard higher later): the pooled HR hides that; undecided
    contra = sv.verdict_hazard_ratio(pooled, "x", "c", ph=_ph_row((0.3, 0.2, 0.4), (1.6, 1.2, 2.1), 1e-5, False))
    assert contra.verdict == "inconclusive" and contra.reasons[0].key == "survival.reasons.hr_changes_direction"
    # PH fails, pooled covers 1 and one period covers 1
    wide = pooled.assign(hr_high=1.1)
    assert (
        sv.verdict_hazard_ratio(wide, "x", "c", ph=_ph_row((0.5, 0.3, 0.8), (1.0, 0.7, 1.4), 0.005, False)).verdict
        == "inconclusive"
    )
    # both periods wholly above 1: contradicted
    above = sv.verdict_hazard_ratio(pooled, "x", "c", ph=_ph_row((1.4, 1.1, 1.8), (1.6, 1.2, 2.1), 0.004, False))
    assert above.verdict == "contradicted"
    # no PH check: decided from the pooled HR, and the rule and the reason say the check is missing
    unchecked = sv.verdict_hazard_ratio(pooled, "x", "c", ph=None)
    assert unchecked.verdict == "supported" and unchecked.rule == "survival.rules.hazard_ratio_unchecked"
    assert unchecked.reasons[0].key == "survival.reasons.ph_not_computed"


def test_ph_check_time_split_reports_both_periods_with_intervals(data):
    sub = data.initiatives.iloc[:800]
    cp5 = sv.counting_process(sub, data.phases, data.funding, data.financials, extra_cuts=[5.0])
    ph = sv.ph_check_time_split(cp5, ["org_strengthening_received", "hybrid"], cut=5.0).set_index("covariate")
    for p in ("before", "after"):
        assert (ph[f"hr_{p}_5y_low"] < ph[f"hr_{p}_5y"]).all()
        assert (ph[f"hr_{p}_5y"] < ph[f"hr_{p}_5y_high"]).all()
    assert (ph["note"] == "").all() and ph["p_value"].notna().all() and ph["checked"].all()


@pytest.fixture(scope="module")
def cp5(data):
    return sv.counting_process(data.initiatives, data.phases, data.funding, data.financials, extra_cuts=[5.0])


def test_phase_reference_has_most_person_time_and_closures_in_both_periods(cp5):
    ref = sv.phase_reference(cp5)
    years = cp5["stop"] - cp5["start"]
    person_time = {p: float(years[cp5[f"phase_{p}"] == 1].sum()) for p in ("plan", "start", "growth", "mature")}
    assert ref == max(person_time, key=person_time.get) == "growth"
    late = sv.after_cut(cp5["start"], 5.0) == 1
    in_ref = cp5[f"phase_{ref}"] == 1
    assert cp5.loc[in_ref & late, "event"].sum() > 0 and cp5.loc[in_ref & ~late, "event"].sum() > 0
    # plan, the old reference, has no closure after 5 years: it could not serve for the check
    assert cp5.loc[(cp5["phase_plan"] == 1) & late, "event"].sum() == 0
    covs = sv.cox_covariates(cp5)
    assert f"phase_{ref}" not in covs and {"phase_plan", "phase_start", "phase_mature"} <= set(covs)


def test_ph_check_time_split_tests_the_phases_against_the_reference(cp5):
    covs = sv.cox_covariates(cp5)
    ph = sv.ph_check_time_split(cp5, covs, cut=5.0).set_index("covariate")
    # start and mature have closures before and after 5 years, and so has growth, the reference
    for phase in ("phase_start", "phase_mature"):
        row = ph.loc[phase]
        assert np.isfinite(row["p_value"]) and row["note"] == "", phase
        assert row["hr_before_5y_low"] < row["hr_before_5y"] < row["hr_before_5y_high"]
        assert row["hr_after_5y_low"] < row["hr_after_5y"] < row["hr_after_5y_high"]
    # plan has no closure after 5 years: no HR there, listed as not tested
    assert np.isnan(ph.loc["phase_plan", "p_value"]) and ph.loc["phase_plan", "ph_ok"]
    assert "phase_plan after 5 y" in ph.loc["phase_plan", "note"]
    # the funding covariates are still tested
    assert ph.loc[["org_strengthening_received", "multi_year_received"], "p_value"].notna().all()
    # all four phase indicators given: the reference's is left out (else collinear), same result
    all_four = sv.ph_check_time_split(cp5, [*covs, "phase_growth"], cut=5.0).set_index("covariate")
    assert "phase_growth" not in all_four.index
    assert all_four.loc["phase_start", "p_value"] == pytest.approx(ph.loc["phase_start", "p_value"])
    # a reference with no late closures leaves every phase untested (the old set-up, plan)
    old = sv.ph_check_time_split(cp5, [c for c in sv.COX_COVARIATES if c != "phase_plan"], cut=5.0).set_index("covariate")
    assert old.loc[["phase_start", "phase_growth", "phase_mature"], "p_value"].isna().all()
    assert "reference phase (plan) after 5 y" in old.loc["phase_growth", "note"]


def test_funding_hazard_ratios_do_not_depend_on_the_phase_reference(cp):
    """Changing the phase reference re-parametrises the same model: funding HRs are unchanged."""
    new = sv.fit_cox_tv(cp)[1].set_index("covariate")
    assert sv.phase_reference(cp) == "growth" and "phase_plan" in new.index and "phase_growth" not in new.index
    plan_ref = sv.fit_cox_tv(cp, [c for c in sv.COX_COVARIATES if c != "phase_plan"])[1].set_index("covariate")
    for key in ("org_strengthening_received", "multi_year_received", "subsidy_share", "hybrid"):
        for col in ("hazard_ratio", "hr_low", "hr_high"):
            assert new.loc[key, col] == pytest.approx(plan_ref.loc[key, col], rel=1e-5), (key, col)
    # and the phase HRs are the same contrasts: start vs growth = (start vs plan) / (growth vs plan)
    ratio = plan_ref.loc["phase_start", "hazard_ratio"] / plan_ref.loc["phase_growth", "hazard_ratio"]
    assert new.loc["phase_start", "hazard_ratio"] == pytest.approx(ratio, rel=1e-4)


# --- small risk sets: the hazard after start is cut like the KM curves ---------------------------


def _thin_tail_durations() -> pd.DataFrame:
    """30 initiatives from start: 27 close between 0.1 and 2.7 years, 3 are followed to 8-9.5
    years: after about 2 years fewer than 10 remain at risk, the tail has 3."""
    dur = np.concatenate([np.round(0.1 * np.arange(1, 28), 2), [8.0, 9.0, 9.5]])
    event = np.concatenate([np.ones(27, dtype=bool), [True, False, False]])
    return pd.DataFrame({"duration": dur, "event": event, "entry": 0.0})


def test_hazard_after_start_is_cut_where_fewer_than_min_group_size_are_at_risk():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = _thin_tail_durations()
    et = sv.km_fit(d).event_table
    window = sv.risk_window(et, 10)
    assert window[1] == pytest.approx(2.2)  # 21 closed before 2.2 y: 9 at risk then
    h = sv.smoothed_hazard(d, 1.0, min_at_risk=10)
    assert len(h) and h["years"].max() + 1.0 <= window[1] + 1e-12  # whole kernel inside the window
    assert len(sv.smoothed_hazard(d, 1.0, min_at_risk=0)) > len(h)
    bands = sv.piecewise_hazard(d, min_at_risk=10).set_index("band")
    assert not bands.loc["0-1 y", "few_at_risk"] and bands.loc["0-1 y", "events"] == 10
    for band in ("2-3 y", "3-5 y", "5-10 y"):  # fewer than 10 at risk somewhere in the band
        assert bands.loc[band, "few_at_risk"]
        assert bands.loc[band, ["events", "person_years", "hazard", "hazard_low", "hazard_high"]].isna().all()
    assert bands.loc["5-10 y", "n"] == 3  # label and count stay; report.table suppresses n < 10
    assert sv.verdict_valley(h, bands.reset_index()).verdict == "not_testable"
    fig = sv.plot_smoothed_hazard(h, 1.0, bands.reset_index(), min_group_size=10)
    line = fig.axes[0].lines[0]
    assert max(line.get_xdata()) <= window[1] - 1.0 + 1e-12
    assert len(fig.axes[0].collections) >= 1 and any("at least 10" in t.get_text() for t in fig.texts)
    plt.close(fig)
    full = sv.piecewise_hazard(d, min_at_risk=0)
    assert not full["few_at_risk"].any() and full["hazard"].notna().all()


def test_km_plot_is_cut_where_few_remain_at_risk(data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dur = sv.durations(data.initiatives).iloc[:400]
    m = 50
    kmf = sv.km_fit(dur)
    window = sv.risk_window(kmf.event_table, m)
    et = kmf.event_table
    assert window is not None and et.loc[window[1], "at_risk"] < m
    assert (et.loc[(et.index >= window[0]) & (et.index < window[1]), "at_risk"] >= m).all()
    fig = sv.plot_km(dur, min_group_size=m, references=False, max_years=30)
    x = fig.axes[0].lines[0].get_xdata()
    assert max(x) == pytest.approx(window[1]) and max(x) < dur["duration"].max()
    assert any(f"at least {m}" in t.get_text() for t in fig.texts)
    plt.close(fig)
    # km_table takes the threshold too: a higher one empties more estimates
    by_cohort = sv.km_table(sv.durations(data.initiatives), "cohort", min_at_risk=10**6)
    assert by_cohort["surv_5y"].isna().all()


def test_doctests():
    import doctest

    from maexlab.data import phases
    from maexlab.survival import (
        cox,
        duration_tables,
        hazard,
        kaplan_meier,
        logrank_tests,
        multistate,
        needs,
        plots,
        sections,
        start_stop,
        verdicts,
    )

    modules = (sv, duration_tables, kaplan_meier, logrank_tests, start_stop, cox, hazard, verdicts, multistate, phases)
    for module in (*modules, needs, plots, sections):
        assert doctest.testmod(module).failed == 0, module.__name__
