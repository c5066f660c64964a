"""A fast subset of benchmarks/validate_survival.py: it runs, and its summary cannot silently break."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "validate_survival.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("validate_survival", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_validation_runs_on_two_small_datasets(bench):
    rows = pd.DataFrame([bench.one_dataset(seed, 300, effects, n_boot=10) for seed, effects in ((4, True), (5, False))])
    assert rows["ph_completed"].all() and rows["cox_ok"].all()
    estimands, verdicts = bench.summarise(rows)
    assert set(estimands["estimand"]) == {e[0] for e in bench.ESTIMANDS}
    on = estimands[estimands["effects"]].set_index("estimand")
    assert on.loc["HR organisational strengthening (log)", "truth"] == pytest.approx(-0.5108, abs=1e-3)
    assert set(verdicts["claim"]) == {"org", "multi", "cbs", "few_move_on", "valley"}
    counts = verdicts[["supported", "contradicted", "inconclusive", "not_testable"]].sum(axis=1)
    assert (counts == 1).all()  # one dataset per mode, one verdict each


def test_wilson_interval(bench):
    lo, hi = bench.wilson(38, 40)
    assert lo == pytest.approx(0.835, abs=1e-3) and hi == pytest.approx(0.986, abs=1e-3)
