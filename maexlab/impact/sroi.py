"""Social Return on Investment (SROI) and its sensitivity analysis.

Method: *A guide to Social Return on Investment*, The SROI Network / Social Value UK,
January 2012 (an update of the Cabinet Office guide of 2009, same methodology). Per outcome:

* impact ``I = quantity x financial_proxy x (1 - deadweight) x (1 - attribution)
  x (1 - displacement) x (1 - leakage)``;
* value in year ``t = 1..duration_years``: ``V_t = I x (1 - drop_off)^(t - 1)`` (drop-off
  applies from the second year on);
* present value ``PV = sum_t V_t / (1 + r)^(start_year + t)`` (end-of-year discounting,
  ``start_year`` = years before the outcome starts, default 0);
* SROI ratio ``= total PV / inputs``; net present value ``NPV = total PV - inputs``;
  payback period ``= inputs / annual impact`` years (the guide gives months:
  ``inputs / (annual impact / 12)``), with annual impact = the sum of the outcomes'
  first-year impact ``I``, undiscounted.

Leakage is the share of the outcome that benefits people outside the intended group or
area (Social Value Engine; HM Treasury Green Book additionality); it is deducted beside
deadweight, attribution and displacement.

Discount rate: an explicit, sourced parameter (:data:`DISCOUNT_RATES`). The default is the
Dutch standard discount rate for a Dutch MKBA-style analysis, 2.25% real, set by the cabinet
from 1 January 2021 on the advice of the Werkgroep discontovoet (2020); the UK alternative is
HM Treasury's Green Book social time preference rate of 3.5% (years 0-30), which the SROI
guide refers to.

Mode: an SROI is *evaluative* (retrospective, from outcomes that took place) or *forecast*
(the value expected if the intended outcomes are met); the guide asks to say which, and
:func:`sroi` records it in the result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "DEFAULT_DISCOUNT_RATE",
    "DISCOUNT_RATES",
    "DUTCH_DISCOUNT_RATE",
    "GREEN_BOOK_DISCOUNT_RATE",
    "SROI_MODES",
    "DiscountRate",
    "discount_rate_named",
    "MonteCarloResult",
    "Outcome",
    "SROIResult",
    "plot_tornado",
    "sroi",
    "sroi_monte_carlo",
    "sroi_one_at_a_time",
    "value_map_frame",
]


@dataclass(frozen=True)
class DiscountRate:
    """A discount rate with its name and source, so a result can say which rate it used.

    Examples
    --------
    >>> DISCOUNT_RATES["nl_standard"].rate
    0.0225
    """

    name: str
    rate: float
    source: str


#: The discount rates an SROI or MKBA-style analysis may use, each with its source.
DISCOUNT_RATES: dict[str, DiscountRate] = {
    "nl_standard": DiscountRate(
        "nl_standard",
        0.0225,
        "Dutch standard discount rate (standaarddiscontovoet), 2.25% real, in force from 1 January 2021: "
        "Rapport Werkgroep discontovoet 2020, adopted by the cabinet (rwseconomie.nl/discontovoet)",
    ),
    "uk_green_book": DiscountRate(
        "uk_green_book",
        0.035,
        "HM Treasury, The Green Book: social time preference rate 3.5% real for years 0-30, "
        "referenced by the SROI guide (Social Value UK, 2012)",
    ),
}
#: Dutch standard discount rate (Werkgroep discontovoet 2020): the default for a Dutch MKBA-style analysis.
DUTCH_DISCOUNT_RATE: float = DISCOUNT_RATES["nl_standard"].rate
#: HM Treasury Green Book social time preference rate (the UK alternative).
GREEN_BOOK_DISCOUNT_RATE: float = DISCOUNT_RATES["uk_green_book"].rate
DEFAULT_DISCOUNT_RATE: float = DUTCH_DISCOUNT_RATE
#: An evaluative SROI values outcomes that took place; a forecast SROI the outcomes expected.
SROI_MODES: tuple[str, ...] = ("evaluative", "forecast")


def discount_rate_named(rate: float) -> DiscountRate | None:
    """The sourced rate equal to ``rate`` (None when the rate is not one of :data:`DISCOUNT_RATES`).

    Examples
    --------
    >>> discount_rate_named(0.035).name
    'uk_green_book'
    >>> discount_rate_named(0.05) is None
    True
    """
    for named in DISCOUNT_RATES.values():
        if math.isclose(named.rate, float(rate)):
            return named
    return None


# Order matters: _present_value takes the shares positionally in this order.
_SHARES = ("deadweight", "attribution", "displacement", "leakage", "drop_off")
_MONEY = ("quantity", "financial_proxy")
_MULTIPLIERS = {"proxy_multiplier": "financial_proxy", "quantity_multiplier": "quantity"}


@dataclass(frozen=True)
class Outcome:
    """One row of an SROI value map (impact map).

    Attributes
    ----------
    stakeholder : str
        Who experiences the change.
    outcome : str
        The change (a name; used to target sensitivity parameters).
    indicator : str
        How the outcome is measured.
    quantity : float
        Amount of change (number of people, hours, ...), >= 0.
    financial_proxy : float
        Euro value of one unit of change, >= 0.
    duration_years : int
        Years the outcome lasts, integer >= 1.
    deadweight, attribution, displacement, drop_off : float
        Shares in [0, 1]: what would have happened anyway, what others contributed,
        what was displaced, and the yearly decline after the first year.
    start_year : int
        Years before the outcome starts (0 = starts in year 1), integer >= 0.
    leakage : float
        Share in [0, 1] of the outcome that benefits people outside the intended group or
        area (last, so positional calls written before it existed keep their meaning).
    """

    stakeholder: str
    outcome: str
    indicator: str
    quantity: float
    financial_proxy: float
    duration_years: int = 1
    deadweight: float = 0.0
    attribution: float = 0.0
    displacement: float = 0.0
    drop_off: float = 0.0
    start_year: int = 0
    leakage: float = 0.0


#: Columns of a value map as a DataFrame (the fields of :class:`Outcome`).
VALUE_MAP_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Outcome))
_DEFAULTS: dict[str, float] = {f.name: f.default for f in fields(Outcome) if f.name in ("duration_years", *_SHARES, "start_year")}

ValueMap = pd.DataFrame | Sequence[Outcome]


def _where(df: pd.DataFrame, i: int) -> str:
    name = df["outcome"].iloc[i]
    return f"value map row {df.index[i]} (outcome {name!r})"


def value_map_frame(value_map: ValueMap) -> pd.DataFrame:
    """Normalise and validate a value map; return it as a DataFrame.

    Parameters
    ----------
    value_map : DataFrame or sequence of Outcome
        A DataFrame needs ``stakeholder, outcome, indicator, quantity, financial_proxy``;
        ``duration_years`` (1), ``deadweight``, ``attribution``, ``displacement``,
        ``leakage``, ``drop_off`` (0) and ``start_year`` (0) default as in :class:`Outcome`.

    Returns
    -------
    DataFrame
        Columns :data:`VALUE_MAP_COLUMNS`, numeric fields as numbers; the index of a
        DataFrame input is kept (a list gives 0, 1, ...).

    Raises
    ------
    ValueError
        Empty map; missing column; a share outside [0, 1]; a duration that is not an
        integer >= 1; a start year that is not an integer >= 0; negative or missing money.
        The message names the row (index label and outcome) and the field.

    Notes
    -----
    Source: the impact map of the SROI guide (Social Value UK, 2012), stages 2-4.

    Examples
    --------
    >>> vm = value_map_frame([Outcome("residents", "less isolation", "contacts", 10, 100.0)])
    >>> vm.loc[0, ["quantity", "financial_proxy", "duration_years", "deadweight"]].astype(float).tolist()
    [10.0, 100.0, 1.0, 0.0]
    """
    if isinstance(value_map, pd.DataFrame):
        df = value_map.copy()
    else:
        items = list(value_map)
        if not all(isinstance(o, Outcome) for o in items):
            raise ValueError("a value map list must hold Outcome objects")
        df = pd.DataFrame([asdict(o) for o in items], columns=list(VALUE_MAP_COLUMNS))
    if len(df) == 0:
        raise ValueError("value map is empty")
    required = ("stakeholder", "outcome", "indicator", *_MONEY)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"value map is missing column(s): {', '.join(missing)}")
    for c, default in _DEFAULTS.items():
        if c not in df.columns:
            df[c] = default
    df = df[list(VALUE_MAP_COLUMNS)]
    for c in ("stakeholder", "outcome", "indicator"):
        for i in range(len(df)):
            v = df[c].iloc[i]
            if not isinstance(v, str) or not v.strip():
                where = f"value map row {df.index[i]}"
                raise ValueError(f"{where}: {c} must be a non-empty text, got {v!r}")
    numeric = (*_MONEY, *_SHARES, "duration_years", "start_year")
    for c in numeric:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        for i in range(len(df)):
            v = df[c].iloc[i]
            if not np.isfinite(v):
                raise ValueError(f"{_where(df, i)}: {c} is missing or not a finite number")
            if c in _MONEY and v < 0:
                raise ValueError(f"{_where(df, i)}: {c} must be >= 0, got {v:g}")
            if c in _SHARES and not 0 <= v <= 1:
                raise ValueError(f"{_where(df, i)}: {c} must be a share in [0, 1], got {v:g}")
            if c == "duration_years" and (v != int(v) or v < 1):
                raise ValueError(f"{_where(df, i)}: duration_years must be an integer >= 1, got {v:g}")
            if c == "start_year" and (v != int(v) or v < 0):
                raise ValueError(f"{_where(df, i)}: start_year must be an integer >= 0, got {v:g}")
    df["duration_years"] = df["duration_years"].astype(int)
    df["start_year"] = df["start_year"].astype(int)
    return df


def _check_inputs(inputs: float) -> float:
    if inputs is None or isinstance(inputs, bool) or not np.isfinite(inputs) or inputs <= 0:
        raise ValueError(f"inputs (value of the investment) must be a finite amount > 0, got {inputs}")
    return float(inputs)


def _check_rate(rate: float, name: str = "discount_rate") -> float:
    if rate is None or not np.isfinite(rate) or not 0 <= rate < 1:
        raise ValueError(f"{name} must be in [0, 1), got {rate}")
    return float(rate)


def _present_value(
    quantity: np.ndarray,
    proxy: np.ndarray,
    deadweight: np.ndarray,
    attribution: np.ndarray,
    displacement: np.ndarray,
    leakage: np.ndarray,
    drop_off: np.ndarray,
    duration: np.ndarray,
    start: np.ndarray,
    rate: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised core: returns (first-year impact, PV) per outcome; arrays broadcast.

    Outcome arrays have shape (k,) or (n, k); ``rate`` is a scalar or shape (n, 1).
    """
    impact = quantity * proxy * (1 - deadweight) * (1 - attribution) * (1 - displacement) * (1 - leakage)
    pv = np.zeros(np.broadcast(impact, rate).shape, dtype=float)
    for t in range(1, int(np.max(duration)) + 1):
        active = duration >= t
        value = np.where(active, impact * (1 - drop_off) ** (t - 1), 0.0)
        pv = pv + value / (1 + rate) ** (start + t)
    return impact, pv


@dataclass(frozen=True)
class SROIResult:
    """Result of :func:`sroi`.

    Attributes
    ----------
    outcomes : DataFrame
        The value map plus ``impact`` (first-year impact after deadweight, attribution,
        displacement and leakage) and ``present_value`` per outcome.
    yearly : DataFrame
        Undiscounted value per outcome (rows, by outcome name) and project year (columns
        1..T, where T = max(start_year + duration_years)).
    inputs, discount_rate : float
        As passed.
    total_present_value : float
        Sum of the outcomes' present values.
    npv : float
        ``total_present_value - inputs``.
    ratio : float
        SROI ratio ``total_present_value / inputs``.
    payback_years : float
        ``inputs / annual impact``; ``inf`` if the annual impact is 0 (never pays back).
    mode : str
        ``"evaluative"`` or ``"forecast"`` (:data:`SROI_MODES`), as declared.
    discount_rate_source : str
        Where the rate comes from (:data:`DISCOUNT_RATES`), or that it was declared.
    """

    outcomes: pd.DataFrame
    yearly: pd.DataFrame
    inputs: float
    discount_rate: float
    total_present_value: float
    npv: float
    ratio: float
    payback_years: float
    annual_impact: float = field(default=float("nan"))
    mode: str = "evaluative"
    discount_rate_source: str = ""

    def summary(self) -> dict[str, float | str]:
        """The numbers and declarations results.json keeps (mode and rate source included)."""
        return {
            "mode": self.mode,
            "inputs": self.inputs,
            "discount_rate": self.discount_rate,
            "discount_rate_source": self.discount_rate_source,
            "present_value": self.total_present_value,
            "npv": self.npv,
            "ratio": self.ratio,
            "payback_years": self.payback_years,
        }

    @property
    def net_ratio(self) -> float:
        """Net SROI ratio ``NPV / inputs`` (the guide's alternative presentation)."""
        return self.npv / self.inputs

    @property
    def payback_months(self) -> float:
        """Payback period in months, as the guide states it: ``inputs / (annual impact / 12)``."""
        return self.payback_years * 12


def _check_mode(mode: str) -> str:
    if mode not in SROI_MODES:
        raise ValueError(f"mode must be one of {', '.join(SROI_MODES)}; got {mode!r}")
    return mode


def _rate_source(rate: float) -> str:
    named = discount_rate_named(rate)
    return named.source if named else f"declared rate {rate:g} (not one of the sourced rates in DISCOUNT_RATES)"


def sroi(
    value_map: ValueMap, inputs: float, discount_rate: float = DEFAULT_DISCOUNT_RATE, mode: str = "evaluative"
) -> SROIResult:
    """SROI ratio, present value, NPV and payback period of a value map.

    Formulas (per outcome ``o``, year ``t = 1..D_o``, start delay ``s_o``)::

        I_o   = quantity x financial_proxy x (1 - deadweight) x (1 - attribution)
                x (1 - displacement) x (1 - leakage)
        V_o,t = I_o x (1 - drop_off)^(t - 1)
        PV_o  = sum_t V_o,t / (1 + r)^(s_o + t)
        PV    = sum_o PV_o;   NPV = PV - inputs;   SROI ratio = PV / inputs
        payback (years) = inputs / sum_o I_o      (guide: months = inputs / (sum_o I_o / 12))

    Parameters
    ----------
    value_map : DataFrame or sequence of Outcome
        The outcomes (see :func:`value_map_frame`).
    inputs : float
        Value of the investment (all inputs, incl. in-kind), EUR, > 0.
    discount_rate : float
        Yearly real discount rate in [0, 1); default 0.0225, the Dutch standard discount
        rate (Werkgroep discontovoet 2020). The UK alternative is
        :data:`GREEN_BOOK_DISCOUNT_RATE` (3.5%).
    mode : "evaluative" or "forecast"
        Whether the value map holds outcomes that took place or outcomes expected; recorded
        in the result.

    Returns
    -------
    SROIResult

    Raises
    ------
    ValueError
        Invalid value map (row and field named), ``inputs <= 0``, a rate outside [0, 1)
        or an unknown mode.

    Notes
    -----
    Source: *A guide to Social Return on Investment*, The SROI Network / Social Value UK,
    2012, stages 4 (establishing impact) and 5 (calculating the SROI). The payback period
    uses the undiscounted first-year impact, as in the guide; it ignores drop-off and
    start delays and is a rough indicator only.

    Examples
    --------
    >>> vm = [Outcome("residents", "less isolation", "contacts", 10, 100.0, duration_years=2,
    ...               deadweight=0.2, drop_off=0.5)]
    >>> r = sroi(vm, inputs=500.0, discount_rate=0.0)
    >>> r.total_present_value, r.ratio, r.payback_years   # 800 + 400 = 1200
    (1200.0, 2.4, 0.625)
    """
    vm = value_map_frame(value_map)
    inputs = _check_inputs(inputs)
    rate = _check_rate(discount_rate)
    mode = _check_mode(mode)
    impact, pv = _present_value(
        vm["quantity"].to_numpy(),
        vm["financial_proxy"].to_numpy(),
        *(vm[c].to_numpy() for c in _SHARES),
        vm["duration_years"].to_numpy(),
        vm["start_year"].to_numpy(),
        rate,
    )
    out = vm.copy()
    out["impact"] = impact
    out["present_value"] = pv
    horizon = int((vm["start_year"] + vm["duration_years"]).max())
    years = np.arange(1, horizon + 1)
    rel = years[None, :] - vm["start_year"].to_numpy()[:, None]  # year of the outcome, 1-based
    active = (rel >= 1) & (rel <= vm["duration_years"].to_numpy()[:, None])
    values = np.where(active, impact[:, None] * (1 - vm["drop_off"].to_numpy()[:, None]) ** (rel - 1), 0.0)
    yearly = pd.DataFrame(values, index=pd.Index(vm["outcome"].tolist(), name="outcome"), columns=years)
    total = float(pv.sum())
    annual = float(impact.sum())
    return SROIResult(
        outcomes=out,
        yearly=yearly,
        inputs=inputs,
        discount_rate=rate,
        total_present_value=total,
        npv=total - inputs,
        ratio=total / inputs,
        payback_years=inputs / annual if annual > 0 else math.inf,
        annual_impact=annual,
        mode=mode,
        discount_rate_source=_rate_source(rate),
    )


# --- sensitivity ---------------------------------------------------------------------------

_FIELD_PARAMS = (*_MONEY, *_SHARES, "duration_years", "start_year")
_GLOBAL_PARAMS = ("discount_rate", "inputs", *_MULTIPLIERS)


def _parse_param(name: str, vm: pd.DataFrame) -> tuple[str, np.ndarray | None]:
    """Split ``"field"`` or ``"field:outcome"`` into the field and a row mask (None = all)."""
    base, _, target = name.partition(":")
    if base not in _FIELD_PARAMS and base not in _GLOBAL_PARAMS:
        raise ValueError(
            f"unknown sensitivity parameter {name!r}; use one of "
            f"{', '.join((*_FIELD_PARAMS, *_GLOBAL_PARAMS))}, optionally as 'field:outcome'"
        )
    if not target:
        return base, None
    if base in ("discount_rate", "inputs"):
        raise ValueError(f"parameter {base!r} applies to the whole map and takes no ':outcome'")
    mask = (vm["outcome"] == target).to_numpy()
    if not mask.any():
        raise ValueError(f"sensitivity parameter {name!r}: no outcome named {target!r} in the value map")
    return base, mask


def _apply(vm: pd.DataFrame, inputs: float, rate: float, name: str, value: float) -> tuple[pd.DataFrame, float, float]:
    base, mask = _parse_param(name, vm)
    if base == "discount_rate":
        return vm, inputs, value
    if base == "inputs":
        return vm, value, rate
    vm = vm.copy()
    rows = slice(None) if mask is None else mask
    if base in _MULTIPLIERS:
        col = _MULTIPLIERS[base]
        vm.loc[rows, col] = vm.loc[rows, col] * value
    else:
        vm.loc[rows, base] = value
    return vm, inputs, rate


def sroi_one_at_a_time(
    value_map: ValueMap,
    inputs: float,
    ranges: Mapping[str, tuple[float, float]],
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
) -> pd.DataFrame:
    """One-at-a-time sensitivity of the SROI ratio (tornado-diagram data).

    For each parameter, the SROI ratio is recomputed with the parameter at its low and at
    its high value, all other parameters at their base value.

    Parameters
    ----------
    value_map, inputs, discount_rate
        The base case, as in :func:`sroi`.
    ranges : mapping of str to (low, high)
        Parameter names:

        * a value-map field (``quantity``, ``financial_proxy``, ``deadweight``,
          ``attribution``, ``displacement``, ``leakage``, ``drop_off``, ``duration_years``,
          ``start_year``): set to the value for every outcome, or for one outcome with
          ``"field:outcome name"`` (e.g. ``"deadweight:less isolation"``);
        * ``proxy_multiplier`` / ``quantity_multiplier``: multiply every (or one, with
          ``":outcome"``) financial proxy / quantity;
        * ``discount_rate``, ``inputs``: replace the base value.

    Returns
    -------
    DataFrame
        ``parameter, low, high, ratio_low, ratio_high, base_ratio, swing`` with
        ``ratio_low`` the ratio at the *low parameter value* (not necessarily the lower
        ratio) and ``swing = |ratio_high - ratio_low|``; sorted by swing, largest first.

    Raises
    ------
    ValueError
        Unknown parameter or outcome, a range that is not (low, high) with low <= high, and
        any value that makes the value map invalid (named as in :func:`sroi`).

    Notes
    -----
    Source: the SROI guide (Social Value UK, 2012), stage 5.5, requires a sensitivity
    analysis of the estimates (deadweight, attribution, drop-off, proxies, quantities);
    the tornado diagram is the usual way to show one-at-a-time results.

    Examples
    --------
    >>> vm = [Outcome("residents", "less isolation", "contacts", 10, 100.0, deadweight=0.2)]
    >>> t = sroi_one_at_a_time(vm, 500.0, {"deadweight": (0.0, 0.5)}, discount_rate=0.0)
    >>> t[["parameter", "ratio_low", "ratio_high", "base_ratio"]]
        parameter  ratio_low  ratio_high  base_ratio
    0  deadweight        2.0         1.0         1.6
    """
    vm = value_map_frame(value_map)
    inputs = _check_inputs(inputs)
    rate = _check_rate(discount_rate)
    base_ratio = sroi(vm, inputs, rate).ratio
    rows = []
    for name, rng in ranges.items():
        try:
            low, high = (float(x) for x in rng)
        except (TypeError, ValueError):
            raise ValueError(f"range for {name!r} must be a pair (low, high), got {rng!r}") from None
        if low > high:
            raise ValueError(f"range for {name!r}: low ({low:g}) is above high ({high:g})")
        _parse_param(name, vm)
        ratios = []
        for v in (low, high):
            vm2, inp2, r2 = _apply(vm, inputs, rate, name, v)
            ratios.append(sroi(vm2, inp2, r2).ratio)
        rows.append((name, low, high, ratios[0], ratios[1], base_ratio, abs(ratios[1] - ratios[0])))
    cols = ["parameter", "low", "high", "ratio_low", "ratio_high", "base_ratio", "swing"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def plot_tornado(df: pd.DataFrame, ax: Axes | None = None, break_even: bool = True) -> Axes:
    """Tornado diagram of :func:`sroi_one_at_a_time` output.

    Each parameter is a horizontal bar from the ratio at its low value to the ratio at
    its high value, drawn around the base ratio (solid line); the largest swing is on top.
    A dashed line marks the break-even ratio 1.0.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`sroi_one_at_a_time`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made if omitted.
    break_even : bool
        Draw the line at SROI ratio 1.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Source: standard presentation of one-at-a-time sensitivity analysis; the SROI guide
    (2012) asks to report how far each estimate must change for the ratio to change.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> vm = [Outcome("residents", "less isolation", "contacts", 10, 100.0, deadweight=0.2)]
    >>> t = sroi_one_at_a_time(vm, 500.0, {"deadweight": (0.0, 0.5), "discount_rate": (0.0, 0.1)})
    >>> ax = plot_tornado(t)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['discount_rate (0-0.1)', 'deadweight (0-0.5)']
    """
    import matplotlib.pyplot as plt

    need = ["parameter", "low", "high", "ratio_low", "ratio_high", "base_ratio"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"tornado data is missing column(s): {', '.join(missing)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 * len(df) + 1.5))
    d = df.assign(_swing=(df["ratio_high"] - df["ratio_low"]).abs()).sort_values("_swing", kind="stable")
    base = float(d["base_ratio"].iloc[0]) if len(d) else float("nan")
    y = np.arange(len(d))
    ax.barh(y, d["ratio_low"] - base, left=base, color="#4c72b0", label="parameter at low value")
    ax.barh(y, d["ratio_high"] - base, left=base, color="#dd8452", label="parameter at high value")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{p} ({lo:g}-{hi:g})" for p, lo, hi in zip(d["parameter"], d["low"], d["high"], strict=True)])
    ax.axvline(base, color="black", lw=1, label=f"base ratio {base:.2f}")
    if break_even:
        ax.axvline(1.0, color="grey", ls="--", lw=1, label="break-even (1.0)")
    ax.set_xlabel("SROI ratio")
    ax.set_title("One-at-a-time sensitivity of the SROI ratio")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


@dataclass(frozen=True)
class MonteCarloResult:
    """Result of :func:`sroi_monte_carlo`.

    Attributes
    ----------
    median, q05, q95 : float
        Median and 5% / 95% quantiles of the SROI ratio (a 90% interval).
    p_ratio_above_1 : float
        Share of draws with ratio > 1 (social value exceeds the inputs).
    mean, base_ratio : float
        Mean of the draws and the deterministic base-case ratio.
    n, seed : int
        Number of draws and the seed used.
    ratios : ndarray
        All simulated ratios (length n).
    """

    median: float
    q05: float
    q95: float
    p_ratio_above_1: float
    mean: float
    base_ratio: float
    n: int
    seed: int
    ratios: np.ndarray = field(repr=False)

    def summary(self) -> dict[str, float]:
        """The headline numbers as a dict (for tables and reports)."""
        return {
            "base_ratio": self.base_ratio,
            "median": self.median,
            "q05": self.q05,
            "q95": self.q95,
            "p_ratio_above_1": self.p_ratio_above_1,
            "mean": self.mean,
            "n": self.n,
        }


def _draw(rng: np.random.Generator, name: str, spec: Sequence, n: int) -> tuple[np.ndarray, float, float]:
    """Draw n values; return them with the declared support (low, high)."""
    if not isinstance(spec, (tuple, list)) or not spec:
        raise ValueError(f"distribution for {name!r} must be a tuple like ('uniform', low, high)")
    kind, *args = spec
    try:
        args = [float(a) for a in args]
    except (TypeError, ValueError):
        raise ValueError(f"distribution for {name!r}: parameters must be numbers, got {args!r}") from None
    if kind == "uniform":
        if len(args) != 2 or args[0] > args[1]:
            raise ValueError(f"distribution for {name!r}: ('uniform', low, high) needs low <= high")
        return rng.uniform(args[0], args[1], size=n), args[0], args[1]
    if kind == "triangular":
        if len(args) != 3 or not args[0] <= args[1] <= args[2] or args[0] == args[2]:
            raise ValueError(f"distribution for {name!r}: ('triangular', low, mode, high) needs low <= mode <= high, low < high")
        return rng.triangular(args[0], args[1], args[2], size=n), args[0], args[2]
    raise ValueError(f"distribution for {name!r}: unknown kind {kind!r}; use 'uniform' or 'triangular'")


def sroi_monte_carlo(
    value_map: ValueMap,
    inputs: float,
    distributions: Mapping[str, tuple],
    n: int = 10_000,
    seed: int = 0,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
) -> MonteCarloResult:
    """Monte Carlo (probabilistic) sensitivity of the SROI ratio.

    Each draw samples every declared parameter independently, recomputes the SROI ratio
    (formulas in :func:`sroi`), and the draws are summarised by median, 5% and 95%
    quantiles (90% interval) and ``P(ratio > 1)``.

    Parameters
    ----------
    value_map, inputs, discount_rate
        The base case, as in :func:`sroi`; undeclared parameters stay at their base value.
    distributions : mapping of str to tuple
        Parameter name (as in :func:`sroi_one_at_a_time`, except ``duration_years`` and
        ``start_year``, which are integers) to ``("uniform", low, high)`` or
        ``("triangular", low, mode, high)``. A field without ``":outcome"`` takes the *same*
        draw for every outcome (perfect correlation across outcomes); multipliers multiply
        the base values.
    n : int
        Number of draws (>= 1).
    seed : int
        Seed of ``numpy.random.default_rng``; the result is deterministic given the seed.

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    ValueError
        Unknown parameter, outcome or distribution; a distribution whose support leaves the
        valid range (shares outside [0, 1], rate outside [0, 1), negative multiplier or
        money, inputs <= 0); invalid base case; ``n < 1``.

    Notes
    -----
    Source: the SROI guide (Social Value UK, 2012) requires sensitivity analysis; Monte
    Carlo simulation over declared input distributions is the probabilistic sensitivity
    analysis of health-economic and cost-benefit practice. Independence between
    parameters is an assumption; quantile method: numpy's default (linear).

    Examples
    --------
    >>> vm = [Outcome("residents", "less isolation", "contacts", 10, 100.0, deadweight=0.2)]
    >>> mc = sroi_monte_carlo(vm, 500.0, {"deadweight": ("uniform", 0.0, 0.4)}, n=2000, seed=1,
    ...                       discount_rate=0.0)
    >>> 1.2 <= mc.q05 < mc.median < mc.q95 <= 2.0, mc.p_ratio_above_1
    (True, 1.0)
    """
    vm = value_map_frame(value_map)
    inputs = _check_inputs(inputs)
    rate = _check_rate(discount_rate)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n}")
    n = int(n)
    base_ratio = sroi(vm, inputs, rate).ratio
    rng = np.random.default_rng(seed)
    k = len(vm)
    cols = {c: np.tile(vm[c].to_numpy(dtype=float), (n, 1)) for c in (*_MONEY, *_SHARES)}
    rates = np.full((n, 1), rate)
    inp = np.full(n, inputs)
    for name, spec in distributions.items():
        base, mask = _parse_param(name, vm)
        if base in ("duration_years", "start_year"):
            raise ValueError(f"parameter {name!r} is an integer; vary it with sroi_one_at_a_time")
        draws, lo, hi = _draw(rng, name, spec, n)
        if base in _SHARES and not (lo >= 0 and hi <= 1):
            raise ValueError(f"distribution for {name!r} must stay within [0, 1]")
        if base == "discount_rate" and not (lo >= 0 and hi < 1):
            raise ValueError(f"distribution for {name!r} must stay within [0, 1)")
        if base in (*_MONEY, *_MULTIPLIERS) and lo < 0:
            raise ValueError(f"distribution for {name!r} must stay >= 0")
        if base == "inputs" and lo <= 0:
            raise ValueError(f"distribution for {name!r} must stay > 0")
        sel = np.ones(k, dtype=bool) if mask is None else mask
        if base == "discount_rate":
            rates = draws[:, None]
        elif base == "inputs":
            inp = draws
        elif base in _MULTIPLIERS:
            col = _MULTIPLIERS[base]
            cols[col][:, sel] = cols[col][:, sel] * draws[:, None]
        else:
            cols[base][:, sel] = np.repeat(draws[:, None], sel.sum(), axis=1)
    _, pv = _present_value(
        cols["quantity"],
        cols["financial_proxy"],
        *(cols[c] for c in _SHARES),
        vm["duration_years"].to_numpy(),
        vm["start_year"].to_numpy(),
        rates,
    )
    ratios = pv.sum(axis=1) / inp
    q05, med, q95 = np.quantile(ratios, [0.05, 0.5, 0.95])
    return MonteCarloResult(
        median=float(med),
        q05=float(q05),
        q95=float(q95),
        p_ratio_above_1=float(np.mean(ratios > 1)),
        mean=float(ratios.mean()),
        base_ratio=float(base_ratio),
        n=n,
        seed=seed,
        ratios=ratios,
    )
