"""The sections of notebook 00 (data profile): each takes the report and shows one section.

The counting lives in :mod:`maexlab.data.profile`; this module adds the words (in the report's
language), the preconditions, the published tables and the figures. Columns a section needs
are checked with :func:`~maexlab.reporting.preconditions.unmet`, so a column that is present
but empty is named as such, never as missing.

>>> from maexlab.reporting import profile_sections
>>> [s.__name__ for s in profile_sections.SECTIONS][:2]
['tables_overview', 'initiatives_by_province']
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from maexlab.data import profile
from maexlab.data.schema import FUNDING_SOURCES, PROVINCES, STATUSES, VALUE_MODELS
from maexlab.reporting.display import Col, DisplayTable
from maexlab.reporting.i18n import MISSING
from maexlab.reporting.preconditions import Needs, unmet
from maexlab.reporting.report import SectionOutput, _display
from maexlab.reporting.verdicts import Reason

__all__ = [
    "NEEDS",
    "SECTIONS",
    "funding_by_source_status",
    "initiatives_by_province",
    "missingness",
    "phase_mix",
    "tables_overview",
    "value_model_by_province",
]


class _Output(SectionOutput):
    """A SectionOutput that shows nothing when it is a cell's last value: the section has shown
    its content already (``cell: sections.x(report)`` must not print a repr into the report)."""

    def _ipython_display_(self) -> None:
        return None


#: What each section needs (present and non-empty).
NEEDS: dict[str, Needs] = {
    "province": Needs({"initiatives": ("province",)}),
    "phase_mix": Needs({"phases": ("initiative_id", "phase", "entered_on"), "initiatives": ("initiative_id", "observed_until")}),
    "value_model": Needs({"initiatives": ("province", "value_model")}),
    "funding": Needs({"funding": ("initiative_id", "source", "status")}),
}
#: ESEM 2021-22, the Netherlands: shares of responding enterprises by phase (idea/start-up,
#: early growth, late growth), the published benchmark the phase mix is compared with.
ESEM_PHASES = {"start": 0.081, "early_growth": 0.493, "late_growth": 0.331}


def _check(report, section: str, needs: Needs, out: SectionOutput) -> bool:
    reasons = unmet(report.data, needs)
    if reasons:
        report.not_computed(section, reasons)
        out.skipped.extend(reasons)
        return False
    return True


def _pivot(report, table: pd.DataFrame, index: str, columns: str, order: dict[str, tuple]) -> DisplayTable:
    """A published long count table as a readable cross table: suppressed cells as the mark,
    combinations without any unit as 0 (a group with no initiatives is not a small group)."""
    m = report.m
    mark = m.text("common.suppressed_mark")
    rows = [v for v in order[index] if v in set(table[index])] + sorted(set(table[index]) - set(order[index]), key=str)
    cols = [v for v in order[columns] if v in set(table[columns])] + sorted(set(table[columns]) - set(order[columns]), key=str)
    cells = table.set_index([index, columns])
    frame = {m.text(f"columns.{index}"): [m.term(r) for r in rows]}
    for c in cols:
        shown = []
        for r in rows:
            if (r, c) not in cells.index:
                shown.append(m.value(0, "count"))
            elif bool(cells.loc[(r, c), "suppressed"]):
                shown.append(mark)
            else:
                shown.append(m.value(cells.loc[(r, c), "n"], "count"))
        frame[m.term(c)] = shown
    notes = [m.text("common.suppressed_note", min_group_size=report.min_group_size)] if table["suppressed"].any() else []
    return DisplayTable(pd.DataFrame(frame), notes)


def _table_name(report, table: str) -> str:
    """A canonical table's name in words, with its file name ("initiatieven" for initiatives)."""
    key = f"profile.table_names.{table}"
    return report.t(key) if report.m.has(key) else table


def tables_overview(report) -> SectionOutput:
    """Which tables the data holds, their rows, and the validation every load passed."""
    out = _Output()
    report.heading("profile.sections.tables")
    report.say("profile.text.validation")
    counts = report.data.row_counts()
    status = [
        "present" if p and (r or 0) > 0 else "empty" if p else "absent"
        for p, r in zip(counts["present"], counts["rows"], strict=True)
    ]
    # Absent tables have no row count (pd.NA, which the formatter does not take): show them as missing.
    rows = counts["rows"].astype(object).where(counts["rows"].notna(), None)
    labels = [_table_name(report, t) for t in counts["table"]]
    shown = counts.assign(table=labels, rows=rows, status=[report.t(f"profile.status.{s}") for s in status])
    report.table(counts, "row_counts", count_column=None)
    report.show(shown, None, [Col("table", "text"), Col("rows", "count"), Col("status", "text", label="profile.col.status")])
    initiatives = report.data.tables.get("initiatives")
    report.headline("profile.headline.initiatives", 0 if initiatives is None else len(initiatives), kind="count")
    funding = report.data.tables.get("funding")
    if funding is not None:
        report.headline("profile.headline.applications", len(funding), kind="count")
    report.results["row_counts"] = {
        t: (None if pd.isna(r) else int(r)) for t, r in zip(counts["table"], counts["rows"], strict=True)
    }
    report.results["validation"] = "all checks passed"
    present = [_table_name(report, t) for t, s in zip(counts["table"], status, strict=True) if s == "present"]
    if initiatives is None:
        report.finding("profile.findings.tables_only", n=len(present), total=len(counts), tables=", ".join(present) or MISSING)
    else:
        report.finding(
            "profile.findings.tables", n=len(present), total=len(counts), tables=", ".join(present), initiatives=len(initiatives)
        )
    out.tables["row_counts"] = counts
    return out


def initiatives_by_province(report) -> SectionOutput:
    """Initiatives per province (provinces without initiatives are not listed)."""
    out = _Output()
    section = "profile.sections.province"
    report.heading(section)
    report.say("profile.text.province", min_group_size=report.min_group_size)
    if not _check(report, section, NEEDS["province"], out):
        return out
    table = report.table(profile.initiatives_by_province(report.data), "initiatives_by_province", keep=("province",))
    shown = table.dropna(subset=["n"])
    if len(shown):
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.4))
        ax.barh(shown["province"], shown["n"].astype(float), color="#4c72b0")
        ax.invert_yaxis()
        ax.set_xlabel(report.t("profile.plots.province_x"))
        ax.set_title(report.t("profile.plots.province_title"))
        out.figures["initiatives_by_province"] = report.figure(fig, "initiatives_by_province")
    report.show(table, None, [Col("province", "text"), Col("n", "count", label="columns.n_initiatives")])
    out.tables["initiatives_by_province"] = table
    visible = shown.sort_values("n", ascending=False)
    if len(visible):
        report.finding(
            "profile.findings.province", n=len(visible), largest=visible["province"].iloc[0], largest_n=int(visible["n"].iloc[0])
        )
    return out


def phase_mix(report) -> SectionOutput:
    """Initiatives by phase at the data cut-off, with the ESEM phase mix beside it."""
    out = _Output()
    section = "profile.sections.phase_mix"
    report.heading(section)
    report.say("profile.text.phase_mix", **ESEM_PHASES)
    if not _check(report, section, NEEDS["phase_mix"], out):
        return out
    mix = report.table(profile.phase_mix(report.data), "phase_mix", keep=("phase",))
    visible = mix[~mix["suppressed"].astype(bool)]
    if len(visible):
        fig, ax = plt.subplots(figsize=(8, 3.6))
        ax.bar([report.m.term(p) for p in visible["phase"]], visible["share"].astype(float), color="#55a868")
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda x, _p: report.m.value(x, "percent")))
        ax.set_ylabel(report.t("profile.plots.phase_y"))
        ax.set_title(report.t("profile.plots.phase_title"))
        out.figures["phase_mix"] = report.figure(fig, "phase_mix")
    cols = [
        Col("phase", "term"),
        Col("n", "count", label="columns.n_initiatives"),
        Col("share", "percent", label="profile.col.share"),
        Col("share_of_active", "percent", label="profile.col.share_of_active"),
    ]
    report.show(mix, None, cols)
    report.results["phase_mix"] = {r["phase"]: r["share"] for _, r in visible.iterrows()}
    out.tables["phase_mix"] = mix
    return out


def value_model_by_province(report) -> SectionOutput:
    """How many social, hybrid and commercial initiatives each province holds."""
    out = _Output()
    section = "profile.sections.value_model"
    report.heading(section)
    report.say("profile.text.value_model")
    if not _check(report, section, NEEDS["value_model"], out):
        return out
    table = profile.counts_by(report.data.initiatives, ["province", "value_model"])
    shown = report.table(table, "value_model_by_province", keep=("province", "value_model"))
    _display(_pivot(report, shown, "province", "value_model", {"province": PROVINCES, "value_model": VALUE_MODELS}))
    out.tables["value_model_by_province"] = shown
    return out


def funding_by_source_status(report) -> SectionOutput:
    """Funding applications by source and status (suppressed on initiatives, not applications)."""
    out = _Output()
    section = "profile.sections.funding"
    report.heading(section)
    report.say("profile.text.funding", min_group_size=report.min_group_size)
    if not _check(report, section, NEEDS["funding"], out):
        return out
    table = profile.counts_by(report.data.funding, ["source", "status"])
    shown = report.table(table, "funding_by_source_status", keep=("source", "status"), count_column="n_initiatives")
    _display(_pivot(report, shown, "source", "status", {"source": FUNDING_SOURCES, "status": STATUSES}))
    out.tables["funding_by_source_status"] = shown
    return out


def missingness(report) -> SectionOutput:
    """Share of empty cells per column; columns present but wholly empty are named as such."""
    out = _Output()
    report.heading("profile.sections.missingness")
    report.say("profile.text.missingness")
    missing = report.table(profile.missingness(report.data), "missingness", count_column=None)
    with_gaps = missing[missing["missing"] > 0].sort_values(["table", "column"]).reset_index(drop=True)
    report.headline("profile.headline.columns_with_gaps", len(with_gaps), kind="count")
    empty = with_gaps[with_gaps["missing"] == with_gaps["rows"]]
    for _, row in empty.iterrows():
        reason = Reason("common.reasons.empty_column", {"table": row["table"], "column": row["column"]})
        report.say("profile.text.empty_column", what=report.reason_text(reason))
    if with_gaps.empty:
        report.say("profile.text.no_gaps")
    else:
        cols = [
            Col("table", "text"),
            Col("column", "text"),
            Col("rows", "count"),
            Col("missing", "count", label="profile.col.missing_cells"),
            Col("share_missing", "percent1", label="columns.missing"),
        ]
        report.show(with_gaps, None, cols)
    report.finding("profile.findings.missingness", n=len(with_gaps), empty=len(empty))
    out.tables["missingness"] = missing
    return out


#: The sections of notebook 00, in notebook order.
SECTIONS = (tables_overview, initiatives_by_province, phase_mix, value_model_by_province, funding_by_source_status, missingness)
