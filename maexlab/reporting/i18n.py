r"""Report languages: message catalogues (one per language) and locale formatting with Babel.

Every sentence, heading, label and vocabulary term a report shows comes from
``maexlab/reporting/messages/<language>/*.yaml``: one catalogue per language, one file per
topic (the file name is the key's namespace, so ``funding.yaml`` holds ``funding.*`` keys).
``tests/test_i18n.py`` checks that every key exists in every language with the same
placeholders, and that every vocabulary term of :mod:`maexlab.data.schema` has a label.

Placeholders name a *kind* after the colon and are formatted for the locale by Babel:

=================  ====================  =====================
placeholder        nl                    en
=================  ====================  =====================
``{x:percent}``    59%                   59%
``{x:percent1}``   59,3%                 59.3%
``{x:money}``      € 15.000              €15,000
``{x:count}``      1.234                 1,234
``{x:number}``     1.234,5               1,234.5
``{x:number2}``    0,52                  0.52
``{x:signed1}``    -11,7                 -11.7
``{x:signed2}``    -0,06                 -0.06
``{x:date}``       1 maart 2024          1 March 2024
``{x:term}``       overheidssubsidie     government subsidy
=================  ====================  =====================

A missing value (None or NaN) is shown as an en dash, never as ``nan``.

>>> m = Messages("nl")
>>> m.format("{share:percent} van {amount:money}", share=0.593, amount=15000)
'59% van €\xa015.000'
>>> Messages("en").format("{share:percent} of {amount:money}", share=0.593, amount=15000)
'59% of €15,000'
>>> Messages("en").term("government_subsidy")
'government subsidy'
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import string
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Messages", "catalogue", "messages"]

LANGUAGES: tuple[str, ...] = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
#: The Babel locale of each report language.
LOCALES: dict[str, str] = {"nl": "nl_NL", "en": "en_GB"}
CATALOGUE_DIR = Path(__file__).resolve().with_name("messages")
MISSING = "–"


def check_language(language: str) -> str:
    """Return ``language`` when it is a report language, else raise a clear ValueError."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}; got {language!r}")
    return language


def _flatten(prefix: str, node: Any, out: dict[str, str], origin: Path) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}", value, out, origin)
    elif isinstance(node, str):
        out[prefix] = node
    else:
        raise ValueError(f"{origin}: message {prefix!r} must be text, got {type(node).__name__}")


#: libyaml's parser with the safe constructor where PyYAML has it: the same messages in about a
#: tenth of the time (0.2 s of CPU for the two languages in pure Python, in every report process)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """All messages of one language: ``"namespace.key"`` -> text."""
    check_language(language)
    out: dict[str, str] = {}
    for path in sorted((CATALOGUE_DIR / language).glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}  # noqa: S506 - a safe loader
        _flatten(path.stem, data, out, path)
    return out


class _KindFormatter(string.Formatter):
    def __init__(self, messages: Messages):
        self.m = messages

    def format_field(self, value: Any, format_spec: str) -> str:
        kind = format_spec
        if kind in self.m.KINDS:
            return self.m.value(value, kind)
        if _is_missing(value):
            return MISSING
        return super().format_field(value, format_spec)


def _is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas' NA are missing; anything else (also a list) is not."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes: not a single missing value
        return False


class Messages:
    """Messages and locale formatting of one report language.

    Parameters
    ----------
    language : "nl" or "en"

    Examples
    --------
    >>> Messages("nl").value(0.5934, "percent1")
    '59,3%'
    >>> Messages("en").interval(0.59, 0.56, 0.62, "percent")
    '59% (56-62%)'
    """

    KINDS = (
        "percent",
        "percent1",
        "money",
        "count",
        "number",
        "number2",
        "number3",
        "signed1",
        "signed2",
        "signed3",
        "date",
        "term",
        "year",
    )

    def __init__(self, language: str = DEFAULT_LANGUAGE):
        self.language = check_language(language)
        self.locale = Locale.parse(LOCALES[language])
        self._formatter = _KindFormatter(self)

    # --- messages ----------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in catalogue(self.language)

    def text(self, key: str, **values: Any) -> str:
        """The message ``key`` with ``values`` filled in and formatted for the locale."""
        try:
            template = catalogue(self.language)[key]
        except KeyError:
            raise KeyError(f"no message {key!r} in the {self.language!r} catalogue ({CATALOGUE_DIR / self.language})") from None
        return self.format(template, **values)

    __call__ = text

    def format(self, template: str, **values: Any) -> str:
        try:
            return self._formatter.format(template, **values)
        except KeyError as missing:
            raise KeyError(f"message {template[:60]!r} needs a value for {missing}") from None

    def term(self, value: Any) -> str:
        """The label of a vocabulary term (``government_subsidy`` -> "overheidssubsidie")."""
        if _is_missing(value):
            return MISSING
        return catalogue(self.language).get(f"vocabulary.{value}", str(value))

    # --- numbers, money, dates -----------------------------------------------------------
    def value(self, value: Any, kind: str) -> str:
        """``value`` formatted as ``kind`` (see the module docstring)."""
        if kind == "term":
            return self.term(value)
        if _is_missing(value):
            return MISSING
        loc = self.locale
        if kind == "date":
            if isinstance(value, str):
                value = _dt.date.fromisoformat(value[:10])
            elif isinstance(value, _dt.datetime):  # pandas Timestamps too
                value = value.date()
            return format_date(value, format="long", locale=loc)
        number = float(value)
        if math.isinf(number):
            return "∞" if number > 0 else "-∞"
        if kind == "percent":
            return format_percent(number, format="#,##0%", locale=loc)
        if kind == "percent1":
            return format_percent(number, format="#,##0.0%", locale=loc)
        if kind == "money":
            return format_currency(round(number), "EUR", format=self._money_pattern, currency_digits=False, locale=loc)
        if kind in ("count", "year"):
            return str(round(number)) if kind == "year" else format_decimal(round(number), format="#,##0", locale=loc)
        if kind == "number":
            return format_decimal(number, format="#,##0.#", locale=loc)
        if kind in ("number2", "number3"):
            digits = int(kind[-1])
            return format_decimal(number, format="#,##0." + "0" * digits, locale=loc)
        if kind in ("signed1", "signed2", "signed3"):
            digits = "0" * int(kind[-1])
            return format_decimal(number, format=f"+#,##0.{digits};-#,##0.{digits}", locale=loc)
        raise ValueError(f"unknown value kind {kind!r}; expected one of {self.KINDS}")

    @functools.cached_property
    def _money_pattern(self) -> str:
        # The locale's own currency pattern ("¤ #,##0.00" in nl, "¤#,##0.00" in en), whole euros.
        return self.locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")

    def interval(self, estimate: Any, lo: Any, hi: Any, kind: str = "percent") -> str:
        """An estimate with its 95% interval: "59% (56-62%)", "0,52 (0,40 tot 0,67)"."""
        if _is_missing(estimate):
            return MISSING
        shown = self.value(estimate, kind)
        if _is_missing(lo) or _is_missing(hi):
            return shown
        low, high = self.value(lo, kind), self.value(hi, kind)
        if kind.startswith("percent"):
            low = low.rstrip("%").rstrip("\u00a0")
            return self.text("common.interval_percent", estimate=shown, lo=low, hi=high)
        return self.text("common.interval", estimate=shown, lo=low, hi=high)


@functools.cache
def messages(language: str = DEFAULT_LANGUAGE) -> Messages:
    """The shared :class:`Messages` of ``language``."""
    return Messages(language)
