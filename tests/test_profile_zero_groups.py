"""Zero-count groups are not small groups: never shown as suppressed (issue 12)."""

from __future__ import annotations

import pandas as pd

import maexlab
from maexlab.data import profile
from maexlab.reporting.privacy import suppress_small_cells


def test_zero_count_groups_are_shown_as_zero_not_suppressed():
    table = pd.DataFrame({"province": ["Zeeland", "Utrecht", "Drenthe"], "n": [0, 40, 0]})
    shown = suppress_small_cells(table)
    assert shown["suppressed"].tolist() == [False, False, False]
    assert shown["n"].tolist() == [0, 40, 0]


def test_a_zero_group_is_not_hidden_to_protect_a_small_one():
    # one small group (3) needs a second hidden group; hiding the 0 would protect nothing
    table = pd.DataFrame({"g": ["a", "b", "c", "d"], "n": [3, 0, 12, 50]})
    assert suppress_small_cells(table)["suppressed"].tolist() == [True, False, True, False]


def test_province_report_lists_its_province_only():
    by_province = profile.initiatives_by_province(maexlab.load("embedded", province="Fryslân"))
    assert by_province["province"].tolist() == ["Fryslân"]
    national = profile.initiatives_by_province(maexlab.load("embedded"))
    assert len(national) == 12 and (national["n"] > 0).all()
