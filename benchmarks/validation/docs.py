"""The summary tables of a validation run, as Markdown, written into docs/validation.md between markers.

The page's hand-written text (method, definitions, sizes and why) stays; only the part between
:data:`BEGIN` and :data:`END` is replaced, atomically. A page without the markers gets them
appended, so nothing written by hand is lost.

>>> "validation:begin" in BEGIN
True
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .common import atomic_write_text

BEGIN = "<!-- validation:begin (written by benchmarks/validate.py; edits here are overwritten) -->"
END = "<!-- validation:end -->"


def _num(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:+.{digits}f}" if digits and abs(x) < 1e6 else f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _pass(value) -> str:
    if value == "" or value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "pass" if bool(value) else "**FAIL**"


def estimand_table(estimands: pd.DataFrame) -> str:
    """Markdown table: one line per estimand and mode."""
    lines = [
        "| collector | estimand | effects | N | truth | mean estimate | bias (MC SE) | SD / SE | coverage [Wilson 95%] | 95% inside |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in estimands.itertuples():
        implied = " (SE from interval)" if r.se_source == "interval" else ""
        name = r.estimand if r.role == "check" else f"{r.estimand} (illustration)"
        missing = f" ({r.not_computed} not computed)" if r.not_computed else ""
        lines.append(
            f"| {r.collector} | {name} | {r.mode} | {r.estimates}{missing} | {_num(r.truth)} | {_num(r.mean_estimate)} "
            f"| {_num(r.bias)} ({abs(r.bias_mc_se):.3f}) | {r.sd_over_se:.2f}{implied} "
            f"| {_pct(r.coverage)} [{_pct(r.coverage_lo)}, {_pct(r.coverage_hi)}] | {_pass(r.passed)} |"
            if not math.isnan(r.bias_mc_se) and not math.isnan(r.sd_over_se)
            else f"| {r.collector} | {name} | {r.mode} | {r.estimates}{missing} | {_num(r.truth)} | {_num(r.mean_estimate)} "
            f"| {_num(r.bias)} | – | {_pct(r.coverage)} [{_pct(r.coverage_lo)}, {_pct(r.coverage_hi)}] | {_pass(r.passed)} |"
        )
    return "\n".join(lines)


def verdict_table(verdicts: pd.DataFrame) -> str:
    """Markdown table: one line per verdict rule and mode."""
    lines = [
        "| collector | verdict rule | effects | N | counted | rate [Wilson 95%] | nominal | at or below nominal | outcomes |",
        "|---|---|---|---:|---|---:|---:|---|---|",
    ]
    for r in verdicts.itertuples():
        lines.append(
            f"| {r.collector} | {r.verdict} | {r.mode} | {r.datasets} | {r.counted} | {_pct(r.rate)} [{_pct(r.rate_lo)}, {_pct(r.rate_hi)}] "
            f"| {_pct(r.nominal)} | {_pass(r.passed)} | {r.outcomes} |"
        )
    return "\n".join(lines)


def render(estimands: pd.DataFrame, verdicts: pd.DataFrame, run: dict) -> str:
    """The generated block: run line, both tables, and the count of failures."""
    sizes = ", ".join(f"{name} {n:,}" for name, n in run["sizes"].items())
    cpu = run.get("cpu_seconds_per_dataset", {})
    per = ", ".join(
        f"{name} {s:.1f} s ({cpu[name]:.1f} s CPU)" if name in cpu else f"{name} {s:.1f} s"
        for name, s in run.get("seconds_per_dataset", {}).items()
    )
    checked = estimands[estimands["role"] == "check"] if len(estimands) else estimands
    failed_e = int((checked["passed"].astype(str) == "False").sum()) if len(checked) else 0
    failed_v = int((verdicts["passed"].astype(str) == "False").sum()) if len(verdicts) else 0
    return "\n".join(
        [
            BEGIN,
            "",
            f"**Run of {run['date']}**: N = {run['n']} datasets per mode (seeds {run['seeds']}, the same seeds with "
            f"and without effects); initiatives per dataset: {sizes}; {run['workers']} worker processes; "
            f"wall time {run['wall_seconds']:.0f} s ({run['wall_seconds'] / 60:.1f} min); machine: {run['machine']}.",
            f"Time per dataset (wall, and CPU of its worker): {per}." if per else "",
            "",
            f"{failed_e} of {len(checked)} estimand lines fail (95% outside the Wilson interval of the observed coverage); "
            f"{failed_v} verdict lines have a rate above their nominal rate beyond Monte Carlo error.",
            "",
            "### Estimands",
            "",
            estimand_table(estimands),
            "",
            "### Verdict rules",
            "",
            verdict_table(verdicts),
            "",
            END,
        ]
    )


def write_docs(path: Path, estimands: pd.DataFrame, verdicts: pd.DataFrame, run: dict) -> None:
    """Replace the generated block of ``path`` (or append it), atomically."""
    block = render(estimands, verdicts, run)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Method validation\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = head + block + tail
    else:
        new = text.rstrip("\n") + "\n\n" + block + "\n"
    atomic_write_text(path, new)
