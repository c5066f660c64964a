"""Validation over many seeds: the continuity estimators and verdict rules against the planted truth.

Generates ``--seeds`` datasets per mode (planted effects on, and off: every closure hazard ratio 1)
with :func:`maexlab.data.synth.generate` (``--n`` initiatives each) and runs the same public
functions notebook 03 uses (:mod:`maexlab.survival`): the time-varying Cox model, the
proportional-hazards check, the Kaplan-Meier 5-year survival, the competing risks from start, the
smoothed hazard after start, and every verdict rule. Prints, per estimand, the truth, the mean
estimate, the bias with its Monte Carlo SE, the SD across seeds over the mean reported SE, the
coverage of the nominal 95% interval with its binomial (Wilson) interval; per verdict, how often it
is supported with and without effects against its nominal rate; and whether the PH check
completed on every seed. Saves one row per dataset to ``--csv``.

This is a slow check, run by hand (not in ``make test``)::

    python benchmarks/validate_survival.py --seeds 40 --n 600 --csv /tmp/validate_survival.csv
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from maexlab import survival as sv
from maexlab.data import synth
from maexlab.survival import multistate as ms

Z = 1.959964


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a binomial proportion k / n."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n * n)) / (1 + Z**2 / n)
    return (centre - half, centre + half)


def one_dataset(seed: int, n: int, effects: bool, n_boot: int) -> dict:
    """Every continuity estimate and verdict on one generated dataset."""
    tables, truth = synth.generate(seed=seed, n_initiatives=n, effects=effects)
    ini, phases = tables["initiatives"], tables["phases"]
    row: dict = {"seed": seed, "effects": effects, "n": n}
    hr_truth = truth["closure_hazard_ratio"]
    row["truth_org"] = hr_truth["organisational_strengthening_received"]
    row["truth_multi"] = hr_truth["multi_year_received"]
    row["truth_surv_5y"] = truth["derived"]["survival_5y"]
    row["truth_p_growth"] = truth["derived"]["p_growth_within_3y_of_start"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp = sv.counting_process(ini, phases, tables["funding"], tables["financials"], extra_cuts=[5.0])
        covariates = sv.cox_covariates(cp)
        _, cox, problem = sv.try_fit_cox_tv(cp, covariates)
        row["cox_ok"] = problem is None
        ph = None
        try:
            ph = sv.ph_check_time_split(cp, [c for c in covariates if cox is not None and c in set(cox["covariate"])])
            row["ph_completed"] = True
            row["ph_checked"] = int(ph["checked"].sum())
            row["ph_unchecked"] = int((~ph["checked"]).sum())
            row["ph_org_checked"] = bool(ph.set_index("covariate")["checked"].get("org_strengthening_received", False))
            row["ph_multi_checked"] = bool(ph.set_index("covariate")["checked"].get("multi_year_received", False))
        except Exception as error:  # noqa: BLE001 - the point is to count any failure
            row["ph_completed"] = False
            row["ph_error"] = type(error).__name__
        for key, covariate in (("org", "org_strengthening_received"), ("multi", "multi_year_received")):
            if cox is not None and covariate in set(cox["covariate"]):
                r = cox.set_index("covariate").loc[covariate]
                row[f"log_hr_{key}"], row[f"se_{key}"] = float(r["coef"]), float(r["se"])
                row[f"hr_{key}"], row[f"hr_{key}_low"], row[f"hr_{key}_high"] = (
                    float(r[c]) for c in ("hazard_ratio", "hr_low", "hr_high")
                )
            v = sv.verdict_hazard_ratio(cox, covariate, sv.CLAIMS[key], ph=ph)
            row[f"verdict_{key}"] = v.verdict
            row[f"rule_{key}"] = v.rule
        d = sv.durations(ini)
        km = sv.km_table(d, min_at_risk=10)
        for c in ("surv_5y", "surv_5y_low", "surv_5y_high"):
            row[c] = float(km[c].iloc[0])
        row["verdict_cbs"] = sv.verdict_cbs(km).verdict
        soj = ms.sojourns(ini, phases)
        cr = ms.competing_risks_from_start(soj, horizon=3.0, n_boot=n_boot, seed=seed, min_at_risk=10)
        row["p_growth"], row["p_growth_low"], row["p_growth_high"] = cr["p_growth"], cr["p_growth_low"], cr["p_growth_high"]
        row["verdict_few_move_on"] = sv.verdict_few_move_on(cr, phases_recorded=set(phases["phase"])).verdict
        st = sv.start_to_closure(ini, phases)
        h = sv.smoothed_hazard(st, bandwidth=1.0, min_at_risk=10)
        bands = sv.piecewise_hazard(st, min_at_risk=10)
        row["verdict_valley"] = sv.verdict_valley(h, bands).verdict
    return row


ESTIMANDS = (
    # name, estimate column, truth column, low, high, se column (log scale) or None, transform of truth
    ("HR organisational strengthening (log)", "log_hr_org", "truth_org", "hr_org_low", "hr_org_high", "se_org"),
    ("HR multi-year (log)", "log_hr_multi", "truth_multi", "hr_multi_low", "hr_multi_high", "se_multi"),
    ("5-year survival", "surv_5y", "truth_surv_5y", "surv_5y_low", "surv_5y_high", None),
    ("P(growth within 3 y of start)", "p_growth", "truth_p_growth", "p_growth_low", "p_growth_high", None),
)


def summarise(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per estimand and mode: truth, mean, bias (MC SE), SD/SE, coverage; per verdict: share supported."""
    out = []
    for effects, g in rows.groupby("effects"):
        for name, est, tru, lo, hi, se in ESTIMANDS:
            x = g.dropna(subset=[est])
            log = est.startswith("log_hr")
            truth = np.log(x[tru]) if log else x[tru]
            bias = x[est] - truth
            low, high = (np.log(x[lo]), np.log(x[hi])) if log else (x[lo], x[hi])
            covered = int(((low <= truth) & (truth <= high)).sum())
            k = len(x)
            out.append(
                {
                    "effects": effects,
                    "estimand": name,
                    "datasets": k,
                    "truth": float(truth.mean()),
                    "mean_estimate": float(x[est].mean()),
                    "mean_hr": float(np.exp(x[est]).mean()) if log else math.nan,
                    "bias": float(bias.mean()),
                    "bias_mc_se": float(bias.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan,
                    "sd_over_se": float(x[est].std(ddof=1) / x[se].mean()) if se and k > 1 else math.nan,
                    "coverage": covered / k if k else math.nan,
                    "coverage_low": wilson(covered, k)[0],
                    "coverage_high": wilson(covered, k)[1],
                }
            )
    verdicts = []
    nominal = {"org": 0.025, "multi": 0.025, "few_move_on": 0.025, "cbs": math.nan, "valley": math.nan}
    for claim in ("org", "multi", "cbs", "few_move_on", "valley"):
        for effects, g in rows.groupby("effects"):
            counts = g[f"verdict_{claim}"].value_counts()
            k = int(counts.get("supported", 0))
            verdicts.append(
                {
                    "claim": claim,
                    "effects": effects,
                    "datasets": len(g),
                    "share_supported": k / len(g),
                    "supported_low": wilson(k, len(g))[0],
                    "supported_high": wilson(k, len(g))[1],
                    "nominal_false_positive": nominal[claim] if claim in ("org", "multi") and not effects else math.nan,
                    **{v: int(counts.get(v, 0)) for v in ("supported", "contradicted", "inconclusive", "not_testable")},
                }
            )
    return pd.DataFrame(out), pd.DataFrame(verdicts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="datasets per mode (effects on, off)")
    parser.add_argument("--n", type=int, default=600, help="initiatives per dataset")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--n-boot", type=int, default=100, help="bootstrap replicates of the competing-risks intervals")
    parser.add_argument("--csv", type=Path, default=Path("validate_survival.csv"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for effects in (True, False):
        for i, seed in enumerate(seeds, 1):
            rows.append(one_dataset(seed, args.n, effects, args.n_boot))
            print(f"\reffects={'on' if effects else 'off'}: {i}/{args.seeds} datasets", end="", flush=True)
        print()
    frame = pd.DataFrame(rows)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.csv.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(args.csv)
    estimands, verdicts = summarise(frame)
    elapsed = time.perf_counter() - started
    pd.set_option("display.width", 200)
    print(f"\n{args.seeds} seeds per mode ({list(seeds)[0]}-{list(seeds)[-1]}), {args.n} initiatives each, {elapsed:.0f} s")
    done = int(frame["ph_completed"].sum())
    print(f"PH check completed on {done} of {len(frame)} datasets; Cox fit usable on {int(frame['cox_ok'].sum())}")
    print(
        f"covariates left out of the PH check per dataset: mean {frame['ph_unchecked'].mean():.2f}, max {frame['ph_unchecked'].max()}"
    )
    print(
        f"org-strengthening checked on {frame['ph_org_checked'].mean():.0%}, multi-year on {frame['ph_multi_checked'].mean():.0%} of datasets"
    )
    print("\nEstimands\n" + estimands.round(4).to_string(index=False))
    print("\nVerdicts\n" + verdicts.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
