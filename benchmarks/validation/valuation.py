"""Notebook 02 (valuation) over one generated dataset: hedonic elasticities, WTP, Oaxaca gap, verdicts.

Calls what the notebook's sections call: :func:`maexlab.valuation.build_features`,
:func:`~maexlab.valuation.hedonic_models` (CR2 cluster-robust SEs, t(G - 1)),
:func:`~maexlab.valuation.willingness_to_pay`, the Oaxaca-Blinder decomposition of the mainstream
investors' valuation gap by :func:`maexlab.valuation.oaxaca.decompose_bootstrap` on the section's
sample (accepted equity offers with every covariate, pooled reference, cluster bootstrap over
initiatives), and :func:`maexlab.valuation.claims.verdicts`. The predictive audit (bootstrap
intervals, minutes per dataset) is not part of this loop.

:func:`design_fixed_check` holds one dataset's design fixed and redraws only the valuation
errors, a direct check of the variance estimators (CR2 as used, against CR1 and classical OLS).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from maexlab import valuation as val
from maexlab.data import synth
from maexlab.data.loader import MaexData
from maexlab.valuation.decomposition import MIN_OAXACA_ROWS, OAXACA_COVARIATES
from maexlab.valuation.models import _rows_for
from maexlab.valuation.oaxaca import decompose_bootstrap

from .common import estimand, verdict, wilson

NAME = "valuation"
#: Cluster-bootstrap draws of the Oaxaca-Blinder interval, as in the notebook.
OAXACA_REPS = 300

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
#: Which outcome each verdict rule counts, and its nominal rate when the truth is at its null.
#: Claim 5 (mainstream investors ignore impact) is true in both modes: its false contradiction
#: rate is at most 5% (Bonferroni over two instruments) whatever the other effects.
NOMINAL: dict[str, tuple[str, float, bool]] = {
    # claim: (counted verdict, nominal rate, null holds with effects on too)
    "valuation.claims.ignores": ("contradicted", 0.05, True),
    "valuation.claims.priced": ("supported", 0.025, False),
    "valuation.claims.penalty": ("supported", 0.025, False),
    "valuation.claims.wtp": ("supported", 0.025, False),
}


def oaxaca_mainstream(features: pd.DataFrame, reps: int, seed: int) -> tuple[pd.DataFrame | None, str]:
    """Twofold table (``group, component, estimate, ci_low, ci_high, n_initiatives``) of the mainstream gap.

    Same sample, covariates, reference and side indicator as the notebook's decomposition
    section; returns (None, why) when a side is too small.
    """
    offers = _rows_for(features[features["investor_group"] == "mainstream"], "log_valuation")
    rows, _ = val.complete_rows(offers, ["log_valuation", *OAXACA_COVARIATES], "accepted equity offers")
    n1 = int(rows["social_or_hybrid"].sum())
    if min(n1, len(rows) - n1) < MIN_OAXACA_ROWS:
        return None, f"too few offers per side ({n1}, {len(rows) - n1})"
    boot = decompose_bootstrap(
        rows,
        "log_valuation",
        OAXACA_COVARIATES,
        group="social_or_hybrid",
        a=1,
        cluster="initiative_id",
        reference="pooled",
        reps=reps,
        seed=seed,
    )
    ids = rows.groupby("social_or_hybrid")["initiative_id"].nunique()
    agg = boot[(boot["part"] == "aggregate") & boot["name"].isin(("gap", "explained", "unexplained"))]
    table = agg.rename(columns={"name": "component"}).assign(group="mainstream", n_initiatives=int(ids.min()))
    return table[["group", "component", "estimate", "ci_low", "ci_high", "n_initiatives"]].reset_index(drop=True), ""


def collect(seed: int, effects: bool, n_initiatives: int = synth.DEFAULT_N, oaxaca_reps: int = OAXACA_REPS) -> list[dict]:
    """Every valuation estimand and verdict on one generated dataset (see the module docstring)."""
    tables, _ = synth.generate(seed, n_initiatives=n_initiatives, effects=effects)
    data = MaexData(tables, source=f"synth-{seed}", synthetic=True)
    n = len(tables["initiatives"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = val.build_features(data)
        fits = val.hedonic_models(features)
        wtp, wtp_fit = val.willingness_to_pay(features)
        oaxaca, why = oaxaca_mainstream(features, oaxaca_reps, seed) if oaxaca_reps else (None, "not run")
    rows: list[dict] = []
    for label, key, term, truth_on, truth_off in ESTIMANDS:
        fit = fits[key]
        t = fit.term(term)
        se = float(fit.coefs.set_index("term").loc[term, "std_error"]) if t is not None else None
        rows.append(
            estimand(
                NAME, label, effects, seed, truth_on if effects else truth_off,
                *((t["estimate"], t["ci_low"], t["ci_high"], se) if t is not None else (None, None, None, None)),
                n_initiatives=n, unit="log points" if "valuation" in key else "pp per log point",
                note="" if t is not None else str(fit.message or "not fitted"),
            )
        )  # fmt: skip
    wtp_truth = 100 * synth.LOAN_IMPACT_DISCOUNT if effects else 0.0
    se = float(wtp_fit.coefs.set_index("term").loc["impact_investor", "std_error"]) if wtp is not None else None
    rows.append(
        estimand(
            NAME, "WTP, loan-rate discount of impact investors (pp)", effects, seed, wtp_truth,
            *((wtp["wtp_pp"], wtp["ci_low"], wtp["ci_high"], se) if wtp is not None else (None, None, None, None)),
            n_initiatives=n, unit="pp",
        )
    )  # fmt: skip
    if oaxaca_reps:
        u = oaxaca[oaxaca["component"] == "unexplained"].iloc[0] if oaxaca is not None else None
        rows.append(
            estimand(
                NAME, "Oaxaca unexplained log gap, mainstream", effects, seed,
                synth.VALUATION_MAINSTREAM_PENALTY if effects else 0.0,
                *((u["estimate"], u["ci_low"], u["ci_high"]) if u is not None else (None, None, None)),
                n_initiatives=n, unit="log points", note=why or f"cluster bootstrap, {oaxaca_reps} draws",
            )
        )  # fmt: skip
    for v in val.verdicts(fits, oaxaca, wtp, None, wtp_reason=wtp_fit.reason):
        if v.claim not in NOMINAL or (v.claim == "valuation.claims.penalty" and not oaxaca_reps):
            continue
        target, nominal, always_null = NOMINAL[v.claim]
        rows.append(
            verdict(
                NAME,
                v.claim,
                effects,
                seed,
                v.verdict,
                target,
                nominal if (always_null or not effects) else None,
                n_initiatives=n,
            )
        )
    return rows


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
    hits: dict[str, list[bool]] = {"CR2, t(G-1)": [], "CR1, t(G-1)": [], "classical OLS": []}
    ses: dict[str, list[float]] = {k: [] for k in hits}
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
