"""HTML: the report export (no code cells) and the run's ``index.html``.

The index is one static page readable straight from disk: relative links, every text
escaped, no scripts.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from maexlab.runner.worker import atomic_write_text, export_html

__all__ = ["export_html", "read_data_notice", "read_headline", "write_index"]

_STYLE = """
.synthetic{background:#fdecea;border:1px solid #b22222;color:#7a1010;padding:.5em .8em;font-weight:600}
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f3f3f3}
.ok{color:#176b2c;font-weight:600}.failed,.timeout,.interrupted{color:#a4161a;font-weight:600}
.pending{color:#777}
code{font-size:.9em}
dl{margin:0}dt{font-weight:600;display:inline}dd{display:inline;margin:0 .8em 0 .2em}
.err{white-space:pre-wrap;max-width:40em;font-family:monospace;font-size:.85em}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _href(*parts: str) -> str:
    return "/".join(quote(p, safe="") for p in parts)


def read_headline(report_dir: Path) -> dict[str, Any]:
    """The ``headline`` mapping of a report's results.json (empty when absent or malformed)."""
    try:
        results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    headline = results.get("headline") if isinstance(results, dict) else None
    return headline if isinstance(headline, dict) else {}


def read_data_notice(report_dir: Path) -> str | None:
    """The report's ``data_notice`` when its results.json says the data is synthetic."""
    try:
        results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(results, dict) and results.get("synthetic") is True:
        return str(results.get("data_notice") or "SYNTHETIC DATA")
    return None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_index(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """Write ``index.html`` for the reports listed in ``manifest["reports"]``."""
    run_dir = Path(run_dir)
    reports = manifest.get("reports", [])
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.get("status", "pending")] = counts.get(r.get("status", "pending"), 0) + 1
    rows = []
    for r in reports:
        rel = r["path"]
        report_dir = run_dir / rel
        parts = rel.split("/")
        links = []
        for label, name in (("report", r.get("html")), ("notebook", r.get("notebook")), ("results.json", "results.json")):
            if name and (report_dir / name).is_file():
                links.append(f'<a href="{_href(*parts, name)}">{_e(label)}</a>')
        for sub in ("figures", "tables"):
            folder = report_dir / sub
            if folder.is_dir():
                for f in sorted(folder.iterdir()):
                    if f.is_file() and not f.name.startswith("."):
                        links.append(f'<a href="{_href(*parts, sub, f.name)}">{_e(sub + "/" + f.name)}</a>')
        params = "".join(f"<dt>{_e(k)}</dt><dd>{_e(_fmt(v))}</dd>" for k, v in r.get("params", {}).items())
        headline = r.get("headline") or {}
        heads = "".join(f"<dt>{_e(k)}</dt><dd>{_e(_fmt(v))}</dd>" for k, v in headline.items())
        status = r.get("status", "pending")
        extra = " (cached)" if r.get("cached") else ""
        err = f'<div class="err">{_e(r["error"])}</div>' if r.get("error") else ""
        dur = r.get("duration")
        rows.append(
            "<tr>"
            f"<td>{_e(r.get('notebook_name', ''))}</td>"
            f"<td><dl>{params or '<em>defaults</em>'}</dl></td>"
            f'<td><span class="{_e(status)}">{_e(status)}</span>{_e(extra)}{err}</td>'
            f"<td>{_e(f'{dur:.1f} s' if isinstance(dur, (int, float)) else '')}</td>"
            f"<td><dl>{heads}</dl></td>"
            f"<td>{' &middot; '.join(links)}</td>"
            "</tr>"
        )
    summary = ", ".join(f"{n} {_e(s)}" for s, n in sorted(counts.items()))
    # Reports on synthetic data say so at the top of the index, not only inside each report.
    notices = sorted({r["data_notice"] for r in reports if r.get("data_notice")})
    banner = "".join(f'<p class="synthetic">{_e(n)}</p>' for n in notices)
    run = manifest.get("run", {})
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>maexlab run {_e(run.get('name', ''))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Run {_e(run.get('name', ''))}</h1>"
        f"<p>Parameter set <code>{_e(run.get('params_file', ''))}</code> &middot; status "
        f"<strong>{_e(manifest.get('status', ''))}</strong> &middot; {summary} &middot; "
        f"started {_e(run.get('started', ''))} &middot; git {_e(manifest.get('git_commit') or 'unknown')} &middot; "
        f'<a href="manifest.json">manifest.json</a></p>{banner}'
        "<table><thead><tr><th>Notebook</th><th>Parameters</th><th>Status</th><th>Time</th>"
        "<th>Headline</th><th>Files</th></tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table></body></html>\n"
    )
    path = run_dir / "index.html"
    atomic_write_text(path, page)
    return path
