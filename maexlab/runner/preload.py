"""Load and validate each dataset of a run once, in the warm worker; reports get a copy.

Loading and validating the embedded data takes about a second, which was most of notebook
00's cell time, and every report paid it again. The warm worker calls
:func:`maexlab.data.load` (the public function, unfiltered) once per data source of the run
(:func:`preload`). A forked report then calls :func:`install`, which makes ``load`` answer
the first call for a preloaded source with that dataset (the report's own copy, made by the
fork and never touched since), filtered in the report by
:meth:`MaexData.filter <maexlab.data.loader.MaexData.filter>` (province, municipality,
period), exactly as ``load`` itself filters after reading. Anything else (another source,
unknown keywords) goes to the real ``load``. A source that fails to load is not cached, so
the report's own ``load`` raises the same error it always did.

So a report sees what a fresh load would give: the same validated tables, its own copy (a
notebook that changes a table changes only its copy, in its own process; a second ``load``
of the same source reads afresh).

>>> preload([])
[]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["adopt", "cached_load", "install", "load_sources", "preload"]

_CACHE: dict[str, Any] = {}
_ORIGINAL: Any = None
_FILTERS = {"municipality", "province", "period"}


def load_sources(sources: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Load each source not preloaded yet; return (source -> dataset, problems of those that failed).

    Runs in the warm worker or in its short-lived loader child (see
    :mod:`~maexlab.runner.zygote`), which hands the datasets back pickled.
    """
    from maexlab.data import load

    datasets: dict[str, Any] = {}
    problems = []
    for source in sources:
        if source in _CACHE or source in datasets:
            continue
        try:
            datasets[source] = load(source)
        except Exception as exc:  # noqa: BLE001 - the report's own load reports it properly
            problems.append(f"{source}: {type(exc).__name__}: {exc}")
    return datasets, problems


def adopt(datasets: dict[str, Any]) -> None:
    """Keep these loaded datasets for the reports forked from now on."""
    for source, data in datasets.items():
        _CACHE.setdefault(source, data)


def preload(sources: list[str]) -> list[str]:
    """Load each source once (in the warm worker); return the problems of those that failed."""
    datasets, problems = load_sources(sources)
    adopt(datasets)
    return problems


def cached_load(source: Any = "embedded", **filters: Any) -> Any:
    """``maexlab.data.load`` answered from the warm worker's datasets when it can be.

    The first call for a source in a report gets the preloaded dataset itself, untouched
    since the fork (no copy to pay for), and the source leaves the cache: the report may
    change what it got, so a second call loads afresh, as it always did.
    """
    key = str(source) if isinstance(source, (str, Path)) else None
    if key is None or key not in _CACHE or set(filters) - _FILTERS:
        return _ORIGINAL(source, **filters)
    data = _CACHE.pop(key)
    if any(filters.get(k) is not None for k in _FILTERS):
        data = data.filter(**{k: filters.get(k) for k in _FILTERS})
    return data


def install() -> None:
    """In a forked report: route ``maexlab.load`` / ``maexlab.data.load`` through :func:`cached_load`."""
    global _ORIGINAL
    if not _CACHE or _ORIGINAL is not None:
        return
    import maexlab
    import maexlab.data
    import maexlab.data.loader

    _ORIGINAL = maexlab.data.loader.load
    for module in (maexlab.data.loader, maexlab.data, maexlab):
        if getattr(module, "load", None) is _ORIGINAL:
            module.load = cached_load
