"""A fast subset of benchmarks/validate.py: its code path runs, and its summary maths cannot silently break.

The full run (50 datasets per mode at the sizes in docs/validation.md) is a benchmark, not a
test. Here every collector runs on one small dataset per mode, the summaries are checked on
constructed rows whose coverage and false-positive rates are known, and the docs writer is
checked on a temporary page.
"""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

BENCHMARKS = REPO / "benchmarks"
SMALL = {"funding": 500, "valuation": 700, "survival": 300, "competing": 150, "areas": 300}


@pytest.fixture(scope="module")
def bench():
    # imported by name (not from a file spec) so the worker processes can pickle its functions
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module("validate")


@pytest.fixture(scope="module")
def common(bench):
    from validation import common

    return common


@pytest.fixture(scope="module")
def small_run(bench):
    rows, timing = bench.run(list(bench.COLLECTORS), [4], SMALL, workers=1, progress=False)
    return rows, timing


# --- summary maths on constructed rows -----------------------------------------------------------


def test_wilson_interval(common):
    lo, hi = common.wilson(38, 40)
    assert lo == pytest.approx(0.835, abs=1e-3) and hi == pytest.approx(0.986, abs=1e-3)
    assert common.wilson(0, 40)[0] == 0.0 and common.wilson(40, 40)[1] == 1.0
    assert all(math.isnan(x) for x in common.wilson(0, 0))


def _constructed(common, covered: int, n: int = 200, truth: float = 1.0) -> pd.DataFrame:
    """n estimates of ``truth`` with SE 0.1 whose intervals hold the truth exactly ``covered`` times."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(n):
        est = truth + 0.1 * rng.standard_normal()
        # a hit: a wide interval round the truth; a miss: an interval wholly above it
        lo, hi = (truth - 1.0, truth + 1.0) if seed < covered else (truth + 0.01, truth + 0.05)
        rows.append(common.estimand("t", "x", True, seed, truth, min(max(est, lo), hi), lo, hi, 0.1, n_initiatives=10))
    return common.frame(rows)


def test_coverage_summary_passes_at_95_and_fails_when_wrong(common):
    good = common.summarise_estimands(_constructed(common, covered=190)).iloc[0]
    assert good["coverage"] == pytest.approx(0.95) and bool(good["passed"])
    assert good["coverage_lo"] < 0.95 < good["coverage_hi"]
    bad = common.summarise_estimands(_constructed(common, covered=160)).iloc[0]
    assert bad["coverage"] == pytest.approx(0.80) and not bool(bad["passed"])
    too_wide = common.summarise_estimands(_constructed(common, covered=200)).iloc[0]
    assert not bool(too_wide["passed"])  # 100% of 200: the Wilson interval [98.1%, 100%] excludes 95%


def test_bias_and_sd_over_se(common):
    rows = _constructed(common, covered=190, truth=2.0)
    s = common.summarise_estimands(rows).iloc[0]
    err = rows.loc[rows["ok"], "estimate"] - 2.0
    assert s["bias"] == pytest.approx(err.mean()) and s["bias_mc_se"] == pytest.approx(err.std(ddof=1) / math.sqrt(200))
    assert s["sd_over_se"] == pytest.approx(err.std(ddof=1) / 0.1)
    assert s["truth"] == 2.0 and s["se_source"] == "reported"


def test_illustrations_are_measured_but_never_passed_or_failed(common):
    rows = [common.estimand("t", "naive", True, s, 0.0, 1.0, 0.9, 1.1, n_initiatives=5, role="illustration") for s in range(20)]
    s = common.summarise_estimands(common.frame(rows)).iloc[0]
    assert s["coverage"] == 0.0 and s["bias"] == pytest.approx(1.0) and s["passed"] == ""


def test_not_computed_estimates_are_counted_not_scored(common):
    rows = [common.estimand("t", "x", False, s, 0.0, 0.0, -1.0, 1.0, n_initiatives=5) for s in range(3)]
    rows.append(common.estimand("t", "x", False, 9, 0.0, None, None, None, n_initiatives=5, note="did not converge"))
    s = common.summarise_estimands(common.frame(rows)).iloc[0]
    assert (s["estimates"], s["not_computed"], s["coverage"]) == (3, 1, 1.0)
    assert s["se_source"] == "interval"  # no SE given: implied by the interval width


def test_verdict_rate_against_nominal(common):
    def rate(k: int, n: int = 200, effects: bool = False):
        rows = [
            common.verdict(
                "t",
                "claim",
                effects,
                s,
                "supported" if s < k else "inconclusive",
                "supported",
                None if effects else 0.025,
                n_initiatives=1,
            )
            for s in range(n)
        ]
        return common.summarise_verdicts(common.frame(rows)).iloc[0]

    def passed(k: int) -> bool:
        value = rate(k)["passed"]
        assert value != "", "a rule with a nominal rate must get pass or fail"
        return bool(value)

    assert passed(5)  # 2.5% exactly
    assert passed(8)  # 4.0% of 200: Wilson interval [2.0%, 7.7%] still reaches 2.5%
    assert not passed(10)  # 5.0% of 200: Wilson lower end 2.7%, above nominal
    assert not passed(20)
    on = rate(150, effects=True)
    assert on["passed"] == "" and math.isnan(on["nominal"]) and on["rate"] == 0.75
    assert on["outcomes"] == "inconclusive 50, supported 150"


# --- the benchmark's code path on small data -----------------------------------------------------


def test_every_collector_gives_rows_in_the_schema(bench, common, small_run):
    rows, timing = small_run
    assert list(rows.columns) == list(common.ROW_COLUMNS)
    assert set(rows["collector"]) == set(bench.COLLECTORS)
    assert set(timing["collector"]) == set(bench.COLLECTORS) and (timing["cpu_seconds"] > 0).all()
    # areas only with effects (municipality effects exist only then); the others in both modes
    modes = rows.groupby("collector")["mode"].agg(lambda m: tuple(sorted(set(m))))
    assert modes["areas"] == ("on",) and all(modes[c] == ("off", "on") for c in bench.COLLECTORS if c != "areas")
    est = rows[rows["kind"] == "estimand"]
    fitted = est[est["ok"]]
    assert len(fitted) > 0.9 * len(est)
    assert (fitted["lo"] <= fitted["estimate"]).all() and (fitted["estimate"] <= fitted["hi"]).all()
    assert (fitted["se"] > 0).all()
    names = set(rows["name"])
    for expected in (
        "approval: multi-year",
        "coverage model: log_amount_c",
        "overall money-weighted coverage",
        "funding.claims.hybrid",
        "impact elasticity of valuation, impact investors",
        "WTP, loan-rate discount of impact investors (pp)",
        "Oaxaca unexplained log gap, mainstream",
        "valuation.claims.wtp",
        "Cox log HR, organisational_strengthening_received",
        "KM 5-year survival from founding",
        "P(growth within 3 years of start)",
        "PH check by time split fails",
        "survival.claims.org",
        "Fine-Gray log SHR z1, delayed entry",
        "Gray's test rejects at 5% (z1)",
        "survival_5y per municipality, shrunk",
        "KM 5-year survival ignoring delayed entry",
        "approval: purpose organisational_strengthening, model without phase terms",
    ):
        assert expected in names, expected


def _one(rows: pd.DataFrame, name: str, mode: str, column: str):
    """The ``column`` of the single row with this name and mode."""
    match = rows.loc[(rows["name"] == name) & (rows["mode"] == mode), column]
    assert len(match) == 1, (name, mode, len(match))
    return match.iloc[0]


def test_truths_follow_the_mode(small_run):
    rows, _ = small_run
    cox = "Cox log HR, organisational_strengthening_received"
    assert _one(rows, cox, "on", "truth") == pytest.approx(math.log(0.6)) and _one(rows, cox, "off", "truth") == 0.0
    assert _one(rows, "WTP, loan-rate discount of impact investors (pp)", "on", "truth") == pytest.approx(3.0)
    assert _one(rows, "approval: multi-year", "off", "truth") == 0.0
    assert _one(rows, "approval: multi-year", "on", "truth") == pytest.approx(-0.5)
    # the coverage model's pseudo-true values: exactly 0 without effects (the model is then right)
    assert abs(_one(rows, "coverage model: log_amount_c", "off", "truth")) < 1e-8
    assert _one(rows, "coverage model: log_amount_c", "on", "truth") < -0.1


def test_verdict_rows_carry_nominal_rates_only_where_the_null_holds(small_run):
    rows, _ = small_run
    assert _one(rows, "funding.claims.hybrid", "off", "nominal") == 0.025
    assert math.isnan(_one(rows, "funding.claims.hybrid", "on", "nominal"))
    # claim 5 (mainstream investors ignore impact) is true in both modes
    assert _one(rows, "valuation.claims.ignores", "on", "nominal") == 0.05
    for mode in ("on", "off"):
        assert _one(rows, "PH check by time split fails", mode, "verdict") == "completed"


def test_parallel_run_gives_the_same_sorted_rows(bench):
    one, _ = bench.run(["competing"], [1, 2], SMALL, workers=1, progress=False)
    two, _ = bench.run(["competing"], [1, 2], SMALL, workers=2, progress=False)
    assert one.to_csv(index=False) == two.to_csv(index=False)


def test_main_writes_csvs_and_docs_page(bench, tmp_path, capsys):
    page = tmp_path / "validation.md"
    page.write_text("# Method validation\n\nHand-written method text.\n\n## Results\n\nOld results.\n", encoding="utf-8")
    argv = ["--seeds", "2", "--only", "competing", "--workers", "1", "--out", str(tmp_path), "--docs", str(page)]
    assert bench.main(argv) == 0
    # a subset run writes its own files, never the full run's validation.csv
    for name in ("validation_competing.csv", "validation_competing_summary.csv", "validation_competing_timing.csv"):
        assert (tmp_path / name).stat().st_size > 0
    assert not (tmp_path / "validation.csv").exists()
    first = page.read_text(encoding="utf-8")
    assert first.startswith("# Method validation\n\nHand-written method text.") and "Old results." in first
    assert "| competing | Fine-Gray log SHR z1, right-censored | off | 2 |" in first
    assert "N = 2 datasets per mode (seeds 1000-1001" in first
    csv = (tmp_path / "validation_competing.csv").read_bytes()
    # a second run replaces the block (one block, not two) and gives the same per-dataset CSV
    assert bench.main(argv) == 0
    second = page.read_text(encoding="utf-8")
    assert second.count("validation:begin") == 1 and second.count("### Estimands") == 1
    assert (tmp_path / "validation_competing.csv").read_bytes() == csv
    summary = pd.read_csv(tmp_path / "validation_competing_summary.csv")
    assert set(summary["kind"]) == {"estimand", "verdict"}
    assert "Estimands (coverage" in capsys.readouterr().out


def test_unknown_collector_is_a_clear_error(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--only", "fundingg", "--no-docs"])
    assert "unknown collector(s) fundingg" in capsys.readouterr().err


def test_design_fixed_check_is_calibrated_roughly(bench):
    from validation import valuation

    table = valuation.design_fixed_check(3, 700, 200)
    assert set(table["variance"]) == {"CR2, t(G-1)", "CR1, t(G-1)", "classical OLS"}
    # 200 draws: coverage of a calibrated 95% interval lies in [0.90, 0.99] with high probability.
    assert table["coverage"].between(0.88, 0.995).all()
