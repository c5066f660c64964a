"""Bring your own data: import external files into the canonical model through a YAML mapping.

>>> from maexlab.mapping import import_mapping
>>> report = import_mapping("docs/examples/kiva.yaml", "outputs/kiva")   # doctest: +SKIP
>>> report.tables                                                           # doctest: +SKIP
{'funding': 1218}

The format is described in ``docs/importing.md``. Modules: :mod:`~maexlab.mapping.spec` (the
YAML format and its checks), :mod:`~maexlab.mapping.parsers` (money, numbers, dates, yes/no,
categories: one value), :mod:`~maexlab.mapping.columns` (one field for a whole column at once),
:mod:`~maexlab.mapping.date_order` (the day/month order of a date column, decided once),
:mod:`~maexlab.mapping.sources` (reading CSV, Excel, JSON, JSON lines, Parquet) and
:mod:`~maexlab.mapping.importer` (where/duplicates/events, quarantine with primary reasons,
the guards against near-total loss, the import report).
"""

from __future__ import annotations

import argparse
import sys

from maexlab.mapping.importer import DEFAULT_MAX_QUARANTINE, ImportRefused, ImportReport, MappingReport, import_mapping
from maexlab.mapping.parsers import ValueProblem
from maexlab.mapping.spec import MappingError, load_mapping

__all__ = [
    "ImportRefused",
    "ImportReport",
    "MappingError",
    "MappingReport",
    "ValueProblem",
    "import_command",
    "import_mapping",
    "load_mapping",
]


def _source_overrides(args: argparse.Namespace) -> dict[str, str]:
    """``--source NAME=PATH`` (repeatable), if the command line offers it; a bare PATH names the only mapping."""
    given = getattr(args, "source", None) or []
    if isinstance(given, str):
        given = [given]
    overrides: dict[str, str] = {}
    for item in given:
        name, sep, path = item.partition("=")
        overrides[name if sep else "*"] = path if sep else item
    return overrides


def _given(args: argparse.Namespace, name: str, default: float) -> float:
    value = getattr(args, name, None)
    return default if value is None else float(value)


def import_command(args: argparse.Namespace) -> int:
    """``maexlab data import MAPPING.yaml --out DIR``: 0 on success, 2 on a mapping problem, 3 when refused.

    Refused (nothing written): a block quarantined more than ``--max-quarantine`` of its rows
    (default 50%), or a table the mapping fills came out empty (unless ``--allow-empty``).
    """
    overrides = _source_overrides(args)
    try:
        if "*" in overrides:
            spec = load_mapping(args.mapping)
            names = [t.name for t in spec.tables if t.source is not None]
            if len(names) != 1:
                raise MappingError([f"--source PATH needs NAME=PATH here: the mapping has several sources ({', '.join(names)})"])
            overrides[names[0]] = overrides.pop("*")
        report = import_mapping(
            args.mapping,
            args.out,
            sources=overrides,
            max_quarantine=_given(args, "max_quarantine", DEFAULT_MAX_QUARANTINE),
            allow_empty=bool(getattr(args, "allow_empty", False)),
        )
    except ImportRefused as error:
        print(error, file=sys.stderr)
        return 3
    except MappingError as error:
        print(error, file=sys.stderr)
        return 2
    print(report.summary())
    return 0
