"""A fast subset of benchmarks/validate_valuation.py: the calibration code runs and cannot silently break.

The full run (40-50 seeds per mode at the default size) is a benchmark, not a test; here two
small datasets per mode and a short design-fixed check exercise the same code paths.
"""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest
from conftest import REPO


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("validate_valuation", REPO / "benchmarks" / "validate_valuation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wilson_interval(bench):
    lo, hi = bench.wilson(38, 40)
    assert lo < 0.95 < hi and lo >= 0 and hi <= 1
    assert bench.wilson(0, 40)[0] == pytest.approx(0, abs=1e-12)


def test_seed_loop_gives_coverage_and_verdict_rates(bench):
    records = []
    for effects in (True, False):
        for seed in (1, 2):
            records += bench.one_dataset(seed, 700, effects)
    frame = pd.DataFrame(records)
    coverage = bench.coverage_rows(frame[frame["kind"] == "estimand"])
    rates = bench.verdict_rows(frame[frame["kind"] == "verdict"])
    assert {"CR2, t(G-1)", "CR1, t(G-1)", "classical OLS"} <= set(coverage["variance"])
    assert coverage["coverage"].between(0, 1).all() and (coverage["N"] == 2).all()
    wtp_on = coverage[(coverage["estimand"].str.startswith("WTP")) & (coverage["mode"] == "on")]
    assert wtp_on["truth"].iloc[0] == pytest.approx(3.0) and wtp_on["mean_estimate"].iloc[0] > 1.5
    assert set(rates["claim"]) == set(bench.NOMINAL) and set(rates["mode"]) == {"on", "off"}
    assert (rates["nominal_if_null"] <= 0.05).all()


def test_design_fixed_check_is_calibrated_roughly(bench):
    table = bench.design_fixed_check(3, 700, 200)
    assert set(table["variance"]) == {"CR2, t(G-1)", "CR1, t(G-1)", "classical OLS"}
    # 200 draws: coverage of a calibrated 95% interval lies in [0.90, 0.99] with high probability.
    assert table["coverage"].between(0.88, 0.995).all()
