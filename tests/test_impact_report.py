"""Tests of notebook 04's tables, figures and SROI case (maexlab.impact.tables, .plots, .sroi_case):
hand-computed values on a tiny frame, and the notebook's behaviour on partial data.

Tiny frame (values by hand):
  proxies: people_to_work 15,000/person, volunteer_hours 20/hour, meals_served 5/meal
  2024: A = 2 x 15,000 + 100 x 20 = 32,000;  B = 3 x 15,000 = 45,000;  C = 1,000 x 5 = 5,000
  2023: A = 1 x 15,000 = 15,000
"""

from __future__ import annotations

import json
import math
import shutil

import matplotlib
import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from maexlab.impact import impact_value_by, maex_ratios, plots, sroi_case, tables
from maexlab.impact.sroi import sroi
from maexlab.reporting.privacy import suppress_small_cells

matplotlib.use("Agg")


@pytest.fixture
def tiny():
    initiatives = pd.DataFrame(
        {
            "initiative_id": ["A", "B", "C"],
            "theme": ["work_participation", "work_participation", "care_wellbeing"],
            "value_model": ["social", "social", "hybrid"],
            "volunteers": pd.array([10, 0, 5], dtype="Int64"),
            "paid_staff_fte": [1.0, 2.0, 0.0],
            "people_reached": pd.array([100, 50, 200], dtype="Int64"),
            "closed_on": pd.to_datetime([None, None, "2024-03-01"]),
            "observed_until": pd.to_datetime(["2026-06-30"] * 3),
        }
    )
    phases = pd.DataFrame(
        {
            "initiative_id": ["A", "A", "B", "C", "C"],
            "phase": ["start", "growth", "plan", "start", "closed"],
            "entered_on": pd.to_datetime(["2020-01-01", "2024-06-01", "2023-01-01", "2019-01-01", "2024-03-01"]),
        }
    )
    impact = pd.DataFrame(
        {
            "initiative_id": ["A", "A", "B", "C", "A"],
            "year": [2024, 2024, 2024, 2024, 2023],
            "indicator": ["people_to_work", "volunteer_hours", "people_to_work", "meals_served", "people_to_work"],
            "sdg": [8, 8, 8, 2, 8],
            "quantity": [2.0, 100.0, 3.0, 1000.0, 1.0],
        }
    )
    proxies = pd.DataFrame(
        {
            "indicator": ["people_to_work", "volunteer_hours", "meals_served"],
            "unit": ["person", "hour", "meal"],
            "euro_per_unit": [15000.0, 20.0, 5.0],
            "source": ["s1", "s2", "s3"],
        }
    )
    financials = pd.DataFrame(
        {
            "initiative_id": ["A", "B", "C", "A"],
            "year": [2024, 2024, 2024, 2023],
            "subsidies": [10000.0, 0.0, 4000.0, 0.0],
            "earned_income": [20000.0, 0.0, 1000.0, 0.0],
            "costs": [50000.0, 30000.0, 8000.0, 40000.0],
        }
    )
    funding = pd.DataFrame({"initiative_id": ["A", "A", "B", "C"], "amount_granted": [10000.0, 6000.0, 0.0, 2500.0]})
    return {
        "initiatives": initiatives,
        "phases": phases,
        "impact": impact,
        "proxies": proxies,
        "financials": financials,
        "funding": funding,
    }


def _row(df, **where):
    mask = np.ones(len(df), dtype=bool)
    for k, v in where.items():
        mask &= (df[k] == v).to_numpy()
    assert mask.sum() == 1, where
    return df[mask].iloc[0]


# --- impact value by group ------------------------------------------------------------------


def test_impact_value_table_by_theme(tiny):
    t = tables.impact_value_table(tiny["impact"], tiny["proxies"], tiny["initiatives"], by="theme")
    wp = _row(t, year=2024, theme="work_participation")
    assert wp["n"] == 2
    assert wp["impact_value_eur"] == 77000.0  # 32,000 + 45,000
    assert wp["mean_per_initiative_eur"] == 38500.0
    assert wp["median_per_initiative_eur"] == 38500.0
    cw = _row(t, year=2024, theme="care_wellbeing")
    assert (cw["n"], cw["impact_value_eur"]) == (1, 5000.0)
    assert _row(t, year=2023, theme="work_participation")["impact_value_eur"] == 15000.0
    # totals and counts agree with the package's impact_value_by
    ref = impact_value_by(tiny["impact"], tiny["proxies"], tiny["initiatives"], by=["theme"])
    assert t["impact_value_eur"].tolist() == ref["impact_value_eur"].tolist()
    assert t["n"].tolist() == ref["n_initiatives"].tolist()


def test_impact_value_table_median_differs_from_mean():
    # three initiatives in one group: 100, 200, 900 -> mean 400, median 200
    impact = pd.DataFrame(
        {"initiative_id": ["A", "B", "C"], "year": [2024] * 3, "indicator": ["x"] * 3, "quantity": [1.0, 2.0, 9.0]}
    )
    proxies = pd.DataFrame({"indicator": ["x"], "unit": ["u"], "euro_per_unit": [100.0], "source": ["s"]})
    inits = pd.DataFrame({"initiative_id": ["A", "B", "C"], "theme": ["t"] * 3})
    row = tables.impact_value_table(impact, proxies, inits, by="theme").iloc[0]
    assert (row["n"], row["impact_value_eur"], row["mean_per_initiative_eur"], row["median_per_initiative_eur"]) == (
        3,
        1200.0,
        400.0,
        200.0,
    )


def test_impact_value_table_by_sdg_and_value_model(tiny):
    sdg = tables.impact_value_table(tiny["impact"], tiny["proxies"], tiny["initiatives"], by="sdg")
    assert _row(sdg, year=2024, sdg=8)[["n", "impact_value_eur"]].tolist() == [2, 77000.0]
    assert _row(sdg, year=2024, sdg=2)[["n", "impact_value_eur"]].tolist() == [1, 5000.0]
    vm = tables.impact_value_table(tiny["impact"], tiny["proxies"], tiny["initiatives"], by="value_model")
    assert _row(vm, year=2024, value_model="social")["impact_value_eur"] == 77000.0
    assert _row(vm, year=2024, value_model="hybrid")["impact_value_eur"] == 5000.0


def test_phase_at_year_end(tiny):
    phase = tables.phase_at_year_end(tiny["phases"], tiny["impact"])
    # A: growth from 2024-06-01 -> growth at end 2024, start at end 2023; B plan; C closed on 2024-03-01
    assert phase.tolist() == ["growth", "growth", "plan", "closed", "start"]
    early = pd.DataFrame({"initiative_id": ["B"], "year": [2022]})
    assert tables.phase_at_year_end(tiny["phases"], early).tolist() == ["unknown"]


def test_impact_value_table_by_phase(tiny):
    t = tables.impact_value_table(
        tiny["impact"], tiny["proxies"], tiny["initiatives"], by=["value_model", "phase"], phases=tiny["phases"]
    )
    assert _row(t, year=2024, value_model="social", phase="growth")["impact_value_eur"] == 32000.0
    assert _row(t, year=2024, value_model="social", phase="plan")["impact_value_eur"] == 45000.0
    assert _row(t, year=2024, value_model="hybrid", phase="closed")["impact_value_eur"] == 5000.0
    assert _row(t, year=2023, value_model="social", phase="start")["impact_value_eur"] == 15000.0
    with pytest.raises(ValueError, match="needs the phases table"):
        tables.impact_value_table(tiny["impact"], tiny["proxies"], tiny["initiatives"], by="phase")


def test_latest_full_year():
    from types import SimpleNamespace

    imp = pd.DataFrame({"year": [2023, 2024, 2025, 2026]})
    mid = SimpleNamespace(
        initiatives=pd.DataFrame({"observed_until": pd.to_datetime(["2026-06-30"])}), impact=imp, financials=None
    )
    assert tables.latest_full_year(mid) == 2025  # 2026 is not complete
    dec = SimpleNamespace(
        initiatives=pd.DataFrame({"observed_until": pd.to_datetime(["2025-12-31"])}), impact=imp, financials=None
    )
    assert tables.latest_full_year(dec) == 2025
    assert tables.latest_full_year(SimpleNamespace(initiatives=None, impact=imp, financials=None)) == 2026
    fin_only = SimpleNamespace(initiatives=None, impact=None, financials=pd.DataFrame({"year": [2019, 2020]}))
    assert tables.latest_full_year(fin_only) == 2020
    assert tables.latest_full_year(SimpleNamespace(initiatives=None, impact=None, financials=None)) is None


def test_proxies_for_prefers_the_datasets_own(tiny):
    from types import SimpleNamespace

    own, where = tables.proxies_for(SimpleNamespace(proxies=tiny["proxies"]))
    assert own is tiny["proxies"] and where == "dataset"
    ref, where = tables.proxies_for(SimpleNamespace(proxies=None))
    assert where == "reference" and ref["source"].notna().all()


def test_plots_leave_out_suppressed_groups(tiny):
    t = tables.impact_value_table(tiny["impact"], tiny["proxies"], tiny["initiatives"], by="theme")
    # Primary suppression only: this test is about how plots show hidden groups, not which are hidden.
    shown = suppress_small_cells(t, min_group_size=2, keep=("year", "theme"), secondary=False)
    fig = plots.plot_impact_by(shown, "theme", 2024, language="en")
    labels = [x.get_text() for x in fig.axes[0].get_yticklabels()]
    assert labels == ["work participation"]
    assert "1 group(s) below the minimum size not shown" in fig._suptitle.get_text()
    nl = plots.plot_impact_by(shown, "theme", 2024, language="nl")
    assert [x.get_text() for x in nl.axes[0].get_yticklabels()] == ["arbeidsparticipatie"]
    assert "groep(en) onder de minimale grootte" in nl._suptitle.get_text()
    # each panel has its own title, so the two x labels never have to share one line
    assert [ax.get_title() for ax in fig.axes[:2]] == ["Total impact value", "Median per initiative"]
    hm = tables.impact_value_table(
        tiny["impact"], tiny["proxies"], tiny["initiatives"], by=["value_model", "phase"], phases=tiny["phases"]
    )
    fig = plots.plot_phase_heatmap(
        suppress_small_cells(hm, min_group_size=2, keep=("year", "value_model", "phase"), secondary=False), 2024, language="en"
    )
    texts = [x.get_text() for x in fig.axes[0].texts]
    assert texts.count("·") == 3 and not any(ch.isdigit() for t_ in texts for ch in t_)
    assert [x.get_text() for x in fig.axes[0].get_xticklabels()] == ["plan phase", "growth phase", "closed"]


# --- SROI ------------------------------------------------------------------------------------


def test_build_sroi_case_hand_computed(tiny):
    c = sroi_case.build_sroi_case(tiny["impact"], tiny["proxies"], tiny["initiatives"], tiny["financials"], 2024)
    assert c.initiative_ids == ("A", "B") and c.n == 2
    assert c.quantity == 5.0  # 2 + 3 people to work
    assert c.inputs == 80000.0  # 50,000 + 30,000 costs; C is another theme
    assert c.financial_proxy == 15000.0 and c.proxy_source == "s1"
    vm = c.value_map.iloc[0]
    assert (vm["deadweight"], vm["attribution"], vm["displacement"], vm["leakage"], vm["drop_off"], vm["duration_years"]) == (
        0.30,
        0.20,
        0.10,
        0.10,
        0.25,
        3,
    )
    assert c.discount_rate == 0.0225 and c.mode == "evaluative"  # the Dutch standard discount rate
    # declared simple assumptions: PV = 5 x 15,000 x (1 - 0.2) = 60,000; ratio = 60,000 / 80,000
    simple = (
        sroi_case.Assumption("deadweight", 0.2, 0.0, 0.4, "ASSUMPTION"),
        sroi_case.Assumption("discount_rate", 0.0, 0.0, 0.0, "x"),
    )
    c2 = sroi_case.build_sroi_case(
        tiny["impact"], tiny["proxies"], tiny["initiatives"], tiny["financials"], 2024, assumptions=simple
    )
    assert sroi(c2.value_map, c2.inputs, c2.discount_rate).ratio == pytest.approx(0.75)


def test_build_sroi_case_needs_a_group_with_costs(tiny):
    with pytest.raises(ValueError, match="no initiative with theme"):
        sroi_case.build_sroi_case(tiny["impact"], tiny["proxies"], tiny["initiatives"], tiny["financials"], 2022)
    fin = tiny["financials"].assign(costs=0.0)
    with pytest.raises(ValueError, match="inputs > 0"):
        sroi_case.build_sroi_case(tiny["impact"], tiny["proxies"], tiny["initiatives"], fin, 2024)


def test_assumption_helpers():
    ranges = sroi_case.tornado_ranges()
    dists = sroi_case.mc_distributions()
    assert set(ranges) == {a.parameter for a in sroi_case.SROI_ASSUMPTIONS}
    assert "duration_years" in ranges and "duration_years" not in dists  # integer: one-at-a-time only
    for a in sroi_case.SROI_ASSUMPTIONS:
        assert a.low <= a.value <= a.high
        if a.parameter in ("deadweight", "attribution", "displacement", "leakage", "drop_off"):
            assert a.source.startswith("ASSUMPTION") and not a.sourced  # none has a source in the domain notes
    table = sroi_case.assumptions_table()
    assert len(table) == len(sroi_case.SROI_ASSUMPTIONS)
    assert table.set_index("parameter").loc["deadweight", ["value", "low", "high"]].tolist() == [0.3, 0.1, 0.5]
    rate = table.set_index("parameter").loc["discount_rate"]
    assert (rate["value"], rate["low"], rate["high"], rate["sourced"]) == (0.0225, 0.0, 0.035, True)


# --- volunteers, ratios, unit costs, social return ------------------------------------------


def test_volunteer_valuation(tiny):
    t = tables.volunteer_valuation(tiny["initiatives"], 100, opportunity_rate=25.0)
    social = _row(t, value_model="social")  # A and B active; C closed
    assert (social["n"], social["volunteers"], social["hours"]) == (2, 10.0, 1000.0)
    assert social["value_market_value_eur"] == 20000.0  # 1,000 h x 20
    assert social["value_replacement_cost_eur"] == 14400.0  # 1,000 h x 14.40
    assert social["value_opportunity_cost_eur"] == 25000.0  # 1,000 h x 25 (declared)
    assert t["value_model"].tolist() == ["social", "all"]
    everyone = tables.volunteer_valuation(tiny["initiatives"], 100, opportunity_rate=25.0, active_only=False)
    assert _row(everyone, value_model="hybrid")["value_market_value_eur"] == 10000.0  # 5 x 100 h x 20
    assert _row(everyone, value_model="all")["hours"] == 1500.0
    rates = tables.volunteer_rates_table(25.0)
    assert rates["source"].iloc[2].startswith("ASSUMPTION")


def test_ratio_medians(tiny):
    r = maex_ratios(tiny["initiatives"], tiny["financials"], year=2024)
    # A: 1 FTE / 10 = 0.1, 10,000 / 20,000 = 0.5; B: no volunteers, no earned income -> NaN; C: 0 / 5 = 0, 4
    m = tables.ratio_medians(r, tiny["initiatives"], min_group_size=1)
    s = _row(m, value_model="social")
    assert (
        s["n"],
        s["n_staff_ratio"],
        s["median_staff_per_volunteer"],
        s["n_subsidy_ratio"],
        s["median_subsidy_per_earned_income"],
    ) == (2, 1, 0.1, 1, 0.5)
    h = _row(m, value_model="hybrid")
    assert (h["median_staff_per_volunteer"], h["median_subsidy_per_earned_income"]) == (0.0, 4.0)
    blanked = _row(tables.ratio_medians(r, tiny["initiatives"], min_group_size=2), value_model="social")
    assert blanked["n"] == 2 and math.isnan(blanked["median_staff_per_volunteer"])


def test_unit_costs_by(tiny):
    t = tables.unit_costs_by(
        tiny["initiatives"], tiny["financials"], tiny["impact"], tiny["proxies"], tiny["funding"], year=2024, min_group_size=1
    )
    s = _row(t, value_model="social")
    assert s["median_cost_per_person_eur"] == 550.0  # A 50,000/100 = 500, B 30,000/50 = 600
    assert s["pooled_cost_per_person_eur"] == pytest.approx(80000 / 150)
    assert s["n_funded"] == 1  # B has no funding granted -> no ratio
    assert s["median_impact_per_euro"] == pytest.approx(47000 / 16000)  # A: (32,000 + 15,000) / (10,000 + 6,000)
    h = _row(t, value_model="hybrid")
    assert (h["median_cost_per_person_eur"], h["median_impact_per_euro"]) == (40.0, 2.0)
    no_funding = tables.unit_costs_by(tiny["initiatives"], tiny["financials"], year=2024, min_group_size=1)
    assert "median_impact_per_euro" not in no_funding.columns
    small = _row(tables.unit_costs_by(tiny["initiatives"], tiny["financials"], year=2024, min_group_size=3), value_model="social")
    assert math.isnan(small["median_cost_per_person_eur"]) and math.isnan(small["pooled_cost_per_person_eur"])


def test_bootstrap_intervals_are_seeded_and_cover_the_median(tiny):
    rng = np.random.default_rng(3)
    values = rng.lognormal(10, 1, size=300)
    lo, hi = tables.bootstrap_median_ci(values, 400, np.random.default_rng(7))
    assert lo < np.median(values) < hi
    assert (lo, hi) == tables.bootstrap_median_ci(values, 400, np.random.default_rng(7))
    assert all(math.isnan(x) for x in tables.bootstrap_median_ci([], 400, np.random.default_rng(7)))
    a = tables.unit_costs_by(
        tiny["initiatives"],
        tiny["financials"],
        tiny["impact"],
        tiny["proxies"],
        tiny["funding"],
        year=2024,
        min_group_size=1,
        reps=200,
        seed=5,
    )
    b = tables.unit_costs_by(
        tiny["initiatives"],
        tiny["financials"],
        tiny["impact"],
        tiny["proxies"],
        tiny["funding"],
        year=2024,
        min_group_size=1,
        reps=200,
        seed=5,
    )
    pd.testing.assert_frame_equal(a, b)
    s = _row(a, value_model="social")
    assert 500.0 <= s["median_cost_ci_low"] <= 550.0 <= s["median_cost_ci_high"] <= 600.0  # resamples of {500, 600}
    m = tables.median_impact_value_by(
        tiny["impact"], tiny["proxies"], tiny["initiatives"], 2024, reps=200, seed=5, min_group_size=2
    )
    assert _row(m, value_model="social")["median_per_initiative_eur"] == 38500.0  # median of 32,000 and 45,000
    assert math.isnan(_row(m, value_model="hybrid")["ci_low"])  # one initiative < min_group_size


def test_social_return_example():
    t = tables.social_return_example(1_000_000, 0.05, 30_000)
    v = dict(zip(t["item"], t["value"], strict=True))
    assert v["obligation"] == 50000.0
    assert v["share_fulfilled"] == 0.6
    assert v["remaining"] == 20000.0
    assert dict(zip(t["item"], t["kind"], strict=True))["share_fulfilled"] == "percent"
    b = tables.social_return_example(200_000, 0.05, 30_000)
    below = dict(zip(b["item"], b["value"], strict=True))
    assert below["obligation"] == 0.0 and math.isnan(below["share_fulfilled"])


# --- partial data: the notebook on a dataset without some tables ------------------------------


@pytest.mark.parametrize("drop", [("impact", "phases"), ("phases",)], ids=["no-impact-no-phases", "no-phases"])
def test_notebook_on_partial_data(tiny_dataset, tmp_path, drop):
    papermill = pytest.importorskip("papermill")
    folder = tmp_path / "partial"
    shutil.copytree(tiny_dataset, folder)
    for name in drop:
        (folder / f"{name}.csv").unlink()
    kept = sorted(p.stem for p in folder.glob("*.csv"))
    (folder / "dataset.json").write_text(json.dumps({"synthetic": True, "tables": kept}))
    out = tmp_path / "out"
    papermill.execute_notebook(
        str(REPO / "notebooks" / "04_impact_value.ipynb"),
        str(tmp_path / "nb.ipynb"),
        parameters={"data_source": str(folder), "min_group_size": 1, "output_dir": str(out)},
        kernel_name="maexlab",
        cwd=str(REPO / "notebooks"),
        progress_bar=False,
    )
    results = json.loads((out / "results.json").read_text())
    skipped = results["not_computed"]
    assert "impact.phase.section" in skipped
    assert results["volunteer_value"]  # needs initiatives only
    assert results["social_return_example"]["obligation"] == 50000.0
    if "impact" in drop:
        assert {"impact.theme.section", "impact.sdg_section.section", "impact.sroi.base_section"} <= set(skipped)
        assert "impact.units_section.funding_section" in skipped
        assert "sroi" not in results
    else:
        assert "impact.theme.section" not in skipped
        # tiny data: I2 (work_participation) moved 4 people into work in 2020, costs 90,000
        assert results["sroi"]["quantity"] == 4.0 and results["sroi"]["inputs"] == 90000.0
        assert results["impact_value_by_theme_latest"]["work_participation"] == 60000.0
