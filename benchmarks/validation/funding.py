"""Notebook 01 (funding gaps) over one generated dataset: planted approval effects, coverage, verdicts.

Calls what the notebook's sections call (:func:`maexlab.funding.applications`,
:func:`~maexlab.funding.gap_table`, :func:`~maexlab.funding.models.fit_approval` with and without
the fund-grant purpose terms, :func:`~maexlab.funding.models.fit_coverage` and the four verdict
rules of :mod:`maexlab.funding.claims`).

Truths, read from the generator's truth record of the same dataset:

* approval logit: the planted log-odds of every term or contrast the model identifies (0 without
  effects);
* coverage fractional logit: its *pseudo-true* value on this design, the same model fitted to
  the exact expected share granted E[granted / requested | covariates] of every decided
  application (the data's model is a projection of the generator's two-part process, so this
  is what the estimator targets; without effects every non-source term is exactly 0);
* overall money-weighted coverage: the generator's exact expectation over the decided
  applications (``derived.coverage_overall``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from maexlab import funding
from maexlab.data import synth
from maexlab.data.loader import MaexData
from maexlab.funding import claims
from maexlab.funding import models as fm

from .common import estimand, verdict

NAME = "funding"
#: Cluster-bootstrap replicates of the overall coverage interval, as in the notebook.
N_BOOT = 300


def _approval_contrasts(truth: dict) -> dict[str, tuple[dict[str, float], float]]:
    """Approval-model contrast -> (weights on model terms, planted log-odds)."""
    a = truth["approval_logit"]
    vm = a["value_model_x_source"]
    out = {
        "approval: hybrid x subsidy (vs social)": ({"vm[hybrid]:group[subsidy]": 1.0}, a["hybrid_x_government_subsidy"]),
        "approval: commercial x subsidy (vs social)": (
            {"vm[commercial]:group[subsidy]": 1.0},
            a["commercial_x_government_subsidy"],
        ),
        "approval: hybrid vs commercial, investors": (
            {"vm[hybrid]:group[investor]": 1.0, "vm[commercial]:group[investor]": -1.0},
            a["hybrid_x_investor"],
        ),
        "approval: hybrid x fund (vs social)": (
            {"vm[hybrid]:group[fund]": 1.0},
            vm["hybrid|fund_grant"] - vm["social|fund_grant"],
        ),
        "approval: log amount": ({"log_amount_c": 1.0}, a["log_amount_minus_log_25000"]),
        "approval: multi-year": ({"multi_year": 1.0}, a["multi_year"]),
    }
    for purpose in ("organisational_strengthening", "project", "operations", "growth_capital"):
        out[f"approval: purpose {purpose}"] = ({f"purpose[{purpose}]": 1.0}, a["purpose"][purpose] - a["purpose"]["startup"])
    for phase in ("plan", "growth", "mature"):
        out[f"approval: phase {phase}"] = ({f"phase[{phase}]": 1.0}, a["phase"][phase] - a["phase"]["start"])
    return out


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def expected_share(apps: pd.DataFrame, truth: dict) -> pd.Series:
    """E[granted / requested | covariates] of each application under the generator's planted process.

    P(approved) x (P(granted in full) + (1 - P(full)) x mean partial share), every part a logit
    of the planted coefficients in ``truth`` (the generator's own two-part process).
    """
    a, c = truth["approval_logit"], truth["coverage_model"]
    x = np.log(apps["amount_requested"].astype(float)) - math.log(25000.0)
    vm_source = a["value_model_x_source"]
    eta = (
        apps["source"].map(a["intercept_by_source"]).astype(float)
        + apps["phase"].map(a["phase"]).astype(float)
        + apps["purpose"].map(a["purpose"]).astype(float)
        + a["log_amount_minus_log_25000"] * x
        + a["multi_year"] * apps["multi_year"].astype(float)
        + pd.Series([vm_source[f"{v}|{s}"] for v, s in zip(apps["value_model"], apps["source"], strict=True)], index=apps.index)
    )
    full = c["full_grant_logit"]
    part = c["partial_share_mean_logit"]
    p_full = _logistic(full["intercept"] + full["log_amount"] * x)
    m = _logistic(
        part["intercept"]
        + part["hybrid"] * (apps["value_model"] == "hybrid")
        + part["organisational_strengthening"] * (apps["purpose"] == "organisational_strengthening")
        + part["log_amount"] * x
    )
    return _logistic(eta) * (p_full + (1 - p_full) * m)


def pseudo_true_coverage(cov_fit: fm.ModelFit, truth: dict) -> pd.Series:
    """The coverage model's coefficients on its own design rows with the outcome replaced by its expectation.

    Fitted directly (binomial GLM, logit link): the model's own fit would drop a source whose
    expected share is one constant (as it is without effects) as perfect prediction.
    """
    import statsmodels.api as sm

    x = pd.DataFrame(cov_fit.x(cov_fit.frame), columns=cov_fit.columns)
    y = expected_share(cov_fit.frame, truth).to_numpy(dtype=float)
    res = sm.GLM(y, x, family=sm.families.Binomial()).fit(maxiter=200)
    return pd.Series(np.asarray(res.params), index=cov_fit.columns)


#: Coverage-model terms checked against their pseudo-true value.
COVERAGE_TERMS: tuple[str, ...] = (
    "vm[hybrid]:group[subsidy]",
    "purpose[organisational_strengthening]",
    "log_amount_c",
    "multi_year",
)


def collect(seed: int, effects: bool, n_initiatives: int = synth.DEFAULT_N, n_boot: int = N_BOOT) -> list[dict]:
    """Every funding estimand and verdict on one generated dataset (see the module docstring)."""
    tables, truth = synth.generate(seed, n_initiatives=n_initiatives, effects=effects)
    data = MaexData(tables, source=f"synth-{seed}", synthetic=True)
    n = len(tables["initiatives"])
    rows: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        apps = funding.applications(data)
        fit = fm.fit_approval(apps)
        fund_fit = fm.fit_approval(apps, fund_purpose=True)
        cov_fit = fm.fit_coverage(apps)
        overall = funding.gap_table(apps, [], seed=seed, n_boot=n_boot).iloc[0]
        pseudo = pseudo_true_coverage(cov_fit, truth) if cov_fit is not None and cov_fit.usable else None

    usable = fit is not None and fit.usable
    for name, (weights, planted) in _approval_contrasts(truth).items():
        c = fit.contrast(weights) if usable and all(t in fit.params.index for t in weights) else None
        rows.append(
            estimand(
                NAME, name, effects, seed, planted,
                *((c["estimate"], c["lo"], c["hi"], c["se"]) if c else (None, None, None, None)),
                n_initiatives=n, unit="log-odds", note="" if c else "term not estimated or fit unusable",
            )
        )  # fmt: skip
    # Claim 10 is decided within fund grants: organisational strengthening vs start-up there.
    a = truth["approval_logit"]["purpose"]
    fund_ok = fund_fit is not None and fund_fit.usable and fund_fit.has(fm.ORG, fm.ORG_FUND)
    c = fund_fit.contrast({fm.ORG: 1.0, fm.ORG_FUND: 1.0}) if fund_ok else None
    rows.append(
        estimand(
            NAME, "approval: org. strengthening vs start-up within fund grants", effects, seed,
            a["organisational_strengthening"] - a["startup"],
            *((c["estimate"], c["lo"], c["hi"], c["se"]) if c else (None, None, None, None)),
            n_initiatives=n, unit="log-odds",
        )
    )  # fmt: skip
    for term in COVERAGE_TERMS:
        ok = pseudo is not None and term in pseudo.index
        c = cov_fit.coef(term) if ok else None
        rows.append(
            estimand(
                NAME, f"coverage model: {term}", effects, seed,
                float(pseudo[term]) if ok else math.nan,
                *((c["estimate"], c["lo"], c["hi"], c["se"]) if c else (None, None, None, None)),
                n_initiatives=n, unit="log-odds (pseudo-true)",
            )
        )  # fmt: skip
    rows.append(
        estimand(
            NAME, "overall money-weighted coverage", effects, seed, truth["derived"]["coverage_overall"],
            overall["coverage"], overall["coverage_lo"], overall["coverage_hi"],
            n_initiatives=n, unit="share", note=f"cluster bootstrap, {n_boot} replicates",
        )
    )  # fmt: skip

    # Partial data (docs/funding_gaps.md): without phases the purpose terms also pick up phase.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        no_phase = fm.fit_approval(apps.drop(columns=["phase"]))
    term = "purpose[organisational_strengthening]"
    c = no_phase.coef(term) if no_phase is not None and no_phase.usable and term in no_phase.params.index else None
    rows.append(
        estimand(
            NAME, "approval: purpose organisational_strengthening, model without phase terms", effects, seed,
            a["organisational_strengthening"] - a["startup"],
            *((c["estimate"], c["lo"], c["hi"], c["se"]) if c else (None, None, None, None)),
            n_initiatives=n, unit="log-odds", role="illustration",
        )
    )  # fmt: skip

    # Verdicts: the rules' nominal 2.5% false support applies when the planted effect is 0.
    null = None if effects else claims.NOMINAL_RATE
    found = [
        claims.coverage_verdict(overall["coverage"], overall["coverage_lo"], overall["coverage_hi"]),
        claims.hybrid_verdict(fit),
        claims.org_strength_verdict(fit, fund_fit),
        claims.multi_year_verdict(fit),
    ]
    for v in found:
        nominal = None if v.claim == claims.CLAIMS["coverage_60"] else null
        rows.append(verdict(NAME, v.claim, effects, seed, v.verdict, "supported", nominal, n_initiatives=n))
    return rows
