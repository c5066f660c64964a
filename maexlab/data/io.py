"""Reading and writing canonical datasets on disk: a folder of CSV or Parquet files, or DuckDB.

A canonical dataset folder holds one file per table (``funding.csv`` or ``funding.parquet``)
and an optional ``dataset.json`` describing it (``synthetic``, ``tables`` for a partial
dataset, ``description``). Writes are atomic so an interrupted write never looks complete.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from maexlab.data.schema import TABLES
from maexlab.data.validation import Problem

METADATA_FILE = "dataset.json"
CSV_LINE_OFFSET = 1  # the header is line 1, so data row N is line N + 1


def read_csv_file(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a canonical CSV as text cells, reporting encoding and emptiness problems."""
    raw = path.read_bytes()
    origin = str(path)
    if not raw.strip():
        return None, [Problem(origin, "the file is empty; expected a header row with the table's columns")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.start + 1].hex()
        return None, [
            Problem(origin, f"the file is not UTF-8: byte 0x{byte} at line {line} (offset {error.start}); save it as UTF-8")
        ]
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[])
    except pd.errors.ParserError as error:
        return None, [Problem(origin, f"the file is not valid CSV: {error}")]
    return frame, []


def read_parquet_file(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a canonical Parquet file; text columns arrive as pyarrow strings, ready for the checks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text_type = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    try:
        return pq.read_table(path).to_pandas(types_mapper=text_type.get), []
    except Exception as error:  # pyarrow raises several types for a damaged file
        return None, [Problem(str(path), f"the file is not a readable Parquet file: {error}")]


def outside_link(path: Path, folder: Path) -> str | None:
    """Why ``path`` must not be read: a symbolic link leading out of ``folder`` (None when fine)."""
    if not path.is_symlink() and path.resolve().parent == folder.resolve():
        return None
    target = path.resolve()
    inside = folder.resolve()
    if target == inside or inside in target.parents:
        return None
    return (
        "is a symbolic link that leads out of the dataset folder; refused so that no file is read "
        "without anyone seeing it (copy the file in, or pass allow_outside_links=True / --allow-outside-links)"
    )


def _path_kind_problem(path: Path) -> str | None:
    """A table path that exists but is not a regular file (a folder named funding.csv, ...)."""
    if path.is_dir():
        return f"is a folder; expected the file {path.name} holding the table (one file per table)"
    if not path.is_file():
        return f"is not a regular file; expected the file {path.name} holding the table"
    return None


def read_folder(
    folder: Path, *, allow_outside_links: bool = False
) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, int | None], dict, list[Problem]]:
    """Read every canonical table present in ``folder`` as raw frames.

    A table path of the wrong kind (a folder named ``funding.csv`` or ``funding.parquet``) is
    one problem, and so is a symbolic link leading out of ``folder`` unless
    ``allow_outside_links``.
    """
    problems: list[Problem] = []
    metadata_path = folder / METADATA_FILE
    if metadata_path.exists() or metadata_path.is_symlink():
        why = None if allow_outside_links else outside_link(metadata_path, folder)
        why = why or _path_kind_problem(metadata_path)
        if why:
            return {}, {}, {}, {}, [Problem(str(metadata_path), why)]
    metadata, found_meta = read_metadata(folder)
    problems.extend(found_meta)
    expected = metadata.get("tables", list(TABLES))
    raw: dict[str, pd.DataFrame] = {}
    origins: dict[str, str] = {}
    offsets: dict[str, int | None] = {}
    for name in TABLES:
        csv_path, parquet_path = folder / f"{name}.csv", folder / f"{name}.parquet"
        refused = False
        for path in (csv_path, parquet_path):
            if path.exists() or path.is_symlink():
                why = None if allow_outside_links else outside_link(path, folder)
                why = why or (_path_kind_problem(path) if path.exists() else "is a symbolic link to nothing")
                if why:
                    problems.append(Problem(str(path), why))
                    refused = True
        if refused:
            continue
        if csv_path.exists() and parquet_path.exists():
            problems.append(
                Problem(str(folder), f"both {name}.csv and {name}.parquet exist; keep one so it is clear which is the data")
            )
            continue
        if csv_path.exists():
            frame, found = read_csv_file(csv_path)
            origins[name], offsets[name] = str(csv_path), CSV_LINE_OFFSET
        elif parquet_path.exists():
            frame, found = read_parquet_file(parquet_path)
            origins[name], offsets[name] = str(parquet_path), None
        else:
            if name in expected:
                problems.append(
                    Problem(
                        str(folder),
                        f"table {name!r} is missing: expected {name}.csv or {name}.parquet "
                        f"(a partial dataset lists its tables in {METADATA_FILE} under 'tables')",
                    )
                )
            continue
        problems.extend(found)
        if frame is not None:
            raw[name] = frame
    return raw, origins, offsets, metadata, problems


def read_duckdb(path: Path) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, int | None], dict, list[Problem]]:
    """Read canonical tables from a DuckDB database file (table names as in the schema)."""
    import duckdb

    raw: dict[str, pd.DataFrame] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except Exception as error:  # duckdb raises its own IOException types
        return {}, {}, {}, {}, [Problem(str(path), f"not a readable DuckDB database: {error}")]
    with connection:
        present = {row[0] for row in connection.execute("select table_name from information_schema.tables").fetchall()}
        metadata: dict = {}
        if "dataset_metadata" in present:
            rows = connection.execute("select key, value from dataset_metadata").fetchall()
            try:
                loaded = {key: json.loads(value) for key, value in rows}
            except (TypeError, ValueError) as error:
                return {}, {}, {}, {}, [Problem(f"{path}:dataset_metadata", f"values must be JSON text: {error}")]
            metadata, found = _checked_metadata(loaded, f"{path}:dataset_metadata")
            problems.extend(found)
        expected = metadata.get("tables", list(TABLES))
        for name in TABLES:
            if name not in present:
                if name in expected:
                    problems.append(Problem(str(path), f"table {name!r} is missing from the database"))
                continue
            raw[name] = connection.execute(f'select * from "{name}"').df()
            origins[name] = f"{path}:{name}"
    return raw, origins, {name: None for name in raw}, metadata, problems


def read_metadata(folder: Path) -> tuple[dict, list[Problem]]:
    """The dataset's ``dataset.json`` (empty when absent) and any problem with it."""
    path = folder / METADATA_FILE
    if not path.exists():
        return {}, []
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        return {}, [Problem(str(path), f"not valid JSON: {error}")]
    return _checked_metadata(metadata, str(path))


def _checked_metadata(metadata: object, origin: str) -> tuple[dict, list[Problem]]:
    if not isinstance(metadata, dict):
        return {}, [Problem(origin, "expected a JSON object with keys such as 'synthetic' and 'tables'")]
    tables = metadata.get("tables", list(TABLES))
    if not isinstance(tables, list) or not all(isinstance(t, str) and t in TABLES for t in tables):
        return {}, [Problem(origin, f"'tables' must be a list of table names from: {', '.join(TABLES)}; got {tables!r}")]
    if not isinstance(metadata.get("synthetic", False), bool):
        return {}, [Problem(origin, f"'synthetic' must be true or false; got {metadata['synthetic']!r}")]
    return metadata, []


def table_to_csv_bytes(df: pd.DataFrame, engine: str = "pandas") -> bytes:
    """Deterministic CSV bytes: ISO dates, no index, '\\n' line ends.

    ``engine="arrow"`` writes with pyarrow's CSV writer (several times faster; whole-number
    floats are written without '.0'); the default keeps the bytes of the embedded data.
    """
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            days = out[column].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
            text = np.datetime_as_string(days).astype(object)  # numpy's C formatting, not strftime per cell
            text[np.isnat(days)] = None
            out[column] = text
        elif pd.api.types.is_bool_dtype(out[column]):
            values = out[column].astype("boolean")
            text = np.where(values.fillna(False).to_numpy(dtype=bool), "true", "false").astype(object)
            text[values.isna().to_numpy()] = None
            out[column] = text
    if engine == "arrow":
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        sink = io.BytesIO()
        pa_csv.write_csv(pa.Table.from_pandas(out, preserve_index=False), sink, pa_csv.WriteOptions(quoting_style="needed"))
        return sink.getvalue()
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; outputs are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_folder(staged: Path, out_dir: Path) -> None:
    """Move a complete ``staged`` folder to ``out_dir``, replacing an old one only at the end."""
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out_dir, old)
        os.replace(staged, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, out_dir)


def write_dataset(
    tables: dict[str, pd.DataFrame], out_dir: Path | str, metadata: dict, fmt: str = "csv", csv_engine: str = "pandas"
) -> Path:
    """Write a canonical dataset folder atomically: built beside ``out_dir`` and renamed in.

    An existing ``out_dir`` is replaced only once the new one is complete.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".partial"))
    try:
        for name, df in tables.items():
            if fmt == "csv":
                (staging / f"{name}.csv").write_bytes(table_to_csv_bytes(df, csv_engine))
            elif fmt == "parquet":
                df.to_parquet(staging / f"{name}.parquet", index=False)
            else:
                raise ValueError(f"unknown format {fmt!r}: expected 'csv' or 'parquet'")
        meta = {**metadata, "tables": sorted(tables)}
        (staging / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
