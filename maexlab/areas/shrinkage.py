"""Empirical-Bayes shrinkage for small areas: beta-binomial for rates, a normal hierarchical model otherwise.

Both estimators borrow strength from the other areas: a small place's estimate moves towards the
mean of all places, a large place's hardly moves. The *amount of shrinkage* reported is the weight
on the mean: ``B = (a + b) / (a + b + n)`` for the beta-binomial, ``B = s^2 / (s^2 + tau^2)`` for
the normal model (0 = the raw estimate is kept, 1 = the place gets the mean). Formulas and sources
are in docs/small_area.md.

>>> import numpy as np
>>> fit = beta_binomial_eb(np.array([2, 30, 45]), np.array([10, 50, 60]))
>>> bool(fit.shrinkage[0] > fit.shrinkage[2])   # the smallest place is pulled most
True
>>> nfit = normal_eb(np.array([0.1, -0.3, 0.5]), np.array([0.04, 0.01, 0.09]))
>>> nfit.method
'moments'
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "BetaBinomialFit",
    "NormalFit",
    "PoissonGammaFit",
    "beta_binomial_eb",
    "clopper_pearson",
    "normal_eb",
    "poisson_gamma_eb",
    "tau2_moments",
    "tau2_reml",
]

#: Smallest intra-area correlation rho = 1 / (a + b + 1) the beta-binomial fit may reach (near-complete pooling).
MIN_RHO = 1e-6


def clopper_pearson(events: np.ndarray, n: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval of a binomial proportion; missing where ``n`` is 0.

    >>> lo, hi = clopper_pearson(np.array([0, 5]), np.array([10, 10]))
    >>> round(float(lo[0]), 3), round(float(hi[1]), 3)
    (0.0, 0.813)
    """
    events, n = np.asarray(events, float), np.asarray(n, float)
    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(events > 0, stats.beta.ppf(alpha, events, n - events + 1), 0.0)
        hi = np.where(events < n, stats.beta.ppf(1 - alpha, events + 1, n - events), 1.0)
    bad = n <= 0
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


@dataclass
class BetaBinomialFit:
    """Beta-binomial empirical-Bayes fit: prior Beta(a, b), posterior per area."""

    a: float
    b: float
    mean: float
    rho: float
    converged: bool
    posterior_mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    shrinkage: np.ndarray

    @property
    def between_sd(self) -> float:
        """Standard deviation of the true rates across areas implied by the prior."""
        return math.sqrt(self.mean * (1 - self.mean) * self.rho)


def _betabinom_negloglik(params: np.ndarray, y: np.ndarray, n: np.ndarray) -> float:
    mu = special.expit(params[0])
    rho = special.expit(params[1])
    s = (1 - rho) / rho  # a + b
    a, b = mu * s, (1 - mu) * s
    ll = special.betaln(y + a, n - y + b) - special.betaln(a, b)
    return -float(ll.sum())


def beta_binomial_eb(events: np.ndarray, n: np.ndarray, level: float = 0.95) -> BetaBinomialFit:
    """Shrink area rates ``events / n`` with a beta-binomial prior fitted by marginal maximum likelihood.

    The prior Beta(a, b) is fitted to all areas (Kleinman 1973; the marginal likelihood is the
    beta-binomial). Each area's posterior is Beta(a + y, b + n - y): its mean is the shrunk rate,
    its 2.5% and 97.5% quantiles the 95% interval, and ``B = (a + b) / (a + b + n)`` the shrinkage.
    When the rates vary no more than chance allows, the fit reaches the boundary (``rho`` near 0)
    and every area gets the pooled rate: complete pooling is then the honest answer.

    Examples
    --------
    >>> fit = beta_binomial_eb(np.array([5, 50, 500]), np.array([10, 100, 1000]))
    >>> round(fit.mean, 3), bool(fit.rho < 1e-3)     # identical rates: no between-area variance
    (0.5, True)
    """
    y, n = np.asarray(events, float), np.asarray(n, float)
    keep = n > 0
    if keep.sum() == 0:
        raise ValueError("beta_binomial_eb needs at least one area with a positive denominator")
    yk, nk = y[keep], n[keep]
    pooled = float(np.clip(yk.sum() / nk.sum(), 1e-4, 1 - 1e-4))
    start = np.array([special.logit(pooled), special.logit(0.02)])
    converged = True
    if keep.sum() >= 3 and 0 < yk.sum() < nk.sum():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(
                _betabinom_negloglik,
                start,
                args=(yk, nk),
                method="L-BFGS-B",
                bounds=[(-12, 12), (special.logit(MIN_RHO), special.logit(0.5))],
            )
        converged = bool(res.success)
        mu, rho = float(special.expit(res.x[0])), float(special.expit(res.x[1]))
    else:
        # Too few areas (or no variation in outcome) to estimate between-area variance: pool completely.
        mu, rho = pooled, MIN_RHO
    s = (1 - rho) / rho
    a, b = mu * s, (1 - mu) * s
    alpha = (1 - level) / 2
    post_a, post_b = a + y, b + n - y
    return BetaBinomialFit(
        a=a,
        b=b,
        mean=mu,
        rho=rho,
        converged=converged,
        posterior_mean=post_a / (post_a + post_b),
        lo=stats.beta.ppf(alpha, post_a, post_b),
        hi=stats.beta.ppf(1 - alpha, post_a, post_b),
        shrinkage=s / (s + n),
    )


def tau2_moments(estimates: np.ndarray, variances: np.ndarray) -> float:
    """Between-area variance by the method of moments (DerSimonian and Laird 1986), truncated at 0.

    >>> round(tau2_moments(np.array([0.0, 1.0, 2.0]), np.array([0.1, 0.1, 0.1])), 3)
    0.9
    """
    y, v = np.asarray(estimates, float), np.asarray(variances, float)
    w = 1 / v
    mu = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - mu) ** 2)
    k = len(y)
    denom = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float(max(0.0, (q - (k - 1)) / denom)) if denom > 0 else 0.0


def tau2_reml(estimates: np.ndarray, variances: np.ndarray) -> tuple[float, bool]:
    """Between-area variance by restricted maximum likelihood; returns (tau2, converged)."""
    y, v = np.asarray(estimates, float), np.asarray(variances, float)

    def negll(log_tau2: float) -> float:
        w = 1 / (v + math.exp(log_tau2))
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * float(np.sum(np.log(v + math.exp(log_tau2))) + math.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    scale = float(np.var(y) + np.mean(v))
    res = optimize.minimize_scalar(negll, bounds=(math.log(scale * 1e-8), math.log(scale * 10)), method="bounded")
    tau2 = math.exp(float(res.x))
    return (0.0 if tau2 < scale * 1e-6 else tau2), bool(res.success)


@dataclass
class NormalFit:
    """Normal hierarchical (Fay-Herriot type) fit on the analysis scale: theta_i ~ N(mu, tau2)."""

    mu: float
    mu_se: float
    tau2: float
    method: str
    converged: bool
    posterior_mean: np.ndarray
    posterior_sd: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    shrinkage: np.ndarray


def normal_eb(estimates: np.ndarray, variances: np.ndarray, method: str = "moments", level: float = 0.95) -> NormalFit:
    """Shrink estimates with known sampling variances towards their precision-weighted mean.

    Model: ``y_i ~ N(theta_i, v_i)``, ``theta_i ~ N(mu, tau2)``; ``tau2`` by the method of moments
    (``method="moments"``, DerSimonian-Laird) or REML (``"reml"``), plugged in; or, with
    ``method="integrated"``, averaged over its REML likelihood on a grid of tau with a flat prior on
    tau2 (Morris 1983; Gelman et al., Bayesian Data Analysis, 3rd ed., section 5.4, for the grid), so
    that the intervals carry the uncertainty of tau2 and do not collapse when its point estimate is 0. Posterior mean
    ``mu + (1 - B_i)(y_i - mu)`` with ``B_i = v_i / (v_i + tau2)``; posterior variance
    ``(1 - B_i) v_i + B_i^2 var(mu)`` (the second term carries the uncertainty of the mean, as in
    Morris 1983). Areas with a missing estimate or variance get the mean and the prior interval.

    Examples
    --------
    >>> fit = normal_eb(np.array([0.0, 0.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    >>> round(float(fit.shrinkage[2]), 2)
    0.33
    """
    y, v = np.asarray(estimates, float), np.asarray(variances, float)
    ok = np.isfinite(y) & np.isfinite(v) & (v > 0)
    if ok.sum() == 0:
        raise ValueError("normal_eb needs at least one area with an estimate and a positive variance")
    converged = True
    if method == "integrated" and ok.sum() >= 3:
        return _normal_eb_integrated(y, v, ok, level)
    if ok.sum() < 3:
        tau2 = 0.0  # two areas cannot tell between-area variance from chance: pool
    elif method == "moments":
        tau2 = tau2_moments(y[ok], v[ok])
    elif method == "reml":
        tau2, converged = tau2_reml(y[ok], v[ok])
    else:
        raise ValueError(f"method must be 'moments', 'reml' or 'integrated', got {method!r}")
    w = 1 / (v[ok] + tau2)
    mu = float(np.sum(w * y[ok]) / np.sum(w))
    mu_var = float(1 / np.sum(w))
    vv = np.where(ok, v, 1.0)  # places without an estimate get B = 1 below
    b = np.where(ok, vv / (vv + tau2), 1.0) if tau2 > 0 else np.ones_like(vv)
    post = np.where(ok, mu + (1 - b) * (np.where(ok, y, mu) - mu), mu)
    post_var = np.where(ok, (1 - b) * np.where(ok, v, 0.0) + b**2 * mu_var, tau2 + mu_var)
    if tau2 == 0:
        post_var = np.full_like(post_var, mu_var)
    sd = np.sqrt(post_var)
    z = stats.norm.ppf(0.5 + level / 2)
    return NormalFit(mu, math.sqrt(mu_var), tau2, method, converged, post, sd, post - z * sd, post + z * sd, b)


#: Points of the tau grid of the integrated fit.
TAU_GRID = 400


def _normal_eb_integrated(y: np.ndarray, v: np.ndarray, ok: np.ndarray, level: float) -> NormalFit:
    """The normal hierarchical fit averaged over tau (REML likelihood x flat prior on tau^2, on a grid)."""
    yo, vo = y[ok], v[ok]
    top = 3 * math.sqrt(float(np.var(yo)) + float(np.max(vo)))
    taus = np.linspace(0.0, top, TAU_GRID)
    t2 = taus[:, None] ** 2
    w = 1 / (vo[None, :] + t2)
    mu = (w * yo).sum(axis=1) / w.sum(axis=1)
    mu_var = 1 / w.sum(axis=1)
    loglik = 0.5 * (np.log(mu_var) - np.log(vo[None, :] + t2).sum(axis=1) - (w * (yo - mu[:, None]) ** 2).sum(axis=1))
    # A flat prior on tau^2 (Morris 1983) is a density proportional to tau on the tau grid. A flat prior
    # on tau (Gelman) put more weight near tau = 0 and over-shrank the extreme places: intervals of the
    # funding coverage covered 93.5% instead of 95% in benchmarks/validate_areas.py.
    with np.errstate(divide="ignore"):
        loglik = loglik + np.log(taus)
    p = np.exp(loglik - loglik.max())
    p /= p.sum()
    vv = np.where(ok, v, 1.0)[None, :]  # places without an estimate get B = 1 below
    b = np.where(ok[None, :], vv / (vv + t2), 1.0)
    yy = np.where(ok, y, 0.0)[None, :]
    mean_t = np.where(ok[None, :], mu[:, None] + (1 - b) * (yy - mu[:, None]), mu[:, None])
    var_t = np.where(ok[None, :], (1 - b) * np.where(ok, v, 0.0)[None, :] + b**2 * mu_var[:, None], t2 + mu_var[:, None])
    post = (p[:, None] * mean_t).sum(axis=0)
    post_var = (p[:, None] * (var_t + mean_t**2)).sum(axis=0) - post**2
    sd = np.sqrt(np.maximum(post_var, 0.0))
    z = stats.norm.ppf(0.5 + level / 2)
    tau2 = float((p * taus**2).sum())
    return NormalFit(
        float((p * mu).sum()),
        math.sqrt(float((p * (mu_var + mu**2)).sum() - (p * mu).sum() ** 2)),
        tau2,
        "integrated",
        True,
        post,
        sd,
        post - z * sd,
        post + z * sd,
        (p[:, None] * b).sum(axis=0),
    )


@dataclass
class PoissonGammaFit:
    """Poisson-gamma empirical-Bayes fit of ratios observed / expected: prior Gamma(shape, rate)."""

    shape: float
    rate: float
    mean: float
    converged: bool
    posterior_shape: np.ndarray
    posterior_rate: np.ndarray
    posterior_mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    shrinkage: np.ndarray
    method: str = "ml"
    #: With ``method="integrated"``: grid weights (K,), posterior shapes and rates (K, areas) per grid point.
    components: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def between_sd(self) -> float:
        """Standard deviation of the true ratios across areas implied by the prior."""
        return math.sqrt(self.shape) / self.rate

    def quantiles(self, probs: tuple[float, ...]) -> list[np.ndarray]:
        """Posterior quantiles of theta per area, one array per probability.

        >>> fit = poisson_gamma_eb(np.array([2, 20, 9, 30]), np.array([4.0, 18.0, 10.0, 28.0]))
        >>> lo, mid, hi = fit.quantiles((0.025, 0.5, 0.975))
        >>> bool(np.all((lo < mid) & (mid < hi)))
        True
        """
        if self.components is None:
            return [stats.gamma.ppf(q, self.posterior_shape, scale=1 / self.posterior_rate) for q in probs]
        p, shapes, rates = self.components
        sd = np.sqrt(self.posterior_shape) / self.posterior_rate
        return _gamma_mixture_quantiles(p, shapes, rates, self.posterior_mean, sd, probs)

    def mean_exp(self, h: float) -> np.ndarray:
        """Posterior mean of ``exp(-h theta_i)`` per area (for a survival ``S ** theta_i`` with ``h = -log S``).

        >>> fit = poisson_gamma_eb(np.array([2, 20, 9, 30]), np.array([4.0, 18.0, 10.0, 28.0]))
        >>> bool(np.all((fit.mean_exp(0.5) > 0) & (fit.mean_exp(0.5) < 1)))
        True
        """
        if self.components is None:
            return (self.posterior_rate / (self.posterior_rate + h)) ** self.posterior_shape
        p, shapes, rates = self.components
        return p @ ((rates / (rates + h)) ** shapes)


def _negbin_negloglik(params: np.ndarray, o: np.ndarray, e: np.ndarray) -> float:
    mu, shape = math.exp(params[0]), math.exp(params[1])
    rate = shape / mu
    ll = special.gammaln(shape + o) - special.gammaln(shape) + shape * np.log(rate / (rate + e)) + o * np.log(e / (rate + e))
    return -float(ll.sum())


#: Largest prior shape of the Poisson-gamma fit (near-complete pooling).
MAX_SHAPE = 1e6


def poisson_gamma_eb(observed: np.ndarray, expected: np.ndarray, level: float = 0.95, method: str = "ml") -> PoissonGammaFit:
    """Shrink ratios ``observed / expected`` (an SMR per area) with a gamma prior (Clayton and Kaldor 1987).

    ``O_i ~ Poisson(E_i theta_i)``, ``theta_i ~ Gamma(shape, rate)``, fitted by marginal maximum
    likelihood (the negative binomial; ``method="ml"``). The posterior is Gamma(shape + O_i, rate + E_i);
    the shrinkage is ``B_i = rate / (rate + E_i)``. With fewer than 3 areas the ratios are pooled.
    ``method="integrated"`` averages the posterior over the squared coefficient of variation of the
    prior, ``k = 1 / shape``, on a grid (flat prior on k, the prior mean profiled with the Cox-Reid
    adjustment), so that the intervals carry the uncertainty of the between-area variance; its
    intervals are quantiles of the mixture of gamma posteriors.

    Examples
    --------
    >>> fit = poisson_gamma_eb(np.array([2, 20, 9, 30]), np.array([4.0, 18.0, 10.0, 28.0]))
    >>> bool(fit.shrinkage[0] > fit.shrinkage[3])
    True
    """
    o, e = np.asarray(observed, float), np.asarray(expected, float)
    keep = e > 0
    if keep.sum() == 0:
        raise ValueError("poisson_gamma_eb needs at least one area with a positive expected count")
    pooled = float(max(o[keep].sum(), 0.5) / e[keep].sum())
    converged = True
    if method == "integrated" and keep.sum() >= 3:
        return _poisson_gamma_integrated(o, e, keep, pooled, level)
    if method not in ("ml", "integrated"):
        raise ValueError(f"method must be 'ml' or 'integrated', got {method!r}")
    if keep.sum() >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(
                _negbin_negloglik,
                np.array([math.log(pooled), math.log(5.0)]),
                args=(o[keep], e[keep]),
                method="L-BFGS-B",
                bounds=[(math.log(pooled) - 5, math.log(pooled) + 5), (math.log(0.05), math.log(MAX_SHAPE))],
            )
        converged = bool(res.success)
        mean, shape = math.exp(res.x[0]), math.exp(res.x[1])
    else:
        mean, shape = pooled, MAX_SHAPE
    rate = shape / mean
    post_shape, post_rate = shape + o, rate + e
    alpha = (1 - level) / 2
    return PoissonGammaFit(
        shape,
        rate,
        mean,
        converged,
        post_shape,
        post_rate,
        post_shape / post_rate,
        stats.gamma.ppf(alpha, post_shape, scale=1 / post_rate),
        stats.gamma.ppf(1 - alpha, post_shape, scale=1 / post_rate),
        rate / (rate + e),
    )


#: Grid of the integrated Poisson-gamma fit: coefficients of variation of theta from 0 to CV_MAX.
CV_GRID, CV_MAX = 200, 3.0
#: Points of the theta grid on which the mixture's quantiles are read.
THETA_GRID = 400


def _poisson_gamma_integrated(o: np.ndarray, e: np.ndarray, keep: np.ndarray, pooled: float, level: float) -> PoissonGammaFit:
    """The Poisson-gamma fit averaged over k = 1 / shape (negative-binomial likelihood x flat prior on k)."""
    ok, ek = o[keep], e[keep]
    cv = np.linspace(CV_MAX / CV_GRID, CV_MAX, CV_GRID)  # k = cv^2 > 0; k -> 0 is complete pooling
    k = cv[:, None] ** 2
    m = np.full((CV_GRID, 1), pooled)
    for _ in range(50):  # the prior mean that maximises the likelihood given k (weighted fixed point)
        w = 1 / (1 + k * ek[None, :] * m)
        m = np.maximum((w * ok).sum(axis=1, keepdims=True) / (w * ek).sum(axis=1, keepdims=True), 1e-6 * pooled)
    shape = 1 / k
    mu = ek[None, :] * m
    ll = (
        special.gammaln(shape + ok)
        - special.gammaln(shape)
        + shape * np.log(shape / (shape + mu))
        + ok * np.log(mu / (shape + mu))
    ).sum(axis=1)
    # Cox-Reid adjustment for the profiled mean (the analogue of REML) and the flat prior on k (density ~ cv)
    info = (ek[None, :] / (m * (1 + k * mu))).sum(axis=1)
    logw = ll - 0.5 * np.log(info) + np.log(cv)
    p = np.exp(logw - logw.max())
    p /= p.sum()
    rate = shape / m  # (K, 1)
    shapes, rates = shape + o[None, :], rate + e[None, :]
    alpha = (1 - level) / 2
    post_mean = p @ (shapes / rates)
    post_var = p @ (shapes / rates**2 + (shapes / rates) ** 2) - post_mean**2
    lo, hi = _gamma_mixture_quantiles(p, shapes, rates, post_mean, np.sqrt(np.maximum(post_var, 0.0)), (alpha, 1 - alpha))
    mean = float(p @ m[:, 0])
    shape_avg = float(p @ shape[:, 0])
    return PoissonGammaFit(
        shape_avg,
        shape_avg / mean,
        mean,
        True,
        post_mean**2 / post_var,  # the gamma with the mixture's mean and variance
        post_mean / post_var,
        post_mean,
        lo,
        hi,
        p @ (rate / (rate + e[None, :])),
        method="integrated",
        components=(p, shapes, rates),
    )


def _gamma_mixture_quantiles(
    p: np.ndarray, shapes: np.ndarray, rates: np.ndarray, mean: np.ndarray, sd: np.ndarray, probs: tuple[float, ...]
) -> list[np.ndarray]:
    """Quantiles per area of the mixture sum_k p_k Gamma(shapes[k, i], rates[k, i]), read off a grid of theta."""
    used = p > 1e-9 * p.max()  # grid points with no weight change nothing
    p, shapes, rates = p[used], shapes[used], rates[used]
    top = mean + 10 * sd
    grid = np.linspace(0.0, 1.0, THETA_GRID)[None, :] * top[:, None]  # (areas, T)
    cdf = np.einsum("k,kat->at", p, special.gammainc(shapes[:, :, None], rates[:, :, None] * grid[None, :, :]))
    out = []
    for q in probs:
        idx = np.clip((cdf < q).sum(axis=1), 1, THETA_GRID - 1)  # first grid point with cdf >= q
        rows = np.arange(len(mean))
        c0, c1 = cdf[rows, idx - 1], cdf[rows, idx]
        g0, g1 = grid[rows, idx - 1], grid[rows, idx]
        out.append(g0 + (q - c0) / np.where(c1 > c0, c1 - c0, 1.0) * (g1 - g0))
    return out
