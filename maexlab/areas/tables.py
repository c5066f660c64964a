"""Tables of the municipality profile: the place against its province and the country, funnel outliers, all places.

Every table has the count column ``n`` (initiatives), so :meth:`maexlab.reporting.Report.show`
hides places below the minimum group size.

>>> import pandas as pd
>>> from maexlab.areas.estimates import AreaMeasure
>>> t = pd.DataFrame({"area": ["A"], "area_name": ["A"], "province": ["P"], "n": [12], "units": [30],
...                   "raw": [0.5], "raw_lo": [0.3], "raw_hi": [0.7], "shrunk": [0.55], "shrunk_lo": [0.4],
...                   "shrunk_hi": [0.7], "shrinkage": [0.4]})
>>> comparison_rows(AreaMeasure("approval", "municipality", t, 0.6), "A", None)["level"].tolist()
['place', 'country']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maexlab.areas.estimates import AreaMeasure
from maexlab.areas.funnel import LEVELS, binomial_limits, funnel_positions, normal_limits, overdispersion

__all__ = ["comparison_rows", "funnel_table", "outliers", "place_row"]

COMPARISON_COLUMNS = [
    "level",
    "name",
    "n",
    "units",
    "raw",
    "raw_lo",
    "raw_hi",
    "shrunk",
    "shrunk_lo",
    "shrunk_hi",
    "shrinkage",
    "adjusted_ratio",
    "adjusted_lo",
    "adjusted_hi",
]


def place_row(measure: AreaMeasure, area: str) -> pd.Series | None:
    """The row of ``area`` in a measure's table, or None when the place has no estimate."""
    t = measure.table
    if "area" not in t or area not in set(t["area"]):
        return None
    return t[t["area"] == area].iloc[0]


def _row(level: str, name: str, r: pd.Series | None) -> dict:
    if r is None:
        return {"level": level, "name": name}
    get = lambda c: r.get(c, np.nan)  # noqa: E731
    return {
        "level": level,
        "name": name,
        "n": int(r["n"]),
        "units": int(r["units"]),
        "raw": get("raw"),
        "raw_lo": get("raw_lo"),
        "raw_hi": get("raw_hi"),
        "shrunk": get("shrunk"),
        "shrunk_lo": get("shrunk_lo"),
        "shrunk_hi": get("shrunk_hi"),
        "shrinkage": get("shrinkage"),
        "adjusted_ratio": get("oe_ratio"),
        "adjusted_lo": get("oe_lo"),
        "adjusted_hi": get("oe_hi"),
    }


def comparison_rows(
    measure: AreaMeasure, area: str, province: AreaMeasure | None, province_name: str | None = None, n_country: int | None = None
) -> pd.DataFrame:
    """The place, its province (when it has an estimate) and the country for one measure, one row each.

    ``level`` is ``place``, ``province`` or ``country``; the country row holds the national value
    (no shrinkage: it is the reference).
    """
    r = place_row(measure, area)
    rows = [_row("place", str(r["area_name"]) if r is not None else area, r)]
    province_row = place_row(province, province_name) if province is not None and province_name is not None else None
    if province_row is not None:
        rows.append(_row("province", str(province_name), province_row))
    rows.append(
        {
            "level": "country",
            "name": "",
            "n": n_country if n_country is not None else int(measure.table["n"].sum()) if "n" in measure.table else None,
            "units": int(measure.table["units"].sum()) if "units" in measure.table and len(measure.table) else None,
            "raw": measure.national,
            "raw_lo": measure.national_lo,
            "raw_hi": measure.national_hi,
        }
    )
    return pd.DataFrame(rows).reindex(columns=COMPARISON_COLUMNS)


def funnel_table(measure: AreaMeasure, min_group_size: int) -> tuple[pd.DataFrame, dict]:
    """Each place's funnel limits and position for a rate (exact binomial) or a ratio (normal, overdispersion).

    Returns the table (one row per place with ``n >= min_group_size``) and the funnel's settings:
    ``kind`` (binomial or normal), the national value, overdispersion (phi, p-value, tau2) and the
    spread constant of the normal funnel. Approval uses exact binomial limits unless Spiegelhalter's
    overdispersion test fires, when both approval and ratio funnels use the additive random-effects
    limits ``theta +/- z sqrt(se^2 + tau2)``.
    """
    t = measure.table
    info: dict = {"measure": measure.measure, "national": measure.national}
    if measure.national is None or len(t) == 0 or "raw" not in t:
        return t.iloc[0:0], info
    t = t[(t["n"] >= min_group_size) & np.isfinite(t["raw"])].reset_index(drop=True)
    theta = float(measure.national)
    units = t["units"].to_numpy(float)
    if measure.measure == "approval":
        se = np.sqrt(theta * (1 - theta) / units)
        spread = theta * (1 - theta)
    else:
        # the spread per unit that makes se = sqrt(spread / units): the median over places
        spread = float(np.median(units * t["se"].to_numpy(float) ** 2)) if len(t) else np.nan
        se = np.sqrt(spread / units)
    od = overdispersion(t["raw"].to_numpy(float), se, theta)
    info.update(
        kind="binomial" if measure.measure == "approval" and not od.present else "normal",
        phi=od.phi,
        p_value=od.p_value,
        tau2=od.tau2,
        overdispersed=od.present,
        spread=spread,
        places=len(t),
    )
    limits = {}
    for level in LEVELS:
        if info["kind"] == "binomial":
            limits[level] = binomial_limits(theta, units, level)
        else:
            # every funnel here is of a share, which cannot leave [0, 1]
            limits[level] = tuple(np.clip(x, 0.0, 1.0) for x in normal_limits(theta, se, level, od.tau2))
    t = t.assign(lo95=limits[LEVELS[0]][0], hi95=limits[LEVELS[0]][1], lo998=limits[LEVELS[1]][0], hi998=limits[LEVELS[1]][1])
    t["position"] = funnel_positions(t["raw"].to_numpy(float), t["lo95"], t["hi95"], t["lo998"], t["hi998"])
    return t, info


def outliers(funnel: pd.DataFrame) -> pd.DataFrame:
    """The places outside the 95% limits, furthest first."""
    out = funnel[funnel["position"] != "within"] if len(funnel) else funnel
    if len(out) == 0:
        return out
    centre = (out["lo95"] + out["hi95"]) / 2
    return out.assign(_d=(out["raw"] - centre).abs()).sort_values("_d", ascending=False).drop(columns="_d").reset_index(drop=True)
