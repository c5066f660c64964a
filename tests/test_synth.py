"""Tests of the synthetic data generator: structure, vocabularies, dates, identities, determinism
and calibration to the published figures in docs/planted_effects.md."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from maexlab.data import synth
from maexlab.data.schema import (
    DECIDED_STATUSES,
    IMPACT_INDICATORS,
    PROVINCES,
    TABLES,
)

SMALL = 300


@pytest.fixture(scope="module")
def full():
    return synth.generate()


@pytest.fixture(scope="module")
def small():
    return synth.generate(seed=7, n_initiatives=SMALL)


@pytest.fixture(scope="module")
def null():
    return synth.generate(seed=7, n_initiatives=SMALL, effects=False)


def test_tables_and_columns_follow_schema(small):
    tables, _ = small
    assert set(tables) == set(TABLES)
    for name, df in tables.items():
        expected = TABLES[name].column_names
        assert list(df.columns) == [c for c in expected if c in df.columns], name
        required = [c for c in expected if not (name == "funding" and c == "phase_at_application")]
        assert set(required) <= set(df.columns), name
        assert not df.duplicated(list(TABLES[name].key)).any(), name
    assert len(tables["initiatives"]) == SMALL


def test_vocabularies_and_ranges(small):
    tables, _ = small
    for name, df in tables.items():
        for col in TABLES[name].columns:
            if col.name not in df.columns:
                continue
            values = df[col.name]
            if not col.nullable:
                assert values.notna().all(), f"{name}.{col.name} has empty cells"
            present = values.dropna()
            if col.vocabulary:
                assert set(present) <= set(col.vocabulary), f"{name}.{col.name}"
            if col.minimum is not None:
                assert (present >= col.minimum).all(), f"{name}.{col.name}"
            if col.maximum is not None:
                assert (present <= col.maximum).all(), f"{name}.{col.name}"
            if col.pattern:
                assert present.astype(str).str.fullmatch(col.pattern).all(), f"{name}.{col.name}"
    impact = tables["impact"]
    assert (impact["unit"] == impact["indicator"].map(lambda i: IMPACT_INDICATORS[i][0])).all()
    assert (impact["sdg"] == impact["indicator"].map(lambda i: IMPACT_INDICATORS[i][1])).all()


def test_date_order(small):
    tables, _ = small
    ini = tables["initiatives"].set_index("initiative_id")
    assert (ini["founded_on"] >= pd.Timestamp("2010-01-01")).all()
    assert (ini["founded_on"] <= pd.Timestamp("2025-06-30")).all()
    assert (ini["joined_on"] >= ini["founded_on"]).all()
    assert (ini["joined_on"] >= pd.Timestamp("2015-03-01")).all()
    assert (ini["observed_until"] == pd.Timestamp("2026-06-30")).all()
    closed = ini["closed_on"].notna()
    assert (ini.loc[closed, "closed_on"] > ini.loc[closed, "joined_on"]).all()  # delayed entry: alive at join
    assert (ini.loc[closed, "closed_on"] <= ini.loc[closed, "observed_until"]).all()

    ph = tables["phases"].join(ini, on="initiative_id")
    assert (ph["entered_on"] >= ph["founded_on"]).all()
    assert (ph["entered_on"] <= ph["closed_on"].fillna(ph["observed_until"])).all()
    first = ph.sort_values("entered_on").groupby("initiative_id").first()
    assert first["phase"].isin(["plan", "start"]).all()
    assert (first["entered_on"] == ini.loc[first.index, "founded_on"]).all()
    closed_rows = ph[ph["phase"] == "closed"]
    assert (closed_rows["entered_on"] == closed_rows["closed_on"]).all()
    assert set(closed_rows["initiative_id"]) == set(ini.index[closed])
    # phases follow the order plan -> start -> growth -> mature -> closed in time
    rank = ph["phase"].map({"plan": 0, "start": 1, "growth": 2, "mature": 3, "closed": 4})
    ordered = ph.assign(rank=rank).sort_values(["initiative_id", "rank"])
    assert (ordered.groupby("initiative_id")["entered_on"].diff().dropna() >= pd.Timedelta(0)).all()

    fu = tables["funding"].join(ini, on="initiative_id")
    assert (fu["applied_on"] >= fu["founded_on"]).all()
    assert (fu["applied_on"] >= fu["joined_on"] - pd.Timedelta(days=731)).all()
    assert (fu["applied_on"] <= fu["closed_on"].fillna(fu["observed_until"])).all()
    decided = fu["status"].isin(DECIDED_STATUSES)
    assert fu.loc[decided, "decided_on"].notna().all()
    assert fu.loc[~decided, "decided_on"].isna().all()
    assert (fu.loc[decided, "decided_on"] > fu.loc[decided, "applied_on"]).all()
    assert (fu.loc[decided, "decided_on"] <= fu.loc[decided, "closed_on"].fillna(fu.loc[decided, "observed_until"])).all()

    a = tables["assessments"].join(ini, on="initiative_id")
    assert (a["assessed_on"] >= a["joined_on"]).all()
    assert (a["assessed_on"] < a["closed_on"].fillna(a["observed_until"] + pd.Timedelta(days=1))).all()


def test_funding_amounts_and_statuses(small):
    fu = small[0]["funding"]
    granted = fu["amount_granted"]
    assert (fu.loc[fu["status"] == "granted", "amount_granted"] == fu.loc[fu["status"] == "granted", "amount_requested"]).all()
    part = fu["status"] == "partial"
    assert ((granted[part] > 0) & (granted[part] < fu.loc[part, "amount_requested"])).all()
    assert (fu.loc[fu["status"] == "rejected", "amount_granted"] == 0).all()
    assert fu.loc[fu["status"].isin(["pending", "withdrawn"]), "amount_granted"].isna().all()
    assert (fu.loc[~fu["multi_year"], "term_years"] == 1).all()
    assert fu.loc[fu["multi_year"], "term_years"].between(2, 5).all()


def test_revenue_identity_and_years(small):
    tables, _ = small
    fin = tables["financials"]
    parts = fin[["earned_income", "subsidies", "grants", "donations"]].sum(axis=1).round(2)
    assert np.allclose(fin["revenue"], parts, rtol=0, atol=1e-6)
    assert (fin["year"] <= synth.LAST_FIN_YEAR).all()
    ini = tables["initiatives"].set_index("initiative_id")
    f = fin.join(ini, on="initiative_id")
    assert (f["year"] >= f["founded_on"].dt.year).all()
    assert (f["year"] >= f["joined_on"].dt.year - 1).all()
    assert (f["year"] <= f["closed_on"].dt.year.fillna(9999)).all()


def test_assessment_outcomes(small):
    a = small[0]["assessments"]
    acc = a["decision"] == "accepted"
    assert (a.loc[acc, "amount_offered"] > 0).all()
    assert (a.loc[~acc, "amount_offered"] == 0).all()
    assert a["valuation"].notna().eq(acc & (a["instrument"] == "equity")).all()
    assert a["interest_rate"].notna().eq(acc & (a["instrument"] == "loan")).all()
    pairs = set(zip(a["investor_type"], a["instrument"], strict=True))
    for inv, instr in pairs:
        assert instr in synth.INSTRUMENT_MIX[inv], (inv, instr)


def test_proxies_equal_reference(small):
    proxies = small[0]["proxies"]
    assert set(proxies["indicator"]) == set(IMPACT_INDICATORS)
    assert proxies["source"].str.len().gt(10).all()
    ref = synth.REFERENCE_DIR / "proxies.csv"
    if ref.exists():
        pd.testing.assert_frame_equal(pd.read_csv(ref), proxies, check_dtype=False)


def test_determinism(small, tmp_path):
    again = synth.generate(seed=7, n_initiatives=SMALL)
    for name, df in small[0].items():
        pd.testing.assert_frame_equal(df, again[0][name])
    assert json.dumps(small[1], sort_keys=True) == json.dumps(again[1], sort_keys=True)
    other = synth.generate(seed=8, n_initiatives=SMALL)[0]
    assert not other["initiatives"].equals(small[0]["initiatives"])
    a, b = tmp_path / "a", tmp_path / "b"
    synth.write_embedded(a, seed=3, n_initiatives=120)
    synth.write_embedded(b, seed=3, n_initiatives=120)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted([f"{t}.csv" for t in TABLES] + ["dataset.json", "planted_effects.json"])
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    meta = json.loads((a / "dataset.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True and meta["generator"] == "maexlab.data.synth" and meta["seed"] == 3
    assert "SYNTHETIC" in meta["description"]


def test_truth_is_json_and_effects_false_zeroes_every_effect(small, null):
    truth = small[1]
    json.dumps(truth)
    assert truth["closure_hazard_ratio"]["organisational_strengthening_received"] == 0.6
    assert truth["closure_hazard_ratio"]["multi_year_received"] == 0.7
    assert truth["approval_logit"]["hybrid_x_government_subsidy"] == -0.8
    assert truth["approval_logit"]["hybrid_x_investor"] == -0.7
    assert truth["loan_rate"]["impact_investor_discount_pp"] == 3.0

    t0 = null[1]
    assert t0["effects"] is False
    assert t0["closure_hazard_ratio"]["organisational_strengthening_received"] == 1.0
    assert t0["closure_hazard_ratio"]["multi_year_received"] == 1.0
    al = t0["approval_logit"]
    assert all(v == 0 for v in al["value_model_x_source"].values())
    assert all(v == 0 for v in al["purpose"].values())
    assert all(v == 0 for v in al["phase"].values())
    assert al["multi_year"] == 0 and al["log_amount_minus_log_25000"] == 0
    cov = t0["coverage_model"]
    assert cov["partial_share_mean_logit"]["hybrid"] == 0 and cov["partial_share_mean_logit"]["organisational_strengthening"] == 0
    assert cov["partial_share_mean_logit"]["log_amount"] == 0 and cov["full_grant_logit"]["log_amount"] == 0
    assert all(v == 0 for v in t0["valuation"]["impact_slope_by_investor"].values())
    assert t0["valuation"]["mainstream_penalty_social_hybrid_vs_commercial"] == 0
    assert t0["loan_rate"]["impact_investor_discount_pp"] == 0
    assert all(v == 0 for v in t0["decision_logit"]["impact_slope_by_investor"].values())
    assert t0["decision_logit"]["mainstream_hybrid"] == 0
    # same structure either way
    for name, df in null[0].items():
        assert list(df.columns) == list(small[0][name].columns)


def test_no_effect_data_shows_no_hybrid_subsidy_gap(null):
    tables, _ = null
    fu = tables["funding"].merge(tables["initiatives"][["initiative_id", "value_model"]], on="initiative_id")
    d = fu[fu["status"].isin(DECIDED_STATUSES) & (fu["source"] == "government_subsidy")]
    rate = d.assign(ok=d["status"].isin(["granted", "partial"])).groupby("value_model")["ok"].mean()
    assert abs(rate["hybrid"] - rate["social"]) < 0.15


# --- calibration on the default dataset ---------------------------------------------------------


def _km_survival(ini: pd.DataFrame, years: float) -> float:
    """Kaplan-Meier from founding with delayed entry at joined_on, by hand."""
    t = (ini["closed_on"].fillna(ini["observed_until"]) - ini["founded_on"]).dt.days.to_numpy() / 365.25
    e = ini["closed_on"].notna().to_numpy()
    entry = (ini["joined_on"] - ini["founded_on"]).dt.days.to_numpy() / 365.25
    s = 1.0
    for u in np.unique(t[e & (t <= years)]):
        at_risk = np.sum((entry < u) & (t >= u))
        s *= 1.0 - np.sum(e & (t == u)) / at_risk
    return s


def test_default_size_and_geography(full):
    ini = full[0]["initiatives"]
    assert len(ini) == synth.DEFAULT_N
    assert set(ini["province"]) == set(PROVINCES)
    assert ini["province"].value_counts().min() >= 60
    assert ini["municipality"].value_counts().min() >= 12
    assert {"'s-Hertogenbosch", "'s-Gravenhage", "Súdwest-Fryslân"} <= set(ini["municipality"])
    share = ini["value_model"].value_counts(normalize=True)
    assert 0.40 <= share["social"] <= 0.50 and 0.30 <= share["hybrid"] <= 0.40 and 0.15 <= share["commercial"] <= 0.25
    assert (ini["joined_on"] > ini["founded_on"]).mean() > 0.15  # real left truncation
    assert 10000 <= len(full[0]["funding"]) <= 14000
    assert 2500 <= len(full[0]["assessments"]) <= 3500


def test_calibration_coverage_and_approval(full):
    fu = full[0]["funding"]
    d = fu[fu["status"].isin(DECIDED_STATUSES)]
    coverage = d["amount_granted"].sum() / d["amount_requested"].sum()
    assert 0.55 <= coverage <= 0.66
    approval = d["status"].isin(["granted", "partial"]).mean()
    assert 0.62 <= approval <= 0.72
    assert 0.02 <= (fu["status"] == "withdrawn").mean() <= 0.05
    assert abs(full[1]["derived"]["coverage_overall"] - coverage) < 0.04


def test_calibration_survival(full):
    ini = full[0]["initiatives"]
    s5 = _km_survival(ini, 5.0)
    assert 0.55 <= s5 <= 0.65
    assert abs(full[1]["derived"]["survival_5y"] - s5) < 0.04


def test_survival_matches_lifelines(full):
    lifelines = pytest.importorskip("lifelines")
    ini = full[0]["initiatives"]
    t = (ini["closed_on"].fillna(ini["observed_until"]) - ini["founded_on"]).dt.days / 365.25
    entry = (ini["joined_on"] - ini["founded_on"]).dt.days / 365.25
    km = lifelines.KaplanMeierFitter().fit(t, ini["closed_on"].notna(), entry=entry)
    assert abs(float(km.predict(5.0)) - _km_survival(ini, 5.0)) < 0.01


def test_calibration_phase_mix(full):
    tables, _ = full
    ini = tables["initiatives"]
    active = ini.loc[ini["closed_on"].isna(), "initiative_id"]
    ph = tables["phases"]
    ph = ph[ph["initiative_id"].isin(active)]
    rank = ph["phase"].map({"plan": 0, "start": 1, "growth": 2, "mature": 3})
    current = ph.assign(rank=rank).sort_values(["initiative_id", "rank"]).groupby("initiative_id")["phase"].last()
    mix = current.value_counts(normalize=True)
    early = mix.get("plan", 0) + mix.get("start", 0)
    assert 0.12 <= early <= 0.22
    assert 0.42 <= mix["growth"] <= 0.55
    assert 0.27 <= mix["mature"] <= 0.37
