"""Reading one mapped field for a whole source column at once.

Each distinct raw value is parsed once (:mod:`maexlab.mapping.parsers` says how), and common
notations of numbers and money are read with vectorised string kernels, so the cost grows with
the number of distinct values rather than with the number of rows. The result keeps, per row,
the canonical value or the problem that stops it (a quarantine reason).

>>> import pandas as pd
>>> from maexlab.data.schema import FUNDING
>>> from maexlab.mapping.spec import FieldSpec
>>> spec = FieldSpec("amount_requested", FUNDING.column("amount_requested"), "column", 1, "Bedrag", parse="money")
>>> read_field(spec, pd.Series(["€ 1.500", "veel", ""]), ReadContext(decimal=",")).values.tolist()
[1500.0, nan, nan]
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from maexlab.mapping import parsers
from maexlab.mapping.parsers import ValueProblem
from maexlab.mapping.spec import Condition, FieldSpec

#: The dates a canonical (nanosecond) date column can hold.
EARLIEST_DATE = dt.date(1677, 9, 22)
LATEST_DATE = dt.date(2262, 4, 11)

_CURRENCY = r"(?:€|EUR|eur|Eur|euro|\$|USD|usd|£|GBP)"


@dataclass
class ReadContext:
    """The source-level settings a field is read with."""

    na: frozenset[str] = frozenset()
    decimal: str = "auto"
    thousands: str | None = None
    date_format: str | None = None  # the column's decided day/month order, when it needed one


@dataclass
class ReadField:
    """One field read for every row: values, a problem message (or None) and its kind per row."""

    values: pd.Series
    problems: pd.Series  # object: message or None
    kinds: pd.Series  # object: problem kind or None
    precision: Counter = field(default_factory=Counter)
    unknown_filled: int = 0

    def failed(self) -> np.ndarray:
        return self.problems.notna().to_numpy()


def stripped(raw: pd.Series) -> pd.Series:
    """Trimmed text of an all-text column, with pyarrow's string kernels (not a Python loop)."""
    return raw.astype("string[pyarrow]").str.strip()


def empty_mask(raw: pd.Series, na: frozenset[str] = frozenset()) -> np.ndarray:
    """True where a cell is empty: None, NaN/NaT, blank text or one of ``na``."""
    missing = raw.isna().to_numpy()
    inferred = pd.api.types.infer_dtype(raw, skipna=True)
    if inferred == "string":
        text = stripped(raw)
        blank = (text == "") | (text.isin(na) if na else False)
        missing = missing | blank.fillna(False).to_numpy(dtype=bool)
    elif inferred in ("mixed", "mixed-integer"):
        text = raw.str.strip()  # non-text cells (Excel numbers) become NaN here: not blank
        blank = (text == "") | (text.isin(na) if na else False)
        missing = missing | blank.fillna(False).to_numpy(dtype=bool)
    return missing


def _all_text(raw: pd.Series) -> bool:
    return pd.api.types.infer_dtype(raw, skipna=True) == "string"


def as_texts(raw: pd.Series) -> pd.Series:
    """Every cell as trimmed text (native numbers without a trailing '.0'), None where missing."""
    if _all_text(raw):
        text = stripped(raw).astype(object)
        return text.where(raw.notna().to_numpy(), None)
    codes, uniques = pd.factorize(raw)
    shown = np.array([parsers.as_text(u) for u in uniques] + [None], dtype=object)
    return pd.Series(shown[codes], index=raw.index, dtype=object)


def condition_mask(condition: Condition, raw: pd.Series, na: frozenset[str]) -> np.ndarray:
    """Where a ``where:``/``when:`` condition holds (cells compared as trimmed text)."""
    empty = empty_mask(raw, na)
    if condition.op == "empty":
        return empty if condition.values[0] else ~empty
    texts = as_texts(raw)
    inside = texts.isin(condition.values).to_numpy() & ~empty
    return ~inside & ~empty if condition.op in ("not", "not_in") else inside


def _per_unique(raw: pd.Series, read) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Apply ``read(value) -> (result, problem, extra)`` once per distinct value."""
    codes, uniques = pd.factorize(raw)
    results, problems, extras = [], [], []
    for value in uniques:
        try:
            result, extra = read(value)
            results.append(result)
            problems.append(None)
            extras.append(extra)
        except ValueProblem as error:
            results.append(None)
            problems.append(str(error))
            extras.append(None)
    results.append(None)
    problems.append(None)
    extras.append(None)
    return codes, np.array(results, dtype=object), np.array(problems, dtype=object), extras


def _number_patterns(decimal: str, thousands: str | None, money: bool) -> tuple[str, str] | None:
    """A regular expression for the notations read without the careful parser, and the marks to drop."""
    currency = rf"(?:{_CURRENCY}\s?)?" if money else ""
    if decimal == "," and thousands in (None, "."):
        return rf"^{currency}-?(?:\d{{1,3}}(?:\.\d{{3}})+|\d+)(?:,\d+)?$", "."
    if decimal == "." and thousands in (None, ","):
        return rf"^{currency}-?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?$", ","
    if decimal in (",", "."):
        mark = r"\." if decimal == "." else ","
        return rf"^{currency}-?\d+(?:{mark}\d+)?$", ""
    return rf"^{currency}-?\d+(?:[.,]\d{{1,2}})?$", ""


def _fast_numbers(texts: pd.Series, decimal: str, thousands: str | None, money: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numbers in the common notations, vectorised; (values, which rows were read)."""
    pattern, grouping = _number_patterns(decimal, thousands, money)
    arrow = texts.astype("string[pyarrow]")
    fast = arrow.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    values = np.full(len(texts), np.nan)
    if fast.any():
        chosen = arrow[fast]
        keep = r"[^\d,.\-]" if not grouping else rf"[^\d,.\-]|\{grouping}"
        digits = chosen.str.replace(keep, "", regex=True).str.replace(",", ".", regex=False)
        values[fast] = digits.astype("float64").to_numpy()
    return values, fast


def _arithmetic(numbers: np.ndarray, spec: FieldSpec) -> np.ndarray:
    if spec.scale is not None:
        numbers = numbers * spec.scale
    if spec.divide_by is not None:
        numbers = numbers / spec.divide_by
    rounding = spec.round if spec.round is not None else (2 if spec.parse == "money" and spec.scale is not None else None)
    if rounding == "ceil":
        numbers = np.ceil(np.round(numbers, 9))
    elif rounding == "floor":
        numbers = np.floor(np.round(numbers, 9))
    elif rounding == "nearest":
        numbers = np.floor(numbers + 0.5)
    elif isinstance(rounding, int) and not isinstance(rounding, bool):
        # Python's round is exact on the decimal value; numpy's can differ by a cent.
        numbers = np.array([x if math.isnan(x) else round(x, rounding) for x in numbers], dtype=float)
    return numbers


def _date_value(value: Any, date_format: str, rule: str) -> tuple[np.datetime64, str]:
    date, precision = parsers.parse_date(value, date_format, rule)
    if not EARLIEST_DATE <= date <= LATEST_DATE:
        raise ValueProblem(
            f"{parsers.as_text(value)!r} is outside the dates a canonical date column can hold "
            f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}); if it stands for 'no date', "
            "declare it under the source's na_values"
        )
    return np.datetime64(date, "ns"), precision


def read_field(spec: FieldSpec, raw: pd.Series, context: ReadContext) -> ReadField:
    """Read one column-mapped field (mode ``column``) for every row of ``raw``."""
    n = len(raw)
    kind = spec.column.kind
    problems = np.full(n, None, dtype=object)
    kinds = np.full(n, None, dtype=object)
    result = ReadField(values=pd.Series(dtype=object), problems=pd.Series(dtype=object), kinds=pd.Series(dtype=object))

    mapped = np.zeros(n, dtype=bool)
    mapped_values = np.full(n, None, dtype=object)
    if spec.values:
        filled = ~empty_mask(raw)
        if filled.any():
            codes, uniques = pd.factorize(raw[filled])
            found = [parsers.lookup(spec.values, parsers.as_text(u)) for u in uniques]
            hit = np.array([f for f, _ in found], dtype=bool)[codes]
            value = np.array([v for _, v in found] + [None], dtype=object)[codes]
            where = np.flatnonzero(filled)
            mapped[where[hit]] = True
            mapped_values[where[hit]] = value[hit]
    empty = empty_mask(raw, context.na) & ~mapped
    todo = ~empty & ~mapped
    todo_raw = raw[todo]

    date_kind = kind == "date" and spec.parse == "date"
    number_parse = spec.parse in ("money", "number")
    if date_kind:
        out = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    elif number_parse and spec.greater_than is None:
        out = np.full(n, np.nan)
    else:
        out = np.full(n, None, dtype=object)

    if todo.any():
        where = np.flatnonzero(todo)
        if number_parse:
            numbers = np.full(len(where), np.nan)
            slow = np.ones(len(where), dtype=bool)
            decimal = spec.decimal or context.decimal
            thousands = spec.thousands if spec.thousands is not None else context.thousands
            if _all_text(todo_raw):
                numbers, fast = _fast_numbers(stripped(todo_raw), decimal, thousands, spec.parse == "money")
                slow = ~fast
            if slow.any():
                money = spec.parse == "money"
                codes, values, messages, _ = _per_unique(
                    todo_raw[slow], lambda v: (parsers.parse_number(v, decimal, thousands, money=money), None)
                )
                numbers[slow] = np.array([np.nan if v is None else v for v in values], dtype=float)[codes]
                problems[where[slow]] = messages[codes]
            bad = np.isinf(numbers)
            if bad.any():
                problems[where[bad]] = "expected a finite number, got infinity"
                numbers[bad] = np.nan
            numbers = _arithmetic(numbers, spec)
            if spec.greater_than is not None:
                out[where] = np.where(np.isnan(numbers), None, numbers > spec.greater_than)
            else:
                if kind == "int":
                    fractional = ~np.isnan(numbers) & (numbers != np.floor(numbers))
                    if fractional.any():
                        texts = as_texts(todo_raw[fractional]).to_numpy()
                        problems[where[fractional]] = [
                            f"{t!r} is not a whole number (declare round: ceil, floor or nearest)" for t in texts
                        ]
                        numbers[fractional] = np.nan
                out[where] = numbers
        elif date_kind:
            date_format = context.date_format or spec.date_format
            codes, values, messages, extras = _per_unique(todo_raw, lambda v: _date_value(v, date_format, spec.date_precision))
            stamps = np.array([np.datetime64("NaT", "ns") if v is None else v for v in values], dtype="datetime64[ns]")
            out[where] = stamps[codes]
            problems[where] = messages[codes]
            counts = np.bincount(codes[codes >= 0], minlength=len(extras))
            for extra, count in zip(extras, counts, strict=False):  # per distinct value, weighted by its rows
                if extra is not None and count:
                    result.precision[extra] += int(count)
        else:
            reader = {
                "bool": lambda v: (parsers.parse_bool(v), None),
                "municipality_code": lambda v: (parsers.parse_municipality_code(v), None),
            }.get(spec.parse)
            if spec.parse == "category" and spec.column.vocabulary:

                def reader(v):
                    category = parsers.parse_category(v, spec.column.vocabulary, spec.unknown)
                    filled = spec.unknown and category == "unknown" and parsers.as_text(v).casefold() != "unknown"
                    return category, filled

            if reader is None:
                out[where] = as_texts(todo_raw).to_numpy()
            else:
                codes, values, messages, extras = _per_unique(todo_raw, reader)
                out[where] = values[codes]
                problems[where] = messages[codes]
                result.unknown_filled += int(np.array([bool(e) for e in extras], dtype=bool)[codes].sum())

    if mapped.any():
        chosen = mapped_values[mapped]
        if date_kind:
            out[mapped] = np.array(
                [np.datetime64("NaT", "ns") if v is None else np.datetime64(v, "ns") for v in chosen], dtype="datetime64[ns]"
            )
        elif out.dtype == float:
            out[mapped] = np.array([np.nan if v is None else v for v in chosen], dtype=float)
        else:
            out[mapped] = chosen
    has_problem = problems != None  # noqa: E711 - elementwise on an object array
    kinds[has_problem] = [
        "unmapped category"
        if str(m).startswith("unmapped category")
        else "date out of range"
        if "outside the dates a canonical" in str(m)
        else "unreadable value"
        for m in problems[has_problem]
    ]
    result.values = pd.Series(out, index=raw.index)
    result.problems = pd.Series(problems, index=raw.index, dtype=object)
    result.kinds = pd.Series(kinds, index=raw.index, dtype=object)
    return result


def coalesced(frame: pd.DataFrame, columns: list[str], na: frozenset[str]) -> tuple[pd.Series, dict[str, int]]:
    """The first filled cell of ``columns`` per row, and how many rows each column supplied."""
    result = frame[columns[0]].copy()
    taken = ~empty_mask(result, na)
    used = {columns[0]: int(taken.sum())}
    for name in columns[1:]:
        candidate = frame[name]
        fill = ~taken & ~empty_mask(candidate, na)
        result = result.where(~fill, candidate)
        used[name] = int(fill.sum())
        taken |= fill
    used["(none filled)"] = int((~taken).sum())
    return result, used
