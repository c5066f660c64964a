"""The phase-path and leaving-start sections of notebook 03 (issue 16 item 1).

On data without a growth phase or without closures both sections are not computed and say why
(never a 0% estimate for a phase never recorded); on the embedded data they estimate transition
probabilities within [0, 1] whose rows add up, expected years that add up to the span, and
finite cause-specific and Fine-Gray ratios. Gray's test runs only without delayed entry.
"""

from __future__ import annotations

import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from maexlab.data import load, synth  # noqa: E402
from maexlab.data.loader import MaexData  # noqa: E402
from maexlab.reporting.report import Report  # noqa: E402
from maexlab.survival import sections  # noqa: E402

NEW = (sections.phase_paths, sections.competing_effects)


def _run(data: MaexData, tmp_path, language: str = "en") -> tuple[Report, list, str]:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    report = Report("03_continuity", data, tmp_path, {"province": None}, 10, 1, language)
    for sub in ("figures", "tables"):
        (tmp_path / sub).mkdir(exist_ok=True)
    with warnings.catch_warnings(record=True) as caught, capture_output() as captured:
        warnings.simplefilter("always")
        outs = [section(report) for section in NEW]
    assert not [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)], "raw warnings"
    text = "\n".join(o.data.get("text/plain", "") for o in captured.outputs)
    return report, outs, text


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return synth.generate(seed=7, n_initiatives=400)[0]


def _data(tables, name: str) -> MaexData:
    t = {k: v.copy() for k, v in tables.items()}
    if name == "no_growth":
        t["phases"] = t["phases"][~t["phases"]["phase"].isin(["growth", "mature"])]
    elif name == "no_closures":
        t["initiatives"]["closed_on"] = pd.NaT
        t["phases"] = t["phases"][t["phases"]["phase"] != "closed"]
    elif name == "no_delayed_entry":
        t["initiatives"]["joined_on"] = t["initiatives"]["founded_on"]
    return MaexData(t, source=f"variant {name}", synthetic=True)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("no_growth", "survival.reasons.phase_never_recorded"), ("no_closures", "survival.reasons.no_closures")],
)
def test_not_computed_with_reasons_without_growth_or_closures(tables, tmp_path, name, reason):
    report, outs, text = _run(_data(tables, name), tmp_path)
    for out in outs:
        assert not out.tables and not out.figures
        assert reason in [r.key for r in out.skipped]
    computed = report.results["not_computed"]
    assert {"survival.paths.section", "survival.competing.section"} <= set(computed)
    assert "Not computed" in text and not re.search(r"\d%\s*\(", text)  # no probability with an interval shown


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    return _run(load("embedded"), tmp_path_factory.mktemp("embedded"))


def test_phase_paths_on_the_embedded_data_are_probabilities(embedded):
    report, (paths, _), _ = embedded
    table = paths.tables["phase_paths"]
    assert set(table["to_phase"]) == {"start", "growth", "mature", "closed"}
    for h in sections.PATHS_HORIZONS:
        p, lo, hi = (table[f"p_{int(h)}y{s}"].to_numpy(float) for s in ("", "_low", "_high"))
        assert ((p >= 0) & (p <= 1)).all() and ((lo <= p) & (p <= hi)).all()
        # plan is never re-entered from start, so the four shown phases carry the whole row
        assert p.sum() == pytest.approx(1.0, abs=1e-3)
    closed = table.set_index("to_phase").loc["closed"]
    assert closed["p_5y"] > closed["p_3y"]  # closing is absorbing
    years = paths.tables["expected_years_in_phase"]["expected_years"]
    assert years.sum() == pytest.approx(sections.PATHS_SPAN, abs=1e-2)
    assert report.results["phase_paths"]["n_in_start"] >= report.min_group_size


def test_models_of_leaving_start_on_the_embedded_data(embedded):
    report, (_, competing), _ = embedded
    cs = competing.tables["cause_specific_cox_start"]
    assert set(cs["to_phase"]) == {"growth", "closed"}
    assert "funded_at_start" in set(cs["covariate"])
    fg = competing.tables["fine_gray_closure_from_start"]
    values = fg[["shr", "shr_low", "shr_high"]].to_numpy(float)
    assert np.isfinite(values).all() and (values[:, 1] <= values[:, 0]).all() and (values[:, 0] <= values[:, 2]).all()
    # the embedded data has delayed entry: Gray's test is not computed, and the report says why
    assert "survival.competing.gray_section" in report.results["not_computed"]
    assert "gray_test_closure_value_model" not in report.results


def test_gray_test_runs_without_delayed_entry(tables, tmp_path):
    report, (_, competing), _ = _run(_data(tables, "no_delayed_entry"), tmp_path, language="nl")
    gray = report.results.get("gray_test_closure_value_model")
    assert gray is not None, report.results["not_computed"]
    assert gray["df"] == 2 and 0.0 <= gray["p_value"] <= 1.0
