"""A shared battery every notebook passes: the contract of docs/architecture.md.

nbval (in `make test`) re-runs each notebook on its defaults and compares outputs; this battery
checks the contract and runs each notebook through papermill with a province parameter.
"""

from __future__ import annotations

import json
import re

import nbformat
import papermill
import pytest
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
STANDARD_PARAMETERS = [
    "data_source",
    "province",
    "municipality",
    "period_start",
    "period_end",
    "min_group_size",
    "seed",
    "language",
    "output_dir",
]
#: Notebooks publishing euro totals also take the disclosure rules for them, after min_group_size.
EURO_TABLE_NOTEBOOKS = ("01_funding_gaps", "04_impact_value")
DISCLOSURE_PARAMETERS = ["dominance_n", "dominance_k", "p_percent"]


def _shown_text(path) -> str:
    """Every plain-text output of an executed notebook (what nbval and a reader's text view see)."""
    parts = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            parts.append(
                output.get("text", "") if output.output_type == "stream" else output.get("data", {}).get("text/plain", "")
            )
    return "\n".join(parts)


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_first_and_documented(path):
    first = _code_cells(path)[0]
    assert "parameters" in first.metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    lines = [line for line in first.source.splitlines() if line.strip()]
    names = [line.split("=")[0].strip() for line in lines]
    expected = list(STANDARD_PARAMETERS)
    if path.stem in EURO_TABLE_NOTEBOOKS:
        at = expected.index("min_group_size") + 1
        expected[at:at] = DISCLOSURE_PARAMETERS
    assert names == expected
    for line in lines:
        assert re.search(r"#\s*\S", line), f"parameter line has no comment: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "maexlab"
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in cells), "notebook is not fully executed: run `make notebooks`"
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"committed notebook holds an error: {errors[0].get('ename')}"
    text = json.dumps([o for c in cells for o in c.outputs])
    assert "maexlab-synthetic" in text, "a notebook on the embedded data must show the synthetic-data banner"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_with_a_province_parameter(path, tmp_path):
    out = tmp_path / "out"
    papermill.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        parameters={"province": "Zeeland", "output_dir": str(out)},
        kernel_name="maexlab",
        cwd=str(REPO / "notebooks"),
        progress_bar=False,
    )
    results = json.loads((out / "results.json").read_text())
    assert results["parameters"]["province"] == "Zeeland"
    assert results["synthetic"] is True
    for table in (out / "tables").glob("*.csv"):
        text = table.read_text()
        header = text.splitlines()[0].split(",")
        if "n" in header:
            import pandas as pd

            counts = pd.read_csv(table)["n"].dropna()
            assert (counts >= 10).all(), f"{table.name} shows a group below the minimum size"


@pytest.fixture(scope="module")
def funding_only_dataset(tmp_path_factory):
    """A partial dataset: only the funding table of the embedded data (like a subsidy register)."""
    import maexlab
    from maexlab.data.io import write_dataset

    funding = maexlab.load("embedded").funding.drop(columns=["phase_at_application"], errors="ignore")
    folder = tmp_path_factory.mktemp("partial") / "funding_only"
    return write_dataset({"funding": funding}, folder, {"synthetic": True, "description": "funding table only"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_partial_data_states_what_it_cannot_compute(path, funding_only_dataset, tmp_path):
    out = tmp_path / "out"
    executed = tmp_path / path.name
    papermill.execute_notebook(
        str(path),
        str(executed),
        parameters={"data_source": str(funding_only_dataset), "output_dir": str(out)},
        kernel_name="maexlab",
        cwd=str(REPO / "notebooks"),
        progress_bar=False,
    )
    results = json.loads((out / "results.json").read_text())
    if path.stem != "00_data_profile":
        assert results["not_computed"], "a notebook on funding-only data must say which sections it could not compute"
    shown = _shown_text(executed)
    notes = results["not_computed"]
    for note in notes.values():
        if isinstance(note, dict) and "shown_in" in note:  # recorded once, shown with the section it names
            note = notes[note["shown_in"]]
        text = note["text"] if isinstance(note, dict) else note
        assert text[:40] in shown, "each section that cannot be computed is stated in the notebook"


def test_kiva_sample_runs_through_the_funding_gap_notebook(shared_real, tmp_path):
    """The real Kiva sample, imported by the documented mapping, through notebook 01."""
    import pandas as pd

    from maexlab.mapping import import_mapping

    kiva_csv = shared_real / "kiva-loans-sample" / "kiva.csv"
    import_mapping(REPO / "docs" / "examples" / "kiva.yaml", tmp_path / "kiva", sources={"kiva_loans": str(kiva_csv)})
    out = tmp_path / "out"
    papermill.execute_notebook(
        str(REPO / "notebooks" / "01_funding_gaps.ipynb"),
        str(tmp_path / "01.ipynb"),
        parameters={"data_source": str(tmp_path / "kiva"), "output_dir": str(out)},
        kernel_name="maexlab",
        cwd=str(REPO / "notebooks"),
        progress_bar=False,
    )
    results = json.loads((out / "results.json").read_text())
    raw = pd.read_csv(kiva_csv)
    # Kiva loans are all decided except those never fully funded that raised nothing (none here).
    expected = raw["funded_amount"].sum() / raw["loan_amount"].sum()
    assert results["synthetic"] is False
    assert results["coverage_overall"]["coverage"] == pytest.approx(expected, abs=0.002)
    # Kiva has no initiative profiles: every section that needs value models says so.
    assert any("initiatives" in json.dumps(v) for v in results["not_computed"].values())
