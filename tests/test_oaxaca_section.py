"""Notebook 02's decomposition section: which fundamentals explain the valuation gap (issue 16 item 2).

The section shows the twofold split, then the detailed split per covariate and the threefold
split, all from one :func:`maexlab.valuation.oaxaca.decompose_bootstrap` result. These tests
check that what is published adds up: the covariates' parts to the twofold explained and
unexplained parts shown above them, the threefold parts to the gap, and that the twofold point
estimates equal the statsmodels-based :func:`maexlab.valuation.oaxaca_gap` on the same offers.
"""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from maexlab import valuation as val
from maexlab.reporting import open_report
from maexlab.valuation import sections

GROUPS = ("mainstream", "impact")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report on the embedded data after the features and decomposition sections ran."""
    InteractiveShell.instance()
    out = tmp_path_factory.mktemp("oaxaca")
    with capture_output() as captured:
        r = open_report("02_valuation_bias", data_source="embedded", output_dir=str(out), language="en")
        sections.features(r)
        sections.decomposition(r)
    r.shown_text = "\n".join(str(v) for o in captured.outputs for k, v in o.data.items() if k == "text/plain")
    return r


def _csv(report, name: str) -> pd.DataFrame:
    return pd.read_csv(report.out / "tables" / f"{name}.csv")


@pytest.mark.parametrize("group", GROUPS)
def test_detailed_parts_add_up_to_the_twofold_split_shown(report, group):
    twofold = _csv(report, "oaxaca_decomposition").query("group == @group").set_index("component")["estimate"]
    detailed = _csv(report, "oaxaca_detailed").query("group == @group").set_index("covariate")
    covariates = detailed.drop(index="total")
    assert set(covariates.index) == {*val.OAXACA_COVARIATES, "const"}
    # Published tables carry 4 decimals: the sum of six rounded parts may differ by 6 * 0.00005.
    assert covariates["explained"].sum() == pytest.approx(twofold["explained"], abs=4e-4)
    assert covariates["unexplained"].sum() == pytest.approx(twofold["unexplained"], abs=4e-4)
    assert detailed.loc["total", "explained"] == twofold["explained"]
    assert detailed.loc["total", "unexplained"] == twofold["unexplained"]
    # The total rows carry the same interval as the twofold table (same bootstrap draws).
    ci = _csv(report, "oaxaca_decomposition").query("group == @group").set_index("component")
    assert detailed.loc["total", "explained_low"] == ci.loc["explained", "ci_low"]
    assert detailed.loc["total", "unexplained_high"] == ci.loc["unexplained", "ci_high"]
    # Unrounded, the parts add up exactly.
    boot = sections.state(report)["oaxaca_parts"][group]
    agg = boot[boot["part"] == "aggregate"].set_index("name")["estimate"]
    assert boot.loc[boot["part"] == "explained", "estimate"].sum() == pytest.approx(agg["explained"], abs=1e-10)
    assert boot.loc[boot["part"] == "unexplained", "estimate"].sum() == pytest.approx(agg["unexplained"], abs=1e-10)
    assert agg["endowments"] + agg["coefficients"] + agg["interaction"] == pytest.approx(agg["gap"], abs=1e-10)
    assert agg["explained"] + agg["unexplained"] == pytest.approx(agg["gap"], abs=1e-10)


@pytest.mark.parametrize("group", GROUPS)
def test_twofold_matches_the_statsmodels_estimate_on_the_same_offers(report, group):
    table, message = val.oaxaca_gap(sections.state(report)["features"], group, reps=2, seed=1)
    assert message is None
    shown = _csv(report, "oaxaca_decomposition").query("group == @group").set_index("component")
    for component in ("gap", "explained", "unexplained"):
        expected = table.set_index("component").loc[component, "estimate"]
        assert shown.loc[component, "estimate"] == pytest.approx(expected, abs=1e-4)
    assert shown.loc["gap", "n_social_hybrid"] == table["n_social_hybrid"].iloc[0]


def test_threefold_is_published_and_a_sentence_names_the_largest_fundamental(report):
    threefold = _csv(report, "oaxaca_threefold")
    assert set(threefold["component"]) == {"endowments", "coefficients", "interaction"}
    assert threefold[["ci_low", "ci_high"]].notna().all().all()
    detailed = _csv(report, "oaxaca_detailed").query("group == 'mainstream' and covariate not in ('total', 'const')")
    top = detailed.loc[detailed["explained"].abs().idxmax(), "covariate"]
    label = (
        report.t(f"valuation.detailed.covariates.{top}")
        if report.m.has(f"valuation.detailed.covariates.{top}")
        else report.t(f"valuation.terms.{top}")
    )
    assert f"{label} explains most" in report.shown_text or f"{label} has the largest share" in report.shown_text
    assert "pooled coefficients" in report.shown_text
    assert (report.out / "figures" / "oaxaca_detailed.png").exists()


def test_too_few_offers_skips_the_detailed_part_with_the_reason(report):
    InteractiveShell.instance()
    f = sections.state(report)["features"]
    with capture_output():
        r = open_report("02_valuation_bias", data_source="embedded", output_dir=str(report.out.parent / "few"), language="nl")
        sections.state(r)["features"] = f[f["social_or_hybrid"] == 1]
        out = sections.decomposition(r)
    assert out.skipped and out.skipped[0].key == "valuation.reasons.oaxaca_sides"
    assert "oaxaca_detailed" not in out.tables
    assert not (r.out / "tables" / "oaxaca_detailed.csv").exists()
