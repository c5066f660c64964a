"""Notebook 02's section functions on small and degenerate data (issues 11, 12 and 13).

Each case runs ``maexlab.valuation.sections.SECTIONS`` as the notebook does (through the
degenerate-data battery's runner) and checks what the reader sees: no traceback, raw warning or
NaN; every section that cannot be computed says why; verdicts only where the data carries them;
text that follows the data (nothing says "synthetic" on data declared real) and the language.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from battery import base_tables, problems_in, run_sections, verdict_problems

from maexlab.data import io, synth
from maexlab.data.schema import IMPACT_INVESTOR_TYPES
from maexlab.valuation import sections
from maexlab.valuation.claims import CLAIMS

NOTEBOOK = "02_valuation_bias"
SECTION_KEYS = ("features", "hedonic", "decomposition", "blended", "audit", "wtp")


@pytest.fixture(scope="module")
def medium_tables():
    """A generated dataset large enough for the models to be fitted (about 1,000 assessments)."""
    tables, _ = synth.generate(seed=31, n_initiatives=900)
    return tables


def _run(tables, tmp_path, *, synthetic=True, language="en"):
    meta = {"synthetic": synthetic, "description": "test register" if not synthetic else "SYNTHETIC test variant"}
    folder = io.write_dataset(tables, tmp_path / "data", meta)
    text, results = run_sections(NOTEBOOK, folder, tmp_path / "out", language=language)
    problems = problems_in(text) + verdict_problems(results)
    assert not problems, "\n".join(problems)
    return text, results


def test_sections_tuple_is_in_notebook_order():
    assert [s.__name__ for s in sections.SECTIONS] == [*SECTION_KEYS, "verdicts"]


def test_without_assessments_every_section_says_not_testable(tmp_path):
    tables = {k: v for k, v in base_tables().items() if k != "assessments"}
    text, results = _run(tables, tmp_path)
    for key in SECTION_KEYS:
        assert results["not_computed"][f"valuation.sections.{key}"]["reasons"][0]["key"] == "common.reasons.missing_table"
    assert set(results["verdicts"]) == set(CLAIMS)
    for v in results["verdicts"].values():
        assert v["verdict"] == "not_testable" and v["reasons"][0]["table"] == "assessments"
    assert "the data has no assessments table" in text


def test_empty_assessments_table_is_named_empty(tmp_path):
    tables = base_tables()
    tables["assessments"] = tables["assessments"].iloc[0:0]
    _, results = _run(tables, tmp_path)
    assert results["not_computed"]["valuation.sections.features"]["reasons"][0]["key"] == "common.reasons.empty_table"


def test_one_investor_group_compares_nothing(medium_tables, tmp_path):
    tables = {k: v.copy() for k, v in medium_tables.items()}
    a = tables["assessments"]
    tables["assessments"] = a[~a["investor_type"].isin(IMPACT_INVESTOR_TYPES)].reset_index(drop=True)
    text, results = _run(tables, tmp_path)
    v = results["verdicts"]
    assert v["valuation.claims.priced"]["verdict"] == "not_testable"
    assert v["valuation.claims.wtp"]["verdict"] == "not_testable"
    assert v["valuation.claims.wtp"]["reasons"][0]["key"] == "valuation.reasons.few_loans_per_group"
    assert "valuation.sections.decomposition_for.impact" in results["not_computed"]
    assert "valuation.models.log_valuation_impact" in results["not_computed"]


@pytest.mark.parametrize("variant", ["five_initiatives", "single_value_model"])
def test_small_variants_complete(variant, tmp_path):
    from battery import VARIANTS

    _, results = _run(VARIANTS[variant](base_tables()), tmp_path)
    assert set(results["verdicts"]) == set(CLAIMS)


def test_single_value_model_decomposition_not_testable(medium_tables, tmp_path):
    tables = {k: v.copy() for k, v in medium_tables.items()}
    tables["initiatives"]["value_model"] = "social"
    _, results = _run(tables, tmp_path)
    reasons = results["not_computed"]["valuation.sections.decomposition_for.mainstream"]["reasons"]
    assert reasons[0]["key"] == "valuation.reasons.oaxaca_sides" and reasons[0]["n0"] == 0
    assert results["verdicts"]["valuation.claims.penalty"]["verdict"] == "not_testable"


def test_real_data_is_never_called_synthetic_and_findings_are_generated(medium_tables, tmp_path):
    text, results = _run(medium_tables, tmp_path, synthetic=False)
    # The loader's notice says "real, not synthetic"; nothing else may mention synthetic data.
    assert re.search(r"(?<!not )synthetic", text, re.IGNORECASE) is None
    assert "declared real" in text
    assert 3 <= len(results["findings"]) <= 6
    ignores = results["verdicts"]["valuation.claims.ignores"]
    assert ignores["rule"] == "valuation.rules.ignores" and ignores["nominal_rate"] == 0.05
    if ignores["verdict"] in ("supported", "contradicted", "inconclusive"):
        assert ignores["rule_values"]["instrument"] in ("equity", "loan")
    hedonic = results["hedonic"]
    assert {"log_valuation|mainstream", "interest_rate_pp|mainstream"} <= set(hedonic)


def test_dutch_report_speaks_dutch(medium_tables, tmp_path):
    text, results = _run(medium_tables, tmp_path, language="nl")
    assert "Kenmerken per beoordeling" in text and "Getoetste beweringen" in text
    assert "Not computed" not in text and "investors" not in text
    assert results["language"] == "nl"
    published = pd.read_csv(tmp_path / "out" / "tables" / "hedonic_coefficients.csv")
    assert {"outcome", "group", "term", "estimate", "ci_low", "ci_high", "std_error"} <= set(published.columns)
