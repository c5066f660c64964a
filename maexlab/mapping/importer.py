"""Running a mapping: sources -> canonical tables, with filtering, quarantine and an import report.

Order of work:

1. check the mapping and read every source (any problem here stops the import; nothing is
   written);
2. per block, keep the rows its ``where:`` selects (the others are counted as filtered), set
   exact duplicate rows aside (``duplicates:``), then read every field for the whole column at
   once (:mod:`maexlab.mapping.columns`); a date column's day/month order is decided once for
   the column (:mod:`maexlab.mapping.date_order`), and a column that cannot be read in one
   order stops the import;
3. a row with a value-level problem (a value that cannot be read, an unmapped category, a
   required field left empty, no join match) goes to quarantine with its reasons, the first
   being its primary reason;
4. run the canonical validation (:func:`maexlab.data.validate_raw`) on the result and
   quarantine the rows it rejects, again and again until none is rejected (removing an
   initiative can orphan its funding rows);
5. refuse the result when a block quarantined more than ``max_quarantine`` of its rows or a
   table the mapping fills is empty (:class:`ImportRefused`; nothing written);
6. write the dataset, ``import_report.json`` and ``quarantine/<table>.csv`` into a staging
   folder, check the staged dataset loads, and only then rename it into place.

For every block, rows read = rows loaded + rows quarantined + rows filtered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from maexlab import __version__
from maexlab.data.io import METADATA_FILE, replace_folder, write_dataset
from maexlab.data.schema import TABLES
from maexlab.mapping import parsers
from maexlab.mapping.columns import ReadContext, as_texts, coalesced, condition_mask, empty_mask, read_field
from maexlab.mapping.date_order import decide_order
from maexlab.mapping.sources import SourceTable, read_source
from maexlab.mapping.spec import FieldSpec, MappingError, MappingSpec, TableMapping, load_mapping

REPORT_FILE = "import_report.json"
QUARANTINE_DIR = "quarantine"
QUARANTINE_META = ["mapping", "source_file", "source_row", "source_line", "primary_reason", "reason"]
#: Default for ``max_quarantine``: refuse an import whose block quarantines more than half its rows.
DEFAULT_MAX_QUARANTINE = 0.5
_SHOWN_EXAMPLES = 3

# Where a problem ranks among a row's reasons: the first is the row's primary reason.
_ORDER_MALFORMED, _ORDER_DUPLICATE, _ORDER_FIELDS, _ORDER_JOIN, _ORDER_REQUIRED, _ORDER_CANONICAL = 0, 1, 10, 1000, 1001, 1002


class ImportRefused(MappingError):
    """The import ran but its result is refused (too much quarantined, an empty table); nothing written."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        head = "the import is refused; nothing was written:"
        tail = (
            "  (to write the dataset and its quarantine files anyway, for inspection, "
            "pass --max-quarantine 1 and/or --allow-empty)"
        )
        ValueError.__init__(self, "\n".join([head, *(f"  - {m}" for m in self.messages), tail]))


# --- the report ------------------------------------------------------------------------------


@dataclass
class MappingReport:
    """What one mapping block did. ``rows_read == rows_loaded + rows_quarantined + rows_filtered`` always.

    ``quarantine_primary_reasons`` counts each quarantined row once, by its first reason (they
    add up to ``rows_quarantined``); ``quarantine_reasons`` counts each row once per kind of
    reason it has, so a row with two kinds is counted twice there.
    """

    name: str
    target: str
    source: str | None
    format: str | None
    sha256: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_filtered: int = 0
    rows_in_table: int = 0  # rows this block put in its table (several per source row with events:)
    filtered_reasons: dict[str, int] = field(default_factory=dict)
    quarantine_primary_reasons: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, Any] = field(default_factory=dict)
    date_order: dict[str, str] = field(default_factory=dict)
    date_precision: dict[str, dict[str, Any]] = field(default_factory=dict)
    coalesce_used: dict[str, dict[str, int]] = field(default_factory=dict)
    events_made: dict[str, int] = field(default_factory=dict)
    defaults_used: dict[str, int] = field(default_factory=dict)
    unknown_filled: dict[str, int] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
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
            filtered = f", {m.rows_filtered} filtered" if m.rows_filtered else ""
            lines.append(
                f"  {m.name} ({origin} -> {m.target}): {m.rows_read} read, {m.rows_loaded} loaded, "
                f"{m.rows_quarantined} quarantined{filtered}"
            )
            if m.rows_in_table != m.rows_loaded:
                lines.append(f"      {m.rows_in_table} {m.target} rows from the {m.rows_loaded} loaded source rows")
            for reason, count in m.filtered_reasons.items():
                lines.append(f"      filtered, {reason}: {count}")
            if m.quarantine_primary_reasons:
                lines.append("      quarantined by primary reason (each row once):")
                for reason, count in m.quarantine_primary_reasons.items():
                    lines.append(f"        {reason}: {count}")
                if sum(m.quarantine_reasons.values()) != m.rows_quarantined:
                    lines.append("      all reasons (a row with several kinds is counted once per kind):")
                    for reason, count in m.quarantine_reasons.items():
                        lines.append(f"        {reason}: {count}")
            if m.duplicates.get("found"):
                lines.append(f"      exact duplicate rows: {m.duplicates['found']} ({m.duplicates['policy']})")
            for name, decision in m.date_order.items():
                lines.append(f"      {name}: day/month order {decision}")
            for name, info in m.date_precision.items():
                partial = {k: v for k, v in info.items() if k in ("month", "year") and v}
                if partial:
                    lines.append(f"      {name}: partial dates filled with rule {info['rule']!r}: {partial}")
            for name, used in m.coalesce_used.items():
                lines.append(f"      {name}: taken from " + ", ".join(f"{c} {n}" for c, n in used.items()))
            for kind, count in m.events_made.items():
                lines.append(f"      events {kind}: {count}")
            for name, count in m.defaults_used.items():
                lines.append(f"      {name}: default used {count} time(s)")
            for name, count in m.unknown_filled.items():
                lines.append(f"      {name}: set to 'unknown' {count} time(s)")
            if m.constants:
                shown = ", ".join(f"{k}={v}" for k, v in m.constants.items())
                lines.append(f"      declared constants (not observed in the source): {shown}")
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
    """The rows one block made: canonical values per output row and the problems found."""

    mapping: TableMapping
    source: SourceTable
    positions: np.ndarray  # source row (position in source.frame) behind each output row
    values: pd.DataFrame  # canonical fields, one row per output row
    report: MappingReport
    context: ReadContext
    problems: list[pd.DataFrame] = field(default_factory=list)  # columns row, order, kind, message

    def add(self, rows: np.ndarray, order: int, kind: str | np.ndarray, messages: Any) -> None:
        """Record problems for output ``rows`` (indices or a boolean mask)."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=int)
        if len(rows):
            self.problems.append(pd.DataFrame({"row": rows, "order": order, "kind": kind, "message": messages}))

    def problem_table(self) -> pd.DataFrame:
        if not self.problems:
            return pd.DataFrame({"row": pd.Series(dtype=int), "order": 0, "kind": "", "message": ""})
        return pd.concat(self.problems, ignore_index=True)

    def bad_positions(self) -> np.ndarray:
        """Source rows with a problem in any of their output rows (quarantined as a whole)."""
        if not self.problems:
            return np.array([], dtype=int)
        rows = np.unique(np.concatenate([p["row"].to_numpy() for p in self.problems]))
        return np.unique(self.positions[rows])

    def loaded(self) -> np.ndarray:
        """Output rows not quarantined (boolean mask)."""
        return ~np.isin(self.positions, self.bad_positions())


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


def _texts(raw: pd.Series) -> np.ndarray:
    if pd.api.types.infer_dtype(raw, skipna=True) == "string":
        return as_texts(raw).to_numpy(dtype=object)
    codes, uniques = pd.factorize(raw)
    return np.array([parsers.as_text(u) for u in uniques] + [""], dtype=object)[codes]


class _FieldReader:
    """Reads the fields of one block over a frame of source rows (whole columns at a time)."""

    def __init__(self, spec: MappingSpec, mapping: TableMapping, frame: pd.DataFrame, context: ReadContext, where: str):
        self.spec = spec
        self.mapping = mapping
        self.frame = frame
        self.context = context
        self.where = where  # "path/to/mapping.yaml" for messages
        self.mapping_errors: list[str] = []

    def hashed(self, spec: FieldSpec, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, problem messages) of a hash_of or personal key field."""
        n = len(self.frame)
        parts = []
        problems = np.full(n, None, dtype=object)
        for name in spec.hash_of:
            raw = self.frame[name]
            empty = empty_mask(raw, self.context.na)
            text = _texts(raw)
            text[empty] = ""
            if spec.mode == "personal_key":
                text = np.array([t.casefold() for t in text], dtype=object)
            if empty.any() and (spec.mode == "personal_key" or spec.empty_parts == "quarantine"):
                shown = "a personal column" if name in self.mapping.personal else f"column {name!r}"
                hint = "" if spec.mode == "personal_key" else " (declare empty: hash under id: to hash the empty text)"
                message = f"cannot derive {spec.field}: {shown} is empty{hint}"
                problems[empty & (problems == None)] = message  # noqa: E711
            parts.append(text)
        personal = spec.mode == "personal_key" or bool(set(spec.hash_of) & set(self.mapping.personal))
        salt = self.spec.salt if personal else None
        joined = pd.Series(["\x1f".join(p) for p in zip(*parts, strict=True)] if len(parts) > 1 else parts[0], dtype=object)
        codes, uniques = pd.factorize(joined)
        digests = np.array([spec.prefix + _hash([u], salt, spec.length) for u in uniques] + [None], dtype=object)
        ids = digests[codes]
        ids[problems != None] = None  # noqa: E711
        return ids, problems

    def raw_of(self, spec: FieldSpec, report: MappingReport) -> pd.Series:
        """The source cells a column field reads: its column, or the first filled of its coalesce list."""
        if spec.coalesce:
            raw, used = coalesced(self.frame, spec.coalesce, self.context.na)
            report.coalesce_used[spec.field] = used
        else:
            raw = self.frame[spec.source_column]
        if spec.when:
            holds = np.ones(len(raw), dtype=bool)
            for condition in spec.when:
                holds &= condition_mask(condition, self.frame[condition.column], self.context.na)
            raw = raw.where(holds, None)
        return raw

    def date_context(self, spec: FieldSpec, raw: pd.Series, report: MappingReport, label: str, rows: list[int]) -> ReadContext:
        """Decide the day/month order of a date column once; a column that cannot be read stops the import."""
        filled = raw[~empty_mask(raw, self.context.na)]
        decision = decide_order(filled, spec.date_format)
        column = spec.source_column or " / ".join(spec.coalesce)
        if decision.problem:
            examples = []
            for position in (decision.first_proof, decision.second_proof, decision.ambiguous):
                if position is not None:
                    examples.append(f"row {rows[position]} {parsers.as_text(raw.iloc[position])!r}")
            self.mapping_errors.append(
                f"{self.where}, line {spec.line}: date column {column!r} -> {self.mapping.target}.{spec.field}: "
                f"{decision.problem} (e.g. {', '.join(examples)})"
            )
        elif decision.how == "inferred":
            example = decision.first_proof if decision.order == "dmy" else decision.second_proof
            report.date_order[label] = (
                f"{decision.order}, inferred from the whole column ({decision.evidence}, "
                f"e.g. row {rows[example]} {parsers.as_text(raw.iloc[example])!r})"
            )
        elif decision.how == "declared" and decision.order in ("dmy", "mdy"):
            report.date_order[label] = f"{decision.order}, declared"
        return ReadContext(self.context.na, self.context.decimal, self.context.thousands, decision.order)

    def column(self, spec: FieldSpec, report: MappingReport, rows: list[int], label: str | None = None):
        raw = self.raw_of(spec, report).reset_index(drop=True)
        context = self.context
        if spec.parse == "date" and spec.column.kind == "date":
            context = self.date_context(spec, raw, report, label or spec.field, rows)
        return read_field(spec, raw, context)


def _constant_series(value: Any, kind: str, n: int) -> pd.Series:
    if kind == "date":
        return pd.Series(np.full(n, np.datetime64("NaT", "ns") if value is None else np.datetime64(value, "ns")))
    if kind in ("int", "float"):
        return pd.Series(np.full(n, np.nan if value is None else float(value)))
    return pd.Series(np.full(n, value, dtype=object), dtype=object)


def _read_fields(
    reader: _FieldReader, result: _Result, rows: list[int], skip: tuple[str, ...] = ()
) -> tuple[dict[str, pd.Series], np.ndarray]:
    """Every field a block fills from its rows; returns the values and, per field, where it failed."""
    mapping, report = result.mapping, result.report
    n = len(reader.frame)
    values: dict[str, pd.Series] = {}
    failed: dict[str, np.ndarray] = {}
    for order, spec in enumerate(mapping.fields.values(), start=_ORDER_FIELDS):
        if spec.mode in ("rule", "aggregate") or spec.field in skip:
            continue
        kind = spec.column.kind
        if spec.mode == "constant":
            values[spec.field] = _constant_series(spec.default, kind, n)
            continue
        if spec.mode == "row_number":
            stem = result.source.path.stem
            values[spec.field] = pd.Series([f"{spec.prefix}{stem}-{r}" for r in rows], dtype=object)
            continue
        if spec.mode in ("hash", "personal_key"):
            ids, messages = reader.hashed(spec, np.arange(n))
            bad = messages != None  # noqa: E711
            result.add(bad, order, "empty key part", messages[bad])
            values[spec.field], failed[spec.field] = pd.Series(ids, dtype=object), bad
            continue
        read = reader.column(spec, report, rows)
        bad = read.failed()
        origin = f"column {spec.source_column!r} -> {spec.field}" if spec.source_column else spec.field
        result.add(bad, order, read.kinds[bad].to_numpy(), [f"{origin}: {m}" for m in read.problems[bad]])
        series = read.values.reset_index(drop=True)
        if spec.default is not None:
            use = series.isna().to_numpy() & ~bad
            if use.any():
                series = series.copy()
                series[use] = _constant_series(spec.default, kind, int(use.sum())).to_numpy()
                report.defaults_used[spec.field] = report.defaults_used.get(spec.field, 0) + int(use.sum())
        elif spec.unknown:
            use = series.isna().to_numpy() & ~bad
            if use.any():
                series = series.copy()
                series[use] = "unknown"
            read.unknown_filled += int(use.sum())
        if read.unknown_filled:
            report.unknown_filled[spec.field] = report.unknown_filled.get(spec.field, 0) + read.unknown_filled
        if read.precision:
            report.date_precision[spec.field] = {
                "day": read.precision.get("day", 0),
                "month": read.precision.get("month", 0),
                "year": read.precision.get("year", 0),
                "rule": spec.date_precision,
            }
        values[spec.field], failed[spec.field] = series, bad
    return values, failed


def _finish(result: _Result, values: pd.DataFrame, failed: dict[str, np.ndarray]) -> pd.DataFrame:
    """Apply rules (which read other fields), fill declared-empty fields, check required fields."""
    mapping = result.mapping
    n = len(values)
    for spec in mapping.fields.values():
        if spec.mode == "rule" and spec.rule == "coverage":
            granted = values.get(spec.rule_fields["granted"], pd.Series(np.nan, index=values.index)).astype(float)
            requested = values.get(spec.rule_fields["requested"], pd.Series(np.nan, index=values.index)).astype(float)
            status = np.full(n, "partial", dtype=object)
            status[(granted >= requested).to_numpy()] = "granted"
            status[(granted <= 0).to_numpy()] = "rejected"
            status[granted.isna().to_numpy()] = "pending"
            status[requested.isna().to_numpy()] = None
            values[spec.field] = pd.Series(status, index=values.index, dtype=object)
            failed[spec.field] = requested.isna().to_numpy()  # the requested field's own problem says why
    for name in mapping.filled_empty:
        if name not in values:
            values[name] = _constant_series(None, TABLES[mapping.target].column(name).kind, n).to_numpy()
    schema = TABLES[mapping.target]
    for name in schema.column_names:
        column = schema.column(name)
        if name not in values or column.nullable:
            continue
        empty = values[name].isna().to_numpy() & ~failed.get(name, np.zeros(n, dtype=bool))
        if empty.any():
            spec = mapping.fields.get(name)
            origin = ""
            if spec is not None and spec.mode == "column":
                origin = f" (column {spec.source_column!r})" if spec.source_column else f" (columns {', '.join(spec.coalesce)})"
                if spec.when:
                    origin += f", or 'when: {' and '.join(c.describe() for c in spec.when)}' does not hold"
            if spec is not None and spec.mode == "personal_key":
                origin = " (a personal key column)"
            result.add(
                empty,
                _ORDER_REQUIRED,
                "required field empty",
                f"required field {name} is empty{origin} and no default is declared",
            )
    return values


def _select_rows(
    mapping: TableMapping, source: SourceTable, context: ReadContext, report: MappingReport
) -> tuple[np.ndarray, dict[int, str]]:
    """Rows ``where:`` keeps, minus exact duplicates dropped; duplicates to quarantine by position."""
    frame = source.frame
    keep = np.ones(len(frame), dtype=bool)
    filtered: Counter = Counter()
    for condition in mapping.where:
        holds = condition_mask(condition, frame[condition.column], context.na)
        filtered[f"where: {condition.describe()} does not hold"] += int((keep & ~holds).sum())
        keep &= holds
    duplicates: dict[int, str] = {}
    report.duplicates = {"policy": mapping.duplicates, "found": 0}
    if keep.sum() > 1:  # counted under every policy, so the report says how many there are
        kept = np.flatnonzero(keep)
        part = frame.iloc[kept]
        # Rows are equal when every cell is: compare per-column codes, not Python tuples.
        key = pd.MultiIndex.from_arrays([pd.factorize(part[c])[0] for c in part.columns])
        repeated = key.duplicated(keep="first")
        if repeated.any():
            groups = key.factorize()[0]
            _, first_index = np.unique(groups, return_index=True)
            originals = kept[first_index[groups]]
            for i in np.flatnonzero(repeated):
                duplicates[int(kept[i])] = f"exact duplicate of {source.where(int(originals[i]))}"
        report.duplicates["found"] = len(duplicates)
        if mapping.duplicates == "keep":
            duplicates = {}
        elif mapping.duplicates == "drop" and duplicates:
            keep[list(duplicates)] = False
            filtered["exact duplicate of an earlier row (duplicates: drop)"] += len(duplicates)
            duplicates = {}
    report.filtered_reasons = {k: v for k, v in filtered.items() if v}
    return np.flatnonzero(keep), duplicates


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
    context = ReadContext(mapping.source.na_values, mapping.source.decimal, mapping.source.thousands)
    kept, duplicates = _select_rows(mapping, source, context, report)
    frame = source.frame.iloc[kept].reset_index(drop=True)
    rows = [source.rows[p] for p in kept]
    reader = _FieldReader(spec, mapping, frame, context, str(spec.path))
    result = _Result(mapping, source, kept, pd.DataFrame(index=range(len(kept))), report, context)
    if source.malformed:
        at = [i for i, p in enumerate(kept) if int(p) in source.malformed]
        result.add(np.array(at, dtype=int), _ORDER_MALFORMED, "malformed row", [source.malformed[int(kept[i])] for i in at])
    if duplicates:
        at = [i for i, p in enumerate(kept) if int(p) in duplicates]
        result.add(np.array(at, dtype=int), _ORDER_DUPLICATE, "exact duplicate", [duplicates[int(kept[i])] for i in at])
    values, failed = _read_fields(reader, result, rows)
    table = pd.DataFrame(values, index=range(len(kept)))
    if mapping.events is not None:
        table, failed = _make_events(reader, result, table, failed, rows)
    if mapping.join is not None:
        _apply_join(result, table, failed, results)
    result.values = _finish(result, table, failed)
    if reader.mapping_errors:
        raise MappingError(reader.mapping_errors)
    return result


def _make_events(reader: _FieldReader, result: _Result, table: pd.DataFrame, failed: dict, rows: list[int]):
    """One output row per filled date column of ``events:``; a row with no filled date makes none (filtered)."""
    events = result.mapping.events
    n = len(table)
    parts, made_any = [], np.zeros(n, dtype=bool)
    problems_before = len(result.problems)
    for index, (kind, spec) in enumerate(events.kinds.items()):
        column = spec.source_column or " / ".join(spec.coalesce)
        read = reader.column(spec, result.report, rows, label=f"{events.date_field} ({kind}, from {column})")
        filled = read.values.notna().to_numpy() | read.failed()
        result.report.events_made[str(kind)] = int(filled.sum())
        part = table[filled].copy()
        part[events.kind_field] = kind
        part[events.date_field] = read.values[filled].to_numpy()
        part["__row"] = np.flatnonzero(filled)
        part["__order"] = index
        part["__bad"] = read.failed()[filled]
        part["__message"] = [f"events {kind} (column {column!r}) -> {events.date_field}: {m}" for m in read.problems[filled]]
        part["__kind"] = read.kinds[filled].to_numpy()
        parts.append(part)
        made_any |= filled
    old = list(result.problems[:problems_before])
    # A wide row with a problem and no event is quarantined, not filtered: one placeholder row
    # carries its problems (it is never loaded).
    with_problems = np.zeros(n, dtype=bool)
    for p in old:
        with_problems[p["row"].to_numpy()] = True
    orphans = with_problems & ~made_any
    if orphans.any():
        part = table[orphans].copy()
        part[events.kind_field] = None
        part[events.date_field] = np.full(int(orphans.sum()), np.datetime64("NaT", "ns"))
        part["__row"] = np.flatnonzero(orphans)
        part["__order"] = len(events.kinds)
        part["__bad"] = False
        part["__message"] = ""
        part["__kind"] = None
        parts.append(part)
        made_any |= orphans
    combined = pd.concat(parts, ignore_index=True).sort_values(["__row", "__order"], kind="stable").reset_index(drop=True)
    # Problems found on the wide rows (before events existed) move to every event made from them.
    result.problems = []
    origin = combined["__row"].to_numpy()
    for p in old:
        hit = np.isin(origin, p["row"].to_numpy())
        lookup = p.drop_duplicates("row").set_index("row")
        wide = origin[hit]
        result.add(hit, int(p["order"].iloc[0]), lookup.loc[wide, "kind"].to_numpy(), lookup.loc[wide, "message"].to_numpy())
    bad = combined["__bad"].to_numpy(dtype=bool)
    result.add(bad, _ORDER_FIELDS - 1, combined.loc[bad, "__kind"].to_numpy(), combined.loc[bad, "__message"].to_numpy())
    new_failed = {name: mask[origin] for name, mask in failed.items()}
    new_failed[events.date_field] = bad
    # Source rows without any event are filtered, and counted: they are not problems.
    none = int((~made_any).sum())
    if none:
        result.report.filtered_reasons["no event: every date column under events: is empty"] = none
    result.positions = result.positions[origin]
    return combined.drop(columns=["__row", "__order", "__bad", "__message", "__kind"]), new_failed


def _join_keys(frame: pd.DataFrame, columns: list[str], na: frozenset[str]) -> np.ndarray:
    """The join key per row as one text (None when a key column is empty)."""
    parts = []
    empty = np.zeros(len(frame), dtype=bool)
    for c in columns:
        empty |= empty_mask(frame[c], na)
        parts.append(_texts(frame[c]))
    keys = np.array(["\x1f".join(p) for p in zip(*parts, strict=True)] if len(parts) > 1 else parts[0], dtype=object)
    keys[empty] = None
    return keys


def _apply_join(result: _Result, table: pd.DataFrame, failed: dict, results: dict[str, _Result]) -> None:
    join = result.mapping.join
    other = results[join.table]
    here = [h for h, _ in join.on]
    frame = result.source.frame.iloc[result.positions].reset_index(drop=True)
    keys = _join_keys(frame, here, result.context.na)
    there_frame = other.source.frame.iloc[other.positions].reset_index(drop=True)
    there_keys = _join_keys(there_frame, [t for _, t in join.on], other.context.na)
    loaded = other.loaded()
    personal = bool(set(here) & set(result.mapping.personal))
    n = len(table)
    unmatched = np.zeros(n, dtype=bool)

    def shown(i: int) -> str:
        if personal:
            return "(personal key)"
        return ", ".join(f"{h}={k!r}" for h, k in zip(here, str(keys[i]).split("\x1f"), strict=False))

    empty = pd.isna(keys)
    result.add(empty, _ORDER_JOIN, "join: no match", f"join with {join.table}: the key column(s) {', '.join(here)} are empty")
    known = pd.Series(there_keys).dropna()
    present = pd.Series(keys).isin(set(known)).to_numpy() & ~empty
    missing = ~empty & ~present
    result.add(
        missing,
        _ORDER_JOIN,
        "join: no match",
        [f"join with {join.table}: no row has {shown(i)}" for i in np.flatnonzero(missing)],
    )
    loaded_keys = pd.Series(there_keys[loaded]).dropna()
    only_quarantined = present & ~pd.Series(keys).isin(set(loaded_keys)).to_numpy()
    if only_quarantined.any():
        first = {}
        for i, k in enumerate(there_keys):
            if k is not None and k not in first:
                first[k] = other.source.where(int(other.positions[i]))
        result.add(
            only_quarantined,
            _ORDER_JOIN,
            "join: no match",
            [
                f"join with {join.table}: the matching row ({first[keys[i]]}) was quarantined"
                for i in np.flatnonzero(only_quarantined)
            ],
        )
    unmatched = empty | missing | only_quarantined
    there = other.values.loc[loaded].reset_index(drop=True)
    there_loaded_keys = there_keys[loaded]
    for name, that in join.fields.items():
        frame_there = pd.DataFrame({"key": there_loaded_keys, "value": there[that].to_numpy()}).dropna(subset=["key"])
        groups = frame_there.groupby("key", sort=False)["value"]
        distinct = groups.nunique(dropna=False)
        first_value = groups.first()
        key_series = pd.Series(keys)
        ambiguous = key_series.map(distinct).fillna(0).to_numpy() > 1
        ambiguous &= ~unmatched
        result.add(
            ambiguous,
            _ORDER_JOIN,
            "join: ambiguous",
            [f"join with {join.table}: {shown(i)} matches rows with different {that}" for i in np.flatnonzero(ambiguous)],
        )
        value = key_series.map(first_value).to_numpy()
        value[unmatched | ambiguous] = None
        table[name] = pd.Series(value, index=table.index)
        failed[name] = unmatched | ambiguous


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
    loaded = other.values.loc[other.loaded()].copy()
    loaded["__position"] = other.positions[other.loaded()]
    loaded = loaded[loaded[mapping.derive.key].notna()]
    groups = loaded.groupby(mapping.derive.key, sort=False)
    firsts = groups["__position"].first()
    keys = list(firsts.index)
    first_positions = firsts.to_numpy()
    frame = other.source.frame.iloc[first_positions].reset_index(drop=True)
    rows = [other.source.rows[p] for p in first_positions]
    reader = _FieldReader(spec, mapping, frame, other.context, str(spec.path))
    result = _Result(mapping, other.source, first_positions, pd.DataFrame(index=range(len(keys))), report, other.context)
    values, failed = _read_fields(reader, result, rows, skip=(mapping.derive.key,))
    table = pd.DataFrame(values, index=range(len(keys)))
    table[mapping.derive.key] = pd.Series(keys, dtype=object).to_numpy()
    for field_spec in mapping.fields.values():
        if field_spec.mode != "aggregate":
            continue
        column = groups[field_spec.rule_fields["field"]]
        op = field_spec.aggregate
        if op == "count":
            aggregated = groups.size().astype(float)
        elif op == "sum":
            aggregated = column.sum(min_count=1)
        else:
            aggregated = getattr(column, op)()
        table[field_spec.field] = aggregated.to_numpy()
    result.values = _finish(result, table, failed)
    if reader.mapping_errors:
        raise MappingError(reader.mapping_errors)
    return result


# --- canonical validation and quarantine -----------------------------------------------------


def _validate(results: list[_Result]) -> dict[str, pd.DataFrame]:
    """Run the canonical checks; quarantine rejected rows until none is rejected."""
    from maexlab.data.loader import validate_raw

    targets = list(dict.fromkeys(r.mapping.target for r in results))
    while True:
        raw: dict[str, pd.DataFrame] = {}
        behind: dict[str, list[tuple[_Result, np.ndarray]]] = {}
        for target in targets:
            feeding = [r for r in results if r.mapping.target == target]
            present = {c for r in feeding for c in r.values.columns}
            columns = [c for c in TABLES[target].column_names if c in present]
            frames, owners = [], []
            for r in feeding:
                keep = r.loaded()
                part = r.values.loc[keep].reset_index(drop=True)
                for c in columns:  # a column another block fills: empty here, in its own dtype
                    if c not in part.columns:
                        part[c] = _constant_series(None, TABLES[target].column(c).kind, len(part)).to_numpy()
                part = part[columns]
                frames.append(part)
                owners.append((r, np.flatnonzero(keep)))
            raw[target] = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            behind[target] = owners
        parsed, problems = validate_raw(raw, {t: t for t in targets}, {t: None for t in targets})
        table_level = [p for p in problems if p.row is None]
        if table_level:  # the mapping checks should make this impossible
            raise AssertionError("canonical tables built by the importer are malformed: " + "; ".join(map(str, table_level)))
        if not problems:
            return parsed
        by_owner: dict[int, tuple[_Result, list[int], list[str]]] = {}
        for p in problems:
            offset = p.row - 1
            for r, rows in behind[p.origin]:
                if offset < len(rows):
                    entry = by_owner.setdefault(id(r), (r, [], []))
                    entry[1].append(int(rows[offset]))
                    entry[2].append(f"canonical check on {p.origin}.{p.column}: {p.message}")
                    break
                offset -= len(rows)
        for r, rows, messages in by_owner.values():
            r.add(np.array(rows, dtype=int), _ORDER_CANONICAL, "canonical check", messages)


def _reasons(result: _Result) -> pd.DataFrame:
    """Per quarantined source row: primary reason (kind), all reasons text, all kinds."""
    table = result.problem_table()
    if table.empty:
        return pd.DataFrame(columns=["position", "primary", "reason", "kinds"])
    table["position"] = result.positions[table["row"].to_numpy()]
    table = table.sort_values(["position", "order", "row"], kind="stable").drop_duplicates(["position", "message"])
    grouped = table.groupby("position", sort=True)
    return pd.DataFrame(
        {
            "primary": grouped["kind"].first(),
            "reason": grouped["message"].agg("; ".join),
            "kinds": grouped["kind"].unique().map(lambda kinds: sorted(set(kinds))),
        }
    ).reset_index()


def _quarantine_frames(results: list[_Result], reasons: dict[int, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for target in dict.fromkeys(r.mapping.target for r in results):
        parts = []
        columns: dict[str, None] = {}
        for r in (r for r in results if r.mapping.target == target):
            found = reasons[id(r)]
            if found.empty:
                continue
            # Only the columns the mapping reads: an unmapped column may hold personal data nobody declared.
            # The source row and line number lead back to the full row in the source file.
            used = set(r.mapping.source_columns()) | {here for here, _ in (r.mapping.join.on if r.mapping.join else [])}
            keep = [
                c
                for c in r.source.frame.columns
                if c in used and c not in r.mapping.personal and c not in _personal_of_source(r, results)
            ]
            columns.update(dict.fromkeys(keep))
            positions = found["position"].to_numpy(dtype=int)
            part = pd.DataFrame(
                {
                    "mapping": r.mapping.name,
                    "source_file": r.source.path.name,
                    "source_row": [r.source.rows[p] for p in positions],
                    "source_line": pd.array([r.source.lines[p] for p in positions], dtype="Int64"),
                    "primary_reason": found["primary"].to_numpy(),
                    "reason": found["reason"].to_numpy(),
                }
            )
            cells = r.source.frame.iloc[positions][keep].reset_index(drop=True)
            for c in keep:
                empty = empty_mask(cells[c])
                text = _texts(cells[c])
                text[empty] = ""
                part[c] = text
            parts.append(part)
        if parts:
            frame = pd.concat(parts, ignore_index=True)
            frames[target] = frame.reindex(columns=QUARANTINE_META + [c for c in columns if c not in QUARANTINE_META])
    return frames


def _personal_of_source(result: _Result, results: list[_Result]) -> set[str]:
    """Personal columns declared by any mapping reading the same file (a derived mapping reads its parent's)."""
    return {c for r in results if r.source.path == result.source.path for c in r.mapping.personal}


# --- guards ----------------------------------------------------------------------------------


def _guard(
    results: list[_Result],
    reasons: dict[int, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    max_quarantine: float,
    allow_empty: bool,
) -> list[str]:
    """Refusals for near-total loss: a block quarantining more than ``max_quarantine``, an empty table."""
    refusals = []
    for r in results:
        rep = r.report
        considered = rep.rows_read - rep.rows_filtered
        limit = r.mapping.max_quarantine if r.mapping.max_quarantine is not None else max_quarantine
        if considered and rep.rows_quarantined / considered > limit:
            found = reasons[id(r)]
            top = []
            for kind, count in Counter(found["primary"]).most_common(_SHOWN_EXAMPLES):
                example = found.loc[found["primary"] == kind].iloc[0]
                top.append(
                    f"{kind} {count:,} (e.g. {r.source.where(int(example['position']))}: {example['reason'].split('; ')[0]})"
                )
            refusals.append(
                f"block {rep.name!r}: {rep.rows_quarantined:,} of {considered:,} rows quarantined "
                f"({rep.rows_quarantined / considered:.0%}, more than "
                f"{'its max_quarantine' if r.mapping.max_quarantine is not None else '--max-quarantine'} {limit:.0%}); "
                f"top primary reasons: {'; '.join(top)}"
            )
    if not allow_empty:
        for name, frame in tables.items():
            if len(frame) == 0:
                blocks = ", ".join(repr(r.mapping.name) for r in results if r.mapping.target == name)
                refusals.append(
                    f"table {name} is empty: block(s) {blocks} fill it but loaded no row "
                    f"({sum(r.report.rows_quarantined for r in results if r.mapping.target == name):,} quarantined, "
                    f"{sum(r.report.rows_filtered for r in results if r.mapping.target == name):,} filtered)"
                )
    return refusals


# --- writing ---------------------------------------------------------------------------------


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / METADATA_FILE).exists())):
        raise MappingError(
            [f"{out_dir}: exists and is not a dataset folder written by maexlab; refusing to replace it (choose another --out)"]
        )


def _jsonable_constant(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _check_columns(spec: MappingSpec, mapping_path: Path, tables_read: dict[str, SourceTable]) -> None:
    missing: list[str] = []
    for mapping in spec.tables:
        source = tables_read.get(mapping.name)
        if source is not None:
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


def import_mapping(
    mapping_path: Path | str,
    out_dir: Path | str,
    sources: dict[str, str] | None = None,
    fmt: str = "csv",
    *,
    max_quarantine: float = DEFAULT_MAX_QUARANTINE,
    allow_empty: bool = False,
) -> ImportReport:
    """Import the sources a mapping file declares into a canonical dataset folder ``out_dir``.

    Parameters
    ----------
    mapping_path, out_dir
        The mapping YAML file and the dataset folder to write (replaced only when complete).
    sources
        Source path overrides by block name.
    fmt
        ``csv`` or ``parquet`` tables.
    max_quarantine
        Refuse the import (:class:`ImportRefused`) when a block quarantines more than this
        share of the rows it did not filter (default 0.5; 1 never refuses).
    allow_empty
        Accept a table the mapping fills ending up with no row.

    Raises
    ------
    MappingError
        Nothing written: a problem with the mapping, a source file, or a date column that
        cannot be read in one day/month order. :class:`ImportRefused` (a MappingError) when
        the guards above refuse the result.

    Examples
    --------
    >>> report = import_mapping("docs/examples/kiva.yaml", "outputs/kiva")   # doctest: +SKIP
    >>> block = report.mappings[0]                                           # doctest: +SKIP
    >>> block.rows_read == block.rows_loaded + block.rows_quarantined + block.rows_filtered  # doctest: +SKIP
    True
    """
    mapping_path = Path(mapping_path)
    out_dir = Path(out_dir).absolute()
    spec = load_mapping(mapping_path, sources)
    _check_out_dir(out_dir)

    tables_read: dict[str, SourceTable] = {}
    for mapping in spec.tables:
        if mapping.source is not None:
            tables_read[mapping.name] = read_source(mapping.source, mapping_path)
    _check_columns(spec, mapping_path, tables_read)

    results: dict[str, _Result] = {}
    errors: list[str] = []
    for mapping in spec.tables:
        try:
            if mapping.derive is not None:
                results[mapping.name] = _run_derived_mapping(spec, mapping, results)
            else:
                results[mapping.name] = _run_source_mapping(spec, mapping, tables_read[mapping.name], results)
        except MappingError as error:
            errors.extend(error.messages)
            if mapping.name not in results:
                break  # later blocks may depend on this one
    if errors:
        raise MappingError(errors)
    ordered = list(results.values())
    tables = _validate(ordered)

    reasons: dict[int, pd.DataFrame] = {}
    for r in ordered:
        rep = r.report
        found = _reasons(r)
        reasons[id(r)] = found
        rep.rows_filtered = sum(rep.filtered_reasons.values())
        rep.rows_read = len(r.source.frame) if r.mapping.derive is None else len(r.positions)
        rep.rows_quarantined = len(found)
        rep.rows_loaded = rep.rows_read - rep.rows_quarantined - rep.rows_filtered
        rep.rows_in_table = int(r.loaded().sum())
        rep.quarantine_primary_reasons = dict(Counter(found["primary"]).most_common()) if len(found) else {}
        all_kinds: Counter = Counter()
        for kinds in found["kinds"] if len(found) else []:
            all_kinds.update(kinds)
        rep.quarantine_reasons = dict(sorted(all_kinds.items()))
        rep.constants = {
            f"{r.mapping.target}.{name}": _jsonable_constant(f.default)
            for name, f in r.mapping.fields.items()
            if f.mode == "constant"
        }
        assert rep.rows_read == rep.rows_loaded + rep.rows_quarantined + rep.rows_filtered, rep.name
    for target, frame in tables.items():
        loaded = sum(r.report.rows_in_table for r in ordered if r.mapping.target == target)
        assert loaded == len(frame), f"{target}: {loaded} rows loaded but {len(frame)} in the table"

    refusals = _guard(ordered, reasons, tables, max_quarantine, allow_empty)
    if refusals:
        raise ImportRefused(refusals)

    quarantine = _quarantine_frames(ordered, reasons)
    metadata = {**spec.dataset, "import_report": REPORT_FILE, "imported_with": f"maexlab data import {mapping_path.name}"}
    metadata.update(_declared_constants(ordered))
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
        staged = write_dataset(tables, work / "dataset", metadata, fmt, csv_engine="arrow")
        (staged / REPORT_FILE).write_text(
            json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        if quarantine:
            (staged / QUARANTINE_DIR).mkdir()
            for name, frame in quarantine.items():
                frame.to_csv(staged / QUARANTINE_DIR / f"{name}.csv", index=False, lineterminator="\n")
        _check_staged(staged, tables, fmt)  # complete before it replaces anything
        replace_folder(staged, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _check_staged(staged: Path, tables: dict[str, pd.DataFrame], fmt: str) -> None:
    """The staged dataset is complete: every table file with its header and every row.

    The tables were validated before writing, so a full reload would check the same data
    again at the cost of a second read; it is done only where counting lines cannot tell (a
    text cell holding a line break) and for Parquet.
    """
    import csv

    for name, frame in tables.items():
        path = staged / f"{name}.{fmt}"
        text_columns = [c for c in frame.columns if frame[c].dtype == object]
        breaks = fmt != "csv" or any(
            frame[c].astype("string[pyarrow]").str.contains("[\\r\\n]", regex=True).fillna(False).any() for c in text_columns
        )
        if breaks:
            from maexlab.data.loader import load

            load(staged)
            return
        data = path.read_bytes()
        header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8")]))
        rows = data.count(b"\n") - 1
        if header != list(frame.columns) or rows != len(frame):
            raise AssertionError(f"{path}: written incompletely ({rows} of {len(frame)} rows)")


def _declared_constants(results: list[_Result]) -> dict[str, Any]:
    """Constants are declarations, not observations: reports name them next to the data notice.

    ``declared_constants`` maps ``table.field`` to its value, or to the list of values when
    blocks declare different ones; ``declared_constants_by_block`` keeps each block's own.
    """
    by_block = {r.mapping.name: r.report.constants for r in results if r.report.constants}
    if not by_block:
        return {}
    flat: dict[str, list] = {}
    for constants in by_block.values():
        for name, value in constants.items():
            if value not in flat.setdefault(name, []):
                flat[name].append(value)
    return {
        "declared_constants": {name: values[0] if len(values) == 1 else values for name, values in sorted(flat.items())},
        "declared_constants_by_block": by_block,
    }
