"""The notebook toolkit: output folders, suppression, tables, figures and results."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import REPO

import maexlab
from maexlab.reporting import report
from maexlab.reporting.privacy import assert_no_small_groups, suppress_small_cells


def test_suppression_blanks_small_groups_and_marks_them():
    table = pd.DataFrame({"province": ["Zeeland", "Utrecht"], "n": [9, 10], "coverage": [0.4, 0.7]})
    shown = suppress_small_cells(table, min_group_size=10, secondary=False)
    assert shown["province"].tolist() == ["Zeeland", "Utrecht"]
    assert shown["n"].isna().tolist() == [True, False]
    assert pd.isna(shown.loc[0, "coverage"]) and shown.loc[1, "coverage"] == 0.7
    assert shown["suppressed"].tolist() == [True, False]
    assert_no_small_groups(shown)
    with pytest.raises(AssertionError, match="1 group"):
        assert_no_small_groups(table)


def test_secondary_suppression_protects_a_single_hidden_group():
    table = pd.DataFrame({"g": ["a", "b", "c"], "n": [3, 50, 12]})
    assert suppress_small_cells(table)["suppressed"].tolist() == [True, False, True]
    assert suppress_small_cells(table, secondary=False)["suppressed"].tolist() == [True, False, False]
    two_small = pd.DataFrame({"g": ["a", "b", "c"], "n": [3, 8, 12]})
    assert suppress_small_cells(two_small)["suppressed"].tolist() == [True, True, False]


def test_suppression_errors_are_clear():
    with pytest.raises(KeyError, match="needs a count column 'n'"):
        suppress_small_cells(pd.DataFrame({"count": [1]}))
    with pytest.raises(ValueError, match="min_group_size must be at least 1"):
        suppress_small_cells(pd.DataFrame({"n": [1]}), min_group_size=0)


def test_report_writes_tables_figures_and_results(tmp_path, tiny_dataset):
    r = report.open_report(
        "test_nb", data_source=str(tiny_dataset), output_dir=str(tmp_path / "out"), min_group_size=2, echo=False
    )
    shown = r.table(pd.DataFrame({"g": ["a", "b", "c"], "n": [1, 5, 1], "x": [0.123456, 0.5, 0.1]}), "t", keep=("g",))
    assert shown["suppressed"].tolist() == [True, False, True]
    saved = pd.read_csv(tmp_path / "out" / "tables" / "t.csv")
    assert saved["n"].isna().tolist() == [True, False, True]
    assert saved["x"].tolist()[1] == 0.5
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = r.figure(fig, "line")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert r.requires("needs phases", {"phases": ("phase",)})
    r.data.tables["assessments"] = None
    assert not r.requires("valuation", {"assessments": ("valuation",)})
    r.not_computed("SROI worked example", "the group has 4 initiatives.")
    r.headline("initiatives", 2)
    results = json.loads(r.save().read_text())
    assert results["headline"] == {"initiatives": 2}
    assert results["not_computed"]["valuation"].startswith("Not computed: valuation needs table assessments")
    assert results["not_computed"]["SROI worked example"] == "Not computed: SROI worked example: the group has 4 initiatives."
    assert results["synthetic"] is False and results["parameters"]["min_group_size"] == 2


def test_figures_are_byte_identical_across_runs(tmp_path):
    paths = []
    for run in range(2):
        fig, ax = plt.subplots()
        ax.bar(["a", "b"], [1, 2])
        paths.append(report.save_figure(fig, tmp_path / str(run), "bars"))
        plt.close(fig)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_embedded_data_says_it_is_synthetic():
    data = maexlab.load("embedded", province="Zeeland")
    assert data.synthetic and "SYNTHETIC" in data.notice()
    assert set(data.initiatives["province"]) == {"Zeeland"}


def test_notice_names_declared_constants_of_real_data(tiny_dataset):
    (tiny_dataset / "dataset.json").write_text(
        '{"synthetic": false, "description": "Register 2016-2021.", "declared_constants": {"initiatives.value_model": "social"}}'
    )
    data = maexlab.load(tiny_dataset)
    assert data.notice() == (
        f"Data: {tiny_dataset} (declared real, not synthetic). Register 2016-2021. "
        "Declared in the import, not observed in the source: initiatives.value_model=social."
    )
    assert data.row_counts()["rows"].dtype == "Int64"


def test_import_records_declared_constants():
    from maexlab.mapping import import_mapping

    out = Path(tempfile.mkdtemp()) / "register"
    import_mapping(REPO / "docs" / "examples" / "subsidieregister.yaml", out)
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["declared_constants"]["initiatives.value_model"] == "social"
    assert "initiatives.value_model=social" in maexlab.load(out).notice()


def test_secondary_suppression_in_a_cross_table_protects_row_and_column_totals():
    # source x phase: one small cell (a, plan); row a and column plan each need a second hidden cell.
    table = pd.DataFrame(
        {
            "source": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
            "phase": ["plan", "start", "growth"] * 3,
            "n": [3, 40, 50, 20, 60, 70, 30, 80, 90],
        }
    )
    shown = suppress_small_cells(table, keep=("source", "phase"))
    hidden = set(zip(shown.loc[shown["suppressed"], "source"], shown.loc[shown["suppressed"], "phase"], strict=True))
    assert hidden == {("a", "plan"), ("a", "start"), ("b", "plan"), ("b", "start")}
    for label in ("source", "phase"):
        per_line = shown.groupby(label)["suppressed"].sum()
        assert not (per_line == 1).any(), f"a {label} line hides a single cell"


def test_secondary_suppression_hides_until_the_hidden_groups_reach_the_minimum():
    # Two tiny groups (3 + 4 = 7 < 10) would reveal a group of 7 by subtraction: hide a third.
    table = pd.DataFrame({"g": ["a", "b", "c", "d"], "n": [3, 4, 25, 40]})
    assert suppress_small_cells(table)["suppressed"].tolist() == [True, True, True, False]


def test_report_speaks_its_language_and_records_verdicts(tmp_path):
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from maexlab.reporting import Col, Needs, direction_verdict, open_report

    InteractiveShell.instance()  # display() publishes rich outputs only inside a shell
    with capture_output() as captured:
        r = open_report("01_funding_gaps", province="Zeeland", output_dir=str(tmp_path), language="nl", intro=True)
        assert r.check("common.verdict_heading", Needs({"funding": ("status",)})) is True
        assert r.check("common.verdict_heading", Needs({"nosuchtable": ("x",)})) is False
        r.verdicts([direction_verdict("common.verdict_heading", -0.5, -0.9, -0.1, claimed_sign=-1)])
        table = pd.DataFrame({"source": ["fund_grant", "bank"], "n": [40, 3], "coverage": [0.5, 0.9]})
        r.show(table, "t", [Col("source", "term"), Col("n", "count"), Col("coverage", "percent")], keep=("source",))
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        r.figure(fig, "line")
        r.finding("common.findings_none")
        r.finish()
    text = "\n".join(o.data.get("text/plain", "") for o in captured.outputs)
    assert "Financieringstekorten" in text and "Synthetische gegevens" in text and "provincie Zeeland" in text
    assert "Niet berekend" in text and "ondersteund" in text and "fondsbijdrage" in text
    assert any("image/png" in o.data for o in captured.outputs)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["language"] == "nl" and results["verdicts"]["common.verdict_heading"]["verdict"] == "supported"
    assert results["not_computed"]["common.verdict_heading"]["reasons"][0]["key"] == "common.reasons.missing_table"
    assert (tmp_path / "figures" / "line.png").exists()
