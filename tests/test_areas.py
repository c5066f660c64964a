"""Small-area estimates, funnel limits, the municipality profile sections and notebook 05."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import papermill
import pytest
from conftest import REPO
from scipy import optimize, stats

from maexlab.areas import sections
from maexlab.areas.estimates import area_estimates
from maexlab.areas.funnel import binomial_limits, funnel_positions, normal_limits, overdispersion
from maexlab.areas.shrinkage import beta_binomial_eb, clopper_pearson, normal_eb, poisson_gamma_eb, tau2_moments, tau2_reml
from maexlab.areas.tables import funnel_table
from maexlab.data import MaexData, io, synth

NOTEBOOK = REPO / "notebooks" / "05_municipality_profile.ipynb"


# --- beta-binomial empirical Bayes ------------------------------------------------------------


def _betabinom_loglik(a: float, b: float, y: np.ndarray, n: np.ndarray) -> float:
    return float(sum(stats.betabinom.logpmf(int(k), int(m), a, b) for k, m in zip(y, n, strict=True)))


def test_beta_binomial_prior_is_the_marginal_maximum_likelihood_and_the_posterior_is_conjugate():
    y = np.array([2, 9, 14, 30, 3, 45, 8])
    n = np.array([10, 20, 25, 50, 12, 60, 30])
    fit = beta_binomial_eb(y, n)
    # an independent fit of the same likelihood (scipy's beta-binomial pmf, Nelder-Mead on log a, log b)
    best = optimize.minimize(
        lambda p: -_betabinom_loglik(math.exp(p[0]), math.exp(p[1]), y, n),
        [1.0, 1.0],
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
    )
    a, b = math.exp(best.x[0]), math.exp(best.x[1])
    assert fit.converged
    assert _betabinom_loglik(fit.a, fit.b, y, n) == pytest.approx(_betabinom_loglik(a, b, y, n), abs=1e-4)
    assert fit.a / (fit.a + fit.b) == pytest.approx(a / (a + b), abs=1e-3)
    # conjugate posterior Beta(a + y, b + n - y): mean, quantiles and the shrinkage weight by hand
    for i in range(len(y)):
        pa, pb = fit.a + y[i], fit.b + n[i] - y[i]
        assert fit.posterior_mean[i] == pytest.approx(pa / (pa + pb))
        assert fit.lo[i] == pytest.approx(stats.beta.ppf(0.025, pa, pb))
        assert fit.hi[i] == pytest.approx(stats.beta.ppf(0.975, pa, pb))
        assert fit.shrinkage[i] == pytest.approx((fit.a + fit.b) / (fit.a + fit.b + n[i]))
        # the posterior mean is the weighted mean of the raw rate and the prior mean
        b_i = fit.shrinkage[i]
        assert fit.posterior_mean[i] == pytest.approx(b_i * fit.mean + (1 - b_i) * y[i] / n[i])


def test_poisson_gamma_prior_is_the_negative_binomial_maximum_likelihood():
    o = np.array([2, 20, 9, 30, 0, 14, 7, 25])
    e = np.array([4.0, 18.0, 10.0, 28.0, 3.0, 9.0, 12.0, 15.0])
    fit = poisson_gamma_eb(o, e)

    def loglik(shape, rate):  # the marginal of O_i: negative binomial with p = rate / (rate + E_i)
        return float(sum(stats.nbinom.logpmf(k, shape, rate / (rate + x)) for k, x in zip(o, e, strict=True)))

    best = optimize.minimize(
        lambda p: -loglik(math.exp(p[0]), math.exp(p[1])),
        [1.0, 1.0],
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
    )
    assert loglik(fit.shape, fit.rate) == pytest.approx(loglik(*np.exp(best.x)), abs=1e-4)
    for i in range(len(o)):
        assert fit.posterior_mean[i] == pytest.approx((fit.shape + o[i]) / (fit.rate + e[i]))
        assert fit.shrinkage[i] == pytest.approx(fit.rate / (fit.rate + e[i]))
        assert fit.lo[i] == pytest.approx(stats.gamma.ppf(0.025, fit.shape + o[i], scale=1 / (fit.rate + e[i])))


def test_identical_rates_pool_completely():
    fit = beta_binomial_eb(np.array([5, 50, 500, 25]), np.array([10, 100, 1000, 50]))
    assert fit.rho < 1e-4
    assert np.allclose(fit.posterior_mean, 0.5, atol=1e-3)
    assert (fit.shrinkage > 0.95).all()


def test_small_places_are_shrunk_most_towards_the_mean():
    # the same raw rate, 0.9, in a small and a large place among places around 0.5
    y = np.array([9, 90, 5, 6, 4, 5, 12, 10])
    n = np.array([10, 100, 10, 12, 10, 11, 25, 20])
    fit = beta_binomial_eb(y, n)
    assert fit.shrinkage[0] > fit.shrinkage[1]
    assert fit.mean < fit.posterior_mean[0] < 0.9 and fit.mean < fit.posterior_mean[1] < 0.9
    assert 0.9 - fit.posterior_mean[0] > 0.9 - fit.posterior_mean[1]
    # the normal model does the same with known variances
    est = np.array([2.0, 2.0, 0.0, 0.1, -0.1, 0.2, -0.2, 0.0])
    var = np.array([1.0, 0.01, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2])
    for method in ("moments", "reml", "integrated"):
        nf = normal_eb(est, var, method=method)
        assert nf.shrinkage[0] > nf.shrinkage[1], method
        assert abs(nf.posterior_mean[0] - 2.0) > abs(nf.posterior_mean[1] - 2.0), method
        assert (nf.lo <= nf.posterior_mean).all() and (nf.posterior_mean <= nf.hi).all()


def test_between_area_variance_by_moments_and_reml():
    rng = np.random.default_rng(3)
    theta = rng.normal(0.0, 0.5, 400)
    v = rng.uniform(0.05, 0.3, 400)
    y = theta + rng.normal(0.0, np.sqrt(v))
    assert tau2_moments(y, v) == pytest.approx(0.25, abs=0.06)
    tau2, converged = tau2_reml(y, v)
    assert converged and tau2 == pytest.approx(0.25, abs=0.06)
    # no between-area variance: the moment estimate is truncated at zero or close to it
    assert tau2_moments(rng.normal(0.0, np.sqrt(v)), v) < 0.03


def test_clopper_pearson_by_hand():
    lo, hi = clopper_pearson(np.array([3]), np.array([10]))
    # the exact limits solve P(X >= 3 | p_lo) = 0.025 and P(X <= 3 | p_hi) = 0.025
    assert stats.binom.sf(2, 10, lo[0]) == pytest.approx(0.025, abs=1e-9)
    assert stats.binom.cdf(3, 10, hi[0]) == pytest.approx(0.025, abs=1e-9)


# --- funnel limits ---------------------------------------------------------------------------


def _cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(r + 1))


def _hand_limit(theta: float, n: int, p: float) -> float:
    """Spiegelhalter (2005) A.1.1 by hand: r_p the smallest r with P(R <= r) >= p, interpolated."""
    r = next(r for r in range(n + 1) if _cdf(r, n, theta) >= p)
    alpha = (_cdf(r, n, theta) - p) / (_cdf(r, n, theta) - (_cdf(r - 1, n, theta) if r > 0 else 0.0))
    return (r - alpha) / n


@pytest.mark.parametrize(("theta", "n"), [(0.5, 20), (0.69, 40), (0.3, 100), (0.8, 15)])
def test_binomial_funnel_limits_match_the_hand_computation(theta, n):
    for level in (0.95, 0.998):
        lo, hi = binomial_limits(theta, np.array([n]), level)
        tail = (1 - level) / 2
        assert lo[0] == pytest.approx(_hand_limit(theta, n, tail), abs=1e-9)
        assert hi[0] == pytest.approx(_hand_limit(theta, n, 1 - tail), abs=1e-9)


def test_funnel_limits_narrow_with_size_and_widen_with_overdispersion():
    lo, hi = binomial_limits(0.6, np.array([20, 200, 2000]), 0.95)
    assert (np.diff(hi - lo) < 0).all()
    lo998, hi998 = binomial_limits(0.6, np.array([20, 200, 2000]), 0.998)
    assert (lo998 < lo).all() and (hi998 > hi).all()
    se = np.sqrt(0.6 * 0.4 / np.array([200.0]))
    plain, wide = normal_limits(0.6, se, 0.95), normal_limits(0.6, se, 0.95, tau2=0.01)
    assert wide[1][0] - wide[0][0] > plain[1][0] - plain[0][0]
    assert plain[1][0] == pytest.approx(0.6 + 1.959964 * se[0], abs=1e-5)


def test_overdispersion_is_found_when_places_really_differ():
    rng = np.random.default_rng(5)
    n = rng.integers(20, 200, 60).astype(float)
    calm = rng.binomial(n.astype(int), 0.6) / n
    wild = rng.binomial(n.astype(int), np.clip(rng.normal(0.6, 0.15, 60), 0.01, 0.99)) / n
    se = np.sqrt(0.6 * 0.4 / n)
    assert not overdispersion(calm, se, 0.6).present
    od = overdispersion(wild, se, 0.6)
    assert od.present and od.phi > 1.5 and od.tau2 > 0
    assert funnel_positions(np.array([0.99]), np.array([0.5]), np.array([0.7]), np.array([0.4]), np.array([0.8])) == ["far_above"]


# --- estimates, privacy and the generator's municipality effects -----------------------------


@pytest.fixture(scope="module")
def planted():
    tables, truth = synth.generate(seed=11, n_initiatives=900, municipality_effects=True)
    return MaexData(dict(tables), source="generated", synthetic=True), truth


def test_municipality_effects_are_planted_only_when_asked(planted):
    _, truth = planted
    effects = truth["municipality_effects"]["by_municipality"]
    assert len(effects) == len(synth.MUNICIPALITIES)
    shifts = np.array([e["approval_logit_shift"] for e in effects.values()])
    assert 0.2 < shifts.std() < 0.7
    _, plain = synth.generate(seed=11, n_initiatives=200)
    _, off = synth.generate(seed=11, n_initiatives=200, effects=False, municipality_effects=True)
    assert "municipality_effects" not in plain and "municipality_effects" not in off


def test_shrinkage_beats_raw_rates_on_planted_municipality_effects(planted):
    data, truth = planted
    effects = truth["municipality_effects"]["by_municipality"]
    approval = area_estimates(data)["approval"].table
    true = approval["area"].map(lambda a: effects[a]["expected_approval_rate"])
    mse_raw = float(((approval["raw"] - true) ** 2).mean())
    mse_shrunk = float(((approval["shrunk"] - true) ** 2).mean())
    assert mse_shrunk < mse_raw
    covered = ((approval["shrunk_lo"] <= true) & (true <= approval["shrunk_hi"])).mean()
    assert covered > 0.8


def test_funnel_table_leaves_out_small_places(planted):
    data, _ = planted
    approval = area_estimates(data)["approval"]
    funnel, info = funnel_table(approval, min_group_size=15)
    assert len(funnel) and (funnel["n"] >= 15).all()
    assert set(funnel["position"]) <= {"within", "above", "below", "far_above", "far_below"}
    assert info["kind"] in ("binomial", "normal")


def _write(tables: dict, folder) -> str:
    return str(io.write_dataset(tables, folder, {"synthetic": True, "description": "SYNTHETIC test variant"}))


@pytest.fixture(scope="module")
def small_sources(tmp_path_factory):
    tables, _ = synth.generate(seed=7, n_initiatives=160)
    root = tmp_path_factory.mktemp("areas")
    ini = tables["initiatives"]
    biggest = ini["municipality_code"].value_counts().index[0]

    def keep(ids):
        ids = set(ids)
        return {
            k: (v[v["initiative_id"].isin(ids)].reset_index(drop=True) if "initiative_id" in v else v) for k, v in tables.items()
        }

    return {
        "one_municipality": (_write(keep(ini.loc[ini["municipality_code"] == biggest, "initiative_id"]), root / "one"), biggest),
        "five_initiatives": (_write(keep(ini["initiative_id"].head(5)), root / "five"), None),
        "whole": (_write(tables, root / "whole"), biggest),
    }


def _run_sections(source: str, out, **parameters):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output() as captured:
        report = sections.open_profile(data_source=source, output_dir=str(out), language="en", **parameters)
        report.intro()
        report.findings_placeholder()
        for section in sections.SECTIONS:
            section(report)
        report.finish()
    text = "\n".join(str(o.data.get("text/plain", "")) for o in captured.outputs)
    return text, json.loads((out / "results.json").read_text())


def test_a_place_below_the_minimum_group_size_is_not_published(small_sources, tmp_path):
    source, _ = small_sources["whole"]
    ini = MaexData  # noqa: F841 - the data is read through the sections
    text, results = _run_sections(source, tmp_path / "out", municipality="GM0654", min_group_size=50)
    overview = results["area_overview"]
    assert overview["municipality"] == "GM0654" and overview["initiatives"] < 50
    assert overview["coverage_shrunk"] is None and overview["funnel_position"] == "unknown"
    assert "fewer than the minimum group size" in text
    assert not results["findings"]
    for table in (tmp_path / "out" / "tables").glob("*.csv"):
        counts = pd.read_csv(table)["n"].dropna() if "n" in pd.read_csv(table, nrows=0).columns else pd.Series(dtype=float)
        assert (counts >= 50).all(), table.name


def test_the_profile_records_its_overview_for_the_index(small_sources, tmp_path):
    source, biggest = small_sources["whole"]
    text, results = _run_sections(source, tmp_path / "out", municipality=biggest, min_group_size=5)
    overview = results["area_overview"]
    assert set(overview) >= {
        "municipality",
        "name",
        "initiatives",
        "coverage_shrunk",
        "coverage_lo",
        "coverage_hi",
        "funnel_position",
    }
    assert overview["municipality"] == biggest and overview["funnel_position"] in ("within", "above", "below")
    assert overview["coverage_lo"] <= overview["coverage_shrunk"] <= overview["coverage_hi"]
    assert results["areas"]["approval"]["shrinkage"] is not None
    assert "Funnel plot" in text or "funnel plot" in text
    assert (tmp_path / "out" / "figures" / "funnel_approval.png").exists()


def test_a_province_parameter_outside_the_municipality_profiles_the_province(small_sources, tmp_path):
    source, _ = small_sources["whole"]
    _, results = _run_sections(source, tmp_path / "out", province="Zeeland", municipality="GM0344", min_group_size=5)
    assert results["area_overview"]["level"] == "province" and results["area_overview"]["municipality"] == "Zeeland"
    assert results["parameters"]["province"] == "Zeeland" and results["parameters"]["municipality"] is None


@pytest.mark.parametrize("variant", ["one_municipality", "five_initiatives"])
def test_notebook_runs_on_degenerate_data(variant, small_sources, tmp_path):
    source, place = small_sources[variant]
    out = tmp_path / "out"
    executed = tmp_path / NOTEBOOK.name
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        parameters={"data_source": source, "municipality": place, "language": "en", "output_dir": str(out)},
        kernel_name="maexlab",
        cwd=str(REPO / "notebooks"),
        progress_bar=False,
    )
    results = json.loads((out / "results.json").read_text())
    shown = json.dumps([o for c in json.loads(executed.read_text())["cells"] if c["cell_type"] == "code" for o in c["outputs"]])
    assert "Traceback" not in shown and "Warning:" not in shown
    assert results["not_computed"], "a profile on degenerate data says what it cannot compute"
    if variant == "five_initiatives":
        assert results["area_overview"]["coverage_shrunk"] is None
        assert "fewer than the minimum group size" in shown
    else:
        # one municipality: no funnel can be drawn (a funnel needs several places)
        assert not (out / "figures" / "funnel_approval.png").exists()
