"""Bring your own data: the mapping format, the parsers, quarantine, personal data, Kiva."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from maexlab.cli import main
from maexlab.data.loader import load
from maexlab.data.schema import PURPOSES
from maexlab.mapping import MappingError, import_mapping, parsers
from maexlab.mapping.parsers import ValueProblem, parse_bool, parse_category, parse_date, parse_number

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mapping"
DUTCH = FIXTURES / "dutch.yaml"
REPO = Path(__file__).resolve().parents[1]
KIVA_MAPPING = REPO / "docs" / "examples" / "kiva.yaml"
PERSONAL_VALUES = [
    "José",
    "Müller",
    "jose@example.nl",
    "ellen@example.nl",
    "Ölçer",
    "Jan Jansen",
    "Marieke de Vries",
    "Els Smit",
    "Pieter Bakker",
]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def all_output_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", errors="replace") for p in folder.rglob("*") if p.is_file())


# --- parsers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("€ 15.000", ",", 15000.0),
        ("1.234,56", ",", 1234.56),
        ("EUR 2.500,-", ",", 2500.0),
        ("€2.500,--", ",", 2500.0),
        ("EUR 2.500,-", "auto", 2500.0),
        ("15.000 EUR", ",", 15000.0),
        ("1.234", ",", 1234.0),  # ambiguous: follows the declared decimal mark
        ("1.234", ".", 1.234),
        ("1,234.56", ".", 1234.56),
        ("$1,234,567.5", ".", 1234567.5),
        ("USD 300", "auto", 300.0),
        ("1 234,5", ",", 1234.5),
        ("- € 25,50", ",", -25.5),
        ("(100)", ".", -100.0),
        ("175.0", "auto", 175.0),
        ("0,125", "auto", 0.125),
        ("1.234,56", "auto", 1234.56),
        ("1,234.56", "auto", 1234.56),
        ("12,5", "auto", 12.5),
        (1500, ",", 1500.0),
        (12.5, ",", 12.5),
    ],
)
def test_money(text, decimal, expected):
    assert parse_number(text, decimal, money=True) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "decimal", "match"),
    [
        ("1.234", "auto", "ambiguous"),
        ("1,234.56", ",", "declares decimal ','"),
        ("EUR 2.500,-", ".", "declares decimal '.'"),
        ("1,5", ".", "not grouped by three"),
        ("12.34.5", ",", "not grouped by three"),
        ("veel", ",", "cannot read 'veel'"),
        ("€ 1,2,3", ",", "more than once|cannot read"),
    ],
)
def test_money_problems(text, decimal, match):
    with pytest.raises(ValueProblem, match=match):
        parse_number(text, decimal, money=True)


def test_numbers_refuse_currency_and_booleans():
    assert parse_number("14.0", ".") == 14.0
    assert parse_number("1e3", ".") == 1000.0
    with pytest.raises(ValueProblem):
        parse_number("€ 5", ",")
    with pytest.raises(ValueProblem, match="boolean"):
        parse_number(True, ".")


def test_declared_thousands_mark_is_enforced():
    assert parse_number("1.234.567", ",", ".") == 1234567.0
    with pytest.raises(ValueProblem, match="declares thousands"):
        parse_number("1,234", ".", ".")


def test_arithmetic_scale_divide_round():
    assert parsers.apply_arithmetic(14, None, 12, "ceil") == 2
    assert parsers.apply_arithmetic(12, None, 12, "ceil") == 1
    assert parsers.apply_arithmetic(36, None, 12, "ceil") == 3
    assert parsers.apply_arithmetic(225, 0.9, None, 2) == 202.5
    assert parsers.apply_arithmetic(2.5, None, None, "nearest") == 3
    assert parsers.apply_arithmetic(2.5, None, None, "floor") == 2


@pytest.mark.parametrize(
    ("text", "fmt", "expected", "precision"),
    [
        ("2018-12-05", "iso", dt.date(2018, 12, 5), "day"),
        ("2017-02-14 07:14:28+00:00", "iso", dt.date(2017, 2, 14), "day"),
        ("2017-02-14T23:59:59Z", "auto", dt.date(2017, 2, 14), "day"),
        ("20181205", "iso", dt.date(2018, 12, 5), "day"),
        ("05-12-2018", "dmy", dt.date(2018, 12, 5), "day"),
        ("5/12/2018", "auto", dt.date(2018, 12, 5), "day"),
        ("12/05/2018", "mdy", dt.date(2018, 12, 5), "day"),
        ("05.12.2018 14:00", "dmy", dt.date(2018, 12, 5), "day"),
        ("5 december 2018", "auto", dt.date(2018, 12, 5), "day"),
        ("5 mei 2018", "dmy", dt.date(2018, 5, 5), "day"),
        ("March 3, 2019", "mdy", dt.date(2019, 3, 3), "day"),
        ("2018-12-05", "dmy", dt.date(2018, 12, 5), "day"),  # year-first is never ambiguous
        (dt.datetime(2020, 1, 2, 13, 0), "auto", dt.date(2020, 1, 2), "day"),
        (pd.Timestamp("2020-01-02"), "iso", dt.date(2020, 1, 2), "day"),
    ],
)
def test_dates(text, fmt, expected, precision):
    assert parse_date(text, fmt) == (expected, precision)


@pytest.mark.parametrize(
    ("text", "rule", "expected", "precision"),
    [
        ("2018-12", "first", dt.date(2018, 12, 1), "month"),
        ("2018-12", "last", dt.date(2018, 12, 31), "month"),
        ("2018-12", "middle", dt.date(2018, 12, 15), "month"),
        ("2020-02", "last", dt.date(2020, 2, 29), "month"),
        ("12-2018", "first", dt.date(2018, 12, 1), "month"),
        ("dec 2018", "last", dt.date(2018, 12, 31), "month"),
        ("2021", "first", dt.date(2021, 1, 1), "year"),
        ("2021", "last", dt.date(2021, 12, 31), "year"),
        ("2021", "middle", dt.date(2021, 7, 1), "year"),
        (2021, "middle", dt.date(2021, 7, 1), "year"),
    ],
)
def test_partial_dates(text, rule, expected, precision):
    assert parse_date(text, "auto", rule) == (expected, precision)


@pytest.mark.parametrize(
    ("text", "fmt", "match"),
    [
        ("2018-12", "iso", "partial date \\(month only\\)"),
        ("2021", "auto", "partial date \\(year only\\)"),
        ("31-02-2020", "dmy", "day is out of range"),
        ("02/13/2020", "dmy", "is the date_format right"),
        ("05-12-2018", "iso", "date_format iso"),
        ("5 brumaire 2018", "auto", "unknown month name"),
        ("gisteren", "auto", "cannot read 'gisteren' as a date"),
    ],
)
def test_date_problems(text, fmt, match):
    with pytest.raises(ValueProblem, match=match):
        parse_date(text, fmt, "keep")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ja", True), ("Nee", False), ("yes", True), ("NO", False), ("true", True), ("False", False),
     ("1", True), ("0", False), ("waar", True), ("onwaar", False), (1, True), (0.0, False), (True, True)],
)  # fmt: skip
def test_booleans(text, expected):
    assert parse_bool(text) is expected


def test_boolean_problem():
    with pytest.raises(ValueProblem, match="ja/nee"):
        parse_bool("misschien")


def test_categories():
    assert parse_category("Project", PURPOSES) == "project"
    assert parse_category("iets", ("stichting", "unknown"), unknown=True) == "unknown"
    with pytest.raises(ValueProblem, match="unmapped category 'Eenmalig'"):
        parse_category("Eenmalig", PURPOSES)
    assert parsers.lookup({"Eenmalig": "project", "Periodiek": "operations"}, " eenmalig ") == (True, "project")


# --- the Dutch example: two files joined into one dataset ----------------------------------


@pytest.fixture
def dutch(tmp_path: Path):
    out = tmp_path / "out"
    report = import_mapping(DUTCH, out, max_quarantine=1)
    return report, out


def test_dutch_import_counts_and_quarantine(dutch):
    report, out = dutch
    by_name = {m.name: m for m in report.mappings}
    orgs, apps = by_name["organisaties"], by_name["aanvragen"]
    for m in report.mappings:
        assert m.rows_read == m.rows_loaded + m.rows_quarantined
    assert (orgs.rows_read, orgs.rows_loaded, orgs.rows_quarantined) == (4, 2, 2)
    assert (apps.rows_read, apps.rows_loaded, apps.rows_quarantined) == (12, 5, 7)
    assert apps.quarantine_reasons == {
        "canonical check": 2, "join: no match": 2, "required field empty": 1, "unmapped category": 1, "unreadable value": 1,
    }  # fmt: skip
    assert report.tables == {"initiatives": 2, "funding": 5}

    quarantine = pd.read_csv(out / "quarantine" / "funding.csv", dtype=str, keep_default_na=False)
    assert len(quarantine) == apps.rows_quarantined
    assert list(quarantine.columns[:6]) == ["mapping", "source_file", "source_row", "source_line", "primary_reason", "reason"]
    reasons = dict(zip(quarantine["Dossier"], quarantine["reason"], strict=True))
    assert "unmapped category 'Iets anders'" in reasons["D-004"]
    assert "cannot read 'veel' as an amount" in reasons["D-005"]
    assert "0 < amount_granted < amount_requested" in reasons["D-006"]  # canonical validation
    assert "no row has KvK='99999999'" in reasons["D-007"]
    # Its organisation (founded "2030") is quarantined too; the row fails against it or is orphaned.
    assert (
        "does not exist in table initiatives" in reasons["D-008"] or "on or after the initiative's founded_on" in reasons["D-008"]
    )
    assert "required field applied_on is empty" in reasons["D-010"]
    assert "was quarantined" in reasons["D-012"]
    row = quarantine.set_index("Dossier").loc["D-004"]
    assert (row["source_file"], row["source_row"], row["source_line"]) == ("aanvragen.csv", "4", "5")
    assert row["Gevraagd"] == "€ 7.500"  # the original source cell, decoded from cp1252

    report_json = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    assert report_json["tables"] == {"initiatives": 2, "funding": 5}
    assert report_json["mappings"][0]["date_precision"]["founded_on"] == {"day": 1, "month": 1, "year": 1, "rule": "first"}


def test_dutch_import_values_and_load(dutch):
    _, out = dutch
    data = load(out)
    assert data.synthetic is False
    funding = data.funding.set_index("amount_requested")
    assert funding.loc[20000.0, "amount_granted"] == 5000.5  # "EUR 20.000,-" and "5.000,50"
    assert funding.loc[20000.0, "purpose"] == "operations"  # Periodiek
    assert bool(funding.loc[20000.0, "multi_year"]) is True  # ja
    assert funding.loc[1234.56, "applied_on"] == pd.Timestamp("2018-12-01")  # "2018-12", rule first
    assert funding.loc[3000.0, "status"] == "pending" and pd.isna(funding.loc[3000.0, "amount_granted"])
    initiatives = data.initiatives.set_index("name")
    assert initiatives.loc["Buurtkeuken Oost", "founded_on"] == pd.Timestamp("2015-03-01")  # "03-2015"
    assert initiatives.loc["Fietsfabriek", "legal_form"] == "bv"
    assert set(data.funding["initiative_id"]) <= set(data.initiatives["initiative_id"])  # joined on KvK
    metadata = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    assert metadata["synthetic"] is False and metadata["tables"] == ["funding", "initiatives"]
    assert main(["data", "validate", str(out)]) == 0


def test_personal_columns_never_reach_output(dutch):
    report, out = dutch
    text = all_output_text(out)
    for value in PERSONAL_VALUES:
        assert value not in text, value
    for name in ("Aanvrager", "E-mail", "Contactpersoon"):
        assert name not in pd.read_csv(out / "quarantine" / "funding.csv").columns
    assert {m.name: m.personal_columns_dropped for m in report.mappings}["aanvragen"] == ["Aanvrager", "E-mail"]


def test_derived_ids_are_stable(tmp_path: Path):
    import_mapping(DUTCH, tmp_path / "a", max_quarantine=1)
    import_mapping(DUTCH, tmp_path / "b", max_quarantine=1)
    for name in ("funding.csv", "initiatives.csv", "quarantine/funding.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    funding = pd.read_csv(tmp_path / "a" / "funding.csv")
    assert funding["funding_id"].str.fullmatch(r"F-[0-9a-f]{12}").all()


def test_reimport_replaces_a_previous_import(tmp_path: Path):
    out = tmp_path / "out"
    import_mapping(DUTCH, out, max_quarantine=1)
    (out / "stale.txt").write_text("old", encoding="utf-8")
    import_mapping(DUTCH, out, max_quarantine=1)
    assert not (out / "stale.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(MappingError, match="not a dataset folder written by maexlab"):
        import_mapping(DUTCH, out, max_quarantine=1)
    assert (out / "thesis.docx").read_text(encoding="utf-8") == "precious"


# --- other formats ---------------------------------------------------------------------------

FUNDING_BLOCK = """
    target: funding
    columns:
      funding_id: ref
      initiative_id: org
      applied_on: {{column: applied, parse: date, date_format: {date_format}}}
      amount_requested: {{column: asked, parse: money}}
      amount_granted: {{column: got, parse: money}}
      status: {{rule: coverage}}
      decided_on: {{column: decided, parse: date}}
    constants: {{source: fund_grant, purpose: project}}
"""


def funding_mapping(tmp_path: Path, source: str, date_format: str = "auto", extra: str = "") -> Path:
    text = (
        "dataset: {synthetic: false}\ntables:\n  - name: grants\n    source: "
        + source
        + FUNDING_BLOCK.format(date_format=date_format)
        + extra
    )
    return write(tmp_path / "mapping.yaml", text)


def test_excel_source(tmp_path: Path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Voorblad"
    sheet = book.create_sheet("Aanvragen")
    sheet.append(["ref", "org", "applied", "decided", "asked", "got"])
    sheet.append(["G1", "0363", dt.datetime(2020, 3, 1), dt.datetime(2020, 5, 1), 10000, 2500.5])
    sheet.append([])  # blank rows are skipped
    sheet.append(["G2", "0599", "2021-06", None, "€ 5.000", None])
    sheet.append(["G3", 518, dt.datetime(2021, 1, 1), None, "abc", 0])
    book.save(tmp_path / "aanvragen.xlsx")
    mapping = funding_mapping(tmp_path, "{path: aanvragen.xlsx, sheet: Aanvragen, decimal: ','}")
    text = mapping.read_text(encoding="utf-8").replace("date_format: auto}", "date_format: auto, date_precision: last}")
    mapping.write_text(text, encoding="utf-8")
    report = import_mapping(mapping, tmp_path / "out")
    grants = report.mappings[0]
    assert (grants.rows_read, grants.rows_loaded, grants.rows_quarantined) == (3, 2, 1)
    funding = load(tmp_path / "out").funding.set_index("funding_id")
    assert funding.loc["G1", "status"] == "partial" and funding.loc["G1", "amount_granted"] == 2500.5
    assert funding.loc["G2", "applied_on"] == pd.Timestamp("2021-06-30") and funding.loc["G2", "status"] == "pending"
    assert funding.loc["G1", "initiative_id"] == "0363"
    quarantine = pd.read_csv(tmp_path / "out" / "quarantine" / "funding.csv", dtype=str)
    assert quarantine.loc[0, "source_line"] == "5"  # the sheet row (header is row 1, row 3 is blank)
    assert quarantine.loc[0, "org"] == "518"  # an integral number cell loses its ".0"


def test_excel_unknown_sheet_names_the_mapping_line(tmp_path: Path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["ref"])
    book.save(tmp_path / "a.xlsx")
    mapping = funding_mapping(tmp_path, "{path: a.xlsx, sheet: Blad9}")
    with pytest.raises(MappingError, match=r"mapping.yaml, line 4: sheet 'Blad9' does not exist in a.xlsx \(sheets: Sheet\)"):
        import_mapping(mapping, tmp_path / "out")


JSON_RECORDS = [
    {
        "ref": "J1",
        "org": "A",
        "applied": "2020-01-15",
        "decided": "2020-03-01",
        "asked": 1000,
        "got": 1000,
        "mail": "a@example.nl",
    },
    {"ref": "J2", "org": "A", "applied": "2020-06-15", "decided": None, "asked": 500.5, "got": 0, "mail": "a@example.nl"},
    {"ref": "J3", "org": "B", "applied": "not a date", "asked": 10, "got": 10, "mail": "b@example.nl"},
]


def test_json_array_and_derived_initiatives(tmp_path: Path):
    write(tmp_path / "grants.json", json.dumps(JSON_RECORDS))
    derive = """    personal: [mail]
  - name: orgs
    target: initiatives
    derive:
      from: grants
      key: initiative_id
      aggregate:
        founded_on: {min: applied_on}
        joined_on: {min: applied_on}
    columns:
      name: org
    constants: {legal_form: unknown, value_model: social, theme: unknown, observed_until: 2025-12-31}
"""
    report = import_mapping(funding_mapping(tmp_path, "{path: grants.json}", "iso", derive), tmp_path / "out")
    assert [(m.name, m.rows_read, m.rows_loaded, m.rows_quarantined) for m in report.mappings] == [
        ("grants", 3, 2, 1),
        ("orgs", 1, 1, 0),
    ]
    data = load(tmp_path / "out")
    assert data.initiatives.to_dict("records")[0]["founded_on"] == pd.Timestamp("2020-01-15")
    assert data.funding.set_index("funding_id").loc["J2", "status"] == "rejected"
    assert "example.nl" not in all_output_text(tmp_path / "out")


def test_json_lines_with_salted_personal_keys(tmp_path: Path, monkeypatch):
    lines = "\n".join(json.dumps(r) for r in JSON_RECORDS[:2]) + "\n\n"
    write(tmp_path / "grants.jsonl", lines)
    text = funding_mapping(tmp_path, "{path: grants.jsonl}", "iso").read_text(encoding="utf-8")
    text = text.replace("      initiative_id: org\n", "").replace(
        "dataset: {synthetic: false}\n", "dataset: {synthetic: false}\nsalt_env: TEST_MAEX_SALT\n"
    )
    text += "    personal_keys: {mail: {field: initiative_id, prefix: P-}}\n"
    mapping = write(tmp_path / "mapping.yaml", text)

    monkeypatch.delenv("TEST_MAEX_SALT", raising=False)
    with pytest.raises(MappingError, match="line 2: salt_env names 'TEST_MAEX_SALT' but that environment variable is not set"):
        import_mapping(mapping, tmp_path / "out")

    monkeypatch.setenv("TEST_MAEX_SALT", "pepper")
    import_mapping(mapping, tmp_path / "one")
    import_mapping(mapping, tmp_path / "two")
    monkeypatch.setenv("TEST_MAEX_SALT", "other")
    import_mapping(mapping, tmp_path / "three")
    ids = [pd.read_csv(tmp_path / d / "funding.csv")["initiative_id"].tolist() for d in ("one", "two", "three")]
    assert ids[0] == ids[1] and ids[0] != ids[2]
    assert ids[0][0] == ids[0][1] and ids[0][0].startswith("P-")  # the same person -> the same key
    assert "a@example.nl" not in all_output_text(tmp_path / "one")


def test_json_lines_error_names_line(tmp_path: Path):
    write(tmp_path / "grants.jsonl", json.dumps(JSON_RECORDS[0]) + "\n{not json}\n")
    with pytest.raises(MappingError, match=r"grants.jsonl, line 2, column 2: not valid JSON"):
        import_mapping(funding_mapping(tmp_path, "{path: grants.jsonl}"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_parquet_source(tmp_path: Path):
    frame = pd.DataFrame({
        "ref": ["P1", "P2"], "org": ["X", "Y"],
        "applied": pd.to_datetime(["2019-01-01", "2019-02-01"]), "decided": pd.to_datetime(["2019-03-01", None]),
        "asked": [100.0, 200.0], "got": [100.0, float("nan")],
    })  # fmt: skip
    frame.to_parquet(tmp_path / "grants.parquet", index=False)
    report = import_mapping(funding_mapping(tmp_path, "{path: grants.parquet}"), tmp_path / "out")
    assert report.tables == {"funding": 2}
    funding = load(tmp_path / "out").funding
    assert funding["status"].tolist() == ["granted", "pending"]
    assert funding["applied_on"].tolist() == [pd.Timestamp("2019-01-01"), pd.Timestamp("2019-02-01")]


def test_partial_dataset_loads(tmp_path: Path):
    write(tmp_path / "grants.json", json.dumps(JSON_RECORDS[:2]))
    import_mapping(funding_mapping(tmp_path, "{path: grants.json}"), tmp_path / "out")
    data = load(tmp_path / "out")
    assert data.initiatives is None and len(data.funding) == 2
    assert json.loads((tmp_path / "out" / "dataset.json").read_text(encoding="utf-8"))["tables"] == ["funding"]


def test_env_var_in_source_path(tmp_path: Path, monkeypatch):
    write(tmp_path / "grants.json", json.dumps(JSON_RECORDS[:2]))
    monkeypatch.setenv("TEST_MAEX_DATA", str(tmp_path))
    mapping = funding_mapping(tmp_path, "{path: '${TEST_MAEX_DATA}/grants.json'}")
    assert import_mapping(mapping, tmp_path / "out").tables == {"funding": 2}
    monkeypatch.delenv("TEST_MAEX_DATA")
    with pytest.raises(MappingError, match=r"line 4: source path uses \$\{TEST_MAEX_DATA\}"):
        import_mapping(mapping, tmp_path / "out2")


# --- mapping-level problems: stop before anything is written ---------------------------------


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DUTCH.read_text(encoding="utf-8")
    assert old in text
    for name in ("aanvragen.csv", "organisaties.csv"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    return write(tmp_path / "mapping.yaml", text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "match"),
    [
        ("target: funding", "target: subsidies", "target: subsidies", "unknown target table 'subsidies'"),
        ("      name: Naam", "      naam: Naam", "naam: Naam", "unknown field 'naam' for table initiatives"),
        ("parse: money}", "parse: euros}", "parse: euros", "unknown parser 'euros'"),
        ("date_format: dmy}", "date_format: ddmmyy}", "date_format: ddmmyy", "unknown date_format 'ddmmyy'"),
        ("Sociaal: social,", "Sociaal: sociaal,", "Sociaal: sociaal", "maps to an invalid value for initiatives.value_model"),
        (
            "      source: government_subsidy",
            "      source: gemeente",
            "source: gemeente",
            "constant funding.source: 'gemeente' is not one of",
        ),
        (
            "      multi_year: {column: Meerjarig, parse: bool}",
            "      multi_year: {column: Meerjarig, parse: date}",
            "multi_year:",
            "parser 'date' cannot fill field 'multi_year'",
        ),
        ("      name: Naam", "      name: Naam\n      name: Naam2", "name: Naam2", "duplicate key 'name'"),
        ("      value_model:", "      value_modle:", "value_modle", "unknown field 'value_modle'"),
        (
            "    personal: [Aanvrager, E-mail]",
            "    personal: [Aanvrager, E-mail]\n    persnal: [x]",
            "persnal",
            "unknown key 'persnal'",
        ),
        (
            "      amount_requested: {column: Gevraagd, parse: money}",
            "      amount_requested: {column: Aanvrager, parse: money}",
            "amount_requested",
            "column 'Aanvrager' is declared personal",
        ),
    ],
)
def test_mapping_errors_name_the_line(tmp_path: Path, old, new, needle, match):
    mapping = broken(tmp_path, old, new)
    with pytest.raises(MappingError, match=match) as caught:
        import_mapping(mapping, tmp_path / "out")
    line = line_of(mapping, needle)
    assert any(f"mapping.yaml, line {line}" in m for m in caught.value.messages), caught.value.messages
    assert not (tmp_path / "out").exists()


def test_missing_required_field_names_the_block(tmp_path: Path):
    mapping = broken(
        tmp_path, "      founded_on: {column: Opgericht, parse: date, date_format: dmy, date_precision: first}\n", ""
    )
    with pytest.raises(
        MappingError,
        match=rf"line {line_of(mapping, '- name: organisaties')}: mapping 'organisaties': table initiatives needs field 'founded_on'",
    ):
        import_mapping(mapping, tmp_path / "out")


def test_source_column_missing_names_line_and_file(tmp_path: Path):
    mapping = broken(tmp_path, "{column: Gevraagd,", "{column: Gevraagd bedrag,")
    with pytest.raises(MappingError) as caught:
        import_mapping(mapping, tmp_path / "out")
    line = line_of(mapping, "Gevraagd bedrag")
    assert f"mapping.yaml, line {line}: column 'Gevraagd bedrag' is not in aanvragen.csv (its columns: Dossier, KvK" in str(
        caught.value
    )
    assert not (tmp_path / "out").exists()


def test_missing_source_file(tmp_path: Path):
    mapping = broken(tmp_path, "path: aanvragen.csv", "path: aanvragen-2024.csv")
    with pytest.raises(
        MappingError, match=rf"line {line_of(mapping, 'aanvragen-2024.csv')}: source file not found: .*aanvragen-2024.csv"
    ):
        import_mapping(mapping, tmp_path / "out")


def test_undecodable_source_names_file_line_and_byte(tmp_path: Path):
    mapping = broken(
        tmp_path,
        '      encoding: cp1252\n      decimal: ","\n    target: funding',
        '      encoding: utf-8\n      decimal: ","\n    target: funding',
    )
    with pytest.raises(
        MappingError, match=r"aanvragen.csv: cannot decode line 2 with the declared encoding 'utf-8': byte 0xe9 at offset \d+"
    ) as caught:
        import_mapping(mapping, tmp_path / "out")
    encoding_line = [i for i, t in enumerate(mapping.read_text(encoding="utf-8").splitlines(), 1) if "encoding: utf-8" in t][0]
    assert f"mapping.yaml, line {encoding_line})" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_malformed_yaml_names_the_line(tmp_path: Path):
    mapping = write(tmp_path / "mapping.yaml", "dataset: {synthetic: false}\ntables:\n  - target: funding\n    columns: [a, b\n")
    with pytest.raises(MappingError, match=r"mapping.yaml, line \d: malformed YAML"):
        import_mapping(mapping, tmp_path / "out")


def test_python_tag_is_refused(tmp_path: Path):
    mapping = write(
        tmp_path / "mapping.yaml",
        "dataset: {synthetic: false}\ntables:\n  - target: !!python/object/apply:os.system ['echo hi']\n",
    )
    with pytest.raises(
        MappingError, match=r"mapping.yaml, line 3: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"
    ):
        import_mapping(mapping, tmp_path / "out")


def test_all_mapping_problems_are_reported_at_once(tmp_path: Path):
    mapping = broken(tmp_path, "target: funding", "target: subsidies")
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace("parse: date, date_format: dmy, date_precision: first}", "parse: datum}"),
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as caught:
        import_mapping(mapping, tmp_path / "out")
    assert len(caught.value.messages) >= 2


def test_no_half_written_dataset_when_writing_fails(tmp_path: Path, monkeypatch):
    from maexlab.mapping import importer

    out = tmp_path / "out"
    import_mapping(DUTCH, out, max_quarantine=1)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(importer, "replace_folder", fail)
    with pytest.raises(OSError, match="disk full"):
        import_mapping(DUTCH, out, max_quarantine=1)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left behind

    monkeypatch.setattr(importer, "write_dataset", fail)
    with pytest.raises(OSError):
        import_mapping(DUTCH, tmp_path / "new", max_quarantine=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_cli_import(tmp_path: Path, capsys):
    assert main(["data", "import", str(DUTCH), "--out", str(tmp_path / "out"), "--max-quarantine", "1"]) == 0
    printed = capsys.readouterr().out
    assert "aanvragen (aanvragen.csv -> funding): 12 read, 5 loaded, 7 quarantined" in printed
    mapping = broken(tmp_path, "target: funding", "target: subsidies")
    assert main(["data", "import", str(mapping), "--out", str(tmp_path / "bad")]) == 2
    assert "unknown target table 'subsidies'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


# --- the Kiva worked example -----------------------------------------------------------------


def test_kiva_import(shared_real: Path, tmp_path: Path):
    kiva_csv = shared_real / "kiva-loans-sample" / "kiva.csv"
    if not kiva_csv.exists():
        pytest.skip(f"Kiva sample not present at {kiva_csv}")
    report = import_mapping(KIVA_MAPPING, tmp_path / "kiva", sources={"kiva_loans": str(kiva_csv)})
    loans = report.mappings[0]
    assert loans.rows_read == loans.rows_loaded + loans.rows_quarantined
    assert loans.rows_read == 1218
    assert loans.rows_quarantined == 0

    data = load(tmp_path / "kiva")
    assert data.synthetic is False
    assert data.initiatives is None  # funding-only: a partial dataset
    funding = data.funding
    assert len(funding) == 1218
    not_fully_funded = int((funding["amount_granted"] < funding["amount_requested"]).sum())
    assert not_fully_funded == 80  # SOURCE.txt: 80 loans (6.6%) were not fully funded
    full_funding_rate = (funding["status"] == "granted").mean()
    assert full_funding_rate == pytest.approx(1 - 80 / 1218)
    assert funding.loc[funding["status"] != "granted", "decided_on"].isna().all()
    assert set(funding["status"]) == {"granted", "partial", "rejected"}
    assert (funding["term_years"] == funding["term_years"].clip(lower=1)).all()
    assert funding["initiative_id"].is_unique and funding["initiative_id"].str.startswith("KIVA-").all()
    assert "female" not in all_output_text(tmp_path / "kiva")
    assert not math.isnan(funding["amount_requested"].sum())


def test_defaults_unknown_na_values_and_malformed_rows(tmp_path: Path):
    write(
        tmp_path / "orgs.csv",
        "kvk,naam,vorm,thema,opgericht,vrijwilligers\n"
        "1,Alpha,Stichting,Zorg,2015,n.v.t.\n"
        "2,Beta,Maatschap,,2016-04,4\n"
        "3,Gamma,,Zorg,2017,5,extra\n"  # one field too many
        "4,,Stichting,Zorg,2018,1\n",  # name empty, with a default
    )
    mapping = write(
        tmp_path / "mapping.yaml",
        """
tables:
  - source: {path: orgs.csv, na_values: ["n.v.t."]}
    target: initiatives
    id: {hash_of: [kvk], prefix: "I-", length: 8}
    columns:
      name: {column: naam, default: Naamloos}
      legal_form: {column: vorm, unknown: true}
      theme: {column: thema, values: {Zorg: care_wellbeing}, unknown: true}
      founded_on: {column: opgericht, date_precision: middle}
      volunteers: vrijwilligers
    constants: {value_model: social, observed_until: 2024-12-31}
""",
    )
    report = import_mapping(mapping, tmp_path / "out")
    orgs = report.mappings[0]
    assert (orgs.rows_read, orgs.rows_loaded, orgs.rows_quarantined) == (4, 3, 1)
    assert orgs.quarantine_reasons == {"malformed row": 1}
    assert orgs.defaults_used == {"name": 1}
    assert orgs.unknown_filled == {"legal_form": 2, "theme": 1}  # counted over rows read (Gamma is quarantined)
    assert orgs.date_precision["founded_on"] == {"day": 0, "month": 1, "year": 3, "rule": "middle"}
    assert orgs.fields_left_empty == [
        "municipality_code",
        "municipality",
        "province",
        "closed_on",
        "paid_staff_fte",
        "people_reached",
    ]
    initiatives = load(tmp_path / "out").initiatives.set_index("name")
    assert initiatives.loc["Alpha", "founded_on"] == pd.Timestamp("2015-07-01")
    assert pd.isna(initiatives.loc["Alpha", "volunteers"])  # "n.v.t." is empty
    assert initiatives.loc["Beta", "legal_form"] == "unknown" and initiatives.loc["Beta", "theme"] == "unknown"
    assert initiatives.loc["Beta", "founded_on"] == pd.Timestamp("2016-04-15")
    assert "Naamloos" in initiatives.index
    quarantine = pd.read_csv(tmp_path / "out" / "quarantine" / "initiatives.csv", dtype=str)
    assert "the row has 7 fields but the header has 6" in quarantine.loc[0, "reason"]
    assert quarantine.loc[0, "source_line"] == "4"


def test_cli_source_override(tmp_path: Path, capsys):
    import argparse

    from maexlab.mapping import import_command

    write(tmp_path / "elsewhere.json", json.dumps(JSON_RECORDS[:2]))
    mapping = funding_mapping(tmp_path, "{path: missing.json}")
    args = argparse.Namespace(mapping=str(mapping), out=str(tmp_path / "out"), source=[f"grants={tmp_path / 'elsewhere.json'}"])
    assert import_command(args) == 0
    args = argparse.Namespace(mapping=str(mapping), out=str(tmp_path / "out2"), source=str(tmp_path / "elsewhere.json"))
    assert import_command(args) == 0
    assert "grants (" in capsys.readouterr().out
    args = argparse.Namespace(mapping=str(mapping), out=str(tmp_path / "out3"))
    assert import_command(args) == 2
    assert "source file not found" in capsys.readouterr().err


def test_municipality_code_parser_keeps_codes_as_text():
    from maexlab.mapping.parsers import ValueProblem, parse_municipality_code

    assert parse_municipality_code(363) == "GM0363"
    assert parse_municipality_code("0599") == "GM0599"
    assert parse_municipality_code(" gm0014 ") == "GM0014"
    with pytest.raises(ValueProblem, match="'Amsterdam' is not a CBS municipality code"):
        parse_municipality_code("Amsterdam")


def test_quarantine_holds_only_columns_the_mapping_reads(tmp_path: Path):
    source = tmp_path / "apps.csv"
    source.write_text("id,org,amount,notes\nA1,I1,100,call Jan 0612345678\nA2,I1,veel,mail jan@example.nl\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "tables:\n"
        "  - source: {path: apps.csv}\n"
        "    target: funding\n"
        "    columns:\n"
        "      funding_id: id\n"
        "      initiative_id: org\n"
        "      amount_requested: {column: amount, parse: money}\n"
        "    constants: {source: fund_grant, purpose: project, applied_on: 2020-01-01, status: pending}\n",
        encoding="utf-8",
    )
    import_mapping(tmp_path / "m.yaml", tmp_path / "out")
    quarantine = (tmp_path / "out" / "quarantine" / "funding.csv").read_text(encoding="utf-8")
    assert "veel" in quarantine and "notes" not in quarantine and "jan@example.nl" not in quarantine
    with pytest.raises(MappingError, match="is a folder; give the mapping YAML file"):
        import_mapping(tmp_path, tmp_path / "out2")
