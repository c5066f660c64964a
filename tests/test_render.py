"""Report pages and index pages (maexlab.runner.render), checked on their HTML without a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from maexlab.reporting.i18n import Messages
from maexlab.runner.render import (
    export_html,
    external_references,
    headline_value,
    index_file,
    report_page,
    write_index,
)

ROOT = Path(__file__).resolve().parents[1]
IMG = re.compile(r"<img\b[^>]*\bsrc=\"data:image/", re.IGNORECASE)


def made_report(folder: Path, language: str) -> Path:
    """An executed notebook of the new kind, made in this process: the report's calls, their outputs captured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from maexlab.reporting import Col, open_report

    InteractiveShell.instance()  # display() publishes rich outputs only inside a shell
    with capture_output() as captured:
        r = open_report("01_funding_gaps", province="Zeeland", output_dir=str(folder), language=language, intro=True)
        r.heading("notebooks.01_funding_gaps.title")
        table = pd.DataFrame({"source": ["fund_grant", "government_subsidy"], "n": [40, 12], "coverage": [0.5, 0.61]})
        r.show(table, "t", [Col("source", "term"), Col("n", "count"), Col("coverage", "percent")], keep=("source",))
        for name in ("line", "bars"):
            fig, ax = plt.subplots(figsize=(4, 2))
            ax.plot([0, 1])
            r.figure(fig, name)
        r.headline("columns.coverage", 0.55, kind="percent", lo=0.5, hi=0.6)
        r.finding("common.findings_none")
        r.finish()
    outputs: list = []
    for o in captured.outputs:
        display_id = (getattr(o, "transient", None) or {}).get("display_id")
        node = nbformat.v4.new_output("display_data", data=o.data, metadata=o.metadata)
        node["_id"] = display_id
        if getattr(o, "update", False):  # update_display: the earlier output is replaced in place
            outputs = [node if x["_id"] == display_id else x for x in outputs]
        else:
            outputs.append(node)
    for node in outputs:
        del node["_id"]
    nb = nbformat.v4.new_notebook()
    params = f'language = "{language}"  # report language\nprovince = "Zeeland"'
    nb.cells = [
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("## A researcher's note the HTML reader does not see"),
        nbformat.v4.new_code_cell("sections.everything(report)", outputs=outputs),
        # the repr of a returned table and of a path: not report text
        nbformat.v4.new_code_cell(
            "table",
            outputs=[
                nbformat.v4.new_output("execute_result", data={"text/html": "<table class='dataframe'><td>raw</td></table>"})
            ],
        ),
        nbformat.v4.new_code_cell(
            "report.finish()", outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "PosixPath('x')"})]
        ),
    ]
    path = folder / "01_funding_gaps.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module", params=["nl", "en"])
def report(request, tmp_path_factory) -> tuple[str, Path, str]:
    folder = tmp_path_factory.mktemp(f"report-{request.param}")
    notebook = made_report(folder, request.param)
    html_path = folder / "01_funding_gaps.html"
    export_html(notebook, html_path)
    return request.param, folder, html_path.read_text(encoding="utf-8")


def test_report_page_has_every_figure_and_nothing_from_elsewhere(report):
    _, folder, page = report
    figures = sorted((folder / "figures").glob("*.png"))
    assert len(figures) == 2
    assert len(IMG.findall(page)) >= len(figures)
    assert external_references(page) == []
    assert "<script" not in page.lower() and "<link" not in page.lower()


def test_report_page_speaks_its_language(report):
    language, _, page = report
    m = Messages(language)
    assert f'<html lang="{language}">' in page
    title = m.text("index.report.title", title=m.text("notebooks.01_funding_gaps.title"), place="Zeeland")
    assert f"<title>{title}</title>" in page
    assert "maexlab-banner maexlab-synthetic" in page and m.text("common.synthetic_banner") in page
    assert m.text("common.findings_heading") in page and m.text("common.findings_pending") not in page
    assert m.text("vocabulary.government_subsidy") in page
    assert 'class="num"' in page  # the number columns are right-aligned


def test_report_page_shows_outputs_only(report):
    _, _, page = report
    assert "researcher&#x27;s note" not in page and "researcher's note" not in page
    assert "sections.everything" not in page and "PosixPath" not in page and ">raw<" not in page


def test_export_is_deterministic(report, tmp_path):
    _, folder, page = report
    again = tmp_path / "again.html"
    export_html(folder / "01_funding_gaps.ipynb", again)
    assert again.read_text(encoding="utf-8") == page


def test_incomplete_report_says_where_it_stopped(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('language = "nl"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "1/0",
            execution_count=3,
            outputs=[
                nbformat.v4.new_output(
                    "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["\x1b[31mTraceback\x1b[0m"]
                )
            ],
        ),
    ]
    page = report_page(nb, name="x")
    m = Messages("nl")
    assert m.text("index.report.incomplete_cell", cell="3", error="ZeroDivisionError: division by zero") in page.replace(
        "&#x27;", "'"
    )
    assert "\x1b" not in page
    given = report_page(nb, incomplete="stopped at cell 7: KeyError: 'x'", name="x")
    assert "cel 7" in given and 'role="alert"' in given
    other = report_page(nb, incomplete="timed out after 600 s", name="x")
    assert "Onvolledig rapport: timed out after 600 s." in other


def test_old_notebooks_keep_their_markdown_and_prints():
    """A notebook without a language parameter (from before the report languages) still reads."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · Funding gaps\n\nSome **text** and ![x](https://example.org/a.png)"),
        nbformat.v4.new_code_cell("seed = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "print(...)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="SYNTHETIC DATA: made up\n")]
        ),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[nbformat.v4.new_output("stream", name="stderr", text="FutureWarning: noise\n")],
        ),
    ]
    page = report_page(nb, name="01_funding_gaps")
    assert '<html lang="en">' in page and "<title>01 · Funding gaps – national</title>" in page
    assert "<strong>text</strong>" in page and "SYNTHETIC DATA: made up" in page and "FutureWarning" not in page
    assert "maexlab-synthetic" in page  # the printed notice also gets the banner
    assert external_references(page) == [] and "¶" not in page


def test_outputs_cannot_fetch_or_run_anything():
    nasty = (
        '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/x.css">'
        '<img src="https://example.org/p.png"><div style="background:url(https://example.org/b.png)">x</div>'
        '<style>@import url("https://fonts.example/f.css");</style><a href="https://maex.nl">MAEX</a>'
        '<p onclick="alert(1)">p</p>'
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('language = "en"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data={"text/html": nasty})]),
    ]
    page = report_page(nb, name="x")
    assert external_references(page) == []
    assert "<script" not in page and "onclick" not in page
    assert '<a href="https://maex.nl">MAEX</a>' in page  # a link is only followed when clicked
    assert external_references(nasty) == [
        "https://cdn.example/x.js",
        "//cdn.example/x.css",
        "https://example.org/p.png",
        "url(https://example.org/b.png)",
        'url("https://fonts.example/f.css")',
        '@import url("https://fonts.example/f.css");',
    ]


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_export_every_image(path, tmp_path):
    nb = nbformat.read(str(path), as_version=4)
    images = sum(
        any(k.startswith("image/") for k in o.get("data", {})) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    target = tmp_path / "x.html"
    export_html(path, target)
    page = target.read_text(encoding="utf-8")
    assert len(IMG.findall(page)) == images
    assert external_references(page) == []
    assert re.search(r"<title>[^<]+ – [^<]+</title>", page)


# --- the index ----------------------------------------------------------------------------------


def fake_report(run_dir: Path, path: str, results: dict, html_lang: str | None = "nl", files=("figures/a.png",)) -> None:
    folder = run_dir / path
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    if html_lang:
        (folder / "nb.html").write_text(f'<!DOCTYPE html>\n<html lang="{html_lang}"><title>x</title>', encoding="utf-8")
    for f in files:
        (folder / f).parent.mkdir(parents=True, exist_ok=True)
        (folder / f).write_bytes(b"x")


def entry(path: str, stem: str, params: dict, status: str = "ok", **extra) -> dict:
    return {
        "path": path,
        "notebook_stem": stem,
        "notebook_name": f"{stem}.ipynb",
        "html": "nb.html",
        "params": params,
        "status": status,
        **extra,
    }


@pytest.fixture
def two_language_run(tmp_path: Path) -> tuple[Path, dict]:
    headline = {
        "columns.coverage": {"value": 0.593, "kind": "percent", "lo": 0.561, "hi": 0.624},
        "decided applications": 12021,
        "coverage (granted/requested)": 0.5926,
        "verdict: about 60% of needs met": "supported",
    }
    for lang in ("nl", "en"):
        fake_report(tmp_path, f"01_funding_gaps/{lang}", {"synthetic": True, "headline": headline, "language": lang}, lang)
    fake_report(tmp_path, "03_continuity/nl", {}, "nl")
    fake_report(tmp_path, "03_continuity/en", {}, None)
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    manifest = {
        "status": "failed",
        "run": {"name": "default", "params_file": "params/default.yaml", "started": "2026-03-01T09:00:00+00:00"},
        "reports": [
            entry("01_funding_gaps/nl", "01_funding_gaps", {"language": "nl"}, headline=headline, duration=12.34),
            entry("01_funding_gaps/en", "01_funding_gaps", {"language": "en"}, headline=headline),
            entry("03_continuity/nl", "03_continuity", {"language": "nl"}, cached=True),
            entry("03_continuity/en", "03_continuity", {"language": "en"}, status="failed", error="ValueError: <b>no rows</b>"),
        ],
    }
    return tmp_path, manifest


def test_index_in_both_languages_links_each_other_and_its_reports(two_language_run):
    run_dir, manifest = two_language_run
    assert write_index(run_dir, manifest) == run_dir / "index.html"
    nl = (run_dir / "index.html").read_text(encoding="utf-8")
    en = (run_dir / index_file("en")).read_text(encoding="utf-8")
    assert '<html lang="nl">' in nl and '<html lang="en">' in en
    assert 'href="index.en.html"' in nl and 'href="index.html"' in en
    for page, lang, other in ((nl, "nl", "en"), (en, "en", "nl")):
        m = Messages(lang)
        rows = re.findall(r"<tr><td>.*?</tr>", page, re.DOTALL)
        assert len(rows) == 2  # one row per report, its other language linked from it
        assert f'href="01_funding_gaps/{lang}/nb.html"><strong>' in rows[0]
        assert f'href="01_funding_gaps/{other}/nb.html" hreflang="{other}"' in rows[0]
        assert m.text("notebooks.01_funding_gaps.title") in page and m.text("notebooks.01_funding_gaps.question") in page
        assert m.text("common.synthetic_banner") in page
        assert m.text("index.status.ok") in page and m.text("index.status.cached") in page
        assert "<script" not in page and external_references(page) == []
        assert Messages(lang).text("index.status.failed") in page  # the English 03 failed: both pages say so
    assert "&lt;b&gt;no rows&lt;/b&gt;" in en
    assert 'Deel van de aanvraag toegekend:</span> <span class="value">59% (56-62%)' in nl
    assert "12.021" in nl and "12,021" in en and "59,3%" in nl and "ondersteund" in nl and "supported" in en
    assert "1 maart 2026" in nl and "1 March 2026" in en
    assert "rekentijd 12,3 s" in nl
    # the English 03 report failed before its page was written: the row says so in words
    assert Messages("en").text("index.status.failed") in en and Messages("en").text("index.no_report_file") in en


def test_headline_values_are_formatted_for_the_locale():
    nl, en = Messages("nl"), Messages("en")
    assert headline_value(nl, "x", {"value": 15000, "kind": "money"}) == "€\xa015.000"
    assert headline_value(en, "x", {"value": 0.52, "kind": "number2", "lo": 0.4, "hi": 0.67}) == "0.52 (0.40 to 0.67)"
    assert headline_value(nl, "amount granted", 154651042) == "€\xa0154.651.042"
    assert headline_value(en, "HR org_strengthening_received", 0.519) == "0.52"
    assert headline_value(nl, "initiatives", 2500) == "2.500" and headline_value(en, "x", None) == "–"
    assert headline_value(nl, "x", "government_subsidy") == "overheidssubsidie"


def test_index_overview_of_municipality_profiles(tmp_path):
    reports = []
    for code, name, n, cov, funnel in (
        ("GM0363", "Amsterdam", 275, 0.61, "above"),
        ("GM0599", "Rotterdam", 87, 0.55, "within"),
        ("GM0080", "Leeuwarden", 12, None, "unknown"),
    ):
        # the shape maexlab.areas.sections.place_overview records
        overview = {"municipality": code, "level": "municipality", "name": name, "initiatives": n, "funnel_position": funnel}
        overview |= {"coverage_shrunk": cov, "coverage_lo": cov and cov - 0.05, "coverage_hi": cov and cov + 0.05}
        fake_report(tmp_path, f"05_municipality_profile/{code}", {"area_overview": overview, "language": "nl"}, "nl")
        reports.append(entry(f"05_municipality_profile/{code}", "05_municipality_profile", {"municipality": code}))
    write_index(tmp_path, {"status": "ok", "run": {"name": "municipalities"}, "reports": reports})
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    table = page[page.index('<table class="sortable"') : page.index("</table>")]
    assert [re.sub("<[^>]+>", "", c) for c in re.findall(r"<tr><td data-sort=[^>]*>(.*?)</td>", table)] == [
        "Amsterdam (GM0363)",
        "Leeuwarden (GM0080)",
        "Rotterdam (GM0599)",
    ]
    assert "61% (56-66%)" in table and "boven de 95%-grens" in table and 'data-sort="275"' in table
    assert "<script>" in page and external_references(page) == []
    # the index of a run without profiles has no overview and no script
    write_index(tmp_path, {"status": "ok", "run": {"name": "x"}, "reports": reports[:0]})
    assert "<script" not in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_index_of_a_dutch_only_run_still_reads_in_english(tmp_path):
    fake_report(tmp_path, "01_funding_gaps/utrecht", {"language": "nl"}, "nl")
    reports = [entry("01_funding_gaps/utrecht", "01_funding_gaps", {"province": "Utrecht"})]
    write_index(tmp_path, {"status": "ok", "run": {"name": "provinces"}, "reports": reports})
    en = (tmp_path / "index.en.html").read_text(encoding="utf-8")
    m = Messages("en")
    assert m.text("index.only_other_language") in en and f"({m.text('index.in_language.nl')})" in en
    assert 'href="01_funding_gaps/utrecht/nb.html"' in en and "<td>Utrecht</td>" in en
    nl = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert Messages("nl").text("index.only_other_language") not in nl  # the Dutch page has its own reports


def test_index_rewritten_after_each_report_shows_every_change(two_language_run):
    # The runner rewrites the index after every report and keeps rows that did not change; a row
    # must follow its entry (status, duration) and its folder (a report replaced by a new one).
    import os
    import shutil

    run_dir, manifest = two_language_run
    write_index(run_dir, manifest)
    before = (run_dir / index_file("en")).read_text(encoding="utf-8")
    write_index(run_dir, manifest)
    assert (run_dir / index_file("en")).read_text(encoding="utf-8") == before  # unchanged: the same page
    manifest["reports"][3].update(status="ok", error=None, duration=7.0)
    fake_report(run_dir, "03_continuity/en.new", {}, "en")
    (run_dir / "03_continuity" / "en.new" / "figures" / "survival_new.png").write_bytes(b"png")
    shutil.rmtree(run_dir / "03_continuity" / "en")
    os.replace(run_dir / "03_continuity" / "en.new", run_dir / "03_continuity" / "en")  # as a finished report lands
    write_index(run_dir, manifest)
    after = (run_dir / index_file("en")).read_text(encoding="utf-8")
    assert "no rows" not in after
    assert "computing time 7 s" in after and "figures/survival_new.png" in after
    # the same entry, its folder replaced again (a report put back by hand): the row lists its files
    fake_report(run_dir, "03_continuity/en.again", {}, "en", files=("figures/survival_again.png",))
    shutil.rmtree(run_dir / "03_continuity" / "en")
    os.replace(run_dir / "03_continuity" / "en.again", run_dir / "03_continuity" / "en")
    write_index(run_dir, manifest)
    again = (run_dir / index_file("en")).read_text(encoding="utf-8")
    assert "figures/survival_again.png" in again and "figures/survival_new.png" not in again
