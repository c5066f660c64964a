"""Value parsers for imported sources: money, numbers, dates, booleans and categories.

Each parser takes one raw cell (text from CSV, or a native value from Excel, JSON or Parquet)
and returns a canonical Python value, or raises :class:`ValueProblem` with a message a
researcher can act on. Empty cells are handled by the caller; parsers never see them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd


class ValueProblem(ValueError):
    """One cell that cannot be read as the declared kind of value (a row-level problem)."""


def is_empty(value: object, na_values: frozenset[str] = frozenset()) -> bool:
    """None, NaN/NaT, blank text or one of the declared ``na_values``."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or (isinstance(value, np.floating) and np.isnan(value)):
        return True
    if isinstance(value, str):
        text = value.strip()
        return text == "" or text in na_values
    return False


def as_text(value: object) -> str:
    """A native cell as text: integral floats lose their '.0' (Excel turns 0363 into 363.0)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


# --- numbers and money -----------------------------------------------------------------------

DECIMAL_MARKS = (",", ".", "auto")
THOUSANDS_MARKS = (",", ".", " ", "'", "")

_CURRENCY = r"(?:€|eur|euro|euros|\$|us\$|usd|£|gbp)"
_LEADING_CURRENCY = re.compile(rf"^{_CURRENCY}\s*", re.IGNORECASE)
_TRAILING_CURRENCY = re.compile(rf"\s*{_CURRENCY}$", re.IGNORECASE)
_WHOLE_SUFFIX = re.compile(r"[.,](?:-|--|—|=)$")  # Dutch "2.500,-": whole euros
_GROUPING_SPACES = re.compile(r"[\s\u00a0\u202f'’]")


def parse_number(value: object, decimal: str = "auto", thousands: str | None = None, *, money: bool = False) -> float:
    """Read a number written in Dutch or English notation.

    ``decimal`` is the declared decimal mark ("," or "."), or "auto". Rules:

    * both marks present ("1.234,56", "1,234.56"): the last one is the decimal mark; it must
      agree with a declared mark, and the other must group digits by three;
    * one mark, once, that is the declared decimal mark: a decimal ("1.234" is 1.234 when
      decimal is ".", and 1234 when decimal is ",");
    * one mark that is not the declared decimal mark (or that occurs more than once): a
      thousands separator, and the digits must be grouped by three;
    * with ``decimal: auto`` a single mark followed by exactly three digits is ambiguous and
      refused ("declare decimal"); any other single mark is read as the decimal mark.

    With ``money=True`` a currency sign or code (€, EUR, $, USD, £, GBP) and the Dutch
    whole-amount suffix ",-" are accepted. Spaces and apostrophes may group thousands.

    >>> parse_number("€ 15.000", ",", money=True), parse_number("1,234.56", ".")
    (15000.0, 1234.56)
    """
    if isinstance(value, bool | np.bool_):
        raise ValueProblem(f"expected a number, got the boolean {value!r}")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    original = str(value).strip()
    text = original
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text.startswith(("-", "−")):
        negative, text = True, text[1:].strip()
    if money:
        text = _LEADING_CURRENCY.sub("", text)
        text = _TRAILING_CURRENCY.sub("", text)
        if text.startswith(("-", "−")):  # "€ -15"
            negative, text = True, text[1:].strip()
        if suffix := _WHOLE_SUFFIX.search(text):
            mark = suffix.group(0)[0]  # "2.500,-": the mark before the dash is the decimal mark
            if decimal in (",", ".") and mark != decimal:
                raise ValueProblem(f"{original!r} uses {mark!r} as decimal mark but the mapping declares decimal {decimal!r}")
            decimal = mark
            text = text[: suffix.start()]
    elif text.startswith("+"):
        text = text[1:]
    text = _GROUPING_SPACES.sub("", text)
    what = "an amount" if money else "a number"
    if not re.fullmatch(r"[\d.,]*\d[\d.,]*|\d+(?:\.\d+)?[eE][-+]?\d+", text):
        raise ValueProblem(f"cannot read {original!r} as {what}")
    if "e" in text.lower():
        number = float(text)
        return -number if negative else number
    marks = [c for c in text if c in ",."]
    kinds = set(marks)
    decimal_mark: str | None = None
    thousands_mark: str | None = None
    if len(kinds) == 2:
        decimal_mark = marks[-1]
        thousands_mark = "," if decimal_mark == "." else "."
        if text.count(decimal_mark) > 1:
            raise ValueProblem(f"cannot read {original!r} as {what}: the decimal mark {decimal_mark!r} occurs more than once")
        if decimal in (",", ".") and decimal_mark != decimal:
            raise ValueProblem(f"{original!r} uses {decimal_mark!r} as decimal mark but the mapping declares decimal {decimal!r}")
    elif len(kinds) == 1:
        mark = marks[0]
        after = text.rsplit(mark, 1)[1]
        if len(marks) > 1:
            thousands_mark = mark
        elif decimal in (",", "."):
            if mark == decimal:
                decimal_mark = mark
            else:
                thousands_mark = mark
        else:  # auto
            head = text.split(mark)[0]
            if len(after) == 3 and head not in ("", "0"):
                raise ValueProblem(
                    f"{original!r} is ambiguous: {mark!r} may be a decimal mark or a thousands separator; "
                    "declare decimal: ',' or '.' for this source or column"
                )
            decimal_mark = mark
    if thousands_mark is not None and thousands is not None and thousands in (",", ".", "") and thousands != thousands_mark:
        raise ValueProblem(
            f"{original!r} groups thousands with {thousands_mark!r} but the mapping declares thousands {thousands!r}"
        )
    integer, fraction = text, ""
    if decimal_mark is not None:
        integer, fraction = text.rsplit(decimal_mark, 1)
    if thousands_mark is not None:
        groups = integer.split(thousands_mark)
        if not (1 <= len(groups[0]) <= 3 and groups[0].isdigit() and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
            raise ValueProblem(
                f"cannot read {original!r} as {what}: {thousands_mark!r} would be a thousands separator here "
                f"(declared decimal mark {decimal!r}) but the digits are not grouped by three"
            )
        integer = "".join(groups)
    if not integer:
        integer = "0"
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueProblem(f"cannot read {original!r} as {what}")
    number = float(f"{integer}.{fraction}" if fraction else integer)
    return -number if negative else number


def apply_arithmetic(number: float, scale: float | None, divide_by: float | None, rounding: str | int | None) -> float:
    """Multiply by ``scale``, divide by ``divide_by``, then round (ceil, floor, nearest or N decimals)."""
    if scale is not None:
        number = number * scale
    if divide_by is not None:
        number = number / divide_by
    if rounding == "ceil":
        number = float(math.ceil(round(number, 9)))
    elif rounding == "floor":
        number = float(math.floor(round(number, 9)))
    elif rounding == "nearest":
        number = float(math.floor(number + 0.5))
    elif isinstance(rounding, int) and not isinstance(rounding, bool):
        number = round(number, rounding)
    return number


# --- dates -----------------------------------------------------------------------------------

DATE_FORMATS = ("auto", "iso", "dmy", "mdy")
DATE_PRECISION_RULES = ("keep", "first", "last", "middle")

MONTHS: dict[str, int] = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "febr": 2, "februari": 2, "february": 2,
    "mrt": 3, "maart": 3, "mar": 3, "march": 3,
    "apr": 4, "april": 4,
    "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "augustus": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oct": 10, "oktober": 10, "october": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip

_TIME = r"(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:z|[+-]\d{2}:?\d{2})?)?"
_ISO_DAY = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}")
_ISO_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ISO_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})")
_YEAR = re.compile(r"(\d{4})")
_NUMERIC_DAY = re.compile(rf"(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{4}}){_TIME}")
_NUMERIC_MONTH = re.compile(r"(\d{1,2})[-/.](\d{4})")
_NAMED_DAY = re.compile(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})")
_NAMED_DAY_US = re.compile(r"([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})")
_NAMED_MONTH = re.compile(r"([a-z]+)\.?\s+(\d{4})")


def _month(name: str, original: str) -> int:
    if name not in MONTHS:
        raise ValueProblem(f"cannot read {original!r} as a date: unknown month name {name!r}")
    return MONTHS[name]


def read_date(value: object, date_format: str = "auto") -> tuple[int, int | None, int | None]:
    """Split a date into (year, month, day); month/day are None for a partial date.

    ``iso`` accepts year-first forms only ("2018-12-05", "2018-12", "2018", "20181205");
    ``dmy``/``mdy`` also accept "05-12-2018" in that order; ``auto`` accepts both and reads
    day-first (the Dutch convention). Times and UTC offsets are dropped: the date is the one
    written in the source. Month names may be Dutch or English ("5 december 2018", "dec 2018").
    """
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.year, stamp.month, stamp.day
    original = as_text(value)
    text = original.strip().lower()
    if m := _ISO_DAY.fullmatch(text):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _ISO_COMPACT.fullmatch(text):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _ISO_MONTH.fullmatch(text):
        return int(m[1]), int(m[2]), None
    if m := _YEAR.fullmatch(text):
        return int(m[1]), None, None
    if date_format != "iso":
        if m := _NUMERIC_DAY.fullmatch(text):
            first, second = int(m[1]), int(m[2])
            day, month = (second, first) if date_format == "mdy" else (first, second)
            return int(m[3]), month, day
        if m := _NUMERIC_MONTH.fullmatch(text):
            return int(m[2]), int(m[1]), None
        if m := _NAMED_DAY.fullmatch(text):
            return int(m[3]), _month(m[2], original), int(m[1])
        if m := _NAMED_DAY_US.fullmatch(text):
            return int(m[3]), _month(m[1], original), int(m[2])
        if m := _NAMED_MONTH.fullmatch(text):
            return int(m[2]), _month(m[1], original), None
    expected = {
        "iso": "YYYY-MM-DD, YYYY-MM or YYYY",
        "dmy": "DD-MM-YYYY, MM-YYYY, YYYY or an ISO date",
        "mdy": "MM/DD/YYYY, MM-YYYY, YYYY or an ISO date",
        "auto": "an ISO date (YYYY-MM-DD) or DD-MM-YYYY",
    }[date_format]
    raise ValueProblem(f"cannot read {original!r} as a date (date_format {date_format}: expected {expected})")


def parse_date(value: object, date_format: str = "auto", precision_rule: str = "keep") -> tuple[dt.date, str]:
    """Return (date, precision) where precision is 'day', 'month' or 'year'.

    A partial date is filled by ``precision_rule``: ``first`` day of the month/year, ``last``
    day, or ``middle`` (the 15th of the month; 1 July of the year). ``keep`` fills nothing:
    a partial date is then a problem, because a canonical date column holds whole dates only.

    >>> parse_date("2018-12", precision_rule="last")
    (datetime.date(2018, 12, 31), 'month')
    """
    original = as_text(value)
    year, month, day = read_date(value, date_format)
    precision = "day" if day is not None else ("month" if month is not None else "year")
    if precision != "day":
        if precision_rule == "keep":
            raise ValueProblem(
                f"{original!r} is a partial date ({precision} only); declare date_precision: first, last or middle to fill it"
            )
        if month is None:
            month, day = {"first": (1, 1), "last": (12, 31), "middle": (7, 1)}[precision_rule]
        elif not 1 <= month <= 12:
            raise ValueProblem(f"cannot read {original!r} as a date: month {month} does not exist")
        else:
            day = {"first": 1, "last": calendar.monthrange(year, month)[1], "middle": 15}[precision_rule]
    try:
        return dt.date(year, month, day), precision
    except ValueError as error:
        hint = " (is the date_format right? mdy reads 02/13/2020, dmy reads 13-02-2020)" if "month must be" in str(error) else ""
        raise ValueProblem(f"cannot read {original!r} as a date: {error}{hint}") from None


# --- booleans and categories -----------------------------------------------------------------

TRUE_WORDS = frozenset({"ja", "j", "yes", "y", "true", "t", "waar", "1", "1.0"})
FALSE_WORDS = frozenset({"nee", "n", "no", "false", "f", "onwaar", "0", "0.0"})


def parse_bool(value: object) -> bool:
    """ja/nee, yes/no, true/false, waar/onwaar, 1/0 (any case)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return bool(value)
    text = as_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueProblem(f"cannot read {as_text(value)!r} as yes/no (expected ja/nee, yes/no, true/false, waar/onwaar or 1/0)")


def lookup(values: Mapping[str, object], text: str) -> tuple[bool, object]:
    """Find ``text`` in a value map: exact match first, then ignoring case and outer spaces."""
    if text in values:
        return True, values[text]
    folded = text.strip().casefold()
    for key, mapped in values.items():
        if key.strip().casefold() == folded:
            return True, mapped
    return False, None


def parse_category(value: object, vocabulary: tuple[str, ...], unknown: bool = False) -> str:
    """A value already in the canonical vocabulary (any case), else 'unknown' or a problem."""
    text = as_text(value)
    found, canonical = lookup({v: v for v in vocabulary}, text)
    if found:
        return str(canonical)
    if unknown:
        return "unknown"
    raise ValueProblem(f"unmapped category {text!r}: add it under values: (expected one of {', '.join(vocabulary)})")


def parse_municipality_code(value: object) -> str:
    """A CBS municipality code in any common spelling as text with the GM prefix.

    Spreadsheets often store codes as numbers, dropping the leading zeros; the code is a
    label, so it is restored to four digits and never kept as a number.

    >>> [parse_municipality_code(v) for v in ("GM0363", "0363", 363, "363.0", "gm 599")]
    ['GM0363', 'GM0363', 'GM0363', 'GM0363', 'GM0599']
    """
    text = as_text(value).strip().upper().replace(" ", "")
    match = re.fullmatch(r"(?:GM)?(\d{1,4})(?:\.0+)?", text)
    if not match:
        raise ValueProblem(f"{as_text(value)!r} is not a CBS municipality code (expected e.g. GM0363, 0363 or 363)")
    return "GM" + match.group(1).zfill(4)
