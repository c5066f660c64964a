"""Parse raw tables into canonical types and check them, collecting every problem at once.

A problem names the file, the row, the column and what was expected, so a researcher can fix
the source without reading a traceback. Rows are counted from 1 for the first data row;
for CSV files the line number (header = line 1) is given as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from maexlab.data.schema import PHASES, TABLES, Column, TableSchema

#: How many problems of one file a message lists before summarising the rest.
MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell, row, column or file."""

    origin: str  # file name, or file:table for a database
    message: str
    row: int | None = None  # 1-based data row
    column: str | None = None
    line_offset: int | None = None  # add to row to get a line number (1 for CSV with header)

    def __str__(self) -> str:
        where = [self.origin]
        if self.row is not None:
            line = f" (line {self.row + self.line_offset})" if self.line_offset is not None else ""
            where.append(f"row {self.row}{line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return ", ".join(where) + f": {self.message}"


class DataValidationError(ValueError):
    """Raised when loaded data breaks the canonical model; ``problems`` lists every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(format_problems(problems))


def format_problems(problems: list[Problem], limit: int = MAX_PROBLEMS_SHOWN) -> str:
    """Render problems grouped by origin, at most ``limit`` per origin."""
    lines = [f"{len(problems)} problem(s) in the data:"]
    by_origin: dict[str, list[Problem]] = {}
    for p in problems:
        by_origin.setdefault(p.origin, []).append(p)
    for origin, items in by_origin.items():
        for p in items[:limit]:
            lines.append(f"  - {p}")
        if len(items) > limit:
            lines.append(f"  - ... and {len(items) - limit} more problem(s) in {origin}")
    return "\n".join(lines)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"


# --- parsing one column --------------------------------------------------------------------


class _Cells:
    """One raw column with its trimmed text and emptiness, computed once (pyarrow string kernels)."""

    def __init__(self, raw: pd.Series):
        self.raw = raw
        self.native = (pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)) or (
            pd.api.types.is_datetime64_any_dtype(raw)
        )
        self._text: pd.Series | None = None
        self._untrimmed: pd.Series | None = None
        self._empty: pd.Series | None = None
        self._known: tuple[tuple[str, ...], pd.Series] | None = None

    def in_vocabulary(self, vocabulary: tuple[str, ...]) -> pd.Series:
        """Whether each trimmed cell is one of ``vocabulary`` (False where empty), computed once."""
        if self._known is None or self._known[0] != tuple(vocabulary):
            self._known = (tuple(vocabulary), self.text.isin(vocabulary).fillna(False))
        return self._known[1]

    @property
    def untrimmed(self) -> pd.Series:
        if self._untrimmed is None:
            raw = self.raw
            if raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty"):
                raw = raw.map(lambda v: v if v is None or isinstance(v, str) or v != v else str(v))
            self._untrimmed = raw.astype("string[pyarrow]")
        return self._untrimmed

    @property
    def text(self) -> pd.Series:
        if self._text is None:
            self._text = self.untrimmed.str.strip()
        return self._text

    @property
    def empty(self) -> pd.Series:
        if self._empty is None:
            # A bool column from Parquet is empty exactly where it is missing: no text needed.
            if self.native or pd.api.types.is_bool_dtype(self.raw):
                self._empty = self.raw.isna()
            else:
                self._empty = pd.Series((self.text == "").fillna(True).to_numpy(dtype=bool), index=self.raw.index)
        return self._empty


def _is_empty(series: pd.Series) -> pd.Series:
    return _Cells(series).empty


#: The dates a canonical date column (nanosecond timestamps) can hold.
EARLIEST_DATE, LATEST_DATE = "1677-09-22", "2262-04-11"


def special_cells(cells: _Cells, col: Column) -> list[tuple[pd.Series, str]]:
    """Cells refused with their own message rather than "expected ...": (mask, message) pairs.

    * a category with outer whitespace (``' granted'``): refused, never silently trimmed;
    * ``inf`` / ``-inf`` where a finite number is expected;
    * a well-formed date outside the range a canonical date column can hold.
    """
    raw = cells.raw
    if pd.api.types.is_datetime64_any_dtype(raw):
        return []
    found: list[tuple[pd.Series, str]] = []
    if col.kind == "category" and not cells.native:
        text = cells.text
        padded = (cells.untrimmed != text).fillna(False) & cells.in_vocabulary(col.vocabulary)
        if padded.any():
            found.append((padded, "outer whitespace around the category; write it without leading or trailing spaces or tabs"))
    elif col.kind in ("int", "float"):
        if pd.api.types.is_integer_dtype(raw):
            return found  # an integer column cannot hold infinity
        if cells.native:
            infinite = pd.Series(np.isinf(raw.astype("float64")), index=raw.index)
        else:
            lowered = cells.text.str.lower()
            infinite = lowered.isin(["inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"]).fillna(False)
        if infinite.any():
            found.append((infinite, "expected a finite number, got infinity"))
    elif col.kind == "date":
        text = cells.text
        shaped = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False)
        outside = shaped & ((text < EARLIEST_DATE) | (text > LATEST_DATE)).fillna(False)
        if outside.any():
            found.append(
                (
                    outside,
                    f"the date is outside the range a canonical date column can hold ({EARLIEST_DATE} to {LATEST_DATE}, "
                    "pandas' nanosecond timestamps); if it stands for 'no date', leave the cell empty",
                )
            )
    return found


def _object_text(text: pd.Series, empty: pd.Series) -> pd.Series:
    """Trimmed text as Python strings, ``None`` where the cell is empty (the canonical text dtype)."""
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        # One pass in Arrow (empty text -> null) and one conversion, instead of astype + where;
        # Arrow's conversion makes one Python string per distinct value, as read_parquet does.
        arrow = pa.chunked_array(text.array._pa_array)
        nulled = pc.if_else(pc.equal(arrow, ""), pa.scalar(None, arrow.type), arrow)
        values = nulled.to_pandas()
        values.index = text.index
        return values
    return text.astype(object).where(~empty, None)


def _parse_column(cells: _Cells | pd.Series, col: Column) -> tuple[pd.Series, pd.Series, str]:
    """Return (parsed values, mask of unparseable cells, what was expected)."""
    if not isinstance(cells, _Cells):
        cells = _Cells(cells)
    raw = cells.raw
    empty = cells.empty
    no_problem = pd.Series(False, index=raw.index)
    if col.kind in ("id", "str", "category"):
        text = cells.text
        values = _object_text(text, empty)
        bad = no_problem
        expected = "text"
        if col.vocabulary:
            bad = ~empty & ~cells.in_vocabulary(col.vocabulary)
            expected = "one of: " + ", ".join(col.vocabulary)
        elif col.pattern:
            bad = ~empty & ~text.str.fullmatch(col.pattern).fillna(False)
            expected = f"text matching {col.pattern}"
        return values, bad.astype(bool), expected
    if col.kind == "date":
        if pd.api.types.is_datetime64_any_dtype(raw):
            values = pd.to_datetime(raw).dt.tz_localize(None) if raw.dt.tz is not None else raw
            return values.astype("datetime64[ns]", copy=False), no_problem, "a date"
        text = cells.text.astype(object).where(~empty, None)
        values = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        return values.astype("datetime64[ns]"), (~empty & values.isna()).astype(bool), "a date as YYYY-MM-DD"
    if col.kind == "int" and pd.api.types.is_integer_dtype(raw):
        # Whole numbers already (Parquet int64 / Int64): nothing to parse, round or check.
        return raw.astype("Int64", copy=False), no_problem, "a whole number"
    if col.kind in ("int", "float"):
        if cells.native:
            numbers = raw.astype("float64")
        else:
            numbers = pd.to_numeric(cells.text.where(~empty), errors="coerce").astype("float64")
        bad = ~empty & numbers.isna()
        expected = "a number"
        if col.kind == "int":
            fractional = numbers.notna() & (numbers != np.floor(numbers))
            bad |= fractional
            expected = "a whole number"
            return numbers.round().astype("Int64"), bad.astype(bool), expected
        return numbers, bad.astype(bool), expected
    if col.kind == "bool":
        if pd.api.types.is_bool_dtype(raw):
            # True, False or missing already (missing is checked as an empty cell).
            return raw.astype("boolean", copy=False), no_problem, "true or false"
        lowered = cells.text.str.lower()
        true = lowered.isin(["true", "1", "1.0"]).fillna(False).to_numpy(dtype=bool)
        false = lowered.isin(["false", "0", "0.0"]).fillna(False).to_numpy(dtype=bool)
        values = pd.array([pd.NA] * len(raw), dtype="boolean")
        values[true] = True
        values[false] = False
        values = pd.Series(values, index=raw.index)
        return values, (~empty & values.isna()).astype(bool), "true or false"
    raise AssertionError(f"unknown column kind {col.kind}")


def parse_table(
    raw: pd.DataFrame, schema: TableSchema, origin: str, line_offset: int | None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse ``raw`` (any dtypes, text from CSV) into canonical dtypes and check each cell.

    Columns the schema does not know are reported, not kept: nothing unknown reaches a
    canonical table (it could be personal data).
    """
    problems: list[Problem] = []

    def cell_problems(mask: pd.Series, column: str, message_for) -> None:
        for position in np.flatnonzero(mask.to_numpy()):
            value = raw[column].iloc[position] if column in raw else None
            problems.append(Problem(origin, message_for(value), int(position) + 1, column, line_offset))

    missing = [c for c in schema.required_columns if c not in raw.columns]
    for name in missing:
        problems.append(
            Problem(
                origin,
                f"required column is missing (table {schema.name} needs: {', '.join(schema.required_columns)})",
                column=name,
            )
        )
    unknown = [c for c in raw.columns if c not in schema.column_names]
    for name in unknown:
        problems.append(
            Problem(
                origin, f"unknown column for table {schema.name} (expected only: {', '.join(schema.column_names)})", column=name
            )
        )

    parsed: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name not in raw.columns:
            continue
        cells = _Cells(raw[col.name])
        values, bad, expected = _parse_column(cells, col)
        for mask, message in special_cells(cells, col):
            mask = mask.to_numpy(dtype=bool)
            cell_problems(pd.Series(mask, index=raw.index), col.name, lambda v, m=message: f"{m}: {_shown(v)}")
            bad = bad & ~mask
            if values.dtype == "float64" or str(values.dtype) == "Int64":
                values = values.mask(mask)
        cell_problems(bad, col.name, lambda v, e=expected: f"expected {e}, got {_shown(v)}")
        empty = cells.empty
        if not col.nullable:
            cell_problems(empty, col.name, lambda v: "a value is required here but the cell is empty")
        if col.minimum is not None:
            below = (values < col.minimum).fillna(False) & ~bad
            cell_problems(below, col.name, lambda v, m=col.minimum: f"expected a value >= {m:g}, got {_shown(v)}")
        if col.maximum is not None:
            above = (values > col.maximum).fillna(False) & ~bad
            cell_problems(above, col.name, lambda v, m=col.maximum: f"expected a value <= {m:g}, got {_shown(v)}")
        parsed[col.name] = values
    frame = pd.DataFrame(parsed, index=raw.index, copy=False)
    if isinstance(raw.index, pd.RangeIndex) and raw.index.start == 0 and raw.index.step == 1 and raw.index.name is None:
        return frame, problems  # already numbered 0..n-1: resetting would only copy the table
    return frame.reset_index(drop=True), problems


# --- checks within a table and across tables ---------------------------------------------


def _rows(mask: pd.Series) -> list[int]:
    return [int(i) + 1 for i in np.flatnonzero(mask.to_numpy())]


def check_table_rules(df: pd.DataFrame, schema: TableSchema, origin: str, line_offset: int | None) -> list[Problem]:
    """Unique keys and the rules of one table that involve several columns."""
    problems: list[Problem] = []

    def add(mask: pd.Series, column: str, message: str) -> None:
        for row in _rows(mask.fillna(False)):
            problems.append(Problem(origin, message, row, column, line_offset))

    key = [k for k in schema.key if k in df.columns]
    if len(key) == len(schema.key) and len(df):
        dup = df.duplicated(subset=key, keep="first")
        if dup.any():  # a key with an empty part is not a duplicate (it is reported as empty)
            dup &= df[key].notna().all(axis=1)
        for row in _rows(dup):
            values = ", ".join(f"{k}={df[k].iloc[row - 1]!r}" for k in key)
            problems.append(Problem(origin, f"duplicate key ({values}); each must be unique", row, key[0], line_offset))

    has = set(df.columns).__contains__
    if schema.name == "initiatives":
        if has("founded_on") and has("closed_on"):
            add(df["closed_on"] < df["founded_on"], "closed_on", "expected closed_on on or after founded_on")
        if has("closed_on") and has("observed_until"):
            add(df["closed_on"] > df["observed_until"], "closed_on", "expected closed_on on or before observed_until")
        if has("founded_on") and has("observed_until"):
            add(df["founded_on"] > df["observed_until"], "founded_on", "expected founded_on on or before observed_until")
        if has("joined_on") and has("founded_on"):
            add(df["joined_on"] < df["founded_on"], "joined_on", "expected joined_on on or after founded_on")
        if has("joined_on") and has("observed_until"):
            add(df["joined_on"] > df["observed_until"], "joined_on", "expected joined_on on or before observed_until")
    elif schema.name == "funding":
        if has("decided_on") and has("applied_on"):
            add(df["decided_on"] < df["applied_on"], "decided_on", "expected decided_on on or after applied_on")
        if {"status", "amount_granted", "amount_requested"} <= set(df.columns):
            granted = df["amount_granted"].fillna(0)
            # One hash pass over the statuses, then integer comparisons (-1: any other or empty).
            code = pd.Series(
                pd.Categorical(df["status"], categories=["rejected", "withdrawn", "pending", "partial", "granted"]).codes,
                index=df.index,
            )
            no_money = code.between(0, 2)
            add(
                no_money & (granted > 0), "amount_granted", "expected 0 or empty for a rejected, withdrawn or pending application"
            )
            add(
                (code == 3) & ((granted <= 0) | (granted >= df["amount_requested"])),
                "amount_granted",
                "expected 0 < amount_granted < amount_requested for status 'partial'",
            )
            add((code == 4) & (granted <= 0), "amount_granted", "expected amount_granted > 0 for status 'granted'")
            # Only 'granted' may exceed the request (a documented top-up); others never do.
            add(
                (code != 4) & (df["amount_requested"] >= 0) & (granted > df["amount_requested"]),
                "amount_granted",
                "expected amount_granted <= amount_requested unless status is 'granted'",
            )
    elif schema.name == "financials":
        pass
    elif schema.name == "assessments":
        if has("valuation") and has("instrument"):
            add(
                df["valuation"].notna() & (df["instrument"] != "equity"),
                "valuation",
                "a valuation is only expected for instrument 'equity'",
            )
        if has("interest_rate") and has("instrument"):
            add(
                df["interest_rate"].notna() & (df["instrument"] != "loan"),
                "interest_rate",
                "an interest rate is only expected for instrument 'loan'",
            )
    return problems


def _distinct_isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` as a boolean array, hashing the distinct values of ``allowed`` once."""
    return values.isin(pd.unique(allowed.to_numpy())).to_numpy(dtype=bool)


class _InitiativeLookup:
    """Row positions of initiative ids in the initiatives table, found once per table.

    Used only when the initiatives' ids are unique and present (otherwise the plain join
    runs, whose duplicates the key check reports). One hash lookup per row then serves the
    foreign key, the life-span checks and the phase order, with the results a join would give.
    """

    def __init__(self, initiatives: pd.DataFrame):
        self.index = pd.Index(initiatives["initiative_id"].to_numpy())
        self.life = {
            c: initiatives[c].to_numpy(dtype="datetime64[ns]")
            for c in ("founded_on", "closed_on", "observed_until")
            if c in initiatives.columns
        }
        self._positions: dict[str, np.ndarray] = {}

    def positions(self, table: str, ids: pd.Series) -> np.ndarray:
        """Position of each row's initiative in the initiatives table, -1 where there is none."""
        if table not in self._positions:
            self._positions[table] = self.index.get_indexer(ids.to_numpy())
        return self._positions[table]

    def joined(self, table: str, events: pd.DataFrame, column: str) -> pd.DataFrame:
        """``events[[column]]`` beside the initiative's dates (NaT where no initiative matches)."""
        where = self.positions(table, events["initiative_id"])
        missing = where < 0
        columns = {column: events[column]}
        for name, dates in self.life.items():
            taken = dates[np.where(missing, 0, where)] if len(dates) else np.full(len(where), np.datetime64("NaT"), "M8[ns]")
            taken[missing] = np.datetime64("NaT")
            columns[name] = pd.Series(taken, index=events.index)
        return pd.DataFrame(columns, index=events.index, copy=False)

    def phases_out_of_order(self, phases: pd.DataFrame) -> list[int] | None:
        """1-based rows dated before a phase ranked earlier for the same initiative, in the order
        of a sort by (initiative_id, phase rank); None if an id is unknown (the general path runs)."""
        where = self.positions("phases", phases["initiative_id"])
        known = where >= 0
        if not (known | phases["initiative_id"].isna().to_numpy()).all():
            return None
        phase = phases["phase"].to_numpy()
        rank = pd.Categorical(phase, categories=PHASES).codes.astype(np.int64)
        rank[rank < 0] = len(PHASES)  # an unknown or empty phase sorts last, like a missing rank
        keep = np.flatnonzero(known & (phase != "closed"))
        entered_on = phases["entered_on"].to_numpy(dtype="datetime64[ns]")

        def late_rows(group: np.ndarray) -> np.ndarray:
            # Rows sorted by (group, rank), stably; a row is late if dated before the one before it.
            sort = np.lexsort((rank[keep], group))
            order, same = keep[sort], group[sort]
            entered = entered_on[order]
            return order[1:][(same[1:] == same[:-1]) & (entered[1:] < entered[:-1])]

        # Grouping by position finds the same rows as grouping by id; only when there are any is
        # the (costlier) sort by the id's text needed, to list them in the order a sort by id gives.
        late = late_rows(where[keep])
        if len(late):
            id_rank = np.empty(len(self.index), dtype=np.int64)
            id_rank[np.argsort(self.index.to_numpy(), kind="stable")] = np.arange(len(self.index))
            late = late_rows(id_rank[where[keep]])
        return [int(r) + 1 for r in late]


def _initiative_lookup(initiatives: pd.DataFrame | None) -> _InitiativeLookup | None:
    if initiatives is None or "initiative_id" not in initiatives.columns:
        return None
    ids = initiatives["initiative_id"]
    if ids.isna().any() or not ids.is_unique:
        return None
    return _InitiativeLookup(initiatives)


def check_cross_table(tables: dict[str, pd.DataFrame], origins: dict[str, str], offsets: dict[str, int | None]) -> list[Problem]:
    """Foreign keys that must resolve and date order across initiatives and phases."""
    problems: list[Problem] = []
    lookup = _initiative_lookup(tables.get("initiatives"))
    for name, df in tables.items():
        schema = TABLES[name]
        for fk in schema.foreign_keys:
            target = tables.get(fk.table)
            if target is None or not set(fk.columns) <= set(df.columns):
                continue  # checked only against tables that are present
            here = df[list(fk.columns)]
            if lookup is not None and fk.table == "initiatives" and fk.columns == fk.target_columns == ("initiative_id",):
                # One hash lookup per row gives both the foreign key and the join used below.
                orphan = lookup.positions(name, here.iloc[:, 0]) < 0
                if orphan.any():  # an empty id is reported as empty, not as unknown
                    orphan &= here.iloc[:, 0].notna().to_numpy()
            else:
                there = target[list(fk.target_columns)].dropna()
                if len(fk.columns) == 1:
                    found = _distinct_isin(here.iloc[:, 0], there.iloc[:, 0])
                else:
                    found = pd.MultiIndex.from_frame(here).isin(pd.MultiIndex.from_frame(there))
                orphan = ~found & here.notna().all(axis=1).to_numpy()
            values = here.to_numpy()
            for position in np.flatnonzero(orphan):
                problems.append(
                    Problem(
                        origins[name],
                        f"{', '.join(fk.columns)}={values[position][0]!r} does not exist in table {fk.table}",
                        int(position) + 1,
                        fk.columns[0],
                        offsets[name],
                    )
                )

    initiatives = tables.get("initiatives")
    if initiatives is not None and {"initiative_id", "founded_on"} <= set(initiatives.columns):
        # Events must fall within the initiative's life: after founding, before closure and the cut-off.
        life = initiatives.set_index("initiative_id")[
            [c for c in ("founded_on", "closed_on", "observed_until") if c in initiatives.columns]
        ]
        for name, column in (("funding", "applied_on"), ("assessments", "assessed_on")):
            events = tables.get(name)
            if events is None or not {"initiative_id", column} <= set(events.columns):
                continue
            if lookup is not None:
                joined = lookup.joined(name, events, column)
            else:
                joined = events[["initiative_id", column]].join(life, on="initiative_id")
            for bound, mask, message in (
                (
                    "founded_on",
                    joined[column] < joined.get("founded_on"),
                    f"expected {column} on or after the initiative's founded_on",
                ),
                (
                    "closed_on",
                    joined[column] > joined.get("closed_on"),
                    f"expected {column} on or before the initiative's closed_on",
                ),
                (
                    "observed_until",
                    joined[column] > joined.get("observed_until"),
                    f"expected {column} on or before the initiative's observed_until",
                ),
            ):
                if bound in joined.columns:
                    for row in _rows(mask.fillna(False)):
                        problems.append(Problem(origins[name], message, row, column, offsets[name]))

    phases = tables.get("phases")
    if phases is not None and initiatives is not None and len(phases) and {"initiative_id", "entered_on"} <= set(phases.columns):
        dates = initiatives.set_index("initiative_id")[
            [c for c in ("founded_on", "closed_on", "observed_until") if c in initiatives.columns]
        ]
        if lookup is not None:
            joined = lookup.joined("phases", phases, "entered_on")
        else:
            joined = phases[["initiative_id", "phase", "entered_on"]].join(dates, on="initiative_id")
        checks = [
            (
                "founded_on",
                joined["entered_on"] < joined.get("founded_on"),
                "expected entered_on on or after the initiative's founded_on",
            ),
            (
                "closed_on",
                joined["entered_on"] > joined.get("closed_on"),
                "expected entered_on on or before the initiative's closed_on",
            ),
            (
                "observed_until",
                joined["entered_on"] > joined.get("observed_until"),
                "expected entered_on on or before the initiative's observed_until",
            ),
        ]
        for needed, mask, message in checks:
            if needed in joined.columns:
                for row in _rows(mask.fillna(False)):
                    problems.append(Problem(origins["phases"], message, row, "entered_on", offsets["phases"]))
        # Phases are entered in the order plan, start, growth, mature (closed may come any time).
        out_of_order = lookup.phases_out_of_order(phases) if lookup is not None else None
        if out_of_order is None:
            order = {p: i for i, p in enumerate(PHASES)}
            ranked = phases[["initiative_id", "phase", "entered_on"]].assign(
                rank=phases["phase"].map(order), row=np.arange(len(phases)) + 1
            )
            ranked = ranked[ranked["phase"] != "closed"].sort_values(["initiative_id", "rank"])
            previous = ranked.groupby("initiative_id")["entered_on"].shift()
            out_of_order = ranked.loc[ranked["entered_on"] < previous, "row"]
        for row in out_of_order:
            problems.append(
                Problem(
                    origins["phases"],
                    "expected phases entered in the order plan, start, growth, mature; this phase is dated before an earlier one",
                    int(row),
                    "entered_on",
                    offsets["phases"],
                )
            )
    return problems
