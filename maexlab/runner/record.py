"""The executed notebook's record: papermill-compatible, and the same bytes for the same inputs.

Both engines (:mod:`~maexlab.runner.inprocess` and :mod:`~maexlab.runner.kernel_engine`)
prepare and finish a notebook with these helpers, so their reports look alike:

* :func:`prepare` clears old outputs, gives every cell a stable id, and inserts the cell
  tagged ``injected-parameters`` (written by papermill's translator, id ``injected-parameters``)
  after the cell tagged ``parameters``, as papermill does;
* :func:`finish` merges consecutive stream outputs of the same stream, and writes the
  papermill metadata *without* timestamps or absolute paths: ``metadata.papermill`` holds the
  parameters, the input and output file names, the papermill version and whether an
  exception stopped the run; each code cell holds ``status`` and ``exception``. Cell timings
  live beside the notebook in the hidden run record ``.timings.json``;
* :func:`notebook_bytes` serialises without schema validation (fast, nbformat's own layout).

>>> import nbformat
>>> cell = {"cell_type": "code", "source": "x = 1", "metadata": {"tags": ["parameters"]}, "outputs": []}
>>> old = nbformat.from_dict({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [cell]})  # no cell ids
>>> nb = prepare(old, {"x": 2}, input_name="a.ipynb", output_name="a.ipynb")
>>> [c.id for c in nb.cells], nb.cells[1].source.splitlines()[-1]
(['cell-0', 'injected-parameters'], 'x = 2')
"""

from __future__ import annotations

from typing import Any

__all__ = ["INJECTED_ID", "CellTiming", "finish", "merge_streams", "notebook_bytes", "prepare"]

INJECTED_ID = "injected-parameters"
CellTiming = dict[str, Any]


def _papermill_version() -> str | None:
    try:
        import papermill

        return papermill.__version__
    except ImportError:  # pragma: no cover - papermill is a dependency
        return None


def _parameter_source(parameters: dict[str, Any], kernel_name: str, language: str) -> str:
    try:
        from papermill.translators import translate_parameters

        return translate_parameters(kernel_name, language, parameters, "Parameters")
    except ImportError:  # pragma: no cover
        return "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())


def prepare(nb: Any, parameters: dict[str, Any], *, input_name: str, output_name: str) -> Any:
    """Return the notebook ready to run: outputs cleared, stable ids, parameters injected."""
    import nbformat

    # nbformat's upgrade to 4.5 gives id-less cells *random* ids: note them, and number them instead
    idless = {i for i, c in enumerate(nb.cells) if not isinstance(c.get("id"), str) or not c.get("id")}
    nb = nbformat.v4.upgrade(nb)
    for i in idless:
        nb.cells[i].id = ""
    kernelspec = nb.metadata.get("kernelspec", {})
    language = nb.metadata.get("language_info", {}).get("name") or kernelspec.get("language") or "python"
    kernel_name = kernelspec.get("name") or "python3"
    cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    injected = nbformat.v4.new_code_cell(source=_parameter_source(parameters, kernel_name, language))
    injected.metadata["tags"] = ["injected-parameters"]
    injected.id = INJECTED_ID
    at = next((i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    cells.insert(at, injected)
    seen: set[str] = set()
    for i, cell in enumerate(cells):
        # a notebook written before cell ids (or with duplicates) gets ids from positions, never random ones
        cid = cell.get("id")
        if not isinstance(cid, str) or not cid or cid in seen:
            cid = f"cell-{i}"
            while cid in seen:
                cid += "x"
            cell.id = cid
        seen.add(cid)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
            cell.metadata["papermill"] = {"exception": False, "status": "pending"}
    nb.cells = cells
    nb.metadata["papermill"] = {
        "default_parameters": {},
        "environment_variables": {},
        "exception": None,
        "input_path": input_name,
        "output_path": output_name,
        "parameters": dict(parameters),
        "version": _papermill_version(),
    }
    return nb


def merge_streams(outputs: list[Any]) -> list[Any]:
    """Join consecutive stream outputs of the same stream (a kernel splits them at random points)."""
    merged: list[Any] = []
    for out in outputs:
        if (
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            merged[-1]["text"] = merged[-1]["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def finish(nb: Any, *, stopped_at: int | None) -> Any:
    """Merge streams and mark the run's outcome; ``stopped_at`` is the index of the cell that stopped it."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
            cell.metadata.pop("execution", None)
    nb.metadata.setdefault("papermill", {})["exception"] = stopped_at is not None
    return nb


def notebook_bytes(nb: Any) -> bytes:
    """The notebook as nbformat writes it (sorted keys, one-space indent), without validation."""
    from nbformat import v4

    return (v4.writes(nb) + "\n").encode("utf-8")
