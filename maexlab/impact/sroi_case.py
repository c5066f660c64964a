"""The SROI worked example of notebook 04: declared assumptions and a value map built from the data.

The declared group is the work-participation initiatives that report people moved into paid
work in the latest full year and have financials that year; its outcome is valued at the
``people_to_work`` proxy and its inputs are the group's costs. Deadweight, attribution,
displacement, leakage, drop-off and duration have no source in the project's domain notes:
they are declared ASSUMPTIONS and varied widely in the sensitivity analysis. The discount
rate is sourced (:data:`maexlab.impact.sroi.DISCOUNT_RATES`).

>>> [a.parameter for a in SROI_ASSUMPTIONS][:3]
['deadweight', 'attribution', 'displacement']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from maexlab.impact.metrics import impact_value
from maexlab.impact.sroi import DEFAULT_DISCOUNT_RATE, DUTCH_DISCOUNT_RATE, GREEN_BOOK_DISCOUNT_RATE

__all__ = [
    "SROI_ASSUMPTIONS",
    "Assumption",
    "SROICase",
    "assumptions_table",
    "build_sroi_case",
    "mc_distributions",
    "sroi_group",
    "tornado_ranges",
]


@dataclass(frozen=True)
class Assumption:
    """One declared SROI parameter: base value, sensitivity range and where it comes from.

    ``source`` starts with ``"ASSUMPTION"`` when no source backs the number
    (:attr:`sourced` is then False).
    """

    parameter: str
    value: float
    low: float
    high: float
    source: str
    in_monte_carlo: bool = True

    @property
    def sourced(self) -> bool:
        return not self.source.startswith("ASSUMPTION")


#: Declared assumptions for the work-participation SROI example. None of the deadweight,
#: attribution, displacement, leakage, drop-off and duration values has a source in the
#: project's domain notes: they are marked ASSUMPTION and varied widely. The discount rate
#: is the Dutch standard rate, varied between the Dutch risk-free rate and the Green Book rate.
SROI_ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "deadweight", 0.30, 0.10, 0.50, "ASSUMPTION: share of people who would have found work anyway without the initiative"
    ),
    Assumption("attribution", 0.20, 0.00, 0.40, "ASSUMPTION: share of the outcome owed to others (municipality, UWV, employers)"),
    Assumption("displacement", 0.10, 0.00, 0.25, "ASSUMPTION: share of the jobs that displace other job seekers"),
    Assumption(
        "leakage",
        0.10,
        0.00,
        0.30,
        "ASSUMPTION: share of the people placed who were not on benefits (outside the target group), so no saving",
    ),
    Assumption("drop_off", 0.25, 0.00, 0.50, "ASSUMPTION: yearly share of people leaving work again after year 1"),
    Assumption(
        "duration_years",
        3,
        1,
        5,
        "ASSUMPTION: years the benefit saving lasts (integer; one-at-a-time only)",
        in_monte_carlo=False,
    ),
    Assumption(
        "proxy_multiplier",
        1.0,
        0.5,
        1.5,
        "Proxy from the proxies table (its source says 'indicative, order of magnitude'); the +/-50% range is an ASSUMPTION",
    ),
    Assumption(
        "discount_rate",
        DEFAULT_DISCOUNT_RATE,
        0.0,
        GREEN_BOOK_DISCOUNT_RATE,
        f"{DUTCH_DISCOUNT_RATE:.2%}: Dutch standard discount rate (Werkgroep discontovoet 2020); range from 0% "
        f"(the Dutch risk-free rate, same advice) to {GREEN_BOOK_DISCOUNT_RATE:.1%} (HM Treasury Green Book)",
    ),
)


def assumptions_table(assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS) -> pd.DataFrame:
    """The declared assumptions as a table (``parameter, value, low, high, source, sourced, monte_carlo``).

    Examples
    --------
    >>> assumptions_table()["parameter"].tolist()[:2]
    ['deadweight', 'attribution']
    """
    return pd.DataFrame(
        [(a.parameter, a.value, a.low, a.high, a.source, a.sourced, a.in_monte_carlo) for a in assumptions],
        columns=["parameter", "value", "low", "high", "source", "sourced", "monte_carlo"],
    )


def _assumption(assumptions: Sequence[Assumption], name: str, default: float) -> float:
    for a in assumptions:
        if a.parameter == name:
            return a.value
    return default


def tornado_ranges(assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS) -> dict[str, tuple[float, float]]:
    """``{parameter: (low, high)}`` for :func:`maexlab.impact.sroi.sroi_one_at_a_time`.

    Examples
    --------
    >>> tornado_ranges()["deadweight"]
    (0.1, 0.5)
    """
    return {a.parameter: (a.low, a.high) for a in assumptions}


def mc_distributions(assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS) -> dict[str, tuple]:
    """``{parameter: ("triangular", low, mode, high)}`` for :func:`maexlab.impact.sroi.sroi_monte_carlo`.

    Integer parameters (``in_monte_carlo=False``) stay at their base value.

    Examples
    --------
    >>> mc_distributions()["attribution"]
    ('triangular', 0.0, 0.2, 0.4)
    """
    return {a.parameter: ("triangular", a.low, a.value, a.high) for a in assumptions if a.in_monte_carlo}


def sroi_group(
    impact: pd.DataFrame,
    initiatives: pd.DataFrame,
    financials: pd.DataFrame,
    year: int,
    theme: str = "work_participation",
    indicator: str = "people_to_work",
) -> list[str]:
    """Initiatives of the declared SROI group: ``theme``, reporting ``indicator`` in ``year``, with financials that year.

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A", "B"], "year": [2025, 2025],
    ...     "indicator": ["people_to_work"] * 2, "quantity": [1.0, 2.0]})
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B"], "theme": ["work_participation"] * 2})
    >>> fin = pd.DataFrame({"initiative_id": ["A"], "year": [2025], "costs": [10.0]})
    >>> sroi_group(impact, inits, fin, 2025)
    ['A']
    """
    reported = impact.loc[(impact["year"] == year) & (impact["indicator"] == indicator), "initiative_id"]
    members = set(initiatives.loc[initiatives["theme"] == theme, "initiative_id"])
    with_costs = financials.loc[financials["year"] == year, "initiative_id"]
    return sorted(set(reported) & members & set(with_costs))


@dataclass(frozen=True)
class SROICase:
    """An SROI value map built from the data for one declared group.

    Attributes
    ----------
    year, theme, indicator : the declared group and outcome.
    initiative_ids : initiatives in the group (report ``indicator`` in ``year`` and have
        financials that year).
    n : number of initiatives in the group.
    quantity : summed indicator quantity of the group in ``year``.
    financial_proxy, proxy_source : from the proxies table.
    inputs : the group's total costs in ``year`` (financials), EUR.
    value_map : one-row value map (DataFrame) for :func:`maexlab.impact.sroi.sroi`.
    discount_rate : from the assumptions.
    mode : ``"evaluative"``: the quantity is what the data records for ``year``; values in
        later years follow from the declared duration and drop-off.
    """

    year: int
    theme: str
    indicator: str
    initiative_ids: tuple[str, ...]
    n: int
    quantity: float
    financial_proxy: float
    proxy_source: str
    inputs: float
    value_map: pd.DataFrame
    discount_rate: float
    mode: str = "evaluative"


def build_sroi_case(
    impact: pd.DataFrame,
    proxies: pd.DataFrame,
    initiatives: pd.DataFrame,
    financials: pd.DataFrame,
    year: int,
    theme: str = "work_participation",
    indicator: str = "people_to_work",
    stakeholder: str = "participants moved into paid work",
    outcome: str = "into paid work",
    assumptions: Sequence[Assumption] = SROI_ASSUMPTIONS,
) -> SROICase:
    """Build the value map of a declared group from the data.

    Group: initiatives with ``theme`` that report ``indicator`` in ``year`` and have a
    financials row that year (so outcomes and inputs cover the same initiatives).
    ``quantity`` = their summed indicator quantity that year; ``financial_proxy`` = the
    proxy of ``indicator``; ``inputs`` = their summed ``costs`` that year (all costs, so
    outcomes other than ``indicator`` are not valued: a conservative ratio). Deadweight,
    attribution, displacement, leakage, drop-off, duration and discount rate come from
    ``assumptions``.

    Raises
    ------
    ValueError
        If the group is empty or its costs are 0.

    Examples
    --------
    >>> impact = pd.DataFrame({"initiative_id": ["A", "B", "C"], "year": [2025] * 3,
    ...     "indicator": ["people_to_work"] * 3, "quantity": [2.0, 3.0, 9.0]})
    >>> proxies = pd.DataFrame({"indicator": ["people_to_work"], "unit": ["person"],
    ...     "euro_per_unit": [15000.0], "source": ["s"]})
    >>> inits = pd.DataFrame({"initiative_id": ["A", "B", "C"],
    ...     "theme": ["work_participation", "work_participation", "care_wellbeing"]})
    >>> fin = pd.DataFrame({"initiative_id": ["A", "B", "C"], "year": [2025] * 3, "costs": [10.0, 20.0, 5.0]})
    >>> c = build_sroi_case(impact, proxies, inits, fin, 2025)
    >>> c.n, c.quantity, c.inputs, float(c.value_map.loc[0, "deadweight"])
    (2, 5.0, 30.0, 0.3)
    """
    ids = sroi_group(impact, initiatives, financials, year, theme=theme, indicator=indicator)
    if not ids:
        raise ValueError(f"no initiative with theme {theme!r} reports {indicator!r} and financials in {year}")
    valued = impact_value(impact[(impact["year"] == year) & (impact["indicator"] == indicator)], proxies)
    fin = financials[financials["year"] == year]
    quantity = float(pd.to_numeric(valued.loc[valued["initiative_id"].isin(ids), "quantity"]).sum())
    inputs = float(pd.to_numeric(fin.loc[fin["initiative_id"].isin(ids), "costs"]).sum())
    if not inputs > 0:
        raise ValueError(f"the group's costs in {year} are {inputs:g}; SROI needs inputs > 0")
    px = proxies.set_index("indicator")
    proxy = float(px.loc[indicator, "euro_per_unit"])
    vm = pd.DataFrame(
        [
            {
                "stakeholder": stakeholder,
                "outcome": outcome,
                "indicator": indicator,
                "quantity": quantity,
                "financial_proxy": proxy,
                "duration_years": int(_assumption(assumptions, "duration_years", 1)),
                "deadweight": _assumption(assumptions, "deadweight", 0.0),
                "attribution": _assumption(assumptions, "attribution", 0.0),
                "displacement": _assumption(assumptions, "displacement", 0.0),
                "leakage": _assumption(assumptions, "leakage", 0.0),
                "drop_off": _assumption(assumptions, "drop_off", 0.0),
                "start_year": 0,
            }
        ]
    )
    mult = _assumption(assumptions, "proxy_multiplier", 1.0)
    vm["financial_proxy"] = vm["financial_proxy"] * mult
    return SROICase(
        year=int(year),
        theme=theme,
        indicator=indicator,
        initiative_ids=tuple(ids),
        n=len(ids),
        quantity=quantity,
        financial_proxy=proxy,
        proxy_source=str(px.loc[indicator, "source"]),
        inputs=inputs,
        value_map=vm,
        discount_rate=_assumption(assumptions, "discount_rate", DEFAULT_DISCOUNT_RATE),
    )
