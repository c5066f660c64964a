"""The ground floor: canonical tables, their validation, reading and writing, and the generator.

Knows nothing of analyses, reports or the runner (``tests/test_layout.py`` keeps it so).

Modules
    :mod:`~maexlab.data.schema` closed vocabularies and one schema per canonical table
    :mod:`~maexlab.data.schema_doc` the schema rendered as Markdown for data/README.md
    :mod:`~maexlab.data.validation` parsing raw frames into canonical dtypes, every problem named
    :mod:`~maexlab.data.io` reading dataset folders and DuckDB files, atomic writes
    :mod:`~maexlab.data.loader` :class:`MaexData` and :func:`load` (filters by place and period)
    :mod:`~maexlab.data.phases` the phase an initiative was in on a date
    :mod:`~maexlab.data.profile` counts and missingness (notebook 00)
    :mod:`~maexlab.data.synth` the generator of the embedded synthetic data

>>> from maexlab.data import load
>>> load("embedded", province="Zeeland").synthetic   # doctest: +SKIP
True
"""

from maexlab.data.loader import EMBEDDED_DIR, MaexData, load, validate_raw
from maexlab.data.validation import DataValidationError, Problem

__all__ = ["EMBEDDED_DIR", "DataValidationError", "MaexData", "Problem", "load", "validate_raw"]
