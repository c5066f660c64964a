"""The notebook toolkit: output folder, figures, tables and the results file every report writes.

>>> from maexlab.reporting import report
>>> out = report.resolve_output_dir(None, "00_data_profile")   # doctest: +SKIP
>>> report.save_results(out, {"headline": {"initiatives": 2500}})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from maexlab.data.io import atomic_write_bytes
from maexlab.reporting.privacy import DEFAULT_MIN_GROUP_SIZE, suppress_small_cells

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUTS_ROOT = REPO_ROOT / "outputs"
FIGURE_DPI = 100


def resolve_output_dir(parameter: str | Path | None, notebook: str) -> Path:
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


def data_requirements_note(data, needs: dict[str, tuple[str, ...]], section: str) -> str | None:
    """A sentence saying why ``section`` cannot be computed, or None when it can."""
    gaps = data.missing(needs)
    if not gaps:
        return None
    return f"Not computed: {section} needs {', '.join(gaps)}, which this dataset lacks."


class Report:
    """What one executed notebook needs: the loaded data, its output folder and its results.

    Notebooks call :func:`open_report` with their parameters, publish tables and figures
    through it, and call :meth:`save` at the end.

    Examples
    --------
    >>> r = open_report("00_data_profile", data_source="embedded", province="Zeeland",
    ...                 output_dir=None, echo=False)  # doctest: +SKIP
    >>> r.data.synthetic  # doctest: +SKIP
    True
    """

    def __init__(self, notebook: str, data, out: Path, parameters: dict[str, Any], min_group_size: int, seed: int):
        self.notebook = notebook
        self.data = data
        self.out = out
        self.parameters = parameters
        self.min_group_size = min_group_size
        self.seed = seed
        self.results: dict[str, Any] = {"headline": {}, "not_computed": {}}

    def table(self, table: pd.DataFrame, name: str, **options: Any) -> pd.DataFrame:
        """Publish a table (small groups suppressed, rounded, saved as CSV) and return it."""
        options.setdefault("min_group_size", self.min_group_size)
        return publish_table(table, self.out, name, **options)

    def figure(self, fig, name: str) -> Path:
        from maexlab.reporting.plots import synthetic_caption

        synthetic_caption(fig.axes[0], self.data.synthetic) if fig.axes else None
        return save_figure(fig, self.out, name)

    def requires(self, section: str, needs: dict[str, tuple[str, ...]]) -> bool:
        """True when ``section`` can be computed; otherwise says why and records it."""
        note = data_requirements_note(self.data, needs, section)
        if note is None:
            return True
        self._record_not_computed(section, note)
        return False

    def not_computed(self, section: str, reason: str) -> None:
        """Say (and record in results.json) that ``section`` could not be computed, and why."""
        self._record_not_computed(section, f"Not computed: {section}: {reason.rstrip('.')}.")

    def _record_not_computed(self, section: str, note: str) -> None:
        print(note)
        self.results["not_computed"][section] = note

    def headline(self, label: str, value: Any) -> None:
        self.results["headline"][label] = value

    def save(self) -> Path:
        self.results.update(
            notebook=self.notebook,
            parameters=self.parameters,
            synthetic=self.data.synthetic,
            data_notice=self.data.notice(),
            rows={name: (None if df is None else len(df)) for name, df in self.data.tables.items()},
        )
        return save_results(self.out, self.results)


def open_report(
    notebook: str,
    *,
    data_source: str = "embedded",
    province: str | None = None,
    municipality: str | None = None,
    period_start: int | None = None,
    period_end: int | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    seed: int = 20261128,
    output_dir: str | None = None,
    echo: bool = True,
) -> Report:
    """Load the data a notebook's parameters ask for and prepare its output folder.

    Prints where the data comes from (and that it is synthetic, when it is).
    """
    from maexlab.data.loader import load
    from maexlab.reporting.plots import set_theme

    period = None if period_start is None and period_end is None else (period_start, period_end)
    data = load(data_source, province=province, municipality=municipality, period=period)
    out = resolve_output_dir(output_dir, notebook)
    parameters = {
        "data_source": str(data_source),
        "province": province,
        "municipality": municipality,
        "period_start": period_start,
        "period_end": period_end,
        "min_group_size": min_group_size,
        "seed": seed,
    }
    set_theme()
    if echo:
        print(data.notice())
        scope = ", ".join(
            f"{k}={v}" for k, v in parameters.items() if v is not None and k not in ("seed", "min_group_size", "data_source")
        )
        print(f"Scope: {scope or 'national, all years'}; groups smaller than {min_group_size} are suppressed.")
    return Report(notebook, data, out, parameters, min_group_size, seed)
