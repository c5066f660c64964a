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
from maexlab.reporting.verdicts import Reason
from maexlab.valuation import audit as va
from maexlab.valuation.claims import impact_priced

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
    v = {x.claim: x.verdict for x in val.verdicts(fits, ob, wtp, None)}
    # Claim 5 is decided over equity and loans; the other planted effects are recovered.
    assert v["valuation.claims.ignores"] in ("supported", "contradicted", "inconclusive")
    assert [v["valuation.claims.priced"], v["valuation.claims.penalty"], v["valuation.claims.wtp"]] == ["supported"] * 3
    assert v["valuation.claims.audit"] == "not_testable"


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
    assert all(x.verdict == "not_testable" and x.reasons for x in v)
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


# --- claim 5: equivalence rule over equity and loans (issue 12) ------------------------------------------


def _fit_with(
    revenue: tuple[float, float, float],
    impact: tuple[float, float, float],
    n_clusters: int = 50,
    outcome: str = "log_valuation",
) -> val.ModelFit:
    """A fitted mainstream model whose terms have the given estimate and 95% interval (t with G - 1 df)."""
    from scipy import stats

    q = stats.t.ppf(0.975, n_clusters - 1)
    rows = [(t, est, lo, hi, (hi - lo) / (2 * q), 0.5) for t, (est, lo, hi) in (("log_revenue", revenue), ("log_impact", impact))]
    coefs = pd.DataFrame(rows, columns=["term", "estimate", "ci_low", "ci_high", "std_error", "p_value"])
    return val.ModelFit(f"{outcome}, mainstream", outcome, "mainstream", 60, n_clusters, coefs, df=n_clusters - 1)


def _claim5(equity=None, loan=None, **kw):
    fits = {}
    if equity is not None:
        fits["log_valuation|mainstream"] = _fit_with(*equity, **kw)
    if loan is not None:
        fits["interest_rate_pp|mainstream"] = _fit_with(*loan, outcome="interest_rate_pp", **kw)
    return val.ignores_impact(fits)


PRICED_REVENUE = (0.9, 0.8, 1.0)


@pytest.mark.parametrize(
    ("impact", "revenue", "expected"),
    [
        ((0.0, -0.05, 0.08), PRICED_REVENUE, "supported"),
        ((0.0, -0.4, 0.4), PRICED_REVENUE, "inconclusive"),  # too imprecise: less data is no support
        ((0.0, -0.05, 0.08), (0.1, -0.2, 0.4), "inconclusive"),  # fundamentals not shown to be priced
        ((0.2, 0.05, 0.35), PRICED_REVENUE, "contradicted"),  # impact priced
        ((-0.2, -0.35, -0.05), PRICED_REVENUE, "contradicted"),
    ],
)
def test_claim5_equivalence_rule_on_equity(impact, revenue, expected):
    v = _claim5(equity=(revenue, impact))
    assert v.verdict == expected
    assert v.rule == "valuation.rules.ignores" and v.nominal_rate == 0.05


def test_claim5_is_contradicted_by_a_priced_loan_term_and_says_so():
    # Issue 12: supported from equity while the loan-rate impact term was -0.079 (-0.140 to -0.018).
    v = _claim5(equity=(PRICED_REVENUE, (0.0, -0.05, 0.05)), loan=((-0.6, -0.7, -0.5), (-0.079, -0.140, -0.018)))
    assert v.verdict == "contradicted"
    assert v.rule_values["instrument"] == "loan" and v.estimate == pytest.approx(-0.079)
    assert v.reasons[0].key == "valuation.reasons.impact_priced_in.loan" and v.reasons[0].values["instrument"] == "loan"
    assert _claim5(equity=(PRICED_REVENUE, (0.0, -0.05, 0.05))).verdict == "supported"


def test_claim5_contradiction_uses_the_bonferroni_interval():
    # The 95% interval excludes 0 barely; the 97.5% interval (two instruments) does not: no contradiction.
    v = _claim5(equity=(PRICED_REVENUE, (0.05, 0.001, 0.099)))
    assert v.verdict != "contradicted"


def test_claim5_supported_only_if_every_instrument_with_an_estimate_ignores_impact():
    loan_wide = ((-0.6, -0.7, -0.5), (0.0, -0.3, 0.3))
    v = _claim5(equity=(PRICED_REVENUE, (0.0, -0.05, 0.05)), loan=loan_wide)
    assert v.verdict == "inconclusive"
    assert any(r.key == "valuation.reasons.too_wide_for_margin.loan" and r.values["instrument"] == "loan" for r in v.reasons)


def test_claim5_decided_from_the_instrument_that_exists_and_names_the_other():
    fits = {
        "log_valuation|mainstream": _fit_with(PRICED_REVENUE, (0.0, -0.05, 0.05)),
        "interest_rate_pp|mainstream": val.ModelFit(
            "rate",
            "interest_rate_pp",
            "mainstream",
            5,
            5,
            message="too few",
            reason=Reason("valuation.reasons.too_few_model_rows", {"n": 5, "minimum": 30}),
        ),
    }
    v = val.ignores_impact(fits)
    assert v.verdict == "supported"
    keys = [r.key for r in v.reasons]
    assert "valuation.reasons.decided_from.equity" in keys and "valuation.reasons.instrument_unusable.loan" in keys


def test_claim5_wider_interval_never_gives_more_support():
    narrow = _claim5(equity=(PRICED_REVENUE, (0.0, -0.05, 0.05)))
    wide = _claim5(equity=(PRICED_REVENUE, (0.0, -0.5, 0.5)))
    assert narrow.verdict == "supported" and wide.verdict == "inconclusive"


def test_verdicts_need_enough_initiatives():
    v = _claim5(equity=(PRICED_REVENUE, (0.0, -0.05, 0.05)), n_clusters=8)
    assert v.verdict == "not_testable"
    assert any(r.key == "valuation.reasons.few_initiatives" for r in v.reasons)


def test_wide_intervals_are_inconclusive_not_refutation():
    # Issue 12: an interval covering 0 was printed as "not supported".
    for verdict in val.verdicts({"log_valuation|impact": _fit_with(PRICED_REVENUE, (0.1, -0.3, 0.5))}):
        assert verdict.verdict in ("inconclusive", "not_testable")
    wtp = {"wtp_pp": 0.5, "ci_low": -0.63, "ci_high": 1.64, "n_initiatives": 40}
    v = val.gives_up_return(wtp)
    assert v.verdict == "inconclusive" and v.reasons[0].key == "valuation.reasons.covers_zero"
    assert v.nominal_rate == 0.025 and v.rule_values["nominal"] == 0.025


# --- intervals and rows left out ------------------------------------------------------------------------


def test_ols_intervals_are_cr2_with_clusters_minus_one_df():
    from scipy import stats

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"initiative_id": [str(i // 3) for i in range(90)], "x": rng.normal(size=90)})
    df["log_valuation"] = 1 + df["x"] + rng.normal(size=90)
    fit = val.fit_model(df, "log_valuation", ["x"])
    X = np.column_stack([np.ones(90), df["x"]])
    beta = np.linalg.lstsq(X, df["log_valuation"].to_numpy(), rcond=None)[0]
    V = val.cluster_robust_cr2(X, df["log_valuation"].to_numpy() - X @ beta, pd.factorize(df["initiative_id"])[0])
    half = stats.t.ppf(0.975, fit.n_clusters - 1) * np.sqrt(V[1, 1])
    t = fit.term("x")
    assert fit.n_clusters == 30 and fit.df == 29
    assert t["ci_high"] - t["estimate"] == pytest.approx(half)


def test_cr2_equals_hc2_with_one_row_per_cluster():
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    X = sm.add_constant(rng.normal(size=(50, 2)))
    y = X @ np.array([1.0, 0.5, -0.2]) + rng.normal(size=50) * (1 + np.abs(X[:, 1]))
    res = sm.OLS(y, X).fit(cov_type="HC2")
    V = val.cluster_robust_cr2(X, y - X @ res.params, np.arange(50))
    assert np.allclose(V, res.cov_params())


def test_cr2_is_larger_than_cr1_at_high_leverage():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(size=40), 8.0, 9.0]  # two high-leverage rows
    X = sm.add_constant(x)
    y = 1 + 0.5 * x + rng.normal(size=42)
    groups = np.arange(42) // 2
    cr1 = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    V = val.cluster_robust_cr2(X, cr1.resid, groups)
    assert V[1, 1] > cr1.cov_params()[1, 1]


def test_non_converged_logit_is_not_computed_without_coefficients_or_warnings():
    # Issue 12: a non-converged model published odds ratios of 1.7e10 next to raw warnings.
    import warnings

    df = pd.DataFrame({"initiative_id": [str(i) for i in range(60)], "x": np.r_[np.zeros(30), np.ones(30)]})
    df["accepted"] = (df["x"] > 0.5).astype(int)  # x separates the outcome perfectly
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = val.fit_model(df, "accepted", ["x"])
    assert not fit.ok and fit.coefs.empty and fit.term("x") is None
    assert fit.reason.key in (
        "valuation.reasons.separation",
        "valuation.reasons.not_converged",
        "valuation.reasons.non_finite",
        "valuation.reasons.fit_failed",
    )
    assert not [w for w in caught if not issubclass(w.category, DeprecationWarning)]
    assert impact_priced({"log_valuation|impact": fit}).verdict == "not_testable"


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
