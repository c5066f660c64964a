"""Notebook 04's sections on degenerate data, in both languages, and on the real Kiva import.

Each variant of a small generated dataset removes something real registers often lack (the
impact table, the financials, most initiatives, the value-model spread, everything but
funding). Every section must complete, say in the report language what it cannot compute and
why, and never show a traceback, a raw warning or NaN as a number.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from functools import cache
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from conftest import REPO, SHARED_REAL

from maexlab.data import io, synth
from maexlab.impact import sections

matplotlib.use("Agg")

FORBIDDEN = [
    (re.compile(r"Traceback \(most recent call last\)"), "a traceback"),
    (re.compile(r"(?i)\b\w*warning:"), "a raw warning"),
    (re.compile(r"(?<![\w/.-])(nan|NaN|<NA>|NaT|inf)(?![\w/.-])"), "NaN/inf shown as a value"),
]


@cache
def _generated() -> dict[str, pd.DataFrame]:
    tables, _ = synth.generate(seed=7, n_initiatives=160)
    return tables


def _tables() -> dict[str, pd.DataFrame]:
    return {name: df.copy() for name, df in _generated().items()}


def _keep(t, ids):
    ids = set(ids)
    return {n: (df[df["initiative_id"].isin(ids)].reset_index(drop=True) if "initiative_id" in df else df) for n, df in t.items()}


VARIANTS = {
    "full": lambda t: t,
    "no_impact": lambda t: {n: df for n, df in t.items() if n not in ("impact", "proxies")},
    "no_financials": lambda t: {n: df for n, df in t.items() if n != "financials"},
    "five_initiatives": lambda t: _keep(t, t["initiatives"]["initiative_id"].head(5)),
    "single_value_model": lambda t: {**t, "initiatives": t["initiatives"].assign(value_model="social")},
    "funding_only": lambda t: {"funding": t["funding"]},
    "initiatives_only": lambda t: {"initiatives": t["initiatives"]},
}


def run_sections(data_source, out: Path, language: str = "en", **parameters) -> tuple[str, dict, list]:
    """Run notebook 04's sections as the notebook does; return (shown text, results.json, outputs)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from maexlab.reporting import open_report

    InteractiveShell.instance()
    with warnings.catch_warnings(record=True) as caught, capture_output() as captured:
        warnings.simplefilter("always")
        report = open_report(
            "04_impact_value", data_source=str(data_source), output_dir=str(out), language=language, echo=False, **parameters
        )
        report.intro()
        report.findings_placeholder()
        outputs = [section(report) for section in sections.SECTIONS]
        report.finish()
    texts = [captured.stdout, captured.stderr]
    for output in captured.outputs:
        texts.extend(str(v) for k, v in output.data.items() if k.startswith("text/"))
    texts.extend(f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, DeprecationWarning))
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return "\n".join(texts), results, outputs


def problems_in(text: str) -> list[str]:
    found = []
    for pattern, what in FORBIDDEN:
        match = pattern.search(text)
        if match:
            found.append(f"{what}: ...{text[max(0, match.start() - 80) : match.end() + 40]!r}")
    return found


def _variant(name: str, root: Path) -> Path:
    meta = {"synthetic": True, "description": f"SYNTHETIC degenerate variant {name}"}
    return io.write_dataset(VARIANTS[name](_tables()), root / name, meta)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_sections_on_degenerate_data(name, tmp_path):
    # min_group_size 5: the small generated set has 9 initiatives in the SROI group
    text, results, outputs = run_sections(_variant(name, tmp_path), tmp_path / "out", language="en", min_group_size=5)
    assert problems_in(text) == []
    assert len(outputs) == len(sections.SECTIONS)
    skipped = results["not_computed"]
    for key, note in skipped.items():
        assert note["reasons"], key  # every section left out says why
    assert "social_return_example" in results  # needs no data
    if name == "full":
        assert skipped == {} and len(results["findings"]) >= 3
        assert results["sroi"]["mode"] == "evaluative" and results["sroi"]["discount_rate"] == 0.0225
    if name in ("no_impact", "funding_only", "initiatives_only"):
        assert {"impact.theme.section", "impact.sroi.base_section", "impact.sroi.sensitivity_section"} <= set(skipped)
        assert "sroi" not in results and "impact_value_by_year" not in results
    if name == "no_financials":
        reason = skipped["impact.sroi.base_section"]["reasons"][0]
        assert reason == {"key": "common.reasons.missing_table", "table": "financials"}
        assert "impact.theme.section" not in skipped
    if name == "five_initiatives":
        # the SROI group is smaller than the minimum group size: not computed, never a ratio of 2 initiatives
        assert skipped["impact.sroi.base_section"]["reasons"][0]["key"] in (
            "impact.reasons.sroi_group_small",
            "impact.reasons.no_sroi_group",
        )
        assert "sroi" not in results
    if name == "single_value_model":
        assert set(results["median_impact_value_per_initiative_by_value_model_latest"]) == {"social"}
    if name == "funding_only":
        assert "impact.volunteers.section" in skipped and "impact.reasons" not in json.dumps(skipped["impact.volunteers.section"])


def test_text_follows_the_language_and_the_data(tmp_path):
    folder = _variant("full", tmp_path)
    nl, results_nl, _ = run_sections(folder, tmp_path / "nl", language="nl", min_group_size=5)
    en, results_en, _ = run_sections(folder, tmp_path / "en", language="en", min_group_size=5)
    assert "Impactwaarde per jaar en per thema" in nl and "Bevindingen" in nl and "AANNAME" in nl
    assert "Impact value per year and by theme" in en and "Findings" in en and "ASSUMPTION" in en
    assert "Synthetische gegevens" in nl and "Synthetic data" in en
    # the numbers are the same whichever language shows them
    assert results_nl["sroi"] == results_en["sroi"] and results_nl["headline"] == results_en["headline"]
    headline = results_en["headline"]["impact.headline_sroi_mc"]
    assert headline["kind"] == "number2" and headline["lo"] <= headline["value"] <= headline["hi"]
    assert results_en["headline"]["impact.headline_total"]["kind"] == "money"


def test_real_data_is_never_called_synthetic(tmp_path):
    tables = _tables()
    folder = io.write_dataset(tables, tmp_path / "real", {"synthetic": False, "description": "a declared real register"})
    text, results, _ = run_sections(folder, tmp_path / "out", language="en")
    assert "ynthetic" not in text and results["synthetic"] is False
    assert problems_in(text) == []


def test_on_the_kiva_import(tmp_path):
    if not SHARED_REAL.exists():
        pytest.skip(f"shared real data not present at {SHARED_REAL}")
    out = tmp_path / "kiva"
    subprocess.run(
        [sys.executable, "-m", "maexlab.cli", "data", "import", str(REPO / "docs/examples/kiva.yaml"), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    text, results, _ = run_sections(out, tmp_path / "out", language="nl")
    assert problems_in(text) == [] and "ynthet" not in text
    assert results["findings"] == [] and "impact.theme.section" in results["not_computed"]
