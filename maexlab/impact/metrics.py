"""Impact metrics: MAEX-style impact value, volunteer time, social return, ratios.

Every function states its formula and source in its docstring; ``docs/impact_metrics.md``
collects them. SROI and its sensitivity analysis live in :mod:`maexlab.impact.sroi`.

Conventions used throughout
---------------------------
* Money is in euro (EUR), nominal, undiscounted unless a function says otherwise.
* **Zero-denominator rule**: a ratio whose denominator is 0 (or missing) is ``NaN`` --
  never ``inf``. ``x / 0`` with ``x > 0`` is undefined for comparison across initiatives
  (an initiative with staff but no volunteers has no finite staff-per-volunteer ratio), and
  ``0 / 0`` has no meaning. The numerator and denominator are always returned next to the
  ratio, so the cases stay distinguishable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from maexlab.data.schema import FINANCIALS, IMPACT, INITIATIVES, PROXIES
from maexlab.impact.sroi import DUTCH_DISCOUNT_RATE

__all__ = [
    "REFERENCE_PROXIES_PATH",
    "VOLUNTEER_RATES",
    "SocialReturnFulfilment",
    "blended_value",
    "cost_per_person_reached",
    "impact_value",
    "impact_value_by",
    "impact_value_per_euro_funding",
    "load_reference_proxies",
    "maex_ratios",
    "social_return_fulfilment",
    "social_return_obligation",
    "volunteer_value",
]

#: Where the sourced reference proxies live (``indicator,unit,euro_per_unit,source``).
REFERENCE_PROXIES_PATH: Path = Path(__file__).resolve().parents[2] / "data" / "reference" / "proxies.csv"

#: Grouping dimensions :func:`impact_value_by` understands, and the table each comes from.
_BY_DIMENSIONS: dict[str, str] = {
    "sdg": "impact",
    "theme": "initiatives",
    "value_model": "initiatives",
    "municipality": "initiatives",
    "municipality_code": "initiatives",
    "province": "initiatives",
    "legal_form": "initiatives",
    "phase": "initiatives or impact (only when a 'phase' column is given)",
}


# --- helpers -------------------------------------------------------------------------------


def _require_columns(df: pd.DataFrame, columns: list[str] | tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table} table is missing column(s): {', '.join(missing)}")


def _safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator`` with the zero-denominator rule: 0 or missing -> NaN."""
    num = pd.to_numeric(numerator, errors="coerce").astype(float)
    den = pd.to_numeric(denominator, errors="coerce").astype(float)
    out = num / den.where(den != 0)
    return out.replace([np.inf, -np.inf], np.nan)


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and value.strip() == ""


def _check_proxies(proxies: pd.DataFrame) -> pd.DataFrame:
    """Validate a proxies table; return it indexed by indicator."""
    _require_columns(proxies, ["indicator", "euro_per_unit", "source"], "proxies")
    dup = proxies["indicator"][proxies["indicator"].duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"proxies table lists indicator(s) more than once: {', '.join(map(str, dup))}")
    for row in proxies.itertuples(index=False):
        ind = row.indicator
        if _is_blank(row.source):
            raise ValueError(
                f"proxy for indicator {ind!r} has no source; every euro proxy must cite the study or statistic it comes from"
            )
        value = pd.to_numeric(pd.Series([row.euro_per_unit]), errors="coerce").iloc[0]
        if pd.isna(value):
            raise ValueError(f"proxy for indicator {ind!r} has no numeric euro_per_unit")
        if value < 0:
            raise ValueError(f"proxy for indicator {ind!r} has a negative euro_per_unit ({value})")
    return proxies.set_index("indicator")


# --- 1. MAEX-style impact value ------------------------------------------------------------


def load_reference_proxies(path: str | Path | None = None) -> pd.DataFrame:
    """Read the sourced reference proxies (``data/reference/proxies.csv``).

    The file has the columns of the canonical ``proxies`` table
    (``indicator, unit, euro_per_unit, source``). The table is validated as in
    :func:`impact_value`: a proxy without a source is refused.

    Parameters
    ----------
    path : str or Path, optional
        Another file with the same columns; default :data:`REFERENCE_PROXIES_PATH`,
        resolved relative to the package (``<repo>/data/reference/proxies.csv``).

    Returns
    -------
    DataFrame
        One row per indicator; ``indicator``, ``unit`` and ``source`` as text,
        ``euro_per_unit`` as float.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a column is missing, an indicator repeats, or a proxy has no source or
        no non-negative ``euro_per_unit``.

    Notes
    -----
    Source: the proxies themselves; each row carries its ``source``. MAEX multiplies
    indicator quantities by euro proxies from MKBA studies, scientific sources and
    national averages (domain notes, vng.nl "Buurthuis naar de beurs").

    Examples
    --------
    >>> import tempfile, os
    >>> tmp = os.path.join(tempfile.mkdtemp(), "proxies.csv")
    >>> with open(tmp, "w") as f:
    ...     _ = f.write("indicator,unit,euro_per_unit,source\\nvolunteer_hours,hour,20,Erasmus/Zonnebloem\\n")
    >>> load_reference_proxies(tmp)[["indicator", "euro_per_unit"]]
             indicator  euro_per_unit
    0  volunteer_hours           20.0
    """
    p = Path(path) if path is not None else REFERENCE_PROXIES_PATH
    if not p.exists():
        raise FileNotFoundError(f"reference proxies file not found: {p}")
    df = pd.read_csv(p, dtype={"indicator": str, "unit": str, "source": str}, keep_default_na=True)
    _require_columns(df, PROXIES.required_columns, "proxies")
    df["euro_per_unit"] = pd.to_numeric(df["euro_per_unit"], errors="coerce").astype(float)
    _check_proxies(df)
    return df


def impact_value(impact: pd.DataFrame, proxies: pd.DataFrame) -> pd.DataFrame:
    """Euro impact value per initiative, year and indicator, MAEX style.

    Formula: ``impact_value_eur = quantity x euro_per_unit`` for each row of the impact
    table, with ``euro_per_unit`` the proxy of the row's indicator.

    Parameters
    ----------
    impact : DataFrame
        Canonical ``impact`` table (``initiative_id, year, indicator, sdg, quantity, unit``;
        ``sdg`` and ``unit`` are optional here). Extra columns are kept.
    proxies : DataFrame
        Canonical ``proxies`` table (``indicator, unit, euro_per_unit, source``).

    Returns
    -------
    DataFrame
        The impact rows with ``euro_per_unit``, ``proxy_source`` and ``impact_value_eur``
        added, in the input order.

    Raises
    ------
    ValueError
        If any proxy has an empty or missing ``source`` (the message names the indicator),
        if an indicator in ``impact`` has no proxy (named), if units disagree (named), or if
        columns are missing, duplicated or negative.

    Notes
    -----
    Source: MAEX's "impactwaarde": each activity's indicator quantity times a euro proxy
    from social cost-benefit studies (MKBA), scientific sources and national averages,
    summed per year (domain notes; vng.nl, "Buurthuis naar de beurs"). The values are
    gross: no deadweight, attribution or drop-off (use :mod:`maexlab.impact.sroi` for those).

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A", "A"], "year": [2023, 2023],
    ...     "indicator": ["volunteer_hours", "meals_served"], "quantity": [100.0, 50.0]})
    >>> proxies = pd.DataFrame({"indicator": ["volunteer_hours", "meals_served"],
    ...     "unit": ["hour", "meal"], "euro_per_unit": [20.0, 4.0], "source": ["s1", "s2"]})
    >>> impact_value(impact, proxies)["impact_value_eur"].tolist()
    [2000.0, 200.0]
    """
    _require_columns(impact, ["initiative_id", "year", "indicator", "quantity"], "impact")
    px = _check_proxies(proxies)
    unknown = sorted(set(impact["indicator"].dropna()) - set(px.index))
    if unknown:
        raise ValueError(f"no proxy for indicator(s): {', '.join(map(str, unknown))}")
    if impact["indicator"].isna().any():
        raise ValueError("impact table has rows without an indicator")
    qty = pd.to_numeric(impact["quantity"], errors="coerce")
    if (qty < 0).any():
        bad = impact.loc[qty < 0, "indicator"].unique().tolist()
        raise ValueError(f"negative quantity for indicator(s): {', '.join(map(str, bad))}")
    if "unit" in impact.columns and "unit" in px.columns:
        iu = impact["unit"].astype("string").str.strip().str.lower()
        pu = impact["indicator"].map(px["unit"]).astype("string").str.strip().str.lower()
        clash = iu.notna() & pu.notna() & (iu != pu)
        if clash.any():
            ind = impact.loc[clash, "indicator"].iloc[0]
            raise ValueError(
                f"unit mismatch for indicator {ind!r}: impact has {impact.loc[clash, 'unit'].iloc[0]!r}, "
                f"proxy prices {px.loc[ind, 'unit']!r}"
            )
    out = impact.copy()
    out["euro_per_unit"] = out["indicator"].map(px["euro_per_unit"]).astype(float)
    out["proxy_source"] = out["indicator"].map(px["source"])
    out["impact_value_eur"] = qty.astype(float) * out["euro_per_unit"]
    return out


def impact_value_by(
    impact: pd.DataFrame,
    proxies: pd.DataFrame,
    initiatives: pd.DataFrame | None = None,
    by: list[str] | tuple[str, ...] | str = ("theme",),
) -> pd.DataFrame:
    """Total impact value per year and group (SDG, theme, value model, region, phase).

    Formula: ``impact_value_eur(year, g) = sum over rows in (year, g) of quantity x
    euro_per_unit`` (see :func:`impact_value`); ``n_initiatives`` counts distinct
    initiatives contributing to the cell.

    Parameters
    ----------
    impact, proxies : DataFrame
        As in :func:`impact_value`.
    initiatives : DataFrame, optional
        Canonical ``initiatives`` table; needed for any dimension other than ``sdg``.
    by : list of str or str
        Any of ``sdg`` (from impact), ``theme``, ``value_model``, ``municipality``,
        ``municipality_code``, ``province``, ``legal_form`` (from initiatives) and ``phase``
        (only if ``initiatives`` or ``impact`` has a ``phase`` column; the canonical tables
        do not, so the caller derives it first, e.g. the phase at year end).

    Returns
    -------
    DataFrame
        Columns ``year, *by, impact_value_eur, n_initiatives``, sorted by year and groups.
        Missing group values (e.g. no province) form their own group shown as NaN.

    Raises
    ------
    ValueError
        For an unknown dimension, a dimension whose column is absent, impact rows whose
        initiative is not in ``initiatives``, and every error of :func:`impact_value`.

    Notes
    -----
    Source: MAEX sector analyses aggregate the yearly "impactwaarde" by region and theme
    (e.g. about 60 Helmond initiatives together about EUR 9m a year; domain notes,
    vng.nl "Buurthuis naar de beurs").

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A", "B", "B"], "year": [2023] * 3,
    ...     "indicator": ["volunteer_hours"] * 3, "sdg": [8, 8, 8], "quantity": [10.0, 5.0, 1.0]})
    >>> proxies = pd.DataFrame({"indicator": ["volunteer_hours"], "unit": ["hour"],
    ...     "euro_per_unit": [20.0], "source": ["s"]})
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B"], "theme": ["poverty_debt", "care_wellbeing"]})
    >>> impact_value_by(impact, proxies, inits, by="theme")
       year           theme  impact_value_eur  n_initiatives
    0  2023  care_wellbeing             120.0              1
    1  2023    poverty_debt             200.0              1
    """
    dims = [by] if isinstance(by, str) else list(by)
    if not dims:
        raise ValueError("by must name at least one dimension")
    for d in dims:
        if d not in _BY_DIMENSIONS:
            raise ValueError(f"unknown dimension {d!r}; choose from {', '.join(_BY_DIMENSIONS)}")
    valued = impact_value(impact, proxies)
    need = [d for d in dims if d not in valued.columns]
    if need:
        if initiatives is None:
            raise ValueError(f"dimension(s) {', '.join(need)} need the initiatives table")
        _require_columns(initiatives, ["initiative_id"], "initiatives")
        absent = [d for d in need if d not in initiatives.columns]
        if absent:
            hint = " (derive a 'phase' column first)" if "phase" in absent else ""
            raise ValueError(f"no column for dimension(s) {', '.join(absent)}{hint}")
        orphans = sorted(set(valued["initiative_id"]) - set(initiatives["initiative_id"]))
        if orphans:
            raise ValueError(f"impact rows for initiative(s) not in initiatives: {', '.join(map(str, orphans[:5]))}")
        valued = valued.merge(initiatives[["initiative_id", *need]], on="initiative_id", how="left", validate="m:1")
    keys = ["year", *dims]
    out = (
        valued.groupby(keys, dropna=False, observed=True)
        .agg(impact_value_eur=("impact_value_eur", "sum"), n_initiatives=("initiative_id", "nunique"))
        .reset_index()
        .sort_values(keys)
        .reset_index(drop=True)
    )
    return out


# --- 4. volunteer time ---------------------------------------------------------------------

#: Default hourly rates (EUR) per valuation method, with their source. ``None`` means no
#: defensible national default: the user must set ``rate``.
VOLUNTEER_RATES: dict[str, tuple[float | None, str]] = {
    "market_value": (
        20.0,
        "Market value 'a little over EUR 20 per hour' used for all Dutch volunteering in the "
        "Erasmus University (Meijs et al.) study for De Zonnebloem, as reported by nu.nl; "
        "second-hand, see domain notes",
    ),
    "replacement_cost": (
        14.40,
        "Dutch statutory minimum hourly wage, age 21+, from 1 July 2025 (Wet minimumloon en "
        "minimumvakantiebijslag, SZW indexation). A LOWER BOUND: excludes 8% holiday allowance "
        "and employer charges; set a CAO wage for the replaced job where known",
    ),
    "opportunity_cost": (
        None,
        "No national default: the volunteers' own forgone hourly wage; an assumption the user must set",
    ),
}


def volunteer_value(
    hours: float | np.ndarray | pd.Series,
    method: Literal["replacement_cost", "opportunity_cost", "market_value"] = "market_value",
    rate: float | None = None,
) -> float | np.ndarray | pd.Series:
    """Euro value of volunteer time.

    Formula: ``value = hours x rate``, with ``rate`` the hourly rate of the chosen method:

    * ``replacement_cost`` (vervangingswaarde): what paid staff would cost to do the same
      work. Default EUR 14.40 = Dutch statutory minimum hourly wage (21+, 1 July 2025); a
      lower bound (no holiday allowance, no employer charges).
    * ``opportunity_cost`` (investeringswaarde): the wage the volunteer forgoes. No default;
      ``rate`` is required.
    * ``market_value`` (marktwaarde): the price of comparable commercial services. Default
      EUR 20 per hour, the national figure of the Erasmus University study for De Zonnebloem.

    Parameters
    ----------
    hours : float, ndarray or Series
        Volunteer hours (>= 0).
    method : {"market_value", "replacement_cost", "opportunity_cost"}
        Valuation method.
    rate : float, optional
        Hourly rate in EUR (>= 0); overrides the default of the method.

    Returns
    -------
    float, ndarray or Series
        Value in EUR, same shape as ``hours``.

    Raises
    ------
    ValueError
        Unknown method, negative hours or rate, or ``opportunity_cost`` without ``rate``.

    Notes
    -----
    Source: the three methods as set out by L. Meijs' group (Erasmus University Rotterdam),
    summarised by Movisie ("De waarde van vrijwillige inzet"); default rates and their
    provenance in :data:`VOLUNTEER_RATES`. Rates are nominal for the year stated; index
    them for other years.

    Examples
    --------
    >>> volunteer_value(100)
    2000.0
    >>> volunteer_value(100, method="replacement_cost")
    1440.0
    >>> volunteer_value(10, method="opportunity_cost", rate=25.0)
    250.0
    """
    if method not in VOLUNTEER_RATES:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(VOLUNTEER_RATES)}")
    if rate is None:
        rate = VOLUNTEER_RATES[method][0]
        if rate is None:
            raise ValueError(
                f"method {method!r} has no sourced default rate; pass rate= (the volunteers' "
                "forgone hourly wage, an assumption you must state)"
            )
    if rate < 0 or not np.isfinite(rate):
        raise ValueError(f"rate must be a finite amount >= 0, got {rate}")
    arr = np.asarray(hours, dtype=float)
    if np.any(arr < 0):
        raise ValueError("hours must be >= 0")
    if isinstance(hours, pd.Series):
        return hours.astype(float) * rate
    if arr.ndim == 0:
        return float(arr) * rate
    return arr * rate


# --- 5. social return in procurement -------------------------------------------------------


def social_return_obligation(
    contract_value: float,
    share: float = 0.05,
    basis: Literal["contract_value", "wage_bill"] = "contract_value",
    wage_bill: float | None = None,
    threshold: float = 250_000,
) -> float:
    """Social return (SROI-clausule) obligation of a public contract, in EUR.

    Formula: ``obligation = share x B`` if ``contract_value > threshold`` else ``0``,
    where ``B`` is the contract value (``basis="contract_value"``) or the wage bill of the
    contract (``basis="wage_bill"``).

    Parameters
    ----------
    contract_value : float
        Contract value excl. VAT (>= 0); also decides whether the threshold is passed.
    share : float
        Share of the basis to spend on social return, in [0, 1]; typically 0.02-0.05.
    basis : {"contract_value", "wage_bill"}
        What the share applies to.
    wage_bill : float, optional
        Labour cost in the contract; required when ``basis="wage_bill"``.
    threshold : float
        Contracts at or below this value carry no obligation (default EUR 250,000).

    Returns
    -------
    float
        The obligation in EUR.

    Raises
    ------
    ValueError
        Negative amounts, share outside [0, 1], unknown basis, or missing wage bill.

    Notes
    -----
    Source: Dutch municipal practice: typically 2-5% of contract value or wage bill for
    works and services above EUR 250k (domain notes). Rules differ per region; set share,
    basis and threshold to the commissioning body's policy. "Above" is read strictly: a
    contract of exactly the threshold carries no obligation.

    Examples
    --------
    >>> social_return_obligation(1_000_000)
    50000.0
    >>> social_return_obligation(1_000_000, share=0.03, basis="wage_bill", wage_bill=400_000)
    12000.0
    >>> social_return_obligation(200_000)
    0.0
    """
    for name, v in (("contract_value", contract_value), ("threshold", threshold)):
        if v is None or not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite amount >= 0, got {v}")
    if not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1], got {share}")
    if basis == "contract_value":
        base = float(contract_value)
    elif basis == "wage_bill":
        if wage_bill is None:
            raise ValueError("basis='wage_bill' needs wage_bill")
        if not np.isfinite(wage_bill) or wage_bill < 0:
            raise ValueError(f"wage_bill must be a finite amount >= 0, got {wage_bill}")
        base = float(wage_bill)
    else:
        raise ValueError(f"unknown basis {basis!r}; choose 'contract_value' or 'wage_bill'")
    if contract_value <= threshold:
        return 0.0
    return share * base


@dataclass(frozen=True)
class SocialReturnFulfilment:
    """Result of :func:`social_return_fulfilment` (all amounts in EUR)."""

    obligation: float
    fulfilled: float
    share: float  # fulfilled / obligation; NaN when the obligation is 0
    remaining: float  # max(obligation - fulfilled, 0)


def social_return_fulfilment(obligation: float, se_contract_value: float, credit_rate: float = 1.0) -> SocialReturnFulfilment:
    """How much of a social return obligation a purchase from a social enterprise fulfils.

    Formula: ``fulfilled = se_contract_value x credit_rate``;
    ``share = fulfilled / obligation`` (NaN if the obligation is 0, by the zero-denominator
    rule); ``remaining = max(obligation - fulfilled, 0)``. ``share`` may exceed 1
    (over-fulfilment).

    Parameters
    ----------
    obligation : float
        Obligation in EUR (>= 0), e.g. from :func:`social_return_obligation`.
    se_contract_value : float
        Value bought from (subcontracted to) a social enterprise, EUR (>= 0).
    credit_rate : float
        Share of that value credited towards the obligation, >= 0 (1.0 = in full). Crediting
        rules differ per municipality (some credit a purchase from a PSO-certified firm only
        in part); set it to the applicable policy.

    Returns
    -------
    SocialReturnFulfilment

    Raises
    ------
    ValueError
        Negative or non-finite amounts or credit rate.

    Notes
    -----
    Source: the social-return instrument in Dutch procurement and its evidence via the
    Prestatieladder Socialer Ondernemen (PSO), accepted by more than half of
    municipalities (domain notes). The crediting rate is a policy parameter, not a
    national constant.

    Examples
    --------
    >>> r = social_return_fulfilment(50_000, 20_000)
    >>> r.fulfilled, r.share, r.remaining
    (20000.0, 0.4, 30000.0)
    >>> social_return_fulfilment(50_000, 20_000, credit_rate=0.5).share
    0.2
    """
    for name, v in (("obligation", obligation), ("se_contract_value", se_contract_value), ("credit_rate", credit_rate)):
        if v is None or not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {v}")
    fulfilled = float(se_contract_value) * float(credit_rate)
    share = fulfilled / obligation if obligation > 0 else float("nan")
    return SocialReturnFulfilment(
        obligation=float(obligation),
        fulfilled=fulfilled,
        share=share,
        remaining=max(float(obligation) - fulfilled, 0.0),
    )


# --- 6. ratios -----------------------------------------------------------------------------


def _financials_for(financials: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """One financials row per initiative: the given year, or each initiative's latest."""
    _require_columns(financials, ["initiative_id", "year"], "financials")
    if year is not None:
        f = financials[financials["year"] == year]
    else:
        f = financials.sort_values("year").groupby("initiative_id", as_index=False).tail(1)
    if f["initiative_id"].duplicated().any():
        raise ValueError("financials has more than one row per initiative and year")
    return f


def maex_ratios(initiatives: pd.DataFrame, financials: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """The two axes of MAEX's "waardenweb": paid staff per volunteer, subsidy per earned euro.

    Formulas: ``staff_per_volunteer = paid_staff_fte / volunteers`` and
    ``subsidy_per_earned_income = subsidies / earned_income``. Zero-denominator rule: a
    denominator of 0 or missing gives NaN, never inf (e.g. staff but no volunteers).

    Parameters
    ----------
    initiatives : DataFrame
        Canonical ``initiatives`` (``initiative_id, paid_staff_fte, volunteers``).
    financials : DataFrame
        Canonical ``financials`` (``initiative_id, year, subsidies, earned_income``).
    year : int, optional
        Financial year to use; default each initiative's most recent year.

    Returns
    -------
    DataFrame
        One row per initiative (all initiatives, in input order): ``initiative_id,
        paid_staff_fte, volunteers, staff_per_volunteer, year, subsidies, earned_income,
        subsidy_per_earned_income``. Initiatives without financials get NaN there.

    Notes
    -----
    Source: MAEX profiles show the ratio of paid staff to volunteers and of subsidy to
    earned income as a "waardenweb" (domain notes). Staff is in FTE, volunteers in
    persons (as MAEX records them), so the first ratio mixes units: read it as an index.

    Examples
    --------
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B"], "paid_staff_fte": [2.0, 1.0],
    ...     "volunteers": [10, 0]})
    >>> fin = pd.DataFrame({"initiative_id": ["A", "B"], "year": [2023, 2023],
    ...     "subsidies": [5000.0, 0.0], "earned_income": [20000.0, 0.0]})
    >>> maex_ratios(inits, fin)[["initiative_id", "staff_per_volunteer", "subsidy_per_earned_income"]]
      initiative_id  staff_per_volunteer  subsidy_per_earned_income
    0             A                  0.2                       0.25
    1             B                  NaN                        NaN
    """
    _require_columns(initiatives, ["initiative_id", "paid_staff_fte", "volunteers"], "initiatives")
    _require_columns(financials, ["initiative_id", "year", "subsidies", "earned_income"], "financials")
    out = initiatives[["initiative_id", "paid_staff_fte", "volunteers"]].copy()
    out["staff_per_volunteer"] = _safe_ratio(out["paid_staff_fte"], out["volunteers"])
    f = _financials_for(financials, year)[["initiative_id", "year", "subsidies", "earned_income"]]
    out = out.merge(f, on="initiative_id", how="left", validate="1:1")
    out["subsidy_per_earned_income"] = _safe_ratio(out["subsidies"], out["earned_income"])
    return out


def cost_per_person_reached(initiatives: pd.DataFrame, financials: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Yearly costs per person reached.

    Formula: ``cost_per_person = costs / people_reached`` (NaN when nobody is reached or
    either figure is missing, by the zero-denominator rule).

    Parameters
    ----------
    initiatives : DataFrame
        Canonical ``initiatives`` (``initiative_id, people_reached``; reach per year).
    financials : DataFrame
        Canonical ``financials`` (``initiative_id, year, costs``).
    year : int, optional
        Financial year; default each initiative's most recent year.

    Returns
    -------
    DataFrame
        ``initiative_id, year, costs, people_reached, cost_per_person_reached``.

    Notes
    -----
    Source: a plain unit-cost ratio of the MAEX profile fields (costs, reach). The
    profile holds one current reach figure, so it is paired with one financial year;
    this assumes reach is stable over the year used.

    Examples
    --------
    >>> inits = pd.DataFrame({"initiative_id": ["A"], "people_reached": [400]})
    >>> fin = pd.DataFrame({"initiative_id": ["A"], "year": [2023], "costs": [10000.0]})
    >>> cost_per_person_reached(inits, fin)["cost_per_person_reached"].tolist()
    [25.0]
    """
    _require_columns(initiatives, ["initiative_id", "people_reached"], "initiatives")
    _require_columns(financials, ["initiative_id", "year", "costs"], "financials")
    f = _financials_for(financials, year)[["initiative_id", "year", "costs"]]
    out = initiatives[["initiative_id", "people_reached"]].merge(f, on="initiative_id", how="left", validate="1:1")
    out = out[["initiative_id", "year", "costs", "people_reached"]]
    out["cost_per_person_reached"] = _safe_ratio(out["costs"], out["people_reached"])
    return out


def impact_value_per_euro_funding(
    impact: pd.DataFrame, proxies: pd.DataFrame, funding: pd.DataFrame, year: int | None = None
) -> pd.DataFrame:
    """Impact value created per euro of funding received, per initiative.

    Formula: ``impact_per_euro = sum(quantity x euro_per_unit) / sum(amount_granted)``
    over the initiative's record (or one year). Missing ``amount_granted`` counts as 0;
    a zero funding total gives NaN (zero-denominator rule).

    Parameters
    ----------
    impact, proxies : DataFrame
        As in :func:`impact_value`.
    funding : DataFrame
        Canonical ``funding`` (``initiative_id, amount_granted``; ``decided_on`` when
        ``year`` is given).
    year : int, optional
        Restrict impact to this year and funding to decisions taken in this year.

    Returns
    -------
    DataFrame
        ``initiative_id, impact_value_eur, amount_granted, impact_value_per_euro`` for every
        initiative in either table.

    Notes
    -----
    Source: ratio of MAEX impact value (see :func:`impact_value`) to funding. It is gross
    (not net of deadweight or attribution) and does not claim that the funding caused the
    impact: initiatives have other income. Read it as a descriptive leverage figure.

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A"], "year": [2023],
    ...     "indicator": ["volunteer_hours"], "quantity": [500.0]})
    >>> proxies = pd.DataFrame({"indicator": ["volunteer_hours"], "unit": ["hour"],
    ...     "euro_per_unit": [20.0], "source": ["s"]})
    >>> funding = pd.DataFrame({"initiative_id": ["A", "A"], "amount_granted": [2000.0, 3000.0]})
    >>> impact_value_per_euro_funding(impact, proxies, funding)["impact_value_per_euro"].tolist()
    [2.0]
    """
    _require_columns(funding, ["initiative_id", "amount_granted"], "funding")
    valued = impact_value(impact, proxies)
    f = funding
    if year is not None:
        valued = valued[valued["year"] == year]
        _require_columns(funding, ["decided_on"], "funding")
        f = funding[pd.to_datetime(funding["decided_on"], errors="coerce").dt.year == year]
    iv = valued.groupby("initiative_id")["impact_value_eur"].sum()
    fg = pd.to_numeric(f["amount_granted"], errors="coerce").fillna(0.0).groupby(f["initiative_id"]).sum()
    out = pd.concat([iv, fg], axis=1).fillna(0.0).rename_axis("initiative_id").reset_index()
    out.columns = ["initiative_id", "impact_value_eur", "amount_granted"]
    out["impact_value_per_euro"] = _safe_ratio(out["impact_value_eur"], out["amount_granted"])
    return out.sort_values("initiative_id").reset_index(drop=True)


def blended_value(
    financial_value: float, social_value_per_year: float, social_discount_rate: float = DUTCH_DISCOUNT_RATE, years: int = 5
) -> float:
    """Blended value: financial value plus the present value of a yearly social value.

    Formula: ``blended = financial_value + sum_{t=1..years} social_value_per_year /
    (1 + r)^t``, i.e. an end-of-year annuity discounted at the social discount rate ``r``.

    Parameters
    ----------
    financial_value : float
        Financial value (e.g. NPV of cash flows or an equity valuation), EUR; may be negative.
    social_value_per_year : float
        Yearly social value, EUR (e.g. the MAEX impact value), >= 0.
    social_discount_rate : float
        Discount rate for social value, in [0, 1); default 2.25%, the Dutch standard discount
        rate (:data:`maexlab.impact.sroi.DISCOUNT_RATES`, which also names the UK Green Book's 3.5%).
    years : int
        Years the social value lasts, integer >= 0.

    Returns
    -------
    float
        Blended value in EUR.

    Raises
    ------
    ValueError
        Negative social value or years, non-integer years, or a rate outside [0, 1).

    Notes
    -----
    Source: the blended value idea of J. Emerson, "The Blended Value Proposition:
    Integrating Social and Financial Returns", California Management Review 45(4), 2003.
    Emerson gives no single formula; adding a discounted social annuity to a financial
    value is this project's operationalisation.

    Examples
    --------
    >>> round(blended_value(10_000, 1_000, 0.0, 3), 2)
    13000.0
    >>> round(blended_value(0, 1_000, 0.10, 2), 2)  # 1000/1.1 + 1000/1.21
    1735.54
    """
    if not np.isfinite(financial_value):
        raise ValueError(f"financial_value must be finite, got {financial_value}")
    if not np.isfinite(social_value_per_year) or social_value_per_year < 0:
        raise ValueError(f"social_value_per_year must be finite and >= 0, got {social_value_per_year}")
    if not 0 <= social_discount_rate < 1:
        raise ValueError(f"social_discount_rate must be in [0, 1), got {social_discount_rate}")
    if isinstance(years, bool) or int(years) != years or years < 0:
        raise ValueError(f"years must be an integer >= 0, got {years}")
    t = np.arange(1, int(years) + 1)
    return float(financial_value + np.sum(social_value_per_year / (1 + social_discount_rate) ** t))


# Keep the canonical schemas referenced so a renamed column fails loudly at import time.
for _schema, _cols in (
    (IMPACT, ("initiative_id", "year", "indicator", "quantity")),
    (PROXIES, ("indicator", "euro_per_unit", "source")),
    (INITIATIVES, ("paid_staff_fte", "volunteers", "people_reached", "theme", "value_model")),
    (FINANCIALS, ("subsidies", "earned_income", "costs")),
):
    for _c in _cols:
        _schema.column(_c)
del _schema, _cols, _c
