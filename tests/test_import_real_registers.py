"""The two real datasets in shared/data/real import through their docs/examples mappings.

For each: rows read = loaded + quarantined + filtered in every block, no personal column (nor
any of its values) reaches a table, the report or a quarantine file, and for the charity
register no removed charity gets a closure date the sources do not give. Skips cleanly where
shared/ is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import maexlab
from maexlab.mapping import import_mapping

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def _all_output_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())


def _counts_add_up(report) -> None:
    for block in report.mappings:
        assert block.rows_read == block.rows_loaded + block.rows_quarantined + block.rows_filtered, block.name
        assert sum(block.quarantine_primary_reasons.values()) == block.rows_quarantined, block.name


def test_kiva_sample_imports(shared_real: Path, tmp_path: Path):
    source = shared_real / "kiva-loans-sample" / "kiva.csv"
    report = import_mapping(EXAMPLES / "kiva.yaml", tmp_path / "kiva", sources={"kiva_loans": str(source)})
    _counts_add_up(report)
    assert report.tables == {"funding": 1218}
    raw = pd.read_csv(source, dtype=str)
    out = tmp_path / "kiva"
    for table in out.glob("*.csv"):
        assert "gender" not in pd.read_csv(table, nrows=0).columns
    assert "gender" not in json.loads((out / "import_report.json").read_text())["mappings"][0]["quarantine_reasons"]
    assert raw["gender"].notna().any()  # the personal column exists in the source and was dropped
    assert maexlab.load(out).funding["status"].eq("granted").sum() == 1138


def test_ni_charity_register_imports(shared_real: Path, tmp_path: Path):
    folder = shared_real / "ni-charity-register"
    register = str(folder / "register.csv")
    sources = {"charities": register, "removed_charities": register, "removal_dates": str(folder / "removals.csv")}
    out = tmp_path / "ni"
    report = import_mapping(EXAMPLES / "ni-charities.yaml", out, sources=sources)
    _counts_add_up(report)
    blocks = {b.name: b for b in report.mappings}
    source = pd.read_csv(register, encoding="cp1252", dtype=str, keep_default_na=False)
    removed = source["Status"].eq("Removed")
    assert blocks["charities"].rows_loaded == int((~removed).sum())
    assert blocks["removed_charities"].rows_loaded + blocks["removed_charities"].rows_quarantined == int(removed.sum())

    # Personal columns: no column name and no value anywhere in the output folder.
    text = _all_output_text(out)
    for column in ("Public address", "Email", "Telephone"):
        assert column not in pd.read_csv(out / "initiatives.csv", nrows=0).columns
        values = [v for v in source[column] if len(v) > 6][:500]
        assert values and not any(v in text for v in values), column

    # Closures: only the removals.csv dates; no removed charity without one gets a date.
    data = maexlab.load(out)
    removals = pd.read_csv(folder / "removals.csv", dtype=str, keep_default_na=False)
    dated = removals[(removals["removed"] == "1") & (removals["removed_date"] != "")]
    closed = data.initiatives.dropna(subset=["closed_on"]).set_index("initiative_id")["closed_on"]
    assert sorted(closed.index) == sorted(dated["regid"])
    assert (closed.loc[dated["regid"]].dt.strftime("%Y-%m-%d").to_numpy() == dated["removed_date"].to_numpy()).all()
    # Most closures are undated and quarantined: the dataset says so, so survival verdicts are not decided.
    assert data.metadata["sampling"] == ["closures undated"]
    # Day-first registration dates read day-first: 13/12/2013 is 13 December.
    first = data.initiatives.set_index("initiative_id").loc["100002", "founded_on"]
    assert first == pd.Timestamp("2013-12-13")
