"""Funding gaps (maexlab.funding, maexlab.funding.models): recovery of the planted approval
effects, a no-effect check, partial (funding-only) data, and unit tests.

Only this file reads data/embedded/planted_effects.json; the analysis code never does.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import maexlab  # noqa: E402
from maexlab import funding
from maexlab.data import synth  # noqa: E402
from maexlab.data.io import write_dataset  # noqa: E402
from maexlab.data.loader import EMBEDDED_DIR, MaexData  # noqa: E402
from maexlab.data.schema import TABLES  # noqa: E402
from maexlab.funding import claims  # noqa: E402
from maexlab.funding import models as fm  # noqa: E402
from maexlab.reporting.privacy import assert_no_small_groups, suppress_small_cells  # noqa: E402
from maexlab.reporting.report import publish_table  # noqa: E402

NULL_SEED = 11  # seed of the effects=False dataset (fixed before looking at its estimates)


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((EMBEDDED_DIR / "planted_effects.json").read_text(encoding="utf-8"))["approval_logit"]


@pytest.fixture(scope="module")
def embedded():
    return maexlab.load("embedded")


@pytest.fixture(scope="module")
def apps(embedded) -> pd.DataFrame:
    return funding.applications(embedded)


@pytest.fixture(scope="module")
def fit(apps) -> fm.ModelFit:
    return fm.fit_approval(apps)


@pytest.fixture(scope="module")
def null_apps(tmp_path_factory) -> pd.DataFrame:
    tables, _ = synth.generate(NULL_SEED, effects=False)
    folder = write_dataset(tables, tmp_path_factory.mktemp("null") / "data", {"synthetic": True})
    return funding.applications(maexlab.load(folder))


@pytest.fixture(scope="module")
def null_fit(null_apps) -> fm.ModelFit:
    return fm.fit_approval(null_apps)


def _funding_only(embedded: MaexData, keep_phase: bool = False) -> MaexData:
    f = embedded.funding if keep_phase else embedded.funding.drop(columns=["phase_at_application"])
    return MaexData({name: (f if name == "funding" else None) for name in TABLES}, source="funding-only", synthetic=True)


# --- recovery of the planted effects ------------------------------------------------------------


def _planted_terms(truth: dict) -> dict[str, tuple[dict[str, float], float]]:
    """Planted approval effect -> (contrast weights on the model terms, true log-odds)."""
    vm = truth["value_model_x_source"]
    terms = {
        "hybrid x government_subsidy (vs social)": ({"vm[hybrid]:group[subsidy]": 1.0}, truth["hybrid_x_government_subsidy"]),
        "commercial x government_subsidy (vs social)": (
            {"vm[commercial]:group[subsidy]": 1.0},
            truth["commercial_x_government_subsidy"],
        ),
        "hybrid vs commercial, investors": (
            {"vm[hybrid]:group[investor]": 1.0, "vm[commercial]:group[investor]": -1.0},
            truth["hybrid_x_investor"],
        ),
        "hybrid vs social, investors": (
            {"vm[hybrid]:group[investor]": 1.0},
            vm["hybrid|investor_equity"] - vm["social|investor_equity"],
        ),
        "log amount": ({"log_amount_c": 1.0}, truth["log_amount_minus_log_25000"]),
        "multi-year": ({"multi_year": 1.0}, truth["multi_year"]),
    }
    for purpose, value in truth["purpose"].items():
        if purpose != "startup":
            terms[f"purpose {purpose}"] = ({f"purpose[{purpose}]": 1.0}, value - truth["purpose"]["startup"])
    for phase, value in truth["phase"].items():
        if phase != "start":
            terms[f"phase {phase}"] = ({f"phase[{phase}]": 1.0}, value - truth["phase"]["start"])
    return terms


def test_planted_approval_effects_inside_95_interval(fit, truth):
    assert fit is not None and fit.usable and not fit.omitted
    # The investor cells must be the same for equity and loan, or one term cannot hold them.
    vm = truth["value_model_x_source"]
    assert vm["hybrid|investor_equity"] == vm["hybrid|investor_loan"]
    misses = []
    for name, (weights, true) in _planted_terms(truth).items():
        c = fit.contrast(weights)
        if not c["lo"] <= true <= c["hi"]:
            misses.append(f"{name}: true {true:+.2f} outside [{c['lo']:+.3f}, {c['hi']:+.3f}]")
    assert not misses, misses


def test_value_model_cells_planted_zero_jointly_covered(fit, truth):
    """Value-model cells planted at 0 (fund, other sources; commercial among investors): tested as
    a family of 5 with Bonferroni-adjusted intervals (99% each), since at 95% one of five falls
    outside by chance about a fifth of the time."""
    vm = truth["value_model_x_source"]
    zero_cells = {
        "vm[hybrid]:group[fund]": vm["hybrid|fund_grant"] - vm["social|fund_grant"],
        "vm[commercial]:group[fund]": vm["commercial|fund_grant"] - vm["social|fund_grant"],
        "vm[commercial]:group[investor]": vm["commercial|investor_loan"] - vm["social|investor_loan"],
        "vm[hybrid]:group[other]": 0.0,
        "vm[commercial]:group[other]": 0.0,
    }
    for src in ("donation_crowdfunding", "earned_income", "social_return_contract"):
        assert vm[f"hybrid|{src}"] == vm[f"commercial|{src}"] == vm[f"social|{src}"] == 0.0
    z = float(stats.norm.ppf(1 - 0.05 / (2 * len(zero_cells))))
    for term, true in zero_cells.items():
        c = fit.coef(term)
        assert c["estimate"] - z * c["se"] <= true <= c["estimate"] + z * c["se"], (term, c)


def test_verdicts_supported_on_embedded(fit, apps):
    fund_fit = fm.fit_approval(apps, fund_purpose=True)
    overall = funding.gap_table(apps, [], seed=1, n_boot=200)
    assert claims.hybrid_verdict(fit).verdict == "supported"
    org = claims.org_strength_verdict(fit, fund_fit)
    assert org.verdict == "supported"
    # the verdict rests on the within-fund-grant contrasts; the pooled ones are given beside it
    keys = [r.key for r in org.reasons]
    assert {
        "funding.evidence.fund_org_startup",
        "funding.evidence.fund_org_project",
        "funding.evidence.pooled_org_startup",
    } <= set(keys)
    within = fund_fit.contrast({fm.ORG: 1.0, fm.ORG_FUND: 1.0})
    versus_project = fund_fit.contrast({fm.ORG: 1.0, fm.ORG_FUND: 1.0, fm.PROJECT: -1.0, fm.PROJECT_FUND: -1.0})
    assert org.hi == pytest.approx(max(within["hi"], versus_project["hi"]), abs=1e-9)
    assert claims.multi_year_verdict(fit).verdict == "supported"
    # coverage 59.3% [57.0, 61.3]: the whole interval lies within 60.7% +/- 10 pp
    row = overall.iloc[0]
    assert claims.coverage_verdict(row["coverage"], row["coverage_lo"], row["coverage_hi"]).verdict == "supported"


def test_overall_coverage_recovers_expected(apps):
    expected = json.loads((EMBEDDED_DIR / "planted_effects.json").read_text())["derived"]["coverage"]["expected_money_coverage"]
    row = funding.gap_table(apps, [], seed=3, n_boot=300).iloc[0]
    assert row["coverage_lo"] <= expected <= row["coverage_hi"]


def test_no_effects_intervals_cover_zero_and_verdicts_inconclusive(null_fit, null_apps, truth):
    assert null_fit is not None
    for name, (weights, _) in _planted_terms(truth).items():
        c = null_fit.contrast(weights)
        assert c["lo"] <= 0.0 <= c["hi"], (name, c)
    null_fund_fit = fm.fit_approval(null_apps, fund_purpose=True)
    for term in fm.FUND_PURPOSE_TERMS:
        c = null_fund_fit.coef(term)
        assert c["lo"] <= 0.0 <= c["hi"], (term, c)
    # intervals covering 0 are absence of evidence: inconclusive, never a refutation
    assert claims.hybrid_verdict(null_fit).verdict == "inconclusive"
    # claim 10 is judged within fund grants, so it needs the fund-grant fit; without it the
    # rule has nothing to test (not testable), with it the no-effect data gives "inconclusive"
    assert claims.org_strength_verdict(null_fit, null_fund_fit).verdict == "inconclusive"
    assert claims.org_strength_verdict(null_fit, None).verdict == "not_testable"
    assert claims.multi_year_verdict(null_fit).verdict == "inconclusive"


# --- partial data ------------------------------------------------------------------------------


def test_funding_only_computes_what_it_can(embedded):
    data = _funding_only(embedded)
    plan = funding.analysis_plan(data).set_index("analysis")["computable"]
    for ok in (
        "gap overall",
        "gap by funding source",
        "gap by purpose of the request",
        "gap by request size (EUR)",
        "gap by year of application",
        "approval and coverage models",
        "claim: about 60% of needs met",
    ):
        assert plan[ok], ok
    for not_ok in (
        "gap by value model",
        "gap by phase at application",
        "claim: hybrids fall between two stools",
        "model term: value model x source group",
        "model term: phase at application",
    ):
        assert not plan[not_ok], not_ok
    apps = funding.applications(data)
    assert "value_model" not in apps and "phase" not in apps
    for by in ([], ["source"], ["purpose"], ["size_band"], ["year"]):
        t = funding.gap_table(apps, by, seed=1, n_boot=50)
        assert len(t) and t["coverage"].notna().all()
    fit = fm.fit_approval(apps)
    assert set(fit.omitted) == {"value_model", "phase"}
    assert not any(c.startswith(("vm[", "phase[")) for c in fit.columns)
    v = claims.hybrid_verdict(fit)
    assert v.verdict == "not_testable" and v.reasons[0].key == "funding.reasons.no_value_model"
    assert claims.org_strength_verdict(fit, fm.fit_approval(apps, fund_purpose=True)).verdict == "supported"
    assert claims.multi_year_verdict(fit).verdict == "supported"
    effects = set(fm.ame_table(fit)["effect"])
    assert not any(e.startswith("hybrid") or e in ("plan_start", "growth_start", "mature_start") for e in effects)
    assert "multi_year" in effects


def test_funding_only_with_recorded_phase_uses_it(embedded):
    apps = funding.applications(_funding_only(embedded, keep_phase=True))
    assert apps["phase"].notna().mean() > 0.99
    assert funding.phase_needs(_funding_only(embedded, keep_phase=True)) == {"funding": ("phase_at_application",)}


def test_report_states_what_cannot_be_computed(embedded, capsys):
    from maexlab.reporting.report import Report

    data = _funding_only(embedded)
    report = Report("01_funding_gaps", data, Path("."), {}, 10, 1)
    assert not report.requires("gap by value model", funding.dimension_needs(data, "value_model"))
    assert "initiatives" in capsys.readouterr().out
    assert "gap by value model" in report.results["not_computed"]


def test_phase_looked_up_from_phases_when_not_recorded(tiny_dataset):
    data = maexlab.load(tiny_dataset)
    apps = funding.applications(data).set_index("funding_id")
    assert apps.loc["F1", "phase"] == "start" and apps.loc["F2", "phase"] == "growth" and apps.loc["F3", "phase"] == "start"
    assert apps.loc["F3", "value_model"] == "hybrid"


# --- unit tests ---------------------------------------------------------------------------------


def test_size_band_edges():
    got = funding.size_band(pd.Series([0.0, 4999.0, 5000.0, 24999.99, 25000.0, 50000.0, 249999.0, 250000.0]))
    assert got.tolist() == ["<5k", "<5k", "5-25k", "5-25k", "25-50k", "50-250k", "50-250k", "250k+"]


def _toy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "initiative_id": ["a", "a", "b", "c", "c"],
            "source": ["fund_grant", "fund_grant", "fund_grant", "investor_loan", "investor_loan"],
            "status": ["granted", "rejected", "partial", "granted", "pending"],
            "decided": [True, True, True, True, False],
            "approved": pd.array([True, False, True, True, pd.NA], dtype="boolean"),
            "amount_requested": [100.0, 100.0, 200.0, 1000.0, 500.0],
            "amount_granted": [100.0, 0.0, 50.0, 1000.0, np.nan],
        }
    )


def test_gap_table_by_hand_and_pending_excluded():
    t = funding.gap_table(_toy(), ["source"], seed=1, n_boot=100).set_index("source")
    fund = t.loc["fund_grant"]
    assert fund["n"] == 3 and fund["n_initiatives"] == 2
    assert fund["coverage"] == pytest.approx(150 / 400)
    assert fund["approval_rate"] == pytest.approx(2 / 3)
    assert (fund["share_full"], fund["share_partial"], fund["share_rejected"]) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert fund["coverage_lo"] <= fund["coverage"] <= fund["coverage_hi"]
    loan = t.loc["investor_loan"]
    assert loan["n"] == 1 and loan["requested_eur"] == 1000.0  # the pending request is not in the gap
    overall = funding.gap_table(_toy(), [], seed=1, n_boot=0).iloc[0]
    assert overall["coverage"] == pytest.approx(1150 / 1400)
    und = funding.undecided_table(_toy())
    assert und[["status", "source", "n"]].values.tolist() == [["pending", "investor_loan", 1]]


def test_cluster_bootstrap_is_seeded_and_resamples_initiatives():
    ids = np.array(["a", "b", "c", "d"])
    w1 = funding.cluster_bootstrap_weights(ids, seed=5, n_boot=50)
    w2 = funding.cluster_bootstrap_weights(ids, seed=5, n_boot=50)
    assert np.array_equal(w1, w2) and (w1.sum(axis=1) == 4).all()
    assert not np.array_equal(w1, funding.cluster_bootstrap_weights(ids, seed=6, n_boot=50))
    # all applications of one initiative move together: an initiative with all-or-nothing
    # outcomes gives replicate coverages only at the values its draw allows
    t = funding.gap_table(_toy(), [], seed=2, n_boot=200).iloc[0]
    assert 0 <= t["coverage_lo"] <= t["coverage"] <= t["coverage_hi"] <= 1


def test_gap_table_groups_in_vocabulary_order(apps):
    t = funding.gap_table(apps, ["phase"], seed=1, n_boot=0)
    assert t["phase"].tolist() == ["plan", "start", "growth", "mature"]
    t = funding.gap_table(apps, ["size_band"], seed=1, n_boot=0)
    assert t["size_band"].tolist() == list(funding.SIZE_BAND_LABELS)


def test_published_gap_table_suppresses_small_groups(apps, tmp_path):
    (tmp_path / "tables").mkdir()
    t = funding.gap_table(apps.head(400), ["source", "phase"], seed=1, n_boot=20)
    shown = publish_table(t, tmp_path, "x", keep=("source", "phase"), count_column="n_initiatives", min_group_size=10)
    assert shown["suppressed"].any()
    assert shown.loc[shown["suppressed"], "coverage"].isna().all()
    assert_no_small_groups(shown, "n_initiatives", 10)
    assert_no_small_groups(shown, "n", 10)


def test_design_and_ame_signs(fit):
    ame = fm.ame_table(fit).set_index("effect")
    assert ame.loc["hybrid_social_subsidy", "ame_pp"] < 0
    assert ame.loc["multi_year", "lo_pp"] < ame.loc["multi_year", "ame_pp"] < ame.loc["multi_year", "hi_pp"]
    # AME of a small coefficient change is close to beta * mean p(1-p)
    p = 1 / (1 + np.exp(-fit.x(fit.frame) @ fit.params.to_numpy()))
    approx = 100 * fit.params["multi_year"] * np.mean(p * (1 - p))
    assert ame.loc["multi_year", "ame_pp"] == pytest.approx(approx, rel=0.15)


def test_odds_ratio_table(fit):
    t = fm.odds_ratio_table(fit).set_index("term")
    row = t.loc["multi_year"]
    assert row["odds_ratio"] == pytest.approx(math.exp(row["coef"]))
    assert row["or_lo"] < row["odds_ratio"] < row["or_hi"]


def test_fractional_coverage_model_direction(apps):
    cov = fm.fit_coverage(apps)
    assert cov is not None and cov.coef("purpose[organisational_strengthening]")["hi"] < 0


def test_verdict_rules_on_constructed_inputs():
    v = claims.coverage_verdict
    assert v(0.60, 0.58, 0.62).verdict == "supported"
    assert v(0.60, 0.51, 0.70).verdict == "supported"  # within 60.7 +/- 10 pp
    assert v(0.85, 0.80, 0.90).verdict == "contradicted"
    assert v(0.40, 0.30, 0.50).verdict == "contradicted"
    assert v(0.45, 0.40, 0.55).verdict == "contradicted"  # wholly below 55.7%
    # a tiny group's wide interval that merely overlaps 60.7% is neither support nor refutation
    wide = v(0.60, 0.30, 0.90)
    assert wide.verdict == "inconclusive" and wide.reasons[0].key == "funding.reasons.coverage_too_wide" and wide.lo == 0.3
    assert v(0.55, 0.50, 0.60).verdict == "inconclusive"  # straddles the bands
    assert v(0.69, 0.62, 0.75).verdict == "inconclusive"
    assert v(0.6, float("nan"), float("nan")).verdict == "not_testable"
    assert wide.nominal_rate == 0.025 and wide.to_dict()["rule"] == "funding.rules.coverage"
    assert claims.hybrid_verdict(None).verdict == "not_testable"
    assert claims.multi_year_verdict(None).verdict == "not_testable"
    assert claims.org_strength_verdict(None, None).verdict == "not_testable"


def test_too_little_data_returns_none(apps):
    assert fm.fit_approval(apps.head(10)) is None


def test_multi_year_by_phase(apps):
    t = funding.multi_year_by_phase(apps, seed=1, n_boot=50)
    assert t["phase"].tolist() == ["plan", "start", "growth", "mature"]
    assert ((t["multi_year_share_lo"] <= t["multi_year_share"]) & (t["multi_year_share"] <= t["multi_year_share_hi"])).all()
    assert (t["approval_multi_year"] < t["approval_single_year"]).all()


def test_figures_build(apps, fit, tmp_path):
    (tmp_path / "tables").mkdir()
    by_band = publish_table(
        funding.gap_table(apps, ["size_band"], seed=1, n_boot=20),
        tmp_path,
        "b",
        keep=("size_band",),
        count_column="n_initiatives",
    )
    cross = publish_table(
        funding.gap_table(apps.head(600), ["source", "phase"], seed=1, n_boot=20),
        tmp_path,
        "c",
        keep=("source", "phase"),
        count_column="n_initiatives",
    )
    by_year = publish_table(
        funding.coverage_by_year(apps, seed=1, n_boot=20), tmp_path, "y", keep=("year",), count_column="n_initiatives"
    )
    figs = [
        funding.plot_gap_heatmap(cross),
        funding.plot_missing_middle(by_band),
        funding.plot_share_distribution(apps, overall=0.6),
        funding.plot_coverage_by_year(by_year),
        fm.plot_ame_forest({"approval": fm.ame_table(fit)}),
    ]
    for fig in figs:
        assert fig.axes and (fig.axes[0].get_title() or fig.axes[0].get_title(loc="left"))
        plt.close(fig)


def test_forest_shows_both_models_on_one_readable_axis(fit, apps):
    """One shared axis (no neighbouring panels whose x labels could collide), both models as
    separate markers, 8 inches wide (800 px at 100 dpi)."""
    fig = fm.plot_ame_forest({"approval": fm.ame_table(fit), "coverage": fm.ame_table(fm.fit_coverage(apps))}, "en")
    assert len(fig.axes) == 1 and fig.get_size_inches()[0] <= 8.01
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "Probability of approval",
        "Share of the request granted",
    ]
    assert "hybrid vs social, government subsidy" in [t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels()]
    plt.close(fig)


def _fake_fit(params: dict[str, float], frame: pd.DataFrame, se: float = 0.1) -> fm.ModelFit:
    idx = list(params)
    return fm.ModelFit(
        name="t",
        outcome="approved",
        columns=idx,
        params=pd.Series(params),
        cov=pd.DataFrame(np.eye(len(idx)) * se**2, index=idx, columns=idx),
        n_obs=len(frame),
        n_clusters=len(frame),
        frame=frame,
        options={"value_model": False, "phase": False, "fund_purpose": True, "multi_year": False},
    )


def test_org_verdict_uses_the_fund_grant_contrast_not_the_pooled_one():
    frame = pd.DataFrame(
        {
            "source": ["fund_grant"] * 3 + ["government_subsidy"] * 3,
            "purpose": ["organisational_strengthening", "startup", "project"] * 2,
        }
    )
    pooled = _fake_fit({"source[fund_grant]": 0.5, fm.ORG: -1.0, fm.PROJECT: 0.0}, frame)
    # strongly negative for other sources, zero within fund grants: pooled says yes, funds say no
    fund = _fake_fit({"source[fund_grant]": 0.5, fm.ORG: -1.0, fm.PROJECT: 0.0, fm.ORG_FUND: 1.0, fm.PROJECT_FUND: 0.0}, frame)
    v = claims.org_strength_verdict(pooled, fund)
    assert v.verdict == "inconclusive"
    evidence = {r.key.rsplit(".", 1)[1]: r.values for r in v.reasons}
    assert evidence["pooled_org_startup"]["hi"] < 0 and evidence["fund_org_startup"]["estimate"] == 0
    assert v.rule == "funding.rules.org_strength"
    # se of org + org:fund from the covariance: sqrt(0.01 + 0.01)
    assert evidence["fund_org_startup"]["hi"] == pytest.approx(fm.Z95 * math.sqrt(0.02), abs=1e-4)
    # project differs within fund grants: org - project uses the fund-grant project term too
    fund2 = _fake_fit({"source[fund_grant]": 0.5, fm.ORG: -1.0, fm.PROJECT: 0.0, fm.ORG_FUND: 0.0, fm.PROJECT_FUND: -1.0}, frame)
    v2 = claims.org_strength_verdict(pooled, fund2)
    ev2 = {r.key.rsplit(".", 1)[1]: r.values for r in v2.reasons}
    assert ev2["fund_org_project"]["estimate"] == pytest.approx(0.0) and v2.verdict == "inconclusive"
    # no fund-grant start-up applications: not testable, pooled numbers still given
    no_start = _fake_fit(fund.params.to_dict(), frame[frame["purpose"] != "startup"])
    v3 = claims.org_strength_verdict(pooled, no_start)
    assert v3.verdict == "not_testable" and "funding.evidence.pooled_org_startup" in [r.key for r in v3.reasons]


def test_multi_year_rates_carry_their_own_counts_and_are_suppressed_on_them(embedded):
    apps = funding.applications(maexlab.load("embedded", province="Zeeland"))
    t = funding.multi_year_by_phase(apps, seed=1, n_boot=0, min_group_size=15).set_index("phase")
    d = apps[apps["decided"]].dropna(subset=["phase", "multi_year"])
    own = d.groupby(["phase", "multi_year"])["initiative_id"].nunique().unstack()
    for kind, flag in (("multi_year", True), ("single_year", False)):
        shown = t[f"approval_{kind}"].notna()
        # every shown rate has its own count, and that count is of decided requests of its kind
        assert (t.loc[shown, f"decided_{kind}_initiatives"] == own.loc[shown[shown].index, flag]).all()
        assert (t.loc[shown, f"decided_{kind}_initiatives"] >= 15).all()
        # a rate whose own group is small is blank, with its counts
        small = own[flag].reindex(t.index) < 15
        assert t.loc[small, f"approval_{kind}"].isna().all() and t.loc[small, f"decided_{kind}_n"].isna().all()
    assert t["approval_multi_year"].isna().any()
    # within a phase, never exactly one of the two rates hidden
    assert (t["approval_multi_year"].isna() == t["approval_single_year"].isna()).all()


def test_rows_left_out_are_counted(embedded):
    f = embedded.funding.copy()
    decided = f["status"].isin(("granted", "partial", "rejected"))
    no_phase = f.index[decided][:7]
    f.loc[no_phase, "phase_at_application"] = None
    top_up = f.index[f["status"] == "granted"][-3:]
    f.loc[top_up, "amount_granted"] = 2 * f.loc[top_up, "amount_requested"]
    data = MaexData({name: (f if name == "funding" else None) for name in TABLES}, source="test", synthetic=True)
    apps = funding.applications(data)
    # gap tables say how many decided applications they could not place
    t = funding.gap_table(apps, ["phase"], seed=1, n_boot=0)
    assert t.attrs["left_out"]["applications"] == 7 and "phase" in t.attrs["left_out"]["reasons"]
    assert t["n"].sum() == int(apps["decided"].sum()) - 7
    assert funding.gap_table(apps, ["source"], seed=1, n_boot=0).attrs["left_out"]["applications"] == 0
    # the models record the applications they leave out, and why
    fit = fm.fit_approval(apps)
    assert any(n.key == "funding.notes.left_out" and n.values["n"] == 7 and "phase" in n.values["inputs"] for n in fit.notes)
    assert fit.n_obs == int(apps["decided"].sum()) - 7
    # top-ups: share capped at 1, counted, and noted in the coverage model
    assert funding.share_capped(apps) == 3
    assert apps.loc[apps["granted_above_request"], "share_granted"].eq(1.0).all()
    assert any(n.key == "funding.notes.top_ups" and n.values["n"] == 3 for n in fm.fit_coverage(apps).notes)
    # money-weighted coverage keeps the amounts as granted
    overall = funding.gap_table(apps, [], seed=1, n_boot=0).iloc[0]
    d = apps[apps["decided"]]
    assert overall["coverage"] == pytest.approx(d["amount_granted"].sum() / d["amount_requested"].sum())


def test_fit_terms_give_the_models_own_intervals(fit):
    terms = fit.terms()
    c = fit.coef("multi_year")
    assert terms["multi_year"]["lo"] == c["lo"] and terms["multi_year"]["hi"] == c["hi"]
    assert terms["multi_year"]["or_lo"] == pytest.approx(math.exp(c["lo"]))


def _recoverable_hidden_cells(cross: pd.DataFrame, margins: dict[str, pd.DataFrame], overall: pd.DataFrame) -> list:
    """Hidden cells of a published two-way table whose additive statistics (n, EUR requested,
    EUR granted) follow exactly from the shown cells and the published margins and total.

    Each shown margin gives one linear equation: the sum of the hidden cells in its line. A
    hidden cell is determined exactly when its unit vector lies in the span of these equations.
    """
    hidden = cross.index[cross["suppressed"]].tolist()
    if not hidden:
        return []
    rows = []
    for dim, margin in margins.items():
        for _, m in margin[~margin["suppressed"]].iterrows():
            rows.append([float(cross.at[h, dim] == m[dim]) for h in hidden])
    if not overall["suppressed"].iloc[0]:
        rows.append([1.0] * len(hidden))
    a = np.array(rows) if rows else np.zeros((0, len(hidden)))
    rank = np.linalg.matrix_rank(a) if len(a) else 0
    out = []
    for i, h in enumerate(hidden):
        e = np.zeros(len(hidden))
        e[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(tuple(cross.loc[h, list(margins)]))
    return out


@pytest.mark.parametrize("province", [None, "Zeeland", "Drenthe", "Flevoland", "Utrecht"])
@pytest.mark.parametrize("min_group_size", [10, 25])
def test_source_phase_cells_cannot_be_derived_from_published_margins(province, min_group_size):
    """The notebook's claim: no hidden source x phase cell follows from the shown cells and the
    published source table, phase table and overall row (published as the notebook does)."""
    apps = funding.applications(maexlab.load("embedded", province=province))

    def publish(by):
        t = funding.gap_table(apps, by, seed=1, n_boot=0)
        return suppress_small_cells(t, "n_initiatives", min_group_size, keep=tuple(by))

    cross = publish(["source", "phase"])
    margins = {"source": publish(["source"]), "phase": publish(["phase"])}
    assert_no_small_groups(cross, "n_initiatives", min_group_size)
    assert not _recoverable_hidden_cells(cross, margins, publish([]))


def test_heatmap_shows_the_published_table_cell_for_cell():
    shown = pd.DataFrame(
        {
            "source": ["fund_grant", "fund_grant", "government_subsidy", "government_subsidy", "investor_loan"],
            "phase": ["start", "growth", "start", "growth", "start"],
            "coverage": [0.5, np.nan, np.nan, 0.8, 0.7],
            "suppressed": [False, True, True, False, False],
        }
    )
    fig = funding.plot_gap_heatmap(shown)
    texts = [t.get_text() for t in fig.axes[0].texts if len(t.get_text()) <= 4]  # cell marks, not the footnote
    # investor_loan x growth has no applications: "-", not the suppression mark
    assert sorted(texts) == sorted(["50%", "·", "·", "80%", "70%", "-"])
    plt.close(fig)
