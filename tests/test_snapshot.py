"""Validated snapshots: one validation, then per-place reads equal to maexlab.load's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import maexlab
from maexlab.data.snapshot import SnapshotError, is_snapshot, load_snapshot, write_snapshot
from maexlab.data.validation import DataValidationError


def _same(a: maexlab.MaexData, b: maexlab.MaexData) -> None:
    for name in a.tables:
        if a.tables[name] is None:
            assert b.tables[name] is None, name
        else:
            pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_like=False, obj=name)
    assert (a.synthetic, a.metadata, a.filters) == (b.synthetic, b.metadata, b.filters)


@pytest.mark.parametrize(
    "where",
    [
        {},
        {"municipality": "GM0363"},
        {"municipality": "rotterdam"},
        {"province": "Zuid-Holland"},
        {"period": (2016, 2020)},
        {"province": "Noord-Holland", "period": (2019, None)},
    ],
)
def test_snapshot_reads_equal_load(tiny_dataset: Path, tmp_path: Path, where):
    snapshot = write_snapshot(tiny_dataset, tmp_path / "snap")
    assert is_snapshot(snapshot)
    _same(maexlab.load(tiny_dataset, **where), load_snapshot(snapshot, **where))


def test_snapshot_of_the_embedded_data_one_municipality():
    data = maexlab.load("embedded")
    code = data.initiatives["municipality_code"].dropna().iloc[0]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        snapshot = write_snapshot(data, Path(tmp) / "snap")
        _same(maexlab.load("embedded", municipality=code), load_snapshot(snapshot, municipality=code))


def test_snapshot_refuses_changed_files_and_plain_folders(tiny_dataset: Path, tmp_path: Path):
    snapshot = write_snapshot(tiny_dataset, tmp_path / "snap")
    with pytest.raises(SnapshotError, match="not a snapshot"):
        load_snapshot(tiny_dataset)
    (snapshot / "funding.parquet").write_bytes(b"changed")
    with pytest.raises(SnapshotError, match="changed or missing since the snapshot was validated"):
        load_snapshot(snapshot)


def test_snapshot_of_invalid_data_is_never_written(tiny_dataset: Path, tmp_path: Path):
    (tiny_dataset / "funding.csv").write_text("funding_id\nF1\n", encoding="utf-8")
    with pytest.raises(DataValidationError):
        write_snapshot(tiny_dataset, tmp_path / "snap")
    assert not (tmp_path / "snap").exists()


def test_unknown_place_is_the_same_error_as_load(tiny_dataset: Path, tmp_path: Path):
    snapshot = write_snapshot(tiny_dataset, tmp_path / "snap")
    with pytest.raises(ValueError, match="is not in the data"):
        load_snapshot(snapshot, municipality="GM9999")
