"""Suppression consistent across the linked euro tables of one run (issue 16 item 4).

A cell hidden in a municipality's table must not be recoverable from its province's table minus
the other municipalities' tables, nor a province's from the national table. The tests build the
tables of every place of a small hierarchy, take what the run publishes (the cells the linked
pattern leaves shown), and check with plain linear algebra (numpy's matrix rank, independent of
the LSQR audit inside maexlab) that no hidden cell follows from the published cells and the
additive relations between them: a parent place's cell is the sum of its children's, a place's
total the sum of its categories.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from maexlab.data import io, synth
from maexlab.funding import sections as funding_sections
from maexlab.reporting import open_report
from maexlab.reporting.disclosure import MagnitudeRules
from maexlab.reporting.linked import ALL, NATION, area_of, linked_pattern, linked_patterns

MUNICIPALITIES = {"P": ["A", "B", "C"], "Q": ["D", "E"]}
SOURCES = ["s1", "s2", "s3"]


def _contributions(seed: int = 3) -> pd.DataFrame:
    """Six initiatives per municipality and source, one of them dominating A's source s1."""
    rng = np.random.default_rng(seed)
    rows = []
    for province, municipalities in MUNICIPALITIES.items():
        for municipality in municipalities:
            for source in SOURCES:
                for k in range(6 if municipality != "E" else 4):
                    rows.append((f"{municipality}{source}{k}", province, municipality, source, float(rng.integers(50, 150))))
    c = pd.DataFrame(rows, columns=["initiative_id", "province", "municipality", "source", "amount"])
    c.loc[(c["municipality"] == "A") & (c["source"] == "s1"), "amount"] = [5000.0, 10, 10, 10, 10, 10]
    return c


def _true_cells(c: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Every cell's true value, computed here with plain groupby (not by maexlab)."""
    out = {}
    for source in [*SOURCES, ALL]:
        part = c if source == ALL else c[c["source"] == source]
        out[(NATION, source)] = float(part["amount"].sum())
        for province, g in part.groupby("province"):
            out[(area_of(province, None), source)] = float(g["amount"].sum())
        for (province, municipality), g in part.groupby(["province", "municipality"]):
            out[(area_of(province, municipality), source)] = float(g["amount"].sum())
    return out


def _relations(cells: dict) -> list[dict[tuple[str, str], float]]:
    """The additive relations as coefficient maps (sum of coefficient * value = 0)."""
    relations = []
    for source in [*SOURCES, ALL]:
        relations.append({(NATION, source): -1.0, **{(p, source): 1.0 for p in MUNICIPALITIES}})
        for province, municipalities in MUNICIPALITIES.items():
            relations.append({(province, source): -1.0, **{(f"{province}/{m}", source): 1.0 for m in municipalities}})
    areas = {a for a, _ in cells}
    for area in areas:
        relations.append({(area, ALL): -1.0, **{(area, s): 1.0 for s in SOURCES if (area, s) in cells}})
    return relations


def _recoverable(hidden: set, cells: dict) -> set:
    """Hidden cells whose unit vector lies in the row space of the relations over hidden cells."""
    order = sorted(hidden)
    col = {h: i for i, h in enumerate(order)}
    rows = []
    for rel in _relations(cells):
        row = np.zeros(len(order))
        for cell, coefficient in rel.items():
            if cell in col:
                row[col[cell]] = coefficient
        if row.any():
            rows.append(row)
    A = np.array(rows) if rows else np.zeros((0, len(order)))
    rank = np.linalg.matrix_rank(A) if len(rows) else 0
    out = set()
    for h in order:
        unit = np.zeros(len(order))
        unit[col[h]] = 1.0
        if np.linalg.matrix_rank(np.vstack([A, unit])) == rank:
            out.add(h)
    return out


def test_relations_hold_on_the_true_values():
    cells = _true_cells(_contributions())
    for rel in _relations(cells):
        assert abs(sum(coefficient * cells[cell] for cell, coefficient in rel.items())) < 1e-6


def test_no_hidden_cell_is_recoverable_across_municipality_province_and_nation():
    c = _contributions()
    pattern = linked_pattern(c, ["source"], value="amount", min_group_size=5, rules=MagnitudeRules())
    cell = pattern.set_index(["area", "source"])
    assert cell.loc[("P/A", "s1"), "rule"] == "dominance"
    hidden = {(a, s) for a, s in cell.index[cell["hidden"]]}
    cells = _true_cells(c)
    assert hidden <= set(cells)
    assert _recoverable(hidden, cells) == set()
    # the subtraction the issue names: P's s1 minus B's and C's needs a second hidden cell
    assert cell.loc[[("P", "s1"), ("P/B", "s1"), ("P/C", "s1")], "hidden"].any()
    # E has 4 initiatives per source (threshold 5): every source cell of E is hidden
    assert (cell.loc[[("Q/E", s) for s in SOURCES], "rule"] == "threshold").all()


def test_the_per_table_pattern_alone_would_leak():
    """Without the linked pattern (each place's table protected on its own) subtraction recovers A's s1."""
    c = _contributions()
    pattern = linked_pattern(c, ["source"], value="amount", min_group_size=5)
    primary = {
        (a, s)
        for a, s, r in pattern[["area", "source", "rule"]].itertuples(index=False)
        if r in ("dominance", "threshold", "p_percent")
    }
    # per-table secondary: within each place's own table, a second cell on its line
    per_table = set(primary)
    for area in {a for a, _ in primary}:
        own = pattern[(pattern["area"] == area) & (pattern["source"] != ALL)].sort_values("n_units")
        if (own.set_index(["area", "source"]).index.isin(list(per_table))).sum() == 1:
            shown = own[~own.set_index(["area", "source"]).index.isin(list(per_table))]
            per_table.add((area, shown["source"].iloc[0]))
    assert ("P/A", "s1") in _recoverable(per_table, _true_cells(c))


def test_shared_margins_agree_between_tables():
    """A place's total hidden by one table is hidden in every table holding it."""
    c = _contributions().assign(phase=lambda d: np.where(d.index % 2 == 0, "start", "growth"))
    patterns = linked_patterns(
        c, {"overall": [], "by_source": ["source"], "by_phase": ["phase"]}, value="amount", min_group_size=5
    )
    totals = {
        name: set(p.loc[p["hidden"] & (p[[col for col in p.columns if col in ("source", "phase")]] == ALL).all(axis=1), "area"])
        for name, p in patterns.items()
    }
    assert totals["overall"] == totals["by_source"] == totals["by_phase"]


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory):
    InteractiveShell.instance()
    tables, _ = synth.generate(seed=7, n_initiatives=300)
    funding = tables["funding"]
    ini = tables["initiatives"].set_index("initiative_id")
    in_amsterdam = funding["initiative_id"].map(ini["municipality_code"]).eq("GM0363")
    decided = funding["status"].isin(["granted", "partial", "rejected"])
    rows = funding.index[in_amsterdam & decided & funding["source"].eq("government_subsidy")]
    funding.loc[rows[0], ["amount_requested", "amount_granted", "status"]] = [5e7, 5e7, "granted"]
    folder = io.write_dataset(tables, tmp_path_factory.mktemp("data"), {"synthetic": True, "description": "SYNTHETIC test"})
    return str(folder)


def test_reports_of_three_places_hide_the_same_linked_cells(planted_folder, tmp_path):
    published = {}
    for place, kwargs in {
        "Noord-Holland/GM0363": {"municipality": "GM0363"},
        "Noord-Holland": {"province": "Noord-Holland"},
        NATION: {},
    }.items():
        out = tmp_path / place.replace("/", "_").strip("()")
        with capture_output():
            report = open_report("01_funding_gaps", data_source=planted_folder, output_dir=str(out), min_group_size=3, **kwargs)
            funding_sections.overall_coverage(report)
            funding_sections.gap_tables(report)
        published[place] = pd.read_csv(out / "tables" / "gap_by_source.csv").set_index("source")
        published[place + " total"] = pd.read_csv(out / "tables" / "gap_overall.csv")
        pattern = funding_sections._linked(report)["gap_by_source"]
    city = published["Noord-Holland/GM0363"]
    assert city.loc["government_subsidy", "suppressed_rule"] == "dominance"
    here = pattern.set_index(["area", "source"])
    for place in ("Noord-Holland/GM0363", "Noord-Holland", NATION):
        for source, row in published[place].iterrows():
            assert bool(row["suppressed"]) == bool(here.loc[(place, source), "hidden"]), (place, source)
        total_hidden = bool(here.loc[(place, ALL), "hidden"])
        assert bool(published[place + " total"]["suppressed"].iloc[0]) == total_hidden
    # the province's subsidy cell minus the other municipalities' cells: one of them is hidden too
    others = here.xs("government_subsidy", level="source")
    siblings = [a for a in others.index if a.startswith("Noord-Holland/") and a != "Noord-Holland/GM0363"]
    assert others.loc[["Noord-Holland", *siblings], "hidden"].any()


def test_impact_reports_of_a_municipality_and_its_province_follow_one_pattern(planted_folder, tmp_path):
    from maexlab.impact import sections as impact_sections

    for place, kwargs in {
        "Noord-Holland/GM0363": {"municipality": "GM0363"},
        "Noord-Holland": {"province": "Noord-Holland"},
    }.items():
        out = tmp_path / place.replace("/", "_")
        with capture_output():
            report = open_report("04_impact_value", data_source=planted_folder, output_dir=str(out), min_group_size=3, **kwargs)
            impact_sections.impact_by_theme(report)
        pattern = impact_sections._linked(report)["impact_value_by_theme"].set_index(["area", "year", "theme"])
        published = pd.read_csv(out / "tables" / "impact_value_by_theme.csv")
        assert len(published)
        for row in published.itertuples(index=False):
            assert bool(row.suppressed) == bool(pattern.loc[(place, str(row.year), row.theme), "hidden"]), (place, row)
        by_year = pd.read_csv(out / "tables" / "impact_value_by_year.csv")
        year_pattern = impact_sections._linked(report)["impact_value_by_year"].set_index(["area", "year"])
        for row in by_year.itertuples(index=False):
            assert bool(row.suppressed) == bool(year_pattern.loc[(place, str(row.year)), "hidden"])


def _dense_recoverable(pattern: pd.DataFrame, by: str) -> list:
    """Recoverable hidden cells of a run pattern, by numpy's matrix rank over relations built here."""
    cells = list(zip(pattern["area"], pattern[by], strict=True))
    index = {c: i for i, c in enumerate(cells)}
    areas, cats = sorted(set(pattern["area"])), sorted(set(pattern[by]))
    provinces = [a for a in areas if "/" not in a and a != NATION] + [a for a in areas if a == f"{NATION}/(rest)"]
    relations = []
    for cat in cats:
        relations.append([(index[(NATION, cat)], -1)] + [(index[(a, cat)], 1) for a in provinces if (a, cat) in index])
        for province in provinces:
            kids = [a for a in areas if a.startswith(province + "/")]
            if kids and (province, cat) in index:
                relations.append([(index[(province, cat)], -1)] + [(index[(a, cat)], 1) for a in kids if (a, cat) in index])
    for area in areas:
        relations.append([(index[(area, ALL)], -1)] + [(index[(area, c)], 1) for c in cats if c != ALL and (area, c) in index])
    hidden = np.flatnonzero(pattern["hidden"].to_numpy())
    column = {h: j for j, h in enumerate(hidden)}
    rows = []
    for relation in relations:
        row = np.zeros(len(hidden))
        for i, sign in relation:
            if i in column:
                row[column[i]] = sign
        if row.any():
            rows.append(row)
    A = np.array(rows)
    rank = np.linalg.matrix_rank(A)
    found = []
    for h in hidden:
        unit = np.zeros(len(hidden))
        unit[column[h]] = 1.0
        if np.linalg.matrix_rank(np.vstack([A, unit])) == rank:
            found.append(cells[h])
    return found


def test_the_embedded_runs_pattern_leaves_no_hidden_cell_recoverable():
    from maexlab.data import load
    from maexlab.funding.tables import applications, linked_gap_patterns

    whole = load("embedded")
    tables = {"gap_overall": (), "gap_by_source": ("source",), "gap_by_phase": ("phase",)}
    patterns = linked_gap_patterns(applications(whole), whole.initiatives, tables, min_group_size=10)
    for name, by in (("gap_by_source", "source"), ("gap_by_phase", "phase")):
        pattern = patterns[name]
        assert pattern["hidden"].any() and (pattern["rule"] == "secondary").any()
        assert _dense_recoverable(pattern, by) == [], name


def test_the_audit_finds_cells_recoverable_through_two_relations():
    from maexlab.reporting.linked import _recoverable

    hidden = np.array([False, True, True, False])
    # 0 = 1 + 2 alone: two unknowns, one equation; nothing follows
    assert _recoverable(hidden, [(0, [1, 2])]).tolist() == []
    # with 3 = 1 as well, 1 follows, and then 2
    assert sorted(_recoverable(hidden, [(0, [1, 2]), (3, [1])]).tolist()) == [1, 2]
    # a cycle of four hidden cells in a two-way table (rows and columns with shown totals) is safe
    rows_cols = [(10, [0, 1]), (11, [2, 3]), (12, [0, 2]), (13, [1, 3])]
    cycle = np.array([True] * 4 + [False] * 10)
    assert _recoverable(cycle, rows_cols).tolist() == []
    # three hidden cells, two on every line, yet three lines determine them: a = (k1 + k2 - k3) / 2
    triangle = np.array([True, True, True, False, False, False])
    assert sorted(_recoverable(triangle, [(3, [0, 1]), (4, [0, 2]), (5, [1, 2])]).tolist()) == [0, 1, 2]
