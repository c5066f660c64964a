"""The YAML mapping format: loading with line numbers and checking before any data is read.

Every mistake in a mapping file is reported with the file name and the line it is on, and
all mistakes are reported at once (:class:`MappingError`). See ``docs/importing.md``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maexlab.data.schema import TABLES, Column
from maexlab.data.yaml_safe import LineDict, LineList, YamlProblem, load_yaml_text
from maexlab.mapping import parsers

SOURCE_FORMATS = ("csv", "excel", "json", "jsonl", "parquet")
PARSERS = ("money", "number", "date", "bool", "category", "text", "municipality_code")
RULES = ("coverage",)
AGGREGATES = ("min", "max", "first", "last", "count", "sum")
EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xlsm": "excel",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet",
}  # fmt: skip
DEFAULT_PARSER = {
    "id": "text",
    "str": "text",
    "category": "category",
    "date": "date",
    "int": "number",
    "float": "number",
    "bool": "bool",
}
#: Which parsers may fill which canonical kinds.
COMPATIBLE = {
    "text": ("id", "str", "category"),
    "category": ("id", "str", "category"),
    "money": ("int", "float"),
    "number": ("int", "float"),
    "date": ("date",),
    "bool": ("bool",),
    "municipality_code": ("id", "str"),
}
HASH_LENGTH = 12
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MappingError(ValueError):
    """The mapping (or a source it names) cannot be used; nothing has been written.

    ``messages`` lists every problem, each naming the mapping file and line, or the source
    file, row and column.
    """

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        head = f"{len(self.messages)} problem(s) in the mapping; nothing was written:"
        super().__init__("\n".join([head, *(f"  - {m}" for m in self.messages)]))


# --- YAML with line numbers ------------------------------------------------------------------


def load_yaml(path: Path) -> LineDict:
    """Parse a mapping file safely; a malformed file or a YAML tag raises MappingError with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError([f"{path}: mapping file not found"]) from None
    except IsADirectoryError:
        raise MappingError([f"{path}: is a folder; give the mapping YAML file"]) from None
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise MappingError([f"{path}, line {line}: the mapping file is not UTF-8 text"]) from None
    try:
        document = load_yaml_text(text)
    except YamlProblem as error:
        line = f", line {error.line}" if error.line else ""
        problem = f"malformed YAML: {error.problem}" if error.malformed else error.problem
        raise MappingError([f"{path}{line}: {problem}"]) from None
    if not isinstance(document, LineDict):
        raise MappingError([f"{path}, line 1: expected a mapping with 'dataset' and 'tables' at the top level"])
    return document


# --- the checked mapping ---------------------------------------------------------------------


@dataclass
class SourceSpec:
    path: Path  # resolved
    written: str  # as written in the mapping
    format: str
    delimiter: str = ","
    encoding: str = "utf-8"
    decimal: str = "auto"
    thousands: str | None = None
    sheet: str | int | None = None
    na_values: frozenset[str] = frozenset()
    line: int = 0  # the line of path:
    encoding_line: int = 0


@dataclass
class FieldSpec:
    """How one canonical field is filled: from a column, a constant, a hash or a rule."""

    field: str
    column: Column
    mode: str  # column | constant | hash | personal_key | rule | join | aggregate
    line: int
    source_column: str | None = None
    parse: str = "text"
    values: dict[str, Any] = field(default_factory=dict)
    date_format: str = "auto"
    date_precision: str = "keep"
    default: Any = None  # canonical value, or None
    unknown: bool = False
    decimal: str | None = None
    thousands: str | None = None
    scale: float | None = None
    divide_by: float | None = None
    round: str | int | None = None
    greater_than: float | None = None
    hash_of: list[str] = field(default_factory=list)
    prefix: str = ""
    length: int = HASH_LENGTH
    rule: str | None = None
    rule_fields: dict[str, str] = field(default_factory=dict)
    aggregate: str | None = None  # for derive: min/max/...
    coalesce: list[str] = field(default_factory=list)  # first non-empty of these columns (mode column)
    when: list[Condition] = field(default_factory=list)  # read the column only where all hold
    empty_parts: str = "quarantine"  # hash_of with an empty part: quarantine | hash (the empty text)

    def columns_read(self) -> list[str]:
        """Every source column this field reads (value, fallbacks, hash parts, conditions)."""
        names = [self.source_column] if self.source_column is not None else []
        names += [c for c in self.coalesce if c not in names]
        names += [c for c in self.hash_of if c not in names]
        names += [c.column for c in self.when if c.column not in names]
        return names


@dataclass
class Condition:
    """One test on a source cell, from ``where:`` (per block) or ``when:`` (per field).

    ``op`` is ``equals``, ``not``, ``in``, ``not_in`` or ``empty`` (``values`` then holds
    ``True`` for "is empty" or ``False`` for "is filled"). Cells are compared as trimmed text;
    an empty cell equals nothing.
    """

    column: str
    op: str
    values: tuple[Any, ...]
    line: int

    def describe(self) -> str:
        if self.op == "empty":
            return f"{self.column} is {'empty' if self.values[0] else 'filled'}"
        shown = ", ".join(repr(v) for v in self.values)
        return {
            "equals": f"{self.column} = {shown}",
            "not": f"{self.column} != {shown}",
            "in": f"{self.column} in [{shown}]",
            "not_in": f"{self.column} not in [{shown}]",
        }[self.op]


@dataclass
class EventsSpec:
    """Several rows from one wide source row: one per filled date column (``events:``)."""

    date_field: str  # the canonical date field each event fills (e.g. phases.entered_on)
    kind_field: str  # the canonical field naming the event (e.g. phases.phase)
    kinds: dict[Any, FieldSpec]  # canonical kind value -> how its date is read
    line: int


@dataclass
class JoinSpec:
    table: str  # name of the other mapping
    on: list[tuple[str, str]]  # (this source column, that source column)
    fields: dict[str, str]  # this canonical field <- that canonical field
    line: int


@dataclass
class DeriveSpec:
    source: str  # name of the other mapping
    key: str  # canonical field of that mapping whose distinct values make the rows
    line: int


@dataclass
class TableMapping:
    name: str
    target: str
    line: int
    source: SourceSpec | None
    fields: dict[str, FieldSpec]
    personal: list[str] = field(default_factory=list)
    join: JoinSpec | None = None
    derive: DeriveSpec | None = None
    filled_empty: list[str] = field(default_factory=list)  # required-but-nullable fields not mapped
    where: list[Condition] = field(default_factory=list)
    duplicates: str = "quarantine"  # exact duplicate source rows: keep | drop | quarantine
    events: EventsSpec | None = None
    max_quarantine: float | None = None  # this block's own limit (else the import's --max-quarantine)

    def source_columns(self) -> dict[str, int]:
        """Every source column this mapping reads, with the mapping line that names it."""
        used: dict[str, int] = {}
        specs = list(self.fields.values()) + (list(self.events.kinds.values()) if self.events else [])
        for spec in specs:
            for name in spec.columns_read():
                used.setdefault(name, spec.line)
        for condition in self.where:
            used.setdefault(condition.column, condition.line)
        return used


@dataclass
class MappingSpec:
    path: Path
    dataset: dict[str, Any]
    salt: str | None
    tables: list[TableMapping]

    def by_name(self, name: str) -> TableMapping:
        return next(t for t in self.tables if t.name == name)


def expand_env(text: str) -> str:
    """``${VAR}`` and ``${VAR:-default}`` in a source path, from the environment."""

    def replace(match: re.Match) -> str:
        value = os.environ.get(match[1])
        if value is None:
            if match[2] is None:
                raise KeyError(match[1])
            return match[2]
        return value

    return _ENV.sub(replace, text)


class _Checker:
    """Collects every problem of one mapping file, each with its line."""

    def __init__(self, path: Path):
        self.path = path
        self.messages: list[str] = []

    def error(self, line: int, message: str) -> None:
        self.messages.append(f"{self.path}, line {line}: {message}")

    def keys(self, block: LineDict, allowed: tuple[str, ...], what: str) -> None:
        for key in block:
            if key not in allowed:
                self.error(block.key_lines[key], f"unknown key {key!r} in {what} (expected one of: {', '.join(allowed)})")

    def line_of(self, block: Any, key: str, fallback: int) -> int:
        return block.key_lines.get(key, fallback) if isinstance(block, LineDict) else fallback


def canonical_value(value: Any, column: Column) -> Any:
    """A value written in the mapping (constant, default, value-map result) as a canonical value.

    Raises ValueError with a readable message when it does not fit the column.
    """
    if value is None:
        return None
    kind = column.kind
    if kind == "category":
        if not isinstance(value, str) or value not in column.vocabulary:
            raise ValueError(
                f"{value!r} is not one of: {', '.join(column.vocabulary)}"
                + (" (quote yes/no words in YAML)" if isinstance(value, bool) else "")
            )
        return value
    if kind in ("id", "str"):
        if isinstance(value, bool | dict | list):
            raise ValueError(f"expected text, got {value!r}")
        return parsers.as_text(value)
    if kind == "date":
        if isinstance(value, dt.date):
            date = value if not isinstance(value, dt.datetime) else value.date()
        else:
            try:
                date = parsers.parse_date(str(value), "iso", "keep")[0]
            except parsers.ValueProblem as error:
                raise ValueError(str(error)) from None
        if not dt.date(1677, 9, 22) <= date <= dt.date(2262, 4, 11):
            raise ValueError(
                f"{date.isoformat()} is outside the dates a canonical date column can hold (1677-09-22 to 2262-04-11)"
            )
        return date
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        if kind == "int" and not float(value).is_integer():
            raise ValueError(f"expected a whole number, got {value!r}")
        return float(value)
    if kind == "bool":
        try:
            return parsers.parse_bool(value)
        except parsers.ValueProblem as error:
            raise ValueError(str(error)) from None
    raise AssertionError(kind)


def _number_marks(check: _Checker, raw: LineDict, at: Callable[[str], int], spec: SourceSpec | FieldSpec) -> None:
    """Read the ``decimal`` and ``thousands`` marks of a source or a column into ``spec``."""
    for key, allowed in (("decimal", parsers.DECIMAL_MARKS), ("thousands", parsers.THOUSANDS_MARKS)):
        if key in raw:
            if raw[key] not in allowed:
                check.error(at(key), f"{key} must be one of {', '.join(repr(a) for a in allowed)}, got {raw[key]!r}")
            else:
                setattr(spec, key, raw[key])


def _number_option(check: _Checker, block: LineDict, key: str, positive: bool = False) -> float | None:
    if key not in block:
        return None
    value = block[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or (positive and value <= 0):
        check.error(block.key_lines[key], f"{key} must be a {'positive ' if positive else ''}number, got {value!r}")
        return None
    return float(value)


COLUMN_KEYS = (
    "column", "coalesce", "parse", "values", "date_format", "date_precision", "default", "unknown", "decimal",
    "thousands", "scale", "divide_by", "round", "greater_than", "when",
)  # fmt: skip
HASH_KEYS = ("hash_of", "prefix", "length", "empty", "when")
ID_KEYS = ("hash_of", "row_number", "prefix", "length", "empty", "field")
RULE_KEYS = ("rule", "granted", "requested")
#: Keys that only mean something for some parsers: anywhere else they would do nothing, so they are refused.
PARSER_ONLY_KEYS = {
    "date_format": ("date",),
    "date_precision": ("date",),
    "decimal": ("money", "number"),
    "thousands": ("money", "number"),
    "scale": ("money", "number"),
    "divide_by": ("money", "number"),
    "round": ("money", "number"),
    "greater_than": ("money", "number"),
}
DUPLICATE_POLICIES = ("quarantine", "drop", "keep")
CONDITION_OPS = ("equals", "not", "in", "not_in", "empty")


def conditions(check: _Checker, raw: Any, line: int, what: str) -> list[Condition]:
    """``{Column: value}``, ``{Column: {in: [..]}}``, ``{Column: {not: v}}``, ``{Column: {empty: true}}``..."""
    if not isinstance(raw, LineDict) or not raw:
        check.error(line, f"{what} must map source column -> value or {{in|not|not_in|equals|empty: ...}}")
        return []
    found: list[Condition] = []
    for column, test in raw.items():
        at = raw.key_lines[column]
        if isinstance(test, LineDict):
            if len(test) != 1 or next(iter(test)) not in CONDITION_OPS:
                check.error(at, f"{what} {column!r}: expected exactly one of {', '.join(CONDITION_OPS)}, got {dict(test)!r}")
                continue
            op, value = next(iter(test.items()))
        else:
            op, value = "equals", test
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or any(isinstance(v, dict | list) for v in value):
                check.error(at, f"{what} {column!r}: {op} needs a list of values")
                continue
            values = tuple(parsers.as_text(v) for v in value)
        elif op == "empty":
            if not isinstance(value, bool):
                check.error(at, f"{what} {column!r}: empty must be true or false, got {value!r}")
                continue
            values = (value,)
        else:
            if value is None or isinstance(value, dict | list):
                check.error(at, f"{what} {column!r}: expected a value (write {{empty: true}} to test for an empty cell)")
                continue
            values = (parsers.as_text(value),)
        found.append(Condition(column=str(column), op=op, values=values, line=at))
    return found


def _field_spec(check: _Checker, target: str, name: str, raw: Any, line: int) -> FieldSpec | None:
    schema = TABLES[target]
    column = schema.column(name)
    if isinstance(raw, str):
        raw_block = LineDict({"column": raw})
        raw_block.line, raw_block.key_lines = line, {"column": line}
        raw = raw_block
    if not isinstance(raw, LineDict):
        check.error(line, f"field {name!r}: expected a source column name or a mapping with 'column:', got {raw!r}")
        return None
    allowed = HASH_KEYS if "hash_of" in raw else RULE_KEYS if "rule" in raw else COLUMN_KEYS
    check.keys(raw, allowed, f"the spec of field {name!r}")
    spec = FieldSpec(field=name, column=column, mode="column", line=line)

    def at(key: str) -> int:
        return raw.key_lines.get(key, line)

    if "hash_of" in raw:
        spec.mode = "hash"
        hash_of = raw["hash_of"]
        if isinstance(hash_of, str):
            hash_of = [hash_of]
        if not isinstance(hash_of, list) or not hash_of or not all(isinstance(c, str) for c in hash_of):
            check.error(at("hash_of"), "hash_of must be a list of source column names")
        else:
            spec.hash_of = list(hash_of)
        if column.kind not in ("id", "str"):
            check.error(at("hash_of"), f"hash_of makes an identifier; field {name!r} is a {column.kind}")
        spec.empty_parts = raw.get("empty", "quarantine")
        if spec.empty_parts not in ("quarantine", "hash"):
            check.error(
                at("empty"),
                f"empty (what an empty hash_of column does) must be quarantine or hash (hash the empty text), "
                f"got {spec.empty_parts!r}",
            )
    elif "rule" in raw:
        spec.mode = "rule"
        spec.rule = raw["rule"]
        if spec.rule not in RULES:
            check.error(at("rule"), f"unknown rule {spec.rule!r} (expected one of: {', '.join(RULES)})")
        elif spec.rule == "coverage":
            if target != "funding" or name != "status":
                check.error(at("rule"), "rule 'coverage' derives funding.status from amount_granted and amount_requested")
            spec.rule_fields = {
                "granted": str(raw.get("granted", "amount_granted")),
                "requested": str(raw.get("requested", "amount_requested")),
            }
            for role, other in spec.rule_fields.items():
                if other not in schema.column_names or schema.column(other).kind not in ("int", "float"):
                    check.error(at(role), f"rule coverage: {role} must name a numeric field of {target}, got {other!r}")
    elif "column" in raw and "coalesce" in raw:
        check.error(at("coalesce"), f"field {name!r}: give column: or coalesce: [first, second, ...], not both")
    elif "column" in raw:
        if not isinstance(raw["column"], str):
            check.error(at("column"), f"column must be a source column name, got {raw['column']!r}")
        else:
            spec.source_column = raw["column"]
    elif "coalesce" in raw:
        columns = raw["coalesce"]
        if not isinstance(columns, list) or len(columns) < 2 or not all(isinstance(c, str) for c in columns):
            check.error(at("coalesce"), "coalesce must list two or more source columns: the first filled one is used")
        else:
            spec.coalesce = list(columns)
    else:
        check.error(line, f"field {name!r}: say where the value comes from (column:, coalesce:, hash_of: or rule:)")
    if "when" in raw:
        spec.when = conditions(check, raw["when"], at("when"), f"field {name!r} when:")

    spec.parse = raw.get("parse", DEFAULT_PARSER[column.kind])
    if spec.parse not in PARSERS:
        check.error(at("parse"), f"unknown parser {spec.parse!r} (expected one of: {', '.join(PARSERS)})")
    elif spec.mode == "column":
        greater = _number_option(check, raw, "greater_than")
        spec.greater_than = greater
        fits = column.kind in COMPATIBLE[spec.parse] or (
            greater is not None and column.kind == "bool" and spec.parse in ("money", "number")
        )
        if not fits:
            check.error(
                at("parse"),
                f"parser {spec.parse!r} cannot fill field {name!r} ({column.kind}); expected one of: "
                + ", ".join(p for p, kinds in COMPATIBLE.items() if column.kind in kinds),
            )
        if greater is not None and column.kind != "bool":
            check.error(at("greater_than"), f"greater_than makes a yes/no value; field {name!r} is a {column.kind}")
    for key, needs in PARSER_ONLY_KEYS.items():
        if key in raw and spec.mode == "column" and spec.parse in PARSERS and spec.parse not in needs:
            check.error(
                at(key), f"{key} does nothing with parse: {spec.parse} (field {name!r}); it needs parse: {' or '.join(needs)}"
            )
    spec.date_format = raw.get("date_format", "auto")
    if spec.date_format not in parsers.DATE_FORMATS:
        check.error(
            at("date_format"), f"unknown date_format {spec.date_format!r} (expected one of: {', '.join(parsers.DATE_FORMATS)})"
        )
    spec.date_precision = raw.get("date_precision", "keep")
    if spec.date_precision not in parsers.DATE_PRECISION_RULES:
        check.error(
            at("date_precision"),
            f"unknown date_precision {spec.date_precision!r} (expected one of: {', '.join(parsers.DATE_PRECISION_RULES)})",
        )
    _number_marks(check, raw, at, spec)
    spec.scale = _number_option(check, raw, "scale")
    spec.divide_by = _number_option(check, raw, "divide_by", positive=True)
    if "round" in raw:
        spec.round = raw["round"]
        if not (
            spec.round in ("ceil", "floor", "nearest")
            or (isinstance(spec.round, int) and not isinstance(spec.round, bool) and spec.round >= 0)
        ):
            check.error(at("round"), f"round must be ceil, floor, nearest or a number of decimals, got {spec.round!r}")
    if "prefix" in raw:
        spec.prefix = parsers.as_text(raw["prefix"])
    if "length" in raw:
        length = raw["length"]
        if isinstance(length, bool) or not isinstance(length, int) or not 6 <= length <= 40:
            check.error(at("length"), f"length must be a whole number from 6 to 40, got {length!r}")
        else:
            spec.length = length
    spec.unknown = bool(raw.get("unknown", False))
    if spec.unknown and "unknown" not in column.vocabulary:
        check.error(
            at("unknown"),
            f"unknown: true needs a field whose vocabulary has 'unknown'; {target}.{name} has: {', '.join(column.vocabulary) or 'no vocabulary'}",
        )
    if "values" in raw:
        values = raw["values"]
        if not isinstance(values, LineDict):
            check.error(at("values"), "values must be a mapping of source value -> canonical value")
        else:
            for key, value in values.items():
                try:
                    spec.values[key] = canonical_value(value, column)
                except ValueError as error:
                    check.error(values.key_lines[key], f"values: {key!r} maps to an invalid value for {target}.{name}: {error}")
    if "default" in raw:
        try:
            spec.default = canonical_value(raw["default"], column)
        except ValueError as error:
            check.error(at("default"), f"default for {target}.{name}: {error}")
    return spec


def _source_spec(check: _Checker, raw: Any, line: int, base: Path, overrides: dict[str, str], name: str) -> SourceSpec | None:
    if isinstance(raw, str):
        raw_block = LineDict({"path": raw})
        raw_block.line, raw_block.key_lines = line, {"path": line}
        raw = raw_block
    if not isinstance(raw, LineDict):
        check.error(line, "source must be a mapping with at least 'path'")
        return None
    check.keys(raw, ("path", "format", "delimiter", "encoding", "decimal", "thousands", "sheet", "na_values"), "source")

    def at(key: str) -> int:
        return raw.key_lines.get(key, raw.line)

    if "path" not in raw or not isinstance(raw["path"], str) or not raw["path"].strip():
        check.error(raw.line, "source needs a path (relative paths are read from the mapping file's folder)")
        return None
    written = overrides.get(name, raw["path"])
    try:
        expanded = expand_env(written)
    except KeyError as missing:
        check.error(
            at("path"),
            f"source path uses ${{{missing.args[0]}}} but that environment variable is not set (write ${{VAR:-default}} for a fallback)",
        )
        return None
    path = Path(expanded).expanduser()
    if not path.is_absolute():
        path = (Path.cwd() if name in overrides else base) / path
    fmt = raw.get("format") or EXTENSIONS.get(path.suffix.lower())
    if fmt not in SOURCE_FORMATS:
        check.error(at("format"), f"unknown source format {fmt!r} (expected one of: {', '.join(SOURCE_FORMATS)})")
        return None
    spec = SourceSpec(path=path.resolve(), written=written, format=fmt, line=at("path"), encoding_line=at("encoding"))
    delimiter = raw.get("delimiter", "\t" if path.suffix.lower() == ".tsv" else ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        check.error(at("delimiter"), f"delimiter must be one character, got {delimiter!r}")
    else:
        spec.delimiter = delimiter
    encoding = raw.get("encoding", "utf-8")
    try:
        codecs.lookup(str(encoding))
        spec.encoding = str(encoding)
    except LookupError:
        check.error(at("encoding"), f"unknown encoding {encoding!r} (e.g. utf-8, cp1252, latin-1)")
    _number_marks(check, raw, at, spec)
    if "sheet" in raw:
        spec.sheet = raw["sheet"]
        if fmt != "excel":
            check.error(at("sheet"), "sheet is only used for format excel")
    if "na_values" in raw:
        na = raw["na_values"]
        if not isinstance(na, list) or not all(isinstance(v, str | int | float) for v in na):
            check.error(at("na_values"), "na_values must be a list of texts that mean 'empty'")
        else:
            spec.na_values = frozenset(parsers.as_text(v) for v in na)
    return spec


TOP_KEYS = ("dataset", "salt", "salt_env", "tables")
BLOCK_KEYS = (
    "name", "source", "target", "columns", "constants", "id", "personal", "personal_keys", "join", "derive",
    "where", "duplicates", "events", "max_quarantine",
)  # fmt: skip


def load_mapping(path: Path | str, sources: dict[str, str] | None = None) -> MappingSpec:
    """Read and check a mapping file; raises MappingError listing every problem with its line.

    ``sources`` overrides source paths by mapping name (relative overrides are read from the
    current folder, not the mapping's).
    """
    path = Path(path)
    document = load_yaml(path)
    check = _Checker(path)
    check.keys(document, TOP_KEYS, "the mapping file")
    overrides = dict(sources or {})

    dataset = document.get("dataset", {})
    if not isinstance(dataset, dict):
        check.error(check.line_of(document, "dataset", 1), "dataset must be a mapping (synthetic, description, ...)")
        dataset = {}
    dataset = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in dataset.items()}
    synthetic = dataset.setdefault("synthetic", False)
    if not isinstance(synthetic, bool):
        check.error(check.line_of(dataset, "synthetic", 1), f"dataset.synthetic must be true or false, got {synthetic!r}")

    salt: str | None = None
    if "salt" in document and "salt_env" in document:
        check.error(document.key_lines["salt_env"], "declare either salt or salt_env, not both")
    if "salt_env" in document:
        variable = str(document["salt_env"])
        salt = os.environ.get(variable)
        salt_line = document.key_lines["salt_env"]
    elif "salt" in document:
        salt = str(document["salt"])
        salt_line = document.key_lines["salt"]
    else:
        variable, salt_line = "", 1

    blocks = document.get("tables")
    if not isinstance(blocks, LineList) or not blocks:
        check.error(check.line_of(document, "tables", document.line), "tables must be a non-empty list of mappings")
        raise MappingError(check.messages)

    tables: list[TableMapping] = []
    names: set[str] = set()
    needs_salt: list[int] = []
    for block, block_line in zip(blocks, blocks.item_lines, strict=True):
        if not isinstance(block, LineDict):
            check.error(block_line, "each entry under tables must be a mapping with source, target and columns")
            continue
        check.keys(block, BLOCK_KEYS, "a table mapping")
        target = block.get("target")
        if target not in TABLES:
            check.error(
                check.line_of(block, "target", block_line),
                f"unknown target table {target!r} (expected one of: {', '.join(TABLES)})",
            )
            continue
        schema = TABLES[target]
        name = str(block.get("name", target))
        if name in names:
            check.error(
                check.line_of(block, "name", block_line),
                f"two mappings are called {name!r}; give each a distinct name: (name: ...)",
            )
        names.add(name)
        mapping = TableMapping(name=name, target=target, line=block_line, source=None, fields={})

        if "source" in block:
            mapping.source = _source_spec(check, block["source"], block.key_lines["source"], path.parent, overrides, name)
        elif "derive" not in block:
            check.error(block_line, f"mapping {name!r} needs a source (or derive: to build it from another mapping)")

        def add(spec: FieldSpec | None, mapping: TableMapping = mapping) -> None:
            if spec is None:
                return
            if spec.field in mapping.fields:
                check.error(spec.line, f"field {spec.field!r} is filled twice (also on line {mapping.fields[spec.field].line})")
                return
            mapping.fields[spec.field] = spec

        def known(field_name: str, line: int, schema=schema, target=target) -> bool:
            if field_name not in schema.column_names:
                check.error(
                    line, f"unknown field {field_name!r} for table {target} (expected one of: {', '.join(schema.column_names)})"
                )
                return False
            return True

        columns = block.get("columns", LineDict())
        if not isinstance(columns, LineDict):
            check.error(
                check.line_of(block, "columns", block_line),
                "columns must be a mapping of canonical field -> source column or spec",
            )
        else:
            for field_name, raw in columns.items():
                line = columns.key_lines[field_name]
                if known(field_name, line):
                    add(_field_spec(check, target, field_name, raw, line))

        constants = block.get("constants", LineDict())
        if not isinstance(constants, LineDict):
            check.error(check.line_of(block, "constants", block_line), "constants must be a mapping of canonical field -> value")
        else:
            for field_name, value in constants.items():
                line = constants.key_lines[field_name]
                if not known(field_name, line):
                    continue
                column = schema.column(field_name)
                try:
                    add(
                        FieldSpec(
                            field=field_name, column=column, mode="constant", line=line, default=canonical_value(value, column)
                        )
                    )
                except ValueError as error:
                    check.error(line, f"constant {target}.{field_name}: {error}")

        if "id" in block:
            add(_id_spec(check, block["id"], block.key_lines["id"], target, known))

        personal = block.get("personal", [])
        if isinstance(personal, str):
            personal = [personal]
        if not isinstance(personal, list) or not all(isinstance(c, str) for c in personal):
            check.error(check.line_of(block, "personal", block_line), "personal must be a list of source column names")
        else:
            mapping.personal = list(personal)

        personal_keys = block.get("personal_keys", LineDict())
        if not isinstance(personal_keys, LineDict):
            check.error(
                check.line_of(block, "personal_keys", block_line), "personal_keys must map source column -> canonical field"
            )
        else:
            for source_column, raw in personal_keys.items():
                line = personal_keys.key_lines[source_column]
                options = raw if isinstance(raw, LineDict) else LineDict({"field": raw})
                field_name = options.get("field")
                if not isinstance(field_name, str) or not known(field_name, line):
                    continue
                column = schema.column(field_name)
                if column.kind not in ("id", "str"):
                    check.error(
                        line, f"personal_keys: {target}.{field_name} is a {column.kind}; a hashed key fills an identifier"
                    )
                    continue
                spec = FieldSpec(
                    field=field_name,
                    column=column,
                    mode="personal_key",
                    line=line,
                    source_column=source_column,
                    hash_of=[source_column],
                    prefix=parsers.as_text(options.get("prefix", "")),
                )
                length = options.get("length", HASH_LENGTH)
                if isinstance(length, bool) or not isinstance(length, int) or not 6 <= length <= 64:
                    check.error(line, f"personal_keys length must be a whole number from 6 to 64, got {length!r}")
                else:
                    spec.length = length
                add(spec)
                if source_column not in mapping.personal:
                    mapping.personal.append(source_column)
                needs_salt.append(line)

        for spec in mapping.fields.values():
            if spec.mode == "column" and ({spec.source_column, *spec.coalesce} & set(mapping.personal)):
                check.error(
                    spec.line,
                    f"column {spec.source_column!r} is declared personal and cannot fill {target}.{spec.field}; "
                    "declare it under personal_keys to replace it by a salted hash",
                )
            if spec.mode == "hash" and set(spec.hash_of) & set(mapping.personal):
                needs_salt.append(spec.line)

        if "where" in block:
            mapping.where = conditions(check, block["where"], block.key_lines["where"], "where:")
        if "duplicates" in block:
            mapping.duplicates = block["duplicates"]
            if mapping.duplicates not in DUPLICATE_POLICIES:
                check.error(
                    block.key_lines["duplicates"],
                    f"duplicates must be one of {', '.join(DUPLICATE_POLICIES)} (what to do with exact duplicate rows), "
                    f"got {mapping.duplicates!r}",
                )
        if "max_quarantine" in block:
            share = block["max_quarantine"]
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                check.error(block.key_lines["max_quarantine"], f"max_quarantine must be a share from 0 to 1, got {share!r}")
            else:
                mapping.max_quarantine = float(share)
        if "events" in block:
            mapping.events = _events_spec(check, block["events"], block.key_lines["events"], mapping, add_known=known)
            if mapping.derive is not None or "derive" in block:
                check.error(block.key_lines["events"], "events: makes rows from a source; a derived mapping cannot have them")
        if "join" in block:
            mapping.join = _join_spec(check, block["join"], block.key_lines["join"], mapping)
        if "derive" in block:
            mapping.derive = _derive_spec(check, block["derive"], block.key_lines["derive"], mapping)
            if mapping.source is not None:
                check.error(block.key_lines["derive"], "a derived mapping reads its rows from another mapping; remove source:")

        tables.append(mapping)

    if needs_salt and not salt:
        if "salt_env" in document:
            check.error(
                salt_line,
                f"salt_env names {variable!r} but that environment variable is not set; "
                f"personal keys (line {needs_salt[0]}) are hashed with it",
            )
        else:
            check.error(needs_salt[0], "hashing a personal column needs a salt: declare salt_env: VARIABLE (preferred) or salt:")

    _check_references(check, tables)
    for mapping in tables:
        _check_coverage(check, mapping)
    if check.messages:
        raise MappingError(check.messages)
    return MappingSpec(path=path, dataset=dataset, salt=salt, tables=_dependency_order(check, tables))


def _id_spec(check: _Checker, raw: Any, line: int, target: str, known: Callable[[str, int], bool]) -> FieldSpec | None:
    """``id: {hash_of: [...]}`` or ``id: {row_number: true}``, with prefix, length, field and empty."""
    schema = TABLES[target]
    if not isinstance(raw, LineDict) or ("hash_of" in raw) == ("row_number" in raw):
        check.error(
            line,
            "id must be a mapping with either hash_of: [source columns] or row_number: true "
            "(and optionally prefix, length, field, empty)",
        )
        return None
    check.keys(raw, ID_KEYS, "id")
    id_field = str(raw.get("field", schema.key[0]))
    if len(schema.key) > 1 and "field" not in raw:
        check.error(line, f"table {target} has a key of several fields ({', '.join(schema.key)}); say which one with field:")
        return None
    if not known(id_field, line):
        return None
    if "row_number" in raw:
        if raw["row_number"] is not True:
            check.error(raw.key_lines["row_number"], f"row_number must be true, got {raw['row_number']!r}")
        for key in ("length", "empty"):
            if key in raw:
                check.error(raw.key_lines[key], f"{key} does nothing with row_number: true (it applies to hash_of)")
        return FieldSpec(
            field=id_field,
            column=schema.column(id_field),
            mode="row_number",
            line=line,
            prefix=parsers.as_text(raw.get("prefix", "")),
        )
    inner = LineDict({k: v for k, v in raw.items() if k != "field"})
    inner.line, inner.key_lines = line, dict(raw.key_lines)
    return _field_spec(check, target, id_field, inner, line)


def _events_spec(
    check: _Checker, raw: Any, line: int, mapping: TableMapping, add_known: Callable[[str, int], bool]
) -> EventsSpec | None:
    """``events: {field: entered_on, kind: phase, from: {start: Startdatum, closed: {column: Einde}}}``."""
    schema = TABLES[mapping.target]
    if not isinstance(raw, LineDict) or not {"field", "kind", "from"} <= set(raw):
        check.error(
            line,
            "events needs field: (the date field), kind: (the field naming the event) and "
            "from: {event value: date column or spec}",
        )
        return None
    check.keys(raw, ("field", "kind", "from"), "events")
    date_field, kind_field = str(raw["field"]), str(raw["kind"])
    if not add_known(date_field, raw.key_lines["field"]) or not add_known(kind_field, raw.key_lines["kind"]):
        return None
    if schema.column(date_field).kind != "date":
        check.error(raw.key_lines["field"], f"events field {date_field!r} must be a date field of {mapping.target}")
    for name in (date_field, kind_field):
        if name in mapping.fields:
            check.error(
                raw.key_lines["field"], f"field {name!r} is filled by events: and also on line {mapping.fields[name].line}"
            )
    sources = raw["from"]
    if not isinstance(sources, LineDict) or not sources:
        check.error(raw.key_lines["from"], "events from: must map each event value to its date column, e.g. {start: Startdatum}")
        return None
    kinds: dict[Any, FieldSpec] = {}
    for kind, spec_raw in sources.items():
        at = sources.key_lines[kind]
        try:
            value = canonical_value(kind, schema.column(kind_field))
        except ValueError as error:
            check.error(at, f"events: {kind!r} is not a value of {mapping.target}.{kind_field}: {error}")
            continue
        spec = _field_spec(check, mapping.target, date_field, spec_raw, at)
        if spec is not None:
            if spec.mode != "column":
                check.error(at, f"events: the date of {kind!r} must come from a column (column: or coalesce:)")
            spec.parse = "date"
            kinds[value] = spec
    return EventsSpec(date_field=date_field, kind_field=kind_field, kinds=kinds, line=line)


def _check_coverage(check: _Checker, mapping: TableMapping) -> None:
    """Every required field must be filled; required-but-nullable ones may be left empty."""
    for column in TABLES[mapping.target].columns:
        if column.name in mapping.fields:
            continue
        if mapping.join and column.name in mapping.join.fields:
            continue
        if mapping.derive and column.name == mapping.derive.key:
            continue
        if mapping.events and column.name in (mapping.events.date_field, mapping.events.kind_field):
            continue
        if column.required and not column.nullable:
            check.error(
                mapping.line,
                f"mapping {mapping.name!r}: table {mapping.target} needs field {column.name!r}: "
                "map it under columns, give it under constants, or derive it (id:, join:)",
            )
        elif column.required:
            mapping.filled_empty.append(column.name)


def _join_spec(check: _Checker, raw: Any, line: int, mapping: TableMapping) -> JoinSpec | None:
    if not isinstance(raw, LineDict) or "table" not in raw or "on" not in raw:
        check.error(line, "join needs table: (another mapping's name or target) and on: (the key columns)")
        return None
    check.keys(raw, ("table", "on", "fields"), "join")
    on_raw = raw["on"]
    if isinstance(on_raw, str):
        on = [(on_raw, on_raw)]
    elif isinstance(on_raw, list) and all(isinstance(c, str) for c in on_raw):
        on = [(c, c) for c in on_raw]
    elif isinstance(on_raw, dict) and all(isinstance(v, str) for v in on_raw.values()):
        on = list(on_raw.items())
    else:
        check.error(
            raw.key_lines["on"], "join on: must be a column name, a list of names, or a mapping this column -> that column"
        )
        return None
    fields = raw.get("fields", {})  # empty: filled from the foreign key once the other mapping is known
    schema = TABLES[mapping.target]
    if not isinstance(fields, dict):
        check.error(raw.key_lines.get("fields", line), "join fields: must map this table's field -> the joined table's field")
        return None
    for here in fields:
        if here not in schema.column_names:
            check.error(raw.key_lines.get("fields", line), f"join fields: unknown field {here!r} for table {mapping.target}")
    return JoinSpec(table=str(raw["table"]), on=on, fields=dict(fields), line=line)


def _derive_spec(check: _Checker, raw: Any, line: int, mapping: TableMapping) -> DeriveSpec | None:
    if not isinstance(raw, LineDict) or "from" not in raw or "key" not in raw:
        check.error(line, "derive needs from: (another mapping) and key: (the field whose distinct values become rows)")
        return None
    check.keys(raw, ("from", "key", "aggregate"), "derive")
    schema = TABLES[mapping.target]
    key = str(raw["key"])
    if key not in schema.column_names:
        check.error(raw.key_lines["key"], f"derive key {key!r} is not a field of table {mapping.target}")
    aggregate = raw.get("aggregate", LineDict())
    if not isinstance(aggregate, LineDict):
        check.error(
            raw.key_lines.get("aggregate", line),
            "aggregate must map field -> {min|max|first|last|count|sum: field of the other table}",
        )
        aggregate = LineDict()
    for field_name, op_raw in aggregate.items():
        at = aggregate.key_lines[field_name]
        if field_name not in schema.column_names:
            check.error(at, f"unknown field {field_name!r} for table {mapping.target}")
            continue
        if not isinstance(op_raw, dict) or len(op_raw) != 1 or next(iter(op_raw)) not in AGGREGATES:
            check.error(
                at, f"aggregate {field_name}: expected one of {', '.join(AGGREGATES)} with a field, e.g. {{min: applied_on}}"
            )
            continue
        op, other = next(iter(op_raw.items()))
        if field_name in mapping.fields:
            check.error(at, f"field {field_name!r} is filled twice (also on line {mapping.fields[field_name].line})")
            continue
        mapping.fields[field_name] = FieldSpec(
            field=field_name,
            column=schema.column(field_name),
            mode="aggregate",
            line=at,
            aggregate=op,
            rule_fields={"field": str(other)},
        )
    return DeriveSpec(source=str(raw["from"]), key=key, line=line)


def _resolve(tables: list[TableMapping], reference: str) -> TableMapping | None:
    by_name = [t for t in tables if t.name == reference]
    if by_name:
        return by_name[0]
    by_target = [t for t in tables if t.target == reference]
    return by_target[0] if len(by_target) == 1 else None


def _check_references(check: _Checker, tables: list[TableMapping]) -> None:
    for mapping in tables:
        if mapping.join is not None:
            other = _resolve(tables, mapping.join.table)
            if other is None or other is mapping:
                check.error(
                    mapping.join.line,
                    f"join table {mapping.join.table!r} is not another mapping's name or target "
                    f"(mappings: {', '.join(t.name for t in tables)})",
                )
            else:
                mapping.join.table = other.name
                other_schema = TABLES[other.target]
                if not mapping.join.fields:
                    fk = next((fk for fk in TABLES[mapping.target].foreign_keys if fk.table == other.target), None)
                    if fk is None:
                        check.error(
                            mapping.join.line,
                            f"join with {other.name!r}: table {mapping.target} has no foreign key to "
                            f"{other.target}; say which fields to fill with fields: {{this_field: that_field}}",
                        )
                    else:
                        mapping.join.fields = dict(zip(fk.columns, fk.target_columns, strict=True))
                for there in mapping.join.fields.values():
                    if there not in other_schema.column_names:
                        check.error(mapping.join.line, f"join fields: {there!r} is not a field of table {other.target}")
        if mapping.derive is not None:
            other = _resolve(tables, mapping.derive.source)
            if other is None or other is mapping:
                check.error(mapping.derive.line, f"derive from {mapping.derive.source!r} is not another mapping's name or target")
                continue
            mapping.derive.source = other.name
            other_schema = TABLES[other.target]
            if mapping.derive.key not in other_schema.column_names:
                check.error(mapping.derive.line, f"derive key {mapping.derive.key!r} is not a field of table {other.target}")
            for spec in mapping.fields.values():
                if spec.mode == "aggregate" and spec.rule_fields["field"] not in other_schema.column_names:
                    check.error(
                        spec.line, f"aggregate {spec.field}: {spec.rule_fields['field']!r} is not a field of table {other.target}"
                    )


def dependencies(mapping: TableMapping) -> list[str]:
    return [d for d in ((mapping.join.table if mapping.join else None), (mapping.derive.source if mapping.derive else None)) if d]


def _dependency_order(check: _Checker, tables: list[TableMapping]) -> list[TableMapping]:
    ordered: list[TableMapping] = []
    done: set[str] = set()
    pending = list(tables)
    while pending:
        ready = [t for t in pending if all(d in done for d in dependencies(t))]
        if not ready:
            for t in pending:
                check.error(t.line, f"mapping {t.name!r} joins or derives in a circle ({' -> '.join(dependencies(t))})")
            raise MappingError(check.messages)
        for t in ready:
            ordered.append(t)
            done.add(t.name)
            pending.remove(t)
    return ordered
