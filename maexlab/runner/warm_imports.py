"""Which modules the warm worker imports before it forks reports: what the run's notebooks use.

Every report process is forked from the warm worker, so a module the worker has imported costs
a report nothing, and a module it has not imported costs the report its import (in a cell)
and costs every report a larger process to fork. The worker therefore imports

* :data:`BASE`: what every report needs (the data stack, the report toolkit, the in-process
  engine and the HTML export);
* the modules the run's notebooks import in their code cells (:func:`analysis_modules`), where
  they belong to :data:`STACK` (maexlab and the analysis libraries it is built on; a user's
  own modules are left to the notebook, whose import may depend on the report's folder or
  environment), together with the modules a maexlab package imports only when a function
  first needs them (its ``LAZY_IMPORTS``, see :func:`lazy_imports`).

When the run's notebooks are not known it imports :data:`EVERYTHING` instead.

>>> "maexlab.funding.sections" in analysis_modules_of(["from maexlab.funding import sections"])
True
>>> analysis_modules_of(["import os", "import mypackage"])
[]
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["BASE", "EVERYTHING", "STACK", "analysis_modules", "analysis_modules_of", "lazy_imports"]

#: Imported for every run, in this order (``maexlab.data`` first: a data preload can start in
#: a loader child as soon as it is there).
BASE = (
    "maexlab.data",
    "numpy",
    "pandas",
    "matplotlib.pyplot",
    "maexlab.reporting",
    "maexlab.reporting.plots",  # the plot theme (seaborn), imported by a report's first figure
    # what pandas imports on first use when a report reshapes and writes its tables (CSV, JSON)
    # and shows them (HTML)
    "pandas.core.methods.to_dict",
    "pandas.core.reshape.reshape",
    "pandas.io.formats.csvs",
    "pandas.io.formats.html",
    "pandas.io.formats.string",
    "nbformat",
    "nbconvert",
    "papermill.translators",
)

#: Top-level packages a notebook's imports may bring into the warm worker.
STACK = frozenset({"maexlab", "numpy", "pandas", "scipy", "statsmodels", "lifelines", "sklearn", "matplotlib", "seaborn"})

#: Imported when the run's notebooks are not known: the whole analysis stack and every maexlab
#: package (with their lazy imports, added by :func:`analysis_modules`).
EVERYTHING = ("scipy.stats", "statsmodels.api", "lifelines", "seaborn")


def _code_cells(path: str | Path) -> list[str]:
    """The sources of a notebook's code cells; an unreadable notebook has none (the report says why)."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = nb.get("cells", [])
    except (OSError, ValueError, AttributeError):
        return []
    out = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out.append("".join(source) if isinstance(source, list) else str(source))
    return out


def _imported_names(source: str) -> list[str]:
    """Modules a cell imports (``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` and ``a.b``)."""
    # IPython syntax (magics, shell escapes) is not Python: leave those lines out
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*"]
    return names


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):  # a parent that is not a package
        return False


def analysis_modules_of(sources: Iterable[str]) -> list[str]:
    """The modules of :data:`STACK` these code sources import, in order of first use
    (``from a import b`` counts ``a.b`` only when that is a module)."""
    seen: dict[str, None] = {}
    for source in sources:
        for name in _imported_names(source):
            if name.split(".", 1)[0] in STACK and name not in seen and ("." not in name or _is_module(name)):
                seen.setdefault(name, None)
    return list(seen)


def lazy_imports(module: str) -> tuple[str, ...]:
    """What the maexlab package of ``module`` imports on first use (its ``LAZY_IMPORTS``)."""
    parts = module.split(".")
    if parts[0] != "maexlab" or len(parts) < 2:
        return ()
    try:
        package = importlib.import_module(".".join(parts[:2]))
    except Exception:  # noqa: BLE001 - the notebook's own import reports it
        return ()
    return tuple(getattr(package, "LAZY_IMPORTS", ()))


def analysis_modules(notebooks: list[str] | None) -> list[str]:
    """The modules to import after :data:`BASE` for a run of these notebooks (None: not known)."""
    if notebooks is None:
        import maexlab

        packages = [f"maexlab.{m.name}" for m in pkgutil.iter_modules(maexlab.__path__) if m.ispkg and m.name != "runner"]
        wanted = [*EVERYTHING, "maexlab", *packages]
    else:
        wanted = analysis_modules_of(cell for path in notebooks for cell in _code_cells(path))
    out: dict[str, None] = {}
    queue = list(wanted)
    while queue:  # a package's lazy imports may be maexlab packages with lazy imports of their own
        name = queue.pop(0)
        if name in out or name.startswith("maexlab.runner"):
            continue  # the runner's own modules are the worker's business
        out[name] = None
        queue[:0] = [extra for extra in lazy_imports(name) if extra not in out]
    return list(out)
