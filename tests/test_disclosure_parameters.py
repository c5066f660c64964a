"""The dominance and p% rule parameters are report parameters (issue 16 item 4).

Notebooks 01 and 04 take ``dominance_n``, ``dominance_k`` and ``p_percent`` in their parameters
cell; open_report checks them (a clear error out of range), the euro tables apply them, the
sentence under a table names them, results.json records them, and the runner knows their types.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from maexlab.data import io, synth
from maexlab.funding import sections as funding_sections
from maexlab.reporting import open_report
from maexlab.reporting.disclosure import MagnitudeRules
from maexlab.runner.params import KNOWN_TYPES, notebook_parameters

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Generated data in which one initiative holds 80% of the largest source's euros."""
    InteractiveShell.instance()
    tables, _ = synth.generate(seed=7, n_initiatives=300)
    funding = tables["funding"]
    decided = funding[funding["status"].isin(["granted", "partial", "rejected"])]
    source = decided.groupby("source")["initiative_id"].nunique().idxmax()
    rows = decided.index[decided["source"] == source]
    rest = decided.loc[rows[1:], ["amount_requested", "amount_granted"]].sum()
    # 80% of both amount columns: above k = 70, below k = 85; the rest is too large for p = 10.
    funding.loc[rows[0], ["amount_requested", "amount_granted", "status"]] = [
        4 * rest["amount_requested"],
        4 * rest["amount_granted"],
        "granted",
    ]
    folder = io.write_dataset(tables, tmp_path_factory.mktemp("data"), {"synthetic": True, "description": "SYNTHETIC test"})
    return str(folder), source


def _gap_by_source(folder: str, out: Path, **rules) -> tuple[pd.DataFrame, str, dict]:
    with capture_output() as captured:
        report = open_report("01_funding_gaps", data_source=folder, output_dir=str(out), language="en", **rules)
        funding_sections.gap_tables(report)
        report.save()
    text = "\n".join(o.data.get("text/plain", "") for o in captured.outputs)
    results = json.loads((out / "results.json").read_text())
    return pd.read_csv(out / "tables" / "gap_by_source.csv").set_index("source"), text, results


def test_the_rule_parameters_change_what_is_hidden_and_are_recorded(planted, tmp_path):
    folder, source = planted
    default, _, results = _gap_by_source(folder, tmp_path / "default")
    assert default.loc[source, "suppressed_rule"] not in ("dominance", "p_percent")
    assert results["disclosure_rules"] == {"min_group_size": 10, "dominance_n": 2, "dominance_k": 85.0, "p_percent": 10.0}
    strict, text, results = _gap_by_source(folder, tmp_path / "strict", dominance_n=1, dominance_k=70.0, p_percent=25.0)
    assert strict.loc[source, "suppressed_rule"] == "dominance"
    assert results["parameters"]["dominance_k"] == 70.0 and results["parameters"]["dominance_n"] == 1
    assert results["disclosure_rules"]["p_percent"] == 25.0
    # the sentence under the table names the rules the run used, not the defaults
    assert "70%" in text and "25%" in text


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"dominance_n": 0}, "dominance_n must be a whole number of at least 1"),
        ({"dominance_n": 2.5}, "dominance_n must be a whole number"),
        ({"dominance_k": 100.0}, "dominance_k must be a percentage above 0 and below 100"),
        ({"dominance_k": 0.85}, None),  # a share instead of a percentage is allowed but strict: 0.85%
        ({"p_percent": -1.0}, "p_percent must be a percentage above 0 and below 100"),
        ({"p_percent": "10"}, "p_percent must be a percentage"),
    ],
)
def test_rule_parameters_out_of_range_are_a_clear_error(rules, message, tmp_path):
    if message is None:
        assert MagnitudeRules(**rules).dominance_k == 0.85
        return
    with pytest.raises(ValueError, match=message):
        MagnitudeRules(**rules)
    with pytest.raises(ValueError, match=message):
        open_report("01_funding_gaps", data_source="embedded", output_dir=str(tmp_path), **rules)


@pytest.mark.parametrize("notebook", ["01_funding_gaps", "04_impact_value"])
def test_notebooks_with_euro_tables_take_the_rule_parameters(notebook):
    specs = notebook_parameters(NOTEBOOKS / f"{notebook}.ipynb")
    assert specs["dominance_n"].default == 2
    assert specs["dominance_k"].default == 85.0
    assert specs["p_percent"].default == 10.0
    assert all(specs[name].help for name in ("dominance_n", "dominance_k", "p_percent"))
    assert KNOWN_TYPES["dominance_n"] == (int,)
    assert float in KNOWN_TYPES["dominance_k"] and float in KNOWN_TYPES["p_percent"]
