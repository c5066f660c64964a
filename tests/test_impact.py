"""Tests for maexlab.impact: every metric against a hand-computed value, every error message."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maexlab import impact as im
from maexlab.data.schema import IMPACT_INDICATORS

# --- fixtures ------------------------------------------------------------------------------


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype={"initiative_id": str, "funding_id": str})


@pytest.fixture
def tables(tiny_dataset: Path) -> dict[str, pd.DataFrame]:
    """The conftest tiny dataset read as plain DataFrames (independent of maexlab.data)."""
    return {n: _read(tiny_dataset, n) for n in ("initiatives", "financials", "impact", "proxies", "funding")}


@pytest.fixture
def proxies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": ["volunteer_hours", "meals_served", "kwh_saved"],
            "unit": ["hour", "meal", "kWh"],
            "euro_per_unit": [20.0, 4.0, 0.25],
            "source": ["Erasmus/Zonnebloem", "Study B", "Study C"],
        }
    )


@pytest.fixture
def impact() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "initiative_id": ["A", "A", "B", "B", "C"],
            "year": [2022, 2023, 2023, 2023, 2023],
            "indicator": ["volunteer_hours", "volunteer_hours", "meals_served", "kwh_saved", "volunteer_hours"],
            "sdg": [8, 8, 2, 7, 8],
            "quantity": [100.0, 150.0, 1000.0, 4000.0, 10.0],
            "unit": ["hour", "hour", "meal", "kWh", "hour"],
        }
    )


@pytest.fixture
def initiatives() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "initiative_id": ["A", "B", "C"],
            "theme": ["culture_community", "food_agriculture", "culture_community"],
            "value_model": ["social", "hybrid", "social"],
            "municipality": ["Helmond", "Helmond", "Utrecht"],
            "province": ["Noord-Brabant", "Noord-Brabant", "Utrecht"],
        }
    )


# --- impact_value --------------------------------------------------------------------------


def test_impact_value_rows(impact, proxies):
    out = im.impact_value(impact, proxies)
    # 100 h x 20 = 2000; 150 h x 20 = 3000; 1000 meals x 4 = 4000; 4000 kWh x 0.25 = 1000; 10 h x 20 = 200
    assert out["impact_value_eur"].tolist() == [2000.0, 3000.0, 4000.0, 1000.0, 200.0]
    assert out["proxy_source"].iloc[2] == "Study B"
    assert list(out.columns[:6]) == list(impact.columns)  # input columns kept, in order


def test_impact_value_tiny_dataset(tables):
    out = im.impact_value(tables["impact"], tables["proxies"])
    # I1: 5000 meals x 4.5 = 22,500; I2: 4 people to work x 15,000 = 60,000
    assert out.set_index("initiative_id")["impact_value_eur"].to_dict() == {"I1": 22500.0, "I2": 60000.0}


@pytest.mark.parametrize("blank", [None, np.nan, "", "   "])
def test_proxy_without_source_refused(impact, proxies, blank):
    proxies.loc[1, "source"] = blank
    with pytest.raises(ValueError, match=r"proxy for indicator 'meals_served' has no source"):
        im.impact_value(impact, proxies)


def test_indicator_without_proxy_named(impact, proxies):
    impact.loc[0, "indicator"] = "co2_avoided"
    impact.loc[0, "unit"] = "tonne"
    with pytest.raises(ValueError, match=r"no proxy for indicator\(s\): co2_avoided"):
        im.impact_value(impact, proxies)


def test_proxy_errors(impact, proxies):
    dup = pd.concat([proxies, proxies.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"more than once: volunteer_hours"):
        im.impact_value(impact, dup)
    neg = proxies.copy()
    neg.loc[2, "euro_per_unit"] = -1.0
    with pytest.raises(ValueError, match=r"proxy for indicator 'kwh_saved' has a negative euro_per_unit"):
        im.impact_value(impact, neg)
    nan = proxies.copy()
    nan.loc[2, "euro_per_unit"] = np.nan
    with pytest.raises(ValueError, match=r"proxy for indicator 'kwh_saved' has no numeric euro_per_unit"):
        im.impact_value(impact, nan)
    with pytest.raises(ValueError, match=r"proxies table is missing column\(s\): source"):
        im.impact_value(impact, proxies.drop(columns="source"))


def test_impact_value_unit_and_quantity_errors(impact, proxies):
    bad = impact.copy()
    bad.loc[3, "unit"] = "MWh"
    with pytest.raises(ValueError, match=r"unit mismatch for indicator 'kwh_saved': impact has 'MWh', proxy prices 'kWh'"):
        im.impact_value(bad, proxies)
    neg = impact.copy()
    neg.loc[2, "quantity"] = -5
    with pytest.raises(ValueError, match=r"negative quantity for indicator\(s\): meals_served"):
        im.impact_value(neg, proxies)
    with pytest.raises(ValueError, match=r"impact table is missing column\(s\): quantity"):
        im.impact_value(impact.drop(columns="quantity"), proxies)


# --- impact_value_by -----------------------------------------------------------------------


def test_impact_value_by_theme(impact, proxies, initiatives):
    out = im.impact_value_by(impact, proxies, initiatives, by=["theme"])
    got = {(r.year, r.theme): (r.impact_value_eur, r.n_initiatives) for r in out.itertuples()}
    # 2022: A 2000. 2023: culture = A 3000 + C 200 = 3200 (2 initiatives); food = B 4000 + 1000 = 5000
    assert got == {
        (2022, "culture_community"): (2000.0, 1),
        (2023, "culture_community"): (3200.0, 2),
        (2023, "food_agriculture"): (5000.0, 1),
    }


def test_impact_value_by_sdg_needs_no_initiatives(impact, proxies):
    out = im.impact_value_by(impact, proxies, by="sdg")
    got = {(r.year, r.sdg): r.impact_value_eur for r in out.itertuples()}
    # 2023: SDG 8 = 3000 + 200; SDG 2 = 4000; SDG 7 = 1000
    assert got == {(2022, 8): 2000.0, (2023, 2): 4000.0, (2023, 7): 1000.0, (2023, 8): 3200.0}


def test_impact_value_by_several_dimensions(impact, proxies, initiatives):
    out = im.impact_value_by(impact, proxies, initiatives, by=["province", "value_model"])
    got = {(r.year, r.province, r.value_model): r.impact_value_eur for r in out.itertuples()}
    assert got == {
        (2022, "Noord-Brabant", "social"): 2000.0,
        (2023, "Noord-Brabant", "hybrid"): 5000.0,
        (2023, "Noord-Brabant", "social"): 3000.0,
        (2023, "Utrecht", "social"): 200.0,
    }
    by_mun = im.impact_value_by(impact, proxies, initiatives, by="municipality")
    assert by_mun.loc[(by_mun.year == 2023) & (by_mun.municipality == "Helmond"), "impact_value_eur"].item() == 8000.0


def test_impact_value_by_phase(impact, proxies, initiatives):
    with pytest.raises(ValueError, match=r"no column for dimension\(s\) phase \(derive a 'phase' column first\)"):
        im.impact_value_by(impact, proxies, initiatives, by="phase")
    out = im.impact_value_by(impact, proxies, initiatives.assign(phase=["growth", "start", "growth"]), by="phase")
    got = {(r.year, r.phase): r.impact_value_eur for r in out.itertuples()}
    assert got == {(2022, "growth"): 2000.0, (2023, "growth"): 3200.0, (2023, "start"): 5000.0}


def test_impact_value_by_missing_group_kept(impact, proxies, initiatives):
    initiatives.loc[2, "province"] = np.nan
    out = im.impact_value_by(impact, proxies, initiatives, by="province")
    assert out["impact_value_eur"].sum() == 10200.0  # nothing dropped: 2000+3000+4000+1000+200
    assert out["province"].isna().sum() == 1


def test_impact_value_by_errors(impact, proxies, initiatives):
    with pytest.raises(ValueError, match=r"unknown dimension 'colour'"):
        im.impact_value_by(impact, proxies, initiatives, by="colour")
    with pytest.raises(ValueError, match=r"dimension\(s\) theme need the initiatives table"):
        im.impact_value_by(impact, proxies, None, by="theme")
    with pytest.raises(ValueError, match=r"impact rows for initiative\(s\) not in initiatives: C"):
        im.impact_value_by(impact, proxies, initiatives.iloc[:2], by="theme")
    with pytest.raises(ValueError, match=r"by must name at least one dimension"):
        im.impact_value_by(impact, proxies, initiatives, by=[])


# --- load_reference_proxies ----------------------------------------------------------------


def test_reference_path_is_relative_to_package():
    repo = Path(im.__file__).resolve().parents[2]
    assert repo / "data" / "reference" / "proxies.csv" == im.REFERENCE_PROXIES_PATH


def test_load_reference_proxies_from_file(tmp_path):
    p = tmp_path / "proxies.csv"
    p.write_text("indicator,unit,euro_per_unit,source\nvolunteer_hours,hour,20,Erasmus\nmeals_served,meal,4.5,B\n")
    df = im.load_reference_proxies(p)
    assert df["euro_per_unit"].tolist() == [20.0, 4.5]
    assert df["source"].tolist() == ["Erasmus", "B"]


def test_load_reference_proxies_refuses_unsourced(tmp_path):
    p = tmp_path / "proxies.csv"
    p.write_text("indicator,unit,euro_per_unit,source\nvolunteer_hours,hour,20,\n")
    with pytest.raises(ValueError, match=r"proxy for indicator 'volunteer_hours' has no source"):
        im.load_reference_proxies(p)
    with pytest.raises(FileNotFoundError, match=r"reference proxies file not found"):
        im.load_reference_proxies(tmp_path / "absent.csv")
    p.write_text("indicator,euro_per_unit,source\nvolunteer_hours,20,x\n")
    with pytest.raises(ValueError, match=r"proxies table is missing column\(s\): unit"):
        im.load_reference_proxies(p)


def test_shipped_reference_proxies_if_present():
    if not im.REFERENCE_PROXIES_PATH.exists():
        pytest.skip("data/reference/proxies.csv not written yet")
    df = im.load_reference_proxies()
    assert set(df["indicator"]) <= set(IMPACT_INDICATORS)
    assert df["source"].str.strip().ne("").all()


# --- volunteer_value -----------------------------------------------------------------------


def test_volunteer_value_methods():
    assert im.volunteer_value(100) == 2000.0  # 100 h x EUR 20 market value
    assert im.volunteer_value(100, method="replacement_cost") == pytest.approx(1440.0)  # 100 x 14.40
    assert im.volunteer_value(10, method="opportunity_cost", rate=25.0) == 250.0
    assert im.volunteer_value(10, method="replacement_cost", rate=30.0) == 300.0  # user CAO rate wins
    s = im.volunteer_value(pd.Series([1.0, 2.0], index=["x", "y"]))
    assert s.to_dict() == {"x": 20.0, "y": 40.0}
    np.testing.assert_allclose(im.volunteer_value(np.array([0.0, 5.0])), [0.0, 100.0])
    assert all(src for _, src in im.VOLUNTEER_RATES.values())


def test_volunteer_value_errors():
    with pytest.raises(ValueError, match=r"method 'opportunity_cost' has no sourced default rate; pass rate="):
        im.volunteer_value(10, method="opportunity_cost")
    with pytest.raises(ValueError, match=r"unknown method 'shadow'"):
        im.volunteer_value(10, method="shadow")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"hours must be >= 0"):
        im.volunteer_value([-1, 2])
    with pytest.raises(ValueError, match=r"rate must be a finite amount >= 0, got -3"):
        im.volunteer_value(1, rate=-3)


# --- social return -------------------------------------------------------------------------


def test_social_return_obligation():
    assert im.social_return_obligation(1_000_000) == 50_000.0  # 5% x 1,000,000
    assert im.social_return_obligation(1_000_000, share=0.02) == 20_000.0
    # wage-bill basis: 3% x 400,000 = 12,000 (contract value only decides the threshold)
    assert im.social_return_obligation(1_000_000, share=0.03, basis="wage_bill", wage_bill=400_000) == 12_000.0
    assert im.social_return_obligation(250_000) == 0.0  # exactly the threshold: not "above"
    assert im.social_return_obligation(250_001) == pytest.approx(12_500.05)
    assert im.social_return_obligation(100_000, threshold=50_000) == 5_000.0


def test_social_return_obligation_errors():
    with pytest.raises(ValueError, match=r"share must be in \[0, 1\], got 5"):
        im.social_return_obligation(1e6, share=5)
    with pytest.raises(ValueError, match=r"basis='wage_bill' needs wage_bill"):
        im.social_return_obligation(1e6, basis="wage_bill")
    with pytest.raises(ValueError, match=r"unknown basis 'turnover'"):
        im.social_return_obligation(1e6, basis="turnover")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"contract_value must be a finite amount >= 0, got -1"):
        im.social_return_obligation(-1)
    with pytest.raises(ValueError, match=r"wage_bill must be a finite amount >= 0, got -5"):
        im.social_return_obligation(1e6, basis="wage_bill", wage_bill=-5)


def test_social_return_fulfilment():
    r = im.social_return_fulfilment(50_000, 20_000)
    assert (r.obligation, r.fulfilled, r.share, r.remaining) == (50_000.0, 20_000.0, 0.4, 30_000.0)
    half = im.social_return_fulfilment(50_000, 20_000, credit_rate=0.5)  # 20,000 x 0.5 = 10,000 -> 20%
    assert (half.fulfilled, half.share, half.remaining) == (10_000.0, 0.2, 40_000.0)
    over = im.social_return_fulfilment(10_000, 15_000)  # over-fulfilled: share 1.5, nothing remaining
    assert (over.share, over.remaining) == (1.5, 0.0)
    assert math.isnan(im.social_return_fulfilment(0, 1_000).share)  # zero-denominator rule
    with pytest.raises(ValueError, match=r"credit_rate must be finite and >= 0, got -0.1"):
        im.social_return_fulfilment(1, 1, credit_rate=-0.1)
    with pytest.raises(ValueError, match=r"se_contract_value must be finite and >= 0"):
        im.social_return_fulfilment(1, float("nan"))


# --- ratios --------------------------------------------------------------------------------


def test_maex_ratios_tiny(tables):
    out = im.maex_ratios(tables["initiatives"], tables["financials"]).set_index("initiative_id")
    # I1: 1.5 FTE / 12 volunteers = 0.125; subsidies 15,000 / earned 5,000 = 3.0
    # I2: 4.0 / 3 = 1.333...; 0 / 70,000 = 0.0
    assert out.loc["I1", "staff_per_volunteer"] == 0.125
    assert out.loc["I1", "subsidy_per_earned_income"] == 3.0
    assert out.loc["I2", "staff_per_volunteer"] == pytest.approx(4 / 3)
    assert out.loc["I2", "subsidy_per_earned_income"] == 0.0
    assert out.loc["I1", "year"] == 2020


def test_maex_ratios_zero_rule_and_year_choice():
    inits = pd.DataFrame(
        {"initiative_id": ["A", "B", "C", "D"], "paid_staff_fte": [2.0, 0.0, 1.0, np.nan], "volunteers": [0, 0, 4, 5]}
    )
    fin = pd.DataFrame(
        {
            "initiative_id": ["A", "A", "B", "C"],
            "year": [2021, 2022, 2022, 2022],
            "subsidies": [100.0, 300.0, 0.0, 50.0],
            "earned_income": [100.0, 0.0, 0.0, 200.0],
        }
    )
    out = im.maex_ratios(inits, fin).set_index("initiative_id")
    assert math.isnan(out.loc["A", "staff_per_volunteer"])  # 2 / 0 -> NaN, not inf
    assert math.isnan(out.loc["B", "staff_per_volunteer"])  # 0 / 0 -> NaN
    assert out.loc["C", "staff_per_volunteer"] == 0.25
    assert math.isnan(out.loc["D", "staff_per_volunteer"])  # missing staff
    assert out.loc["A", "year"] == 2022 and math.isnan(out.loc["A", "subsidy_per_earned_income"])  # latest: 300/0
    assert math.isnan(out.loc["D", "subsidy_per_earned_income"])  # no financials
    assert not np.isinf(out.select_dtypes("number").to_numpy()).any()
    out21 = im.maex_ratios(inits, fin, year=2021).set_index("initiative_id")
    assert out21.loc["A", "subsidy_per_earned_income"] == 1.0  # 100 / 100


def test_maex_ratios_errors():
    fin = pd.DataFrame({"initiative_id": ["A", "A"], "year": [2022, 2022], "subsidies": [1.0, 2.0], "earned_income": [1.0, 1.0]})
    inits = pd.DataFrame({"initiative_id": ["A"], "paid_staff_fte": [1.0], "volunteers": [1]})
    with pytest.raises(ValueError, match=r"financials has more than one row per initiative and year"):
        im.maex_ratios(inits, fin, year=2022)
    with pytest.raises(ValueError, match=r"initiatives table is missing column\(s\): volunteers"):
        im.maex_ratios(inits.drop(columns="volunteers"), fin)


def test_cost_per_person_reached(tables):
    out = im.cost_per_person_reached(tables["initiatives"], tables["financials"]).set_index("initiative_id")
    # I1: 29,000 / 400 = 72.5; I2: 90,000 / 120 = 750
    assert out["cost_per_person_reached"].to_dict() == {"I1": 72.5, "I2": 750.0}
    zero = tables["initiatives"].assign(people_reached=[0, 120])
    out0 = im.cost_per_person_reached(zero, tables["financials"]).set_index("initiative_id")
    assert math.isnan(out0.loc["I1", "cost_per_person_reached"])


def test_impact_value_per_euro_funding(tables):
    out = im.impact_value_per_euro_funding(tables["impact"], tables["proxies"], tables["funding"]).set_index("initiative_id")
    # I1: 22,500 impact / (10,000 + 5,000 granted) = 1.5; I2: 60,000 / 0 -> NaN
    assert out.loc["I1", "impact_value_per_euro"] == 1.5
    assert out.loc["I1", "amount_granted"] == 15_000.0
    assert math.isnan(out.loc["I2", "impact_value_per_euro"])
    # year 2020: impact as above, but no funding decided in 2020 -> both NaN
    y = im.impact_value_per_euro_funding(tables["impact"], tables["proxies"], tables["funding"], year=2020)
    assert y["impact_value_per_euro"].isna().all()
    # year 2019: I1 got 5,000, no 2019 impact -> 0 / 5,000 = 0
    y19 = im.impact_value_per_euro_funding(tables["impact"], tables["proxies"], tables["funding"], year=2019)
    assert y19.set_index("initiative_id").loc["I1", "impact_value_per_euro"] == 0.0


def test_blended_value():
    assert im.blended_value(10_000, 1_000, 0.0, 3) == 13_000.0  # 10,000 + 3 x 1,000
    # 1000/1.1 + 1000/1.21 = 909.0909 + 826.4463 = 1735.5372
    assert im.blended_value(0, 1_000, 0.10, 2) == pytest.approx(1735.5372, abs=1e-4)
    assert im.blended_value(-500, 1_000, 0.10, 0) == -500.0
    # default 3.5%, 5 years: 1000 x (1 - 1.035^-5) / 0.035 = 4515.0524
    # default: the Dutch standard discount rate, 2.25% over 5 years
    assert im.blended_value(0, 1_000) == pytest.approx(sum(1_000 / 1.0225**t for t in range(1, 6)), abs=1e-6)


def test_blended_value_errors():
    with pytest.raises(ValueError, match=r"social_discount_rate must be in \[0, 1\), got 1.5"):
        im.blended_value(0, 1, 1.5, 2)
    with pytest.raises(ValueError, match=r"years must be an integer >= 0, got 2.5"):
        im.blended_value(0, 1, 0.1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"social_value_per_year must be finite and >= 0, got -1"):
        im.blended_value(0, -1, 0.1, 2)
