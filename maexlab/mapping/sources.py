"""Reading source files (CSV, Excel, JSON, JSON lines, Parquet) into frames, with row numbers.

Every row keeps where it came from: its 1-based record number and, where the format has
lines, the line (CSV, JSON lines) or sheet row (Excel) it starts on. A file that cannot be
read at all raises MappingError naming the file and the line or byte.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from maexlab.mapping.spec import MappingError, SourceSpec


@dataclass
class SourceTable:
    """The rows of one source file as a frame of native cells, plus where each row came from."""

    path: Path
    frame: pd.DataFrame  # object dtype; columns as in the source header
    rows: list[int]  # 1-based record number per row
    lines: list[int | None]  # line (CSV/JSON lines) or sheet row (Excel) per row
    malformed: dict[int, str] = field(default_factory=dict)  # position -> reason (e.g. wrong field count)

    def where(self, position: int) -> str:
        line = self.lines[position]
        return f"{self.path.name} row {self.rows[position]}" + (f" (line {line})" if line is not None else "")


def _decode(path: Path, spec: SourceSpec, mapping_file: Path) -> str:
    raw = path.read_bytes()
    encoding = "utf-8-sig" if spec.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else spec.encoding
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.start + 1].hex()
        raise MappingError(
            [
                f"{path}: cannot decode line {line} with the declared encoding {spec.encoding!r}: byte 0x{byte} at offset "
                f"{error.start}; declare the file's encoding (e.g. cp1252 or latin-1) under source.encoding "
                f"({mapping_file}, line {spec.encoding_line})"
            ]
        ) from None


def _read_csv(path: Path, spec: SourceSpec, mapping_file: Path) -> SourceTable:
    """Read a CSV source; pandas' C parser when every record is one line, else record by record.

    The fast path is taken only when the file has exactly one line per record (no blank
    lines, no line breaks inside quoted cells, no row with a wrong number of fields), so the
    line number of row N is N + 1 either way.
    """
    text = _decode(path, spec, mapping_file)
    fast = _read_csv_fast(text, spec)
    if fast is not None:
        frame = fast
        rows = list(range(1, len(frame) + 1))
        return SourceTable(path, frame, rows, list(range(2, len(frame) + 2)))
    return _read_csv_records(path, text, spec, mapping_file)


def _read_csv_fast(text: str, spec: SourceSpec) -> pd.DataFrame | None:
    first_line = text.split("\n", 1)[0]
    try:
        header = next(csv.reader([first_line], delimiter=spec.delimiter))
    except (csv.Error, StopIteration):
        return None
    header = [cell.strip() for cell in header]
    if not any(header) or len(set(header)) != len(header) or '"' in first_line:
        return None  # blank first line, duplicate names, quoted header: the careful path says what is wrong
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=spec.delimiter,
            dtype="string[pyarrow]",  # text cells; pyarrow string kernels read them column-wise
            keep_default_na=False,
            na_filter=True,  # only missing fields (a short row) become NaN
            na_values=[],
            skip_blank_lines=False,
            engine="c",
            header=0,
        )
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame.columns) != len(header):
        return None
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines != len(frame) + 1 or "\r" in text.replace("\r\n", "") or frame.isna().to_numpy().any():
        return None
    if len(frame) and (frame == "").all(axis=1).any():
        return None  # a row of empty cells is not a record; the careful path skips it
    # pandas pads a short row with empty cells: check every row whose last cell is empty.
    candidates = np.flatnonzero((frame.iloc[:, -1] == "").to_numpy()) if len(frame) else []
    if len(candidates):
        text_lines = text.split("\n")
        for position in candidates:
            record = next(csv.reader([text_lines[position + 1].rstrip("\r")], delimiter=spec.delimiter), [])
            if len(record) != len(header):
                return None
    frame.columns = header
    return frame


def _read_csv_records(path: Path, text: str, spec: SourceSpec, mapping_file: Path) -> SourceTable:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
    header: list[str] | None = None
    records: list[list[str]] = []
    lines: list[int | None] = []
    malformed: dict[int, str] = {}
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue  # blank lines are not rows
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            if len(record) != len(header):
                malformed[len(records)] = (
                    f"the row has {len(record)} fields but the header has {len(header)} (check delimiter and quotes)"
                )
                record = (record + [""] * len(header))[: len(header)]
            records.append(record)
            lines.append(start)
    except csv.Error as error:
        raise MappingError(
            [f"{path}, line {reader.line_num}: not readable as CSV with delimiter {spec.delimiter!r}: {error}"]
        ) from None
    if header is None:
        raise MappingError([f"{path}: the file is empty; expected a header row ({mapping_file}, line {spec.line})"])
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise MappingError([f"{path}, line 1: the header names column(s) {', '.join(map(repr, duplicates))} more than once"])
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return SourceTable(path, frame, list(range(1, len(records) + 1)), lines, malformed)


def _read_excel(path: Path, spec: SourceSpec, mapping_file: Path) -> SourceTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several types for a damaged or foreign file
        raise MappingError([f"{path}: not a readable Excel (.xlsx) file: {error}"]) from None
    try:
        if spec.sheet is None:
            sheet = book.worksheets[0]
        elif isinstance(spec.sheet, int):
            if not 0 <= spec.sheet < len(book.worksheets):
                raise MappingError(
                    [
                        f"{mapping_file}, line {spec.line}: sheet number {spec.sheet} does not exist in {path.name} "
                        f"(sheets, counted from 0: {', '.join(book.sheetnames)})"
                    ]
                )
            sheet = book.worksheets[spec.sheet]
        elif spec.sheet in book.sheetnames:
            sheet = book[spec.sheet]
        else:
            raise MappingError(
                [
                    f"{mapping_file}, line {spec.line}: sheet {spec.sheet!r} does not exist in {path.name} "
                    f"(sheets: {', '.join(book.sheetnames)})"
                ]
            )
        header: list[str] | None = None
        records: list[list[object]] = []
        lines: list[int | None] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if header is None:
                header = ["" if v is None else str(v).strip() for v in values]
                while header and header[-1] == "":
                    header.pop()
                continue
            records.append(list(values[: len(header)]) + [None] * max(0, len(header) - len(values)))
            lines.append(number)
    finally:
        book.close()
    if header is None:
        raise MappingError([f"{path}: the sheet is empty; expected a header row"])
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return SourceTable(path, frame, list(range(1, len(records) + 1)), lines)


def _records_frame(records: list[dict]) -> pd.DataFrame:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    rows = [[_flatten(record.get(c)) for c in columns] for record in records]
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def _flatten(value: object) -> object:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _read_json(path: Path, spec: SourceSpec, mapping_file: Path) -> SourceTable:
    text = _decode(path, spec, mapping_file)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MappingError([f"{path}, line {error.lineno}, column {error.colno}: not valid JSON: {error.msg}"]) from None
    if not isinstance(document, list):
        raise MappingError([f"{path}: expected a JSON array of objects (one object per row), got a {type(document).__name__}"])
    for number, record in enumerate(document, start=1):
        if not isinstance(record, dict):
            raise MappingError([f"{path}, record {number}: expected an object, got {type(record).__name__}"])
    return SourceTable(path, _records_frame(document), list(range(1, len(document) + 1)), [None] * len(document))


def _read_jsonl(path: Path, spec: SourceSpec, mapping_file: Path) -> SourceTable:
    text = _decode(path, spec, mapping_file)
    records: list[dict] = []
    lines: list[int | None] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise MappingError([f"{path}, line {number}, column {error.colno}: not valid JSON: {error.msg}"]) from None
        if not isinstance(record, dict):
            raise MappingError([f"{path}, line {number}: expected one JSON object per line, got {type(record).__name__}"])
        records.append(record)
        lines.append(number)
    return SourceTable(path, _records_frame(records), list(range(1, len(records) + 1)), lines)


def _read_parquet(path: Path, spec: SourceSpec, mapping_file: Path) -> SourceTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise MappingError([f"{path}: not a readable Parquet file: {error}"]) from None
    frame = frame.astype(object).where(frame.notna(), None)
    return SourceTable(path, frame.reset_index(drop=True), list(range(1, len(frame) + 1)), [None] * len(frame))


READERS = {"csv": _read_csv, "excel": _read_excel, "json": _read_json, "jsonl": _read_jsonl, "parquet": _read_parquet}


def read_source(spec: SourceSpec, mapping_file: Path) -> SourceTable:
    """Read one declared source; a missing or undecodable file raises MappingError."""
    if not spec.path.exists():
        raise MappingError(
            [
                f"{mapping_file}, line {spec.line}: source file not found: {spec.path} "
                f"(written as {spec.written!r}; relative paths are read from the mapping file's folder)"
            ]
        )
    if spec.path.is_dir():
        raise MappingError([f"{mapping_file}, line {spec.line}: source path is a folder, not a file: {spec.path}"])
    return READERS[spec.format](spec.path, spec, mapping_file)
