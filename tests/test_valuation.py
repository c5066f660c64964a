"""Tests of notebook 02's analysis (the maexlab.valuation package, including maexlab.valuation.audit).

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
from maexlab import valuation as val
from maexlab.data import synth
from maexlab.data.loader import MaexData
from maexlab.reporting.report import Report
from maexlab.valuation import audit as va

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


# --- privacy: event tables are suppressed by distinct initiatives ----------------------------------


def _published(table: pd.DataFrame, keep) -> pd.DataFrame:
    from maexlab.reporting.privacy import suppress_small_cells

    return suppress_small_cells(table, count_column="n_initiatives", min_group_size=10, keep=tuple(keep))


def test_assessment_tables_suppress_by_initiatives():
    # Zeeland: impact investors x hybrid = 13 assessments from 9 initiatives (a leak when suppressed by assessments)
    f = val.build_features(maexlab.load("embedded", province="Zeeland"))
    summary = val.group_summary(f)
    row = summary.set_index(["investor_group", "value_model"]).loc[("impact", "hybrid")]
    assert row["n"] >= 10 > row["n_initiatives"]
    shown = _published(summary, val.SUMMARY_LABELS).set_index(["investor_group", "value_model"])
    assert shown.loc[("impact", "hybrid"), "suppressed"] and np.isnan(shown.loc[("impact", "hybrid"), "revenue_median_eur"])
    assert (shown.loc[~shown["suppressed"], "n_initiatives"] >= 10).all()
    # Drenthe: government loans accepted = 10 assessments from 8 initiatives
    d = val.build_features(maexlab.load("embedded", province="Drenthe"))
    counts = val.assessment_counts(d)
    key = ("impact", "government", "loan", "accepted")
    row = counts.set_index(list(val.COUNT_LABELS)).loc[key]
    assert row["n"] >= 10 > row["n_initiatives"]
    shown = _published(counts, val.COUNT_LABELS).set_index(list(val.COUNT_LABELS))
    assert shown.loc[key, "suppressed"] and pd.isna(shown.loc[key, "n"])


def test_blended_and_coefficient_tables_count_initiatives(features, fits):
    b = val.blended_gap(features, fits["log_valuation|mainstream"])
    t = val.blended_gap_table(b)
    expected = b.assign(phase=b["phase"].fillna("unknown")).groupby(["value_model", "phase"])["initiative_id"].nunique()
    got = t.set_index(["value_model", "phase"])["n_initiatives"]
    assert got.sort_index().tolist() == expected.sort_index().tolist()
    assert (t["n_initiatives"] <= t["n"]).all()
    coefs = val.coefficient_table(fits)
    main = coefs[(coefs["outcome"] == "log_valuation") & (coefs["group"] == "mainstream")]
    assert set(main["n_initiatives"]) == {fits["log_valuation|mainstream"].n_clusters}


def test_oaxaca_counts_initiatives_per_side(features):
    table, _ = val.oaxaca_gap(features, "mainstream", reps=5, seed=1)
    offers = features[
        (features["investor_group"] == "mainstream") & (features["instrument"] == "equity") & (features["accepted"] == 1)
    ]
    per_side = offers.groupby("social_or_hybrid")["initiative_id"].nunique()
    row = table.iloc[0]
    assert row["n_initiatives_social_hybrid"] == per_side[1] and row["n_initiatives_commercial"] == per_side[0]
    assert row["n_initiatives"] == per_side.min()
    assert row["n_left_out"] == 0 and table.attrs["rows_left_out"]["n_dropped"] == 0


def test_calibration_blanks_impact_rates_by_their_own_count(features):
    rows = va.audit_frame(features)
    table, _, _ = va.impact_decile_calibration(rows, reps=3, seed=3, min_group_size=100)
    small = table["impact_suppressed"]
    assert small.any() and not small.all()  # embedded: 90-117 impact-investor initiatives per decile
    assert table.loc[small, "observed_impact"].isna().all() and table.loc[small, "n_impact"].isna().all()
    assert (table.loc[~small, "n_impact_initiatives"] >= 100).all()
    assert table["observed"].notna().all()  # the mainstream side is suppressed by the report, on n_initiatives
    assert (table["n_initiatives"] <= table["n"]).all()


# --- claim 5: equivalence rule -------------------------------------------------------------------------


def _fit_with(revenue: tuple[float, float, float], impact: tuple[float, float, float], n_clusters: int = 50) -> val.ModelFit:
    coefs = pd.DataFrame(
        [("log_revenue", *revenue, 0.01), ("log_impact", *impact, 0.5)],
        columns=["term", "estimate", "ci_low", "ci_high", "p_value"],
    )
    return val.ModelFit("log valuation, mainstream investors", "log_valuation", "mainstream", 60, n_clusters, coefs)


@pytest.mark.parametrize(
    ("impact", "revenue", "expected"),
    [
        ((0.0, -0.05, 0.08), (0.9, 0.8, 1.0), "supported"),
        ((0.0, -0.4, 0.4), (0.9, 0.8, 1.0), "not testable on this data"),  # too imprecise: less data is no support
        ((0.0, -0.05, 0.08), (0.1, -0.2, 0.4), "not testable on this data"),  # fundamentals not significant
        ((0.2, 0.05, 0.35), (0.9, 0.8, 1.0), "not supported"),  # impact priced
        ((-0.2, -0.35, -0.05), (0.9, 0.8, 1.0), "not supported"),
    ],
)
def test_claim5_equivalence_rule(impact, revenue, expected):
    v = val.verdicts({"log_valuation|mainstream": _fit_with(revenue, impact)})
    assert v.iloc[0]["verdict"] == expected
    assert "impact elasticity" in v.iloc[0]["evidence"]


def test_claim5_wider_interval_never_gives_more_support():
    narrow = val.ignores_impact(
        {"ci_low": 0.8, "ci_high": 1.0, "estimate": 0.9}, {"estimate": 0.0, "ci_low": -0.05, "ci_high": 0.05}
    )
    wide = val.ignores_impact({"ci_low": 0.8, "ci_high": 1.0, "estimate": 0.9}, {"estimate": 0.0, "ci_low": -0.5, "ci_high": 0.5})
    assert narrow[0] == "supported" and wide[0] != "supported"


def test_verdicts_need_enough_initiatives():
    fit = _fit_with((0.9, 0.8, 1.0), (0.0, -0.05, 0.05), n_clusters=8)
    v = val.verdicts({"log_valuation|mainstream": fit}, min_group_size=10)
    assert v.iloc[0]["verdict"] == "not testable on this data" and "fewer than 10 initiatives" in v.iloc[0]["evidence"]


# --- intervals and rows left out ------------------------------------------------------------------------


def test_ols_intervals_are_t_with_clusters_minus_one_df():
    import statsmodels.api as sm
    from scipy import stats

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"initiative_id": [str(i // 3) for i in range(90)], "x": rng.normal(size=90)})
    df["log_valuation"] = 1 + df["x"] + rng.normal(size=90)
    fit = val.fit_model(df, "log_valuation", ["x"])
    res = sm.OLS(df["log_valuation"], sm.add_constant(df[["x"]])).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df["initiative_id"])[0]}
    )
    half = stats.t.ppf(0.975, fit.n_clusters - 1) * res.bse["x"]
    t = fit.term("x")
    assert fit.n_clusters == 30
    assert t["ci_high"] - t["estimate"] == pytest.approx(half)
    assert half > stats.norm.ppf(0.975) * res.bse["x"]


def test_rows_left_out_are_recorded(features):
    f = features.copy()
    f.loc[f.index[:40], "growth"] = np.nan
    fits = val.hedonic_models(f)
    for fit in fits.values():
        rec = fit.rows_left_out
        assert rec["n_input"] - rec["n_dropped"] == fit.n
    dec = fits["accepted|mainstream"].rows_left_out
    expected = int(f.loc[f.index[:40], "investor_group"].eq("mainstream").sum())
    assert dec["n_dropped"] == expected and dec["missing_by_column"] == {"z_growth": expected}
    assert f"{expected} of " in dec["note"] and "growth missing" in dec["note"]
    assert val.fits_to_results(fits)["accepted|mainstream"]["rows_left_out"]["n_dropped"] == expected
    wtp, wfit = val.willingness_to_pay(f)
    assert wfit.rows_left_out["n_input"] - wfit.rows_left_out["n_dropped"] == wtp["n"]
    b = val.blended_gap(f, fits["log_valuation|mainstream"])
    assert b.attrs["rows_left_out"]["n_input"] - b.attrs["rows_left_out"]["n_dropped"] == len(b)


def test_audit_rows_records_people_reached_fill(features):
    f = features.copy()
    f.loc[f.index[:25], "log_people_reached"] = np.nan
    rows, rec = va.audit_rows(f)
    assert len(rows) == len(f) and rec["n_filled_people_reached"] == 25
    assert rec["people_reached_fill_value"] == pytest.approx(features["log_people_reached"].iloc[25:].median())
    assert "filled with the median" in rec["notes"][0]


def test_weighted_auc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    score = np.round(rng.normal(size=300) + y, 1)  # ties
    w = rng.integers(0, 3, size=(4, 300)).astype(float)
    got = va.weighted_auc(y, score, w)
    want = [roc_auc_score(y, score, sample_weight=row) for row in w]
    assert got == pytest.approx(want)


def test_auc_interval_is_a_cluster_bootstrap(features):
    rows = va.audit_frame(features)
    part = rows[rows["investor_group"] == "mainstream"].reset_index(drop=True)
    cols = [c for c in va._features() if c in part]
    r = va.cv_auc(part, cols, reps=100)
    assert r["ci_low"] < r["auc"] < r["ci_high"] and r["reps"] == 100
    assert r["n_initiatives"] == part["initiative_id"].nunique()
