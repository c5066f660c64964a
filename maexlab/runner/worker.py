"""Execute one report in this process: papermill, then the HTML export.

The runner starts this file *by path* in a fresh process per report
(``python .../worker.py RESULT.json`` with the job spec as JSON on stdin), so it imports
nothing from ``maexlab`` before the notebook has run (only the HTML export, from
:mod:`maexlab.runner.render`, does) and it
can be killed as a whole on timeout. It also exits when its parent (the supervising runner)
disappears, and the kernel it starts does the same, so no orphans survive a killed run.

Spec keys: ``notebook`` (input path), ``out_dir``, ``output_notebook`` and ``output_html``
(final paths inside ``out_dir``), ``partial_notebook`` (where papermill writes while running),
``parameters``, ``kernel_name``, ``cwd``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # started by path: do not let sibling modules shadow installed ones


#: Imports that papermill/nbformat would pull in but a report process never uses; blocking
#: them saves seconds per report: jsonschema builds a full RFC 3987 grammar on import when
#: ``rfc3987_syntax`` is installed (only for "iri" formats, which notebook schemas do not use),
#: and papermill imports ``pyarrow`` only for its HDFS handler. Both imports are optional in
#: those libraries (they catch ImportError). The kernel is a separate process and unaffected.
UNUSED_IMPORTS = ("rfc3987_syntax", "pyarrow")


def block_unused_imports() -> None:
    for name in UNUSED_IMPORTS:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path`` and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
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


def cell_seconds(nb: Any) -> float:
    """Sum of the cells' execution times recorded by papermill (the notebook's own work)."""
    total = 0.0
    for cell in nb.get("cells", []):
        d = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if isinstance(d, (int, float)):
            total += float(d)
    return round(total, 4)


def salvage_partial(spec: dict[str, Any]) -> tuple[float | None, str | None]:
    """Move the partly executed notebook to its final name and export it; return (cell seconds, problem)."""
    import nbformat

    partial = Path(spec["partial_notebook"])
    final = Path(spec["output_notebook"])
    if not partial.exists():
        return None, "no output notebook was written"
    try:
        nb = nbformat.read(str(partial), as_version=4)
    except Exception as exc:  # noqa: BLE001 - a notebook cut off mid-write
        os.replace(partial, final.with_name(final.stem + ".unreadable.ipynb"))
        return None, f"output notebook unreadable: {exc}"
    os.replace(partial, final)
    try:
        export_html(final, spec["output_html"])
    except Exception as exc:  # noqa: BLE001
        return cell_seconds(nb), f"HTML export failed: {type(exc).__name__}: {exc}"
    return cell_seconds(nb), None


def execute(spec: dict[str, Any]) -> dict[str, Any]:
    """Run papermill and export the result; never raises, the result says what happened."""
    started, t0 = now_iso(), time.perf_counter()
    out_dir = Path(spec["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    status, error = "ok", None
    try:
        import papermill
        from papermill.exceptions import PapermillExecutionError

        try:
            papermill.execute_notebook(
                spec["notebook"],
                spec["partial_notebook"],
                parameters=spec["parameters"],
                kernel_name=spec.get("kernel_name") or "maexlab",
                cwd=spec.get("cwd"),
                progress_bar=False,
                log_output=False,
            )
        except PapermillExecutionError as exc:
            status = "failed"
            error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - kernel death, missing kernel, unreadable notebook
        status = "failed"
        error = f"{type(exc).__name__}: {exc}"
        sys.stderr.write(traceback.format_exc())
    execution_time, problem = salvage_partial(spec)
    if problem and status == "ok":
        status, error = "failed", problem
    return {
        "status": status,
        "error": error,
        "started": started,
        "finished": now_iso(),
        "duration": round(time.perf_counter() - t0, 4),
        "execution_time": execution_time,
    }


def _watch_parent(parent_pid: int) -> None:
    """Exit when the supervising process is gone (the kernel's own poller then follows)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(3)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: worker.py RESULT.json < SPEC.json\n")
        return 2
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    block_unused_imports()
    spec = json.load(sys.stdin)
    result = execute(spec)
    atomic_write_text(argv[1], json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
