"""Validated snapshots: validate a dataset once, then read only the place a report needs.

:func:`write_snapshot` loads and validates a dataset (any source :func:`maexlab.load`
accepts) and writes it as one Parquet file per table, sorted by province and municipality,
with small row groups, plus ``snapshot.json`` recording what was validated. Every table that
belongs to initiatives carries the initiative's province and municipality code in two hidden
columns, so :func:`load_snapshot` can ask Parquet for one place only: row groups of other
places are skipped unread (predicate pushdown through ``pyarrow`` filters), and nothing is
validated again.

>>> from maexlab.data.snapshot import load_snapshot, write_snapshot
>>> path = write_snapshot("embedded", "outputs/snapshot")              # doctest: +SKIP
>>> utrecht = load_snapshot(path, municipality="GM0344")               # doctest: +SKIP
>>> utrecht.filters                                                    # doctest: +SKIP
{'municipality': 'GM0344'}

The result equals ``maexlab.load(source, municipality=...)`` table for table (the tests check
it); only the reading differs. A snapshot whose files changed after it was written is refused.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from maexlab import __version__
from maexlab.data.io import replace_folder
from maexlab.data.loader import MaexData, _check_province, load, normalise_municipality_code
from maexlab.data.schema import TABLES

MARKER = "snapshot.json"
FORMAT = "maexlab-validated-snapshot"
#: Rows per Parquet row group: small enough that one municipality touches few of them.
ROW_GROUP_ROWS = 16_384
_PLACE_COLUMNS = ("__province", "__municipality_code")
_HIDDEN = (*_PLACE_COLUMNS, "__row")

__all__ = ["MARKER", "SnapshotError", "is_snapshot", "load_snapshot", "write_snapshot"]


class SnapshotError(ValueError):
    """The folder is not a complete, unchanged snapshot written by :func:`write_snapshot`."""


def is_snapshot(path: str | Path) -> bool:
    """True when ``path`` is a folder holding a snapshot marker."""
    return (Path(path) / MARKER).is_file()


def _with_place(df: pd.DataFrame, places: pd.DataFrame | None) -> pd.DataFrame:
    """``df`` with the hidden place columns (from its initiative), sorted so places are contiguous."""
    if places is None or "initiative_id" not in df.columns:
        return df
    out = df.join(places, on="initiative_id")
    return out.sort_values([*_PLACE_COLUMNS, "__row"], kind="stable", na_position="last").reset_index(drop=True)


def write_snapshot(source: str | Path | MaexData, path: str | Path) -> Path:
    """Validate ``source`` once and write it as a snapshot folder ``path`` (atomically).

    Parameters
    ----------
    source
        Anything :func:`maexlab.load` accepts, or a :class:`MaexData` already loaded (and so
        validated) without filters.
    path
        The snapshot folder; an existing snapshot there is replaced only when the new one is
        complete.

    Returns
    -------
    Path
        ``path``.
    """
    data = source if isinstance(source, MaexData) else load(source)
    if data.filters:
        raise SnapshotError(f"a snapshot holds a whole dataset; this one is filtered ({data.filters})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial"))
    try:
        initiatives = data.tables.get("initiatives")
        places = None
        if initiatives is not None:
            places = pd.DataFrame(
                {
                    "__province": initiatives["province"].astype(object).to_numpy(),
                    "__municipality_code": initiatives["municipality_code"].astype(object).to_numpy(),
                },
                index=pd.Index(initiatives["initiative_id"], name="initiative_id"),
            )
        files = {}
        for name, df in data.tables.items():
            if df is None:
                continue
            # The original row order is kept in __row, so a read gives the rows in load()'s order.
            table = df.assign(__row=range(len(df)))
            if name == "initiatives" and places is not None:
                table = table.assign(**{c: places[c].to_numpy() for c in _PLACE_COLUMNS})
                table = table.sort_values([*_PLACE_COLUMNS, "__row"], kind="stable", na_position="last")
            else:
                table = _with_place(table, places)
            target = staging / f"{name}.parquet"
            pq.write_table(pa.Table.from_pandas(table, preserve_index=False), target, row_group_size=ROW_GROUP_ROWS)
            files[name] = {"rows": len(df), "bytes": target.stat().st_size}
        marker = {
            "format": FORMAT,
            "maexlab_version": __version__,
            "source": data.source,
            "synthetic": data.synthetic,
            "metadata": data.metadata,
            "tables": files,
            "validated": "every table passed maexlab.load's checks before it was written",
        }
        (staging / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        replace_folder(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _marker(path: Path) -> dict:
    if not is_snapshot(path):
        raise SnapshotError(f"{path}: not a snapshot (no {MARKER}); write one with maexlab.data.snapshot.write_snapshot")
    try:
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except ValueError as error:
        raise SnapshotError(f"{path / MARKER}: not valid JSON: {error}") from None
    if marker.get("format") != FORMAT:
        raise SnapshotError(f"{path / MARKER}: not a maexlab snapshot marker")
    for name, info in marker["tables"].items():
        file = path / f"{name}.parquet"
        if not file.is_file() or file.stat().st_size != info["bytes"]:
            raise SnapshotError(f"{file}: changed or missing since the snapshot was validated; write the snapshot again")
    return marker


def _place_filter(path: Path, municipality: str | None, province: str | None) -> list[tuple]:
    """The Parquet filter on the hidden place columns for the requested place."""
    filters: list[tuple] = []
    if province is not None:
        filters.append(("__province", "=", _check_province(province)))
    if municipality is not None:
        try:
            codes = [normalise_municipality_code(municipality)]
        except ValueError:  # a name: find its codes in the (small) place columns of initiatives
            names = pq.read_table(path / "initiatives.parquet", columns=["municipality", "municipality_code"]).to_pandas()
            match = names["municipality"].str.casefold() == str(municipality).casefold()
            codes = sorted(set(names.loc[match, "municipality_code"].dropna()))
        filters.append(("__municipality_code", "in", codes or ["(none)"]))
    return filters


def load_snapshot(
    path: str | Path,
    *,
    municipality: str | None = None,
    province: str | None = None,
    period: tuple[int | None, int | None] | None = None,
) -> MaexData:
    """Read a snapshot, only the rows of one place when asked; no validation is repeated.

    Parameters
    ----------
    path
        A folder written by :func:`write_snapshot`.
    municipality, province, period
        As in :func:`maexlab.load`: the same rows come back.

    Raises
    ------
    SnapshotError
        When ``path`` is not a snapshot or one of its files changed after it was written.
    """
    path = Path(path)
    marker = _marker(path)
    filters = _place_filter(path, municipality, province)
    tables: dict[str, pd.DataFrame | None] = {name: None for name in TABLES}
    for name in marker["tables"]:
        file = path / f"{name}.parquet"
        schema_names = pq.read_schema(file).names
        use = filters if filters and set(_PLACE_COLUMNS) <= set(schema_names) else None
        table = pq.read_table(file, filters=use).to_pandas()
        table = table.sort_values("__row", kind="stable").reset_index(drop=True)
        tables[name] = table.drop(columns=[c for c in _HIDDEN if c in table.columns])
    data = MaexData(tables, source=marker["source"], synthetic=bool(marker["synthetic"]), metadata=marker["metadata"])
    if municipality is not None or province is not None or period is not None:
        data = data.filter(municipality=municipality, province=province, period=period)
    return data
