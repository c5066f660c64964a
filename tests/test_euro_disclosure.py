"""Euro tables of notebooks 01 and 04 pass the dominance and p% rules (issue 16 item 4).

A group with many initiatives can still disclose one initiative's amount when that initiative
holds nearly all of the group's euros. The tests plant such a group in generated data and check
that the published gap table (notebook 01) and the impact-value table (notebook 04) hide it,
record the rule in ``suppressed_rule``, hide a second row on the same line, and say so.
"""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from maexlab.data import io, synth
from maexlab.funding import sections as funding_sections
from maexlab.impact import sections as impact_sections
from maexlab.impact.tables import impact_contributions, protect_impact_totals
from maexlab.reporting import open_report
from maexlab.reporting.disclosure import DOMINANCE_K, DOMINANCE_N, P_PERCENT


@pytest.fixture(scope="module")
def tables():
    InteractiveShell.instance()  # before capture_output, so displays are captured
    tables, _ = synth.generate(seed=7, n_initiatives=300)
    return tables


def _report(tables, tmp_path, notebook: str, language: str = "en"):
    folder = io.write_dataset(tables, tmp_path / "data", {"synthetic": True, "description": "SYNTHETIC test variant"})
    return open_report(notebook, data_source=str(folder), output_dir=str(tmp_path / "out"), language=language)


def _shown_text(captured) -> str:
    return "\n".join(o.data.get("text/plain", "") for o in captured.outputs)


def test_rule_parameters_are_the_documented_defaults():
    assert (DOMINANCE_N, DOMINANCE_K, P_PERCENT) == (2, 85.0, 10.0)


def test_gap_table_hides_a_source_dominated_by_one_initiative(tables, tmp_path):
    tables = {k: v.copy() for k, v in tables.items()}
    funding = tables["funding"]
    decided = funding[funding["status"].isin(["granted", "partial", "rejected"])]
    counts = decided.groupby("source")["initiative_id"].nunique()
    source = counts.idxmax()  # the largest source: far above the count threshold
    row = decided.index[decided["source"] == source][0]
    total = decided.loc[decided["source"] == source, "amount_requested"].sum()
    # One application asks 20 times the rest of the source together: dominance and p% rules fire.
    funding.loc[row, ["amount_requested", "amount_granted", "status"]] = [20 * total, 20 * total, "granted"]
    with capture_output() as captured:
        report = _report(tables, tmp_path, "01_funding_gaps")
        funding_sections.gap_tables(report)
    published = pd.read_csv(tmp_path / "out" / "tables" / "gap_by_source.csv")
    hit = published.set_index("source").loc[source]
    assert pd.isna(hit["n_initiatives"])  # hidden, counts included
    assert counts[source] >= report.min_group_size  # not a threshold case
    assert bool(hit["suppressed"]) and hit["suppressed_rule"] == "dominance"
    assert pd.isna(hit["requested_eur"]) and pd.isna(hit["granted_eur"]) and pd.isna(hit["coverage"])
    # Secondary suppression: at least one other source is hidden so the total cannot give it away.
    others = published[published["source"] != source]
    assert (others["suppressed_rule"] == "secondary").sum() >= 1
    assert others.loc[~others["suppressed"].astype(bool), "requested_eur"].notna().all()
    assert report.results["disclosure"]["gap_by_source"]["dominance"] == 1
    text = _shown_text(captured)
    assert "dominance and p% rules" in text and "85%" in text


def test_unplanted_gap_table_hides_nothing_for_dominance(tables, tmp_path):
    with capture_output():
        report = _report(tables, tmp_path, "01_funding_gaps")
        funding_sections.gap_tables(report)
    published = pd.read_csv(tmp_path / "out" / "tables" / "gap_by_source.csv")
    assert "suppressed_rule" in published.columns
    assert not published["suppressed_rule"].isin(["dominance", "p_percent"]).any()


def test_impact_total_dominated_by_one_initiative_is_hidden(tables, tmp_path):
    tables = {k: v.copy() for k, v in tables.items()}
    impact = tables["impact"]
    year = int(impact["year"].max()) - 1
    rows = impact[impact["year"] == year]
    initiative = rows["initiative_id"].iloc[0]
    theme = tables["initiatives"].set_index("initiative_id").loc[initiative, "theme"]
    impact.loc[(impact["year"] == year) & (impact["initiative_id"] == initiative), "quantity"] *= 1e6
    with capture_output() as captured:
        report = _report(tables, tmp_path, "04_impact_value")
        impact_sections.impact_by_theme(report)
    published = pd.read_csv(tmp_path / "out" / "tables" / "impact_value_by_theme.csv")
    cell = published[(published["year"] == year) & (published["theme"] == theme)].iloc[0]
    assert bool(cell["suppressed"]) and cell["suppressed_rule"] in ("dominance", "p_percent", "threshold")
    assert pd.isna(cell["impact_value_eur"]) and pd.isna(cell["median_per_initiative_eur"])
    by_year = pd.read_csv(tmp_path / "out" / "tables" / "impact_value_by_year.csv")
    assert by_year.loc[by_year["year"] == year, "suppressed_rule"].iloc[0] in ("dominance", "p_percent")
    assert "also hides" in _shown_text(captured)


def test_protect_impact_totals_p_percent_rule():
    # Two initiatives of similar size and little else: p% fires, dominance (n=2) fires too.
    contributions = pd.DataFrame(
        {
            "year": 2024,
            "theme": ["a"] * 6 + ["b"] * 6 + ["c"] * 6,
            "initiative_id": [f"i{k}" for k in range(18)],
            "impact_value_eur": [500.0, 480.0, 1, 1, 1, 1] + [100.0] * 12,
        }
    )
    table = (
        contributions.groupby(["year", "theme"])
        .agg(n=("initiative_id", "nunique"), impact_value_eur=("impact_value_eur", "sum"))
        .reset_index()
    )
    out = protect_impact_totals(table, contributions, ["theme"], min_group_size=5).set_index("theme")
    assert out.loc["a", "suppressed_rule"] == "dominance"
    assert out["suppressed_rule"].tolist().count("secondary") == 1
    only_p = protect_impact_totals(table, contributions, ["theme"], min_group_size=5, dominance=None)
    assert only_p.set_index("theme").loc["a", "suppressed_rule"] == "p_percent"
    contributions_one = impact_contributions(
        pd.DataFrame(
            {"initiative_id": ["x", "x"], "year": [2024, 2024], "indicator": ["volunteer_hours"] * 2, "quantity": [1.0, 2.0]}
        ),
        pd.DataFrame({"indicator": ["volunteer_hours"], "unit": ["hour"], "euro_per_unit": [10.0], "source": ["s"]}),
        None,
    )
    assert contributions_one["impact_value_eur"].tolist() == [30.0]
