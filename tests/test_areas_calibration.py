"""Calibration pieces of the small-area estimators: hyperparameter uncertainty, the coverage variance, the CLI flag."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from maexlab.areas.estimates import _survival_interval, area_estimates, coverage_by_area
from maexlab.areas.shrinkage import normal_eb, poisson_gamma_eb
from maexlab.cli import build_parser, main
from maexlab.data import MaexData, synth

# --- the normal model averaged over tau^2 -------------------------------------------------------


def test_integrated_normal_model_matches_a_direct_integral_over_tau_with_a_flat_prior_on_tau2():
    y = np.array([0.3, -0.2, 0.9, 0.1, -0.6, 0.4])
    v = np.array([0.05, 0.2, 0.1, 0.3, 0.15, 0.08])
    fit = normal_eb(y, v, method="integrated")

    def reml(tau: float) -> float:  # restricted likelihood of tau, mu integrated out
        w = 1 / (v + tau**2)
        mu = np.sum(w * y) / np.sum(w)
        return math.exp(0.5 * (-math.log(np.sum(w)) - np.sum(np.log(v + tau**2)) - np.sum(w * (y - mu) ** 2)))

    def post_mean(tau: float, i: int) -> float:
        w = 1 / (v + tau**2)
        mu = np.sum(w * y) / np.sum(w)
        b = v[i] / (v[i] + tau**2)
        return mu + (1 - b) * (y[i] - mu)

    top = 3 * math.sqrt(float(np.var(y)) + float(np.max(v)))
    # a flat prior on tau^2 is the density 2 tau on tau
    norm = integrate.quad(lambda t: t * reml(t), 0, top)[0]
    for i in range(len(y)):
        direct = integrate.quad(lambda t, i=i: t * reml(t) * post_mean(t, i), 0, top)[0] / norm
        assert fit.posterior_mean[i] == pytest.approx(direct, abs=2e-3)
    # the intervals carry tau's uncertainty: never narrower than the plug-in REML fit's
    plug = normal_eb(y, v, method="reml")
    assert np.all(fit.hi - fit.lo >= plug.hi - plug.lo - 1e-9)


# --- the Poisson-gamma model averaged over the prior's variance ---------------------------------


def test_integrated_poisson_gamma_intervals_are_the_quantiles_of_the_gamma_mixture():
    o = np.array([2, 20, 9, 30, 0, 14, 7, 25, 4, 11])
    e = np.array([4.0, 18.0, 10.0, 28.0, 3.0, 9.0, 12.0, 15.0, 6.0, 10.0])
    fit = poisson_gamma_eb(o, e, method="integrated")
    assert fit.method == "integrated" and fit.components is not None
    p, shapes, rates = fit.components
    assert p.sum() == pytest.approx(1.0)
    for i in (0, 4, 7):

        def cdf(theta: float, i: int = i) -> float:
            return float(np.sum(p * stats.gamma.cdf(theta, shapes[:, i], scale=1 / rates[:, i])))

        lo = optimize.brentq(lambda t: cdf(t) - 0.025, 1e-9, 20)
        hi = optimize.brentq(lambda t: cdf(t) - 0.975, 1e-9, 20)
        assert fit.lo[i] == pytest.approx(lo, rel=2e-3)
        assert fit.hi[i] == pytest.approx(hi, rel=2e-3)
        # E[exp(-h theta)] of the mixture, by direct integration
        direct = integrate.quad(
            lambda t, i=i: math.exp(-0.4 * t) * float(np.sum(p * stats.gamma.pdf(t, shapes[:, i], scale=1 / rates[:, i]))), 0, 50
        )[0]
        assert fit.mean_exp(0.4)[i] == pytest.approx(direct, rel=1e-4)
    # the smallest place is pulled most; the plug-in fit is unchanged and its mean_exp is the gamma's
    assert fit.shrinkage[4] > fit.shrinkage[3]
    ml = poisson_gamma_eb(o, e)
    assert ml.method == "ml"
    assert ml.mean_exp(0.4) == pytest.approx((ml.posterior_rate / (ml.posterior_rate + 0.4)) ** ml.posterior_shape)


def test_integrated_poisson_gamma_does_not_collapse_when_places_look_alike():
    # ratios no more variable than Poisson chance: the ML shape runs to its bound and the intervals
    # would be the pooled one's; averaged over the variance they stay wider than chance alone allows
    e = np.full(12, 10.0)
    o = np.array([9, 11, 10, 8, 12, 10, 9, 11, 10, 10, 9, 11])
    ml, integ = poisson_gamma_eb(o, e), poisson_gamma_eb(o, e, method="integrated")
    assert np.all(integ.hi - integ.lo > ml.hi - ml.lo)
    with pytest.raises(ValueError, match="method"):
        poisson_gamma_eb(o, e, method="moments")


# --- the model-based variance of funding coverage ---------------------------------------------


def _coverage_data(seed: int, places: int, per_place: int, c: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Applications with lognormal amounts, each granted in full with probability c (else nothing)."""
    rng = np.random.default_rng(seed)
    k = places * per_place
    ids = [f"I{j}" for j in range(k)]
    amounts = np.round(np.exp(np.log(20000) + 1.0 * rng.standard_normal(k)), -1)
    granted = np.where(rng.random(k) < c, amounts, 0.0)
    apps = pd.DataFrame({"initiative_id": ids, "decided": True, "amount_requested": amounts, "amount_granted": granted})
    area = np.repeat([f"GM{m:04d}" for m in range(places)], per_place)
    keys = pd.DataFrame({"initiative_id": ids, "area": area, "area_name": area, "province": "P"})
    return apps, keys


def test_coverage_variance_is_the_model_variance_with_a_pooled_dispersion():
    c = 0.6
    apps, keys = _coverage_data(seed=5, places=150, per_place=30, c=c)
    t = coverage_by_area(apps, keys).table
    x2 = apps.assign(area=keys["area"]).groupby("area")["amount_requested"].agg(lambda a: (a**2).sum() / a.sum() ** 2)
    true_var = c * (1 - c) * t["area"].map(x2)
    # one pooled dispersion: the ratio estimated / true variance is the same for every place and near 1
    ratio = t["coverage_var"] / true_var
    assert ratio.std() / ratio.mean() < 0.05
    assert ratio.mean() == pytest.approx(1.0, abs=0.15)
    # and the raw 95% intervals cover the true coverage about 95% of the time (with 30 applications a
    # place; with 12 all-or-nothing grants of lognormal amounts the logit-normal interval covers ~88%)
    covered = ((t["raw_lo"] <= c) & (c <= t["raw_hi"])).mean()
    assert 0.9 < covered <= 1.0


@pytest.fixture(scope="module")
def planted():
    tables, truth = synth.generate(seed=23, n_initiatives=900, municipality_effects=True)
    return MaexData(dict(tables), source="generated", synthetic=True), truth["municipality_effects"]["by_municipality"]


@pytest.mark.parametrize(("measure", "key"), [("coverage", "expected_coverage"), ("survival_5y", "survival_5y")])
def test_shrunk_coverage_and_survival_beat_the_raw_estimates_on_planted_effects(planted, measure, key):
    data, truth = planted
    t = area_estimates(data)[measure].table
    t = t[np.isfinite(t["raw"])]
    true = t["area"].map(lambda a: truth[a][key]).astype(float)
    assert ((t["shrunk"] - true) ** 2).mean() < ((t["raw"] - true) ** 2).mean()
    # one seed of 73 places: the 95% intervals hold most truths (50 seeds: benchmarks/validate_areas.py)
    assert ((t["shrunk_lo"] <= true) & (true <= t["shrunk_hi"])).mean() > 0.85


# --- maexlab data generate --municipality-effects ---------------------------------------------


def test_data_generate_plants_municipality_effects_when_asked(tmp_path, capsys):
    out = tmp_path / "with"
    assert main(["data", "generate", "--seed", "5", "--n", "150", "--municipality-effects", "--out", str(out)]) == 0
    assert "municipality effects" in capsys.readouterr().out
    truth = json.loads((out / "planted_effects.json").read_text(encoding="utf-8"))
    meta = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    assert meta["municipality_effects"] is True
    assert len(truth["municipality_effects"]["by_municipality"]) == len(synth.MUNICIPALITIES)
    # the truth is that of the generator called directly (its own stream, so the same numbers)
    area = synth._MunicipalityEffects(5, 150)
    first = truth["municipality_effects"]["by_municipality"][synth.MUNICIPALITIES[0][0]]
    assert first["approval_logit_shift"] == pytest.approx(float(area.approval_logit[0]), abs=1e-6)
    # without the flag nothing is planted per municipality
    assert build_parser().parse_args(["data", "generate", "--out", str(tmp_path)]).municipality_effects is False


def test_municipality_effects_and_no_effects_cannot_be_combined(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["data", "generate", "--no-effects", "--municipality-effects", "--out", str(tmp_path / "x")])
    assert stop.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_generate_help_documents_the_municipality_effects(capsys):
    with pytest.raises(SystemExit):
        main(["data", "generate", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--municipality-effects" in shown and "docs/small_area.md" in shown


def test_survival_interval_carries_the_uncertainty_of_the_national_survival():
    fit = poisson_gamma_eb(np.array([2, 20, 9, 30, 4]), np.array([4.0, 18.0, 10.0, 28.0, 6.0]), method="integrated")
    h = 0.5
    lo0, hi0 = _survival_interval(fit, h, 0.0)
    # without national uncertainty: S_national ** (the quantiles of theta), the ends swapped
    assert lo0 == pytest.approx(np.exp(-h * fit.hi), rel=1e-9)
    assert hi0 == pytest.approx(np.exp(-h * fit.lo), rel=1e-9)
    lo, hi = _survival_interval(fit, h, 0.01)
    assert np.all(lo < lo0) and np.all(hi > hi0)
    # on the log(-log S) scale each side grows to sqrt(side^2 + z^2 var)
    mid = np.log(h) + np.log(fit.quantiles((0.5,))[0])
    side0, side = np.log(-np.log(lo0)) - mid, np.log(-np.log(lo)) - mid
    assert side == pytest.approx(np.sqrt(side0**2 + stats.norm.ppf(0.975) ** 2 * 0.01), rel=1e-9)
