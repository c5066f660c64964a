"""Defer imports that cost seconds and that reports almost never use.

``nbformat`` imports ``jsonschema``, whose format checkers import the optional
``rfc3987_syntax`` when it is installed (JupyterLab's dependencies bring it). That package
compiles 39 Lark grammars *at import*: 1 to 3 s of CPU in every process that reads a
notebook, which was the largest part of the runner's start (the runner itself reads the
parameter cells, the warm worker imports nbformat) and is used only to check the ``iri``
formats of a JSON schema, which neither nbformat nor the reports use.

:func:`defer_slow_imports` puts a stand-in for such a module into ``sys.modules``: it
offers the names ``jsonschema`` takes from it as functions that import the real module on
their first call, and any other attribute imports it too. So behaviour is unchanged (an
``iri`` check still validates, just later); only the cost moves to the first real use.
It does nothing for a module that is missing or already imported.

>>> defer_slow_imports()  # idempotent
>>> import sys
>>> name = "rfc3987_syntax"
>>> name not in sys.modules or isinstance(sys.modules[name], (Deferred, type(sys)))
True
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["DEFERRED", "Deferred", "defer_slow_imports"]

#: module name -> the names other modules import from it with ``from module import name``
DEFERRED: dict[str, tuple[str, ...]] = {"rfc3987_syntax": ("is_valid_syntax",)}


class Deferred(types.ModuleType):
    """Stand-in for a module not imported yet; the real one is imported on first use."""

    def __init__(self, name: str, spec: Any, names: tuple[str, ...]) -> None:
        super().__init__(name)
        self.__spec__ = spec
        self.__file__ = spec.origin
        if spec.submodule_search_locations is not None:
            self.__path__ = list(spec.submodule_search_locations)
        for attr in names:
            setattr(self, attr, self._forward(attr))

    def _real(self) -> types.ModuleType:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)

    def _forward(self, attr: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._real(), attr)(*args, **kwargs)

        call.__name__ = call.__qualname__ = attr
        call.__doc__ = f"{self.__name__}.{attr}, imported on first call."
        return call

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self._real(), attr)


def defer_slow_imports() -> None:
    """Install the stand-ins of :data:`DEFERRED` (call before ``nbformat`` is imported)."""
    for name, names in DEFERRED.items():
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue  # not installed: jsonschema skips it anyway
        sys.modules[name] = Deferred(name, spec, names)
