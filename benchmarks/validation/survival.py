"""Notebook 03 (continuity) over one generated dataset: Cox HRs, PH check, KM, growth probability, verdicts.

Calls what the notebook's sections call (:mod:`maexlab.survival`): the counting-process data
with a cut at 5 years, the time-varying Cox model, the proportional-hazards check by time split
(:func:`~maexlab.survival.ph_check_time_split`, which must complete on every dataset), the
Kaplan-Meier 5-year survival from founding, the competing risks from start (growth or closure
within 3 years, bootstrap interval) and the verdict rules (hazard ratios, CBS comparison, few
move on, valley of death).

Truths from the generator's truth record: the planted closure hazard ratios (1 without effects),
and ``derived.survival_5y`` / ``derived.p_growth_within_3y_of_start`` (shares of 20,000 fresh
lives simulated under the same process, Monte Carlo SE about 0.003).
"""

from __future__ import annotations

import math
import warnings

from maexlab import survival as sv
from maexlab.data import synth
from maexlab.survival import multistate as ms

from .common import estimand, verdict

NAME = "survival"
#: Bootstrap replicates of the competing-risks interval, as in the notebook.
N_BOOT = 300
COX_TERMS = (
    ("org", "organisational_strengthening_received", "org_strengthening_received"),
    ("multi", "multi_year_received", "multi_year_received"),
)


def collect(seed: int, effects: bool, n_initiatives: int = synth.DEFAULT_N, n_boot: int = N_BOOT) -> list[dict]:
    """Every continuity estimand and verdict on one generated dataset (see the module docstring)."""
    tables, truth = synth.generate(seed=seed, n_initiatives=n_initiatives, effects=effects)
    ini, phases = tables["initiatives"], tables["phases"]
    n = len(ini)
    hr_truth = truth["closure_hazard_ratio"]
    rows: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp = sv.counting_process(ini, phases, tables["funding"], tables["financials"], extra_cuts=[5.0])
        covariates = sv.cox_covariates(cp)
        _, cox, problem = sv.try_fit_cox_tv(cp, covariates)
        ph, ph_error = None, ""
        try:
            # as the notebook's ph_checks section: every Cox covariate, split at 5 years
            ph = sv.ph_check_time_split(cp, covariates, cut=5.0)
        except Exception as error:  # noqa: BLE001 - the point is to count any failure
            ph_error = type(error).__name__
        left_out = ", ".join(ph.loc[~ph["checked"].astype(bool), "covariate"]) if ph is not None else ""
        rows.append(
            verdict(NAME, "PH check by time split fails", effects, seed, "failed" if ph_error else "completed", "failed", 0.0,
                    n_initiatives=n, note=ph_error or (f"not checked: {left_out}" if left_out else "every covariate checked"))
        )  # fmt: skip
        for key, truth_key, covariate in COX_TERMS:
            r = cox.set_index("covariate").loc[covariate] if cox is not None and covariate in set(cox["covariate"]) else None
            rows.append(
                estimand(
                    NAME, f"Cox log HR, {truth_key}", effects, seed, math.log(hr_truth[truth_key]),
                    *((r["coef"], math.log(r["hr_low"]), math.log(r["hr_high"]), r["se"]) if r is not None
                      else (None, None, None, None)),
                    n_initiatives=n, unit="log HR", note="" if r is not None else str(problem or "covariate not in fit"),
                )
            )  # fmt: skip
            v = sv.verdict_hazard_ratio(cox, covariate, sv.CLAIMS[key], ph=ph)
            rows.append(
                verdict(NAME, v.claim, effects, seed, v.verdict, "supported", None if effects else 0.025, n_initiatives=n)
            )
        km = sv.km_table(sv.durations(ini), min_at_risk=10)
        s, lo, hi = (float(km[c].iloc[0]) for c in ("surv_5y", "surv_5y_low", "surv_5y_high"))
        rows.append(
            estimand(NAME, "KM 5-year survival from founding", effects, seed, truth["derived"]["survival_5y"], s, lo, hi,
                     n_initiatives=n, unit="share")
        )  # fmt: skip
        # The bias of ignoring left truncation (docs/continuity.md quotes it): survival counted from founding.
        naive = sv.delayed_entry_bias(sv.durations(ini)).set_index("estimate").loc["ignoring_delayed_entry"]
        rows.append(
            estimand(NAME, "KM 5-year survival ignoring delayed entry", effects, seed, truth["derived"]["survival_5y"],
                     naive["surv_5y"], naive["low"], naive["high"], n_initiatives=n, unit="share", role="illustration")
        )  # fmt: skip
        v = sv.verdict_cbs(km)
        rows.append(verdict(NAME, v.claim, effects, seed, v.verdict, "supported", None, n_initiatives=n))
        soj = ms.sojourns(ini, phases)
        cr = ms.competing_risks_from_start(soj, horizon=3.0, n_boot=n_boot, seed=seed, min_at_risk=10)
        rows.append(
            estimand(
                NAME, "P(growth within 3 years of start)", effects, seed, truth["derived"]["p_growth_within_3y_of_start"],
                cr["p_growth"], cr["p_growth_low"], cr["p_growth_high"],
                n_initiatives=n, unit="share", note=f"bootstrap, {n_boot} replicates",
            )
        )  # fmt: skip
        v = sv.verdict_few_move_on(cr, phases_recorded=set(phases["phase"]))
        rows.append(verdict(NAME, v.claim, effects, seed, v.verdict, "supported", None, n_initiatives=n))
        st = sv.start_to_closure(ini, phases)
        h = sv.smoothed_hazard(st, bandwidth=1.0, min_at_risk=10)
        bands = sv.piecewise_hazard(st, min_at_risk=10)
        v = sv.verdict_valley(h, bands)
        rows.append(verdict(NAME, v.claim, effects, seed, v.verdict, "supported", None, n_initiatives=n))
    return rows
