"""Bad input: each case gives a clear error naming file, row, column and what was expected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import maexlab
from maexlab.data.validation import DataValidationError


def _replace(folder: Path, table: str, old: str, new: str) -> None:
    path = folder / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {table}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _error(folder: Path) -> str:
    with pytest.raises(DataValidationError) as caught:
        maexlab.load(folder)
    return str(caught.value)


def test_tiny_dataset_is_valid(tiny_dataset):
    data = maexlab.load(tiny_dataset)
    assert len(data.initiatives) == 2 and not data.synthetic


def test_missing_table(tiny_dataset):
    (tiny_dataset / "phases.csv").unlink()
    message = _error(tiny_dataset)
    assert "table 'phases' is missing: expected phases.csv or phases.parquet" in message


def test_partial_dataset_declared_in_metadata_loads(tiny_dataset):
    for name in ("phases", "assessments", "impact", "proxies", "financials"):
        (tiny_dataset / f"{name}.csv").unlink()
    (tiny_dataset / "dataset.json").write_text('{"tables": ["initiatives", "funding"]}')
    data = maexlab.load(tiny_dataset)
    assert data.phases is None and not data.has("phases")
    assert data.missing({"phases": ("phase",), "funding": ("amount_requested",)}) == ["table phases"]


def test_missing_column(tiny_dataset):
    _replace(tiny_dataset, "funding", "amount_requested,", "amount_asked,")
    message = _error(tiny_dataset)
    assert "funding.csv, column 'amount_requested': required column is missing" in message
    assert "column 'amount_asked': unknown column for table funding" in message


def test_wrong_type(tiny_dataset):
    _replace(tiny_dataset, "funding", "2015-04-01,2015-06-01,10000", "2015-04-01,2015-06-01,tienduizend")
    message = _error(tiny_dataset)
    assert "funding.csv, row 1 (line 2), column 'amount_requested': expected a number, got 'tienduizend'" in message


def test_wrong_date_format(tiny_dataset):
    _replace(tiny_dataset, "funding", "2015-04-01", "01-04-2015")
    message = _error(tiny_dataset)
    assert "row 1 (line 2), column 'applied_on': expected a date as YYYY-MM-DD, got '01-04-2015'" in message


def test_negative_amount(tiny_dataset):
    _replace(tiny_dataset, "financials", "I2,2020,80000", "I2,2020,-80000")
    message = _error(tiny_dataset)
    assert "financials.csv, row 2 (line 3), column 'revenue': expected a value >= 0, got '-80000'" in message


def test_granted_above_requested_for_partial(tiny_dataset):
    _replace(tiny_dataset, "funding", "20000,5000,partial", "20000,25000,partial")
    message = _error(tiny_dataset)
    assert (
        "row 2 (line 3), column 'amount_granted': expected 0 < amount_granted < amount_requested for status 'partial'" in message
    )


def test_dates_out_of_order(tiny_dataset):
    _replace(tiny_dataset, "initiatives", "2022-01-31,2026-06-30", "2027-01-31,2026-06-30")
    _replace(tiny_dataset, "funding", "2019-02-01,2019-04-01", "2019-02-01,2018-04-01")
    message = _error(tiny_dataset)
    assert "initiatives.csv, row 2 (line 3), column 'closed_on': expected closed_on on or before observed_until" in message
    assert "funding.csv, row 2 (line 3), column 'decided_on': expected decided_on on or after applied_on" in message


def test_phase_before_founding_and_out_of_order(tiny_dataset):
    _replace(tiny_dataset, "phases", "I1,growth,2018-01-01", "I1,growth,2014-01-01")
    message = _error(tiny_dataset)
    assert (
        "phases.csv, row 2 (line 3), column 'entered_on': expected entered_on on or after the initiative's founded_on" in message
    )
    assert "expected phases entered in the order plan, start, growth, mature" in message


def test_duplicate_id(tiny_dataset):
    _replace(tiny_dataset, "funding", "F2,", "F1,")
    message = _error(tiny_dataset)
    assert "funding.csv, row 2 (line 3), column 'funding_id': duplicate key (funding_id='F1'); each must be unique" in message


def test_unknown_category(tiny_dataset):
    _replace(tiny_dataset, "initiatives", ",hybrid,", ",hybride,")
    message = _error(tiny_dataset)
    assert (
        "initiatives.csv, row 2 (line 3), column 'value_model': expected one of: social, hybrid, commercial, got 'hybride'"
        in message
    )


def test_orphan_foreign_key(tiny_dataset):
    _replace(tiny_dataset, "assessments", "A2,I2", "A2,I7")
    message = _error(tiny_dataset)
    assert (
        "assessments.csv, row 2 (line 3), column 'initiative_id': initiative_id='I7' does not exist in table initiatives"
        in message
    )


def test_empty_file(tiny_dataset):
    (tiny_dataset / "impact.csv").write_text("")
    message = _error(tiny_dataset)
    assert "impact.csv: the file is empty; expected a header row" in message


def test_not_utf8(tiny_dataset):
    path = tiny_dataset / "initiatives.csv"
    path.write_bytes(path.read_text(encoding="utf-8").replace("Buurtkeuken", "Caf\u00e9keuken").encode("cp1252"))
    message = _error(tiny_dataset)
    assert re.search(r"initiatives.csv: the file is not UTF-8: byte 0xe9 at line 2", message)


def test_municipality_code_stays_text(tiny_dataset):
    _replace(tiny_dataset, "initiatives", "GM0363", "363")
    message = _error(tiny_dataset)
    assert "column 'municipality_code': expected text matching GM\\d{4}, got '363'" in message


def test_all_problems_listed_at_once_and_capped(tiny_dataset):
    lines = [
        "funding_id,initiative_id,source,purpose,applied_on,decided_on,amount_requested,amount_granted,status,multi_year,term_years"
    ]
    lines += [f"X{i},I1,fund_grant,project,2019-01-01,2019-02-01,-1,0,rejected,false,1" for i in range(30)]
    (tiny_dataset / "funding.csv").write_text("\n".join(lines) + "\n")
    message = _error(tiny_dataset)
    assert message.startswith("30 problem(s) in the data:")
    assert "... and 10 more problem(s) in" in message


def test_source_not_found():
    with pytest.raises(FileNotFoundError, match="data source not found: /nonexistent"):
        maexlab.load("/nonexistent")


def test_parquet_and_duckdb_sources_match_csv(tiny_dataset, tmp_path):
    import duckdb
    import pandas as pd

    csv_data = maexlab.load(tiny_dataset)
    parquet_dir = tmp_path / "pq"
    parquet_dir.mkdir()
    db_path = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(db_path)) as connection:
        for name, df in csv_data.tables.items():
            df.to_parquet(parquet_dir / f"{name}.parquet", index=False)
            connection.register("frame", df)
            connection.execute(f'create table "{name}" as select * from frame')
            connection.unregister("frame")
    for other in (maexlab.load(parquet_dir), maexlab.load(db_path)):
        for name, df in csv_data.tables.items():
            pd.testing.assert_frame_equal(df, other.tables[name], check_dtype=False)


def test_filters(tiny_dataset):
    data = maexlab.load(tiny_dataset)
    assert list(data.filter(municipality="0363").initiatives["initiative_id"]) == ["I1"]
    assert list(data.filter(municipality="Rotterdam").funding["funding_id"]) == ["F3"]
    assert list(data.filter(province="Noord-Holland").funding["funding_id"]) == ["F1", "F2"]
    assert list(data.filter(period=(2019, 2019)).funding["funding_id"]) == ["F2", "F3"]
    with pytest.raises(ValueError, match="unknown province 'Holland'"):
        data.filter(province="Holland")
    with pytest.raises(ValueError, match="municipality 'GM9999' is not in the data"):
        data.filter(municipality="GM9999")


def test_events_outside_the_initiatives_life(tiny_dataset):
    _replace(
        tiny_dataset,
        "funding",
        "F1,I1,government_subsidy,startup,2015-04-01,2015-06-01",
        "F1,I1,government_subsidy,startup,2014-04-01,2015-06-01",
    )
    _replace(tiny_dataset, "assessments", "A1,I2,bank,loan,2019-03-01", "A1,I2,bank,loan,2023-03-01")
    message = _error(tiny_dataset)
    assert (
        "funding.csv, row 1 (line 2), column 'applied_on': expected applied_on on or after the initiative's founded_on" in message
    )
    assert (
        "assessments.csv, row 1 (line 2), column 'assessed_on': expected assessed_on on or before the initiative's closed_on"
        in message
    )


def test_malformed_dataset_json(tiny_dataset):
    (tiny_dataset / "dataset.json").write_text("{synthetic: yes")
    assert "dataset.json: not valid JSON" in _error(tiny_dataset)
    (tiny_dataset / "dataset.json").write_text('{"tables": "initiatives"}')
    assert "'tables' must be a list of table names" in _error(tiny_dataset)
    (tiny_dataset / "dataset.json").write_text('{"synthetic": "yes"}')
    assert "'synthetic' must be true or false; got 'yes'" in _error(tiny_dataset)


def test_csv_and_parquet_of_one_table_is_ambiguous(tiny_dataset):
    maexlab.load(tiny_dataset).funding.to_parquet(tiny_dataset / "funding.parquet")
    assert "both funding.csv and funding.parquet exist" in _error(tiny_dataset)


def test_bad_source_and_period_arguments(tiny_dataset):
    with pytest.raises(TypeError, match="data source must be 'embedded', a folder or a .duckdb file path; got None"):
        maexlab.load(None)
    with pytest.raises(ValueError, match="is a single .csv file: give the folder"):
        maexlab.load(tiny_dataset / "funding.csv")
    with pytest.raises(ValueError, match=r"period must be \(first_year, last_year\)"):
        maexlab.load(tiny_dataset, period=2018)
    with pytest.raises(ValueError, match="period years must be whole numbers or None"):
        maexlab.load(tiny_dataset, period=("2018", "2020"))
    with pytest.raises(ValueError, match="period starts after it ends"):
        maexlab.load(tiny_dataset, period=(2024, 2018))
    assert len(maexlab.load(tiny_dataset, period=(2019, None)).funding) == 2


def test_present_but_empty_is_not_missing(tiny_dataset):
    # A notebook used to call a column "missing" though the source has it, empty.
    text = (tiny_dataset / "funding.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    header = lines[0].split(",")
    at = header.index("decided_on")
    rows = [",".join("" if i == at else cell for i, cell in enumerate(line.split(","))) for line in lines[1:]]
    (tiny_dataset / "funding.csv").write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    data = maexlab.load(tiny_dataset)
    assert data.why_missing("funding", "decided_on") == "present but empty"
    assert data.why_missing("funding", "no_such_column") == "missing"
    assert data.why_missing("funding", "amount_requested") is None
    assert "decided_on" in data.empty_columns()["funding"]
    assert data.missing({"funding": ("decided_on",)}, explain=True) == ["column funding.decided_on (present but empty)"]
    assert data.missing({"funding": ("decided_on",)}) == ["column funding.decided_on"]  # the old phrase is unchanged
    assert "required column funding.decided_on is present but empty in all 3 rows" in data.warnings()


def test_validate_warns_about_empty_tables_and_columns(tiny_dataset, capsys):
    from maexlab.cli import main

    (tiny_dataset / "assessments.csv").write_text(TINY_HEADER_ASSESSMENTS + "\n", encoding="utf-8")
    assert main(["data", "validate", str(tiny_dataset)]) == 0
    out = capsys.readouterr().out
    assert "warning: table assessments is present but has no rows" in out
    assert "valid, with 1 warning(s) above" in out


def test_outside_link_allowed_only_when_asked(tiny_dataset, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes((tiny_dataset / "funding.csv").read_bytes())
    (tiny_dataset / "funding.csv").unlink()
    (tiny_dataset / "funding.csv").symlink_to(outside)
    with pytest.raises(DataValidationError, match="symbolic link that leads out of the dataset folder"):
        maexlab.load(tiny_dataset)
    assert len(maexlab.load(tiny_dataset, allow_outside_links=True).funding) == 3


TINY_HEADER_ASSESSMENTS = (
    "assessment_id,initiative_id,investor_type,instrument,assessed_on,decision,amount_offered,valuation,interest_rate"
)
