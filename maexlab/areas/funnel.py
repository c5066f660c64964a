"""Funnel plots for comparing places (Spiegelhalter 2005, Statistics in Medicine 24:1185-1202).

Each place's rate is drawn against its size with the national rate and control limits at 95%
(two standard errors, an "alert") and 99.8% (three, an "alarm"). For a proportion the limits are
exact binomial, interpolated so that they are smooth in ``n`` (Spiegelhalter 2005, appendix A.1.1).
When the places vary more than chance allows (overdispersion), the limits widen by an additive
between-place variance ``tau^2`` estimated from winsorised z-scores (section 5.2 of the paper);
the multiplicative factor ``phi`` is reported too.

>>> lo, hi = binomial_limits(0.5, np.array([20]), 0.95)
>>> round(float(lo[0]), 3), round(float(hi[0]), 3)
(0.256, 0.694)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["LEVELS", "Overdispersion", "binomial_limits", "funnel_positions", "normal_limits", "overdispersion"]

#: The two control levels of a funnel plot.
LEVELS: tuple[float, float] = (0.95, 0.998)
#: Winsorising share at each end for the overdispersion estimate (Spiegelhalter 2005 uses 10%).
WINSOR = 0.10


def _binomial_quantile_limit(theta: float, n: np.ndarray, p: float) -> np.ndarray:
    """The interpolated p-quantile of R/n, R ~ Binomial(n, theta) (Spiegelhalter 2005, A.1.1)."""
    n = np.asarray(n, float)
    r = stats.binom.ppf(p, n, theta)  # smallest r with P(R <= r) >= p
    cdf_r = stats.binom.cdf(r, n, theta)
    cdf_r1 = stats.binom.cdf(r - 1, n, theta)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(cdf_r > cdf_r1, (cdf_r - p) / (cdf_r - cdf_r1), 0.0)
        return np.clip((r - alpha) / n, 0.0, 1.0)


def binomial_limits(theta: float, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial control limits around ``theta`` for sizes ``n`` at a two-sided ``level``.

    >>> lo, hi = binomial_limits(0.3, np.array([100]), 0.998)
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.16, 0.442)
    """
    tail = (1 - level) / 2
    return _binomial_quantile_limit(theta, n, tail), _binomial_quantile_limit(theta, n, 1 - tail)


def normal_limits(theta: float, se: np.ndarray, level: float, tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Normal control limits ``theta +/- z sqrt(se^2 + tau2)`` (additive random-effects funnel)."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    half = z * np.sqrt(np.asarray(se, float) ** 2 + tau2)
    return theta - half, theta + half


@dataclass(frozen=True)
class Overdispersion:
    """Spiegelhalter's overdispersion check: phi, the chi-square test and the additive tau^2."""

    phi: float
    chi2: float
    df: int
    p_value: float
    tau2: float
    present: bool


def overdispersion(estimates: np.ndarray, se: np.ndarray, theta: float, level: float = 0.95) -> Overdispersion:
    """Estimate overdispersion from winsorised z-scores ``z_i = (y_i - theta) / se_i``.

    ``phi = mean(z_w^2)``; ``I phi`` is compared with a chi-square on ``I - 1`` degrees of freedom.
    When it exceeds the ``level`` quantile, overdispersion is declared present and
    ``tau^2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w)``, ``w = 1 / se^2`` (Spiegelhalter 2005,
    eq. 5 and 6; the DerSimonian-Laird form); otherwise ``tau^2 = 0``.

    >>> od = overdispersion(np.array([0.5, 0.5, 0.5, 0.5]), np.array([0.1] * 4), 0.5)
    >>> od.present, od.tau2
    (False, 0.0)
    """
    y, s = np.asarray(estimates, float), np.asarray(se, float)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, s = y[ok], s[ok]
    k = len(y)
    if k < 3:
        return Overdispersion(float("nan"), float("nan"), max(k - 1, 0), float("nan"), 0.0, False)
    z = (y - theta) / s
    lo, hi = np.quantile(z, [WINSOR, 1 - WINSOR])
    zw = np.clip(z, lo, hi)
    phi = float(np.mean(zw**2))
    chi2 = k * phi
    p_value = float(stats.chi2.sf(chi2, k - 1))
    present = chi2 > stats.chi2.ppf(level, k - 1)
    tau2 = 0.0
    if present:
        w = 1 / s**2
        tau2 = float(max(0.0, (chi2 - (k - 1)) / (w.sum() - (w**2).sum() / w.sum())))
    return Overdispersion(phi, chi2, k - 1, p_value, tau2, bool(present))


def funnel_positions(values: np.ndarray, lo95: np.ndarray, hi95: np.ndarray, lo998: np.ndarray, hi998: np.ndarray) -> list[str]:
    """Position of each place: ``within``, ``above``/``below`` (outside 95%), ``far_above``/``far_below`` (outside 99.8%).

    >>> funnel_positions(np.array([0.5, 0.9, 0.1]), *[np.array([v] * 3) for v in (0.3, 0.7, 0.05, 0.95)])
    ['within', 'above', 'below']
    """
    out = []
    for v, a, b, c, d in zip(values, lo95, hi95, lo998, hi998, strict=True):
        if not np.isfinite(v):
            out.append("unknown")
        elif v > d:
            out.append("far_above")
        elif v > b:
            out.append("above")
        elif v < c:
            out.append("far_below")
        elif v < a:
            out.append("below")
        else:
            out.append("within")
    return out
