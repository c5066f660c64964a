"""HTML for people: each report as one self-contained page, and the run's index pages.

A report page (:func:`export_html`) shows only what the notebook displayed: headings,
sentences, tables and figures come from the cell outputs, in the report's language. It has
no code and no markdown cells, no script, no stylesheet, font or image from elsewhere
(figures are embedded as data URIs), so it opens offline and contacts nobody. Its ``<title>``
names the report and its place, ``<html lang>`` is the report's language, the synthetic-data
warning is a banner, and a report that stopped early says so at the top.

Notebooks from before the report languages (no ``language`` parameter) still export: their
markdown cells and printed lines are kept, since that is where their text is, and the page
is marked English.

The index (:func:`write_index`) is one page per report language (``index.html`` in Dutch,
``index.en.html`` in English) linking each other and the reports of their language: each
notebook's title and question, the place, the headline numbers formatted for the locale with
their meaning, the status in words and the report's files. Readable straight from disk.

>>> page = report_page(_example_notebook(), results={"title": "Financieringstekorten",
...     "language": "nl", "parameters": {"province": "Utrecht"}, "synthetic": True})
>>> "<title>Financieringstekorten – Utrecht</title>" in page and '<html lang="nl">' in page
True
>>> external_references(page)
[]
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from maexlab.reporting.i18n import DEFAULT_LANGUAGE, LANGUAGES, MISSING, Messages, messages

__all__ = [
    "export_html",
    "external_references",
    "index_file",
    "index_page",
    "read_data_notice",
    "read_headline",
    "report_page",
    "write_index",
]

# "index" + suffix: a bare "index.html" literal would read as a catalogue key of index.yaml.
INDEX_STEM = "index"


def index_file(language: str) -> str:
    """File name of the index page in ``language``: ``index.html`` (Dutch) or ``index.en.html``."""
    return f"{INDEX_STEM}.html" if language == DEFAULT_LANGUAGE else f"{INDEX_STEM}.{language}.html"


# --- shared page furniture -------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#fff;color:#1f2328;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans","DejaVu Sans",Arial,sans-serif;font-size:17px;line-height:1.55;overflow-wrap:break-word}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:1.9em;line-height:1.2;margin:.3em 0 .35em}
h2{font-size:1.4em;line-height:1.25;margin:1.8em 0 .5em;padding-bottom:.2em;border-bottom:1px solid #d0d7de}
h3{font-size:1.15em;margin:1.4em 0 .4em}
p,li,dd{max-width:46em}
a{color:#0b57a4}
a:visited{color:#5b3a8c}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.88em;background:#f3f5f7;padding:0 .2em;border-radius:3px}
pre{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.82em;line-height:1.45;white-space:pre-wrap;background:#f6f8fa;border:1px solid #e3e7eb;border-radius:4px;padding:.6em .8em;overflow-x:auto}
img{display:block;max-width:100%;height:auto;margin:1em 0}
table{border-collapse:collapse;font-size:.9em;font-variant-numeric:tabular-nums;margin:.6em 0}
th,td{padding:.38em .65em;border-bottom:1px solid #d8dee4;text-align:left;vertical-align:top}
thead th{background:#eef1f4;border-bottom:2px solid #a9b4bf;font-weight:600}
tbody tr:nth-child(even){background:#f9fafb}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
.maexlab-table-wrap,.maexlab-output{overflow-x:auto;max-width:100%}
.maexlab-output>p{margin:.45em 0}
.maexlab-caption{font-weight:600;margin:.8em 0 .2em}
.maexlab-note{font-size:.88em;color:#4d5863;margin:.2em 0 .8em}
.maexlab-banner{border-radius:4px;border-left-width:6px!important;padding:.7em 1em!important;margin:1em 0!important;font-weight:600;line-height:1.45}
.maexlab-synthetic{background:#fdecea;border:1px solid #b22222;color:#7a1010}
.maexlab-real{background:#eef4fb;border:1px solid #2b5d8c;color:#173a5e}
.maexlab-incomplete{background:#fff4e5;border:1px solid #b35c00;color:#5c2f00}
.maexlab-findings{background:#f4f7fa;border-left:5px solid #2b5d8c;padding:.3em 1.2em .6em;margin:1em 0}
.maexlab-findings h2{border:0;margin-top:.6em}
.maexlab-findings li{margin:.35em 0}
.maexlab-not-computed{color:#5c2f00}
.maexlab-error{background:#fdecea;border:1px solid #d99;border-radius:4px;padding:.5em .8em;margin:1em 0}
.maexlab-footer{margin-top:3em;padding-top:.6em;border-top:1px solid #d0d7de;font-size:.85em;color:#4d5863}
.muted{color:#57606a}
.small{font-size:.88em}
.status-ok{color:#176b2c;font-weight:600}
.status-failed,.status-timeout,.status-interrupted{color:#a4161a;font-weight:600}
.status-pending,.status-queued,.status-running,.status-not_run{color:#6e7781;font-weight:600}
.lang-switch{float:right;margin-top:.6em;font-size:.95em}
.lang-switch strong{font-weight:600}
.headline{list-style:none;padding:0;margin:0}
.headline li{margin:0 0 .3em}
.headline .value{font-weight:600;white-space:nowrap}
.question{margin-top:-.2em;color:#4d5863}
details summary{cursor:pointer;color:#0b57a4}
details ul{margin:.3em 0;padding-left:1.2em;font-size:.9em}
table.reports{width:100%;table-layout:fixed}
table.reports th:nth-child(1){width:18%}table.reports th:nth-child(2){width:44%}
table.reports th:nth-child(3){width:16%}table.reports th:nth-child(4){width:22%}
table.sortable th{cursor:pointer;user-select:none}
table.sortable td:first-child{white-space:nowrap}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";font-size:.75em}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";font-size:.75em}
table.maexlab-table thead th{text-align:left}
table td.num,table th.num,table.maexlab-table thead th.num{text-align:right}
table td.num{white-space:nowrap}
@media (max-width:860px){body{font-size:16px}main{padding:16px}.lang-switch{float:none}}
@media print{main{max-width:none;padding:0}a{color:inherit}.lang-switch{display:none}}
""".strip()


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _href(*parts: str) -> str:
    return "/".join(quote(p, safe="") for p in parts)


def _page(language: str, title: str, body: str, script: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="maexlab">\n'
        f"<title>{_e(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n{script}</body>\n</html>\n"
    )


def _atomic_write_text(path: str | Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over ``path`` (never half a page)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_results(report_dir: Path) -> dict[str, Any]:
    try:
        results = json.loads((Path(report_dir) / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return results if isinstance(results, dict) else {}


def _language(*candidates: Any) -> str | None:
    for c in candidates:
        if isinstance(c, str) and c in LANGUAGES:
            return c
    return None


# --- what leaves the file ----------------------------------------------------------------------

# Elements that load or run something; a report needs none of them.
_ACTIVE = re.compile(
    r"<(script|iframe|object|embed|noscript)\b[^>]*>.*?</\1\s*>|<(?:script|iframe|object|embed|link|base|meta)\b[^>]*>",
    re.IGNORECASE | re.DOTALL,
)
# Attributes that fetch from elsewhere (an <a href> only navigates when clicked, so links stay).
_FETCHING_ATTR = re.compile(
    r"""\s(?:src|srcset|poster|background|data|xlink:href|action|formaction)\s*=\s*(["'])\s*(?:https?:)?//.*?\1""",
    re.IGNORECASE | re.DOTALL,
)
_EVENT_ATTR = re.compile(r"""\son[a-z]+\s*=\s*(?:"[^"]*"|'[^']*')""", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(["']?)\s*(?:https?:)?//[^)]*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\b[^;]*;?", re.IGNORECASE)


def _inert(fragment: str) -> str:
    """An output's HTML without scripts and without anything that would fetch from elsewhere."""
    fragment = _ACTIVE.sub("", fragment)
    fragment = _FETCHING_ATTR.sub("", fragment)
    fragment = _EVENT_ATTR.sub("", fragment)
    fragment = _CSS_URL.sub("none", fragment)
    return _CSS_IMPORT.sub("", fragment)


_REF_TAG = re.compile(r"<(script|link|img|source|iframe|embed|object|video|audio|input|image|use)\b([^>]*)>", re.IGNORECASE)
_REF_ATTR = re.compile(r"""\b(src|href|srcset|data|poster|xlink:href)\s*=\s*(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def external_references(page: str) -> list[str]:
    """Every URL in ``page`` that a browser would fetch from elsewhere when opening it.

    Scripts, stylesheets, images, frames and CSS ``url()``/``@import`` pointing at http(s) or
    protocol-relative addresses; ordinary ``<a href>`` links are not fetched and not listed.

    >>> external_references('<img src="https://x/a.png"><a href="https://x">x</a>')
    ['https://x/a.png']
    """
    found = []
    for match in _REF_TAG.finditer(page):
        for attr in _REF_ATTR.finditer(match.group(2)):
            for url in attr.group(3).split(","):
                url = url.strip().split(" ")[0]
                if re.match(r"(?:https?:)?//", url, re.IGNORECASE):
                    found.append(url)
    found += [m.group(0) for m in _CSS_URL.finditer(page)]
    found += [m.group(0) for m in _CSS_IMPORT.finditer(page)]
    return found


# --- the report page ---------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_STOPPED_AT = re.compile(r"^\s*stopped at cell\s+(\S+?)(?:\s+with error)?\s*:\s*(.+)$", re.IGNORECASE | re.DOTALL)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def notebook_parameters(nb: Any) -> dict[str, Any]:
    """The notebook's parameters: the defaults of its ``parameters`` cell, then what papermill injected."""
    values: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        try:
            tree = ast.parse(_text(cell.get("source")))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                try:
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    values[node.targets[0].id] = None
    injected = nb.get("metadata", {}).get("papermill", {}).get("parameters") or {}
    values.update(injected)
    return values


def _first_heading(nb: Any, legacy: bool) -> str | None:
    for cell in nb.get("cells", []):
        if legacy and cell.get("cell_type") == "markdown":
            for line in _text(cell.get("source")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            found = _H1.search(_text(out.get("data", {}).get("text/html")))
            if found:
                return html.unescape(_TAG.sub("", found.group(1))).strip()
    return None


def _place(m: Messages, parameters: dict[str, Any], results: dict[str, Any]) -> str:
    """The report's place in words: the municipality, the province or "national", with the period."""
    overview = results.get("area_overview") if isinstance(results.get("area_overview"), dict) else {}
    if parameters.get("municipality"):
        name = results.get("place") or overview.get("municipality_name") or overview.get("name")
        code = str(parameters["municipality"])
        place = f"{name} ({code})" if name and name != code else code
    elif parameters.get("province"):
        place = str(parameters["province"])
    else:
        place = m.text("index.national")
    start, end = parameters.get("period_start"), parameters.get("period_end")
    if start is not None and end is not None:
        return m.text("index.period", place=place, start=start, end=end)
    if start is not None:
        return m.text("index.period_from", place=place, start=start)
    if end is not None:
        return m.text("index.period_until", place=place, end=end)
    return place


def _incomplete_text(m: Messages, reason: str) -> str:
    found = _STOPPED_AT.match(reason)
    if found:
        return m.text("index.report.incomplete_cell", cell=found.group(1), error=found.group(2).strip())
    return m.text("index.report.incomplete", reason=reason.strip().rstrip("."))


def _first_error(nb: Any) -> str | None:
    """ "stopped at cell N: Error: message" for the first cell with an error output, if any."""
    for number, cell in enumerate(nb.get("cells", []), start=1):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                at = cell.get("execution_count") or number
                return f"stopped at cell {at}: {out.get('ename', 'Error')}: {out.get('evalue', '')}"
    return None


def _banner(kind: str, text: str) -> str:
    role = "alert" if kind == "incomplete" else "note"
    return f'<div class="maexlab-banner maexlab-{kind}" role="{role}">{_e(text)}</div>'


class _Outputs:
    """Turns cell outputs into HTML fragments, numbering figures as it goes."""

    def __init__(self, m: Messages, legacy: bool):
        self.m, self.legacy, self.figures = m, legacy, 0

    def image(self, mime: str, data: Any, metadata: dict[str, Any]) -> str:
        self.figures += 1
        payload = _text(data).replace("\n", "").strip()
        if mime == "image/svg+xml":
            import base64

            payload = base64.b64encode(_text(data).encode("utf-8")).decode("ascii")
        size = metadata.get(mime, {}) if isinstance(metadata.get(mime), dict) else {}
        dims = "".join(f' {k}="{int(size[k])}"' for k in ("width", "height") if isinstance(size.get(k), (int, float)))
        alt = self.m.text("index.report.figure", number=self.figures)
        return f'<img src="data:{mime};base64,{payload}" alt="{_e(alt)}"{dims}>'

    def render(self, out: dict[str, Any]) -> str:
        kind = out.get("output_type")
        if kind == "stream":
            # Printed lines are logs in a report made of displayed outputs; old notebooks print their text.
            text = _ANSI.sub("", _text(out.get("text")))
            if self.legacy and out.get("name") == "stdout" and text.strip():
                return f'<pre class="maexlab-stream">{_e(text.rstrip())}</pre>'
            return ""
        if kind == "error":
            trace = _ANSI.sub("", "\n".join(out.get("traceback") or []))
            message = self.m.text("index.report.error", error=f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
            details = (
                f"<details><summary>{_e(self.m.text('index.report.error_details'))}</summary><pre>{_e(trace)}</pre></details>"
            )
            return f'<div class="maexlab-error"><strong>{_e(message)}</strong>{details if trace else ""}</div>'
        if kind not in ("display_data", "execute_result"):
            return ""
        data, metadata = out.get("data", {}), out.get("metadata", {})
        if kind == "execute_result" and not self.legacy and 'class="maexlab-' not in _text(data.get("text/html")):
            # The repr of a cell's last value (a returned table, a path, a section's result): the
            # report's own text and tables are displayed explicitly, through maexlab.reporting.
            return ""
        if "text/html" in data:
            return f'<div class="maexlab-output">{_align_numbers(_inert(_text(data["text/html"])))}</div>'
        for mime in ("image/png", "image/jpeg", "image/gif", "image/svg+xml"):
            if mime in data:
                return self.image(mime, data[mime], metadata)
        if "text/markdown" in data:
            return f'<div class="maexlab-output">{_markdown(_text(data["text/markdown"]))}</div>'
        if "text/plain" in data:
            return f"<pre>{_e(_ANSI.sub('', _text(data['text/plain'])))}</pre>"
        return ""


_DISPLAY_TABLE = re.compile(r"(<table\b[^>]*\bclass=\"[^\"]*\bmaexlab-table\b[^\"]*\"[^>]*>)(.*?)(</table\s*>)", re.DOTALL)
_ROW = re.compile(r"<tr\b[^>]*>.*?</tr\s*>", re.DOTALL)
_CELL = re.compile(r"<(td|th)>(.*?)</\1>", re.DOTALL)
# A shown number: digits with the locale's marks, euro sign, percent, an interval ("59% (56-62%)",
# "0,52 (0,40 tot 0,67)"), or the missing / suppressed marks.
_NUMBER_LIKE = re.compile(r"^[\s\d.,%€+\-−–·()∞]*(?:\s(?:to|tot)\s[\s\d.,%€+\-−–()]*)?$")


def _align_numbers(fragment: str) -> str:
    """Right-align the number columns of display tables (their cells hold formatted numbers only)."""

    def table(match: re.Match[str]) -> str:
        head, _, body = match.group(2).partition("<tbody>")
        rows = [[c for _, c in _CELL.findall(r)] for r in _ROW.findall(body)]
        width = max((len(r) for r in rows), default=0)
        numeric = {
            i
            for i in range(width)
            if all(_NUMBER_LIKE.match(html.unescape(r[i])) for r in rows if i < len(r))
            and any(re.search(r"\d", r[i]) for r in rows if i < len(r))
        }
        if not numeric:
            return match.group(0)

        def mark(row: re.Match[str]) -> str:
            position = iter(range(width + 1000))
            return _CELL.sub(
                lambda c: f'<{c.group(1)} class="num">{c.group(2)}</{c.group(1)}>' if next(position) in numeric else c.group(0),
                row.group(0),
            )

        return match.group(1) + _ROW.sub(mark, match.group(2)) + match.group(3)

    return _DISPLAY_TABLE.sub(table, fragment)


_ANCHOR_LINK = re.compile(r"<a\b[^>]*\bclass=\"anchor-link\"[^>]*>.*?</a>", re.DOTALL)


def _markdown(source: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    # nbconvert adds a "¶" permalink to every heading; a report reader has no use for it.
    return _ANCHOR_LINK.sub("", _inert(markdown2html_mistune(source)))


def report_page(nb: Any, *, results: dict[str, Any] | None = None, incomplete: str | None = None, name: str = "report") -> str:
    """The HTML page of an executed notebook (see the module docstring).

    Parameters
    ----------
    nb : the notebook (an ``nbformat`` node or the equivalent dict)
    results : the report's results.json (title, language, parameters, synthetic), if any
    incomplete : why the report stopped early ("stopped at cell N: Error: message"); when
        None and a cell holds an error, the page says so all the same
    name : the notebook's file stem, for the footer and as the last-resort title
    """
    results = results or {}
    params = notebook_parameters(nb)
    legacy = "language" not in params
    language = "en" if legacy else (_language(results.get("language"), params.get("language")) or DEFAULT_LANGUAGE)
    m = messages(language)
    outputs = _Outputs(m, legacy)
    parts: list[str] = []
    for cell in nb.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") == "markdown":
            if legacy and "papermill-error-cell-tag" not in tags:
                parts.append(f'<div class="maexlab-markdown">{_markdown(_text(cell.get("source")))}</div>')
            continue
        if cell.get("cell_type") == "code":
            parts.extend(p for p in (outputs.render(o) for o in cell.get("outputs", [])) if p)
    body = "\n".join(parts)

    heading = _first_heading(nb, legacy)
    title = (heading or results.get("title")) if legacy else (results.get("title") or heading)
    place_params = results.get("parameters") if isinstance(results.get("parameters"), dict) else params
    page_title = m.text("index.report.title", title=title or name, place=_place(m, place_params, results))

    top = []
    reason = incomplete or _first_error(nb)
    if reason:
        top.append(_banner("incomplete", _incomplete_text(m, reason)))
    synthetic = results.get("synthetic") is True or (not results and "SYNTHETIC DATA" in body)
    if synthetic and "maexlab-synthetic" not in body:
        top.append(_banner("synthetic", m.text("common.synthetic_banner")))
    footer_text = m.text("index.report.footer", notebook=name + ".ipynb")
    if results:  # a report that finished also left its numbers, tables and figures as files
        footer_text += " " + m.text("index.report.footer_files")
    footer = f'<footer class="maexlab-footer">{_e(footer_text)}</footer>'
    return _page(language, page_title, "\n".join([*top, body, footer]))


def export_html(notebook_path: str | Path, html_path: str | Path, *, incomplete: str | None = None) -> None:
    """Write the self-contained HTML page of an executed notebook (outputs only), atomically.

    Reads ``results.json`` beside the notebook when there is one (title, language, place,
    synthetic). ``incomplete`` (e.g. ``"stopped at cell 4: ValueError: no rows"``) puts a
    banner at the top saying the report stopped early.

    >>> export_html("out/01_funding_gaps.ipynb", "out/01_funding_gaps.html")  # doctest: +SKIP
    """
    import nbformat

    notebook_path = Path(notebook_path)
    nb = nbformat.read(str(notebook_path), as_version=4)
    page = report_page(nb, results=_read_results(notebook_path.parent), incomplete=incomplete, name=notebook_path.stem)
    _atomic_write_text(html_path, page)


def _example_notebook() -> dict[str, Any]:
    """A minimal executed notebook of the new kind (for the doctest above)."""
    heading = {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<h1>Financieringstekorten</h1>"}}
    return {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": 'language = "nl"', "outputs": []},
            {"cell_type": "markdown", "metadata": {}, "source": "# not shown"},
            {"cell_type": "code", "metadata": {}, "source": "report.intro()", "outputs": [heading]},
        ],
        "metadata": {},
    }


# --- reading a report's results for the index ----------------------------------------------------


def read_headline(report_dir: Path) -> dict[str, Any]:
    """The ``headline`` mapping of a report's results.json (empty when absent or malformed)."""
    headline = _read_results(report_dir).get("headline")
    return headline if isinstance(headline, dict) else {}


def read_data_notice(report_dir: Path) -> str | None:
    """The report's ``data_notice`` when its results.json says the data is synthetic."""
    results = _read_results(report_dir)
    if results.get("synthetic") is True:
        return str(results.get("data_notice") or "SYNTHETIC DATA")
    return None


_HTML_LANG = re.compile(rb"<html[^>]*\slang=\"([a-z]{2})\"", re.IGNORECASE)


def _page_language(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            found = _HTML_LANG.search(fh.read(400))
    except OSError:
        return None
    return found.group(1).decode() if found else None


# --- formatting headline numbers -------------------------------------------------------------------

_SHARE_WORDS = ("share", "coverage", "rate", "proportion", "percent", "fraction", "aandeel", "dekking")
_MONEY_WORDS = ("eur", "amount", "money", "€", "bedrag")


def _legacy_kind(label: str, value: float) -> str:
    words = label.lower()
    if any(w in words for w in _SHARE_WORDS) and abs(value) <= 1.5:
        return "percent1"
    if any(w in words for w in _MONEY_WORDS):
        return "money"
    if float(value).is_integer():
        return "count"
    return "number2" if abs(value) < 10 else "number"


_KEY_LIKE = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)+")


def headline_label(m: Messages, label: str) -> str:
    """A headline label: a catalogue key in the report language, or the text itself (old reports).

    A key this catalogue lacks (a report made by a newer version) shows its last part in words.

    >>> headline_label(Messages("en"), "later.headline.columns_with_gaps")
    'Columns with gaps'
    """
    if m.has(label):
        return m.text(label)
    if _KEY_LIKE.fullmatch(label):
        words = label.rsplit(".", 1)[1].replace("_", " ")
        return words[:1].upper() + words[1:]
    return label


def headline_value(m: Messages, label: str, value: Any) -> str:
    """A headline value formatted for the locale.

    New reports record ``{"value", "kind", "lo", "hi"}``; old ones a plain value, whose kind
    is guessed from the label ("coverage" -> percentage, "amount" -> euros, whole -> count).

    >>> m = Messages("nl")
    >>> headline_value(m, "funding.headline_coverage", {"value": 0.593, "kind": "percent", "lo": 0.56, "hi": 0.62})
    '59% (56-62%)'
    >>> headline_value(m, "coverage (granted/requested)", 0.5926), headline_value(m, "initiatives", 2500)
    ('59,3%', '2.500')
    """
    if isinstance(value, dict) and "value" in value:
        kind = value.get("kind") or "number"
        if kind not in Messages.KINDS:
            return _e_plain(value.get("value"))
        if value.get("lo") is not None and value.get("hi") is not None and kind != "term":
            return m.interval(value["value"], value["lo"], value["hi"], kind)
        return m.value(value["value"], kind)
    if isinstance(value, bool):
        return m.text("index.word_yes") if value else m.text("index.word_no")
    if isinstance(value, (int, float)):
        return m.value(value, _legacy_kind(label, float(value)))
    if isinstance(value, str):
        for key in (f"common.verdict.{value}", f"vocabulary.{value}"):
            if m.has(key):
                return m.text(key)
        return value
    if value is None:
        return MISSING
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _e_plain(value: Any) -> str:
    return MISSING if value is None else str(value)


# --- the index pages -------------------------------------------------------------------------------


def _signature(run_dir: Path, entry: dict[str, Any]) -> tuple[Any, ...]:
    """What an index row of ``entry`` depends on: the entry and its folder (the runner replaces
    a report's folder in one rename, which gives it a new inode)."""
    rel = str(entry.get("path", ""))
    try:
        st = (run_dir / rel if rel else run_dir).stat()
        where: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
    except OSError:
        where = None
    return (str(run_dir), json.dumps(entry, sort_keys=True, default=str), where)


#: Index entries and rendered rows by their signature: a run rewrites its index after every
#: report, and without these it would read and render every finished report again each time
#: (about 30 ms of the runner's CPU per report for 30 reports, beside the reports' own work).
_ENTRIES: dict[tuple[Any, ...], _Entry] = {}
_ROWS: dict[tuple[Any, ...], str] = {}
_CACHE_LIMIT = 20_000


def _entries(run_dir: Path, manifest: dict[str, Any]) -> list[_Entry]:
    if len(_ENTRIES) > _CACHE_LIMIT or len(_ROWS) > _CACHE_LIMIT:
        _ENTRIES.clear()
        _ROWS.clear()
    out = []
    for e in manifest.get("reports", []):
        signature = _signature(run_dir, e)
        if signature not in _ENTRIES:
            _ENTRIES[signature] = _Entry(run_dir, e, signature)
        out.append(_ENTRIES[signature])
    return out


class _Entry:
    """One report of the run as the index shows it."""

    def __init__(self, run_dir: Path, entry: dict[str, Any], signature: tuple[Any, ...] | None = None):
        self.signature = signature if signature is not None else _signature(run_dir, entry)
        self.entry = entry
        self.rel = str(entry.get("path", ""))
        self.dir = run_dir / self.rel if self.rel else run_dir
        self.results = _read_results(self.dir)
        self.params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
        self.stem = str(entry.get("notebook_stem") or Path(str(entry.get("notebook_name", "report"))).stem)
        html_name = entry.get("html")
        self.html = html_name if html_name and (self.dir / html_name).is_file() else None
        self.language = _language(
            self.params.get("language"),
            _page_language(self.dir / self.html) if self.html else None,
            self.results.get("language") if "language" in self.results.get("parameters", {}) else None,
        )
        # The same report in every language: notebook and parameters other than the language.
        rest = {k: v for k, v in self.params.items() if k != "language"}
        self.group = (self.stem, json.dumps(rest, sort_keys=True, default=str))

    def link(self, *names: str) -> str:
        return _href(*self.rel.split("/"), *names) if self.rel else _href(*names)

    def files(self) -> list[tuple[str, str]]:
        """(label, relative href) of every file a reader may want, in a stable order."""
        out = []
        for label, name in (("notebook", self.entry.get("notebook")), ("results", "results.json")):
            if name and (self.dir / name).is_file():
                out.append((label, self.link(name)))
        for sub in ("figures", "tables"):
            folder = self.dir / sub
            if folder.is_dir():
                for f in sorted(folder.iterdir()):
                    if f.is_file() and not f.name.startswith("."):
                        out.append((f"{sub}/{f.name}", self.link(sub, f.name)))
        return out


def _status_words(m: Messages, entry: dict[str, Any]) -> tuple[str, str]:
    status = str(entry.get("status") or "pending").replace("-", "_")
    key = "index.status.cached" if status == "ok" and entry.get("cached") else f"index.status.{status}"
    return status, (m.text(key) if m.has(key) else status)


def _headline_html(m: Messages, headline: dict[str, Any]) -> str:
    if not headline:
        return f'<span class="muted">{MISSING}</span>'
    items = "".join(
        f'<li><span class="label">{_e(headline_label(m, str(label)))}:</span> <span class="value">{_e(headline_value(m, str(label), value))}</span></li>'
        for label, value in headline.items()
    )
    return f'<ul class="headline">{items}</ul>'


def _report_row(m: Messages, shown: _Entry, versions: dict[str | None, _Entry], page_language: str) -> str:
    key = (m.language, page_language, shown.signature, tuple((lang, v.signature) for lang, v in versions.items()))
    if key not in _ROWS:
        _ROWS[key] = _render_row(m, shown, versions, page_language)
    return _ROWS[key]


def _render_row(m: Messages, shown: _Entry, versions: dict[str | None, _Entry], page_language: str) -> str:
    place_params = shown.results.get("parameters") if isinstance(shown.results.get("parameters"), dict) else shown.params
    place = _e(_place(m, {**place_params, **shown.params}, shown.results))
    others = {
        k: v
        for k, v in shown.params.items()
        if k not in ("province", "municipality", "period_start", "period_end", "language", "data_source")
    }
    if others:
        place += '<div class="small muted">' + ", ".join(f"{_e(k)} = {_e(v)}" for k, v in others.items()) + "</div>"
    status, words = _status_words(m, shown.entry)
    status_html = f'<span class="status-{_e(status)}">{_e(words)}</span>'
    if shown.entry.get("error"):
        status_html += (
            f"<details><summary>{_e(m.text('index.error_details'))}</summary><pre>{_e(shown.entry['error'])}</pre></details>"
        )
    duration = shown.entry.get("duration")
    if isinstance(duration, (int, float)):
        status_html += f'<div class="small muted">{_e(m.text("index.duration", seconds=round(duration, 1)))}</div>'
    if shown.html:
        link = f'<a href="{shown.link(shown.html)}"><strong>{_e(m.text("index.read_report"))}</strong></a>'
        if shown.language not in (None, page_language):
            link += f' <span class="small muted">({_e(m.text("index.in_language." + shown.language))})</span>'
    else:
        link = f'<span class="muted">{_e(m.text("index.no_report_file"))}</span>'
    for lang, other in versions.items():
        if other is shown or lang is None:
            continue
        label = _e(m.text("index.version." + lang))
        version = f'<a href="{other.link(other.html)}" hreflang="{lang}">{label}</a>' if other.html else label
        other_status, other_words = _status_words(m, other.entry)
        if other_status != "ok":  # a version that failed is named on every page, not only on its own
            version += f': <span class="status-{_e(other_status)}">{_e(other_words)}</span>'
        link += f'<div class="small">{version}</div>'
    files = shown.files()
    if files:
        items = "".join(f'<li><a href="{href}">{_e(_file_label(m, label))}</a></li>' for label, href in files)
        link += f"<details><summary>{_e(m.text('index.files', n=len(files)))}</summary><ul>{items}</ul></details>"
    return (
        f"<tr><td>{place}</td><td>{_headline_html(m, shown.entry.get('headline') or shown.results.get('headline') or {})}</td>"
        f"<td>{status_html}</td><td>{link}</td></tr>"
    )


def _file_label(m: Messages, label: str) -> str:
    return m.text(f"index.file.{label}") if label in ("notebook", "results") else label


def _overview_value(m: Messages, value: Any) -> tuple[str, str]:
    """(shown text, sort key) of an overview cell."""
    if isinstance(value, dict) and "value" in value:
        raw = value.get("value")
        return headline_value(m, "", {"kind": "percent", **value}), "" if raw is None else repr(float(raw))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return m.value(value, "percent"), repr(float(value))
    return MISSING, ""


_SORT_SCRIPT = """
<script>
(function(){document.querySelectorAll("table.sortable").forEach(function(t){
var hint=t.getAttribute("data-hint");if(hint){var c=t.createCaption();c.className="small muted";c.style.fontWeight="400";c.textContent=hint;}
t.querySelectorAll("thead th").forEach(function(th,i){th.tabIndex=0;th.setAttribute("aria-sort","none");
function key(r){var c=r.cells[i];return c.getAttribute("data-sort")!==null?c.getAttribute("data-sort"):c.textContent.trim();}
function go(){var asc=th.getAttribute("aria-sort")!=="ascending",b=t.tBodies[0],rows=[].slice.call(b.rows);
rows.sort(function(a,z){var x=key(a),y=key(z),nx=parseFloat(x),ny=parseFloat(y);
var r=(x===""||y==="")?(x===""?1:-1)*(asc?1:-1):(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y,document.documentElement.lang);return asc?r:-r;});
rows.forEach(function(r){b.appendChild(r);});t.querySelectorAll("thead th").forEach(function(h){h.setAttribute("aria-sort","none");});
th.setAttribute("aria-sort",asc?"ascending":"descending");}
th.addEventListener("click",go);th.addEventListener("keydown",function(e){if(e.key==="Enter"||e.key===" "){e.preventDefault();go();}});});});})();
</script>
""".strip()


def _sort_name(name: str) -> str:
    """Sort key of a place name: 's-Gravenhage and 't Zandt under G and Z, as in Dutch lists.

    >>> _sort_name("'s-Gravenhage")
    'gravenhage'
    """
    return re.sub(r"^['’](?:s|t)[- ]", "", name.strip().lower())


def _overview(m: Messages, reports: Iterable[_Entry]) -> str:
    """The sortable table of municipality profiles (results.json ``area_overview``), or ""."""
    rows = []
    for r in reports:
        ov = r.results.get("area_overview")
        if not isinstance(ov, dict):
            continue
        code = ov.get("municipality_code") or ov.get("municipality") or r.params.get("municipality") or r.params.get("province")
        name = ov.get("name") or ov.get("municipality_name") or code or MISSING
        shown = f"{name} ({code})" if code and name != code else str(name)
        shown_html = f'<a href="{r.link(r.html)}">{_e(shown)}</a>' if r.html else _e(shown)
        n = ov.get("initiatives")
        n_text, n_key = (
            (m.value(n, "count"), str(int(n))) if isinstance(n, (int, float)) and not isinstance(n, bool) else (MISSING, "")
        )
        coverage = ov.get("coverage_shrunk", ov.get("coverage"))
        if isinstance(coverage, (int, float)) and not isinstance(coverage, bool):
            coverage = {"value": coverage, "lo": ov.get("coverage_lo"), "hi": ov.get("coverage_hi"), "kind": "percent"}
        cov_text, cov_key = _overview_value(m, coverage)
        funnel = ov.get("funnel_position", ov.get("funnel"))
        funnel_text = MISSING
        if isinstance(funnel, str) and funnel:
            known = [k for k in (f"areas.position.{funnel}", f"index.funnel.{funnel}") if m.has(k)]
            funnel_text = m.text(known[0]) if known else m.term(funnel)
        rows.append(
            (
                _sort_name(str(name)),
                f'<tr><td data-sort="{_e(_sort_name(str(name)))}">{shown_html}</td><td class="num" data-sort="{n_key}">{_e(n_text)}</td>'
                f'<td data-sort="{cov_key}">{_e(cov_text)}</td><td>{_e(funnel_text)}</td></tr>',
            )
        )
    if not rows:
        return ""
    head = "".join(
        f'<th scope="col"{cls}>{_e(m.text("index.overview." + k))}</th>'
        for k, cls in (("municipality", ""), ("initiatives", ' class="num"'), ("coverage", ""), ("funnel", ""))
    )
    body = "".join(row for _, row in sorted(rows))
    return (
        f'<section class="overview"><h2>{_e(m.text("index.overview.heading"))}</h2><p>{_e(m.text("index.overview.intro"))}</p>'
        f'<div class="maexlab-table-wrap"><table class="sortable" data-hint="{_e(m.text("index.overview.sort_hint"))}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def index_page(run_dir: Path, manifest: dict[str, Any], language: str, reports: list[_Entry] | None = None) -> str:
    """The index page of a run in ``language`` (see :func:`write_index`)."""
    run_dir = Path(run_dir)
    if reports is None:
        reports = _entries(run_dir, manifest)
    m = messages(language)
    run = manifest.get("run", {}) if isinstance(manifest.get("run"), dict) else {}
    run_name = str(run.get("name") or run_dir.name)

    # One row per report; its versions in other languages are linked from that row.
    groups: dict[tuple[str, str], dict[str | None, _Entry]] = {}
    for r in reports:
        groups.setdefault(r.group, {}).setdefault(r.language, r)
    has_own = any(language in versions for versions in groups.values())
    by_notebook: dict[str, list[str]] = {}
    for versions in groups.values():
        shown = versions.get(language) or versions.get(None) or next(iter(versions.values()))
        by_notebook.setdefault(shown.stem, []).append(_report_row(m, shown, versions, language))

    switch = " · ".join(
        f'<strong lang="{lang}">{_e(m.text("index.native." + lang))}</strong>'
        if lang == language
        else f'<a href="{index_file(lang)}" hreflang="{lang}" lang="{lang}">{_e(messages(lang).text("index.native." + lang))}</a>'
        for lang in LANGUAGES
    )
    parts = [
        f'<nav class="lang-switch" aria-label="{_e(m.text("index.switch_label"))}">{_e(m.text("index.switch_label"))} {switch}</nav>'
    ]
    parts.append(f"<h1>{_e(m.text('index.heading'))}</h1>")
    started = str(run.get("started") or "")
    params_file = run.get("params_file") or MISSING
    if re.match(r"\d{4}-\d{2}-\d{2}", started):
        run_line = m.text("index.run_line", run=run_name, params_file=params_file, started=started[:10])
    else:
        run_line = m.text("index.run_line_undated", run=run_name, params_file=params_file)
    counts: dict[str, int] = {}
    for r in reports:
        words = _status_words(m, r.entry)[1]
        counts[words] = counts.get(words, 0) + 1
    summary = m.text(
        "index.summary",
        total=len(reports),
        parts=", ".join(m.text("index.status_count", n=n, status=s) for s, n in counts.items()),
    )
    status = str(manifest.get("status") or "")
    # "all done" would repeat the counts; only a run that did not finish well says so in words.
    shown_status = status != "ok" and m.has(f"index.run_status.{status}")
    status_text = (
        f" {m.text('index.run_status.' + status)[:1].upper()}{m.text('index.run_status.' + status)[1:]}." if shown_status else ""
    )
    parts.append(f'<p class="muted">{_e(run_line)} {_e(summary)}{_e(status_text)}</p>')
    parts.append(f"<p>{_e(m.text('index.intro'))}</p>")
    if any(r.results.get("synthetic") is True or r.entry.get("data_notice") for r in reports):
        parts.append(
            f'<p class="maexlab-banner maexlab-synthetic synthetic" role="note">{_e(m.text("common.synthetic_banner"))}</p>'
        )
    if reports and not has_own:
        parts.append(f'<p class="muted">{_e(m.text("index.only_other_language"))}</p>')
    own = [r for r in reports if r.language in (language, None)] or reports
    overview = _overview(m, own)
    parts.append(overview)
    if not reports:
        parts.append(f"<p>{_e(m.text('index.no_reports'))}</p>")
    head = "".join(f'<th scope="col">{_e(m.text("index.columns." + k))}</th>' for k in ("place", "headline", "status", "report"))
    for stem, rows in by_notebook.items():
        title_key, question_key = f"notebooks.{stem}.title", f"notebooks.{stem}.question"
        title = m.text(title_key) if m.has(title_key) else stem
        parts.append(f'<section class="notebook"><h2 id="{_e(stem)}">{_e(title)}</h2>')
        if m.has(question_key):
            parts.append(f'<p class="question">{_e(m.text(question_key))}</p>')
        parts.append(
            f'<div class="maexlab-table-wrap"><table class="reports"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>'
        )
    if (run_dir / "manifest.json").is_file():
        parts.append(f'<footer class="maexlab-footer"><a href="manifest.json">{_e(m.text("index.file.manifest"))}</a></footer>')
    return _page(
        language, m.text("index.page_title", run=run_name), "\n".join(p for p in parts if p), _SORT_SCRIPT if overview else ""
    )


def write_index(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """Write the run's index pages, ``index.html`` (Dutch) and ``index.en.html`` (English); return the first.

    Each page lists every report of ``manifest["reports"]``, showing the version in its own
    language where there is one and linking the other; the two pages link each other.

    >>> write_index(Path("outputs/default"), manifest)  # doctest: +SKIP
    PosixPath('outputs/default/index.html')
    """
    run_dir = Path(run_dir)
    reports = _entries(run_dir, manifest)
    for language in sorted(LANGUAGES, key=lambda lang: lang == DEFAULT_LANGUAGE):  # the Dutch page last
        _atomic_write_text(run_dir / index_file(language), index_page(run_dir, manifest, language, reports))
    return run_dir / index_file(DEFAULT_LANGUAGE)
