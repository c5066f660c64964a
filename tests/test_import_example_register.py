"""The worked subsidy-register example (docs/examples/subsidieregister.yaml) imports as documented.

Written from the documentation only (docs/importing.md, data/README.md): the counts and
reasons below are what the source files contain, checked against import_report.json and
quarantine/funding.csv, whose layout docs/importing.md describes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import maexlab
from maexlab.mapping import import_mapping

REPO = Path(__file__).resolve().parents[1]
MAPPING = REPO / "docs" / "examples" / "subsidieregister.yaml"

# Values from the personal columns (Contactpersoon, E-mail, Telefoon) of subsidieregister.csv.
PERSONAL_VALUES = ["contact@example.nl", "06-12345678", "de Vries", "Jansen", "Bakker"]

# The deliberately bad register rows: dossier -> the start of the reason in the quarantine.
EXPECTED_QUARANTINE = {
    "SUB-2017-007": "column 'Aangevraagd bedrag' -> amount_requested: cannot read 'onbekend' as an amount",
    "SUB-2018-019": "column 'Status' -> status: unmapped category 'Vervallen'",
    "SUB-2019-033": "canonical check on funding.amount_granted",
}
# Applications dated before the organisation's founding date (from the other file) are
# quarantined by the canonical check that events fall within the initiative's life.
BEFORE_FOUNDING = ["SUB-2017-006", "SUB-2018-013", "SUB-2018-017", "SUB-2018-023", "SUB-2019-026", "SUB-2019-034", "SUB-2019-035"]
EXPECTED_QUARANTINE.update(
    {
        d: "canonical check on funding.applied_on: expected applied_on on or after the initiative's founded_on"
        for d in BEFORE_FOUNDING
    }
)


def _import(tmp_path: Path) -> tuple[Path, dict]:
    out = tmp_path / "out"
    result = import_mapping(str(MAPPING), str(out))
    assert "60 read, 50 loaded, 10 quarantined" in result.summary()
    report = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    return out, report


def test_counts_add_up_and_bad_rows_are_quarantined(tmp_path):
    out, report = _import(tmp_path)
    by_name = {m["name"]: m for m in report["mappings"]}
    assert set(by_name) == {"organisaties", "subsidieregister"}

    for m in by_name.values():
        assert m["rows_read"] == m["rows_loaded"] + m["rows_quarantined"], m["name"]

    orgs, register = by_name["organisaties"], by_name["subsidieregister"]
    assert (orgs["rows_read"], orgs["rows_loaded"], orgs["rows_quarantined"]) == (8, 8, 0)
    assert (register["rows_read"], register["rows_loaded"], register["rows_quarantined"]) == (60, 50, 10)
    assert register["quarantine_reasons"] == {
        "canonical check": 8,
        "unmapped category": 1,
        "unreadable value": 1,
    }
    assert sorted(register["personal_columns_dropped"]) == ["Contactpersoon", "E-mail", "Telefoon"]
    # The three mm/yyyy decision dates were filled with the declared rule, and counted.
    assert register["date_precision"]["decided_on"]["month"] == 3
    assert register["date_precision"]["decided_on"]["rule"] == "last"
    assert orgs["date_precision"]["founded_on"] == {"day": 1, "month": 3, "year": 4, "rule": "first"}
    assert report["tables"] == {"initiatives": 8, "funding": 50}

    # Only the funding mapping quarantined anything.
    assert not (out / "quarantine" / "initiatives.csv").exists()
    with open(out / "quarantine" / "funding.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10
    reasons = {row["Dossiernummer"]: row["reason"] for row in rows}
    assert set(reasons) == set(EXPECTED_QUARANTINE)
    for dossier, start in EXPECTED_QUARANTINE.items():
        assert reasons[dossier].startswith(start), (dossier, reasons[dossier])
    # source_row counts data rows from 1; source_line is the file line (header = line 1).
    lines = {row["Dossiernummer"]: (int(row["source_row"]), int(row["source_line"])) for row in rows}
    assert {d: lines[d] for d in ("SUB-2017-007", "SUB-2018-019", "SUB-2019-033")} == {
        "SUB-2017-007": (8, 9),
        "SUB-2018-019": (20, 21),
        "SUB-2019-033": (34, 35),
    }
    for row in rows:
        assert row["mapping"] == "subsidieregister"
        for personal in ("Contactpersoon", "E-mail", "Telefoon"):
            assert personal not in row


def test_no_personal_value_in_any_output_file(tmp_path):
    out, _ = _import(tmp_path)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8").casefold()
        for value in PERSONAL_VALUES:
            assert value.casefold() not in text, f"{value!r} found in {path.relative_to(out)}"


def test_output_loads_and_joins(tmp_path):
    out, _ = _import(tmp_path)
    data = maexlab.load(str(out))
    assert data.synthetic is False
    assert len(data.initiatives) == 8
    assert len(data.funding) == 50
    # Every application found its organisation through the KvK join.
    assert set(data.funding["initiative_id"]) <= set(data.initiatives["initiative_id"])
    # The CBS code stored as a number in Excel is restored as text with GM prefix.
    assert set(data.initiatives["municipality_code"]) == {"GM0344", "GM0363", "GM0599", "GM0772"}
    # Dutch money: "€ 15.000" is 15000 and "€ 1.234,56" is 1234.56, never 15 or 1.23456.
    requested = data.funding.set_index("funding_id")["amount_requested"]
    assert float(requested["SUB-2020-039"]) == 15000.0
    assert float(requested["SUB-2017-003"]) == 1234.56
    statuses = set(data.funding["status"].astype(str))
    assert statuses == {"granted", "partial", "rejected", "pending", "withdrawn"}
