"""The fast paths of loading find exactly the problems of the general ones, in the same order.

Parquet columns that already have the canonical dtype skip the text parsing, and the
cross-table checks look initiative ids up once instead of joining; both must report the same
problems (same rows, columns, messages) and give the same tables as the general paths.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import maexlab
from maexlab.data import validation
from maexlab.data.io import table_to_csv_bytes
from maexlab.data.schema import TABLES


def _broken_tables() -> dict[str, pd.DataFrame]:
    """The embedded data with problems the cross-table checks must find, in random rows."""
    data = maexlab.load("embedded")
    tables = {name: df.copy() for name, df in data.tables.items() if df is not None}
    rng = np.random.default_rng(7)
    phases, funding = tables["phases"], tables["funding"]
    phases.loc[rng.choice(len(phases), 40, replace=False), "entered_on"] = pd.Timestamp("2001-01-01")
    phases.loc[rng.choice(len(phases), 5, replace=False), "phase"] = None
    funding.loc[rng.choice(len(funding), 10, replace=False), "initiative_id"] = "no-such-initiative"
    funding.loc[rng.choice(len(funding), 5, replace=False), "initiative_id"] = None
    funding.loc[rng.choice(len(funding), 40, replace=False), "applied_on"] = pd.Timestamp("2031-01-01")
    return tables


def _problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    origins = {name: f"{name}.parquet" for name in tables}
    offsets = dict.fromkeys(tables)
    return [str(p) for p in validation.check_cross_table(tables, origins, offsets)]


def test_initiative_lookup_reports_what_the_join_reports(monkeypatch: pytest.MonkeyPatch):
    tables = _broken_tables()
    fast = _problems(tables)
    monkeypatch.setattr(validation, "_initiative_lookup", lambda initiatives: None)
    general = _problems(tables)
    assert fast == general
    for text in ("does not exist in table initiatives", "on or before the initiative's", "phases entered in the order"):
        assert any(text in line for line in fast), text


def test_native_parquet_columns_parse_like_their_text():
    data = maexlab.load("embedded")
    for name in ("funding", "impact", "initiatives"):
        df, schema = data.tables[name], TABLES[name]
        native, native_problems = validation.parse_table(df, schema, name, None)
        text = pd.read_csv(io.BytesIO(table_to_csv_bytes(df)), dtype=str, keep_default_na=False, na_values=[])
        parsed, text_problems = validation.parse_table(text, schema, name, 1)
        pd.testing.assert_frame_equal(native, parsed)
        assert native_problems == text_problems == []
