"""Start-stop (counting-process) rows for Cox models with time-varying covariates.

:func:`counting_process` splits each initiative's follow-up (from entry) at phase changes,
funding decision dates and calendar-year boundaries, so that "organisational-strengthening
funding received", "multi-year funding received", the current phase and the subsidy share of
the current year's income are known on each interval (:data:`COX_COVARIATES`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from maexlab.data.schema import ACTIVE_PHASES
from maexlab.survival.multistate import DAYS_PER_YEAR, frame

__all__ = [
    "COX_COVARIATES",
    "PHASE_DUMMIES",
    "counting_process",
    "first_grant_dates",
]

#: Covariates of the time-varying Cox model and what they mean.
COX_COVARIATES: dict[str, str] = {
    "org_strengthening_received": "organisational-strengthening funding granted (from its decision date)",
    "multi_year_received": "multi-year funding granted (from its decision date)",
    "subsidy_share": "subsidies / total income in the current calendar year (0-1)",
    "log_volunteers_per_fte": "log(1 + volunteers per paid FTE), FTE floored at 0.5",
    "phase_plan": "current phase plan (vs the reference phase, see phase_reference)",
    "phase_start": "current phase start (vs the reference phase)",
    "phase_growth": "current phase growth (vs the reference phase)",
    "phase_mature": "current phase mature (vs the reference phase)",
    "hybrid": "hybrid value model (vs social)",
    "commercial": "commercial value model (vs social)",
}


#: Indicator columns of the current phase made by :func:`counting_process` (one per phase).
PHASE_DUMMIES: tuple[str, ...] = tuple(f"phase_{p}" for p in ACTIVE_PHASES)


def first_grant_dates(funding: pd.DataFrame) -> pd.DataFrame:
    """Per initiative: first decision date of granted (or partly granted) organisational-strengthening
    funding, and of granted multi-year funding."""
    ok = funding["status"].isin(["granted", "partial"]) & funding["decided_on"].notna()
    org = funding[ok & (funding["purpose"] == "organisational_strengthening")].groupby("initiative_id")["decided_on"].min()
    # without a recorded multi_year flag no grant counts as multi-year (the covariate then never varies)
    multi_flag = funding["multi_year"] if "multi_year" in funding else pd.Series(False, index=funding.index)
    multi_flag = multi_flag.astype("boolean").fillna(False).astype(bool)
    multi = funding[ok & multi_flag].groupby("initiative_id")["decided_on"].min()
    return pd.DataFrame({"org_date": org, "multi_date": multi}).rename_axis("initiative_id").reset_index()


def counting_process(
    initiatives: pd.DataFrame,
    phases: pd.DataFrame | None = None,
    funding: pd.DataFrame | None = None,
    financials: pd.DataFrame | None = None,
    extra_cuts: Sequence[float] = (),
) -> pd.DataFrame:
    """Start-stop rows (years since founding) from delayed entry to closure or censoring.

    Rows are split at phase entries, at the decision dates of the first granted
    organisational-strengthening and multi-year funding, at 1 January of every year (for the
    yearly subsidy share), and at ``extra_cuts`` (years since founding, used for time-split PH
    checks). Columns: ``initiative_id, start, stop, event`` plus the covariates in
    :data:`COX_COVARIATES` that the given tables allow. The first interval starts at entry
    (``joined_on``), not at founding: this is how delayed entry enters the Cox model.

    ``subsidy_share`` on an interval is that of its calendar year, or of the latest earlier year
    with financials when the year has none (carried forward, never taken from a later year, which
    would let the future inform the covariate). Before an initiative's first year with financials
    it is missing; :func:`fit_cox_tv` leaves such intervals out and reports how many
    (:func:`missing_covariates`).
    """
    fr = initiatives[["initiative_id", "founded_on"]].merge(
        frame(initiatives).drop(columns=["founded_on", "observed_until"]), on="initiative_id"
    )
    fr["entry_d"] = np.round(fr["entry"] * DAYS_PER_YEAR).astype(int)
    fr["end_d"] = np.round(fr["end"] * DAYS_PER_YEAR).astype(int)
    fr = fr[fr["end_d"] > fr["entry_d"]].reset_index(drop=True)
    cuts = [
        fr[["initiative_id", "entry_d"]].rename(columns={"entry_d": "day"}),
        fr[["initiative_id", "end_d"]].rename(columns={"end_d": "day"}),
    ]
    # calendar-year boundaries
    y0 = (fr["founded_on"] + pd.to_timedelta(fr["entry_d"], unit="D")).dt.year + 1
    y1 = (fr["founded_on"] + pd.to_timedelta(fr["end_d"], unit="D")).dt.year
    reps = (y1 - y0 + 1).clip(lower=0).to_numpy()
    yb = pd.DataFrame(
        {
            "initiative_id": np.repeat(fr["initiative_id"].to_numpy(), reps),
            "founded_on": np.repeat(fr["founded_on"].to_numpy(), reps),
        }
    )
    yb["year"] = np.concatenate(
        [np.arange(a, b + 1) for a, b in zip(y0, y1, strict=True) if b >= a] or [np.array([], dtype=int)]
    ).astype(int)
    yb["day"] = (pd.to_datetime(yb["year"].astype(str) + "-01-01") - yb["founded_on"]).dt.days
    cuts.append(yb[["initiative_id", "day"]])
    for t in extra_cuts:
        cuts.append(pd.DataFrame({"initiative_id": fr["initiative_id"], "day": int(round(t * DAYS_PER_YEAR))}))
    ph = None
    if phases is not None and len(phases):
        ph = phases[phases["phase"].isin(ACTIVE_PHASES)].merge(fr[["initiative_id", "founded_on"]], on="initiative_id")
        ph["day"] = (ph["entered_on"] - ph["founded_on"]).dt.days.clip(lower=0)
        ph["_o"] = ph["phase"].map({p: i for i, p in enumerate(ACTIVE_PHASES)})
        ph = ph.sort_values(["initiative_id", "day", "_o"]).drop_duplicates(["initiative_id", "day"], keep="last")
        cuts.append(ph[["initiative_id", "day"]])
    grants = None
    if funding is not None:
        grants = first_grant_dates(funding).merge(fr[["initiative_id", "founded_on"]], on="initiative_id")
        for c in ("org", "multi"):
            grants[f"{c}_d"] = (grants[f"{c}_date"] - grants["founded_on"]).dt.days
            cuts.append(grants[["initiative_id", f"{c}_d"]].dropna().rename(columns={f"{c}_d": "day"}).astype({"day": int}))
    allc = pd.concat(cuts, ignore_index=True).merge(fr[["initiative_id", "entry_d", "end_d"]], on="initiative_id")
    allc = allc[(allc["day"] >= allc["entry_d"]) & (allc["day"] <= allc["end_d"])]
    allc = allc.drop_duplicates(["initiative_id", "day"]).sort_values(["initiative_id", "day"], kind="stable")
    allc["stop_d"] = allc.groupby("initiative_id")["day"].shift(-1)
    cp = allc.dropna(subset=["stop_d"]).rename(columns={"day": "start_d"})
    cp["stop_d"] = cp["stop_d"].astype(int)
    cp = cp.merge(fr[["initiative_id", "founded_on", "closed"]], on="initiative_id")
    cp["event"] = (cp["closed"] & (cp["stop_d"] == cp["end_d"])).astype(int)
    cp = cp.sort_values(["initiative_id", "start_d"], kind="stable").reset_index(drop=True)
    if grants is not None:
        cp = cp.merge(grants[["initiative_id", "org_d", "multi_d"]], on="initiative_id", how="left")
        cp["org_strengthening_received"] = (cp["start_d"] >= cp["org_d"]).astype(int)
        cp["multi_year_received"] = (cp["start_d"] >= cp["multi_d"]).astype(int)
    if ph is not None:
        cp = pd.merge_asof(
            cp.sort_values("start_d"),
            ph[["initiative_id", "day", "phase"]].sort_values("day"),
            left_on="start_d",
            right_on="day",
            by="initiative_id",
            direction="backward",
        ).drop(columns="day")
        first = ph.sort_values("day").drop_duplicates("initiative_id").set_index("initiative_id")["phase"]
        cp["phase"] = cp["phase"].fillna(cp["initiative_id"].map(first))
        for p in ACTIVE_PHASES:
            cp[f"phase_{p}"] = (cp["phase"] == p).astype(int)
        cp = cp.sort_values(["initiative_id", "start_d"], kind="stable").reset_index(drop=True)
    if financials is not None and len(financials):
        f = financials[["initiative_id", "year", "subsidies", "revenue"]].copy()
        f["subsidy_share"] = np.where(f["revenue"] > 0, f["subsidies"] / f["revenue"].where(f["revenue"] > 0), 0.0)
        cp["year"] = (cp["founded_on"] + pd.to_timedelta(cp["start_d"], unit="D")).dt.year.astype(int)
        cp = pd.merge_asof(
            cp.sort_values("year"),
            f[["initiative_id", "year", "subsidy_share"]].astype({"year": int}).sort_values("year"),
            on="year",
            by="initiative_id",
            direction="backward",  # the latest year with financials up to this one, never a later year
        )
        cp = cp.sort_values(["initiative_id", "start_d"], kind="stable").reset_index(drop=True)
    if {"volunteers", "paid_staff_fte"} <= set(initiatives.columns):
        v = initiatives.set_index("initiative_id")
        ratio = v["volunteers"].astype("float64") / v["paid_staff_fte"].astype("float64").clip(lower=0.5)
        cp["log_volunteers_per_fte"] = cp["initiative_id"].map(np.log1p(ratio))
    if "value_model" in initiatives:
        vm = cp["initiative_id"].map(initiatives.set_index("initiative_id")["value_model"])
        cp["hybrid"] = (vm == "hybrid").astype(int)
        cp["commercial"] = (vm == "commercial").astype(int)
    cp["start"] = cp["start_d"] / DAYS_PER_YEAR
    cp["stop"] = cp["stop_d"] / DAYS_PER_YEAR
    keep = ["initiative_id", "start", "stop", "event"] + [c for c in COX_COVARIATES if c in cp.columns]
    return cp[keep].reset_index(drop=True)
