"""Running a mapping: sources -> canonical tables, with quarantine and an import report.

Order of work:

1. check the mapping and read every source (any problem here stops the import; nothing is
   written);
2. turn each source row into canonical values; a row with a value-level problem (a value
   that cannot be read, an unmapped category, a required field left empty, no join match)
   goes to quarantine with its reasons;
3. run the canonical validation (:func:`maexlab.data.validate_raw`) on the result and
   quarantine the rows it rejects, again and again until none is rejected (removing an
   initiative can orphan its funding rows);
4. write the dataset, ``import_report.json`` and ``quarantine/<table>.csv`` into a staging
   folder, check the staged dataset loads, and only then rename it into place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from maexlab import __version__
from maexlab.data.io import METADATA_FILE, replace_folder, write_dataset
from maexlab.data.schema import TABLES
from maexlab.mapping import parsers
from maexlab.mapping.parsers import ValueProblem
from maexlab.mapping.sources import SourceTable, read_source
from maexlab.mapping.spec import FieldSpec, MappingError, MappingSpec, TableMapping, load_mapping

REPORT_FILE = "import_report.json"
QUARANTINE_DIR = "quarantine"
QUARANTINE_META = ["mapping", "source_file", "source_row", "source_line", "reason"]


# --- the report ------------------------------------------------------------------------------


@dataclass
class MappingReport:
    """What one mapping block did. ``rows_read == rows_loaded + rows_quarantined`` always."""

    name: str
    target: str
    source: str | None
    format: str | None
    sha256: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    date_precision: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults_used: dict[str, int] = field(default_factory=dict)
    unknown_filled: dict[str, int] = field(default_factory=dict)
    personal_columns_dropped: list[str] = field(default_factory=list)
    fields_left_empty: list[str] = field(default_factory=list)
    derived_from: str | None = None


@dataclass
class ImportReport:
    mapping: str
    out_dir: str
    dataset: dict[str, Any]
    mappings: list[MappingReport]
    tables: dict[str, int]
    quarantine_files: dict[str, str]
    maexlab_version: str = __version__

    @property
    def rows_quarantined(self) -> int:
        return sum(m.rows_quarantined for m in self.mappings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        kind = "SYNTHETIC" if self.dataset.get("synthetic") else "real (synthetic: false)"
        lines = [f"Imported {self.mapping} -> {self.out_dir} ({kind})"]
        for m in self.mappings:
            origin = m.source if m.source else f"derived from {m.derived_from}"
            lines.append(
                f"  {m.name} ({origin} -> {m.target}): {m.rows_read} read, {m.rows_loaded} loaded, {m.rows_quarantined} quarantined"
            )
            for reason, count in sorted(m.quarantine_reasons.items()):
                lines.append(f"      quarantined, {reason}: {count}")
            for name, info in m.date_precision.items():
                partial = {k: v for k, v in info.items() if k in ("month", "year") and v}
                if partial:
                    lines.append(f"      {name}: partial dates filled with rule {info['rule']!r}: {partial}")
            for name, count in m.defaults_used.items():
                lines.append(f"      {name}: default used {count} time(s)")
            for name, count in m.unknown_filled.items():
                lines.append(f"      {name}: set to 'unknown' {count} time(s)")
            if m.personal_columns_dropped:
                lines.append(f"      personal columns dropped: {', '.join(m.personal_columns_dropped)}")
        lines.append("  tables: " + ", ".join(f"{t} ({n} rows)" for t, n in self.tables.items()))
        if self.quarantine_files:
            lines.append("  quarantine: " + ", ".join(self.quarantine_files.values()))
        lines.append(f"  report: {Path(self.out_dir) / REPORT_FILE}")
        return "\n".join(lines)


# --- one mapping's rows ----------------------------------------------------------------------


@dataclass
class _Result:
    mapping: TableMapping
    source: SourceTable
    positions: list[int]  # row of source.frame behind each output row
    values: list[dict[str, Any]]
    problems: list[list[tuple[str, str]]]  # per output row: (kind, message)
    report: MappingReport
    maker: _RowMaker

    def loaded(self) -> list[int]:
        return [i for i, p in enumerate(self.problems) if not p]


def _hash(values: list[str], salt: str | None, length: int) -> str:
    text = "\x1f".join(values)
    if salt is not None:
        return hmac.new(salt.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _RowMaker:
    """Turns source rows into canonical values for one mapping."""

    def __init__(
        self,
        spec: MappingSpec,
        mapping: TableMapping,
        source: SourceTable,
        report: MappingReport,
        parent: _RowMaker | None = None,
    ):
        self.spec = spec
        self.mapping = mapping
        self.source = source
        self.report = report
        # A derived mapping reads its parent's source rows with the parent's source settings.
        self.na = mapping.source.na_values if mapping.source else (parent.na if parent else frozenset())
        self.decimal = mapping.source.decimal if mapping.source else (parent.decimal if parent else "auto")
        self.thousands = mapping.source.thousands if mapping.source else (parent.thousands if parent else None)
        self.columns = {c: source.frame[c].tolist() for c in source.frame.columns}
        self.precision: dict[str, Counter] = {}

    def cell(self, column: str, position: int) -> object:
        return self.columns[column][position]

    def value(self, spec: FieldSpec, position: int) -> Any:
        """The canonical value of one field for one source row (None when empty)."""
        if spec.mode == "constant":
            return spec.default
        if spec.mode in ("hash", "personal_key"):
            parts = []
            for name in spec.hash_of:
                raw = self.cell(name, position)
                if parsers.is_empty(raw, self.na):
                    shown = "a personal column" if name in self.mapping.personal else f"column {name!r}"
                    raise ValueProblem(f"cannot derive {spec.field}: {shown} is empty")
                text = parsers.as_text(raw)
                parts.append(text.casefold() if spec.mode == "personal_key" else text)
            personal = spec.mode == "personal_key" or bool(set(spec.hash_of) & set(self.mapping.personal))
            return spec.prefix + _hash(parts, self.spec.salt if personal else None, spec.length)
        raw = self.cell(spec.source_column, position)
        if spec.values and not parsers.is_empty(raw):
            found, mapped = parsers.lookup(spec.values, parsers.as_text(raw))
            if found:
                return mapped
        if parsers.is_empty(raw, self.na):
            return None
        kind = spec.column.kind
        if spec.parse in ("money", "number"):
            number = parsers.parse_number(
                raw,
                spec.decimal or self.decimal,
                spec.thousands if spec.thousands is not None else self.thousands,
                money=spec.parse == "money",
            )
            rounding = spec.round if spec.round is not None else (2 if spec.parse == "money" and spec.scale is not None else None)
            number = parsers.apply_arithmetic(number, spec.scale, spec.divide_by, rounding)
            if spec.greater_than is not None:
                return number > spec.greater_than
            if kind == "int" and not number.is_integer():
                raise ValueProblem(f"{parsers.as_text(raw)!r} is not a whole number (declare round: ceil, floor or nearest)")
            return number
        if spec.parse == "date":
            value, precision = parsers.parse_date(raw, spec.date_format, spec.date_precision)
            self.precision.setdefault(spec.field, Counter())[precision] += 1
            return value
        if spec.parse == "bool":
            return parsers.parse_bool(raw)
        if spec.parse == "municipality_code":
            return parsers.parse_municipality_code(raw)
        if spec.parse == "category" and spec.column.vocabulary:
            category = parsers.parse_category(raw, spec.column.vocabulary, spec.unknown)
            if spec.unknown and category == "unknown" and parsers.as_text(raw).casefold() != "unknown":
                self.report.unknown_filled[spec.field] = self.report.unknown_filled.get(spec.field, 0) + 1
            return category
        return parsers.as_text(raw)

    def describe(self, spec: FieldSpec) -> str:
        if spec.source_column is not None and spec.mode == "column":
            return f"column {spec.source_column!r} -> {spec.field}"
        return spec.field

    def row(self, position: int, preset: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[tuple[str, str]], set[str]]:
        values: dict[str, Any] = dict(preset or {})
        problems: list[tuple[str, str]] = []
        if position in self.source.malformed and self.mapping.derive is None:
            problems.append(("malformed row", self.source.malformed[position]))
        failed: set[str] = set()
        for spec in self.mapping.fields.values():
            if spec.mode in ("rule", "aggregate"):
                continue
            try:
                values[spec.field] = self.value(spec, position)
            except ValueProblem as error:
                failed.add(spec.field)
                values[spec.field] = None
                kind = "unmapped category" if str(error).startswith("unmapped category") else "unreadable value"
                problems.append((kind, f"{self.describe(spec)}: {error}"))
                continue
            if values[spec.field] is None and spec.default is not None and spec.mode == "column":
                values[spec.field] = spec.default
                self.report.defaults_used[spec.field] = self.report.defaults_used.get(spec.field, 0) + 1
            elif values[spec.field] is None and spec.unknown:
                values[spec.field] = "unknown"
                self.report.unknown_filled[spec.field] = self.report.unknown_filled.get(spec.field, 0) + 1
        return values, problems, failed

    def finish(self, values: dict[str, Any], problems: list[tuple[str, str]], failed: set[str]) -> None:
        """Apply rules (which read other fields) and check required fields."""
        for spec in self.mapping.fields.values():
            if spec.mode == "rule" and spec.rule == "coverage":
                granted, requested = values.get(spec.rule_fields["granted"]), values.get(spec.rule_fields["requested"])
                if requested is None:
                    values[spec.field] = None
                    failed.add(spec.field)  # the requested field's own problem says why
                elif granted is None:
                    values[spec.field] = "pending"
                elif granted <= 0:
                    values[spec.field] = "rejected"
                elif granted >= requested:
                    values[spec.field] = "granted"
                else:
                    values[spec.field] = "partial"
        for name in TABLES[self.mapping.target].column_names:
            column = TABLES[self.mapping.target].column(name)
            if name in values and values[name] is None and not column.nullable and name not in failed:
                spec = self.mapping.fields.get(name)
                origin = (
                    f" (column {spec.source_column!r})"
                    if spec is not None and spec.source_column and spec.mode == "column"
                    else ""
                )
                if spec is not None and spec.mode == "personal_key":
                    origin = " (a personal key column)"
                problems.append(("required field empty", f"required field {name} is empty{origin} and no default is declared"))


def _run_source_mapping(spec: MappingSpec, mapping: TableMapping, source: SourceTable, results: dict[str, _Result]) -> _Result:
    report = MappingReport(
        name=mapping.name,
        target=mapping.target,
        source=mapping.source.written,
        format=mapping.source.format,
        sha256=_sha256(mapping.source.path),
        personal_columns_dropped=list(mapping.personal),
        fields_left_empty=list(mapping.filled_empty),
    )
    maker = _RowMaker(spec, mapping, source, report)
    join_index = _join_index(mapping, results) if mapping.join else None
    positions, rows, problems = [], [], []
    for position in range(len(source.frame)):
        values, found, failed = maker.row(position)
        if join_index is not None:
            _apply_join(mapping, maker, position, values, found, failed, join_index)
        _finish_row(mapping, maker, values, found, failed)
        positions.append(position)
        rows.append(values)
        problems.append(found)
    _precision_report(maker, report)
    return _Result(mapping, source, positions, rows, problems, report, maker)


def _finish_row(mapping: TableMapping, maker: _RowMaker, values: dict[str, Any], found: list, failed: set[str]) -> None:
    """Fill the declared-empty fields and run the row's final checks (shared by read and derive)."""
    for name in mapping.filled_empty:
        values.setdefault(name, None)
    maker.finish(values, found, failed)


def _precision_report(maker: _RowMaker, report: MappingReport) -> None:
    for name, counts in maker.precision.items():
        rule = maker.mapping.fields[name].date_precision
        report.date_precision[name] = {
            "day": counts.get("day", 0),
            "month": counts.get("month", 0),
            "year": counts.get("year", 0),
            "rule": rule,
        }


def _join_key(maker_columns: dict[str, list], columns: list[str], position: int, na: frozenset[str]) -> tuple[str, ...] | None:
    key = []
    for c in columns:
        raw = maker_columns[c][position]
        if parsers.is_empty(raw, na):
            return None
        key.append(parsers.as_text(raw).strip())
    return tuple(key)


def _join_index(mapping: TableMapping, results: dict[str, _Result]) -> dict[tuple[str, ...], list[tuple[int, _Result]]]:
    other = results[mapping.join.table]
    columns = {c: other.source.frame[c].tolist() for c in other.source.frame.columns}
    na = other.mapping.source.na_values if other.mapping.source else frozenset()
    index: dict[tuple[str, ...], list[tuple[int, _Result]]] = {}
    for i, position in enumerate(other.positions):
        key = _join_key(columns, [there for _, there in mapping.join.on], position, na)
        if key is not None:
            index.setdefault(key, []).append((i, other))
    return index


def _apply_join(mapping, maker: _RowMaker, position: int, values: dict, found: list, failed: set, index) -> None:
    join = mapping.join
    here = [h for h, _ in join.on]
    key = _join_key(maker.columns, here, position, maker.na)
    personal = bool(set(here) & set(mapping.personal))
    shown = "(personal key)" if personal else ", ".join(f"{h}={k!r}" for h, k in zip(here, key or (), strict=False))
    for name in join.fields:
        values[name] = None
    if key is None:
        found.append(("join: no match", f"join with {join.table}: the key column(s) {', '.join(here)} are empty"))
        failed.update(join.fields)
        return
    matches = index.get(key, [])
    if not matches:
        found.append(("join: no match", f"join with {join.table}: no row has {shown}"))
        failed.update(join.fields)
        return
    loaded = [(i, r) for i, r in matches if not r.problems[i]]
    if not loaded:
        i, r = matches[0]
        found.append(
            ("join: no match", f"join with {join.table}: the matching row ({r.source.where(r.positions[i])}) was quarantined")
        )
        failed.update(join.fields)
        return
    for name, there in join.fields.items():
        candidates = {r.values[i].get(there) for i, r in loaded}
        if len(candidates) > 1:
            found.append(("join: ambiguous", f"join with {join.table}: {shown} matches rows with different {there}"))
            failed.add(name)
        else:
            values[name] = candidates.pop()


def _run_derived_mapping(spec: MappingSpec, mapping: TableMapping, results: dict[str, _Result]) -> _Result:
    other = results[mapping.derive.source]
    report = MappingReport(
        name=mapping.name,
        target=mapping.target,
        source=None,
        format=None,
        sha256=None,
        derived_from=other.mapping.name,
        personal_columns_dropped=list(mapping.personal),
        fields_left_empty=list(mapping.filled_empty),
    )
    maker = _RowMaker(spec, mapping, other.source, report, parent=other.maker)
    groups: dict[Any, list[int]] = {}
    for i in other.loaded():
        key = other.values[i].get(mapping.derive.key)
        if key is not None:
            groups.setdefault(key, []).append(i)
    positions, rows, problems = [], [], []
    for key, members in groups.items():
        position = other.positions[members[0]]
        values, found, failed = maker.row(position, preset={mapping.derive.key: key})
        for field_spec in mapping.fields.values():
            if field_spec.mode != "aggregate":
                continue
            series = [other.values[i].get(field_spec.rule_fields["field"]) for i in members]
            present = [v for v in series if v is not None]
            op = field_spec.aggregate
            if op == "count":
                values[field_spec.field] = float(len(members))
            elif not present:
                values[field_spec.field] = None
            elif op == "min":
                values[field_spec.field] = min(present)
            elif op == "max":
                values[field_spec.field] = max(present)
            elif op == "first":
                values[field_spec.field] = present[0]
            elif op == "last":
                values[field_spec.field] = present[-1]
            elif op == "sum":
                values[field_spec.field] = float(sum(present))
        _finish_row(mapping, maker, values, found, failed)
        positions.append(position)
        rows.append(values)
        problems.append(found)
    _precision_report(maker, report)
    return _Result(mapping, other.source, positions, rows, problems, report, maker)


# --- canonical validation and quarantine -----------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _validate(results: list[_Result]) -> dict[str, pd.DataFrame]:
    """Run the canonical checks; quarantine rejected rows until none is rejected."""
    from maexlab.data.loader import validate_raw

    targets = list(dict.fromkeys(r.mapping.target for r in results))
    while True:
        raw: dict[str, pd.DataFrame] = {}
        behind: dict[str, list[tuple[_Result, int]]] = {}
        for target in targets:
            feeding = [r for r in results if r.mapping.target == target]
            present = {name for r in feeding for row in r.values for name in row}
            columns = [c for c in TABLES[target].column_names if c in present]
            rows, owners = [], []
            for r in feeding:
                for i in r.loaded():
                    rows.append([_text(r.values[i].get(c)) for c in columns])
                    owners.append((r, i))
            raw[target] = pd.DataFrame(rows, columns=columns, dtype=object)
            behind[target] = owners
        parsed, problems = validate_raw(raw, {t: t for t in targets}, {t: None for t in targets})
        table_level = [p for p in problems if p.row is None]
        if table_level:  # the mapping checks should make this impossible
            raise AssertionError("canonical tables built by the importer are malformed: " + "; ".join(map(str, table_level)))
        if not problems:
            return parsed
        for p in problems:
            r, i = behind[p.origin][p.row - 1]
            message = f"canonical check on {p.origin}.{p.column}: {p.message}"
            if ("canonical check", message) not in r.problems[i]:
                r.problems[i].append(("canonical check", message))


def _quarantine_frames(results: list[_Result]) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for target in dict.fromkeys(r.mapping.target for r in results):
        records = []
        columns: dict[str, None] = {}
        for r in (r for r in results if r.mapping.target == target):
            # Only the columns the mapping reads: an unmapped column may hold personal data nobody declared.
            # The source row and line number lead back to the full row in the source file.
            used = set(r.mapping.source_columns()) | {here for here, _ in (r.mapping.join.on if r.mapping.join else [])}
            keep = [
                c
                for c in r.source.frame.columns
                if c in used and c not in r.mapping.personal and c not in _personal_of_source(r, results)
            ]
            columns.update(dict.fromkeys(keep))
            for i, found in enumerate(r.problems):
                if not found:
                    continue
                position = r.positions[i]
                record = {
                    "mapping": r.mapping.name,
                    "source_file": r.source.path.name,
                    "source_row": r.source.rows[position],
                    "source_line": r.source.lines[position],
                    "reason": "; ".join(message for _, message in found),
                }
                for c in keep:
                    raw = r.source.frame[c].iat[position]
                    record[c] = "" if parsers.is_empty(raw) else parsers.as_text(raw)
                records.append(record)
        if records:
            frames[target] = pd.DataFrame(records, columns=QUARANTINE_META + [c for c in columns if c not in QUARANTINE_META])
    return frames


def _personal_of_source(result: _Result, results: list[_Result]) -> set[str]:
    """Personal columns declared by any mapping reading the same file (a derived mapping reads its parent's)."""
    return {c for r in results if r.source.path == result.source.path for c in r.mapping.personal}


# --- writing ---------------------------------------------------------------------------------


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / METADATA_FILE).exists())):
        raise MappingError(
            [f"{out_dir}: exists and is not a dataset folder written by maexlab; refusing to replace it (choose another --out)"]
        )


def _jsonable_constant(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def import_mapping(
    mapping_path: Path | str, out_dir: Path | str, sources: dict[str, str] | None = None, fmt: str = "csv"
) -> ImportReport:
    """Import the sources a mapping file declares into a canonical dataset folder ``out_dir``.

    Raises MappingError (nothing written) for a problem with the mapping or a source file.
    Rows with value-level problems are quarantined, not fatal; see the returned report.
    """
    mapping_path = Path(mapping_path)
    out_dir = Path(out_dir).absolute()
    spec = load_mapping(mapping_path, sources)
    _check_out_dir(out_dir)

    tables_read: dict[str, SourceTable] = {}
    missing: list[str] = []
    for mapping in spec.tables:
        if mapping.source is None:
            continue
        source = read_source(mapping.source, mapping_path)
        tables_read[mapping.name] = source
        available = list(source.frame.columns)
        wanted = dict(mapping.source_columns())
        for column in mapping.personal:
            wanted.setdefault(column, mapping.line)
        if mapping.join:
            for here, _ in mapping.join.on:
                wanted.setdefault(here, mapping.join.line)
        for column, line in wanted.items():
            if column not in available:
                missing.append(
                    f"{mapping_path}, line {line}: column {column!r} is not in {source.path.name} "
                    f"(its columns: {', '.join(available)})"
                )
    for mapping in spec.tables:
        if mapping.join and mapping.join.table in tables_read:
            there = list(tables_read[mapping.join.table].frame.columns)
            for _, column in mapping.join.on:
                if column not in there:
                    missing.append(
                        f"{mapping_path}, line {mapping.join.line}: join column {column!r} is not in "
                        f"{tables_read[mapping.join.table].path.name} (its columns: {', '.join(there)})"
                    )
        if mapping.derive and mapping.derive.source in tables_read:
            there = list(tables_read[mapping.derive.source].frame.columns)
            for column, line in mapping.source_columns().items():
                if column not in there:
                    missing.append(
                        f"{mapping_path}, line {line}: column {column!r} is not in {tables_read[mapping.derive.source].path.name} "
                        f"(its columns: {', '.join(there)})"
                    )
    if missing:
        raise MappingError(missing)

    results: dict[str, _Result] = {}
    for mapping in spec.tables:
        if mapping.derive is not None:
            results[mapping.name] = _run_derived_mapping(spec, mapping, results)
        else:
            results[mapping.name] = _run_source_mapping(spec, mapping, tables_read[mapping.name], results)
    ordered = list(results.values())
    tables = _validate(ordered)

    for r in ordered:
        rep = r.report
        rep.rows_read = len(r.problems)
        rep.rows_quarantined = sum(1 for p in r.problems if p)
        rep.rows_loaded = rep.rows_read - rep.rows_quarantined
        reasons: Counter = Counter()
        for found in r.problems:
            reasons.update(set(kind for kind, _ in found))
        rep.quarantine_reasons = dict(sorted(reasons.items()))
    for target, frame in tables.items():
        loaded = sum(r.report.rows_loaded for r in ordered if r.mapping.target == target)
        assert loaded == len(frame), f"{target}: {loaded} rows loaded but {len(frame)} in the table"
    for r in ordered:
        assert r.report.rows_read == r.report.rows_loaded + r.report.rows_quarantined

    quarantine = _quarantine_frames(ordered)
    metadata = {**spec.dataset, "import_report": REPORT_FILE, "imported_with": f"maexlab data import {mapping_path.name}"}
    # Constants are declarations, not observations: reports name them next to the data notice.
    constants = {
        f"{r.mapping.target}.{name}": _jsonable_constant(f.default)
        for r in ordered
        for name, f in r.mapping.fields.items()
        if f.mode == "constant"
    }
    if constants:
        metadata["declared_constants"] = dict(sorted(constants.items()))
    report = ImportReport(
        mapping=str(mapping_path),
        out_dir=str(out_dir),
        dataset=dict(spec.dataset),
        mappings=[r.report for r in ordered],
        tables={name: len(frame) for name, frame in tables.items()},
        quarantine_files={name: f"{QUARANTINE_DIR}/{name}.csv" for name in quarantine},
    )

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".import"))
    try:
        staged = write_dataset(tables, work / "dataset", metadata, fmt)
        (staged / REPORT_FILE).write_text(
            json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        if quarantine:
            (staged / QUARANTINE_DIR).mkdir()
            for name, frame in quarantine.items():
                frame.to_csv(staged / QUARANTINE_DIR / f"{name}.csv", index=False, lineterminator="\n")
        from maexlab.data.loader import load

        load(staged)  # the staged dataset must load before it replaces anything
        replace_folder(staged, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report
