"""Models of funding decisions: approval logit, fractional coverage logit, marginal effects,
and verdicts on the seed's funding claims.

Approval model (logit over decided applications, errors clustered by initiative)::

    approved ~ 0 + C(source)                                       # one intercept per source
               + C(value_model, Treatment('social')):C(source_group) # value model within source group
               + C(phase, Treatment('start')) + C(purpose, Treatment('startup'))
               + log_amount_c + multi_year

``source_group`` pools sources: subsidy (government_subsidy), fund (fund_grant), investor
(investor_equity, investor_loan), other (donation_crowdfunding, earned_income,
social_return_contract). So ``vm[hybrid]:group[subsidy]`` is directly hybrid vs social among
subsidy applications, and hybrid vs commercial among investor applications is the contrast
``vm[hybrid]:group[investor] - vm[commercial]:group[investor]``. ``log_amount_c`` is
log(amount requested / EUR 25,000), so each ``source[...]`` term is the log-odds of a social
initiative's single-year EUR 25k start-up request in the start phase.

The coverage model is the same right-hand side in a fractional logit: a GLM with binomial
family and logit link on the share granted (0 for rejections), quasi-likelihood, clustered
errors (Papke-Wooldridge). Terms a dataset cannot support (no value model, no phases) are
left out and recorded in :attr:`ModelFit.omitted`.

>>> import maexlab
>>> from maexlab import funding; from maexlab.funding import models as fm
>>> apps = funding.applications(maexlab.load("embedded"))      # doctest: +SKIP
>>> fit = fm.fit_approval(apps)                                 # doctest: +SKIP
>>> fit.coef("vm[hybrid]:group[subsidy]")                       # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from maexlab.data.schema import FUNDING_SOURCES, PHASES, PURPOSES
from maexlab.funding.tables import ESEM_COVERAGE, SOURCE_GROUP_ORDER

__all__ = [
    "COVERAGE_DIFFERENCE_BAND",
    "COVERAGE_EQUIVALENCE_BAND",
    "ModelFit",
    "Verdict",
    "ame_table",
    "design",
    "fit_approval",
    "fit_coverage",
    "odds_ratio_table",
    "plot_ame_forest",
    "verdict_coverage",
    "verdict_hybrid",
    "verdict_multi_year",
    "verdict_org_strengthening",
    "verdicts_table",
]

Z95 = float(stats.norm.ppf(0.975))
SUPPORTED, NOT_SUPPORTED, NOT_TESTABLE = "supported", "not supported", "not testable on this data"
#: "About 60% of needs met" (equivalence rule): supported when the whole 95% interval of coverage
#: lies within ESEM's 60.7% +/- 10 percentage points ...
COVERAGE_EQUIVALENCE_BAND: tuple[float, float] = (ESEM_COVERAGE - 0.10, ESEM_COVERAGE + 0.10)
#: ... and not supported when the whole interval lies outside 60.7% +/- 5 percentage points.
COVERAGE_DIFFERENCE_BAND: tuple[float, float] = (ESEM_COVERAGE - 0.05, ESEM_COVERAGE + 0.05)
PHASE_REFERENCE, PURPOSE_REFERENCE = "start", "startup"
ORG, PROJECT = "purpose[organisational_strengthening]", "purpose[project]"
ORG_FUND, PROJECT_FUND = f"{ORG}:source[fund_grant]", f"{PROJECT}:source[fund_grant]"
#: Extra terms of the fund-grant purpose model (``fit_approval(..., fund_purpose=True)``).
FUND_PURPOSE_TERMS: tuple[str, str] = (ORG_FUND, PROJECT_FUND)
MODEL_PHASES = tuple(p for p in PHASES if p != "closed")


def design(frame: pd.DataFrame, value_model: bool = True, phase: bool = True, fund_purpose: bool = False) -> pd.DataFrame:
    """The design matrix of the approval and coverage models (all candidate columns).

    ``fund_purpose`` adds :data:`FUND_PURPOSE_TERMS`:
    ``purpose[organisational_strengthening]:source[fund_grant]`` and
    ``purpose[project]:source[fund_grant]``, so that within fund grants both purposes have
    their own effect relative to start-up (``source[fund_grant]`` is the fund-grant start-up
    level). Organisational strengthening vs start-up within fund grants is then
    ``org + org:fund``; vs project it is ``org + org:fund - project - project:fund``.

    >>> f = pd.DataFrame({"source": ["fund_grant"], "source_group": ["fund"], "value_model": ["hybrid"],
    ...     "phase": ["growth"], "purpose": ["project"], "log_amount_c": [0.0], "multi_year": [True]})
    >>> [c for c, v in design(f).iloc[0].items() if v != 0]
    ['source[fund_grant]', 'vm[hybrid]:group[fund]', 'phase[growth]', 'purpose[project]', 'multi_year']
    """
    cols: dict[str, np.ndarray] = {}
    for s in FUNDING_SOURCES:
        cols[f"source[{s}]"] = (frame["source"] == s).to_numpy(dtype=float)
    if value_model:
        for g in SOURCE_GROUP_ORDER:
            for v in ("hybrid", "commercial"):
                cols[f"vm[{v}]:group[{g}]"] = ((frame["value_model"] == v) & (frame["source_group"] == g)).to_numpy(dtype=float)
    if phase:
        for p in MODEL_PHASES:
            if p != PHASE_REFERENCE:
                cols[f"phase[{p}]"] = (frame["phase"] == p).to_numpy(dtype=float)
    for p in PURPOSES:
        if p != PURPOSE_REFERENCE:
            cols[f"purpose[{p}]"] = (frame["purpose"] == p).to_numpy(dtype=float)
    cols["log_amount_c"] = frame["log_amount_c"].to_numpy(dtype=float)
    cols["multi_year"] = frame["multi_year"].astype(float).to_numpy()
    if fund_purpose:
        for p in ("organisational_strengthening", "project"):
            cols[f"purpose[{p}]:source[fund_grant]"] = ((frame["purpose"] == p) & (frame["source"] == "fund_grant")).to_numpy(
                dtype=float
            )
    return pd.DataFrame(cols, index=frame.index)


def _drop_perfect_prediction(x: pd.DataFrame, y: pd.Series) -> tuple[pd.Series, list[str]]:
    """Rows to keep after removing groups whose outcome a single dummy predicts perfectly.

    A 0/1 column whose rows all have the same outcome (all approved, or all rejected; all shares
    1 or all 0) has no finite estimate. As Stata's logit does, the term and its rows are left out,
    and a note says so. Repeated until no such column remains.
    """
    keep = pd.Series(True, index=x.index)
    notes: list[str] = []
    changed = True
    while changed:
        changed = False
        for c in x.columns:
            col = x.loc[keep, c]
            if not col.isin((0.0, 1.0)).all() or col.sum() == 0 or (col == 0).sum() == 0:
                continue
            on = keep & (x[c] == 1)
            outcomes = y[on]
            if outcomes.min() == outcomes.max():
                what = (
                    "approved"
                    if outcomes.iloc[0] == 1
                    else "not approved"
                    if outcomes.iloc[0] == 0
                    else f"share {outcomes.iloc[0]:g}"
                )
                notes.append(
                    f"{c}: all {int(on.sum())} applications {what} (perfect prediction); term and its applications left out"
                )
                keep &= ~on
                changed = True
    return keep, notes


def _full_rank_columns(x: pd.DataFrame) -> list[str]:
    """Drop empty columns, then columns that add no rank (later columns go first)."""
    keep = [c for c in x.columns if np.any(x[c].to_numpy() != 0)]
    chosen: list[str] = []
    for c in keep:
        trial = chosen + [c]
        if np.linalg.matrix_rank(x[trial].to_numpy()) == len(trial):
            chosen = trial
    return chosen


@dataclass
class ModelFit:
    """A fitted approval or coverage model with its clustered covariance."""

    name: str
    outcome: str
    columns: list[str]
    params: pd.Series
    cov: pd.DataFrame
    n_obs: int
    n_clusters: int
    frame: pd.DataFrame
    options: dict
    omitted: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    converged: bool = True
    notes: list[str] = field(default_factory=list)

    def has(self, *terms: str) -> bool:
        return all(t in self.params.index for t in terms)

    def contrast(self, weights: dict[str, float]) -> dict[str, float]:
        """Estimate, standard error and 95% interval of sum(w * coef) (log-odds scale)."""
        w = pd.Series(0.0, index=self.params.index)
        for k, v in weights.items():
            w[k] = v
        est = float(w @ self.params)
        se = float(np.sqrt(w @ self.cov @ w))
        return {
            "estimate": est,
            "se": se,
            "lo": est - Z95 * se,
            "hi": est + Z95 * se,
            "p": float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan"),
        }

    def coef(self, term: str) -> dict[str, float]:
        """Estimate, SE and 95% interval of one term (log-odds), from the clustered covariance."""
        return self.contrast({term: 1.0})

    def terms(self) -> dict[str, dict[str, float]]:
        """Every estimated term: ``coef``, ``se``, ``lo``, ``hi`` (95%, log-odds) and the odds
        ratio with its interval, all from the model's own clustered covariance."""
        out = {}
        for term in self.columns:
            c = self.coef(term)
            out[term] = {
                "coef": c["estimate"],
                "se": c["se"],
                "lo": c["lo"],
                "hi": c["hi"],
                "odds_ratio": float(np.exp(c["estimate"])),
                "or_lo": float(np.exp(c["lo"])),
                "or_hi": float(np.exp(c["hi"])),
                "p": c["p"],
            }
        return out

    def x(self, frame: pd.DataFrame) -> np.ndarray:
        return design(frame, **self.options)[self.columns].to_numpy(dtype=float)


#: Why a decided application lacks a model input.
INPUT_REASONS: dict[str, str] = {
    "source": "no source",
    "purpose": "no purpose",
    "log_amount_c": "amount requested missing or not positive",
    "multi_year": "multi-year flag not recorded",
    "approved": "no outcome",
    "share_granted": "amount granted missing",
    "value_model": "initiative has no value model",
    "phase": "no phase at application (or applied after closure)",
}


def model_frame(apps: pd.DataFrame, value_model: bool, phase: bool) -> tuple[pd.DataFrame, list[str]]:
    """Decided applications with every model input present, and a note on those left out.

    The note counts the decided applications left out and, per input, how many lack it (an
    application can lack several).
    """
    need = ["source", "purpose", "log_amount_c", "multi_year", "approved", "share_granted"]
    need += ["value_model"] if value_model else []
    need += ["phase"] if phase else []
    decided = apps[apps["decided"]]
    missing = decided[need].isna()
    if phase:
        missing["phase"] |= ~decided["phase"].isin(MODEL_PHASES)
    out = missing.any(axis=1)
    notes = []
    if out.any():
        detail = "; ".join(f"{INPUT_REASONS.get(c, 'missing ' + c)}: {int(missing[c].sum())}" for c in need if missing[c].any())
        notes.append(f"{int(out.sum())} of {len(decided)} decided applications left out for missing inputs ({detail})")
    return decided[~out].reset_index(drop=True), notes


def _terms_available(apps: pd.DataFrame) -> tuple[dict, dict[str, str]]:
    omitted = {}
    vm = "value_model" in apps.columns and apps["value_model"].notna().any()
    ph = "phase" in apps.columns and apps["phase"].notna().any()
    if not vm:
        omitted["value model x source group"] = "no value model in the data (initiatives.value_model)"
    if not ph:
        omitted["phase at application"] = "no phase at application (funding.phase_at_application or the phases table)"
    return {"value_model": vm, "phase": ph}, omitted


def _fit(apps: pd.DataFrame, outcome: str, name: str, fund_purpose: bool = False) -> ModelFit | None:
    options, omitted = _terms_available(apps)
    options["fund_purpose"] = fund_purpose
    d, notes = model_frame(apps, options["value_model"], options["phase"])
    if len(d) < 30 or d["approved"].astype(bool).nunique() < 2:
        return None
    x_all = design(d, **options)
    y = d["approved"].astype(float) if outcome == "approved" else d["share_granted"].astype(float)
    if outcome == "share_granted" and "granted_above_request" in d.columns and d["granted_above_request"].any():
        k = int(d["granted_above_request"].sum())
        notes.append(f"{k} applications granted more than requested (top-ups): share granted capped at 1 in this model")
    keep_rows, perfect = _drop_perfect_prediction(x_all, y)
    notes += perfect
    d, x_all, y = (
        d[keep_rows].reset_index(drop=True),
        x_all[keep_rows].reset_index(drop=True),
        y[keep_rows].reset_index(drop=True),
    )
    columns = _full_rank_columns(x_all)
    x = x_all[columns]
    groups = pd.factorize(d["initiative_id"], sort=True)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if outcome == "approved":
            res = sm.Logit(y, x).fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
            converged = bool(res.mle_retvals.get("converged", True))
        else:
            res = sm.GLM(y, x, family=sm.families.Binomial()).fit(maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
            converged = bool(getattr(res, "converged", True))
    params = pd.Series(np.asarray(res.params), index=columns)
    cov = pd.DataFrame(np.asarray(res.cov_params()), index=columns, columns=columns)
    return ModelFit(
        name=name,
        outcome=outcome,
        columns=columns,
        params=params,
        cov=cov,
        n_obs=len(d),
        n_clusters=int(groups.max() + 1),
        frame=d,
        options=options,
        omitted=omitted,
        dropped=[c for c in x_all.columns if c not in columns],
        converged=converged,
        notes=notes,
    )


def fit_approval(apps: pd.DataFrame, fund_purpose: bool = False) -> ModelFit | None:
    """Approval logit over decided applications, cluster-robust errors by initiative.

    Returns None when there are too few decided applications (< 30) or no variation.
    """
    return _fit(apps, "approved", "approval logit", fund_purpose)


def fit_coverage(apps: pd.DataFrame) -> ModelFit | None:
    """Fractional logit of the share granted (GLM binomial, logit link), clustered by initiative."""
    return _fit(apps, "share_granted", "coverage fractional logit")


def odds_ratio_table(fit: ModelFit) -> pd.DataFrame:
    """Coefficients as odds ratios (exp(coef)) with 95% intervals, clustered errors."""
    cols = ["coef", "se", "odds_ratio", "or_lo", "or_hi", "p"]
    return pd.DataFrame([{"term": term, **{k: t[k] for k in cols}} for term, t in fit.terms().items()], columns=["term", *cols])


# --- average marginal effects ------------------------------------------------------------------

#: (label, rows the effect averages over, column, from value, to value)
AME_SPECS: tuple[tuple[str, tuple[str, str] | None, str, object, object], ...] = (
    ("hybrid vs social | government subsidy", ("source_group", "subsidy"), "value_model", "social", "hybrid"),
    ("commercial vs social | government subsidy", ("source_group", "subsidy"), "value_model", "social", "commercial"),
    ("hybrid vs commercial | investors", ("source_group", "investor"), "value_model", "commercial", "hybrid"),
    ("hybrid vs social | fund grants", ("source_group", "fund"), "value_model", "social", "hybrid"),
    ("org. strengthening vs startup", None, "purpose", "startup", "organisational_strengthening"),
    ("org. strengthening vs project", None, "purpose", "project", "organisational_strengthening"),
    (
        "org. strengthening vs startup | fund grants",
        ("source", "fund_grant"),
        "purpose",
        "startup",
        "organisational_strengthening",
    ),
    ("operations vs startup", None, "purpose", "startup", "operations"),
    ("growth capital vs startup", None, "purpose", "startup", "growth_capital"),
    ("multi-year vs single-year", None, "multi_year", False, True),
    ("plan vs start phase", None, "phase", "start", "plan"),
    ("growth vs start phase", None, "phase", "start", "growth"),
    ("mature vs start phase", None, "phase", "start", "mature"),
    ("doubling the amount requested", None, "log_amount_c", 0.0, float(np.log(2.0))),
)


def average_marginal_effect(fit: ModelFit, rows: pd.Series, column: str, a, b) -> dict[str, float]:
    """Average over ``rows`` of P(outcome | column=b) - P(outcome | column=a), in percentage
    points, with a delta-method 95% interval from the clustered covariance. For
    ``log_amount_c`` the change is additive (a, b are shifts)."""
    d = fit.frame[rows.to_numpy()]
    if column == "log_amount_c":
        f0, f1 = d.assign(log_amount_c=d["log_amount_c"] + a), d.assign(log_amount_c=d["log_amount_c"] + b)
    else:
        f0, f1 = d.assign(**{column: a}), d.assign(**{column: b})
    x0, x1 = fit.x(f0), fit.x(f1)
    beta = fit.params.to_numpy()
    p0, p1 = 1 / (1 + np.exp(-x0 @ beta)), 1 / (1 + np.exp(-x1 @ beta))
    est = float(np.mean(p1 - p0))
    grad = ((p1 * (1 - p1))[:, None] * x1 - (p0 * (1 - p0))[:, None] * x0).mean(axis=0)
    se = float(np.sqrt(grad @ fit.cov.to_numpy() @ grad))
    return {"ame_pp": 100 * est, "lo_pp": 100 * (est - Z95 * se), "hi_pp": 100 * (est + Z95 * se), "n": int(len(d))}


def _ame_term(fit: ModelFit, column: str, a, b, where: tuple[str, str] | None) -> bool:
    """Whether the model identifies this effect (the terms it moves are estimated)."""
    if column == "value_model":
        if not fit.options["value_model"]:
            return False
        group = where[1]
        return all(f"vm[{v}]:group[{group}]" in fit.columns for v in (a, b) if v != "social")
    if column == "phase":
        return fit.options["phase"] and f"phase[{b}]" in fit.columns
    if column == "purpose":
        return all(f"purpose[{v}]" in fit.columns for v in (a, b) if v != PURPOSE_REFERENCE)
    return column in fit.columns


def ame_table(fit: ModelFit) -> pd.DataFrame:
    """Average marginal effects (percentage points) of the contrasts in :data:`AME_SPECS` the
    model identifies; ``n`` is the number of applications averaged over.

    A purpose effect averaged over fund grants from a model without the fund-grant purpose terms
    applies the pooled (all-sources) log-odds effect to fund-grant applications; its label says so.
    """
    rows = []
    for label, where, column, a, b in AME_SPECS:
        if not _ame_term(fit, column, a, b, where):
            continue
        if column == "purpose" and where == ("source", "fund_grant") and not fit.has(ORG_FUND):
            label += " (pooled purpose effect)"
        mask = pd.Series(True, index=fit.frame.index) if where is None else fit.frame[where[0]] == where[1]
        if mask.sum() == 0:
            continue
        rows.append({"effect": label, "model": fit.name, **average_marginal_effect(fit, mask, column, a, b)})
    return pd.DataFrame(rows, columns=["effect", "model", "ame_pp", "lo_pp", "hi_pp", "n"])


def plot_ame_forest(tables: dict[str, pd.DataFrame]):
    """Forest plot of average marginal effects with 95% intervals, one panel per model."""
    tables = {k: v for k, v in tables.items() if v is not None and len(v)}
    fig, axes = plt.subplots(
        1, len(tables), figsize=(6.5 * len(tables), 0.42 * max(len(t) for t in tables.values()) + 1.8), sharey=True, squeeze=False
    )
    labels = list(dict.fromkeys(e for t in tables.values() for e in t["effect"]))
    y = {lab: i for i, lab in enumerate(labels)}
    for ax, (title, t) in zip(axes[0], tables.items(), strict=True):
        pos = t["effect"].map(y).to_numpy()
        ax.errorbar(
            t["ame_pp"],
            pos,
            xerr=[t["ame_pp"] - t["lo_pp"], t["hi_pp"] - t["ame_pp"]],
            fmt="o",
            color="#4c72b0",
            capsize=3,
            label="estimate with 95% interval",
        )
        ax.axvline(0, color="black", lw=1)
        ax.set_title(title)
        ax.set_xlabel("average marginal effect (percentage points)")
        ax.legend(fontsize=8, loc="lower right")
    axes[0][0].set_yticks(range(len(labels)), labels)
    axes[0][0].invert_yaxis()
    fig.suptitle("Who gets funded: average marginal effects (errors clustered by initiative)", fontweight="bold")
    fig.tight_layout()
    return fig


# --- verdicts ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    """A claim, the verdict the rule gives, and the numbers it rests on."""

    claim: str
    verdict: str
    rule: str
    evidence: str
    numbers: dict

    def as_dict(self) -> dict:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "rule": self.rule,
            "evidence": self.evidence,
            "numbers": self.numbers,
        }


def _fmt(c: dict[str, float]) -> str:
    return f"{c['estimate']:+.2f} [{c['lo']:+.2f}, {c['hi']:+.2f}]"


def _num(c: dict[str, float]) -> dict[str, float]:
    return {k: round(c[k], 4) for k in ("estimate", "lo", "hi")}


def verdict_hybrid(fit: ModelFit | None) -> Verdict:
    """Claim 9: hybrid value models fall between two stools. Supported when, in the approval
    logit, hybrid is below social among subsidy applications AND below commercial among investor
    applications, each with the whole 95% interval below 0 (log-odds)."""
    claim = "Hybrids fall between two stools: less subsidy approval than social, less investor approval than commercial"
    rule = "both log-odds contrasts (hybrid-social | subsidy; hybrid-commercial | investors) have 95% upper bound < 0"
    a, b, c = "vm[hybrid]:group[subsidy]", "vm[hybrid]:group[investor]", "vm[commercial]:group[investor]"
    if fit is None or not fit.options.get("value_model") or not fit.has(a, b, c):
        why = "no value model or too few hybrid/social/commercial applications to subsidy and investors"
        return Verdict(claim, NOT_TESTABLE, rule, why, {})
    sub = fit.coef(a)
    inv = fit.contrast({b: 1.0, c: -1.0})
    ok = sub["hi"] < 0 and inv["hi"] < 0
    ev = f"hybrid vs social, subsidy: {_fmt(sub)}; hybrid vs commercial, investors: {_fmt(inv)} (log-odds, 95% CI)"
    return Verdict(
        claim,
        SUPPORTED if ok else NOT_SUPPORTED,
        rule,
        ev,
        {"hybrid_vs_social_subsidy": _num(sub), "hybrid_vs_commercial_investor": _num(inv)},
    )


def verdict_org_strengthening(fit: ModelFit | None, fund_fit: ModelFit | None = None) -> Verdict:
    """Claim 10 (seed): "Funds finance the start-up phase or specific projects, not organisational
    strength". Tested within fund grants, on ``fund_fit`` (the approval logit with the fund-grant
    purpose terms, ``fit_approval(apps, fund_purpose=True)``). Supported when, for fund-grant
    applications, organisational strengthening has lower approval log-odds than start-up
    (``org + org:fund``) AND than project (``org + org:fund - project - project:fund``), both with
    the 95% upper bound below 0 (clustered covariance). The pooled contrasts of ``fit`` (all
    sources, no fund-grant purpose terms) and the fund-grant difference from other sources
    (``org:fund``) are reported beside it; they do not decide the verdict."""
    claim = (
        "Fund grants pay for start-up and projects, not organisational strength: within fund grants, "
        "organisational-strengthening requests are approved less often than start-up and than project requests"
    )
    rule = (
        "within fund grants (approval logit with fund-grant purpose terms), org. strengthening - startup "
        "[org + org:fund] and org. strengthening - project [org + org:fund - project - project:fund] "
        "both have 95% upper bound < 0 (log-odds)"
    )
    numbers: dict = {}
    pooled = ""
    if fit is not None and fit.has(ORG, PROJECT):
        p_start, p_proj = fit.coef(ORG), fit.contrast({ORG: 1.0, PROJECT: -1.0})
        numbers.update(pooled_org_vs_startup=_num(p_start), pooled_org_vs_project=_num(p_proj))
        pooled = f"all sources pooled: vs startup {_fmt(p_start)}, vs project {_fmt(p_proj)}"
    counts = {}
    if fund_fit is not None:
        fund_rows = fund_fit.frame[fund_fit.frame["source"] == "fund_grant"]
        counts = {p: int((fund_rows["purpose"] == p).sum()) for p in ("organisational_strengthening", "startup", "project")}
    if (
        fund_fit is None
        or not fund_fit.has(ORG, PROJECT, ORG_FUND, PROJECT_FUND, "source[fund_grant]")
        or min(counts.values()) == 0
    ):
        why = "no fund-grant fit, or too few fund-grant applications for organisational strengthening, start-up and projects"
        if counts:
            why += " (fund-grant applications in the model: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")"
        return Verdict(claim, NOT_TESTABLE, rule, "; ".join(x for x in (why, pooled) if x), numbers)
    vs_start = fund_fit.contrast({ORG: 1.0, ORG_FUND: 1.0})
    vs_proj = fund_fit.contrast({ORG: 1.0, ORG_FUND: 1.0, PROJECT: -1.0, PROJECT_FUND: -1.0})
    extra = fund_fit.coef(ORG_FUND)
    ok = vs_start["hi"] < 0 and vs_proj["hi"] < 0
    ev = (
        f"fund grants: vs startup {_fmt(vs_start)}, vs project {_fmt(vs_proj)}; {pooled}; "
        f"fund grants vs other sources (org. strengthening vs startup, difference) {_fmt(extra)}"
    )
    numbers.update(
        fund_grant_org_vs_startup=_num(vs_start), fund_grant_org_vs_project=_num(vs_proj), fund_grant_extra=_num(extra)
    )
    numbers["fund_grant_applications"] = counts
    return Verdict(claim, SUPPORTED if ok else NOT_SUPPORTED, rule, ev, numbers)


def verdict_multi_year(fit: ModelFit | None) -> Verdict:
    """Claim 7: long-term funding is hard to get. Supported when the multi-year term of the
    approval logit has its 95% upper bound below 0."""
    claim = "Long-term (multi-year) funding is hard to get"
    rule = "multi-year log-odds term has 95% upper bound < 0"
    if fit is None or not fit.has("multi_year"):
        return Verdict(claim, NOT_TESTABLE, rule, "no multi-year flag or no multi-year applications", {})
    c = fit.coef("multi_year")
    return Verdict(
        claim, SUPPORTED if c["hi"] < 0 else NOT_SUPPORTED, rule, f"multi-year vs single-year {_fmt(c)}", {"multi_year": _num(c)}
    )


def verdict_coverage(overall: pd.DataFrame | None) -> Verdict:
    """ESEM: initiatives secure about 60% of their financing needs (60.7%). Equivalence rule on
    the 95% interval [lo, hi] of overall money-weighted coverage:

    * supported when the whole interval lies within 60.7% +/- 10 percentage points;
    * not supported when the whole interval lies outside 60.7% +/- 5 percentage points
      (hi < 55.7% or lo > 65.7%);
    * otherwise not testable on this data: the interval is too wide (or sits between the two
      bands) to tell, and the numbers are shown.

    >>> row = lambda lo, hi: pd.DataFrame({"coverage": [(lo + hi) / 2], "coverage_lo": [lo], "coverage_hi": [hi]})
    >>> [verdict_coverage(row(*i)).verdict for i in [(0.58, 0.62), (0.3, 0.9), (0.3, 0.5)]]
    ['supported', 'not testable on this data', 'not supported']
    """
    claim = "About 60% of financing needs are met (ESEM 2021-22: 60.7%)"
    eq_lo, eq_hi = COVERAGE_EQUIVALENCE_BAND
    df_lo, df_hi = COVERAGE_DIFFERENCE_BAND
    rule = (
        f"supported if the 95% interval of overall coverage lies within [{100 * eq_lo:.1f}%, {100 * eq_hi:.1f}%] "
        f"(60.7% +/- 10 pp); not supported if it lies wholly outside [{100 * df_lo:.1f}%, {100 * df_hi:.1f}%] "
        "(60.7% +/- 5 pp); otherwise not testable"
    )
    if overall is None or overall.empty or pd.isna(overall["coverage"].iloc[0]) or pd.isna(overall["coverage_lo"].iloc[0]):
        return Verdict(claim, NOT_TESTABLE, rule, "no decided applications with amounts (or coverage suppressed)", {})
    row = overall.iloc[0]
    c = {"estimate": float(row["coverage"]), "lo": float(row["coverage_lo"]), "hi": float(row["coverage_hi"])}
    ev = f"coverage {100 * c['estimate']:.1f}% [{100 * c['lo']:.1f}, {100 * c['hi']:.1f}] of EUR requested (decided applications)"
    if eq_lo <= c["lo"] and c["hi"] <= eq_hi:
        verdict = SUPPORTED
    elif c["hi"] < df_lo or c["lo"] > df_hi:
        verdict = NOT_SUPPORTED
    else:
        verdict = NOT_TESTABLE
        width = 100 * (c["hi"] - c["lo"])
        if width > 100 * (eq_hi - eq_lo):
            ev += f"; interval {width:.1f} pp wide, wider than the 20 pp equivalence band: too few data to tell"
        else:
            ev += "; the interval reaches beyond 60.7% +/- 10 pp but not wholly outside 60.7% +/- 5 pp: too uncertain to tell"
    return Verdict(claim, verdict, rule, ev, {"coverage": {k: round(v, 4) for k, v in c.items()}})


def verdicts_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """The verdicts as a table (claim, verdict, evidence, rule) for display."""
    return pd.DataFrame([{k: v for k, v in vd.as_dict().items() if k != "numbers"} for vd in verdicts])
