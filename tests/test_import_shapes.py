"""Issue 14: real register shapes import with nothing silently changed.

Each test reproduces one defect found on real registers (day/month swaps, duplicate records,
empty hash parts, rows that need a filter, a fallback column or several events, near-total
loss exiting 0) and checks the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from maexlab.cli import main
from maexlab.data.loader import load
from maexlab.mapping import ImportRefused, MappingError, import_mapping

HEADER = "tables:\n  - name: orgs\n    source: {path: orgs.csv}\n    target: initiatives\n"
ORG_CONSTANTS = "    constants: {legal_form: unknown, theme: unknown, value_model: social, observed_until: 2025-12-31}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def orgs_mapping(folder: Path, columns: str, extra: str = "", constants: str = ORG_CONSTANTS) -> Path:
    return write(folder, "m.yaml", HEADER + extra + "    columns:\n" + columns + constants)


# --- 1. dates: one day/month order per column --------------------------------------------------


def test_month_first_column_is_read_month_first_never_swapped(tmp_path: Path):
    # "13" in the second place proves month-first; without date_format the old importer read
    # the column day-first row by row and silently swapped 02/03/2015.
    write(tmp_path, "orgs.csv", "id,name,founded\n1,A,02/03/2015\n2,B,12/13/2016\n3,C,01/05/2017\n")
    mapping = orgs_mapping(tmp_path, "      initiative_id: id\n      name: name\n      founded_on: founded\n")
    report = import_mapping(mapping, tmp_path / "out")
    founded = load(tmp_path / "out").initiatives.set_index("name")["founded_on"]
    assert founded["A"] == pd.Timestamp("2015-02-03")  # February 3rd, not 2 March
    assert founded["C"] == pd.Timestamp("2017-01-05")
    assert report.mappings[0].date_order["founded_on"].startswith("mdy, inferred from the whole column")


def test_declared_order_contradicted_by_the_column_stops_the_import(tmp_path: Path):
    write(tmp_path, "orgs.csv", "id,name,founded\n1,A,02/03/2015\n2,B,12/13/2016\n")
    mapping = orgs_mapping(
        tmp_path, "      initiative_id: id\n      name: name\n      founded_on: {column: founded, date_format: dmy}\n"
    )
    with pytest.raises(MappingError, match=r"line \d+: date column 'founded'.*declare date_format: mdy.*row 2 '12/13/2016'"):
        import_mapping(mapping, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_column_where_nothing_decides_the_order_asks_for_date_format(tmp_path: Path):
    write(tmp_path, "orgs.csv", "id,name,founded\n1,A,02/03/2015\n2,B,04/05/2016\n")
    mapping = orgs_mapping(tmp_path, "      initiative_id: id\n      name: name\n      founded_on: founded\n")
    with pytest.raises(MappingError, match=r"nothing in the column decides; declare date_format: dmy.*row 1 '02/03/2015'"):
        import_mapping(mapping, tmp_path / "out")


def test_column_with_both_orders_stops_unless_declared(tmp_path: Path):
    write(tmp_path, "orgs.csv", "id,name,founded\n1,A,13/03/2015\n2,B,03/13/2016\n3,C,14/01/2017\n")
    columns = "      initiative_id: id\n      name: name\n      founded_on: founded\n"
    with pytest.raises(MappingError, match="holds day-first and month-first dates"):
        import_mapping(orgs_mapping(tmp_path, columns), tmp_path / "out")
    # Declared and confirmed by the column: the one row that does not fit is quarantined, not swapped.
    columns = columns.replace("founded_on: founded", "founded_on: {column: founded, date_format: dmy}")
    report = import_mapping(orgs_mapping(tmp_path, columns), tmp_path / "out")
    assert (report.mappings[0].rows_loaded, report.mappings[0].rows_quarantined) == (2, 1)


def test_date_beyond_the_nanosecond_range_is_refused_with_a_message_saying_so(tmp_path: Path):
    write(tmp_path, "orgs.csv", "id,name,founded\n1,A,2015-03-02\n2,B,2999-12-31\n3,C,2016-01-01\n")
    mapping = orgs_mapping(tmp_path, "      initiative_id: id\n      name: name\n      founded_on: founded\n")
    import_mapping(mapping, tmp_path / "out")
    reason = pd.read_csv(tmp_path / "out" / "quarantine" / "initiatives.csv", dtype=str).loc[0]
    assert reason["primary_reason"] == "date out of range"
    assert "outside the dates a canonical date column can hold (1677-09-22 to 2262-04-11)" in reason["reason"]


# --- 2. identity and duplicates ----------------------------------------------------------------

FUNDING_HEAD = "tables:\n  - name: register\n    source: {path: register.csv}\n    target: funding\n"
FUNDING_CONSTANTS = "    constants: {source: fund_grant, purpose: project, status: pending}\n"
REGISTER = "org,date,amount\nX,2020-01-01,100\nX,2020-01-01,100\nY,2020-02-01,200\nX,2020-01-01,100\n"


def funding_mapping(folder: Path, extra: str = "", id_spec: str = "{row_number: true, prefix: R-}") -> Path:
    text = (
        FUNDING_HEAD
        + extra
        + f"    id: {id_spec}\n"
        + "    columns:\n      initiative_id: org\n      applied_on: date\n"
        + "      amount_requested: {column: amount, parse: money, decimal: '.'}\n"
        + FUNDING_CONSTANTS
    )
    return write(folder, "m.yaml", text)


@pytest.mark.parametrize(
    ("policy", "loaded", "quarantined", "filtered"),
    [("keep", 4, 0, 0), ("drop", 2, 0, 2), ("quarantine", 2, 2, 0), (None, 2, 2, 0)],
)
def test_exact_duplicates_policy(tmp_path: Path, policy, loaded, quarantined, filtered):
    write(tmp_path, "register.csv", REGISTER)
    extra = f"    duplicates: {policy}\n" if policy else ""
    report = import_mapping(funding_mapping(tmp_path, extra), tmp_path / "out", max_quarantine=1)
    block = report.mappings[0]
    assert (block.rows_loaded, block.rows_quarantined, block.rows_filtered) == (loaded, quarantined, filtered)
    assert block.rows_read == block.rows_loaded + block.rows_quarantined + block.rows_filtered == 4
    assert block.duplicates == {"policy": policy or "quarantine", "found": 2}
    if policy == "keep":  # row-number ids keep exact duplicate records apart, stable for the file
        ids = sorted(load(tmp_path / "out").funding["funding_id"])
        assert ids == ["R-register-1", "R-register-2", "R-register-3", "R-register-4"]
    if quarantined:
        quarantine = pd.read_csv(tmp_path / "out" / "quarantine" / "funding.csv", dtype=str)
        assert quarantine["reason"].str.startswith("exact duplicate of register.csv row 1").all()


def test_empty_hash_part_policy(tmp_path: Path):
    write(tmp_path, "register.csv", "org,date,amount,code\nX,2020-01-01,100,\nY,2020-02-01,200,b\nZ,2020-02-01,300,c\n")
    report = import_mapping(funding_mapping(tmp_path, id_spec="{hash_of: [org, code]}"), tmp_path / "out")
    assert report.mappings[0].quarantine_primary_reasons == {"empty key part": 1}  # no longer "unreadable value"
    report = import_mapping(funding_mapping(tmp_path, id_spec="{hash_of: [org, code], empty: hash}"), tmp_path / "out")
    assert report.mappings[0].rows_loaded == 3


@pytest.mark.parametrize(
    ("id_spec", "match"),
    [
        ("{hash_of: [org], default: X}", r"unknown key 'default' in id"),
        ("{row_number: true, length: 8}", "length does nothing with row_number"),
        ("{row_number: true, hash_of: [org]}", "either hash_of"),
        ("{hash_of: [org], empty: skip}", "empty .* must be quarantine or hash"),
    ],
)
def test_keys_that_do_nothing_are_refused(tmp_path: Path, id_spec, match):
    write(tmp_path, "register.csv", REGISTER)
    with pytest.raises(MappingError, match=match):
        import_mapping(funding_mapping(tmp_path, id_spec=id_spec), tmp_path / "out")


def test_parser_options_that_do_nothing_are_refused(tmp_path: Path):
    write(tmp_path, "register.csv", REGISTER)
    mapping = funding_mapping(tmp_path)
    mapping.write_text(mapping.read_text().replace("applied_on: date", "applied_on: {column: date, decimal: ','}"))
    with pytest.raises(MappingError, match="decimal does nothing with parse: date"):
        import_mapping(mapping, tmp_path / "out")


# --- 3. where, when, coalesce, events ----------------------------------------------------------

PROJECTS = (
    "nr,name,status,start,planned_end,actual_end\n"
    "1,A,closed,2018-01-01,2019-01-01,2019-03-01\n"
    "2,B,running,2019-01-01,2021-01-01,\n"
    "3,C,closed,2018-06-01,2020-01-01,\n"
    "4,D,cancelled,2018-06-01,,\n"
)


def test_where_filters_are_counted_not_lost(tmp_path: Path):
    write(tmp_path, "orgs.csv", PROJECTS)
    mapping = orgs_mapping(
        tmp_path,
        "      initiative_id: nr\n      name: name\n      founded_on: start\n",
        extra="    where: {status: {not: cancelled}}\n",
    )
    block = import_mapping(mapping, tmp_path / "out").mappings[0]
    assert (block.rows_read, block.rows_loaded, block.rows_quarantined, block.rows_filtered) == (4, 3, 0, 1)
    assert block.filtered_reasons == {"where: status != 'cancelled' does not hold": 1}


def test_when_and_coalesce_record_what_they_did(tmp_path: Path):
    write(tmp_path, "orgs.csv", PROJECTS)
    mapping = orgs_mapping(
        tmp_path,
        "      initiative_id: nr\n      name: name\n      founded_on: start\n"
        "      closed_on: {coalesce: [actual_end, planned_end], when: {status: closed}}\n",
    )
    block = import_mapping(mapping, tmp_path / "out").mappings[0]
    closed = load(tmp_path / "out").initiatives.set_index("name")["closed_on"]
    assert closed["A"] == pd.Timestamp("2019-03-01")  # the actual end wins
    assert closed["C"] == pd.Timestamp("2020-01-01")  # no actual end: the planned one
    assert pd.isna(closed["B"]) and pd.isna(closed["D"])  # not closed: when: leaves it empty
    assert block.coalesce_used["closed_on"] == {"actual_end": 1, "planned_end": 2, "(none filled)": 1}


def test_events_from_one_wide_row_missing_date_is_no_event(tmp_path: Path):
    # 277 of 319 rows used to be "quarantined" because a project had not ended yet.
    write(tmp_path, "orgs.csv", PROJECTS)
    text = (
        HEADER
        + "    columns: {initiative_id: nr, name: name, founded_on: start}\n"
        + ORG_CONSTANTS
        + "  - name: phases\n    source: {path: orgs.csv}\n    target: phases\n"
        + "    columns: {initiative_id: nr}\n"
        + "    events:\n      field: entered_on\n      kind: phase\n"
        + "      from: {start: start, closed: actual_end}\n"
    )
    report = import_mapping(write(tmp_path, "m.yaml", text), tmp_path / "out")
    phases_block = report.mappings[1]
    assert phases_block.rows_quarantined == 0
    assert phases_block.events_made == {"start": 4, "closed": 1}
    assert phases_block.rows_in_table == 5
    phases = load(tmp_path / "out").phases
    assert sorted(phases.loc[phases["phase"] == "closed", "initiative_id"]) == ["1"]


# --- 4. guards and reporting -------------------------------------------------------------------


def test_near_total_quarantine_exits_non_zero_with_top_reasons(tmp_path: Path, capsys):
    write(tmp_path, "orgs.csv", "id,name,founded\n1,A,veel\n2,B,nooit\n3,C,2015-01-01\n")
    mapping = orgs_mapping(tmp_path, "      initiative_id: id\n      name: name\n      founded_on: founded\n")
    with pytest.raises(ImportRefused, match=r"2 of 3 rows quarantined \(67%.*top primary reasons: unreadable value 2"):
        import_mapping(mapping, tmp_path / "out")
    assert main(["data", "import", str(mapping), "--out", str(tmp_path / "out")]) == 3
    assert "unreadable value 2" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["data", "import", str(mapping), "--out", str(tmp_path / "out"), "--max-quarantine", "0.7"]) == 0


def test_empty_table_exits_non_zero(tmp_path: Path):
    write(tmp_path, "orgs.csv", PROJECTS)
    mapping = orgs_mapping(
        tmp_path, "      initiative_id: nr\n      name: name\n      founded_on: start\n", extra="    where: {status: gone}\n"
    )
    with pytest.raises(ImportRefused, match="table initiatives is empty"):
        import_mapping(mapping, tmp_path / "out")
    assert import_mapping(mapping, tmp_path / "out", allow_empty=True).tables == {"initiatives": 0}


def test_primary_and_all_reasons_are_told_apart(tmp_path: Path):
    write(tmp_path, "orgs.csv", "id,name,founded,volunteers\n1,A,veel,many\n2,B,2015-01-01,3\n3,C,2016-01-01,4\n")
    mapping = orgs_mapping(
        tmp_path, "      initiative_id: id\n      name: name\n      founded_on: founded\n      volunteers: volunteers\n"
    )
    report = import_mapping(mapping, tmp_path / "out")
    block = report.mappings[0]
    assert block.quarantine_primary_reasons == {"unreadable value": 1}
    assert sum(block.quarantine_primary_reasons.values()) == block.rows_quarantined
    assert "quarantined by primary reason (each row once)" in report.summary()
    row = pd.read_csv(tmp_path / "out" / "quarantine" / "initiatives.csv", dtype=str).loc[0]
    assert row["reason"].count("; ") == 1 and row["primary_reason"] == "unreadable value"


def test_declared_constants_are_reported_per_block(tmp_path: Path):
    write(tmp_path, "orgs.csv", PROJECTS)
    text = (
        HEADER
        + "    columns: {initiative_id: nr, name: name, founded_on: start}\n"
        + ORG_CONSTANTS
        + "  - name: starts\n    source: {path: orgs.csv}\n    target: phases\n"
        + "    columns: {initiative_id: nr, entered_on: start}\n    constants: {phase: start}\n"
        + "  - name: closures\n    source: {path: orgs.csv}\n    target: phases\n"
        + "    where: {actual_end: {empty: false}}\n"
        + "    columns: {initiative_id: nr, entered_on: actual_end}\n    constants: {phase: closed}\n"
    )
    report = import_mapping(write(tmp_path, "m.yaml", text), tmp_path / "out")
    assert report.mappings[1].constants == {"phases.phase": "start"}
    assert report.mappings[2].constants == {"phases.phase": "closed"}
    meta = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert meta["declared_constants"]["phases.phase"] == ["start", "closed"]
    assert meta["declared_constants_by_block"]["closures"] == {"phases.phase": "closed"}
    assert "phases.phase=start / closed" in load(tmp_path / "out").notice()


def test_an_event_with_a_problem_quarantines_its_whole_row(tmp_path: Path):
    # Loading a project's start without its unreadable closure would make it look active.
    write(tmp_path, "orgs.csv", PROJECTS.replace("2019-03-01", "soon"))
    text = (
        HEADER
        + "    columns: {initiative_id: nr, name: name, founded_on: start}\n"
        + ORG_CONSTANTS
        + "  - name: phases\n    source: {path: orgs.csv}\n    target: phases\n"
        + "    columns: {initiative_id: nr}\n"
        + "    events: {field: entered_on, kind: phase, from: {start: start, closed: actual_end}}\n"
    )
    report = import_mapping(write(tmp_path, "m.yaml", text), tmp_path / "out")
    block = report.mappings[1]
    assert (block.rows_loaded, block.rows_quarantined, block.rows_in_table) == (3, 1, 3)
    assert "1" not in set(load(tmp_path / "out").phases["initiative_id"])
    row = pd.read_csv(tmp_path / "out" / "quarantine" / "phases.csv", dtype=str).loc[0]
    assert row["source_row"] == "1" and "cannot read 'soon' as a date" in row["reason"]


def test_quoted_line_breaks_keep_line_numbers(tmp_path: Path):
    write(tmp_path, "orgs.csv", 'id,name,founded\n1,"Two\nlines",2015-01-01\n2,B,veel\n3,C,2016-01-01\n')
    mapping = orgs_mapping(tmp_path, "      initiative_id: id\n      name: name\n      founded_on: founded\n")
    import_mapping(mapping, tmp_path / "out")
    row = pd.read_csv(tmp_path / "out" / "quarantine" / "initiatives.csv", dtype=str).loc[0]
    assert (row["source_row"], row["source_line"]) == ("2", "4")
    assert load(tmp_path / "out").initiatives.set_index("initiative_id").loc["1", "name"] == "Two\nlines"


def test_two_blocks_one_table_fields_only_one_fills(tmp_path: Path):
    write(tmp_path, "a.csv", "id,name,founded\n1,A,2015-01-01\n")
    write(tmp_path, "b.csv", "id,name,founded\n3,C,2015-01-01\n")
    columns = "    columns: {{initiative_id: id, name: name, founded_on: founded{extra}}}\n"
    text = (
        "tables:\n"
        + "  - name: a\n    source: a.csv\n    target: initiatives\n"
        + columns.format(extra=", joined_on: founded, volunteers: id")
        + ORG_CONSTANTS
        + "  - name: b\n    source: b.csv\n    target: initiatives\n"
        + columns.format(extra="")
        + ORG_CONSTANTS
    )
    import_mapping(write(tmp_path, "m.yaml", text), tmp_path / "out")
    table = load(tmp_path / "out").initiatives.set_index("initiative_id")
    assert table.loc["1", "joined_on"] == pd.Timestamp("2015-01-01") and pd.isna(table.loc["3", "joined_on"])
    assert table.loc["1", "volunteers"] == 1 and pd.isna(table.loc["3", "volunteers"])


def test_wide_row_with_a_problem_and_no_event_is_quarantined_not_filtered(tmp_path: Path):
    write(tmp_path, "orgs.csv", "nr,start,end,note\n1,2018-01-01,,a\n,,,b\n3,,,c\n")
    text = (
        "tables:\n  - name: phases\n    source: {path: orgs.csv}\n    target: phases\n"
        "    columns: {initiative_id: {hash_of: [nr]}}\n"
        "    events: {field: entered_on, kind: phase, from: {start: start, closed: end}}\n"
    )
    block = import_mapping(write(tmp_path, "m.yaml", text), tmp_path / "out", max_quarantine=1).mappings[0]
    # Row 2 has no key and no date: its key problem is not hidden as "no event".
    assert (block.rows_loaded, block.rows_quarantined, block.rows_filtered) == (1, 1, 1)
    assert block.quarantine_primary_reasons == {"empty key part": 1}
