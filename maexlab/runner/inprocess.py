"""Execute a notebook inside this process with an IPython shell (no kernel).

Meant for a freshly forked child of the pre-warmed worker (:mod:`~maexlab.runner.zygote`):
the heavy imports are already done, nothing else has run in the process, and the process
ends with the report, so no state carries over to another report.

The shell records what a kernel would send: ``stream`` outputs (stdout and stderr, merged
while the same stream continues), ``display_data`` (``IPython.display.display`` of anything,
images as ``image/png``; matplotlib figures through the inline backend, as in Jupyter),
``execute_result`` of a cell's last expression, and ``error`` with IPython's traceback.
Execution stops at the first error unless the cell is tagged ``raises-exception``.

>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hi')\\n1 + 1")])
>>> outcome = execute_notebook(nb)  # doctest: +SKIP
>>> [o.output_type for o in nb.cells[0].outputs]  # doctest: +SKIP
['stream', 'execute_result']
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "execute_notebook", "warm_up"]


class _Sink:
    """Where the shell's outputs go: the outputs list of the cell that is running."""

    def __init__(self) -> None:
        self.outputs: list[Any] = []
        self.cell = -1  # index of the cell that is running
        self._clear_pending = False
        # Outputs shown with a display_id, so a later update_display can change them in place
        # (as Jupyter does: a report's findings are reserved at the top and filled in at the end),
        # with the index of the cell that holds each.
        self._by_display_id: dict[str, list[tuple[int, Any]]] = {}
        self.updated: set[int] = set()  # earlier cells whose outputs an update changed

    def _add(self, output: Any) -> None:
        if self._clear_pending:
            self.outputs.clear()
            self._clear_pending = False
        self.outputs.append(output)

    def stream(self, name: str, text: str) -> None:
        from nbformat.v4 import new_output

        if not text:
            return
        last = self.outputs[-1] if self.outputs and not self._clear_pending else None
        if last is not None and last.get("output_type") == "stream" and last.get("name") == name:
            last["text"] += text
        else:
            self._add(new_output("stream", name=name, text=text))

    def display(
        self, data: dict[str, Any], metadata: dict[str, Any] | None, display_id: str | None = None, update: bool = False
    ) -> None:
        from nbformat.v4 import new_output

        if update:
            for cell, output in self._by_display_id.get(display_id or "", []):
                output["data"], output["metadata"] = _jsonable(data), _jsonable(metadata or {})
                self.updated.add(cell)
            return
        output = new_output("display_data", data=_jsonable(data), metadata=_jsonable(metadata or {}))
        self._add(output)
        if display_id:
            self._by_display_id.setdefault(display_id, []).append((self.cell, output))

    def result(self, data: dict[str, Any], metadata: dict[str, Any] | None, count: int) -> None:
        from nbformat.v4 import new_output

        self._add(new_output("execute_result", data=_jsonable(data), metadata=_jsonable(metadata or {}), execution_count=count))

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        from nbformat.v4 import new_output

        self._add(new_output("error", ename=ename, evalue=evalue, traceback=list(traceback)))

    def clear(self, wait: bool) -> None:
        if wait:
            self._clear_pending = True
        else:
            self.outputs.clear()


def _jsonable(value: Any) -> Any:
    """Display data as the notebook format stores it: bytes become base64 text."""
    import base64

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


class _Stream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` while a cell runs."""

    def __init__(self, sink: _Sink, name: str) -> None:
        self._sink, self.name = sink, name

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._sink.stream(self.name, text)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


class _Route:
    """Where the shell's display hooks send outputs: the sink of the notebook being run.

    A level of indirection so the shell can be built before its notebook (in the warm
    worker, see :func:`warm_up`) and still fill that notebook's cells.
    """

    sink: _Sink | None = None


def _shell_classes(route: type[_Route] | _Route) -> tuple[type, type, type]:
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):  # noqa: ANN001
            route.sink.display(data, metadata, (transient or {}).get("display_id"), update)

        def clear_output(self, wait=False):  # noqa: ANN001
            route.sink.clear(wait)

    class Hook(DisplayHook):
        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict, md_dict=None) -> None:  # noqa: ANN001
            route.sink.result(format_dict, md_dict, self.prompt_count)

        def finish_displayhook(self) -> None:
            pass

    class Shell(InteractiveShell):
        def _showtraceback(self, etype, evalue, stb):  # noqa: ANN001
            route.sink.error(getattr(etype, "__name__", str(etype)), str(evalue), stb)

        def enable_gui(self, gui=None):  # noqa: ANN001 - no event loop here
            pass

    return Shell, Hook, Publisher


@dataclass
class Outcome:
    """How an execution ended: ``stopped_at`` is the index of the cell that stopped it (or None)."""

    stopped_at: int | None = None
    ename: str | None = None
    evalue: str | None = None
    exception: BaseException | None = None
    timings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cell_seconds(self) -> float:
        return round(sum(t["seconds"] for t in self.timings), 4)


def _new_shell(route: _Route) -> Any:
    from traitlets.config import Config

    shell_cls, hook_cls, pub_cls = _shell_classes(route)
    config = Config()
    config.HistoryManager.enabled = False  # no sqlite file shared between reports
    shell = shell_cls.instance(config=config, displayhook_class=hook_cls, display_pub_class=pub_cls)
    shell.enable_matplotlib("inline")  # figures become image/png display_data, as in a kernel
    return shell


#: a shell built by :func:`warm_up` that has never run a cell, with its route; used once
_READY: tuple[Any, _Route] | None = None


def _take_shell(sink: _Sink) -> Any:
    """A shell that has run nothing yet: the one built in the warm worker (once), else a new one."""
    global _READY
    if _READY is not None:
        shell, route = _READY
        _READY = None  # a second notebook in this process gets a shell of its own
    else:
        route = _Route()
        shell = _new_shell(route)
    route.sink = sink
    return shell


def execute_notebook(
    nb: Any,
    *,
    after_cell: Callable[[Any, list[int]], None] | None = None,
    stop_exceptions: tuple[type[BaseException], ...] = (),
) -> Outcome:
    """Run every code cell of ``nb`` in this process, filling outputs and execution counts.

    ``after_cell(nb, changed)`` runs after each cell with the indices of the cells that
    changed since the last call: the cell just run and any earlier cell whose output an
    ``update_display`` changed (the worker saves the partial notebook there).
    An exception of a type in ``stop_exceptions`` raised inside a cell (timeout, SIGTERM)
    is recorded as that cell's error and stops the run.
    """
    sink = _Sink()
    shell = _take_shell(sink)
    outcome = Outcome()
    saved = sys.stdout, sys.stderr
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            sink.outputs = cell.outputs = []
            sink.cell = index
            cell.metadata.setdefault("papermill", {})["status"] = "running"
            started = time.perf_counter()
            sys.stdout, sys.stderr = _Stream(sink, "stdout"), _Stream(sink, "stderr")
            try:
                result = shell.run_cell(cell.source, store_history=True, silent=False, cell_id=cell.get("id"))
            finally:
                sys.stdout, sys.stderr = saved
            seconds = time.perf_counter() - started
            outcome.timings.append({"cell": index, "id": cell.get("id"), "seconds": round(seconds, 4)})
            cell.execution_count = result.execution_count
            error = result.error_before_exec or result.error_in_exec
            tags = cell.metadata.get("tags", [])
            failed = error is not None and not ("raises-exception" in tags and not isinstance(error, stop_exceptions))
            cell.metadata["papermill"] = {"exception": failed, "status": "failed" if failed else "completed"}
            if after_cell is not None:
                after_cell(nb, sorted(sink.updated | {index}))
            sink.updated.clear()
            if failed:
                outcome.stopped_at = index
                outcome.ename = type(error).__name__
                outcome.evalue = str(error)
                outcome.exception = error
                break
    finally:
        sys.stdout, sys.stderr = saved
    return outcome


def warm_up(build_shell: bool = True) -> None:
    """Import what :func:`execute_notebook` needs (called once in the pre-warmed worker).

    With ``build_shell`` also build the shell the next :func:`execute_notebook` in this
    process (a forked report: each gets its own copy, which has run nothing) will use.
    """
    global _READY
    import bdb  # noqa: F401 - imported by the shell on every run_cell

    import IPython.core.interactiveshell  # noqa: F401
    import IPython.core.logger  # noqa: F401 - the shell's logger, built on first access
    import matplotlib

    matplotlib.use("module://matplotlib_inline.backend_inline")
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401
    import nbformat.v4  # noqa: F401
    import traitlets.config  # noqa: F401

    with contextlib.suppress(Exception):  # Pillow's image plugins, loaded by the first PNG a report saves
        import PIL.Image

        PIL.Image.preinit()

    if build_shell and _READY is None:
        route = _Route()
        _READY = (_new_shell(route), route)
