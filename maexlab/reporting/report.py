"""The notebook toolkit: output folder, figures, tables and the results file every report writes.

>>> from maexlab.reporting import report
>>> out = report.resolve_output_dir(None, "00_data_profile")   # doctest: +SKIP
>>> report.save_results(out, {"headline": {"initiatives": 2500}})  # doctest: +SKIP
"""

from __future__ import annotations

import html
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from maexlab.data.io import atomic_write_bytes
from maexlab.reporting.disclosure import DOMINANCE_K, DOMINANCE_N, P_PERCENT, MagnitudeRules
from maexlab.reporting.display import Col, DisplayTable, display_table
from maexlab.reporting.i18n import DEFAULT_LANGUAGE, Messages, check_language, messages
from maexlab.reporting.preconditions import Needs, unmet
from maexlab.reporting.privacy import DEFAULT_MIN_GROUP_SIZE, suppress_small_cells
from maexlab.reporting.verdicts import Reason, Verdict

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


FINDINGS_DISPLAY_ID = "maexlab-findings"
_BANNER_STYLE = {
    "synthetic": "background:#fdecea;border:1px solid #b22222;color:#7a1010",
    "real": "background:#eef4fb;border:1px solid #2b5d8c;color:#173a5e",
    "incomplete": "background:#fff4e5;border:1px solid #b35c00;color:#6b3700",
}


class _Rich:
    """An output with an HTML form for notebooks and reports and a plain-text form for nbval and logs."""

    def __init__(self, html_text: str, plain: str):
        self._html, self._plain = html_text, plain

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._plain


def _display(obj: Any, **kwargs: Any) -> None:
    from IPython.display import display

    display(obj, **kwargs)


class Report:
    """What one executed notebook needs: the loaded data, its output folder, its language and results.

    Notebooks call :func:`open_report` with their parameters, then the package's section
    functions, which publish tables and figures through the report, and end with
    :meth:`finish`. Every sentence comes from the message catalogue of ``language``.

    Examples
    --------
    >>> r = open_report("00_data_profile", data_source="embedded", province="Zeeland",
    ...                 output_dir=None, echo=False)  # doctest: +SKIP
    >>> r.data.synthetic  # doctest: +SKIP
    True
    >>> r.t("common.verdict.supported")  # doctest: +SKIP
    'ondersteund'
    """

    def __init__(
        self,
        notebook: str,
        data,
        out: Path,
        parameters: dict[str, Any],
        min_group_size: int,
        seed: int,
        language: str = DEFAULT_LANGUAGE,
        magnitude_rules: MagnitudeRules | None = None,
    ):
        self.notebook = notebook
        self.data = data
        self.out = out
        self.parameters = parameters
        self.min_group_size = min_group_size
        self.seed = seed
        self.language = check_language(language)
        #: dominance and p% rule parameters for the euro tables (report parameters of 01 and 04)
        self.magnitude_rules = magnitude_rules or MagnitudeRules()
        #: the run's whole dataset (every place, same period) for linked suppression; None: the data itself
        self.population = None
        self.m: Messages = messages(self.language)
        self.results: dict[str, Any] = {
            "headline": {},
            "not_computed": {},
            "verdicts": {},
            "findings": [],
            "disclosure_rules": {"min_group_size": min_group_size, **self.magnitude_rules.as_dict()},
        }
        self._findings: list[str] = []

    # --- text ----------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> str:
        """The message ``key`` in the report's language, with ``values`` formatted for its locale."""
        return self.m.text(key, **values)

    def reason_text(self, reason: Reason) -> str:
        return self.t(reason.key, **reason.values)

    def heading(self, key: str, level: int = 2, **values: Any) -> None:
        """Show a section heading from the catalogue."""
        text = self.t(key, **values)
        _display(_Rich(f"<h{level}>{html.escape(text)}</h{level}>", f"{'#' * level} {text}"))

    def say(self, key: str, **values: Any) -> str:
        """Show one paragraph from the catalogue (returns the text)."""
        text = self.t(key, **values)
        _display(_Rich(f"<p>{html.escape(text)}</p>", text))
        return text

    def banner(self, kind: str, text: str) -> None:
        """A visible banner (synthetic data, declared real data, an incomplete report)."""
        style = _BANNER_STYLE[kind]
        block = f'<div class="maexlab-banner maexlab-{kind}" role="note" style="{style};padding:.6em .9em;margin:.6em 0;font-weight:600">{html.escape(text)}</div>'
        _display(_Rich(block, text))

    # --- intro and findings ------------------------------------------------------------------
    def intro(self) -> None:
        """Title, question, the data banner and the scope, generated from the loaded data."""
        key = f"notebooks.{self.notebook}"
        if self.m.has(f"{key}.title"):
            self.heading(f"{key}.title", level=1)
            self.say(f"{key}.question")
        if self.data.synthetic:
            self.banner("synthetic", self.t("common.synthetic_banner"))
        else:
            self.banner("real", self.t("common.real_banner", source=self.data.metadata.get("description") or self.data.source))
        for line in self.scope_lines():
            _display(_Rich(f"<p>{html.escape(line)}</p>", line))

    def scope_lines(self) -> list[str]:
        """The scope in words: place, period, size, and what the data declares about itself."""
        p = self.parameters
        if p.get("municipality"):
            scope = self.t("common.scope_municipality", municipality=self.place())
        elif p.get("province"):
            scope = self.t("common.scope_province", province=p["province"])
        else:
            scope = self.t("common.scope_national")
        start, end = p.get("period_start"), p.get("period_end")
        if start is not None and end is not None:
            scope = self.t("common.scope_period", scope=scope, start=start, end=end)
        elif start is not None:
            scope = self.t("common.scope_period_from", scope=scope, start=start)
        elif end is not None:
            scope = self.t("common.scope_period_until", scope=scope, end=end)
        initiatives = self.data.tables.get("initiatives")
        lines = []
        if initiatives is not None:
            lines.append(self.t("common.scope_rows", scope=scope, initiatives=len(initiatives)))
            codes = initiatives["municipality_code"].dropna().unique() if "municipality_code" in initiatives else []
            if len(codes) == 1 and not p.get("municipality"):
                lines.append(self.t("common.scope_single_place", municipality=self._place_name(codes[0])))
        else:
            lines.append(scope + ".")
        lines.append(self.t("common.scope_min_group", min_group_size=self.min_group_size))
        return lines

    def place(self) -> str | None:
        """The report's place in words ("Utrecht (GM0344)", "Zeeland"), or None for the whole dataset."""
        from maexlab.data.loader import normalise_municipality_code

        if self.parameters.get("municipality"):
            return self._place_name(normalise_municipality_code(self.parameters["municipality"]))
        return self.parameters.get("province")

    def _place_name(self, code: str) -> str:
        initiatives = self.data.tables.get("initiatives")
        if initiatives is not None and {"municipality_code", "municipality"} <= set(initiatives.columns):
            names = initiatives.loc[initiatives["municipality_code"] == code, "municipality"].dropna().unique()
            if len(names):
                return f"{names[0]} ({code})"
        return str(code)

    def findings_placeholder(self) -> None:
        """Reserve the place of the findings summary at the top; :meth:`finish` fills it in."""
        text = self.t("common.findings_pending")
        _display(_Rich(f"<p><em>{html.escape(text)}</em></p>", text), display_id=FINDINGS_DISPLAY_ID)

    def finding(self, key: str, **values: Any) -> str:
        """Add one plain sentence (with its number, interval and verdict) to the findings summary."""
        text = self.t(key, **values)
        self._findings.append(text)
        self.results["findings"].append({"key": key, "text": text})
        return text

    def _findings_block(self) -> _Rich:
        title = self.t("common.findings_heading")
        items = self._findings or [self.t("common.findings_none")]
        body = "".join(f"<li>{html.escape(s)}</li>" for s in items)
        plain = "\n".join([title, *(f"- {s}" for s in items)])
        return _Rich(f'<div class="maexlab-findings"><h2>{html.escape(title)}</h2><ul>{body}</ul></div>', plain)

    def finish(self) -> Path:
        """Fill in the findings summary at the top and write results.json."""
        from IPython.display import update_display

        update_display(self._findings_block(), display_id=FINDINGS_DISPLAY_ID)
        return self.save()

    # --- tables, figures, verdicts -------------------------------------------------------
    def table(self, table: pd.DataFrame, name: str, **options: Any) -> pd.DataFrame:
        """Publish a table (small groups suppressed, rounded, saved as CSV) and return it."""
        options.setdefault("min_group_size", self.min_group_size)
        return publish_table(table, self.out, name, **options)

    def show(
        self,
        table: pd.DataFrame,
        name: str | None,
        columns: Sequence[Col],
        *,
        caption: str | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """Publish ``table`` under ``name`` (unless None: already published) and show it formatted.

        Returns the published (suppressed, raw) table.
        """
        published = table if name is None else self.table(table, name, **options)
        _display(self.formatted(published, columns, caption=caption))
        return published

    def formatted(self, table: pd.DataFrame, columns: Sequence[Col], caption: str | None = None) -> DisplayTable:
        return display_table(table, columns, language=self.language, min_group_size=self.min_group_size, caption=caption)

    def figure(self, fig, name: str) -> Path:
        """Save ``fig`` as figures/<name>.png (with the synthetic stamp) and show that same image."""
        import matplotlib.pyplot as plt
        from IPython.display import Image

        from maexlab.reporting.plots import synthetic_caption

        if fig.axes:
            synthetic_caption(fig.axes[0], self.data.synthetic, self.language)
        path = save_figure(fig, self.out, name)
        plt.close(fig)
        _display(Image(data=path.read_bytes(), format="png"))
        return path

    def verdicts(self, verdicts: Iterable[Verdict], heading: bool = True) -> list[Verdict]:
        """Record each verdict in results.json and show them as one table (claim, verdict, evidence, rule, why)."""
        verdicts = list(verdicts)
        rows = []
        for v in verdicts:
            self.results["verdicts"][v.claim] = v.to_dict()
            evidence = self.m.interval(v.estimate, v.lo, v.hi, v.kind) if v.estimate is not None else "–"
            why = "; ".join(self.reason_text(r) for r in v.reasons) or "–"
            rows.append(
                {
                    "claim": self.t(v.claim),
                    "verdict": self.t(f"common.verdict.{v.verdict}"),
                    "evidence": evidence,
                    "rule": self.t(v.rule, **v.rule_values),
                    "reason": why,
                }
            )
        if heading:
            self.heading("common.verdict_heading", level=3)
        frame = pd.DataFrame(rows, columns=["claim", "verdict", "evidence", "rule", "reason"])
        frame.columns = [self.t(f"common.verdict_columns.{c}") for c in frame.columns]
        _display(DisplayTable(frame, []))
        return verdicts

    # --- preconditions ---------------------------------------------------------------------
    def check(self, section: str, needs: Needs | dict | None = None, extra: Iterable[Reason | None] = ()) -> bool:
        """True when ``section`` (a catalogue key naming it) can be computed; otherwise say why and record it."""
        reasons = (unmet(self.data, needs) if needs is not None else []) + [r for r in extra if r is not None]
        if not reasons:
            return True
        self.not_computed(section, reasons)
        return False

    def requires(self, section: str, needs: dict[str, tuple[str, ...]]) -> bool:
        """Old form of :meth:`check` taking a plain section name (kept for notebooks not yet moved)."""
        note = data_requirements_note(self.data, needs, section)
        if note is None:
            return True
        self._record_not_computed(section, note)
        return False

    def not_computed(self, section: str, reason: str | Reason | Sequence[Reason]) -> None:
        """Say (and record in results.json) that ``section`` could not be computed, and why."""
        if isinstance(reason, str):
            self._record_not_computed(section, f"Not computed: {section}: {reason.rstrip('.')}.")
            return
        reasons = [reason] if isinstance(reason, Reason) else list(reason)
        name = self.t(section) if self.m.has(section) else section
        why = "; ".join(self.reason_text(r) for r in reasons)
        text = self.t("common.not_computed", section=name, reason=why[:1].upper() + why[1:] + ".")
        self.results["not_computed"][section] = {"text": text, "reasons": [{"key": r.key, **r.values} for r in reasons]}
        _display(_Rich(f'<p class="maexlab-not-computed"><em>{html.escape(text)}</em></p>', text))

    def _record_not_computed(self, section: str, note: str) -> None:
        print(note)
        self.results["not_computed"][section] = note

    def headline(self, label: str, value: Any, kind: str | None = None, lo: Any = None, hi: Any = None) -> None:
        """A key number for the run's index: the label (a catalogue key or text), value, format kind and interval."""
        if kind is None:
            self.results["headline"][label] = value
        else:
            self.results["headline"][label] = {"value": value, "kind": kind, "lo": lo, "hi": hi}

    def save(self) -> Path:
        self.results.update(
            notebook=self.notebook,
            parameters=self.parameters,
            language=self.language,
            synthetic=self.data.synthetic,
            data_notice=self.data.notice(),
            title=self.t(f"notebooks.{self.notebook}.title") if self.m.has(f"notebooks.{self.notebook}.title") else self.notebook,
            place=self.place(),
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
    language: str = DEFAULT_LANGUAGE,
    echo: bool = False,
    intro: bool = False,
    dominance_n: int = DOMINANCE_N,
    dominance_k: float = DOMINANCE_K,
    p_percent: float = P_PERCENT,
) -> Report:
    """Load the data a notebook's parameters ask for and prepare its output folder.

    ``dominance_n``, ``dominance_k`` and ``p_percent`` are the disclosure rules for tables of
    euro amounts (:class:`maexlab.reporting.disclosure.MagnitudeRules`; a value out of range is
    a clear ValueError before any data is loaded). With ``intro`` the report shows its title, question, data banner, scope and the place of
    the findings summary (:meth:`Report.intro`, :meth:`Report.findings_placeholder`). ``echo``
    prints where the data comes from in plain English (for scripts; reports use :meth:`Report.intro`).
    """
    from maexlab.data import load
    from maexlab.reporting.plots import set_theme

    check_language(language)
    rules = MagnitudeRules(dominance_n, dominance_k, p_percent)
    period = None if period_start is None and period_end is None else (period_start, period_end)
    # The whole dataset (every place, same period) stays with the report: euro tables share one
    # suppression pattern over nation, provinces and municipalities (maexlab.reporting.linked).
    whole = load(data_source)
    place_filters = {"province": province, "municipality": municipality, "period": period}
    data = whole.filter(**place_filters) if any(v is not None for v in place_filters.values()) else whole
    population = whole.filter(period=period) if period is not None else whole
    out = resolve_output_dir(output_dir, notebook)
    parameters = {
        "data_source": str(data_source),
        "province": province,
        "municipality": municipality,
        "period_start": period_start,
        "period_end": period_end,
        "min_group_size": min_group_size,
        "seed": seed,
        "language": language,
        **rules.as_dict(),
    }
    set_theme()
    report = Report(notebook, data, out, parameters, min_group_size, seed, language, magnitude_rules=rules)
    report.population = population
    if intro:
        report.intro()
        report.findings_placeholder()
    elif echo:
        print(data.notice())
        scope = ", ".join(
            f"{k}={v}"
            for k, v in parameters.items()
            if v is not None and k not in ("seed", "min_group_size", "data_source", "language", *rules.as_dict())
        )
        print(f"Scope: {scope or 'national, all years'}; groups smaller than {min_group_size} are suppressed.")
    return report


class SectionOutput:
    """What one notebook section produced: its published tables, figures and verdicts.

    Section functions (``maexlab.<analysis>.sections``) return one, so tests and the
    degenerate-data battery can check a section without scraping its displayed output.
    ``skipped`` holds the reasons when the section could not be computed.
    """

    def __init__(self) -> None:
        self.tables: dict[str, pd.DataFrame] = {}
        self.figures: dict[str, Path] = {}
        self.verdicts: list[Verdict] = []
        self.skipped: list[Reason] = []

    def _ipython_display_(self) -> None:
        # A section has shown its tables and figures already: a cell ending in a section call
        # shows nothing more (and gives nbval the same outputs on every run).
        return None

    def __repr__(self) -> str:
        return f"SectionOutput(tables={sorted(self.tables)}, figures={sorted(self.figures)}, verdicts={[v.verdict for v in self.verdicts]}, skipped={len(self.skipped)})"
