"""Tests of notebook 02's analysis (maexlab.valuation, maexlab.valuation_audit).

Recovery: on the embedded data every planted valuation effect (read from
data/embedded/planted_effects.json; only tests read it) lies in the estimated 95% interval.
No effect: on ``synth.generate(seed, effects=False)`` the impact, penalty and WTP intervals
cover 0. Partial data: without assessments (or financials) every section says it cannot compute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import maexlab
from maexlab import synth
from maexlab import valuation as val
from maexlab import valuation_audit as va
from maexlab.data import MaexData
from maexlab.report import Report

REPO = Path(__file__).resolve().parents[1]
TRUTH_PATH = REPO / "data" / "embedded" / "planted_effects.json"
NULL_SEED = 11
NULL_N = 1500


def covers(t: dict, value: float) -> bool:
    return t["ci_low"] <= value <= t["ci_high"]


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads(TRUTH_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return val.build_features(maexlab.load("embedded"))


@pytest.fixture(scope="module")
def fits(features):
    return val.hedonic_models(features)


@pytest.fixture(scope="module")
def null_features(tmp_path_factory) -> pd.DataFrame:
    folder = synth.write_embedded(tmp_path_factory.mktemp("null"), seed=NULL_SEED, n_initiatives=NULL_N, effects=False)
    return val.build_features(maexlab.load(folder))


# --- recovery on the embedded data ---------------------------------------------------------------


def test_truth_is_the_embedded_one(truth):
    assert truth["effects"] is True and truth["synthetic"] is True


def test_valuation_elasticities_recovered(fits, truth):
    v = truth["valuation"]
    slope = v["impact_slope_by_investor"]
    main, imp = fits["log_valuation|mainstream"], fits["log_valuation|impact"]
    assert main.ok and imp.ok
    assert covers(main.term("log_impact"), slope["venture_capital"])  # 0 for mainstream
    assert slope["venture_capital"] == slope["angel"]
    assert covers(imp.term("log_impact"), slope["impact_fund"])  # 0.25 (only impact funds give equity)
    for fit in (main, imp):
        assert covers(fit.term("log_revenue"), v["log_revenue"])
        assert covers(fit.term("growth"), v["growth"])
        assert covers(fit.term("margin"), v["margin"])
        assert covers(fit.term("earned_income_share"), v["earned_income_share"])


def test_valuation_impact_difference(features, truth):
    slope = truth["valuation"]["impact_slope_by_investor"]
    diff = val.impact_difference(features, "log_valuation")
    t = diff.term("impact_investor:log_impact")
    assert covers(t, slope["impact_fund"] - slope["venture_capital"]) and t["ci_low"] > 0


def test_decision_logit_recovered(fits, features, truth):
    d = truth["decision_logit"]
    # our z scale is computed over all assessments, as the generator's
    mu, sd = d["z_standardisation"]["log_impact"]
    assert features["log_impact"].mean() == pytest.approx(mu, abs=1e-6)
    assert features["log_impact"].std(ddof=0) == pytest.approx(sd, abs=1e-6)
    main, imp = fits["accepted|mainstream"], fits["accepted|impact"]
    assert covers(imp.term("z_log_impact"), d["impact_slope_by_investor"]["impact_fund"])  # 0.5
    assert (
        d["impact_slope_by_investor"]["impact_fund"]
        == d["impact_slope_by_investor"]["foundation"]
        == d["impact_slope_by_investor"]["government"]
    )
    assert covers(main.term("z_log_impact"), d["impact_slope_by_investor"]["bank"])  # 0
    assert covers(main.term("hybrid"), d["mainstream_hybrid"])  # -0.6
    for fit in (main, imp):
        assert covers(fit.term("z_log_revenue"), d["z_log_revenue"])
        assert covers(fit.term("z_margin"), d["z_margin"])
        assert covers(fit.term("z_growth"), d["z_growth"])


def test_unexplained_penalty_recovered(features, truth):
    table, message = val.oaxaca_gap(features, "mainstream", reps=200, seed=1)
    assert message is None
    u = table.set_index("component").loc["unexplained"]
    assert u["ci_low"] <= truth["valuation"]["mainstream_penalty_social_hybrid_vs_commercial"] <= u["ci_high"]
    assert u["ci_high"] < 0
    row = table.set_index("component")
    assert row.loc["gap", "estimate"] == pytest.approx(row.loc["explained", "estimate"] + u["estimate"])


def test_wtp_recovered(features, truth):
    wtp, fit = val.willingness_to_pay(features)
    assert fit.ok
    assert set(truth["loan_rate"]["impact_investors"]) <= {"impact_fund", "government", "foundation"}
    assert wtp["ci_low"] <= truth["loan_rate"]["impact_investor_discount_pp"] <= wtp["ci_high"]
    assert wtp["ci_low"] > 0


def test_verdicts_on_embedded(features, fits):
    ob, _ = val.oaxaca_gap(features, "mainstream", reps=100, seed=2)
    wtp, _ = val.willingness_to_pay(features)
    v = val.verdicts(fits, ob, wtp, None).set_index("claim")["verdict"]
    assert list(v.iloc[:4]) == ["supported"] * 4
    assert v.iloc[4] == "not testable on this data"


def test_audit_on_embedded(features):
    rows = va.audit_frame(features)
    table, contrast, message = va.impact_decile_calibration(rows, reps=40, seed=3)
    assert message is None and len(table) == 10
    assert contrast["ci_low"] > 0  # the mainstream rule under-rates high-impact initiatives
    main = rows[rows["investor_group"] == "impact"].reset_index(drop=True)
    imp = va.group_permutation_importance(main, repeats=2).set_index("feature_group")
    assert imp.loc["impact", "ci_low"] > 0


# --- no planted effects ------------------------------------------------------------------------------


def test_no_effect_intervals_cover_zero(null_features):
    fits = val.hedonic_models(null_features)
    assert covers(fits["log_valuation|mainstream"].term("log_impact"), 0.0)
    assert covers(fits["log_valuation|impact"].term("log_impact"), 0.0)
    assert covers(fits["accepted|mainstream"].term("z_log_impact"), 0.0)
    assert covers(fits["accepted|impact"].term("z_log_impact"), 0.0)
    table, message = val.oaxaca_gap(null_features, "mainstream", reps=150, seed=4)
    assert message is None
    u = table.set_index("component").loc["unexplained"]
    assert u["ci_low"] <= 0 <= u["ci_high"]
    wtp, _ = val.willingness_to_pay(null_features)
    assert wtp["ci_low"] <= 0 <= wtp["ci_high"]
    _, contrast, _ = va.impact_decile_calibration(va.audit_frame(null_features), reps=40, seed=5)
    assert contrast["ci_low"] <= 0 <= contrast["ci_high"]


# --- partial data ----------------------------------------------------------------------------------------


def _without(*tables: str) -> MaexData:
    d = maexlab.load("embedded", province="Zeeland")
    return MaexData({k: (None if k in tables else v) for k, v in d.tables.items()}, source="test", synthetic=True)


@pytest.mark.parametrize("absent", ["assessments", "financials"])
def test_partial_data_reports_not_computable(absent, tmp_path, capsys):
    data = _without(absent)
    with pytest.raises(val.NotComputable, match=absent):
        val.build_features(data)
    report = Report("02_valuation_bias", data, tmp_path, {}, 10, 1)
    for section, needs in val.NEEDS.items():
        assert report.requires(section, needs) is False
    printed = capsys.readouterr().out
    assert f"table {absent}" in printed
    assert set(report.results["not_computed"]) == set(val.NEEDS)


def test_no_impact_table_keeps_features_but_not_models(tmp_path):
    data = _without("impact")
    f = val.build_features(data)
    assert f["impact_value"].isna().all() and f["log_revenue"].notna().any()
    report = Report("02_valuation_bias", data, tmp_path, {}, 10, 1)
    assert report.requires("features", val.NEEDS["features"])
    assert not report.requires("valuation model", val.NEEDS["valuation model"])


def test_small_selection_degrades_gracefully():
    f = val.build_features(maexlab.load("embedded", province="Zeeland"))
    fits = val.hedonic_models(f, min_rows=10_000)
    assert all(not fit.ok and "too few" in fit.message for fit in fits.values())
    table, message = val.oaxaca_gap(f, "impact", min_rows=10_000)
    assert table.empty and "too few" in message
    v = val.verdicts(fits, table, None, None)
    assert (v["verdict"] == "not testable on this data").all()
    assert val.coefficient_table(fits).empty


# --- units ---------------------------------------------------------------------------------------------


def _tiny() -> MaexData:
    ini = pd.DataFrame(
        {
            "initiative_id": ["A", "B"],
            "value_model": ["social", "commercial"],
            "people_reached": pd.array([100, 0], dtype="Int64"),
        }
    )
    fin = pd.DataFrame(
        {
            "initiative_id": ["A", "A", "B"],
            "year": pd.array([2021, 2022, 2022], dtype="Int64"),
            "revenue": [100.0, 120.0, 0.0],
            "earned_income": [20.0, 30.0, 0.0],
            "costs": [90.0, 90.0, 10.0],
        }
    )
    imp = pd.DataFrame(
        {
            "initiative_id": ["A", "A"],
            "year": pd.array([2022, 2022], dtype="Int64"),
            "indicator": ["volunteer_hours", "meals_served"],
            "quantity": [10.0, 5.0],
        }
    )
    px = pd.DataFrame(
        {
            "indicator": ["volunteer_hours", "meals_served"],
            "unit": ["hour", "meal"],
            "euro_per_unit": [20.0, 4.0],
            "source": ["s1", "s2"],
        }
    )
    ph = pd.DataFrame(
        {
            "initiative_id": ["A", "A", "B"],
            "phase": ["start", "growth", "growth"],
            "entered_on": pd.to_datetime(["2019-01-01", "2022-03-01", "2020-01-01"]),
        }
    )
    ass = pd.DataFrame(
        {
            "assessment_id": ["X1", "X2", "X3"],
            "initiative_id": ["A", "A", "B"],
            "investor_type": ["impact_fund", "bank", "angel"],
            "instrument": ["equity", "loan", "equity"],
            "assessed_on": pd.to_datetime(["2022-02-01", "2022-06-01", "2022-06-01"]),
            "decision": ["accepted", "accepted", "declined"],
            "amount_offered": [10.0, 5.0, 0.0],
            "valuation": [500.0, np.nan, np.nan],
            "interest_rate": [np.nan, 0.05, np.nan],
        }
    )
    tables = {
        "initiatives": ini,
        "phases": ph,
        "funding": None,
        "financials": fin,
        "impact": imp,
        "proxies": px,
        "assessments": ass,
    }
    return MaexData(tables, source="tiny", synthetic=True)


def test_build_features_definitions():
    f = val.build_features(_tiny()).set_index("assessment_id")
    a = f.loc["X1"]
    assert a["investor_group"] == "impact" and a["phase"] == "start"
    assert a["growth"] == pytest.approx(0.2)
    assert a["margin"] == pytest.approx(30 / 120)
    assert a["earned_income_share"] == pytest.approx(0.25)
    assert a["impact_value"] == pytest.approx(10 * 20 + 5 * 4)
    assert a["log_impact"] == pytest.approx(np.log(221))
    assert a["log_valuation"] == pytest.approx(np.log(500))
    assert f.loc["X2", "phase"] == "growth" and f.loc["X2", "interest_rate_pp"] == pytest.approx(5.0)
    b = f.loc["X3"]  # zero revenue: ratios NaN, never inf; no financials the year before
    assert b["investor_group"] == "mainstream" and b["accepted"] == 0
    assert np.isnan(b["margin"]) and np.isnan(b["growth"]) and np.isnan(b["log_revenue"])
    assert np.isnan(b["impact_value"]) and f["sroi"].isna().all()
    assert list(f["social_or_hybrid"]) == [1, 1, 0]


def test_fit_model_too_few_rows():
    f = val.build_features(_tiny())
    fit = val.fit_model(f, "log_valuation", ["log_revenue"])
    assert not fit.ok and "n=1 < 30" in fit.message and fit.term("log_revenue") is None


def test_blended_value_with_investor_valuation():
    f = val.build_features(_tiny())
    b = val.blended_gap(f, financial="investor", horizon_years=5, social_discount_rate=0.035)
    annuity = sum(1 / 1.035**t for t in range(1, 6))
    assert len(b) == 1
    assert b["social_value_pv"].iloc[0] == pytest.approx(220 * annuity)
    assert b["gap_eur"].iloc[0] == pytest.approx(220 * annuity)
    assert b["blended_ratio"].iloc[0] == pytest.approx(1 + 220 * annuity / 500)
    with pytest.raises(val.NotComputable):
        val.blended_gap(f, None)
    t = val.blended_gap_table(b)
    assert t["n"].tolist() == [1]


def test_blended_fundamentals_value(features, fits):
    b = val.blended_gap(features, fits["log_valuation|mainstream"])
    assert (b["financial_value"] > 0).all() and (b["blended_value"] > b["financial_value"]).all()
    # commercial offers from mainstream investors: fundamentals-only value matches their valuations on average (log scale)
    sub = b[(b["value_model"] == "commercial") & (b["investor_group"] == "mainstream")]
    assert np.log(sub["financial_value"] / sub["valuation"]).mean() == pytest.approx(0.0, abs=0.15)


def test_wtp_not_computed_without_both_groups(features):
    only_banks = features[features["investor_type"] != "impact_fund"]
    only_banks = only_banks[only_banks["investor_type"] != "government"]
    wtp, fit = val.willingness_to_pay(only_banks)
    assert wtp is None and "impact n=0" in fit.message
