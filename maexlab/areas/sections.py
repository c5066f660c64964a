"""Notebook sections of 05_municipality_profile: one place against its province and the country.

Each section takes the report (``report.data`` is the place's data; the comparison data, the whole
dataset over the same period, is loaded once by :func:`open_profile`) and shows its heading,
explanation, tables, funnel plots, verdicts and findings in the report's language.

>>> from maexlab.areas import sections
>>> report = sections.open_profile(municipality="GM0344", output_dir=None)   # doctest: +SKIP
>>> for section in sections.SECTIONS:                                       # doctest: +SKIP
...     section(report)
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from maexlab.areas.estimates import AreaMeasure, area_estimates
from maexlab.areas.flags import expected_outside, lag_verdict, simple_position
from maexlab.areas.plots import plot_caterpillar, plot_funnel
from maexlab.areas.tables import comparison_rows, funnel_table, outliers, place_row
from maexlab.data import load
from maexlab.data.loader import normalise_municipality_code
from maexlab.reporting import Col, Needs, Reason, SectionOutput, open_report

__all__ = [
    "DEFAULT_MUNICIPALITY",
    "SECTIONS",
    "continuity_comparison",
    "funding_comparison",
    "impact_comparison",
    "open_profile",
    "place_overview",
    "valuation_comparison",
]

#: The notebook's default place: Utrecht (GM0344), a mid-sized municipality of the embedded data.
DEFAULT_MUNICIPALITY = "GM0344"
NOTEBOOK = "05_municipality_profile"
MEASURE_KIND = {
    "approval": "percent",
    "coverage": "percent",
    "survival_5y": "percent",
    "impact": "money",
    "assessments": "percent",
}


@dataclass
class Profile:
    """What the sections share: the place, the comparison data and the estimates per level."""

    level: str  # "municipality", "province" or "none"
    area: str | None
    name: str | None
    province: str | None
    comparison: object
    municipal: dict[str, AreaMeasure] = field(default_factory=dict)
    provincial: dict[str, AreaMeasure] = field(default_factory=dict)
    n_place: int = 0
    n_country: int = 0


_PROFILES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def resolve_place(full, province: str | None, municipality: str | None) -> tuple[str | None, str | None]:
    """The (province, municipality) to profile in the whole data ``full``.

    The municipality when it is given and lies in the given province (or no province is given);
    otherwise the province; with neither, the municipality with the most initiatives.
    """
    ini = full.tables.get("initiatives")
    if ini is None or "municipality_code" not in ini or not ini["municipality_code"].notna().any():
        return province, None
    if municipality is None:
        if province is not None:
            return province, None
        counts = ini["municipality_code"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
        return None, str(counts.index[0])
    try:
        code = normalise_municipality_code(municipality)
    except ValueError:
        code = municipality
    names = ini["municipality"] if "municipality" in ini else ini["municipality_code"]
    rows = ini[(ini["municipality_code"] == code) | (names == municipality)]
    if len(rows) == 0:
        return province, municipality  # the loader raises its clear error
    if province is not None and province not in set(rows["province"].dropna()):
        return province, None
    return None, str(rows["municipality_code"].iloc[0])


def open_profile(
    notebook: str = NOTEBOOK,
    *,
    data_source: str = "embedded",
    province: str | None = None,
    municipality: str | None = DEFAULT_MUNICIPALITY,
    period_start: int | None = None,
    period_end: int | None = None,
    min_group_size: int = 10,
    seed: int = 20261128,
    output_dir: str | None = None,
    language: str = "nl",
):
    """Open the report of one place and load the whole dataset (same period) to compare it with.

    The place is the municipality when it is given and lies in the given province (or no province
    is given); otherwise the province. With neither, the largest municipality is profiled.
    """
    period = None if period_start is None and period_end is None else (period_start, period_end)
    full = load(data_source, period=period)
    province, municipality = resolve_place(full, province, municipality)
    report = open_report(
        notebook,
        data_source=data_source,
        province=province,
        municipality=municipality,
        period_start=period_start,
        period_end=period_end,
        min_group_size=min_group_size,
        seed=seed,
        output_dir=output_dir,
        language=language,
        echo=False,
    )
    _PROFILES[report] = _build_profile(full, province, municipality)
    return report


def _build_profile(full, province: str | None, municipality: str | None) -> Profile:
    ini = full.tables.get("initiatives")
    n_country = 0 if ini is None else len(ini)
    if municipality is not None and ini is not None:
        rows = ini[ini["municipality_code"] == municipality]
        name = str(rows["municipality"].iloc[0]) if len(rows) and "municipality" in rows else municipality
        prov = str(rows["province"].iloc[0]) if len(rows) and rows["province"].notna().any() else None
        profile = Profile("municipality", municipality, name, prov, full, n_place=len(rows), n_country=n_country)
    elif province is not None and ini is not None:
        n_place = int((ini["province"] == province).sum())
        profile = Profile("province", province, province, province, full, n_place=n_place, n_country=n_country)
    else:
        profile = Profile("none", None, None, None, full, n_country=n_country)
    profile.municipal = area_estimates(full, "municipality")
    profile.provincial = area_estimates(full, "province")
    return profile


def profile_of(report) -> Profile:
    """The profile :func:`open_profile` prepared for ``report``; for a report opened otherwise
    (e.g. with :func:`maexlab.reporting.open_report`), the place is resolved from its parameters now."""
    if report not in _PROFILES:
        p = report.parameters
        start, end = p.get("period_start"), p.get("period_end")
        full = load(p.get("data_source") or "embedded", period=None if start is None and end is None else (start, end))
        province, municipality = resolve_place(full, p.get("province"), p.get("municipality"))
        _PROFILES[report] = _build_profile(full, province, municipality)
    return _PROFILES[report]


def _place_measures(profile: Profile) -> dict[str, AreaMeasure]:
    return profile.municipal if profile.level == "municipality" else profile.provincial


def _too_small(report, profile: Profile) -> Reason | None:
    if profile.level == "none":
        return Reason("areas.reasons.no_place", {})
    if profile.n_place < report.min_group_size:
        return Reason("areas.reasons.place_too_small", {"n": profile.n_place, "minimum": report.min_group_size})
    return None


COMPARISON_COLS = (
    Col("level", "text", label="areas.col.level"),
    Col("name", "text", label="areas.col.name"),
    Col("n", "count", label="areas.col.initiatives"),
    Col("units", "count", label="areas.col.units"),
)


def _comparison_columns(kind: str) -> list[Col]:
    return [
        *COMPARISON_COLS,
        Col("raw", kind, label="areas.col.raw", lo="raw_lo", hi="raw_hi", group=False),
        Col("shrunk", kind, label="areas.col.shrunk", lo="shrunk_lo", hi="shrunk_hi", group=False),
        Col("shrinkage", "percent", label="areas.col.shrinkage", group=False),
        Col("adjusted_ratio", "number2", label="areas.col.adjusted", lo="adjusted_lo", hi="adjusted_hi", group=False),
    ]


def _show_comparison(report, profile: Profile, measure: str, out: SectionOutput) -> pd.Series | None:
    """Show the place / province / country table of ``measure``; return the place's row (or None)."""
    est = _place_measures(profile).get(measure)
    row = None if est is None else place_row(est, profile.area)
    if row is None or not np.isfinite(row.get("shrunk", np.nan)):
        return None
    prov = profile.provincial.get(measure) if profile.level == "municipality" else None
    table = comparison_rows(est, profile.area, prov, profile.province, profile.n_country)
    table["level"] = [report.t(f"areas.level.{v}") for v in table["level"]]
    table["name"] = table["name"].fillna("")
    name = f"{measure}_comparison"
    out.tables[name] = report.show(table, name, _comparison_columns(MEASURE_KIND[measure]), keep=("level", "name"))
    adjustment = est.adjustment
    if adjustment:
        report.say("areas.adjustment_done", strata=", ".join(report.t(f"areas.stratum.{s}") for s in adjustment))
    else:
        report.say("areas.adjustment_none")
    return row


def _funnel(report, profile: Profile, measure: str, out: SectionOutput) -> dict | None:
    """Funnel plot of every municipality for ``measure`` and the table of places outside the limits."""
    est = profile.municipal.get(measure)
    if est is None:
        return None
    funnel, info = funnel_table(est, report.min_group_size)
    if len(funnel) < 3:
        report.not_computed("areas.section.funnel", Reason("areas.reasons.too_few_places", {"n": len(funnel), "minimum": 3}))
        return None
    label = report.t(f"areas.measure.{measure}")
    highlight = profile.area if profile.level == "municipality" else None
    fig = plot_funnel(funnel, info, highlight, report.language, label, MEASURE_KIND[measure])
    out.figures[f"funnel_{measure}"] = report.figure(fig, f"funnel_{measure}")
    if info.get("overdispersed"):
        report.say("areas.overdispersion_present", phi=info["phi"], p=info["p_value"])
    else:
        report.say("areas.overdispersion_absent", phi=info["phi"], p=info["p_value"])
    outside = outliers(funnel)
    report.say("areas.outside_caveat", outside=len(outside), places=len(funnel), expected=expected_outside(len(funnel)))
    if len(outside):
        shown = outside.assign(position=[report.t(f"areas.position.{p}") for p in outside["position"]])
        cols = [
            Col("area_name", "text", label="areas.col.name"),
            Col("province", "text", label="areas.col.province"),
            Col("n", "count", label="areas.col.initiatives"),
            Col("units", "count", label="areas.col.units"),
            Col("raw", MEASURE_KIND[measure], label="areas.col.raw", group=False),
            Col("lo95", MEASURE_KIND[measure], label="areas.col.lower95", group=False),
            Col("hi95", MEASURE_KIND[measure], label="areas.col.upper95", group=False),
            Col("position", "text", label="areas.col.position"),
        ]
        name = f"funnel_outside_{measure}"
        keep = ("area", "area_name", "province", "position")
        out.tables[name] = report.show(
            shown[["area", "area_name", "province", "n", "units", "raw", "lo95", "hi95", "position"]],
            name,
            cols,
            keep=keep,
        )
    position = "unknown"
    if highlight is not None and highlight in set(funnel["area"]):
        position = str(funnel.loc[funnel["area"] == highlight, "position"].iloc[0])
    info["position"] = position
    return info


def _record_measure(report, profile: Profile, measure: str, row: pd.Series | None, position: str | None = None) -> None:
    est = _place_measures(profile).get(measure)
    entry = {"national": None if est is None else est.national}
    if row is not None:
        entry.update(
            {
                k: row.get(k)
                for k in (
                    "n",
                    "units",
                    "raw",
                    "raw_lo",
                    "raw_hi",
                    "shrunk",
                    "shrunk_lo",
                    "shrunk_hi",
                    "shrinkage",
                    "oe_ratio",
                    "oe_lo",
                    "oe_hi",
                )
            }
        )
        entry["adjustment"] = list(est.adjustment)
    if position is not None:
        entry["funnel_position"] = position
    report.results.setdefault("areas", {})[measure] = entry


def _place_ready(report, profile: Profile, section: str, needs: Needs | None = None) -> bool:
    return report.check(section, needs, extra=[_too_small(report, profile)])


# --- sections ------------------------------------------------------------------------------


def place_overview(report) -> SectionOutput:
    """Who is profiled, how the comparison works, and the overview row for the run's index."""
    out = SectionOutput()
    profile = profile_of(report)
    report.heading("areas.section.overview")
    report.say("areas.method_intro")
    if profile.level == "none":
        report.not_computed("areas.section.overview", Reason("areas.reasons.no_place", {}))
        out.skipped.append(Reason("areas.reasons.no_place", {}))
        return out
    key = "areas.place_municipality" if profile.level == "municipality" else "areas.place_province"
    report.say(key, name=profile.name or "", province=profile.province or "", n=profile.n_place, country=profile.n_country)
    small = _too_small(report, profile)
    coverage = _place_measures(profile).get("coverage")
    row = place_row(coverage, profile.area) if coverage is not None and small is None else None
    funnel_position = "unknown"
    if coverage is not None and small is None:
        # a municipality's place in the funnel of municipalities, a province's in that of provinces
        funnel, _ = funnel_table(coverage, report.min_group_size)
        if len(funnel) >= 3 and profile.area in set(funnel["area"]):
            funnel_position = simple_position(str(funnel.loc[funnel["area"] == profile.area, "position"].iloc[0]))
    report.results["area_overview"] = {
        "municipality": profile.area,
        "level": profile.level,
        "name": profile.name,
        "initiatives": profile.n_place,
        "coverage_shrunk": None if row is None else row["shrunk"],
        "coverage_lo": None if row is None else row["shrunk_lo"],
        "coverage_hi": None if row is None else row["shrunk_hi"],
        "funnel_position": funnel_position,
    }
    if small is not None:
        report.not_computed("areas.section.overview", small)
        out.skipped.append(small)
        return out
    if row is not None:
        report.headline("areas.headline_coverage", row["shrunk"], "percent", row["shrunk_lo"], row["shrunk_hi"])
    verdicts = []
    for measure in ("approval", "coverage", "survival_5y", "impact"):
        est = _place_measures(profile).get(measure)
        r = place_row(est, profile.area) if est is not None else None
        claim = f"areas.claim.{measure}_lags"
        if r is None or est.national is None or not np.isfinite(r.get("shrunk", np.nan)):
            verdicts.append(lag_verdict(claim, None, None, None, None))
        elif measure == "impact":
            # compare on the log scale, where the interval is symmetric
            verdicts.append(
                lag_verdict(
                    claim,
                    float(np.log(r["shrunk"])),
                    float(np.log(r["shrunk_lo"])),
                    float(np.log(r["shrunk_hi"])),
                    float(np.log(est.national)),
                )
            )
        else:
            verdicts.append(
                lag_verdict(claim, float(r["shrunk"]), float(r["shrunk_lo"]), float(r["shrunk_hi"]), float(est.national))
            )
    out.verdicts = report.verdicts(verdicts)
    return out


def funding_comparison(report) -> SectionOutput:
    """Approval rate and funding coverage: the place, its province and the country; funnel plots."""
    out = SectionOutput()
    profile = profile_of(report)
    report.heading("areas.section.funding")
    report.say("areas.funding_intro")
    if not _place_ready(report, profile, "areas.section.funding", Needs({"funding": ("status", "amount_requested")})):
        return out
    for measure in ("approval", "coverage"):
        if measure not in _place_measures(profile):
            report.not_computed(f"areas.measure.{measure}", Reason("common.reasons.no_estimate", {}))
            continue
        report.heading(f"areas.measure.{measure}", level=3)
        row = _show_comparison(report, profile, measure, out)
        if row is None:
            report.not_computed(f"areas.measure.{measure}", Reason("areas.reasons.no_place_estimate", {}))
            _record_measure(report, profile, measure, None)
            continue
        info = _funnel(report, profile, measure, out)
        position = None if info is None else info.get("position")
        _record_measure(report, profile, measure, row, position)
        if row is not None and np.isfinite(row.get("shrunk", np.nan)):
            est = _place_measures(profile)[measure]
            _place_finding(
                report,
                measure,
                profile,
                row,
                est.national,
                position=report.t(f"areas.position.{position or 'unknown'}"),
            )
    return out


def valuation_comparison(report) -> SectionOutput:
    """Investor assessments: the share accepted in the place, its province and the country (where assessed)."""
    out = SectionOutput()
    profile = profile_of(report)
    report.heading("areas.section.valuation")
    report.say("areas.valuation_intro")
    if not _place_ready(report, profile, "areas.section.valuation", Needs({"assessments": ("decision",)})):
        return out
    row = _show_comparison(report, profile, "assessments", out)
    _record_measure(report, profile, "assessments", row)
    if row is None:
        report.not_computed("areas.section.valuation", Reason("areas.reasons.no_assessments", {}))
        return out
    est = _place_measures(profile)["assessments"]
    _place_finding(report, "valuation", profile, row, est.national)
    return out


def _place_finding(report, measure: str, profile, row, national: float | None, **extra) -> None:
    """The findings sentence ``areas.finding.<measure>``: the place's shrunk estimate with its
    interval, the raw estimate and the national value (a message uses the values it names)."""
    report.finding(
        f"areas.finding.{measure}",
        name=profile.name,
        shrunk=row["shrunk"],
        lo=row["shrunk_lo"],
        hi=row["shrunk_hi"],
        raw=row.get("raw"),
        national=national,
        **extra,
    )


def continuity_comparison(report) -> SectionOutput:
    """Five-year survival (Kaplan-Meier, delayed entry): place, province, country, and every municipality."""
    out = SectionOutput()
    profile = profile_of(report)
    report.heading("areas.section.continuity")
    report.say("areas.continuity_intro")
    if not _place_ready(report, profile, "areas.section.continuity", Needs({"initiatives": ("founded_on", "observed_until")})):
        return out
    est = _place_measures(profile).get("survival_5y")
    row = _show_comparison(report, profile, "survival_5y", out) if est is not None else None
    if row is None:
        report.not_computed("areas.measure.survival_5y", Reason("areas.reasons.survival_not_estimable", {"minimum": 5}))
        _record_measure(report, profile, "survival_5y", None)
        return out
    info = _funnel(report, profile, "survival_5y", out)
    _record_measure(report, profile, "survival_5y", row, None if info is None else info.get("position"))
    shown = profile.municipal["survival_5y"].table
    shown = shown[shown["n"] >= report.min_group_size]
    if len(shown) >= 3:
        label = report.t("areas.measure.survival_5y")
        fig = plot_caterpillar(shown, est.national, profile.area, report.language, label)
        out.figures["caterpillar_survival_5y"] = report.figure(fig, "caterpillar_survival_5y")
    _place_finding(report, "survival_5y", profile, row, est.national)
    return out


def impact_comparison(report) -> SectionOutput:
    """Impact value per initiative (geometric mean, latest full year): place, province, country."""
    out = SectionOutput()
    profile = profile_of(report)
    report.heading("areas.section.impact")
    report.say("areas.impact_intro")
    if not _place_ready(report, profile, "areas.section.impact", Needs({"impact": ("year", "indicator", "quantity")})):
        return out
    est = _place_measures(profile).get("impact")
    row = _show_comparison(report, profile, "impact", out) if est is not None else None
    _record_measure(report, profile, "impact", row)
    if row is None:
        report.not_computed("areas.measure.impact", Reason("areas.reasons.no_place_estimate", {}))
        return out
    shown = profile.municipal["impact"].table
    shown = shown[shown["n"] >= report.min_group_size]
    if len(shown) >= 3:
        fig = plot_caterpillar(shown, est.national, profile.area, report.language, report.t("areas.measure.impact"), "money")
        out.figures["caterpillar_impact"] = report.figure(fig, "caterpillar_impact")
    _place_finding(report, "impact", profile, row, est.national, ratio=row.get("oe_ratio"))
    return out


SECTIONS = (place_overview, funding_comparison, valuation_comparison, continuity_comparison, impact_comparison)
