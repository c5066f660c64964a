"""One report, executed in the process this is called in (a forked child of the warm worker).

:func:`run_report` runs the notebook of a job spec with the chosen engine (in-process IPython
shell, or a Jupyter kernel), saves the partly executed notebook after every cell, and when it
stops writes ``<stem>.ipynb``, ``<stem>.html`` (with an "incomplete" banner when it stopped
early), ``.timings.json`` and ``.result.json`` into the report's staging folder (its working
directory). It never raises: the result says what happened.

Spec keys: ``key``, ``notebook`` (path), ``stem``, ``staging`` (the report's folder while it
runs), ``parameters`` (``output_dir`` is ``"."``: the staging folder), ``engine``
(``"inprocess"`` or ``"kernel"``), ``kernel_name``, ``control_dir`` (private scratch: kernel
connection file and sockets), ``timeout`` (seconds or None), ``pythonpath``, ``environ``.

Also the small I/O helpers every runner module uses (:func:`atomic_write_bytes`,
:func:`now_iso`) and :func:`export_html`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "RESULT_FILE",
    "TIMINGS_FILE",
    "ReportInterrupted",
    "ReportTimeout",
    "atomic_write_bytes",
    "atomic_write_text",
    "export_html",
    "now_iso",
    "run_report",
    "salvage_partial",
]

RESULT_FILE = ".result.json"
TIMINGS_FILE = ".timings.json"
WORKER_LOG = ".worker.log"


class ReportTimeout(BaseException):
    """Raised inside the running cell when the report's time is up (not an ``Exception``, so
    a notebook's ``except Exception`` cannot swallow it)."""


class ReportInterrupted(BaseException):
    """Raised inside the running cell when the runner stops the report (SIGTERM)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to a temporary file next to ``path`` and rename it over ``path``.

    ``durable=False`` skips the fsync (for scratch such as the partial notebook of a running
    report, which a crash of the whole machine may lose without harm).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def export_html(notebook_path: str | Path, html_path: str | Path, *, incomplete: str | None = None) -> None:
    """The report's HTML page: :func:`maexlab.runner.render.export_html` (imported only when a report is done)."""
    from maexlab.runner.render import export_html as render_export_html

    render_export_html(notebook_path, html_path, incomplete=incomplete)


def _render_export() -> Any:
    """The report export as :mod:`maexlab.runner.render` provides it (imported late: render imports this module)."""
    from maexlab.runner.render import export_html as render_export

    return render_export


def cell_seconds(timings: list[dict[str, Any]]) -> float:
    return round(sum(float(t.get("seconds") or 0) for t in timings), 4)


def _paths(spec: dict[str, Any]) -> dict[str, Path]:
    staging = Path(spec["staging"])
    stem = spec["stem"]
    return {
        "notebook": staging / f"{stem}.ipynb",
        "html": staging / f"{stem}.html",
        "partial": staging / f".{stem}.partial.ipynb",
        "journal": staging / f".{stem}.partial.jsonl",
        "timings": staging / TIMINGS_FILE,
        "result": staging / RESULT_FILE,
    }


class PartialNotebook:
    """The notebook of a running report as far as it got, kept on disk for a report that is killed.

    The notebook is written once when the report starts (``.<stem>.partial.ipynb``); after
    each cell only the cells that changed are appended to a journal beside it
    (``.<stem>.partial.jsonl``, one JSON line per cell), so the cost per cell is that cell's
    outputs, not the whole notebook again (which made saving quadratic in the outputs: about
    23 ms a report for notebook 01's 15 cells and 0.5 MB of figures). :func:`replay_journal`
    puts the two together again. ``changed=None`` (an engine that cannot tell) rewrites the
    notebook and starts a new journal.
    """

    def __init__(self, notebook: Path, journal: Path) -> None:
        self.notebook, self.journal = notebook, journal

    def save(self, nb: Any, changed: list[int] | None = None) -> None:
        if changed is None:
            # plain JSON (nbformat reads it back), without nbformat's copying and line splitting
            atomic_write_bytes(self.notebook, json.dumps(nb, ensure_ascii=False).encode("utf-8"), durable=False)
            self.journal.unlink(missing_ok=True)
            return
        lines = b"".join(
            json.dumps({"cell": i, "content": nb.cells[i]}, ensure_ascii=False).encode("utf-8") + b"\n" for i in changed
        )
        with open(self.journal, "ab") as fh:  # a line cut short by a kill is ignored when replayed
            fh.write(lines)

    def discard(self) -> None:
        self.notebook.unlink(missing_ok=True)
        self.journal.unlink(missing_ok=True)


def replay_journal(nb: Any, journal: Path) -> Any:
    """Apply a :class:`PartialNotebook` journal to the notebook read from its partial file.

    Lines are applied in order (a later line for a cell replaces an earlier one); a last line
    cut short by a kill, or a line for a cell the notebook does not have, is left out.

    >>> import nbformat, tempfile
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    >>> journal = Path(tempfile.mkdtemp()) / "j.jsonl"
    >>> PartialNotebook(journal.with_suffix(".ipynb"), journal).save(nb)  # the notebook itself
    >>> nb.cells[0].execution_count = 1
    >>> PartialNotebook(journal.with_suffix(".ipynb"), journal).save(nb, [0])
    >>> fresh = nbformat.read(str(journal.with_suffix(".ipynb")), as_version=4)
    >>> replay_journal(fresh, journal).cells[0].execution_count
    1
    """
    import nbformat

    try:
        raw = journal.read_bytes()
    except FileNotFoundError:
        return nb
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
            index = int(entry["cell"])
            cell = nbformat.from_dict(entry["content"])
        except (ValueError, KeyError, TypeError):
            continue
        if 0 <= index < len(nb.cells):
            nb.cells[index] = cell
    return nb


def salvage_partial(spec: dict[str, Any], reason: str) -> tuple[float | None, str | None]:
    """After a report process was killed: keep its partly executed notebook and export it.

    Returns (cell seconds, problem). Used by the supervisor, which outlives the report.
    """
    import nbformat

    paths = _paths(spec)
    if not paths["partial"].exists():
        return None, "no output notebook was written"
    try:
        nb = nbformat.read(str(paths["partial"]), as_version=4)
        replay_journal(nb, paths["journal"])
    except Exception as exc:  # noqa: BLE001 - a notebook cut off mid-write
        os.replace(paths["partial"], paths["notebook"].with_name(paths["notebook"].stem + ".unreadable.ipynb"))
        paths["journal"].unlink(missing_ok=True)
        return None, f"output notebook unreadable: {exc}"
    from maexlab.runner.record import finish, notebook_bytes

    running = [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("papermill", {}).get("status") == "running"]
    finish(nb, stopped_at=running[0] if running else len(nb.cells))
    atomic_write_bytes(paths["notebook"], notebook_bytes(nb))
    PartialNotebook(paths["partial"], paths["journal"]).discard()
    timings = []
    if paths["timings"].exists():
        try:
            timings = json.loads(paths["timings"].read_text(encoding="utf-8")).get("cells", [])
        except ValueError:
            timings = []
    try:
        _render_export()(paths["notebook"], paths["html"], incomplete=reason)
    except Exception as exc:  # noqa: BLE001
        return cell_seconds(timings), f"HTML export failed: {type(exc).__name__}: {exc}"
    return cell_seconds(timings), None


#: notebooks read once in the warm worker: path -> ((size, mtime_ns), notebook); a forked report takes its copy
_NOTEBOOKS: dict[str, tuple[tuple[int, int], Any]] = {}


def _stat_key(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def read_notebooks(paths: list[str]) -> dict[str, tuple[tuple[int, int], Any]]:
    """Read (and validate) these notebooks; unreadable ones are left to the report, which says why."""
    import nbformat

    out = {}
    for path in paths:
        try:
            key = _stat_key(path)
            out[path] = (key, nbformat.read(path, as_version=4))
        except Exception:  # noqa: BLE001 - the report's own read gives the error
            continue
    return out


def adopt_notebooks(notebooks: dict[str, tuple[tuple[int, int], Any]]) -> None:
    """Keep notebooks read by :func:`read_notebooks` for the reports forked from now on."""
    _NOTEBOOKS.update(notebooks)


def _read_source(path: str) -> Any:
    """The notebook at ``path``: the warm worker's copy when the file has not changed since, else read now."""
    import nbformat

    cached = _NOTEBOOKS.pop(path, None)  # this process's own copy (a forked report): it may change it
    if cached is not None:
        try:
            if _stat_key(path) == cached[0]:
                return cached[1]
        except OSError:
            pass
    return nbformat.read(path, as_version=4)


def _cell_label(nb: Any, index: int) -> str:
    count = nb.cells[index].get("execution_count")
    return f"cell {count}" if count else f"cell {index + 1}"


def _raise(exc_type: type[BaseException]) -> Any:
    def handler(signum: int, frame: Any) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        raise exc_type()

    return handler


def run_report(spec: dict[str, Any]) -> dict[str, Any]:
    """Execute the report of ``spec`` in this process; write its files and return its result."""
    from maexlab.runner.record import finish, notebook_bytes, prepare

    started, t0 = now_iso(), time.perf_counter()
    modules_before = set(sys.modules)
    paths = _paths(spec)
    staging = Path(spec["staging"])
    staging.mkdir(parents=True, exist_ok=True)
    os.chdir(staging)  # output_dir "." is the staging folder; no absolute path enters the notebook
    os.environ.update(spec.get("environ") or {})
    timeout = spec.get("timeout")
    signal.signal(signal.SIGTERM, _raise(ReportInterrupted))
    signal.signal(signal.SIGALRM, _raise(ReportTimeout))
    if timeout:
        signal.setitimer(signal.ITIMER_REAL, float(timeout))

    status, error, incomplete = "ok", None, None
    nb = None
    partial = PartialNotebook(paths["partial"], paths["journal"])
    timings: list[dict[str, Any]] = []
    outcome = None
    try:
        source = _read_source(spec["notebook"])
        nb = prepare(source, spec["parameters"], input_name=Path(spec["notebook"]).name, output_name=paths["notebook"].name)
        partial.save(nb)
        if spec.get("engine") == "kernel":
            from maexlab.runner.kernel_engine import execute_with_kernel

            outcome = execute_with_kernel(
                nb,
                kernel_name=spec.get("kernel_name") or "maexlab",
                cwd=str(staging),
                control_dir=spec["control_dir"],
                pythonpath=spec.get("pythonpath"),
                after_cell=partial.save,
                stop_exceptions=(ReportTimeout, ReportInterrupted),
            )
        else:
            from maexlab.runner.inprocess import execute_notebook
            from maexlab.runner.preload import install

            install()  # datasets the warm worker loaded: a copy each, filtered here

            outcome = execute_notebook(nb, after_cell=partial.save, stop_exceptions=(ReportTimeout, ReportInterrupted))
        signal.setitimer(signal.ITIMER_REAL, 0)
        timings = outcome.timings
        if outcome.stopped_at is not None:
            label = _cell_label(nb, outcome.stopped_at)
            if isinstance(outcome.exception, ReportTimeout):
                status, error = "timeout", f"timed out after {float(timeout or 0):g} s at {label}"
            elif isinstance(outcome.exception, ReportInterrupted):
                status, error = "interrupted", f"interrupted at {label}"
            else:
                status, error = "failed", f"{label}: {outcome.ename}: {outcome.evalue}"
            if status == "timeout":
                incomplete = f"stopped at {label}: Timeout: the report ran longer than {float(timeout or 0):g} s"
            elif status == "interrupted":
                incomplete = f"stopped at {label}: Interrupted: the run was stopped (Ctrl-C or SIGTERM)"
            else:
                incomplete = f"stopped at {label}: {outcome.ename}: {outcome.evalue}"
    except (ReportTimeout, ReportInterrupted) as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        status = "timeout" if isinstance(exc, ReportTimeout) else "interrupted"
        error = f"timed out after {float(timeout or 0):g} s" if status == "timeout" else "interrupted"
        incomplete = f"stopped: {error}"
    except Exception as exc:  # noqa: BLE001 - unreadable notebook, kernel that never started, ...
        signal.setitimer(signal.ITIMER_REAL, 0)
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        incomplete = f"not run: {error}"
        import traceback

        traceback.print_exc()
    # from here on a SIGTERM must not cut the files short; the supervisor kills after a grace period
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if nb is not None:
        try:
            finish(nb, stopped_at=None if status == "ok" else (outcome.stopped_at if outcome else 0))
            atomic_write_bytes(paths["notebook"], notebook_bytes(nb))
            partial.discard()
            _render_export()(paths["notebook"], paths["html"], incomplete=incomplete)
        except Exception as exc:  # noqa: BLE001
            if status == "ok":
                status = "failed"
            error = error or f"writing the report failed: {type(exc).__name__}: {exc}"
    seconds = cell_seconds(timings)
    # run records, not report content: no fsync (each costs several ms on a busy disk)
    # which modules the report had to import itself (the warm worker had not): each costs its cells time
    imported = sorted(set(sys.modules) - modules_before)
    timings_text = json.dumps({"cells": timings, "total": seconds, "imported": imported}, indent=1) + "\n"
    atomic_write_bytes(paths["timings"], timings_text.encode("utf-8"), durable=False)
    result = {
        "status": status,
        "error": error,
        "started": started,
        "finished": now_iso(),
        "duration": round(time.perf_counter() - t0, 4),
        "execution_time": seconds,
    }
    atomic_write_bytes(paths["result"], json.dumps(result).encode("utf-8"), durable=False)
    return result


def warm_up() -> None:
    """Build the HTML exporter and compile its templates once (in the warm worker)."""
    import tempfile

    import nbformat

    with tempfile.TemporaryDirectory(prefix="maexlab-warm-") as tmp:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# warm"), nbformat.v4.new_code_cell("1")])
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
        path = Path(tmp) / "warm.ipynb"
        nbformat.write(nb, str(path))
        _render_export()(path, Path(tmp) / "warm.html")
