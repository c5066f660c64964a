"""Validation of notebook 02's intervals and verdict rules over many generated datasets.

For each seed and mode (planted effects on, effects off) the script generates a dataset with
:func:`maexlab.data.synth.generate`, builds the features and fits the hedonic models and the
willingness-to-pay model through the same public functions the notebook's sections call
(:func:`maexlab.valuation.build_features`, :func:`~maexlab.valuation.hedonic_models`,
:func:`~maexlab.valuation.willingness_to_pay`, :func:`~maexlab.valuation.verdicts`). The
Oaxaca decomposition and the predictive audit (bootstrap intervals, minutes per dataset) are
not part of this loop.

Printed, per estimand: truth, mean estimate, bias with its Monte Carlo SE, SD across seeds over
the mean reported SE, and the coverage of the nominal 95% interval with its Wilson 95% interval.
For the two valuation elasticities the same figures are also given for the variance estimators
that were *not* chosen (statsmodels' CR1 cluster-robust SE with t(G - 1), and the classical OLS
SE), so the choice of CR2 can be checked. Per verdict rule: how often each verdict is reached
with and without effects, against the rule's nominal rate.

Usage (not run by the tests; about 5 s per dataset of 2,500 initiatives on one core)::

    .venv/bin/python benchmarks/validate_valuation.py                     # 50 seeds per mode
    .venv/bin/python benchmarks/validate_valuation.py --seeds 40 --n-initiatives 1500
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maexlab import valuation as val  # noqa: E402
from maexlab.data import synth  # noqa: E402
from maexlab.data.loader import MaexData  # noqa: E402
from maexlab.valuation.models import _rows_for  # noqa: E402

#: (label, model key, term, truth with effects, truth without)
ESTIMANDS = (
    ("impact elasticity of valuation, impact investors", "log_valuation|impact", "log_impact", synth.VALUATION_IMPACT_SLOPE, 0.0),
    ("impact elasticity of valuation, mainstream", "log_valuation|mainstream", "log_impact", 0.0, 0.0),
    (
        "log-revenue elasticity of valuation, mainstream",
        "log_valuation|mainstream",
        "log_revenue",
        synth.VALUATION["log_revenue"],
        synth.VALUATION["log_revenue"],
    ),
    ("impact term of loan rate (pp), mainstream", "interest_rate_pp|mainstream", "log_impact", 0.0, 0.0),
    ("impact term of loan rate (pp), impact investors", "interest_rate_pp|impact", "log_impact", 0.0, 0.0),
)
WTP_TRUTH = (100 * synth.LOAN_IMPACT_DISCOUNT, 0.0)
NOMINAL = {
    "valuation.claims.ignores": ("contradicted", 0.05),
    "valuation.claims.priced": ("supported", 0.025),
    "valuation.claims.wtp": ("supported", 0.025),
}


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k / n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _alternative_ses(features: pd.DataFrame, key: str, term: str) -> dict[str, float]:
    """CR1 (statsmodels cluster) and classical OLS standard errors of one term, for comparison."""
    import statsmodels.api as sm

    outcome, group = key.split("|")
    rows = _rows_for(features[features["investor_group"] == group], outcome)
    regs = list(val.VALUATION_REGRESSORS)
    rows, _ = val.complete_rows(rows, [outcome, *regs])
    X = sm.add_constant(rows[regs].astype(float), has_constant="add")
    y = rows[outcome].astype(float)
    clusters = pd.factorize(rows["initiative_id"])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cr1 = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters})
        ols = sm.OLS(y, X).fit()
    return {"se_cr1": float(cr1.bse[term]), "se_ols": float(ols.bse[term])}


def one_dataset(seed: int, n_initiatives: int, effects: bool) -> list[dict]:
    tables, _ = synth.generate(seed, n_initiatives=n_initiatives, effects=effects)
    data = MaexData(tables, source=f"synth-{seed}", synthetic=True)
    features = val.build_features(data)
    fits = val.hedonic_models(features)
    wtp, wtp_fit = val.willingness_to_pay(features)
    out = []
    mode = "on" if effects else "off"
    for label, key, term, truth_on, truth_off in ESTIMANDS:
        fit = fits[key]
        t = fit.term(term)
        if t is None:
            out.append({"seed": seed, "mode": mode, "kind": "estimand", "name": label, "ok": False})
            continue
        se = float(fit.coefs.set_index("term").loc[term, "std_error"])
        row = {
            "seed": seed,
            "mode": mode,
            "kind": "estimand",
            "name": label,
            "ok": True,
            "truth": truth_on if effects else truth_off,
            "estimate": t["estimate"],
            "se": se,
            "lo": t["ci_low"],
            "hi": t["ci_high"],
            "df": fit.df,
            "n": fit.n,
            "G": fit.n_clusters,
        }
        if key.startswith("log_valuation"):
            row.update(_alternative_ses(features, key, term))
        out.append(row)
    if wtp is not None:
        t = wtp_fit.term("impact_investor")
        se = float(wtp_fit.coefs.set_index("term").loc["impact_investor", "std_error"])
        out.append(
            {
                "seed": seed,
                "mode": mode,
                "kind": "estimand",
                "name": "WTP, loan-rate discount of impact investors (pp)",
                "ok": True,
                "truth": WTP_TRUTH[0] if effects else WTP_TRUTH[1],
                "estimate": wtp["wtp_pp"],
                "se": se,
                "lo": wtp["ci_low"],
                "hi": wtp["ci_high"],
                "df": wtp_fit.df,
                "n": wtp_fit.n,
                "G": wtp_fit.n_clusters,
            }
        )
        del t
    for v in val.verdicts(fits, None, wtp, None, wtp_reason=wtp_fit.reason):
        if v.claim in NOMINAL:
            out.append({"seed": seed, "mode": mode, "kind": "verdict", "name": v.claim, "verdict": v.verdict})
    return out


def design_fixed_check(seed: int, n_initiatives: int, reps: int) -> pd.DataFrame:
    """Coverage of each variance estimator with the design held fixed (one dataset's impact-fund offers).

    The outcome is redrawn ``reps`` times from the generator's own valuation equation
    (homoskedastic normal errors, sd ``synth.VALUATION["residual_sd"]``), so only the error term
    varies: a direct check of the variance estimator, with a Monte Carlo error of about 0.5
    percentage points at 2,000 draws.
    """
    import statsmodels.api as sm
    from scipy import stats

    tables, _ = synth.generate(seed, n_initiatives=n_initiatives, effects=True)
    features = val.build_features(MaexData(tables, source=f"synth-{seed}", synthetic=True))
    rows = _rows_for(features[features["investor_group"] == "impact"], "log_valuation")
    regs = list(val.VALUATION_REGRESSORS)
    rows, _ = val.complete_rows(rows, ["log_valuation", *regs])
    X = sm.add_constant(rows[regs].astype(float), has_constant="add")
    j = list(X.columns).index("log_impact")
    clusters = pd.factorize(rows["initiative_id"])[0]
    G = len(set(clusters))
    beta = np.zeros(X.shape[1])
    beta[j] = synth.VALUATION_IMPACT_SLOPE
    rng = np.random.default_rng(seed)
    q_g, q_ols = stats.t.ppf(0.975, G - 1), stats.t.ppf(0.975, len(rows) - X.shape[1])
    hits = {"CR2, t(G-1)": [], "CR1, t(G-1)": [], "classical OLS": []}
    ses = {k: [] for k in hits}
    estimates = []
    for _ in range(reps):
        y = X.to_numpy() @ beta + synth.VALUATION["residual_sd"] * rng.standard_normal(len(rows))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ols = sm.OLS(y, X).fit()
            cr1 = ols.get_robustcov_results(cov_type="cluster", groups=clusters)
        b = float(ols.params.iloc[j])
        estimates.append(b)
        se = {
            "CR2, t(G-1)": float(np.sqrt(val.cluster_robust_cr2(X.to_numpy(), ols.resid.to_numpy(), clusters)[j, j])),
            "CR1, t(G-1)": float(cr1.bse[j]),
            "classical OLS": float(ols.bse.iloc[j]),
        }
        for k, v in se.items():
            q = q_ols if k == "classical OLS" else q_g
            hits[k].append(abs(b - beta[j]) <= q * v)
            ses[k].append(v)
    sd = float(np.std(estimates, ddof=1))
    out = []
    for k in hits:
        n_hit = int(np.sum(hits[k]))
        lo, hi = wilson(n_hit, reps)
        out.append(
            {
                "variance": k,
                "draws": reps,
                "rows": len(rows),
                "initiatives": G,
                "sd_over_se": sd / float(np.mean(ses[k])),
                "coverage": n_hit / reps,
                "coverage_lo": lo,
                "coverage_hi": hi,
            }
        )
    return pd.DataFrame(out)


def coverage_rows(est: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (name, mode), g in est.groupby(["name", "mode"], sort=False):
        g = g[g["ok"]]
        n = len(g)
        truth = float(g["truth"].iloc[0])
        bias = g["estimate"].mean() - truth
        mc_se = g["estimate"].std(ddof=1) / math.sqrt(n)
        variants = [("CR2, t(G-1)", g["se"], g["lo"], g["hi"])]
        if "se_cr1" in g and g["se_cr1"].notna().all():
            from scipy import stats

            q = stats.t.ppf(0.975, g["df"].astype(float))
            variants.append(("CR1, t(G-1)", g["se_cr1"], g["estimate"] - q * g["se_cr1"], g["estimate"] + q * g["se_cr1"]))
            q_ols = stats.t.ppf(0.975, g["n"].astype(float) - len(val.VALUATION_REGRESSORS) - 1)
            variants.append(
                ("classical OLS", g["se_ols"], g["estimate"] - q_ols * g["se_ols"], g["estimate"] + q_ols * g["se_ols"])
            )
        for variant, se, lo, hi in variants:
            k = int(((lo <= truth) & (truth <= hi)).sum())
            c_lo, c_hi = wilson(k, n)
            rows.append(
                {
                    "estimand": name,
                    "mode": mode,
                    "variance": variant,
                    "N": n,
                    "truth": truth,
                    "mean_estimate": g["estimate"].mean(),
                    "bias": bias,
                    "bias_mc_se": mc_se,
                    "sd_over_se": g["estimate"].std(ddof=1) / se.mean(),
                    "coverage": k / n,
                    "coverage_lo": c_lo,
                    "coverage_hi": c_hi,
                }
            )
    return pd.DataFrame(rows)


def verdict_rows(ver: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (claim, mode), g in ver.groupby(["name", "mode"], sort=False):
        target, nominal = NOMINAL[claim]
        n = len(g)
        shares = g["verdict"].value_counts()
        k = int(shares.get(target, 0))
        lo, hi = wilson(k, n)
        rows.append(
            {
                "claim": claim,
                "mode": mode,
                "N": n,
                "counted_verdict": target,
                "rate": k / n,
                "rate_lo": lo,
                "rate_hi": hi,
                "nominal_if_null": nominal,
                **{f"share_{v}": shares.get(v, 0) / n for v in ("supported", "contradicted", "inconclusive", "not_testable")},
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="datasets per mode (default 50)")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--n-initiatives", type=int, default=synth.DEFAULT_N)
    parser.add_argument(
        "--design-fixed", type=int, default=2000, metavar="DRAWS", help="draws of the design-fixed check (0: skip)"
    )
    parser.add_argument("--csv", type=Path, default=ROOT / "outputs" / "benchmarks" / "validate_valuation.csv")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.seeds == 0:
        print(design_fixed_check(seeds.start, args.n_initiatives, args.design_fixed).round(4).to_string(index=False))
        return 0
    for effects in (True, False):
        for k, seed in enumerate(seeds):
            records += one_dataset(seed, args.n_initiatives, effects)
            print(f"\reffects {'on ' if effects else 'off'} {k + 1}/{args.seeds}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    elapsed = time.perf_counter() - start
    frame = pd.DataFrame(records)
    cov = coverage_rows(frame[frame["kind"] == "estimand"])
    ver = verdict_rows(frame[frame["kind"] == "verdict"])
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.csv.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(args.csv)
    pd.set_option("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 60)
    print(
        f"date {dt.date.today().isoformat()}; N = {args.seeds} seeds per mode (seeds {seeds.start}-{seeds.stop - 1}); "
        f"{args.n_initiatives} initiatives per dataset; {elapsed:.0f} s in all"
    )
    print("\nEstimands (coverage of the nominal 95% interval, Wilson 95% interval in brackets)")
    print(cov.round(4).to_string(index=False))
    print("\nVerdict rules (rate of the counted verdict; with effects off this is the false-positive rate)")
    print(ver.round(4).to_string(index=False))
    if args.design_fixed:
        t0 = time.perf_counter()
        fixed = design_fixed_check(seeds.start, args.n_initiatives, args.design_fixed)
        print(
            f"\nDesign-fixed check: impact-fund valuation model of seed {seeds.start}, outcome redrawn {args.design_fixed} times "
            f"({time.perf_counter() - t0:.0f} s)"
        )
        print(fixed.round(4).to_string(index=False))
    print(f"\nper-seed records: {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
