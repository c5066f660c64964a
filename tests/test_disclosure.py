"""Dominance and p% rules for tables of euro amounts, with secondary suppression."""

from __future__ import annotations

import pandas as pd
import pytest

from maexlab.reporting.disclosure import dominance_rule, p_percent_rule, sensitive_cells, suppress_magnitudes


@pytest.mark.parametrize(
    ("values", "n", "k", "expected"),
    [
        ([86, 7, 7], 1, 85, True),
        ([85, 8, 7], 1, 85, False),
        ([50, 40, 10], 2, 85, True),
        ([40, 30, 30], 2, 85, False),
        ([0, 0], 2, 85, False),
    ],
)
def test_dominance_rule(values, n, k, expected):
    assert dominance_rule(values, n, k) is expected


@pytest.mark.parametrize(("values", "expected"), [([100, 95, 9], True), ([100, 95, 10], False), ([100], True), ([], False)])
def test_p_percent_rule(values, expected):
    # rest = total - x1 - x2 must reach p% of x1 = 10
    assert p_percent_rule(values, p=10) is expected


def _contributions() -> pd.DataFrame:
    rows = []
    # fund: 12 initiatives, one holds nearly everything -> dominance and p%
    rows += [("fund", f"f{i}", 1_000_000.0 if i == 0 else 1_000.0) for i in range(12)]
    # bank, loan, donation: 12 initiatives each, even amounts -> safe
    for source in ("bank", "loan", "donation"):
        rows += [(source, f"{source}{i}", 10_000.0) for i in range(12)]
    # one initiative with two applications in 'loan' counts once
    rows.append(("loan", "loan0", 10_000.0))
    return pd.DataFrame(rows, columns=["source", "initiative_id", "amount"])


def test_contributions_are_summed_per_initiative_before_the_rules():
    cells = sensitive_cells(_contributions(), ["source"], value="amount", min_units=10).set_index("source")
    assert cells.loc["loan", "n_units"] == 12 and cells.loc["loan", "total"] == 130_000.0
    assert cells.loc["fund", "dominance"] and cells.loc["fund", "p_percent"] and cells.loc["fund", "sensitive"]
    assert not cells.loc[["bank", "loan", "donation"], "sensitive"].any()


def test_a_dominated_cell_is_hidden_and_cannot_be_recovered_from_the_total():
    contributions = _contributions()
    table = (
        contributions.groupby("source").agg(n_initiatives=("initiative_id", "nunique"), total_eur=("amount", "sum")).reset_index()
    )
    shown = suppress_magnitudes(table, contributions, ["source"], value="amount", min_group_size=10).set_index("source")
    assert shown.loc["fund", "suppressed"] and shown.loc["fund", "suppressed_rule"] == "dominance"
    assert pd.isna(shown.loc["fund", "total_eur"])
    # With a published grand total, one hidden cell would be recovered by subtraction: a second is hidden.
    assert shown["suppressed"].sum() >= 2
    assert set(shown.loc[shown["suppressed"], "suppressed_rule"]) <= {"dominance", "p_percent", "secondary"}


def test_rules_can_be_switched_off():
    contributions = _contributions()
    cells = sensitive_cells(contributions, ["source"], value="amount", dominance=None, p_percent=None, min_units=10)
    assert not cells["sensitive"].any()
