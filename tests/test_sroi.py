"""Tests for maexlab.impact.sroi: hand-computed value maps, validation messages, sensitivity."""

from __future__ import annotations

import dataclasses
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from maexlab.impact.sroi import (
    DEFAULT_DISCOUNT_RATE,
    DISCOUNT_RATES,
    DUTCH_DISCOUNT_RATE,
    GREEN_BOOK_DISCOUNT_RATE,
    MonteCarloResult,
    Outcome,
    plot_tornado,
    sroi,
    sroi_monte_carlo,
    sroi_one_at_a_time,
    value_map_frame,
)

matplotlib.use("Agg")


# Value map 1: one outcome, the UK Green Book rate 3.5%.
#   impact  = 20 people x EUR 500 x (1 - 0.25 deadweight) x (1 - 0.20 attribution) x (1 - 0)
#           = 10,000 x 0.75 x 0.8 = 6,000
#   year 1  = 6,000; year 2 = 6,000 x 0.9 = 5,400; year 3 = 6,000 x 0.9^2 = 4,860   (drop-off 10%)
#   PV      = 6,000/1.035 + 5,400/1.035^2 + 4,860/1.035^3
#           = 5,797.1014 + 5,040.9578 + 4,383.4415 = 15,221.5008
#   inputs 5,000: ratio = 3.0443; NPV = 10,221.5008; payback = 5,000 / 6,000 = 0.8333 y = 10 months
MAP1 = [
    Outcome("volunteers", "more confidence", "people reporting", 20, 500.0, 3, deadweight=0.25, attribution=0.2, drop_off=0.1)
]

# Value map 2: two stakeholders, displacement and a delayed outcome, rate 25% (exact fractions).
#   O1 into work:    10 x 2,000 x (1 - 0.5) x (1 - 0) x (1 - 0.1) = 9,000; y1 9,000, y2 9,000 x 0.5 = 4,500
#                    PV = 9,000/1.25 + 4,500/1.25^2 = 7,200 + 2,880 = 10,080
#   O2 safer street: 100 x 10 x (1 - 0) x (1 - 0.5) = 500, one year, starting after 1 year (project year 2)
#                    PV = 500/1.25^2 = 320
#   total PV = 10,400; inputs 8,000: ratio 1.3, NPV 2,400, net ratio 0.3
#   payback = 8,000 / (9,000 + 500) = 0.842105 y = 10.105 months
MAP2 = pd.DataFrame(
    {
        "stakeholder": ["young people", "neighbours"],
        "outcome": ["into work", "safer street"],
        "indicator": ["jobs held 6 months", "incidents avoided"],
        "quantity": [10, 100],
        "financial_proxy": [2000.0, 10.0],
        "duration_years": [2, 1],
        "deadweight": [0.5, 0.0],
        "attribution": [0.0, 0.5],
        "displacement": [0.1, 0.0],
        "drop_off": [0.5, 0.0],
        "start_year": [0, 1],
    }
)


# Value map 3: one outcome with leakage, at the Dutch standard rate 2.25% (the default).
#   impact  = 40 people x EUR 1,000 x (1 - 0.25 deadweight) x (1 - 0.20 attribution)
#             x (1 - 0.10 displacement) x (1 - 0.50 leakage)
#           = 40,000 x 0.75 x 0.8 x 0.9 x 0.5 = 10,800
#   year 1  = 10,800; year 2 = 10,800 x (1 - 0.5) = 5,400   (drop-off 50%)
#   PV      = 10,800 / 1.0225 + 5,400 / 1.0225^2 = 10,562.3472 + 5,164.9620 = 15,727.3091
#   inputs 12,000: ratio 1.3106; payback 12,000 / 10,800 = 1.1111 y
#   without leakage every yearly value doubles: PV 31,454.6183, ratio 2.6212
MAP3 = [
    Outcome(
        "residents",
        "into work",
        "jobs",
        40,
        1000.0,
        2,
        deadweight=0.25,
        attribution=0.2,
        displacement=0.1,
        drop_off=0.5,
        leakage=0.5,
    )
]


def test_default_discount_rate_is_the_dutch_standard_rate():
    assert DEFAULT_DISCOUNT_RATE == DUTCH_DISCOUNT_RATE == 0.0225
    assert GREEN_BOOK_DISCOUNT_RATE == 0.035
    assert "Werkgroep discontovoet 2020" in DISCOUNT_RATES["nl_standard"].source
    assert "Green Book" in DISCOUNT_RATES["uk_green_book"].source


def test_value_map_3_with_leakage_by_hand():
    r = sroi(MAP3, inputs=12_000)
    assert r.discount_rate == 0.0225 and "Werkgroep discontovoet" in r.discount_rate_source
    assert r.outcomes["impact"].tolist() == pytest.approx([10_800.0])
    assert r.yearly.loc["into work"].tolist() == pytest.approx([10_800.0, 5_400.0])
    assert r.total_present_value == pytest.approx(15_727.3091, abs=1e-4)
    assert r.ratio == pytest.approx(1.3106, abs=1e-4)
    assert r.payback_years == pytest.approx(12_000 / 10_800)
    no_leak = sroi([dataclasses.replace(MAP3[0], leakage=0.0)], inputs=12_000)
    assert no_leak.total_present_value == pytest.approx(31_454.6183, abs=1e-4)
    # leakage varies like the other shares in both sensitivity analyses
    t = sroi_one_at_a_time(MAP3, 12_000, {"leakage": (0.0, 1.0)})
    assert t.loc[0, "ratio_low"] == pytest.approx(no_leak.ratio) and t.loc[0, "ratio_high"] == 0.0
    mc = sroi_monte_carlo(MAP3, 12_000, {"leakage": ("uniform", 0.5, 0.5)}, n=5)
    assert mc.median == pytest.approx(r.ratio)
    with pytest.raises(ValueError, match=r"leakage must be a share in \[0, 1\], got 1.5"):
        sroi([dataclasses.replace(MAP3[0], leakage=1.5)], 1)
    with pytest.raises(ValueError, match="must stay within"):
        sroi_monte_carlo(MAP3, 12_000, {"leakage": ("uniform", 0.5, 1.5)}, n=5)


def test_mode_and_rate_source_are_recorded():
    assert sroi(MAP3, 12_000).mode == "evaluative"
    forecast = sroi(MAP3, 12_000, discount_rate=GREEN_BOOK_DISCOUNT_RATE, mode="forecast")
    summary = forecast.summary()
    assert summary["mode"] == "forecast" and summary["discount_rate"] == 0.035
    assert "Green Book" in summary["discount_rate_source"]
    assert "declared rate 0.05" in sroi(MAP3, 12_000, discount_rate=0.05).discount_rate_source
    with pytest.raises(ValueError, match="mode must be one of evaluative, forecast"):
        sroi(MAP3, 12_000, mode="ex-ante")


def test_value_map_1_by_hand():
    r = sroi(MAP1, inputs=5_000, discount_rate=GREEN_BOOK_DISCOUNT_RATE)
    assert r.discount_rate == 0.035
    assert r.outcomes["impact"].tolist() == [6000.0]
    assert r.yearly.loc["more confidence"].tolist() == pytest.approx([6000.0, 5400.0, 4860.0])
    assert r.total_present_value == pytest.approx(15_221.5008, abs=1e-4)
    assert r.ratio == pytest.approx(3.0443, abs=1e-4)
    assert r.npv == pytest.approx(10_221.5008, abs=1e-4)
    assert r.payback_years == pytest.approx(5 / 6)
    assert r.payback_months == pytest.approx(10.0)


def test_value_map_2_by_hand():
    r = sroi(MAP2, inputs=8_000, discount_rate=0.25)
    assert r.outcomes["impact"].tolist() == pytest.approx([9000.0, 500.0])
    assert r.outcomes["present_value"].tolist() == pytest.approx([10_080.0, 320.0])
    np.testing.assert_allclose(r.yearly.to_numpy(), [[9000.0, 4500.0], [0.0, 500.0]])
    assert list(r.yearly.columns) == [1, 2]
    assert r.total_present_value == pytest.approx(10_400.0)
    assert r.ratio == pytest.approx(1.3)
    assert r.npv == pytest.approx(2_400.0)
    assert r.net_ratio == pytest.approx(0.3)
    assert r.annual_impact == pytest.approx(9_500.0)
    assert r.payback_years == pytest.approx(8_000 / 9_500)
    assert r.payback_months == pytest.approx(10.105263, abs=1e-6)


def test_value_map_2_undiscounted_and_list_equivalent():
    # r = 0: PV = 9,000 + 4,500 + 500 = 14,000 -> ratio 14,000 / 8,000 = 1.75
    assert sroi(MAP2, 8_000, discount_rate=0.0).ratio == pytest.approx(1.75)
    as_list = [Outcome(**row) for row in MAP2.to_dict("records")]
    assert sroi(as_list, 8_000, 0.25).total_present_value == pytest.approx(10_400.0)


def test_zero_impact_never_pays_back():
    r = sroi([Outcome("s", "o", "i", 0, 100.0)], inputs=1_000)
    assert r.ratio == 0.0 and r.npv == -1_000.0 and math.isinf(r.payback_years)


def test_value_map_defaults_filled():
    vm = value_map_frame(MAP2[["stakeholder", "outcome", "indicator", "quantity", "financial_proxy"]])
    assert vm["duration_years"].tolist() == [1, 1]
    assert vm[["deadweight", "attribution", "displacement", "drop_off"]].to_numpy().sum() == 0
    assert vm["start_year"].tolist() == [0, 0]


# --- validation: every message names row and field -----------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deadweight", 1.2, r"value map row 1 \(outcome 'safer street'\): deadweight must be a share in \[0, 1\], got 1.2"),
        ("attribution", -0.1, r"value map row 1 \(outcome 'safer street'\): attribution must be a share in \[0, 1\], got -0.1"),
        ("displacement", 2, r"value map row 1 \(outcome 'safer street'\): displacement must be a share in \[0, 1\], got 2"),
        ("drop_off", 1.5, r"value map row 1 \(outcome 'safer street'\): drop_off must be a share in \[0, 1\], got 1.5"),
        ("duration_years", 0, r"value map row 1 \(outcome 'safer street'\): duration_years must be an integer >= 1, got 0"),
        ("duration_years", 2.5, r"value map row 1 \(outcome 'safer street'\): duration_years must be an integer >= 1, got 2.5"),
        ("start_year", -1, r"value map row 1 \(outcome 'safer street'\): start_year must be an integer >= 0, got -1"),
        ("quantity", -3, r"value map row 1 \(outcome 'safer street'\): quantity must be >= 0, got -3"),
        ("financial_proxy", -10, r"value map row 1 \(outcome 'safer street'\): financial_proxy must be >= 0, got -10"),
        ("financial_proxy", np.nan, r"value map row 1 \(outcome 'safer street'\): financial_proxy is missing or not a finite"),
        ("stakeholder", "", r"value map row 1: stakeholder must be a non-empty text"),
    ],
)
def test_value_map_validation(field, value, message):
    bad = MAP2.copy()
    bad[field] = bad[field].astype(object)
    bad.loc[1, field] = value
    with pytest.raises(ValueError, match=message):
        sroi(bad, 8_000)


def test_value_map_validation_list_rows_and_structure():
    with pytest.raises(ValueError, match=r"value map row 0 \(outcome 'more confidence'\): deadweight must be a share"):
        sroi([Outcome("v", "more confidence", "i", 1, 1.0, deadweight=3)], 1)
    with pytest.raises(ValueError, match=r"value map is empty"):
        sroi([], 1)
    with pytest.raises(ValueError, match=r"value map is missing column\(s\): financial_proxy"):
        sroi(MAP2.drop(columns="financial_proxy"), 1)
    with pytest.raises(ValueError, match=r"a value map list must hold Outcome objects"):
        sroi([{"stakeholder": "x"}], 1)  # type: ignore[list-item]


@pytest.mark.parametrize("inputs", [0, -5, float("nan")])
def test_inputs_must_be_positive(inputs):
    with pytest.raises(ValueError, match=r"inputs \(value of the investment\) must be a finite amount > 0"):
        sroi(MAP1, inputs)


def test_discount_rate_validated():
    with pytest.raises(ValueError, match=r"discount_rate must be in \[0, 1\), got 1.2"):
        sroi(MAP1, 1_000, discount_rate=1.2)


# --- one at a time -------------------------------------------------------------------------


def test_one_at_a_time_by_hand():
    ranges = {"deadweight:into work": (0.25, 0.75), "discount_rate": (0.0, 0.25), "proxy_multiplier": (0.5, 1.0)}
    t = sroi_one_at_a_time(MAP2, 8_000, ranges, discount_rate=0.25)
    rows = t.set_index("parameter")
    # deadweight 0.25: O1 impact 20,000 x 0.75 x 0.9 = 13,500; PV 10,800 + 4,320 + 320 (O2) = 15,440 -> 1.93
    # deadweight 0.75: O1 impact 4,500; PV 3,600 + 1,440 + 320 = 5,360 -> 0.67
    assert rows.loc["deadweight:into work", "ratio_low"] == pytest.approx(1.93)
    assert rows.loc["deadweight:into work", "ratio_high"] == pytest.approx(0.67)
    # discount 0: 14,000 / 8,000 = 1.75; discount 0.25: base 1.3
    assert rows.loc["discount_rate", "ratio_low"] == pytest.approx(1.75)
    assert rows.loc["discount_rate", "ratio_high"] == pytest.approx(1.3)
    # proxies halved: PV halves -> 0.65; x1 -> 1.3
    assert rows.loc["proxy_multiplier", "ratio_low"] == pytest.approx(0.65)
    assert t["base_ratio"].tolist() == pytest.approx([1.3, 1.3, 1.3])
    # sorted by swing: 1.26, 0.65, 0.45
    assert t["parameter"].tolist() == ["deadweight:into work", "proxy_multiplier", "discount_rate"]
    assert t["swing"].tolist() == pytest.approx([1.26, 0.65, 0.45])


def test_one_at_a_time_inputs_and_duration():
    # inputs 4,000 -> 10,400 / 4,000 = 2.6; duration 1 for both: O1 PV 7,200 + O2 320 = 7,520 -> 0.94
    t = sroi_one_at_a_time(MAP2, 8_000, {"inputs": (4_000, 8_000), "duration_years": (1, 2)}, 0.25).set_index("parameter")
    assert t.loc["inputs", "ratio_low"] == pytest.approx(2.6)
    assert t.loc["duration_years", "ratio_low"] == pytest.approx(0.94)
    # duration 2 for both: O2 adds a year 3 value 500/1.25^3 = 256 -> (10,400 + 256) / 8,000 = 1.332
    assert t.loc["duration_years", "ratio_high"] == pytest.approx(1.332)


def test_one_at_a_time_errors():
    with pytest.raises(ValueError, match=r"unknown sensitivity parameter 'colour'"):
        sroi_one_at_a_time(MAP2, 1, {"colour": (0, 1)})
    with pytest.raises(ValueError, match=r"no outcome named 'nothing'"):
        sroi_one_at_a_time(MAP2, 1, {"deadweight:nothing": (0, 1)})
    with pytest.raises(ValueError, match=r"range for 'deadweight': low \(0.5\) is above high \(0.1\)"):
        sroi_one_at_a_time(MAP2, 1, {"deadweight": (0.5, 0.1)})
    with pytest.raises(ValueError, match=r"range for 'deadweight' must be a pair"):
        sroi_one_at_a_time(MAP2, 1, {"deadweight": (0.5,)})
    with pytest.raises(ValueError, match=r"value map row 0 \(outcome 'into work'\): deadweight must be a share"):
        sroi_one_at_a_time(MAP2, 1, {"deadweight": (0.0, 1.5)})
    with pytest.raises(ValueError, match=r"parameter 'discount_rate' applies to the whole map"):
        sroi_one_at_a_time(MAP2, 1, {"discount_rate:into work": (0.0, 0.1)})


def test_plot_tornado():
    t = sroi_one_at_a_time(MAP2, 8_000, {"deadweight:into work": (0.25, 0.75), "discount_rate": (0.0, 0.25)}, 0.25)
    ax = plot_tornado(t)
    labels = [lab.get_text() for lab in ax.get_yticklabels()]
    assert labels == ["discount_rate (0-0.25)", "deadweight:into work (0.25-0.75)"]  # largest swing on top
    assert len(ax.patches) == 4
    import matplotlib.pyplot as plt

    fig, ax2 = plt.subplots()
    assert plot_tornado(t, ax=ax2) is ax2
    plt.close("all")
    with pytest.raises(ValueError, match=r"tornado data is missing column\(s\): ratio_low"):
        plot_tornado(t.drop(columns="ratio_low"))


# --- Monte Carlo ---------------------------------------------------------------------------


def test_monte_carlo_deterministic_and_degenerate():
    dists = {"deadweight": ("uniform", 0.1, 0.4), "discount_rate": ("triangular", 0.0, 0.035, 0.07)}
    a = sroi_monte_carlo(MAP1, 5_000, dists, n=2_000, seed=7)
    b = sroi_monte_carlo(MAP1, 5_000, dists, n=2_000, seed=7)
    assert isinstance(a, MonteCarloResult)
    assert (a.median, a.q05, a.q95, a.p_ratio_above_1) == (b.median, b.q05, b.q95, b.p_ratio_above_1)
    np.testing.assert_array_equal(a.ratios, b.ratios)
    assert a.q05 <= a.median <= a.q95 and a.n == 2_000 and len(a.ratios) == 2_000
    # a point distribution reproduces the base case exactly (value map 1: 3.0443)
    c = sroi_monte_carlo(MAP1, 5_000, {"deadweight": ("uniform", 0.25, 0.25)}, n=10, discount_rate=GREEN_BOOK_DISCOUNT_RATE)
    assert c.median == pytest.approx(3.0443, abs=1e-4) and c.base_ratio == pytest.approx(3.0443, abs=1e-4)
    assert set(c.summary()) == {"base_ratio", "median", "q05", "q95", "p_ratio_above_1", "mean", "n"}


def test_monte_carlo_against_analytic_distribution():
    # One outcome, r = 0: ratio = 10 x 100 x (1 - dw) / 500 = 2 (1 - dw).
    vm = [Outcome("s", "o", "i", 10, 100.0)]
    # dw ~ U(0, 0.5) -> ratio ~ U(1, 2): median 1.5, q05 1.05, q95 1.95, P(ratio > 1) = 1
    mc = sroi_monte_carlo(vm, 500, {"deadweight": ("uniform", 0.0, 0.5)}, n=20_000, seed=3, discount_rate=0.0)
    assert mc.median == pytest.approx(1.5, abs=0.02)
    assert mc.q05 == pytest.approx(1.05, abs=0.02)
    assert mc.q95 == pytest.approx(1.95, abs=0.02)
    assert mc.p_ratio_above_1 == 1.0
    # dw ~ U(0, 1) -> ratio ~ U(0, 2): P(ratio > 1) = P(dw < 0.5) = 0.5
    mc2 = sroi_monte_carlo(vm, 500, {"deadweight": ("uniform", 0.0, 1.0)}, n=20_000, seed=3, discount_rate=0.0)
    assert mc2.p_ratio_above_1 == pytest.approx(0.5, abs=0.02)
    # proxy multiplier m ~ Tri(0.5, 1, 1.5) symmetric: ratio = 2 m, median 2.0
    mc3 = sroi_monte_carlo(vm, 500, {"proxy_multiplier": ("triangular", 0.5, 1.0, 1.5)}, n=20_000, seed=3, discount_rate=0.0)
    assert mc3.median == pytest.approx(2.0, abs=0.02)


def test_monte_carlo_targets_one_outcome():
    # vary only O2's attribution in map 2 (r = 0): ratio = (13,500 + 1,000 (1 - a)) / 8,000, a ~ U(0, 1)
    # median a = 0.5 -> (13,500 + 500) / 8,000 = 1.75
    mc = sroi_monte_carlo(MAP2, 8_000, {"attribution:safer street": ("uniform", 0.0, 1.0)}, n=20_000, seed=1, discount_rate=0.0)
    assert mc.median == pytest.approx(1.75, abs=0.005)
    assert mc.q05 == pytest.approx((13_500 + 1_000 * 0.05) / 8_000, abs=0.005)


def test_monte_carlo_errors():
    with pytest.raises(ValueError, match=r"distribution for 'deadweight' must stay within \[0, 1\]"):
        sroi_monte_carlo(MAP1, 1, {"deadweight": ("uniform", 0.5, 1.5)}, n=100)
    with pytest.raises(ValueError, match=r"distribution for 'discount_rate' must stay within \[0, 1\)"):
        sroi_monte_carlo(MAP1, 1, {"discount_rate": ("uniform", -0.1, 0.1)}, n=100)
    with pytest.raises(ValueError, match=r"distribution for 'proxy_multiplier' must stay >= 0"):
        sroi_monte_carlo(MAP1, 1, {"proxy_multiplier": ("uniform", -1, 1)}, n=100)
    with pytest.raises(ValueError, match=r"distribution for 'inputs' must stay > 0"):
        sroi_monte_carlo(MAP1, 1, {"inputs": ("uniform", 0, 1)}, n=100)
    with pytest.raises(ValueError, match=r"unknown kind 'normal'"):
        sroi_monte_carlo(MAP1, 1, {"deadweight": ("normal", 0.2, 0.1)}, n=100)
    with pytest.raises(ValueError, match=r"needs low <= mode <= high"):
        sroi_monte_carlo(MAP1, 1, {"deadweight": ("triangular", 0.2, 0.1, 0.3)}, n=100)
    with pytest.raises(ValueError, match=r"\('uniform', low, high\) needs low <= high"):
        sroi_monte_carlo(MAP1, 1, {"deadweight": ("uniform", 0.3, 0.1)}, n=100)
    with pytest.raises(ValueError, match=r"parameter 'duration_years' is an integer"):
        sroi_monte_carlo(MAP1, 1, {"duration_years": ("uniform", 1, 3)}, n=100)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got 0"):
        sroi_monte_carlo(MAP1, 1, {}, n=0)
    with pytest.raises(ValueError, match=r"distribution for 'deadweight' must be a tuple"):
        sroi_monte_carlo(MAP1, 1, {"deadweight": "uniform"}, n=10)  # type: ignore[dict-item]
