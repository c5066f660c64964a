"""Calibration of the competing-risks methods over many simulated data sets.

For each seed, data are drawn from a Fine-Gray model (:func:`maexlab.survival.competing_risks.
simulate_fine_gray`, the design of Fine and Gray 1999, section 5: planted log-SHR 0.5 for ``z1``
and -0.5 for ``z2``), and

* :func:`fine_gray` is fitted, right-censored only and with delayed entry (half the subjects
  enter late, uniform on (0, 1)); the share of 95% intervals of the log-SHR that contain the
  planted value is the coverage (nominal 0.95), printed with the mean estimate, the empirical
  standard deviation of the estimates and the mean robust standard error;
* :func:`gray_test` compares the cumulative incidence of cause 1 between ``z1 = 0`` and ``z1 = 1``
  on data with no planted difference (``beta1 = (0, -0.5)``): the share of p-values below 0.05 is
  the rejection rate under the null (nominal 0.05); and, for power, with a planted log-SHR of 0.5.

Every share is printed with its exact (Clopper-Pearson) 95% binomial interval. The baseline is
the nominal level: a calibrated method's interval contains 0.95 (coverage) or 0.05 (rejection).

Usage (not run by the tests; about a minute on one core with the defaults)::

    .venv/bin/python benchmarks/validate_competing_risks.py              # 200 seeds, n = 300
    .venv/bin/python benchmarks/validate_competing_risks.py --seeds 50 --n 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maexlab.survival.competing_risks import fine_gray, gray_test, simulate_fine_gray  # noqa: E402

PLANTED = {"z1": 0.5, "z2": -0.5}


def binomial_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval for a proportion."""
    a = (1 - level) / 2
    lo = stats.beta.ppf(a, successes, trials - successes + 1) if successes > 0 else 0.0
    hi = stats.beta.ppf(1 - a, successes + 1, trials - successes) if successes < trials else 1.0
    return float(lo), float(hi)


def share(successes: int, trials: int) -> str:
    lo, hi = binomial_interval(successes, trials)
    return f"{successes / trials:.3f} [{lo:.3f}, {hi:.3f}] ({successes}/{trials})"


def coverage(seeds: range, n: int, entry_max: float) -> None:
    hits = {k: 0 for k in PLANTED}
    est = {k: [] for k in PLANTED}
    se = {k: [] for k in PLANTED}
    fitted = 0
    for seed in seeds:
        d = simulate_fine_gray(n, entry_max=entry_max, seed=seed)
        fit = fine_gray(d["duration"], d["cause"], d["entry"], d[["z1", "z2"]])
        if not fit.converged:
            continue
        fitted += 1
        for k, beta in PLANTED.items():
            row = fit.summary.loc[k]
            hits[k] += int(np.log(row["lo"]) <= beta <= np.log(row["hi"]))
            est[k].append(row["coef"])
            se[k].append(row["se"])
    label = "delayed entry" if entry_max > 0 else "right-censored"
    print(f"Fine-Gray, {label} (n = {n} drawn per seed; {fitted} of {len(seeds)} fits converged)")
    for k, beta in PLANTED.items():
        print(
            f"  {k}: planted {beta:+.2f}  mean estimate {np.mean(est[k]):+.3f}  sd {np.std(est[k], ddof=1):.3f}  "
            f"mean robust se {np.mean(se[k]):.3f}  coverage of 95% interval {share(hits[k], fitted)}"
        )


def gray_rejections(seeds: range, n: int, beta_z1: float) -> None:
    rejected = tested = 0
    for seed in seeds:
        d = simulate_fine_gray(n, beta1=(beta_z1, -0.5), beta2=(0.0, 0.5), seed=seed)
        r = gray_test(d["duration"], d["cause"], d["z1"])
        if np.isfinite(r.p_value):
            tested += 1
            rejected += int(r.p_value < 0.05)
    what = "under the null (nominal 0.05)" if beta_z1 == 0 else f"with planted log-SHR {beta_z1} (power)"
    print(f"Gray's test, rejection rate at 5% {what}: {share(rejected, tested)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    seeds = range(1, args.seeds + 1)
    t0 = time.perf_counter()
    coverage(seeds, args.n, entry_max=0.0)
    coverage(seeds, args.n, entry_max=1.0)
    gray_rejections(seeds, args.n, beta_z1=0.0)
    gray_rejections(seeds, args.n, beta_z1=0.5)
    print(f"({args.seeds} seeds, {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
