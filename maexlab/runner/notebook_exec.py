"""Re-execute committed notebooks in place (``make notebooks``), deterministically.

Notebooks are committed executed on the embedded default so nbval can compare. Execution
metadata (timestamps, durations) is stripped so an unchanged result gives unchanged bytes.

Usage: ``python -m maexlab.runner.notebook_exec notebooks/*.ipynb``
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from maexlab.data.io import atomic_write_bytes

KERNEL_NAME = "maexlab"
TIMEOUT_SECONDS = 1200


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> None:
    """Drop per-run metadata (execution timings, papermill timestamps) from a notebook."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    nb.metadata.pop("papermill", None)
    nb.metadata.get("widgets", {}).clear()


def execute_in_place(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name=KERNEL_NAME, timeout=TIMEOUT_SECONDS, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    strip_volatile_metadata(nb)
    atomic_write_bytes(path, (nbformat.writes(nb) + "\n").encode("utf-8"))


def main(paths: list[str]) -> int:
    for name in paths:
        print(f"executing {name}", flush=True)
        execute_in_place(Path(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
