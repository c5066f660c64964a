"""Investor valuation bias: do investors price social impact, and are social enterprises under-valued?

Tests the seed's claim 5 ("investors judge financial return and cannot value social impact")
on investor assessments joined to the initiative's fundamentals in the assessment year.

Sections (each a function; notebook 02 calls them in order)
-----------------------------------------------------------
0. :func:`build_features` -- one row per assessment with financial fundamentals, impact
   measures, value model, phase at assessment and investor group (mainstream vs impact).
1. :func:`hedonic_models` -- hedonic regressions of log valuation (accepted equity), interest
   rate (accepted loans) and the accept decision (logit, all assessments), separately for
   mainstream and impact investors, errors clustered by initiative, 95% intervals.
2. :func:`oaxaca_gap` -- Oaxaca-Blinder decomposition of the log-valuation gap between
   social-or-hybrid and commercial initiatives, with cluster-bootstrap intervals.
3. :func:`blended_gap` -- blended value (fundamentals-only financial value plus capitalised
   impact value) against the investor's valuation.
4. :mod:`maexlab.valuation_audit` -- predictive audit of investor decisions (scikit-learn).
5. :func:`willingness_to_pay` -- the loan rate impact investors give up, given fundamentals,
   beside Barber, Morse and Yasuda (2021).
6. :func:`verdicts` -- a verdict per claim computed from the estimates.

Definitions
-----------
* Mainstream investors: bank, venture_capital, angel; impact investors:
  :data:`maexlab.schema.IMPACT_INVESTOR_TYPES` (impact_fund, foundation, government).
* ``growth`` = revenue / revenue of the year before - 1; ``margin`` = (revenue - costs) / revenue;
  ``earned_income_share`` = earned_income / revenue (zero revenue gives NaN, never inf).
* ``impact_value`` = sum over indicators of quantity x euro_per_unit in the assessment year
  (:func:`maexlab.impact.impact_value`); ``log_impact`` = log(impact_value + 1).
* SROI is not in the canonical data (it needs inputs, deadweight and attribution per outcome),
  so the ``sroi`` column is empty unless a caller supplies it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from maexlab.impact import _safe_ratio
from maexlab.schema import IMPACT_INVESTOR_TYPES, VALUE_MODELS

__all__ = [
    "BMY_RANGE_PP",
    "BMY_SOURCE",
    "EQUIVALENCE_MARGIN",
    "FUNDAMENTALS",
    "MIN_MODEL_ROWS",
    "NEEDS",
    "ModelFit",
    "NotComputable",
    "assessment_counts",
    "blended_gap",
    "blended_gap_table",
    "build_features",
    "coefficient_table",
    "complete_rows",
    "fit_model",
    "group_summary",
    "hedonic_models",
    "ignores_impact",
    "impact_difference",
    "oaxaca_gap",
    "plot_blended_gap",
    "plot_coefficients",
    "plot_decomposition",
    "plot_wtp",
    "verdicts",
    "willingness_to_pay",
]

#: Financial fundamentals used by every model.
FUNDAMENTALS: tuple[str, ...] = ("log_revenue", "growth", "margin", "earned_income_share")
#: Value-model indicators (reference: commercial).
VALUE_MODEL_DUMMIES: tuple[str, ...] = ("hybrid", "social")
#: Fewest rows a model is fitted on; below it a section says so instead of fitting.
MIN_MODEL_ROWS = 30
#: Fewest rows per side (social-or-hybrid, commercial) for the Oaxaca-Blinder decomposition.
MIN_OAXACA_ROWS = 20
#: Published range of the return impact investors give up, percentage points of IRR.
BMY_RANGE_PP: tuple[float, float] = (2.5, 3.7)
BMY_SOURCE = 'Barber, Morse and Yasuda (2021), "Impact investing", Journal of Financial Economics'
#: Claim 5 equivalence margin for the mainstream impact elasticity: an elasticity within +-0.10
#: means a 10% higher impact value moves the valuation by less than 1% (1.1**0.1 = 1.0096).
EQUIVALENCE_MARGIN = 0.10
#: Default horizon (years) and social discount rate for capitalising yearly impact value.
DEFAULT_HORIZON_YEARS = 5
DEFAULT_SOCIAL_DISCOUNT_RATE = 0.035

_ASSESS_COLS = ("investor_type", "instrument", "assessed_on", "decision")
_FIN_COLS = ("revenue", "costs", "earned_income")
#: What each section needs (table -> columns); pass to ``report.requires``.
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "features": {"assessments": _ASSESS_COLS, "initiatives": ("value_model",), "financials": _FIN_COLS},
    "valuation model": {
        "assessments": (*_ASSESS_COLS, "valuation"),
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "loan-rate model": {
        "assessments": (*_ASSESS_COLS, "interest_rate"),
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "decision model": {
        "assessments": _ASSESS_COLS,
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "decomposition": {
        "assessments": (*_ASSESS_COLS, "valuation"),
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "blended value": {
        "assessments": (*_ASSESS_COLS, "valuation"),
        "initiatives": ("value_model",),
        "phases": ("phase", "entered_on"),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "predictive audit": {
        "assessments": _ASSESS_COLS,
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
}
NEEDS["willingness to pay"] = NEEDS["loan-rate model"]

Group = Literal["mainstream", "impact"]
Outcome = Literal["log_valuation", "interest_rate_pp", "accepted"]


class NotComputable(ValueError):
    """Raised when the data cannot support a computation; the message says why."""


# --- 0. features ---------------------------------------------------------------------------


def investor_group(investor_type: pd.Series) -> pd.Series:
    """'impact' for :data:`IMPACT_INVESTOR_TYPES`, else 'mainstream'.

    >>> investor_group(pd.Series(["bank", "impact_fund", "angel", "foundation"])).tolist()
    ['mainstream', 'impact', 'mainstream', 'impact']
    """
    return pd.Series(np.where(investor_type.isin(IMPACT_INVESTOR_TYPES), "impact", "mainstream"), index=investor_type.index)


def yearly_impact_value(impact: pd.DataFrame, proxies: pd.DataFrame) -> pd.DataFrame:
    """Impact value in EUR per initiative and year: sum of quantity x euro_per_unit.

    Uses :func:`maexlab.impact.impact_value` (which refuses proxies without a source).

    >>> imp = pd.DataFrame({"initiative_id": ["A", "A"], "year": [2023, 2023],
    ...     "indicator": ["volunteer_hours", "meals_served"], "quantity": [100.0, 50.0]})
    >>> px = pd.DataFrame({"indicator": ["volunteer_hours", "meals_served"], "unit": ["hour", "meal"],
    ...     "euro_per_unit": [20.0, 4.0], "source": ["s1", "s2"]})
    >>> yearly_impact_value(imp, px)
      initiative_id  year  impact_value
    0             A  2023        2200.0
    """
    from maexlab.impact import impact_value

    rows = impact_value(impact, proxies)
    out = rows.groupby(["initiative_id", "year"], as_index=False)["impact_value_eur"].sum()
    out["year"] = out["year"].astype(int)
    return out.rename(columns={"impact_value_eur": "impact_value"})


def build_features(data) -> pd.DataFrame:
    """One row per assessment with the initiative's fundamentals in the assessment year.

    Columns: ids, ``investor_type``, ``investor_group`` (mainstream/impact), ``instrument``,
    ``decision``, ``accepted`` (0/1), ``valuation``, ``log_valuation``, ``interest_rate_pp``
    (percentage points), ``value_model`` with ``hybrid``/``social``/``social_or_hybrid``
    indicators, ``phase`` at assessment (None without a phases table), ``revenue``,
    ``growth``, ``margin``, ``earned_income_share``, ``log_revenue``, ``impact_value``,
    ``log_impact``, ``people_reached``, ``log_people_reached`` and ``sroi`` (always empty:
    the canonical data holds no SROI inputs).

    Impact columns are NaN when the dataset has no impact or proxies table.

    Raises
    ------
    NotComputable
        When assessments, initiatives (value_model) or financials are missing.

    Examples
    --------
    >>> import maexlab
    >>> f = build_features(maexlab.load("embedded", province="Zeeland"))  # doctest: +SKIP
    >>> sorted(f["investor_group"].unique())  # doctest: +SKIP
    ['impact', 'mainstream']
    """
    gaps = data.missing(NEEDS["features"])
    if gaps:
        raise NotComputable(f"investor features need {', '.join(gaps)}, which this dataset lacks")
    a = data.assessments.copy()
    a["year"] = a["assessed_on"].dt.year.astype("Int64")
    ini = data.initiatives[
        ["initiative_id", "value_model"] + (["people_reached"] if "people_reached" in data.initiatives.columns else [])
    ]
    a = a.merge(ini, on="initiative_id", how="left")
    fin = data.financials[["initiative_id", "year", "revenue", "costs", "earned_income"]].copy()
    fin["year"] = fin["year"].astype("Int64")
    prev = fin[["initiative_id", "year", "revenue"]].rename(columns={"revenue": "revenue_prev"})
    prev["year"] = prev["year"] + 1
    a = a.merge(fin, on=["initiative_id", "year"], how="left").merge(prev, on=["initiative_id", "year"], how="left")
    if data.has("impact", "quantity") and data.has("proxies", "euro_per_unit"):
        iv = yearly_impact_value(data.impact, data.proxies)
        iv["year"] = iv["year"].astype("Int64")
        a = a.merge(iv, on=["initiative_id", "year"], how="left")
    else:
        a["impact_value"] = np.nan
    if data.has("phases", "phase", "entered_on"):
        from maexlab.phases import phase_on

        a["phase"] = phase_on(data.phases, a, "assessed_on")
    else:
        a["phase"] = None
    out = pd.DataFrame(
        {
            "assessment_id": a["assessment_id"].astype(str),
            "initiative_id": a["initiative_id"].astype(str),
            "investor_type": a["investor_type"].astype(str),
            "investor_group": investor_group(a["investor_type"].astype(str)),
            "instrument": a["instrument"].astype(str),
            "assessed_on": a["assessed_on"],
            "year": a["year"],
            "decision": a["decision"].astype(str),
            "accepted": (a["decision"] == "accepted").astype(int),
            "value_model": a["value_model"].astype(str),
            "phase": a["phase"],
        }
    )
    rev = pd.to_numeric(a["revenue"], errors="coerce").astype(float)
    out["revenue"] = rev
    out["growth"] = _safe_ratio(rev, a["revenue_prev"]) - 1.0
    out["margin"] = _safe_ratio(rev - pd.to_numeric(a["costs"], errors="coerce").astype(float), rev)
    out["earned_income_share"] = _safe_ratio(a["earned_income"], rev)
    out["log_revenue"] = np.log(rev.where(rev > 0))
    out["impact_value"] = pd.to_numeric(a["impact_value"], errors="coerce").astype(float)
    out["log_impact"] = np.log1p(out["impact_value"])
    reached = (
        pd.to_numeric(a["people_reached"], errors="coerce").astype(float)
        if "people_reached" in a.columns
        else pd.Series(np.nan, index=a.index)
    )
    out["people_reached"] = reached
    out["log_people_reached"] = np.log1p(reached)
    out["sroi"] = np.nan  # not in the canonical data: SROI needs inputs, deadweight and attribution
    out["hybrid"] = (out["value_model"] == "hybrid").astype(int)
    out["social"] = (out["value_model"] == "social").astype(int)
    out["social_or_hybrid"] = (out["value_model"] != "commercial").astype(int)
    out["impact_investor"] = (out["investor_group"] == "impact").astype(int)
    val = (
        pd.to_numeric(a["valuation"], errors="coerce").astype(float)
        if "valuation" in a.columns
        else pd.Series(np.nan, index=a.index)
    )
    out["valuation"] = val
    out["log_valuation"] = np.log(val.where(val > 0))
    rate = (
        pd.to_numeric(a["interest_rate"], errors="coerce").astype(float)
        if "interest_rate" in a.columns
        else pd.Series(np.nan, index=a.index)
    )
    out["interest_rate_pp"] = 100.0 * rate
    return out.sort_values("assessment_id", kind="stable").reset_index(drop=True)


#: Label columns of :func:`assessment_counts` and :func:`group_summary` (pass as ``keep=``).
COUNT_LABELS: tuple[str, ...] = ("investor_group", "investor_type", "instrument", "decision")
SUMMARY_LABELS: tuple[str, ...] = ("investor_group", "value_model")


def assessment_counts(features: pd.DataFrame, by: Sequence[str] = COUNT_LABELS) -> pd.DataFrame:
    """Assessments (``n``) and distinct initiatives (``n_initiatives``) per group.

    Assessments are events: publish with ``count_column="n_initiatives"`` so a group is shown
    only when it holds enough distinct initiatives, not merely enough assessments.

    >>> f = pd.DataFrame({"investor_group": ["impact"] * 3, "investor_type": ["impact_fund"] * 3,
    ...     "instrument": ["equity"] * 3, "decision": ["accepted"] * 3, "initiative_id": ["A", "A", "B"]})
    >>> assessment_counts(f)[["n", "n_initiatives"]].values.tolist()
    [[3, 2]]
    """
    g = features.groupby(list(by), sort=True)
    return pd.DataFrame({"n": g.size(), "n_initiatives": g["initiative_id"].nunique()}).reset_index()


def group_summary(features: pd.DataFrame, by: Sequence[str] = SUMMARY_LABELS) -> pd.DataFrame:
    """Per investor group and value model: ``n`` assessments, ``n_initiatives`` and medians.

    Medians of revenue, margin, earned-income share and impact value, and the acceptance rate.
    Publish with ``count_column="n_initiatives"`` and ``keep=by``.
    """
    g = features.groupby(list(by), sort=True)
    return g.agg(
        n=("assessment_id", "size"),
        n_initiatives=("initiative_id", "nunique"),
        revenue_median_eur=("revenue", "median"),
        margin_median=("margin", "median"),
        earned_share_median=("earned_income_share", "median"),
        impact_value_median_eur=("impact_value", "median"),
        acceptance_rate=("accepted", "mean"),
    ).reset_index()


def complete_rows(rows: pd.DataFrame, columns: Sequence[str], label: str = "rows") -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows with every column present, and a record of how many were left out and why.

    The record has ``n_input``, ``n_dropped``, ``missing_by_column`` (a row can miss several
    columns, so these counts may add up to more than ``n_dropped``) and ``note``, a sentence
    for the notebook (None when nothing was left out). ``z_`` prefixes are dropped in the note.

    >>> df = pd.DataFrame({"a": [1.0, None, 3.0], "b": [1.0, 2.0, None]})
    >>> kept, rec = complete_rows(df, ["a", "b"], "offers")
    >>> len(kept), rec["n_dropped"], rec["note"]
    (1, 2, '2 of 3 offers left out for missing data (a missing in 1, b missing in 1)')
    """
    cols = list(dict.fromkeys(columns))
    missing = rows[cols].isna()
    complete = ~missing.any(axis=1)
    by_col = {c: int(k) for c, k in missing.sum().items() if k}
    n_in, n_dropped = int(len(rows)), int((~complete).sum())
    note = None
    if n_dropped:
        reasons = ", ".join(f"{c.removeprefix('z_')} missing in {k}" for c, k in sorted(by_col.items(), key=lambda kv: -kv[1]))
        note = f"{n_dropped} of {n_in} {label} left out for missing data ({reasons})"
    return rows[complete], {"n_input": n_in, "n_dropped": n_dropped, "missing_by_column": by_col, "note": note}


# --- 1. hedonic models -----------------------------------------------------------------------


@dataclass
class ModelFit:
    """A fitted model (or why it was not fitted): tidy coefficients with 95% intervals.

    ``coefs`` has ``term, estimate, ci_low, ci_high, p_value``; ``message`` is None when fitted.
    ``n_clusters`` is the number of distinct initiatives; ``rows_left_out`` records the rows
    left out for a missing outcome or regressor (see :func:`complete_rows`).
    """

    name: str
    outcome: str
    group: str
    n: int
    n_clusters: int = 0
    coefs: pd.DataFrame = field(default_factory=pd.DataFrame)
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    rows_left_out: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.message is None

    def term(self, name: str) -> dict[str, float] | None:
        """Estimate and interval of one term, or None."""
        if not self.ok or name not in set(self.coefs["term"]):
            return None
        row = self.coefs.set_index("term").loc[name]
        return {
            "estimate": float(row["estimate"]),
            "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]),
            "p_value": float(row["p_value"]),
        }


_OUTCOME_LABEL = {"log_valuation": "accepted equity offers", "interest_rate_pp": "accepted loans", "accepted": "assessments"}


def _rows_for(features: pd.DataFrame, outcome: Outcome) -> pd.DataFrame:
    if outcome == "log_valuation":
        return features[(features["instrument"] == "equity") & (features["accepted"] == 1)]
    if outcome == "interest_rate_pp":
        return features[(features["instrument"] == "loan") & (features["accepted"] == 1)]
    return features


def z_scale(features: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Standardise ``columns`` to mean 0, sd 1 (population sd) over the rows given; adds ``z_<col>``.

    >>> z_scale(pd.DataFrame({"x": [1.0, 3.0]}), ["x"])["z_x"].tolist()
    [-1.0, 1.0]
    """
    out = features.copy()
    for c in columns:
        v = out[c].astype(float)
        sd = v.std(ddof=0)
        out[f"z_{c}"] = (v - v.mean()) / sd if sd > 0 else np.nan
    return out


def fit_model(
    features: pd.DataFrame,
    outcome: Outcome,
    regressors: Sequence[str],
    *,
    group: str = "all",
    name: str | None = None,
    min_rows: int = MIN_MODEL_ROWS,
) -> ModelFit:
    """OLS (log valuation, rate) or logit (accepted) with errors clustered by initiative.

    Rows with a missing outcome or regressor are left out and counted in ``rows_left_out``
    (with the missing variables); regressors constant in the rows are dropped (and named in
    ``extra['dropped']``). Below ``min_rows`` rows nothing is fitted and ``message`` says so.
    Standard errors: cluster-robust by initiative (statsmodels ``cov_type="cluster"``, with its
    small-sample correction). 95% intervals: for OLS from the t distribution with G - 1 degrees
    of freedom (G = number of initiatives; ``use_t=True``), for the logit from the normal
    distribution.

    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"initiative_id": [str(i // 2) for i in range(200)], "x": rng.normal(size=200)})
    >>> df["log_valuation"] = 1 + 2 * df["x"] + rng.normal(scale=0.1, size=200)
    >>> fit = fit_model(df, "log_valuation", ["x"])
    >>> round(fit.term("x")["estimate"], 1)
    2.0
    """
    import statsmodels.api as sm

    name = name or f"{outcome} ({group})"
    cols = list(dict.fromkeys(regressors))
    what = _OUTCOME_LABEL.get(outcome, "rows")
    rows, left_out = complete_rows(features, [outcome, *cols], what)
    n = len(rows)
    if n < min_rows:
        return ModelFit(
            name,
            outcome,
            group,
            n,
            int(rows["initiative_id"].nunique()),
            message=f"too few {what} with complete data in this selection (n={n} < {min_rows}) to fit the model",
            rows_left_out=left_out,
        )
    keep = [c for c in cols if rows[c].astype(float).nunique() > 1]
    dropped = [c for c in cols if c not in keep]
    X = sm.add_constant(rows[keep].astype(float), has_constant="add")
    y = rows[outcome].astype(float)
    clusters = pd.factorize(rows["initiative_id"])[0]
    n_clusters = int(len(np.unique(clusters)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if outcome == "accepted":
                if y.nunique() < 2:
                    raise ValueError("the outcome does not vary")
                res = sm.Logit(y, X).fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": clusters})
            else:
                res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)
            ci = res.conf_int(0.05)
    except Exception as exc:  # perfect separation, singular design
        return ModelFit(
            name,
            outcome,
            group,
            n,
            n_clusters,
            message=f"the model could not be fitted on this selection ({type(exc).__name__}: {exc})",
            rows_left_out=left_out,
        )
    coefs = pd.DataFrame(
        {
            "term": list(X.columns),
            "estimate": np.asarray(res.params, float),
            "ci_low": np.asarray(ci.iloc[:, 0], float),
            "ci_high": np.asarray(ci.iloc[:, 1], float),
            "p_value": np.asarray(res.pvalues, float),
        }
    )
    if not np.all(np.isfinite(coefs[["estimate", "ci_low", "ci_high"]].to_numpy())):
        return ModelFit(
            name,
            outcome,
            group,
            n,
            n_clusters,
            message="the model gave non-finite estimates on this selection (too little variation)",
            rows_left_out=left_out,
        )
    extra: dict[str, Any] = {"dropped": dropped}
    if outcome != "accepted":
        extra["residuals"] = np.asarray(res.resid, float)
        extra["params"] = res.params
    else:
        extra["params"] = res.params
    return ModelFit(name, outcome, group, n, n_clusters, coefs, None, extra, left_out)


#: Regressors of each hedonic model (before any z-scaling).
VALUATION_REGRESSORS: tuple[str, ...] = (*FUNDAMENTALS, "log_impact", *VALUE_MODEL_DUMMIES)
RATE_REGRESSORS: tuple[str, ...] = VALUATION_REGRESSORS
DECISION_REGRESSORS: tuple[str, ...] = (
    "z_log_revenue",
    "z_growth",
    "z_margin",
    "z_earned_income_share",
    "z_log_impact",
    *VALUE_MODEL_DUMMIES,
)


def decision_frame(features: pd.DataFrame) -> pd.DataFrame:
    """All assessments with ``z_`` columns: fundamentals and impact standardised with the mean and
    population sd over the assessments that have all of them (both groups). A missing value
    stays missing, so :func:`fit_model` leaves those rows out and says which variable was missing.
    """
    cols = [*FUNDAMENTALS, "log_impact"]
    complete = features.loc[features[cols].notna().all(axis=1), cols].astype(float)
    out = features.copy()
    for c in cols:
        sd = complete[c].std(ddof=0)
        out[f"z_{c}"] = (out[c].astype(float) - complete[c].mean()) / sd if sd > 0 else np.nan
    return out


def hedonic_models(features: pd.DataFrame, min_rows: int = MIN_MODEL_ROWS) -> dict[str, ModelFit]:
    """The hedonic models, separately for mainstream and impact investors.

    Keys ``"<outcome>|<group>"`` for outcome in log_valuation (accepted equity: fundamentals,
    log(impact value + 1), value model), interest_rate_pp (accepted loans, same regressors)
    and accepted (logit over all assessments, z-scaled fundamentals and impact), and group
    in mainstream, impact.

    >>> fits = hedonic_models(build_features(maexlab.load("embedded")))  # doctest: +SKIP
    >>> fits["log_valuation|impact"].term("log_impact")["estimate"]  # doctest: +SKIP
    0.25...
    """
    out: dict[str, ModelFit] = {}
    dec = decision_frame(features)
    for group in ("mainstream", "impact"):
        sub = features[features["investor_group"] == group]
        out[f"log_valuation|{group}"] = fit_model(
            _rows_for(sub, "log_valuation"),
            "log_valuation",
            VALUATION_REGRESSORS,
            group=group,
            name=f"log valuation, {group} investors",
            min_rows=min_rows,
        )
        out[f"interest_rate_pp|{group}"] = fit_model(
            _rows_for(sub, "interest_rate_pp"),
            "interest_rate_pp",
            RATE_REGRESSORS,
            group=group,
            name=f"interest rate (pp), {group} investors",
            min_rows=min_rows,
        )
        out[f"accepted|{group}"] = fit_model(
            dec[dec["investor_group"] == group],
            "accepted",
            DECISION_REGRESSORS,
            group=group,
            name=f"accept decision (logit), {group} investors",
            min_rows=min_rows,
        )
    return out


def coefficient_table(fits: dict[str, ModelFit]) -> pd.DataFrame:
    """Tidy table of every fitted model's coefficients (model, group, n, term, estimate, 95% CI)."""
    frames = []
    for _key, fit in sorted(fits.items()):
        if not fit.ok:
            continue
        t = fit.coefs.copy()
        t.insert(0, "n_initiatives", fit.n_clusters)
        t.insert(0, "n", fit.n)
        t.insert(0, "group", fit.group)
        t.insert(0, "outcome", fit.outcome)
        frames.append(t)
    if not frames:
        return pd.DataFrame(
            columns=["outcome", "group", "n", "n_initiatives", "term", "estimate", "ci_low", "ci_high", "p_value"]
        )
    return pd.concat(frames, ignore_index=True)


def impact_difference(features: pd.DataFrame, outcome: Outcome = "log_valuation", min_rows: int = MIN_MODEL_ROWS) -> ModelFit:
    """Difference (impact minus mainstream) of every coefficient, from one fully interacted model.

    The ``impact_investor:<term>`` rows give the difference with a 95% interval clustered by
    initiative; ``impact_investor:log_impact`` answers "do impact investors price impact more?".
    """
    rows = features if outcome != "accepted" else decision_frame(features)
    rows = _rows_for(rows, outcome).copy()
    regs = list(VALUATION_REGRESSORS if outcome != "accepted" else DECISION_REGRESSORS)
    complete, left_out = complete_rows(rows, [outcome, *regs], _OUTCOME_LABEL[outcome])
    inter = []
    for r in regs:
        rows[f"impact_investor:{r}"] = rows["impact_investor"] * rows[r]
        inter.append(f"impact_investor:{r}")
    if complete["impact_investor"].nunique() < 2 or min(complete["impact_investor"].value_counts()) < min_rows:
        return ModelFit(
            f"{outcome} interaction",
            outcome,
            "difference",
            len(complete),
            int(complete["initiative_id"].nunique()),
            message=f"too few {_OUTCOME_LABEL[outcome]} per investor group in this selection to compare the groups (need {min_rows} each)",
            rows_left_out=left_out,
        )
    return fit_model(
        rows,
        outcome,
        [*regs, "impact_investor", *inter],
        group="difference",
        name=f"{outcome}, impact minus mainstream",
        min_rows=min_rows,
    )


# --- 2. Oaxaca-Blinder ---------------------------------------------------------------------------

#: Covariates whose group differences form the "explained" part of the decomposition.
OAXACA_COVARIATES: tuple[str, ...] = (*FUNDAMENTALS, "log_impact")
_OAXACA_COLUMNS: tuple[str, ...] = (
    "group",
    "component",
    "estimate",
    "ci_low",
    "ci_high",
    "n_social_hybrid",
    "n_commercial",
    "n_initiatives_social_hybrid",
    "n_initiatives_commercial",
    "n_initiatives",
    "n_left_out",
    "reps",
)


def _oaxaca_once(rows: pd.DataFrame, covariates: Sequence[str]) -> tuple[float, float, float]:
    """(gap, explained, unexplained) of social-or-hybrid minus commercial, pooled reference (Jann 2008)."""
    from statsmodels.stats.oaxaca import OaxacaBlinder

    X = rows[list(covariates)].astype(float).copy()
    X.insert(0, "const", 1.0)
    X["commercial"] = 1 - rows["social_or_hybrid"].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # bifurcate value 0 = social-or-hybrid comes first, so gap = social/hybrid - commercial (swap off)
        ob = OaxacaBlinder(rows["log_valuation"].astype(float).to_numpy(), X, "commercial", hasconst=True, swap=False)
        res = ob.two_fold(two_fold_type="pooled")
    unexplained, explained, gap = res.params
    return float(gap), float(explained), float(unexplained)


def oaxaca_gap(
    features: pd.DataFrame,
    group: Group = "mainstream",
    *,
    reps: int = 300,
    seed: int = 20261128,
    covariates: Sequence[str] = OAXACA_COVARIATES,
    min_rows: int = MIN_OAXACA_ROWS,
) -> tuple[pd.DataFrame, str | None]:
    """Oaxaca-Blinder decomposition of the log-valuation gap, social-or-hybrid minus commercial.

    Two-fold decomposition with the pooled regression including the group indicator as the
    non-discriminatory reference (Jann 2008; ``statsmodels`` ``two_fold_type="pooled"``):
    ``gap = explained + unexplained``; explained = differences in fundamentals (and impact)
    priced at the pooled coefficients; unexplained < 0 means social/hybrid initiatives are
    valued lower than their fundamentals imply. Intervals: percentile cluster bootstrap
    (resampling initiatives with replacement, ``reps`` draws, seeded; the draws come from
    :func:`maexlab.funding.cluster_bootstrap_weights`).

    Returns ``(table, message)``: the table has ``component, estimate, ci_low, ci_high,
    n_social_hybrid, n_commercial`` (accepted offers), ``n_initiatives_social_hybrid,
    n_initiatives_commercial``, ``n_initiatives`` (distinct initiatives on the smaller side:
    publish with ``count_column="n_initiatives"``), ``n_left_out`` (offers left out for
    missing data) and ``reps``; ``message`` says why nothing was computed (table empty) or is
    None. ``table.attrs["rows_left_out"]`` holds the :func:`complete_rows` record.
    """
    from maexlab.funding import cluster_bootstrap_weights

    offers = _rows_for(features[features["investor_group"] == group], "log_valuation")
    rows, left_out = complete_rows(offers, ["log_valuation", *covariates], f"accepted equity offers from {group} investors")
    n1 = int(rows["social_or_hybrid"].sum())
    n0 = int(len(rows) - n1)
    i1 = int(rows.loc[rows["social_or_hybrid"] == 1, "initiative_id"].nunique())
    i0 = int(rows.loc[rows["social_or_hybrid"] == 0, "initiative_id"].nunique())
    empty = pd.DataFrame(columns=[*_OAXACA_COLUMNS])
    empty.attrs["rows_left_out"] = left_out
    if min(n0, n1) < min_rows:
        return empty, (
            f"too few accepted equity offers from {group} investors in this selection "
            f"(social/hybrid n={n1}, commercial n={n0}; need {min_rows} each) to decompose the valuation gap"
        )
    point = _oaxaca_once(rows, covariates)
    ids = rows["initiative_id"].to_numpy()
    uniq, inverse = np.unique(ids, return_inverse=True)
    weights = cluster_bootstrap_weights(uniq, seed, int(reps)).astype(int)
    positions = np.arange(len(rows))
    draws = []
    for w in weights:
        sample = rows.iloc[np.repeat(positions, w[inverse])]
        s1 = int(sample["social_or_hybrid"].sum())
        if min(s1, len(sample) - s1) <= len(covariates) + 1:
            continue
        try:
            draws.append(_oaxaca_once(sample, covariates))
        except Exception:  # singular resample
            continue
    draws_arr = np.array(draws) if draws else np.full((1, 3), np.nan)
    lo = np.nanpercentile(draws_arr, 2.5, axis=0)
    hi = np.nanpercentile(draws_arr, 97.5, axis=0)
    table = pd.DataFrame(
        {
            "group": group,
            "component": ["gap", "explained", "unexplained"],
            "estimate": point,
            "ci_low": lo,
            "ci_high": hi,
            "n_social_hybrid": n1,
            "n_commercial": n0,
            "n_initiatives_social_hybrid": i1,
            "n_initiatives_commercial": i0,
            "n_initiatives": min(i0, i1),
            "n_left_out": left_out["n_dropped"],
            "reps": len(draws),
        }
    )
    table.attrs["rows_left_out"] = left_out
    return table, None


# --- 3. blended value ----------------------------------------------------------------------------


def blended_gap(
    features: pd.DataFrame,
    reference: ModelFit | None = None,
    *,
    horizon_years: int = DEFAULT_HORIZON_YEARS,
    social_discount_rate: float = DEFAULT_SOCIAL_DISCOUNT_RATE,
    financial: Literal["fundamentals", "investor"] = "fundamentals",
) -> pd.DataFrame:
    """Counterfactual blended value of every accepted equity offer, against the investor's valuation.

    ``blended = financial value + sum_{t=1..H} impact_value / (1 + r)^t``
    (:func:`maexlab.impact.blended_value`, horizon ``H`` years, social discount rate ``r``).
    Financial value: with ``financial="fundamentals"`` the fundamentals-only value predicted by
    ``reference`` (a log-valuation :class:`ModelFit`, normally the mainstream one) for a
    commercial initiative with the same fundamentals and impact (value-model terms set to 0),
    retransformed with Duan's smearing factor; with ``financial="investor"`` the investor's own
    valuation. Adds ``financial_value``, ``social_value_pv``, ``blended_value``, ``gap_eur`` =
    blended - investor valuation, and ``blended_ratio`` = blended / investor valuation.
    Offers without a valuation, an impact value or (for ``"fundamentals"``) a model regressor
    are left out; ``result.attrs["rows_left_out"]`` records how many and why.
    """
    from maexlab.impact import blended_value

    offers = _rows_for(features, "log_valuation")
    needed = ["valuation", "impact_value"]
    annuity = blended_value(0.0, 1.0, social_discount_rate, horizon_years)  # PV of EUR 1 a year
    if financial == "fundamentals":
        if reference is None or not reference.ok:
            raise NotComputable("a fundamentals-only value needs a fitted log-valuation model")
        params = reference.extra["params"]
        needed += [t for t in params.index if t != "const" and t not in needed]
    rows, left_out = complete_rows(offers, needed, "accepted equity offers")
    rows = rows.copy()
    if financial == "fundamentals":
        eta = pd.Series(float(params.get("const", 0.0)), index=rows.index)
        for term, b in params.items():
            if term == "const" or term in VALUE_MODEL_DUMMIES:
                continue
            eta = eta + float(b) * rows[term].astype(float)
        smear = float(np.mean(np.exp(reference.extra["residuals"])))
        rows["financial_value"] = np.exp(eta) * smear
    else:
        rows["financial_value"] = rows["valuation"]
    rows["social_value_pv"] = annuity * rows["impact_value"]
    rows["blended_value"] = rows["financial_value"] + rows["social_value_pv"]
    rows["gap_eur"] = rows["blended_value"] - rows["valuation"]
    rows["blended_ratio"] = rows["blended_value"] / rows["valuation"]
    rows["horizon_years"] = horizon_years
    rows["social_discount_rate"] = social_discount_rate
    rows.attrs["rows_left_out"] = left_out
    return rows


def blended_gap_table(blended: pd.DataFrame, by: Sequence[str] = ("value_model", "phase")) -> pd.DataFrame:
    """Median and IQR of the blended-minus-investor gap (EUR and as a ratio) per group.

    ``n`` counts accepted offers and ``n_initiatives`` distinct initiatives. Publish through
    ``report.table(..., keep=by, count_column="n_initiatives")`` so groups with few initiatives
    are suppressed (an initiative can have several offers).

    >>> b = pd.DataFrame({"value_model": ["social"] * 3, "phase": ["growth"] * 3, "initiative_id": ["A", "A", "B"],
    ...     "gap_eur": [1.0, 2.0, 3.0], "blended_ratio": [1.0, 1.5, 2.0]})
    >>> blended_gap_table(b)[["n", "n_initiatives", "gap_median", "ratio_median"]].values.tolist()
    [[3.0, 2.0, 2.0, 1.5]]
    """
    by = list(by)
    b = blended.copy()
    for c in by:
        b[c] = b[c].fillna("unknown").astype(str)
    g = b.groupby(by, sort=True)
    out = pd.DataFrame(
        {
            "n": g.size(),
            "n_initiatives": g["initiative_id"].nunique(),
            "gap_median": g["gap_eur"].median(),
            "gap_q25": g["gap_eur"].quantile(0.25),
            "gap_q75": g["gap_eur"].quantile(0.75),
            "ratio_median": g["blended_ratio"].median(),
            "ratio_q25": g["blended_ratio"].quantile(0.25),
            "ratio_q75": g["blended_ratio"].quantile(0.75),
        }
    ).reset_index()
    order = {v: i for i, v in enumerate(VALUE_MODELS)}
    if "value_model" in out.columns:
        out = out.sort_values(
            by, key=lambda s: s.map(order).fillna(99) if s.name == "value_model" else s, kind="stable"
        ).reset_index(drop=True)
    return out


# --- 5. willingness to pay -------------------------------------------------------------------------


def willingness_to_pay(features: pd.DataFrame, min_rows: int = MIN_MODEL_ROWS) -> tuple[dict[str, Any] | None, ModelFit]:
    """Interest rate impact investors give up, in percentage points, given fundamentals.

    Pooled OLS over accepted loans: ``rate_pp ~ impact_investor + fundamentals + log_impact +
    value model``, errors clustered by initiative. WTP = minus the ``impact_investor``
    coefficient (positive = impact investors charge less). Returns ``(summary, fit)``; the
    summary is None when the model could not be fitted (``fit.message`` says why), else has
    ``wtp_pp, ci_low, ci_high, n, n_initiatives, n_impact, n_mainstream`` and the reference
    range. Loans left out for missing data are counted in ``fit.rows_left_out``.
    """
    rows = _rows_for(features, "interest_rate_pp")
    complete, left_out = complete_rows(rows, ["interest_rate_pp", *RATE_REGRESSORS], "accepted loans")
    counts = complete["investor_group"].value_counts()
    n_imp, n_main = int(counts.get("impact", 0)), int(counts.get("mainstream", 0))
    if min(n_imp, n_main) < 10:
        fit = ModelFit(
            "loan rate, pooled",
            "interest_rate_pp",
            "pooled",
            n_imp + n_main,
            int(complete["initiative_id"].nunique()),
            message=f"too few accepted loans per investor group in this selection (impact n={n_imp}, mainstream n={n_main}; need 10 each) to estimate the rate difference",
            rows_left_out=left_out,
        )
        return None, fit
    fit = fit_model(
        rows,
        "interest_rate_pp",
        ["impact_investor", *RATE_REGRESSORS],
        group="pooled",
        name="interest rate (pp), pooled",
        min_rows=min_rows,
    )
    if not fit.ok:
        return None, fit
    t = fit.term("impact_investor")
    summary = {
        "wtp_pp": -t["estimate"],
        "ci_low": -t["ci_high"],
        "ci_high": -t["ci_low"],
        "n": fit.n,
        "n_initiatives": fit.n_clusters,
        "n_impact": n_imp,
        "n_mainstream": n_main,
        "reference_low_pp": BMY_RANGE_PP[0],
        "reference_high_pp": BMY_RANGE_PP[1],
        "reference": BMY_SOURCE,
    }
    return summary, fit


# --- 6. verdicts ---------------------------------------------------------------------------------------


def _fmt(t: dict[str, float] | None, scale: float = 1.0) -> str:
    if t is None:
        return "n/a"
    return f"{scale * t['estimate']:.3f} [{scale * t['ci_low']:.3f}, {scale * t['ci_high']:.3f}]"


def _covers_zero(t: dict[str, float]) -> bool:
    return t["ci_low"] <= 0 <= t["ci_high"]


NOT_TESTABLE = "not testable on this data"


def ignores_impact(
    revenue: dict[str, float] | None, impact: dict[str, float] | None, margin: float = EQUIVALENCE_MARGIN
) -> tuple[str, str]:
    """Claim 5 verdict from the log-revenue and log-impact terms of the mainstream valuation model.

    An equivalence rule, so that less data never gives more support:

    * "not supported" when the impact elasticity's 95% interval excludes 0 (impact is priced);
    * "supported" when the whole interval lies within +-``margin`` (0.10: a 10% higher impact
      value moves the valuation by less than 1%) and the log-revenue interval excludes 0
      (fundamentals are priced);
    * otherwise "not testable on this data": the interval covers 0 but is too wide to rule out
      an elasticity of ``margin``, or fundamentals are not significant.

    Returns ``(verdict, reason)``.

    >>> ignores_impact({"estimate": 0.9, "ci_low": 0.8, "ci_high": 1.0}, {"estimate": 0.0, "ci_low": -0.05, "ci_high": 0.05})[0]
    'supported'
    >>> ignores_impact({"estimate": 0.9, "ci_low": 0.8, "ci_high": 1.0}, {"estimate": 0.0, "ci_low": -0.3, "ci_high": 0.3})[0]
    'not testable on this data'
    >>> ignores_impact({"estimate": 0.9, "ci_low": 0.8, "ci_high": 1.0}, {"estimate": 0.2, "ci_low": 0.1, "ci_high": 0.3})[0]
    'not supported'
    """
    if revenue is None or impact is None:
        return NOT_TESTABLE, "log revenue or log impact not in the fitted model"
    if not _covers_zero(impact):
        return "not supported", "the impact interval excludes 0: impact is priced"
    within = -margin <= impact["ci_low"] and impact["ci_high"] <= margin
    fundamentals = not _covers_zero(revenue)
    if within and fundamentals:
        return "supported", f"the impact interval lies within ±{margin:.2f} and log revenue is priced"
    reasons = []
    if not within:
        reasons.append(f"the impact interval covers 0 but reaches beyond ±{margin:.2f}, too imprecise to show impact is ignored")
    if not fundamentals:
        reasons.append("the log-revenue interval covers 0, so fundamentals are not shown to be priced")
    return NOT_TESTABLE, "; ".join(reasons)


def _few_initiatives(n: int, min_group_size: int) -> str | None:
    if n < min_group_size:
        return f"fewer than {min_group_size} initiatives behind this estimate in this selection (n={n}), so it is not published"
    return None


def verdicts(
    fits: dict[str, ModelFit],
    oaxaca: pd.DataFrame | None = None,
    wtp: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
    *,
    min_group_size: int = 10,
) -> pd.DataFrame:
    """One verdict per claim ("supported" / "not supported" / "not testable on this data"), with numbers.

    * investors price fundamentals and ignore impact (claim 5): mainstream valuation model,
      equivalence rule of :func:`ignores_impact` (impact elasticity interval within +-0.10 and
      log-revenue interval excluding 0; "not supported" when the impact interval excludes 0);
    * impact investors price impact: impact investors' log-impact elasticity CI > 0;
    * social/hybrid under-valued beyond fundamentals: mainstream unexplained gap < 0, CI excludes 0;
    * impact investors give up return: WTP CI > 0 (compared with 2.5-3.7 pp, BMY 2021);
    * the mainstream rule under-rates high-impact initiatives: the audit's top-minus-bottom
      impact-decile contrast (impact rule minus observed, mainstream cases) CI > 0.

    A claim whose estimate rests on fewer than ``min_group_size`` distinct initiatives (for the
    decomposition: on its smaller side) is "not testable on this data", as its table is
    suppressed.
    """
    rows = []
    NT = NOT_TESTABLE

    m = fits.get("log_valuation|mainstream")
    claim = "Claim 5: mainstream investors price fundamentals and ignore impact"
    few = _few_initiatives(m.n_clusters, min_group_size) if m is not None and m.ok else None
    if m is None or not m.ok or few:
        rows.append((claim, NT, few or (m.message if m is not None else "valuation model not fitted")))
    else:
        rev, imp = m.term("log_revenue"), m.term("log_impact")
        verdict, reason = ignores_impact(rev, imp)
        rows.append(
            (
                claim,
                verdict,
                f"log-revenue elasticity {_fmt(rev)}; impact elasticity {_fmt(imp)} (n={m.n}, {m.n_clusters} initiatives): {reason}",
            )
        )

    i = fits.get("log_valuation|impact")
    claim = "Impact investors price impact (valuation)"
    few = _few_initiatives(i.n_clusters, min_group_size) if i is not None and i.ok else None
    if i is None or not i.ok or few:
        rows.append((claim, NT, few or (i.message if i is not None else "valuation model not fitted")))
    else:
        imp = i.term("log_impact")
        rows.append(
            (
                claim,
                "supported" if imp is not None and imp["ci_low"] > 0 else "not supported",
                f"impact elasticity {_fmt(imp)} (n={i.n}, {i.n_clusters} initiatives)",
            )
        )

    claim = "Social/hybrid enterprises are under-valued beyond fundamentals (mainstream investors)"
    if oaxaca is None or oaxaca.empty or "unexplained" not in set(oaxaca.loc[oaxaca["group"] == "mainstream", "component"]):
        rows.append((claim, NT, "decomposition not computed for mainstream investors"))
    else:
        u = oaxaca[(oaxaca["group"] == "mainstream") & (oaxaca["component"] == "unexplained")].iloc[0]
        few = _few_initiatives(int(u["n_initiatives"]), min_group_size) if "n_initiatives" in u else None
        if few:
            rows.append((claim, NT, few.replace("initiatives", "initiatives on the smaller side", 1)))
        else:
            ok = u["estimate"] < 0 and u["ci_high"] < 0
            rows.append(
                (
                    claim,
                    "supported" if ok else "not supported",
                    f"unexplained log gap {u['estimate']:.3f} [{u['ci_low']:.3f}, {u['ci_high']:.3f}] (social/hybrid n={int(u['n_social_hybrid'])}, commercial n={int(u['n_commercial'])})",
                )
            )

    claim = "Impact investors give up return (lower loan rate given fundamentals)"
    few = _few_initiatives(int(wtp.get("n_initiatives", min_group_size)), min_group_size) if wtp is not None else None
    if wtp is None or few:
        rows.append((claim, NT, few or "loan-rate model not fitted"))
    else:
        lo, hi = BMY_RANGE_PP
        overlap = "overlaps" if wtp["ci_low"] <= hi and wtp["ci_high"] >= lo else "does not overlap"
        rows.append(
            (
                claim,
                "supported" if wtp["ci_low"] > 0 else "not supported",
                f"WTP {wtp['wtp_pp']:.2f} pp [{wtp['ci_low']:.2f}, {wtp['ci_high']:.2f}]; {overlap} the published {lo}-{hi} pp ({BMY_SOURCE})",
            )
        )

    claim = "The mainstream decision rule under-rates high-impact initiatives"
    c = (audit or {}).get("contrast")
    few = _few_initiatives(int(c.get("n_initiatives", min_group_size)), min_group_size) if c is not None else None
    if c is None or few:
        rows.append((claim, NT, few or (audit or {}).get("message") or "predictive audit not computed"))
    else:
        rows.append(
            (
                claim,
                "supported" if c["ci_low"] > 0 else "not supported",
                f"top-3 minus bottom-3 impact deciles of (impact rule - observed acceptance) {c['estimate']:.3f} [{c['ci_low']:.3f}, {c['ci_high']:.3f}] (n={c['n']})",
            )
        )
    return pd.DataFrame(rows, columns=["claim", "verdict", "evidence"])


# --- figures -------------------------------------------------------------------------------------------

_GROUP_COLOURS = {"mainstream": "#4c72b0", "impact": "#dd8452"}
_TERM_LABELS = {
    "log_revenue": "log revenue",
    "growth": "revenue growth (y/y)",
    "margin": "margin (per +0.10)",
    "earned_income_share": "earned-income share",
    "log_impact": "log(impact value + 1)",
    "hybrid": "hybrid vs commercial",
    "social": "social vs commercial",
    "z_log_revenue": "log revenue (z)",
    "z_growth": "growth (z)",
    "z_margin": "margin (z)",
    "z_earned_income_share": "earned-income share (z)",
    "z_log_impact": "log(impact value + 1) (z)",
}
_PLOT_SCALE = {"margin": 0.1}
_PANEL = {
    "log_valuation": ("Log valuation (accepted equity)", "coefficient (log points)"),
    "interest_rate_pp": ("Interest rate (accepted loans)", "coefficient (percentage points)"),
    "accepted": ("Accept decision (logit, all)", "coefficient (log-odds)"),
}


def plot_coefficients(fits: dict[str, ModelFit]):
    """Forest plot: each hedonic model's coefficients with 95% intervals, mainstream vs impact."""
    import matplotlib.pyplot as plt

    outcomes = [o for o in _PANEL if any(fits.get(f"{o}|{g}") is not None and fits[f"{o}|{g}"].ok for g in _GROUP_COLOURS)]
    fig, axes = plt.subplots(1, max(len(outcomes), 1), figsize=(5.2 * max(len(outcomes), 1), 4.8), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=False):
        terms: list[str] = []
        for g in _GROUP_COLOURS:
            f = fits.get(f"{outcome}|{g}")
            if f is not None and f.ok:
                terms += [t for t in f.coefs["term"] if t != "const" and t not in terms]
        ypos = {t: k for k, t in enumerate(terms)}
        for j, (g, colour) in enumerate(_GROUP_COLOURS.items()):
            f = fits.get(f"{outcome}|{g}")
            if f is None or not f.ok:
                continue
            c = f.coefs[f.coefs["term"] != "const"].copy()
            scale = c["term"].map(_PLOT_SCALE).fillna(1.0)  # margin drawn per +0.10 so panels stay readable
            c[["estimate", "ci_low", "ci_high"]] = c[["estimate", "ci_low", "ci_high"]].mul(scale, axis=0)
            y = np.array([ypos[t] for t in c["term"]]) + (0.15 if j else -0.15)
            ax.errorbar(
                c["estimate"],
                y,
                xerr=[c["estimate"] - c["ci_low"], c["ci_high"] - c["estimate"]],
                fmt="o",
                color=colour,
                capsize=3,
                label=f"{g} investors (n={f.n})",
            )
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(range(len(terms)), [_TERM_LABELS.get(t, t) for t in terms])
        ax.invert_yaxis()
        title, xlabel = _PANEL[outcome]
        ax.set_title(title)
        ax.set_xlabel(xlabel + ", 95% CI")
        ax.legend(loc="best", fontsize=8)
    if not outcomes:
        axes[0][0].text(0.5, 0.5, "no model could be fitted", ha="center")
    fig.suptitle("What investors price: hedonic coefficients, errors clustered by initiative")
    fig.tight_layout()
    return fig


def plot_decomposition(oaxaca: pd.DataFrame):
    """Bars of gap, explained and unexplained log-valuation gap with bootstrap 95% intervals."""
    import matplotlib.pyplot as plt

    groups = [g for g in ("mainstream", "impact") if g in set(oaxaca["group"])]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    comps = ["gap", "explained", "unexplained"]
    width = 0.8 / max(len(groups), 1)
    for j, g in enumerate(groups):
        t = oaxaca[oaxaca["group"] == g].set_index("component").loc[comps]
        x = np.arange(len(comps)) + (j - (len(groups) - 1) / 2) * width
        ax.bar(x, t["estimate"], width, color=_GROUP_COLOURS[g], label=f"{g} investors")
        ax.errorbar(
            x,
            t["estimate"],
            yerr=[t["estimate"] - t["ci_low"], t["ci_high"] - t["estimate"]],
            fmt="none",
            color="black",
            capsize=4,
        )
    ax.axhline(0, color="grey", lw=1)
    ax.set_xticks(range(len(comps)), ["total gap", "explained by fundamentals", "unexplained"])
    ax.set_ylabel("log valuation, social/hybrid minus commercial")
    ax.set_title("Oaxaca-Blinder decomposition of the valuation gap (95% cluster bootstrap)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_blended_gap(blended: pd.DataFrame, min_group_size: int = 10):
    """Boxplot of blended value / investor valuation by phase and value model.

    Groups with fewer than ``min_group_size`` distinct initiatives are left out, as in the table.
    """
    import matplotlib.pyplot as plt

    from maexlab.plots import PALETTE

    b = blended.copy()
    b["phase"] = b["phase"].fillna("unknown").astype(str)
    sizes = b.groupby(["phase", "value_model"])["initiative_id"].transform("nunique")
    b = b[sizes >= min_group_size]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    phases = [p for p in ("plan", "start", "growth", "mature", "closed", "unknown") if p in set(b["phase"])]
    vms = [v for v in VALUE_MODELS if v in set(b["value_model"])]
    width = 0.8 / max(len(vms), 1)
    for j, vm in enumerate(vms):
        data, pos = [], []
        for k, p in enumerate(phases):
            v = b.loc[(b["phase"] == p) & (b["value_model"] == vm), "blended_ratio"].to_numpy()
            if len(v):
                data.append(v)
                pos.append(k + (j - (len(vms) - 1) / 2) * width)
        if data:
            bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False)
            for patch in bp["boxes"]:
                patch.set_facecolor(PALETTE[vm])
                patch.set_alpha(0.8)
            ax.plot([], [], "s", color=PALETTE[vm], label=vm)
    ax.axhline(1, color="black", ls="--", lw=1, label="blended = investor valuation")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(range(len(phases)), phases)
    ax.set_xlabel("phase at assessment")
    ax.set_ylabel("blended value / investor valuation (log scale)")
    ax.text(
        0.01, 0.01, "boxes: quartiles; whiskers: 1.5 IQR; outliers not drawn", transform=ax.transAxes, fontsize=7, color="grey"
    )
    h, r = (
        int(blended["horizon_years"].iloc[0]) if len(blended) else DEFAULT_HORIZON_YEARS,
        float(blended["social_discount_rate"].iloc[0]) if len(blended) else DEFAULT_SOCIAL_DISCOUNT_RATE,
    )
    ax.set_title(f"Blended value (impact over {h} years at {100 * r:.1f}%) against the investor's valuation")
    ax.legend(title="value model", fontsize=8)
    fig.tight_layout()
    return fig


def plot_wtp(wtp: dict[str, Any]):
    """WTP estimate with its 95% interval beside the published 2.5-3.7 pp band (BMY 2021)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    lo, hi = BMY_RANGE_PP
    ax.axvspan(lo, hi, color="#bbbbbb", alpha=0.6, label=f"published range {lo}-{hi} pp\n({BMY_SOURCE})")
    ax.errorbar(
        [wtp["wtp_pp"]],
        [0],
        xerr=[[wtp["wtp_pp"] - wtp["ci_low"]], [wtp["ci_high"] - wtp["wtp_pp"]]],
        fmt="o",
        color=_GROUP_COLOURS["impact"],
        capsize=5,
        label=f"this data: loan-rate discount of impact investors (n={wtp['n']})",
    )
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks([])
    ax.set_xlabel("return given up by impact investors (percentage points), 95% CI")
    ax.set_title("Willingness to pay for impact")
    ax.set_xlim(min(-0.5, wtp["ci_low"] - 0.5), max(hi + 0.8, wtp["ci_high"] + 0.5))
    ax.set_ylim(-1, 1.4)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.95)
    fig.tight_layout()
    return fig


def fits_to_results(fits: dict[str, ModelFit]) -> dict[str, Any]:
    """JSON-able summary: per model, n, initiatives, rows left out for missing data (how many and
    which variables were missing) and each term's estimate and interval (or the reason not fitted)."""
    out: dict[str, Any] = {}
    for key, f in sorted(fits.items()):
        if not f.ok:
            out[key] = {"n": f.n, "n_clusters": f.n_clusters, "rows_left_out": f.rows_left_out, "not_computed": f.message}
            continue
        out[key] = {
            "n": f.n,
            "n_clusters": f.n_clusters,
            "rows_left_out": f.rows_left_out,
            "terms": {r.term: {"estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high} for r in f.coefs.itertuples()},
        }
    return out
