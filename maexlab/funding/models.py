"""Models of funding decisions: approval logit, fractional coverage logit, marginal effects,
with the checks that decide whether a fit may be shown at all (convergence, separation, reference
levels present). The verdicts on the claims live in :mod:`maexlab.funding.claims`.

Approval model (logit over decided applications, errors clustered by initiative)::

    approved ~ 0 + C(source)                                       # one intercept per source
               + C(value_model, Treatment('social')):C(source_group) # value model within source group
               + C(phase, Treatment('start')) + C(purpose, Treatment('startup'))
               + log_amount_c + multi_year                         # multi_year only when recorded

``source_group`` pools sources: subsidy (government_subsidy), fund (fund_grant), investor
(investor_equity, investor_loan), other (donation_crowdfunding, earned_income,
social_return_contract). So ``vm[hybrid]:group[subsidy]`` is directly hybrid vs social among
subsidy applications, and hybrid vs commercial among investor applications is the contrast
``vm[hybrid]:group[investor] - vm[commercial]:group[investor]``. ``log_amount_c`` is
log(amount requested / EUR 25,000), so each ``source[...]`` term is the log-odds of a social
initiative's single-year EUR 25k start-up request in the start phase.

The coverage model is the same right-hand side in a fractional logit: a GLM with binomial
family and logit link on the share granted (0 for rejections), quasi-likelihood, clustered
errors (Papke-Wooldridge). Terms a dataset cannot support (no value model, no phases, an empty
``multi_year`` column) are left out and recorded in :attr:`ModelFit.omitted`; terms dropped as
empty or collinear in :attr:`ModelFit.dropped` and the notes. When a reference level (start-up
purpose, start phase, social value model) does not occur, the most frequent level present is
the reference instead, recorded in :attr:`ModelFit.references` and a note. A fit that did not
converge, or whose estimates show separation (a non-finite standard error or a coefficient
beyond +/-:data:`SEPARATION_LOGIT`), carries :attr:`ModelFit.problems` and is never shown or
used for a verdict.

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
from scipy import stats

# the model classes themselves: statsmodels.api would import its time-series and graphics modules too
from statsmodels.discrete.discrete_model import Logit
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from maexlab.data.schema import FUNDING_SOURCES, PHASES, PURPOSES, VALUE_MODELS
from maexlab.funding.tables import SOURCE_GROUP_ORDER
from maexlab.reporting.i18n import DEFAULT_LANGUAGE, messages
from maexlab.reporting.verdicts import Reason

__all__ = [
    "MIN_DECIDED",
    "SEPARATION_LOGIT",
    "ModelFit",
    "ame_table",
    "design",
    "fit_approval",
    "fit_coverage",
    "model_frame",
    "odds_ratio_table",
    "plot_ame_forest",
    "term_label",
]

Z95 = float(stats.norm.ppf(0.975))
#: Fewest decided applications (in the model frame) a model is fitted on.
MIN_DECIDED = 30
#: A log-odds coefficient beyond this (odds ratio above about 3.3 million) only arises when some
#: combination of terms predicts the outcome (quasi-)perfectly: the fit is then not shown.
SEPARATION_LOGIT = 15.0
#: Warnings of statsmodels that make a fit unusable even when it reports convergence.
SERIOUS_WARNINGS: frozenset[str] = frozenset({"ConvergenceWarning", "PerfectSeparationWarning", "HessianInversionWarning"})
#: Preferred reference level of each factor; replaced (and said so) when it does not occur.
PREFERRED_REFERENCES: dict[str, str] = {"purpose": "startup", "phase": "start", "value_model": "social"}
PHASE_REFERENCE, PURPOSE_REFERENCE = PREFERRED_REFERENCES["phase"], PREFERRED_REFERENCES["purpose"]
ORG, PROJECT = "purpose[organisational_strengthening]", "purpose[project]"
ORG_FUND, PROJECT_FUND = f"{ORG}:source[fund_grant]", f"{PROJECT}:source[fund_grant]"
#: Extra terms of the fund-grant purpose model (``fit_approval(..., fund_purpose=True)``).
FUND_PURPOSE_TERMS: tuple[str, str] = (ORG_FUND, PROJECT_FUND)
MODEL_PHASES = tuple(p for p in PHASES if p != "closed")
LEVELS: dict[str, tuple[str, ...]] = {"purpose": PURPOSES, "phase": MODEL_PHASES, "value_model": VALUE_MODELS}
DEFAULT_OPTIONS: dict = {
    "value_model": True,
    "phase": True,
    "fund_purpose": False,
    "multi_year": True,
    "references": PREFERRED_REFERENCES,
}


def design(
    frame: pd.DataFrame,
    value_model: bool = True,
    phase: bool = True,
    fund_purpose: bool = False,
    multi_year: bool = True,
    references: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The design matrix of the approval and coverage models (all candidate columns).

    ``references`` names the reference level of ``purpose``, ``phase`` and ``value_model``
    (default :data:`PREFERRED_REFERENCES`); every other level gets a dummy. ``multi_year``
    adds the multi-year flag. ``fund_purpose`` adds :data:`FUND_PURPOSE_TERMS`:
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
    ref = {**PREFERRED_REFERENCES, **(references or {})}
    cols: dict[str, np.ndarray] = {}
    for s in FUNDING_SOURCES:
        cols[f"source[{s}]"] = (frame["source"] == s).to_numpy(dtype=float)
    if value_model:
        for g in SOURCE_GROUP_ORDER:
            for v in VALUE_MODELS:
                if v != ref["value_model"]:
                    cols[f"vm[{v}]:group[{g}]"] = ((frame["value_model"] == v) & (frame["source_group"] == g)).to_numpy(
                        dtype=float
                    )
    if phase:
        for p in MODEL_PHASES:
            if p != ref["phase"]:
                cols[f"phase[{p}]"] = (frame["phase"] == p).to_numpy(dtype=float)
    for p in PURPOSES:
        if p != ref["purpose"]:
            cols[f"purpose[{p}]"] = (frame["purpose"] == p).to_numpy(dtype=float)
    cols["log_amount_c"] = frame["log_amount_c"].to_numpy(dtype=float)
    if multi_year:
        cols["multi_year"] = frame["multi_year"].astype(float).to_numpy()
    if fund_purpose:
        for p in ("organisational_strengthening", "project"):
            if p != ref["purpose"]:
                on = (frame["purpose"] == p) & (frame["source"] == "fund_grant")
                cols[f"purpose[{p}]:source[fund_grant]"] = on.to_numpy(dtype=float)
    return pd.DataFrame(cols, index=frame.index)


def _drop_perfect_prediction(x: pd.DataFrame, y: pd.Series) -> tuple[pd.Series, list[Reason], list[str]]:
    """Rows to keep after removing groups whose outcome a single dummy predicts perfectly.

    A 0/1 column whose rows all have the same outcome (all approved, or all rejected; all shares
    1 or all 0) has no finite estimate. As Stata's logit does, the term and its rows are left out,
    and a note says so. Repeated until no such column remains. Returns the rows kept, the notes
    and the terms left out.
    """
    keep = pd.Series(True, index=x.index)
    notes: list[Reason] = []
    terms: list[str] = []
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
                notes.append(
                    Reason("funding.notes.perfect_prediction", {"term": c, "n": int(on.sum()), "share": float(outcomes.iloc[0])})
                )
                terms.append(c)
                keep &= ~on
                changed = True
    return keep, notes, terms


def _full_rank_columns(x: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """Columns kept, columns dropped as empty (no applications), and dropped as collinear.

    Empty columns go first; then a column that adds no rank to the ones before it is dropped
    (so the later of two collinear terms goes).
    """
    nonzero = [c for c in x.columns if np.any(x[c].to_numpy() != 0)]
    empty = [c for c in x.columns if c not in nonzero]
    chosen: list[str] = []
    collinear: list[str] = []
    for c in nonzero:
        trial = chosen + [c]
        if np.linalg.matrix_rank(x[trial].to_numpy()) == len(trial):
            chosen = trial
        else:
            collinear.append(c)
    return chosen, empty, collinear


@dataclass
class ModelFit:
    """A fitted approval or coverage model with its clustered covariance.

    ``problems`` holds the reasons the fit may not be shown or used (did not converge,
    separation); :attr:`usable` is False then. ``notes`` are what a reader should know about
    a usable fit (applications left out, terms dropped, reference replaced), as catalogue reasons.
    """

    name: str
    outcome: str
    columns: list[str]
    params: pd.Series
    cov: pd.DataFrame
    n_obs: int
    n_clusters: int
    frame: pd.DataFrame
    options: dict
    omitted: dict[str, Reason] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    converged: bool = True
    notes: list[Reason] = field(default_factory=list)
    problems: list[Reason] = field(default_factory=list)
    dropped_why: dict[str, str] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.converged and not self.problems

    @property
    def references(self) -> dict[str, str]:
        return {**PREFERRED_REFERENCES, **self.options.get("references", {})}

    def has(self, *terms: str) -> bool:
        return all(t in self.params.index for t in terms)

    def contrast(self, weights: dict[str, float]) -> dict[str, float]:
        """Estimate, standard error and 95% interval of sum(w * coef) (log-odds scale)."""
        w = pd.Series(0.0, index=self.params.index)
        for k, v in weights.items():
            w[k] = v
        est = float(w @ self.params)
        se = float(np.sqrt(max(float(w @ self.cov @ w), 0.0)))
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

    def level_weights(self, factor: str, a: str, b: str, suffix: str = "") -> dict[str, float] | None:
        """Contrast weights of level ``b`` minus level ``a`` of ``factor`` (None if not identified).

        The reference level has no term (coefficient 0); every other level needs its term.
        ``suffix`` picks the terms within a source group (``":group[subsidy]"``) for the value model.
        """
        prefix = "vm" if factor == "value_model" else factor
        weights: dict[str, float] = {}
        for level, sign in ((b, 1.0), (a, -1.0)):
            if level == self.references[factor]:
                continue
            term = f"{prefix}[{level}]{suffix}"
            if term not in self.params.index:
                return None
            weights[term] = weights.get(term, 0.0) + sign
        return weights

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

    def notes_record(self) -> list[dict]:
        """The notes, problems and dropped terms as results.json keeps them (key, values, English text)."""
        en = messages("en")
        out = []
        for kind, reasons in (("problem", self.problems), ("note", self.notes)):
            for r in reasons:
                out.append({"kind": kind, "key": r.key, **r.values, "text": en.text(r.key, **r.values)})
        return out


def model_frame(apps: pd.DataFrame, value_model: bool, phase: bool, multi_year: bool = True) -> tuple[pd.DataFrame, list[Reason]]:
    """Decided applications with every model input present, and a note on those left out.

    The note counts the decided applications left out and, per input, how many lack it (an
    application can lack several).
    """
    need = ["source", "purpose", "log_amount_c", "approved", "share_granted"]
    need += ["multi_year"] if multi_year else []
    need += ["value_model"] if value_model else []
    need += ["phase"] if phase else []
    decided = apps[apps["decided"]]
    missing = decided[need].isna()
    if phase:
        missing["phase"] |= ~decided["phase"].isin(MODEL_PHASES)
    out = missing.any(axis=1)
    notes = []
    if out.any():
        detail = {c: int(missing[c].sum()) for c in need if missing[c].any()}
        notes.append(Reason("funding.notes.left_out", {"n": int(out.sum()), "total": len(decided), "inputs": detail}))
    return decided[~out].reset_index(drop=True), notes


def terms_available(apps: pd.DataFrame) -> tuple[dict, dict[str, Reason]]:
    """Which optional terms the data carries (value model, phase, multi-year), and a reason
    for each one left out.

    >>> terms_available(pd.DataFrame({"multi_year": [pd.NA]}))[0]
    {'value_model': False, 'phase': False, 'multi_year': False}
    """
    omitted: dict[str, Reason] = {}
    vm = bool("value_model" in apps.columns and apps["value_model"].notna().any())
    ph = bool("phase" in apps.columns and apps["phase"].notna().any())
    my = bool("multi_year" in apps.columns and apps["multi_year"].notna().any())
    if not vm:
        omitted["value_model"] = Reason("funding.omitted.value_model")
    if not ph:
        omitted["phase"] = Reason("funding.omitted.phase")
    if not my:
        omitted["multi_year"] = Reason("funding.omitted.multi_year")
    return {"value_model": vm, "phase": ph, "multi_year": my}, omitted


def choose_reference(values: pd.Series, factor: str) -> str | None:
    """The reference level of ``factor``: the preferred one when it occurs, else the most
    frequent level present (ties broken by vocabulary order); None when no level occurs.

    >>> choose_reference(pd.Series(["project", "project", "operations"]), "purpose")
    'project'
    >>> choose_reference(pd.Series(["startup", "project", "project"]), "purpose")
    'startup'
    """
    counts = values.value_counts()
    preferred = PREFERRED_REFERENCES[factor]
    if counts.get(preferred, 0) > 0:
        return preferred
    levels = [v for v in LEVELS[factor] if counts.get(v, 0) > 0]
    return max(levels, key=lambda v: (counts[v], -LEVELS[factor].index(v))) if levels else None


def _references(d: pd.DataFrame, options: dict) -> tuple[dict[str, str], list[Reason]]:
    chosen, notes = {}, []
    for factor in ("purpose", "phase", "value_model"):
        if factor != "purpose" and not options[factor]:
            continue
        level = choose_reference(d[factor], factor) or PREFERRED_REFERENCES[factor]
        chosen[factor] = level
        if level != PREFERRED_REFERENCES[factor]:
            notes.append(
                Reason(
                    "funding.notes.reference_replaced",
                    {"factor": factor, "reference": PREFERRED_REFERENCES[factor], "chosen": level},
                )
            )
    return chosen, notes


def _estimate(outcome: str, y: pd.Series, x: pd.DataFrame, groups: np.ndarray):
    """Fit the model; returns (result or None, converged, warning texts). Warnings are caught
    here and turned into reasons by the caller: none reaches a report."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if outcome == "approved":
                res = Logit(y, x).fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
                converged = bool(res.mle_retvals.get("converged", True))
            else:
                model = GLM(y, x, family=families.Binomial())
                res = model.fit(maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
                converged = bool(getattr(res, "converged", True))
            np.asarray(res.cov_params())
        except (np.linalg.LinAlgError, ValueError, OverflowError) as error:  # perfect separation, singular Hessian
            return None, False, [type(error).__name__]
    texts = sorted({type(w.message).__name__ for w in caught})
    return res, converged, texts


def _fit(apps: pd.DataFrame, outcome: str, name: str, fund_purpose: bool = False) -> ModelFit | None:
    options, omitted = terms_available(apps)
    options["fund_purpose"] = fund_purpose
    d, notes = model_frame(apps, options["value_model"], options["phase"], options["multi_year"])
    if len(d) < MIN_DECIDED or d["approved"].astype(bool).nunique() < 2:
        return None
    options["references"], ref_notes = _references(d, options)
    notes += ref_notes
    x_all = design(d, **options)
    y = d["approved"].astype(float) if outcome == "approved" else d["share_granted"].astype(float)
    if outcome == "share_granted" and "granted_above_request" in d.columns and d["granted_above_request"].any():
        notes.append(Reason("funding.notes.top_ups", {"n": int(d["granted_above_request"].sum())}))
    keep_rows, perfect, perfect_terms = _drop_perfect_prediction(x_all, y)
    notes += perfect
    d, x_all, y = (
        d[keep_rows].reset_index(drop=True),
        x_all[keep_rows].reset_index(drop=True),
        y[keep_rows].reset_index(drop=True),
    )
    if len(d) < MIN_DECIDED or y.nunique() < 2:
        return None
    columns, empty, collinear = _full_rank_columns(x_all)
    dropped_why = {c: "perfect_prediction" if c in perfect_terms else "empty" for c in empty}
    dropped_why.update({c: "collinear" for c in collinear})
    empty_shown = [c for c in empty if c not in perfect_terms]
    if empty_shown:
        notes.append(Reason("funding.notes.dropped_empty", {"terms": ", ".join(empty_shown)}))
    if collinear:
        notes.append(Reason("funding.notes.dropped_collinear", {"terms": ", ".join(collinear)}))
    x = x_all[columns]
    groups = pd.factorize(d["initiative_id"], sort=True)[0]
    res, converged, warned = _estimate(outcome, y, x, groups)
    problems: list[Reason] = []
    if res is None:
        problems.append(Reason("funding.reasons.fit_failed", {"model": name, "detail": ", ".join(warned)}))
        params = pd.Series(np.nan, index=columns)
        cov = pd.DataFrame(np.nan, index=columns, columns=columns)
    else:
        params = pd.Series(np.asarray(res.params), index=columns)
        cov = pd.DataFrame(np.asarray(res.cov_params()), index=columns, columns=columns)
        if not converged:
            problems.append(Reason("funding.reasons.not_converged", {"model": name}))
        se = np.sqrt(np.clip(np.diag(cov.to_numpy()), 0, None))
        bad = [c for c, b, s in zip(columns, params.to_numpy(), se, strict=True) if not (np.isfinite(b) and np.isfinite(s))]
        huge = [c for c, b in params.items() if np.isfinite(b) and abs(b) > SEPARATION_LOGIT]
        if bad or huge:
            problems.append(Reason("funding.reasons.separation", {"model": name, "terms": ", ".join(dict.fromkeys(bad + huge))}))
        serious = [w for w in warned if w in SERIOUS_WARNINGS]
        if serious and not problems:
            problems.append(Reason("funding.reasons.fit_warning", {"model": name, "detail": ", ".join(serious)}))
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
        problems=problems,
        dropped_why=dropped_why,
    )


def fit_approval(apps: pd.DataFrame, fund_purpose: bool = False) -> ModelFit | None:
    """Approval logit over decided applications, cluster-robust errors by initiative.

    Returns None when there are too few decided applications (< :data:`MIN_DECIDED`) or no
    variation in the outcome. Check :attr:`ModelFit.usable` before showing or using the fit.
    """
    return _fit(apps, "approved", "approval", fund_purpose)


def fit_coverage(apps: pd.DataFrame) -> ModelFit | None:
    """Fractional logit of the share granted (GLM binomial, logit link), clustered by initiative."""
    return _fit(apps, "share_granted", "coverage")


def term_label(term: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A model term in words: ``vm[hybrid]:group[subsidy]`` -> "hybrid × subsidy".

    >>> term_label("purpose[project]:source[fund_grant]", "en")
    'project × fund grant'
    >>> term_label("log_amount_c", "en")
    'amount requested (log, centred on €25,000)'
    """
    m = messages(language)
    if m.has(f"funding.terms.{term}"):
        return m.text(f"funding.terms.{term}")
    parts = [p.split("[", 1)[1].rstrip("]") if "[" in p else p for p in term.split(":")]
    return " × ".join(m.term(p) for p in parts)


def odds_ratio_table(fit: ModelFit) -> pd.DataFrame:
    """Coefficients as odds ratios (exp(coef)) with 95% intervals, clustered errors."""
    cols = ["coef", "se", "odds_ratio", "or_lo", "or_hi", "p"]
    return pd.DataFrame([{"term": term, **{k: t[k] for k in cols}} for term, t in fit.terms().items()], columns=["term", *cols])


# --- average marginal effects ------------------------------------------------------------------

#: (effect key, rows the effect averages over, column, from value, to value); labels in the
#: catalogue under ``funding.effects.<key>``.
AME_SPECS: tuple[tuple[str, tuple[str, str] | None, str, object, object], ...] = (
    ("hybrid_social_subsidy", ("source_group", "subsidy"), "value_model", "social", "hybrid"),
    ("commercial_social_subsidy", ("source_group", "subsidy"), "value_model", "social", "commercial"),
    ("hybrid_commercial_investor", ("source_group", "investor"), "value_model", "commercial", "hybrid"),
    ("hybrid_social_fund", ("source_group", "fund"), "value_model", "social", "hybrid"),
    ("org_startup", None, "purpose", "startup", "organisational_strengthening"),
    ("org_project", None, "purpose", "project", "organisational_strengthening"),
    ("org_startup_fund", ("source", "fund_grant"), "purpose", "startup", "organisational_strengthening"),
    ("operations_startup", None, "purpose", "startup", "operations"),
    ("growth_capital_startup", None, "purpose", "startup", "growth_capital"),
    ("multi_year", None, "multi_year", False, True),
    ("plan_start", None, "phase", "start", "plan"),
    ("growth_start", None, "phase", "start", "growth"),
    ("mature_start", None, "phase", "start", "mature"),
    ("doubling_amount", None, "log_amount_c", 0.0, float(np.log(2.0))),
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
    se = float(np.sqrt(max(float(grad @ fit.cov.to_numpy() @ grad), 0.0)))
    return {"ame_pp": 100 * est, "lo_pp": 100 * (est - Z95 * se), "hi_pp": 100 * (est + Z95 * se), "n": int(len(d))}


def _ame_term(fit: ModelFit, column: str, a, b, where: tuple[str, str] | None) -> bool:
    """Whether the model identifies this effect (the terms it moves are estimated)."""
    if column in ("value_model", "phase") and not fit.options.get(column):
        return False
    if column == "value_model":
        return fit.level_weights("value_model", a, b, f":group[{where[1]}]") is not None
    if column in ("phase", "purpose"):
        return fit.level_weights(column, a, b) is not None
    return column in fit.columns


def ame_table(fit: ModelFit) -> pd.DataFrame:
    """Average marginal effects (percentage points) of the contrasts in :data:`AME_SPECS` the
    model identifies; ``effect`` is the key, ``n`` the number of applications averaged over.

    A purpose effect averaged over fund grants from a model without the fund-grant purpose terms
    applies the pooled (all-sources) log-odds effect to fund-grant applications; its key ends in
    ``_pooled`` then.
    """
    rows = []
    for key, where, column, a, b in AME_SPECS:
        if not _ame_term(fit, column, a, b, where):
            continue
        if column == "purpose" and where == ("source", "fund_grant") and not fit.has(ORG_FUND):
            key += "_pooled"
        mask = pd.Series(True, index=fit.frame.index) if where is None else fit.frame[where[0]] == where[1]
        if mask.sum() == 0:
            continue
        rows.append({"effect": key, "model": fit.name, **average_marginal_effect(fit, mask, column, a, b)})
    return pd.DataFrame(rows, columns=["effect", "model", "ame_pp", "lo_pp", "hi_pp", "n"])


def plot_ame_forest(tables: dict[str, pd.DataFrame], language: str = DEFAULT_LANGUAGE):
    """Forest plot of average marginal effects with 95% intervals: one row per contrast, one
    marker per model (``tables`` maps ``approval`` / ``coverage`` to its published
    :func:`ame_table`), on one shared axis, so no panel's labels can run into another's.
    Labels are wrapped to keep the plot readable at 800 px."""
    import textwrap

    m = messages(language)
    tables = {k: v.dropna(subset=["ame_pp"]) for k, v in tables.items() if v is not None and len(v.dropna(subset=["ame_pp"]))}
    effects = list(dict.fromkeys(e for t in tables.values() for e in t["effect"]))
    row = {e: i for i, e in enumerate(effects)}
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(effects) + 1.6))
    styles = {"approval": ("o", "#4c72b0"), "coverage": ("s", "#dd8452")}
    offsets = np.linspace(-0.15, 0.15, len(tables)) if len(tables) > 1 else [0.0]
    for offset, (model, t) in zip(offsets, tables.items(), strict=True):
        marker, colour = styles.get(model, ("o", "#4c72b0"))
        y = t["effect"].map(row).to_numpy(dtype=float) + offset
        err = [t["ame_pp"] - t["lo_pp"], t["hi_pp"] - t["ame_pp"]]
        ax.errorbar(
            t["ame_pp"], y, xerr=err, fmt=marker, color=colour, capsize=3, ms=5, label=m.text(f"funding.plots.ame_panel.{model}")
        )
    ax.axvline(0, color="black", lw=1)
    labels = [textwrap.fill(m.text(f"funding.effects.{e}"), 34) for e in effects]
    ax.set_yticks(range(len(effects)), labels, fontsize=8.5)
    ax.set_ylim(len(effects) - 0.5, -0.5)
    ax.set_xlabel(m.text("funding.plots.ame_x"), fontsize=9)
    ax.set_title(m.text("funding.plots.ame_title"), fontsize=11, loc="left", pad=22 if len(tables) > 1 else 6)
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False) if len(tables) > 1 else None
    fig.tight_layout()
    return fig
