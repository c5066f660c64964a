"""Notebook 01's sections on degenerate and real-like data: regression tests of issue 12.

Each variant of a small generated dataset runs every section of
:data:`maexlab.funding.sections.SECTIONS` (and notebook 00's) the way the notebook does;
the outputs must hold no traceback, no raw warning, no NaN shown as a number, and a verdict
only where the data carries one.
"""

from __future__ import annotations

import json
import re
import warnings

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import maexlab  # noqa: E402
from maexlab.data import synth  # noqa: E402
from maexlab.data.io import write_dataset  # noqa: E402
from maexlab.funding import claims, sections  # noqa: E402
from maexlab.funding import models as fm  # noqa: E402
from maexlab.reporting import open_report, profile_sections  # noqa: E402

BAD_TEXT = re.compile(r"Traceback|Warning|\bnan\b|\bNaN\b|<NA>|\binf\b|did not converge \(WARNING")


@pytest.fixture(scope="module")
def base_tables() -> dict[str, pd.DataFrame]:
    tables, _ = synth.generate(7, n_initiatives=300)
    return tables


def _decide_all(f: pd.DataFrame, status: str) -> pd.DataFrame:
    f = f.copy()
    f["status"] = status
    f["decided_on"] = f["decided_on"].fillna(f["applied_on"] + pd.Timedelta(days=30))
    f["amount_granted"] = f["amount_requested"] if status == "granted" else 0.0
    return f


def _variant(tables: dict, name: str) -> tuple[dict, bool]:
    t = {k: v.copy() for k, v in tables.items()}
    f = t["funding"]
    synthetic = True
    if name == "no_startup":
        t["funding"] = f[f["purpose"] != "startup"]
    elif name == "multi_year_empty":
        f["multi_year"] = pd.NA
        if "term_years" in f:
            f["term_years"] = pd.NA
    elif name == "multi_year_collinear":
        f["multi_year"] = f["source"] == "fund_grant"
    elif name == "all_rejected":
        t["funding"] = _decide_all(f, "rejected")
    elif name == "all_granted":
        t["funding"] = _decide_all(f, "granted")
    elif name == "separated":
        # approval fully determined by the request size: complete separation on a continuous term
        big = f["amount_requested"] > f["amount_requested"].median()
        t["funding"] = pd.concat([_decide_all(f[~big], "granted"), _decide_all(f[big], "rejected")]).sort_index()
    elif name == "funding_only":
        t = {"funding": f}
    elif name == "five_initiatives":
        keep = set(t["initiatives"]["initiative_id"].head(5))
        t = {k: (v[v["initiative_id"].isin(keep)] if "initiative_id" in v else v) for k, v in t.items()}
    elif name == "one_municipality":
        # one municipality's register: the text must not claim national scope
        code = t["initiatives"]["municipality_code"].mode().iloc[0]
        keep = set(t["initiatives"].loc[t["initiatives"]["municipality_code"] == code, "initiative_id"])
        t = {k: (v[v["initiative_id"].isin(keep)] if "initiative_id" in v else v) for k, v in t.items()}
    elif name == "real":
        synthetic = False
    return t, synthetic


def _run(tmp_path, tables: dict, synthetic: bool, module, notebook: str, language: str = "nl", **params):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    folder = write_dataset(tables, tmp_path / "data", {"synthetic": synthetic, "description": "test variant"})
    InteractiveShell.instance()
    with warnings.catch_warnings(record=True) as caught, capture_output() as captured:
        warnings.simplefilter("always")
        report = open_report(
            notebook, data_source=str(folder), output_dir=str(tmp_path / "out"), language=language, echo=False, **params
        )
        report.intro()
        report.findings_placeholder()
        outputs = [section(report) for section in module.SECTIONS]
        report.finish()
    text = "\n".join(o.data.get("text/plain", "") for o in captured.outputs) + captured.stdout + captured.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    return text, results, outputs, [str(w.message) for w in caught]


VARIANTS = [
    "no_startup",
    "multi_year_empty",
    "multi_year_collinear",
    "all_rejected",
    "all_granted",
    "separated",
    "funding_only",
    "five_initiatives",
    "one_municipality",
    "real",
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_sections_complete_on_degenerate_data(variant, base_tables, tmp_path):
    tables, synthetic = _variant(base_tables, variant)
    text, results, outputs, caught = _run(tmp_path, tables, synthetic, sections, "01_funding_gaps")
    assert not BAD_TEXT.search(text), BAD_TEXT.search(text).group(0) + " in output"
    assert not caught, caught[:3]
    for v in (v for o in outputs for v in o.verdicts):
        if v.verdict == "not_testable":
            assert v.reasons and v.estimate is None
    if not synthetic:
        assert "ynthe" not in text  # no fixed text calls real data synthetic
    assert "national" not in text.lower()


@pytest.mark.parametrize("variant", ["funding_only", "five_initiatives", "multi_year_empty", "real"])
def test_profile_sections_complete(variant, base_tables, tmp_path):
    tables, synthetic = _variant(base_tables, variant)
    text, results, _, caught = _run(tmp_path, tables, synthetic, profile_sections, "00_data_profile", language="en")
    assert not BAD_TEXT.search(text), BAD_TEXT.search(text).group(0)
    assert not caught, caught[:3]
    if variant == "multi_year_empty":
        assert "column multi_year of the funding table is present but empty" in text
    if variant == "funding_only":
        assert "the data has no initiatives table" in text and "missing_column" not in json.dumps(results["not_computed"])


def test_non_converged_model_is_not_shown_and_decides_nothing(base_tables, tmp_path):
    tables, _ = _variant(base_tables, "separated")
    apps = maexlab.funding.applications(maexlab.load(write_dataset(tables, tmp_path / "d", {"synthetic": True})))
    fit = fm.fit_approval(apps)
    assert fit is not None and not fit.usable and fit.problems
    text, results, outputs, caught = _run(tmp_path, tables, True, sections, "01_funding_gaps", language="en")
    assert "approval_odds_ratios" not in {n for o in outputs for n in o.tables}
    assert "Odds ratio" not in text and "every decided application entered the model" not in text
    assert "Not computed: Approval model (logit)" in text
    for claim in ("funding.claims.hybrid", "funding.claims.org_strength", "funding.claims.multi_year"):
        assert results["verdicts"][claim]["verdict"] == "not_testable"
    assert "approval_model" not in results


def test_wide_interval_is_inconclusive_not_a_refutation():
    # Groningen hybrids: +0.50 (-0.63 to +1.64) covers 0: inconclusive, never "not supported"
    se = (1.64 + 0.63) / (2 * fm.Z95)
    frame = pd.DataFrame({"source": ["government_subsidy"], "source_group": ["subsidy"], "value_model": ["hybrid"]})
    terms = ["vm[hybrid]:group[subsidy]", "vm[hybrid]:group[investor]", "vm[commercial]:group[investor]"]
    fit = fm.ModelFit(
        "approval",
        "approved",
        terms,
        pd.Series([0.50, -1.0, 0.0], index=terms),
        pd.DataFrame(np.diag([se**2, 0.01, 0.01]), index=terms, columns=terms),
        100,
        50,
        frame,
        {"value_model": True, "phase": False, "multi_year": False, "fund_purpose": False},
    )
    v = claims.hybrid_verdict(fit)
    assert v.verdict == "inconclusive"
    assert v.estimate == pytest.approx(0.50) and v.lo == pytest.approx(-0.63, abs=0.01) and v.hi == pytest.approx(1.64, abs=0.01)
    assert claims.coverage_verdict(0.60, 0.30, 0.90).verdict == "inconclusive"


def test_absent_reference_is_replaced_and_named(base_tables, tmp_path):
    tables, _ = _variant(base_tables, "no_startup")
    text, results, _, _ = _run(tmp_path, tables, True, sections, "01_funding_gaps", language="en")
    chosen = results["model_references"]["approval"]["purpose"]
    assert chosen != "startup"
    notes = results["model_notes"]["approval"]
    assert any(n["key"] == "funding.notes.reference_replaced" and n["chosen"] == chosen for n in notes)
    assert "The reference level starting up does not occur in this data" in text
    assert results["verdicts"]["funding.claims.org_strength"]["verdict"] == "not_testable"


def test_collinear_multi_year_is_recorded_and_named_truly(base_tables, tmp_path):
    tables, _ = _variant(base_tables, "multi_year_collinear")
    text, results, _, _ = _run(tmp_path, tables, True, sections, "01_funding_gaps", language="en")
    notes = results["model_notes"]["approval"]
    assert any(n["key"] == "funding.notes.dropped_collinear" and "multi_year" in n["terms"] for n in notes)
    reasons = results["verdicts"]["funding.claims.multi_year"]["reasons"]
    assert [r["key"] for r in reasons] == ["funding.reasons.multi_year_collinear"]
    assert "no multi-year applications" not in text


def test_empty_multi_year_runs_the_models_without_it(base_tables, tmp_path):
    tables, _ = _variant(base_tables, "multi_year_empty")
    _, results, _, _ = _run(tmp_path, tables, True, sections, "01_funding_gaps", language="en")
    verdicts = results["verdicts"]
    assert verdicts["funding.claims.multi_year"]["verdict"] == "not_testable"
    assert verdicts["funding.claims.multi_year"]["reasons"][0]["key"] == "common.reasons.empty_column"
    assert verdicts["funding.claims.hybrid"]["verdict"] != "not_testable"
    assert "multi_year" not in results["approval_model"]


def test_findings_and_headline_on_embedded_province(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output():
        report = open_report("01_funding_gaps", province="Zeeland", output_dir=str(tmp_path), language="en", echo=False)
        for section in sections.SECTIONS:
            section(report)
        report.finish()
    results = json.loads((tmp_path / "results.json").read_text())
    assert 3 <= len(results["findings"]) <= 6
    head = results["headline"]["funding.headline.coverage"]
    assert head["kind"] == "percent" and head["lo"] <= head["value"] <= head["hi"]
    assert all(k in results["verdicts"] for k in claims.CLAIMS.values())


def test_model_findings_give_percentage_points_beside_log_odds(tmp_path):
    """Readers get the deciding contrast as a change in the chance of approval, computed from the
    same fit's average marginal effect; the log-odds stay beside it."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output():
        report = open_report("01_funding_gaps", output_dir=str(tmp_path), language="en", echo=False)
        for section in sections.SECTIONS:
            section(report)
        report.finish()
    results = json.loads((tmp_path / "results.json").read_text())
    by_key = {f["key"]: f["text"] for f in results["findings"]}
    multi = by_key["funding.findings.multi_year_points"]
    ame = results["average_marginal_effects_pp"]["approval|multi_year"]
    assert f"{ame['ame']:+.1f} percentage points ({ame['lo']:+.1f} to {ame['hi']:+.1f})".replace("+", "") in multi.replace(
        "+", ""
    )
    assert "log-odds" in multi
    assert "funding.findings.hybrid_points" in by_key
