"""maexlab's Oaxaca-Blinder against Stata ``oaxaca`` on the ccard data (tests/reference/stata_oaxaca_ccard.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import stata_oaxaca_ccard as stata
from statsmodels.datasets.ccard.data import load_pandas

from maexlab.valuation.oaxaca import decompose, decompose_bootstrap

COVARIATES = ["AGE", "INCOME", "INCOMESQ"]


@pytest.fixture(scope="module")
def ccard() -> pd.DataFrame:
    return load_pandas().data


def _run(data, reference):
    return decompose(data, "AVGEXP", COVARIATES, group="OWNRENT", a=1, reference=reference)


def test_pooled_twofold_matches_stata(ccard):
    r = _run(ccard, "pooled")
    np.testing.assert_almost_equal(r.gap, stata.GAP, stata.PRECISION)
    np.testing.assert_almost_equal(r.explained, stata.POOLED_EXPLAINED, stata.PRECISION)
    np.testing.assert_almost_equal(r.unexplained, stata.POOLED_UNEXPLAINED, stata.PRECISION)


def test_threefold_matches_stata(ccard):
    r = _run(ccard, "pooled")
    np.testing.assert_almost_equal(r.endowments, stata.THREEFOLD_ENDOWMENTS, stata.PRECISION)
    np.testing.assert_almost_equal(r.coefficients, stata.THREEFOLD_COEFFICIENTS, stata.PRECISION)
    np.testing.assert_almost_equal(r.interaction, stata.THREEFOLD_INTERACTION, stata.PRECISION)


def test_neumark_and_group_references_match_stata(ccard):
    neumark = _run(ccard, "neumark")
    np.testing.assert_almost_equal(neumark.explained, stata.NEUMARK_EXPLAINED, stata.PRECISION)
    np.testing.assert_almost_equal(neumark.unexplained, stata.NEUMARK_UNEXPLAINED, stata.PRECISION)
    np.testing.assert_almost_equal(_run(ccard, "A").unexplained, stata.REFERENCE_A_UNEXPLAINED, stata.PRECISION)
    np.testing.assert_almost_equal(_run(ccard, "B").explained, stata.REFERENCE_B_EXPLAINED, stata.PRECISION)


def test_detailed_parts_add_up(ccard):
    r = _run(ccard, "pooled")
    assert r.detailed["explained"].sum() == pytest.approx(r.explained)
    assert r.detailed["unexplained"].sum() == pytest.approx(r.unexplained)
    assert r.explained + r.unexplained == pytest.approx(r.gap)


def _with_dummy_set(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    phase = rng.choice(["start", "growth", "mature"], size=n)
    a = rng.random(n) < 0.5
    effect = {"start": 0.0, "growth": 0.4, "mature": 0.9}
    y = 1 + np.array([effect[p] for p in phase]) + 0.3 * a * (phase == "mature") + rng.normal(0, 0.5, n)
    frame = pd.DataFrame({"y": y, "a": a.astype(int), "phase": phase})
    for level in ("start", "growth", "mature"):
        frame[f"phase_{level}"] = (phase == level).astype(float)
    return frame


def test_normalised_detailed_decomposition_does_not_depend_on_the_omitted_category():
    frame = _with_dummy_set()
    by_growth_start = decompose(
        frame,
        "y",
        ["phase_growth", "phase_mature"],
        group="a",
        a=1,
        categorical={"phase:phase_start": ["phase_growth", "phase_mature"]},
    )
    by_mature = decompose(
        frame,
        "y",
        ["phase_start", "phase_growth"],
        group="a",
        a=1,
        categorical={"phase:phase_mature": ["phase_start", "phase_growth"]},
    )
    left = by_growth_start.detailed.set_index("covariate").sort_index()
    right = by_mature.detailed.set_index("covariate").sort_index()
    pd.testing.assert_series_equal(left["unexplained"], right["unexplained"], check_exact=False, atol=1e-10)
    pd.testing.assert_series_equal(left["explained"], right["explained"], check_exact=False, atol=1e-10)
    # Without normalisation the constant's unexplained share moves with the omitted category.
    raw_a = decompose(frame, "y", ["phase_growth", "phase_mature"], group="a", a=1).detailed.set_index("covariate")
    raw_b = decompose(frame, "y", ["phase_start", "phase_growth"], group="a", a=1).detailed.set_index("covariate")
    assert abs(raw_a.loc["const", "unexplained"] - raw_b.loc["const", "unexplained"]) > 0.01


def test_cluster_bootstrap_gives_intervals_around_the_estimate(ccard):
    data = ccard.assign(cluster=np.arange(len(ccard)) // 2)
    table = decompose_bootstrap(data, "AVGEXP", COVARIATES, group="OWNRENT", a=1, cluster="cluster", reps=60, seed=3)
    gap = table[(table["part"] == "aggregate") & (table["name"] == "gap")].iloc[0]
    assert gap["ci_low"] < gap["estimate"] < gap["ci_high"] and gap["reps_used"] > 40


def test_bad_reference_and_small_groups_are_clear_errors(ccard):
    with pytest.raises(ValueError, match="reference must be one of"):
        decompose(ccard, "AVGEXP", COVARIATES, group="OWNRENT", a=1, reference="cotton")
    with pytest.raises(ValueError, match="more rows than coefficients"):
        decompose(ccard.head(6), "AVGEXP", COVARIATES, group="OWNRENT", a=1)
