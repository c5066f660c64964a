"""The sections of notebook 04 (impact value, SROI, volunteer time, MAEX ratios), one function each.

Each section takes the :class:`~maexlab.reporting.Report` (``report.data`` is the loaded
data), shows its heading and explanation in the report's language, checks its preconditions
(declared here, never in the notebook), publishes its tables and figures, adds its findings
and headlines, and returns a :class:`~maexlab.reporting.SectionOutput`. :data:`SECTIONS`
lists them in notebook order, for the notebook and the degenerate-data battery.

Declared ASSUMPTIONS (hours per volunteer, the opportunity-cost rate, the SROI shares, the
social-return contract) are module constants below, and every table that uses one labels it
as an assumption.

>>> from maexlab.reporting import open_report           # doctest: +SKIP
>>> report = open_report("04_impact_value", intro=True)  # doctest: +SKIP
>>> for section in SECTIONS:                             # doctest: +SKIP
...     section(report)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pandas as pd

from maexlab.impact.metrics import impact_value, maex_ratios
from maexlab.impact.plots import (
    group_labels,
    plot_impact_by,
    plot_monte_carlo,
    plot_phase_heatmap,
    plot_tornado,
    plot_waardenweb,
)
from maexlab.impact.sroi import DISCOUNT_RATES, sroi, sroi_monte_carlo, sroi_one_at_a_time
from maexlab.impact.sroi_case import (
    SROI_ASSUMPTIONS,
    SROICase,
    assumptions_table,
    build_sroi_case,
    mc_distributions,
    sroi_group,
    tornado_ranges,
)
from maexlab.impact.tables import (
    impact_contributions,
    impact_value_table,
    latest_full_year,
    linked_impact_patterns,
    median_impact_value_by,
    protect_impact_totals,
    proxies_for,
    ratio_medians,
    social_return_example,
    unit_costs_by,
    volunteer_rates_table,
    volunteer_valuation,
)
from maexlab.reporting import Col, Needs, Reason, Report, SectionOutput, unmet
from maexlab.reporting.linked import apply_linked, population, report_area

__all__ = [
    "HOURS_PER_VOLUNTEER",
    "OPPORTUNITY_RATE",
    "SECTIONS",
    "impact_by_sdg",
    "impact_by_theme",
    "impact_by_value_model_and_phase",
    "maex_ratio_medians",
    "median_by_value_model",
    "proxies",
    "social_return",
    "sroi_assumptions",
    "sroi_base_case",
    "sroi_sensitivity",
    "unit_costs",
    "volunteer_time",
]

#: ASSUMPTION: hours per volunteer per year (the profile holds volunteers, not hours).
HOURS_PER_VOLUNTEER = 100
#: ASSUMPTION: opportunity-cost rate, EUR per hour (no sourced default exists).
OPPORTUNITY_RATE = 25.0
#: ASSUMPTION: the declared public contract of the social-return example.
SOCIAL_RETURN_CONTRACT = {"contract_value": 1_000_000, "share": 0.05, "se_contract_value": 30_000, "credit_rate": 1.0}
#: MAEX's published orders of magnitude, for scale (vng.nl, "Buurthuis naar de beurs"): EUR per year.
MAEX_EXAMPLES = {"scouting_group": 140_000, "helmond": 9_000_000}
#: Bootstrap resamples and Monte Carlo draws (seeded with the report's seed).
BOOTSTRAP_REPS, MONTE_CARLO_DRAWS = 400, 5_000

PROXY_NEEDS = Needs({"impact": ("indicator", "quantity")})
IMPACT_NEEDS = Needs({"impact": ("year", "indicator", "quantity"), "initiatives": ("theme", "value_model")})
SDG_NEEDS = Needs({"impact": ("year", "indicator", "quantity", "sdg"), "initiatives": ("value_model",)})
PHASE_NEEDS = IMPACT_NEEDS | Needs({"phases": ("phase", "entered_on")})
SROI_NEEDS = Needs({"impact": ("year", "indicator", "quantity"), "initiatives": ("theme",), "financials": ("year", "costs")})
VOLUNTEER_NEEDS = Needs({"initiatives": ("volunteers", "value_model")})
RATIO_NEEDS = Needs(
    {
        "initiatives": ("paid_staff_fte", "volunteers", "value_model"),
        "financials": ("year", "subsidies", "earned_income"),
    }
)
UNIT_COST_NEEDS = Needs({"initiatives": ("people_reached", "value_model"), "financials": ("year", "costs")})
FUNDING_NEEDS = Needs({"impact": ("quantity",), "funding": ("amount_granted",)})


# --- shared checks ---------------------------------------------------------------------------


def _context(report: Report) -> tuple[pd.DataFrame, str, int | None]:
    """The proxies, where they come from, and the latest fully observed year."""
    table, origin = proxies_for(report.data)
    return table, origin, latest_full_year(report.data)


def _year_reason(year: int | None) -> Reason | None:
    return Reason("impact.reasons.no_full_year") if year is None else None


def _reasons(report: Report, needs: Needs, year: int | None, proxies: pd.DataFrame | None = None) -> list[Reason]:
    """Why a section that needs the latest full year cannot be computed (empty when it can).

    Missing tables or columns come first; only when the tables are there do a missing full
    year or a missing euro proxy count (they would only repeat the first reasons).
    """
    reasons = unmet(report.data, needs)
    if reasons:
        return reasons
    later = [_year_reason(year), _proxy_reason(report, proxies) if proxies is not None else None]
    return [r for r in later if r is not None]


def _proxy_reason(report: Report, proxies: pd.DataFrame) -> Reason | None:
    """A reason when some indicator of the impact table has no euro proxy (its value cannot be computed)."""
    impact = report.data.tables.get("impact")
    if impact is None or "indicator" not in impact.columns:
        return None
    unknown = sorted(set(impact["indicator"].dropna().astype(str)) - set(proxies["indicator"].astype(str)))
    if not unknown:
        return None
    return Reason("impact.reasons.no_proxy", {"indicators": ", ".join(unknown)})


def _skip(report: Report, out: SectionOutput, section: str, reasons: list[Reason | None]) -> bool:
    """Record and show why ``section`` is not computed; True when it is skipped."""
    reasons = [r for r in reasons if r is not None]
    if reasons:
        report.not_computed(section, reasons)
        out.skipped = reasons
    return bool(reasons)


def _record(report: Report, out: SectionOutput, section: str, reasons: list[Reason], shown_in: str) -> None:
    """Record (not show) why ``section`` is not computed: the same reasons were just shown for ``shown_in``."""
    out.skipped = list(reasons)
    report.results["not_computed"][section] = {"shown_in": shown_in, "reasons": [{"key": r.key, **r.values} for r in reasons]}


def _rows(table: pd.DataFrame, year: int) -> pd.DataFrame:
    """The rows of one year, largest impact value first (hidden rows last)."""
    rows = table[table["year"] == year]
    if "impact_value_eur" in rows.columns:
        rows = rows.sort_values("impact_value_eur", ascending=False, na_position="last", kind="stable")
    return rows.reset_index(drop=True)


def _show_items(report: Report, raw: pd.DataFrame, name: str, prefix: str) -> pd.DataFrame:
    """Publish an ``item, kind, value`` table raw, and show it as item labels and formatted values."""
    published = report.table(raw, name, count_column=None)
    shown = pd.DataFrame(
        {
            "item": [report.t(f"{prefix}.{item}") for item in published["item"]],
            "value": [_value_text(report, v, kind) for v, kind in zip(published["value"], published["kind"], strict=True)],
        }
    )
    report.show(shown, None, [Col("item", "text", label="impact.col_item"), Col("value", "text", label="impact.col_value")])
    return published


def _value_text(report: Report, value, kind: str) -> str:
    if kind == "percent2" and pd.notna(value):
        return report.t("impact.percent2", x=float(value) * 100)
    if kind == "percent2":
        return report.m.value(None, "number")
    return report.m.value(value, kind)


# --- sections ----------------------------------------------------------------------------------


def proxies(report: Report) -> SectionOutput:
    """The euro proxies (value per unit of each indicator) and their sources."""
    out = SectionOutput()
    table, origin, year = _context(report)
    report.heading("impact.proxies.heading")
    if _skip(report, out, "impact.proxies.section", unmet(report.data, PROXY_NEEDS)):
        return out
    report.say(f"impact.proxies.origin.{origin}")
    report.results.update(proxies_from=origin, latest_full_year=year)
    if year is not None:
        report.say("impact.proxies.latest_year", year=year)
    shown = table[["indicator", "unit", "euro_per_unit", "source"]].sort_values("indicator").reset_index(drop=True)
    units = [report.t(f"impact.units.{u}") if report.m.has(f"impact.units.{u}") else str(u) for u in shown["unit"]]
    out.tables["proxies"] = report.table(shown, "proxies", count_column=None)
    report.say("impact.proxies.explain")
    report.show(
        shown.assign(unit_label=units),
        None,
        [
            Col("indicator", "term", label="columns.indicator"),
            Col("unit_label", "text", label="impact.col_unit"),
            Col("euro_per_unit", "number2", label="impact.col_euro_per_unit"),
            Col("source", "text", label="impact.col_source"),
        ],
    )
    return out


def _linked(report: Report) -> dict[str, pd.DataFrame]:
    """The run's suppression pattern of every impact total table, over nation, provinces and
    municipalities, computed once on the whole dataset (same period): every place's report hides
    the same cells. Empty when protection is off (minimum group size 1) or the data cannot make it."""
    cached = report.__dict__.get("_impact_linked")
    if cached is None:
        whole = population(report)
        cached = {}
        if report.min_group_size > 1 and whole.impact is not None and whole.initiatives is not None:
            try:
                px, _ = proxies_for(whole)
                cached = linked_impact_patterns(whole, px, min_group_size=report.min_group_size, rules=report.magnitude_rules)
            except (KeyError, ValueError) as exc:
                # The sections say what the data lacks; each table keeps its own rules, and the
                # results say that the run-wide pattern could not be made.
                report.results["disclosure_linked_unavailable"] = f"{type(exc).__name__}: {exc}"
                cached = {}
        report.__dict__["_impact_linked"] = cached
    return cached


def _publish_totals(report: Report, table: pd.DataFrame, name: str, contributions: pd.DataFrame, by) -> pd.DataFrame:
    """Publish a table of impact value totals after the threshold, dominance and p% rules and
    the run's linked pattern (a cell hidden in another place's table stays hidden here)."""
    protected = protect_impact_totals(
        table,
        contributions,
        list(by),
        min_group_size=report.min_group_size,
        dominance=report.magnitude_rules.dominance,
        p_percent=report.magnitude_rules.p_percent,
    )
    pattern = _linked(report).get(name)
    if pattern is not None:
        protected = apply_linked(table, pattern, report_area(report), ["year", *by], fallback=protected)
    rules = protected["suppressed_rule"].value_counts()
    report.results.setdefault("disclosure", {})[name] = {str(k): int(v) for k, v in rules.items() if k}
    # Suppression is done; publishing only rounds and writes (count_column=None: no second pass).
    return report.table(protected, name, count_column=None)


def _dominance_note(report: Report, shown: pd.DataFrame) -> None:
    """Say that "·" also hides totals dominated by one or two initiatives, when it does here."""
    if "suppressed_rule" in shown.columns and shown["suppressed_rule"].isin(["dominance", "p_percent"]).any():
        report.say(
            "impact.dominance_note",
            mark=report.t("common.suppressed_mark"),
            n=report.magnitude_rules.dominance_n,
            k=report.magnitude_rules.dominance_k / 100,
            p=report.magnitude_rules.p_percent / 100,
        )


def impact_by_theme(report: Report) -> SectionOutput:
    """Impact value per year, and by theme in the latest full year (table, figure, findings)."""
    out = SectionOutput()
    px, _, year = _context(report)
    report.heading("impact.theme.heading")
    if _skip(report, out, "impact.theme.section", _reasons(report, IMPACT_NEEDS, year, px)):
        return out
    report.say("impact.theme.explain", scouting=MAEX_EXAMPLES["scouting_group"], helmond=MAEX_EXAMPLES["helmond"])
    data = report.data
    by_theme = _publish_totals(
        report,
        impact_value_table(data.impact, px, data.initiatives, by="theme"),
        "impact_value_by_theme",
        impact_contributions(data.impact, px, data.initiatives, ["theme"]),
        ["theme"],
    )
    valued = impact_value(data.impact, px)
    per_year = (
        valued.groupby("year").agg(n=("initiative_id", "nunique"), impact_value_eur=("impact_value_eur", "sum")).reset_index()
    )
    per_year = _publish_totals(report, per_year, "impact_value_by_year", impact_contributions(data.impact, px, None), [])
    out.tables.update(impact_value_by_theme=by_theme, impact_value_by_year=per_year)
    report.results["impact_value_by_year"] = dict(
        zip(per_year["year"].astype(int).astype(str), per_year["impact_value_eur"], strict=True)
    )
    report.show(
        per_year,
        None,
        [
            Col("year", "year"),
            Col("n", "count", label="columns.n_initiatives"),
            Col("impact_value_eur", "money", label="impact.col_total"),
        ],
    )
    _dominance_note(report, per_year)
    latest = _rows(by_theme, year)
    report.results["impact_value_by_theme_latest"] = dict(zip(latest["theme"], latest["impact_value_eur"], strict=True))
    report.say("impact.theme.latest_caption", year=year)
    report.show(latest, None, _group_columns("theme", "term"))
    _dominance_note(report, latest)
    out.figures["impact_value_by_theme"] = report.figure(
        plot_impact_by(by_theme, "theme", year, report.language), "impact_value_by_theme"
    )
    total = per_year.loc[per_year["year"] == year]
    if len(total) and pd.notna(total["impact_value_eur"].iloc[0]):
        value, n = float(total["impact_value_eur"].iloc[0]), int(total["n"].iloc[0])
        report.headline("impact.headline_total", round(value), kind="money")
        report.finding("impact.findings.total", year=year, value=value, n=n)
        top = latest.dropna(subset=["n"]).sort_values("impact_value_eur", ascending=False).head(1)
        if len(top) and value > 0:
            report.finding(
                "impact.findings.top_theme", theme=top["theme"].iloc[0], share=float(top["impact_value_eur"].iloc[0]) / value
            )
    return out


def _group_columns(dim: str, kind: str) -> list[Col]:
    return [
        Col(dim, kind, label=f"impact.dims_col.{dim}"),
        Col("n", "count", label="columns.n_initiatives"),
        Col("impact_value_eur", "money", label="impact.col_total"),
        Col("mean_per_initiative_eur", "money", label="impact.col_mean"),
        Col("median_per_initiative_eur", "money", label="impact.col_median"),
    ]


def impact_by_sdg(report: Report) -> SectionOutput:
    """Impact value by SDG in the latest full year (an initiative counts in each SDG it reports on)."""
    out = SectionOutput()
    px, _, year = _context(report)
    report.heading("impact.sdg_section.heading")
    if _skip(report, out, "impact.sdg_section.section", _reasons(report, SDG_NEEDS, year, px)):
        return out
    report.say("impact.sdg_section.explain")
    data = report.data
    impact = data.impact.dropna(subset=["sdg"]).assign(sdg=lambda d: pd.to_numeric(d["sdg"]).astype(int))
    by_sdg = _publish_totals(
        report,
        impact_value_table(impact, px, data.initiatives, by="sdg"),
        "impact_value_by_sdg",
        impact_contributions(impact, px, data.initiatives, ["sdg"]),
        ["sdg"],
    )
    out.tables["impact_value_by_sdg"] = by_sdg
    latest = _rows(by_sdg, year)
    report.results["impact_value_by_sdg_latest"] = dict(zip(latest["sdg"].astype(int), latest["impact_value_eur"], strict=True))
    shown = latest.assign(sdg_label=group_labels(latest["sdg"], "sdg", report.language))
    report.show(shown, None, [Col("sdg_label", "text", label="impact.dims_col.sdg"), *_group_columns("sdg", "text")[1:]])
    _dominance_note(report, shown)
    out.figures["impact_value_by_sdg"] = report.figure(
        plot_impact_by(by_sdg, "sdg", year, report.language), "impact_value_by_sdg"
    )
    return out


def impact_by_value_model_and_phase(report: Report) -> SectionOutput:
    """Impact value by value model, by phase at the year's end, and the value model x phase heatmap."""
    out = SectionOutput()
    px, _, year = _context(report)
    report.heading("impact.phase.heading")
    if _skip(report, out, "impact.phase.section", _reasons(report, PHASE_NEEDS, year, px)):
        return out
    report.say("impact.phase.explain")
    d = report.data
    tables = {
        "impact_value_by_value_model": (["value_model"], ("year", "value_model")),
        "impact_value_by_phase": (["phase"], ("year", "phase")),
        "impact_value_by_value_model_phase": (["value_model", "phase"], ("year", "value_model", "phase")),
    }
    for name, (by, _keep) in tables.items():
        out.tables[name] = _publish_totals(
            report,
            impact_value_table(d.impact, px, d.initiatives, by=by, phases=d.phases),
            name,
            impact_contributions(d.impact, px, d.initiatives, by, phases=d.phases),
            by,
        )
    by_model, by_phase = _rows(out.tables["impact_value_by_value_model"], year), _rows(out.tables["impact_value_by_phase"], year)
    report.results["median_impact_value_per_initiative_by_value_model_latest"] = dict(
        zip(by_model["value_model"], by_model["median_per_initiative_eur"], strict=True)
    )
    report.results["median_impact_value_per_initiative_by_phase_latest"] = dict(
        zip(by_phase["phase"], by_phase["median_per_initiative_eur"], strict=True)
    )
    report.say("impact.phase.model_caption", year=year)
    report.show(by_model, None, _group_columns("value_model", "term"))
    _dominance_note(report, by_model)
    report.say("impact.phase.phase_caption", year=year)
    report.show(by_phase, None, _group_columns("phase", "term"))
    _dominance_note(report, by_phase)
    fig = plot_phase_heatmap(out.tables["impact_value_by_value_model_phase"], year, report.language)
    out.figures["impact_value_value_model_x_phase"] = report.figure(fig, "impact_value_value_model_x_phase")
    return out


def median_by_value_model(report: Report) -> SectionOutput:
    """Median impact value per initiative by value model, with percentile-bootstrap 95% intervals."""
    out = SectionOutput()
    px, _, year = _context(report)
    report.heading("impact.median.heading", level=3)
    if _skip(report, out, "impact.median.section", _reasons(report, IMPACT_NEEDS, year, px)):
        return out
    report.say("impact.median.explain", reps=BOOTSTRAP_REPS)
    d = report.data
    raw = median_impact_value_by(
        d.impact, px, d.initiatives, year, reps=BOOTSTRAP_REPS, seed=report.seed, min_group_size=report.min_group_size
    )
    table = report.table(raw, "median_impact_value_by_value_model_ci", keep=("value_model",))
    out.tables["median_impact_value_by_value_model_ci"] = table
    report.results["median_impact_value_by_value_model_ci"] = table.drop(columns=["suppressed"], errors="ignore").to_dict(
        orient="records"
    )
    report.show(table, None, [
        Col("value_model", "term"), Col("n", "count", label="columns.n_initiatives"),
        Col("median_per_initiative_eur", "money", label="impact.col_median_ci", lo="ci_low", hi="ci_high"),
    ])  # fmt: skip
    decided = table.dropna(subset=["median_per_initiative_eur", "ci_low", "ci_high"])
    if len(decided):
        parts = [
            report.t(
                "impact.findings.median_part",
                group=r.value_model,
                median=report.m.interval(r.median_per_initiative_eur, r.ci_low, r.ci_high, "money"),
            )
            for r in decided.itertuples(index=False)
        ]
        report.finding("impact.findings.median", year=year, groups="; ".join(parts))
        first = decided.sort_values("n", ascending=False, kind="stable").iloc[0]  # the largest value model
        report.headline(
            f"impact.headline_median.{first['value_model']}",
            float(first["median_per_initiative_eur"]),
            kind="money",
            lo=float(first["ci_low"]),
            hi=float(first["ci_high"]),
        )
    return out


def sroi_assumptions(report: Report) -> SectionOutput:
    """The SROI worked example: the declared group, the mode and the declared (labelled) assumptions."""
    out = SectionOutput()
    report.heading("impact.sroi.heading")
    if _skip(report, out, "impact.sroi.section", _sroi_case(report)[1]):
        return out
    report.say("impact.sroi.group")
    report.say("impact.sroi.mode")
    report.say("impact.sroi.assumptions_intro")
    raw = assumptions_table()
    out.tables["sroi_assumptions"] = report.table(raw, "sroi_assumptions", count_column=None)
    report.results["sroi_assumptions"] = raw.to_dict(orient="records")
    rows = []
    for a in SROI_ASSUMPTIONS:
        kind = _parameter_kind(a.parameter)
        rows.append({
            "parameter": report.t(f"impact.parameters.{a.parameter}"),
            "value": _value_text(report, a.value, kind),
            "range": report.t("impact.range", lo=_value_text(report, a.low, kind), hi=_value_text(report, a.high, kind)),
            "monte_carlo": report.t("impact.mc_triangular" if a.in_monte_carlo else "impact.mc_fixed"),
            "status": report.t("impact.status_sourced" if a.sourced else "impact.status_assumption"),
            "source": report.t(f"impact.assumption_source.{a.parameter}"),
        })  # fmt: skip
    cols = ["parameter", "value", "range", "monte_carlo", "status", "source"]
    report.show(pd.DataFrame(rows), None, [Col(c, "text", label=f"impact.assumptions_col.{c}") for c in cols])
    report.say(
        "impact.sroi.discount_rate",
        rate=DISCOUNT_RATES["nl_standard"].rate * 100,
        alternative=DISCOUNT_RATES["uk_green_book"].rate * 100,
    )
    return out


def _parameter_kind(parameter: str) -> str:
    return {"duration_years": "count", "proxy_multiplier": "number2", "discount_rate": "percent2"}.get(parameter, "percent")


def _sroi_case(report: Report) -> tuple[SROICase | None, list[Reason]]:
    """The SROI base case of the declared group, or the reasons it cannot be built."""
    px, _, year = _context(report)
    reasons = _reasons(report, SROI_NEEDS, year)
    if reasons:
        return None, reasons
    d = report.data
    if "people_to_work" not in set(px["indicator"]):
        return None, [Reason("impact.reasons.no_proxy", {"indicators": "people_to_work"})]
    ids = sroi_group(d.impact, d.initiatives, d.financials, year)
    if not ids:
        return None, [Reason("impact.reasons.no_sroi_group", {"year": year})]
    if len(ids) < report.min_group_size:
        return None, [Reason("impact.reasons.sroi_group_small", {"n": len(ids), "minimum": report.min_group_size})]
    costs = pd.to_numeric(
        d.financials.loc[(d.financials["year"] == year) & d.financials["initiative_id"].isin(ids), "costs"]
    ).sum()
    if not costs > 0:
        return None, [Reason("impact.reasons.no_sroi_inputs", {"year": year})]
    return build_sroi_case(d.impact, px, d.initiatives, d.financials, year), []


def sroi_base_case(report: Report) -> SectionOutput:
    """The SROI base case: present value, net present value, ratio and payback for the declared group."""
    out = SectionOutput()
    case, reasons = _sroi_case(report)
    if reasons:
        _record(report, out, "impact.sroi.base_section", reasons, shown_in="impact.sroi.section")
        return out
    report.heading("impact.sroi.base_heading", level=3)
    result = sroi(case.value_map, case.inputs, case.discount_rate, mode=case.mode)
    out.tables["sroi_value_map"] = report.table(result.outcomes, "sroi_value_map", count_column=None)
    raw = pd.DataFrame(
        [
            ("year", "year", case.year), ("n", "count", case.n), ("quantity", "count", case.quantity),
            ("proxy", "money", case.financial_proxy), ("impact", "money", float(result.annual_impact)),
            ("inputs", "money", case.inputs), ("present_value", "money", result.total_present_value),
            ("npv", "money", result.npv), ("ratio", "number2", result.ratio),
            ("payback_years", "number2", result.payback_years), ("discount_rate", "percent2", case.discount_rate),
        ],
        columns=["item", "kind", "value"],
    )  # fmt: skip
    out.tables["sroi_base_case"] = _show_items(report, raw, "sroi_base_case", "impact.sroi.items")
    report.say("impact.sroi.base_explain", mode=report.t(f"impact.modes.{case.mode}"))
    report.results["sroi"] = {
        "year": case.year,
        "n": case.n,
        "quantity": case.quantity,
        "proxy": case.financial_proxy,
        **result.summary(),
    }
    report.headline("impact.headline_sroi_base", round(result.ratio, 3), kind="number2")
    return out


def sroi_sensitivity(report: Report) -> SectionOutput:
    """One-at-a-time (tornado) and Monte Carlo sensitivity of the SROI ratio over the declared ranges."""
    out = SectionOutput()
    case, reasons = _sroi_case(report)
    if reasons:
        _record(report, out, "impact.sroi.sensitivity_section", reasons, shown_in="impact.sroi.section")
        return out
    report.heading("impact.sroi.sensitivity_heading", level=3)
    report.say("impact.sroi.sensitivity_explain", draws=MONTE_CARLO_DRAWS)
    tornado = sroi_one_at_a_time(case.value_map, case.inputs, tornado_ranges(), case.discount_rate)
    out.tables["sroi_tornado"] = report.table(tornado, "sroi_tornado", count_column=None)
    report.results["sroi_tornado"] = tornado[["parameter", "ratio_low", "ratio_high", "swing"]].to_dict(orient="records")
    out.figures["sroi_tornado"] = report.figure(plot_tornado(tornado, case.year, report.language), "sroi_tornado")
    mc = sroi_monte_carlo(
        case.value_map, case.inputs, mc_distributions(), n=MONTE_CARLO_DRAWS, seed=report.seed, discount_rate=case.discount_rate
    )
    out.figures["sroi_monte_carlo"] = report.figure(plot_monte_carlo(mc, report.language), "sroi_monte_carlo")
    raw = pd.DataFrame(
        [("base_ratio", "number2", mc.base_ratio), ("median", "number2", mc.median), ("q05", "number2", mc.q05),
         ("q95", "number2", mc.q95), ("p_ratio_above_1", "percent", mc.p_ratio_above_1), ("draws", "count", mc.n)],
        columns=["item", "kind", "value"],
    )  # fmt: skip
    out.tables["sroi_monte_carlo"] = _show_items(report, raw, "sroi_monte_carlo", "impact.sroi.mc_items")
    report.results["sroi_monte_carlo"] = {
        **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in mc.summary().items()},
        "seed": report.seed,
    }
    report.headline("impact.headline_sroi_mc", round(mc.median, 3), kind="number2", lo=round(mc.q05, 3), hi=round(mc.q95, 3))
    report.headline("impact.headline_sroi_p", round(mc.p_ratio_above_1, 4), kind="percent")
    report.finding(
        "impact.findings.sroi", year=case.year, n=case.n, base=mc.base_ratio,
        median=mc.median, lo=mc.q05, hi=mc.q95, p=mc.p_ratio_above_1,
    )  # fmt: skip
    return out


def volunteer_time(report: Report) -> SectionOutput:
    """Volunteer time valued three ways (market value, replacement cost, declared opportunity cost)."""
    out = SectionOutput()
    report.heading("impact.volunteers.heading")
    if _skip(report, out, "impact.volunteers.section", unmet(report.data, VOLUNTEER_NEEDS)):
        return out
    report.say("impact.volunteers.explain", hours=HOURS_PER_VOLUNTEER, rate=OPPORTUNITY_RATE)
    rates = volunteer_rates_table(OPPORTUNITY_RATE)
    out.tables["volunteer_rates"] = report.table(rates, "volunteer_rates", count_column=None)
    shown = rates.assign(
        method_label=[report.t(f"impact.volunteer_methods.{m}") for m in rates["method"]],
        status=[report.t("impact.status_sourced" if s else "impact.status_assumption") for s in rates["sourced"]],
    )
    report.show(shown, None, [
        Col("method_label", "text", label="impact.col_method"), Col("rate_eur_per_hour", "number2", label="impact.col_rate"),
        Col("status", "text", label="impact.assumptions_col.status"),
    ])  # fmt: skip
    table = report.table(
        volunteer_valuation(report.data.initiatives, HOURS_PER_VOLUNTEER, OPPORTUNITY_RATE),
        "volunteer_value_by_value_model",
        keep=("value_model",),
    )
    out.tables["volunteer_value_by_value_model"] = table
    report.results["volunteer_value"] = table.drop(columns=["suppressed"], errors="ignore").to_dict(orient="records")
    report.show(table, None, [
        Col("value_model", "term"), Col("n", "count", label="columns.n_initiatives"),
        Col("volunteers", "count", label="impact.col_volunteers"), Col("hours", "count", label="impact.col_hours"),
        Col("value_market_value_eur", "money", label="impact.col_market_value"),
        Col("value_replacement_cost_eur", "money", label="impact.col_replacement_cost"),
        Col("value_opportunity_cost_eur", "money", label="impact.col_opportunity_cost"),
    ])  # fmt: skip
    total = table[table["value_model"] == "all"]
    if len(total) and pd.notna(total["value_market_value_eur"].iloc[0]):
        value = float(total["value_market_value_eur"].iloc[0])
        report.headline("impact.headline_volunteers", round(value), kind="money")
        report.finding(
            "impact.findings.volunteers", value=value, volunteers=float(total["volunteers"].iloc[0]), hours=HOURS_PER_VOLUNTEER
        )
    return out


def maex_ratio_medians(report: Report) -> SectionOutput:
    """The MAEX "waardenweb" ratios (paid staff per volunteer, subsidy per euro earned) by value model."""
    out = SectionOutput()
    _, _, year = _context(report)
    report.heading("impact.ratios.heading")
    if _skip(report, out, "impact.ratios.section", _reasons(report, RATIO_NEEDS, year)):
        return out
    report.say("impact.ratios.explain")
    d = report.data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 ratios are NaN by the documented zero-denominator rule
        ratios = maex_ratios(d.initiatives, d.financials, year=year).dropna(subset=["year"])
    table = report.table(
        ratio_medians(ratios, d.initiatives, min_group_size=report.min_group_size),
        "maex_ratios_by_value_model",
        keep=("value_model",),
    )
    out.tables["maex_ratios_by_value_model"] = table
    report.results["maex_ratio_medians"] = table.drop(columns=["suppressed"], errors="ignore").to_dict(orient="records")
    report.show(table, None, [
        Col("value_model", "term"), Col("n", "count", label="columns.n_initiatives"),
        Col("n_staff_ratio", "count", label="impact.col_n_staff_ratio"),
        Col("median_staff_per_volunteer", "number2", label="impact.col_staff_per_volunteer"),
        Col("n_subsidy_ratio", "count", label="impact.col_n_subsidy_ratio"),
        Col("median_subsidy_per_earned_income", "number2", label="impact.col_subsidy_per_income"),
    ])  # fmt: skip
    fig = plot_waardenweb(ratios, d.initiatives, min_group_size=report.min_group_size, language=report.language)
    if fig is None:
        report.say("impact.ratios.no_figure", minimum=report.min_group_size)
    else:
        out.figures["waardenweb"] = report.figure(fig, "waardenweb")
    return out


def unit_costs(report: Report) -> SectionOutput:
    """Cost per person reached and impact value per euro of funding, by value model."""
    out = SectionOutput()
    px, _, year = _context(report)
    report.heading("impact.units_section.heading")
    if _skip(report, out, "impact.units_section.section", _reasons(report, UNIT_COST_NEEDS, year)):
        return out
    report.say("impact.units_section.explain", reps=BOOTSTRAP_REPS)
    d = report.data
    funding_reasons = [*unmet(d, FUNDING_NEEDS), _proxy_reason(report, px)]
    with_funding = not any(funding_reasons)
    if not with_funding:
        _skip(report, SectionOutput(), "impact.units_section.funding_section", funding_reasons)
    raw = unit_costs_by(
        d.initiatives, d.financials, d.impact if with_funding else None, px if with_funding else None,
        d.funding if with_funding else None, year=year, min_group_size=report.min_group_size, reps=BOOTSTRAP_REPS, seed=report.seed,
    )  # fmt: skip
    table = report.table(raw, "unit_costs_by_value_model", keep=("value_model",))
    out.tables["unit_costs_by_value_model"] = table
    report.results["unit_costs"] = table.drop(columns=["suppressed"], errors="ignore").to_dict(orient="records")
    cols = [
        Col("value_model", "term"), Col("n", "count", label="columns.n_initiatives"), Col("n_cost", "count", label="impact.col_n_cost"),
        Col("median_cost_per_person_eur", "money", label="impact.col_cost_median", lo="median_cost_ci_low", hi="median_cost_ci_high"),
        Col("pooled_cost_per_person_eur", "money", label="impact.col_cost_pooled"),
    ]  # fmt: skip
    if with_funding:
        cols += [
            Col("n_funded", "count", label="impact.col_n_funded"),
            Col(
                "median_impact_per_euro",
                "number2",
                label="impact.col_per_euro_median",
                lo="median_impact_ci_low",
                hi="median_impact_ci_high",
            ),
            Col("pooled_impact_per_euro", "number2", label="impact.col_per_euro_pooled"),
        ]
    report.show(table, None, cols)
    return out


def social_return(report: Report) -> SectionOutput:
    """Social return in procurement: a declared contract and its fulfilment (all amounts ASSUMPTIONS)."""
    out = SectionOutput()
    c = SOCIAL_RETURN_CONTRACT
    report.heading("impact.social_return.heading")
    report.say("impact.social_return.explain", contract=c["contract_value"], share=c["share"], subcontract=c["se_contract_value"])
    raw = social_return_example(**c)
    report.results["social_return_example"] = dict(zip(raw["item"], raw["value"], strict=True))
    out.tables["social_return_example"] = _show_items(report, raw, "social_return_example", "impact.social_return.items")
    return out


#: The sections of notebook 04, in notebook order.
SECTIONS: tuple[Callable[[Report], SectionOutput], ...] = (
    proxies,
    impact_by_theme,
    impact_by_sdg,
    impact_by_value_model_and_phase,
    median_by_value_model,
    sroi_assumptions,
    sroi_base_case,
    sroi_sensitivity,
    volunteer_time,
    maex_ratio_medians,
    unit_costs,
    social_return,
)
