"""The notebook toolkit: output folder, figures, tables and the results file every report writes.

>>> from maexlab import report
>>> out = report.output_dir(None, "00_data_profile")   # doctest: +SKIP
>>> report.save_results(out, {"headline": {"initiatives": 2500}})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from maexlab.io import atomic_write_bytes
from maexlab.privacy import DEFAULT_MIN_GROUP_SIZE, suppress_small_cells

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUTS_ROOT = REPO_ROOT / "outputs"
FIGURE_DPI = 100


def output_dir(parameter: str | Path | None, notebook: str) -> Path:
    """Resolve a notebook's ``output_dir`` parameter: None means outputs/<notebook>/.

    Creates ``figures/`` and ``tables/`` inside it.
    """
    folder = OUTPUTS_ROOT / notebook if parameter in (None, "") else Path(parameter)
    for sub in ("figures", "tables"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig, out: Path, name: str) -> Path:
    """Save a matplotlib figure as a light PNG in ``out/figures``; returns the path."""
    path = out / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    import io

    buffer = io.BytesIO()
    # No timestamp or software tag in the PNG, so reruns give the same bytes.
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})
    atomic_write_bytes(path, buffer.getvalue())
    return path


def publish_table(
    table: pd.DataFrame,
    out: Path,
    name: str,
    *,
    count_column: str | None = "n",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    keep: tuple[str, ...] = (),
    decimals: int = 4,
) -> pd.DataFrame:
    """Suppress small groups (when the table has a count column), round, save as CSV, return it.

    Every group table a report shows should go through here, so what is displayed is
    exactly what is published.
    """
    shown = table
    if count_column is not None:
        shown = suppress_small_cells(table, count_column=count_column, min_group_size=min_group_size, keep=keep)
    shown = shown.round(decimals)
    path = out / "tables" / f"{name}.csv"
    atomic_write_bytes(path, shown.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return shown


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def save_results(out: Path, results: dict[str, Any]) -> Path:
    """Write ``results.json``: key estimates for tests and the runner's index.

    Put a few headline numbers under ``results["headline"]`` (label -> number).
    """
    path = out / "results.json"
    text = json.dumps(_jsonable(results), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def read_results(out: Path) -> dict[str, Any]:
    return json.loads((Path(out) / "results.json").read_text(encoding="utf-8"))


def data_requirements_note(data, needs: dict[str, tuple[str, ...]], section: str) -> str | None:
    """A sentence saying why ``section`` cannot be computed, or None when it can."""
    gaps = data.missing(needs)
    if not gaps:
        return None
    return f"Not computed: {section} needs {', '.join(gaps)}, which this dataset lacks."
