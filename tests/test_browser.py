"""The reports and the index as a reader's browser shows them: headless Chromium over DevTools.

A small run (a generated report notebook of the new kind plus the real 00_data_profile, in
Dutch and in English) is opened page by page at 1,280 px: every image must have loaded,
no request may leave the file, no table may widen the page, and ``<title>`` and ``lang``
must be right. Skips with the reason when Chromium is not installed (``make setup`` installs
Debian's ``chromium`` where it can).

Screenshots for docs/screenshots/ come from the same client::

    python tests/test_browser.py outputs/default docs/screenshots
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 1280
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
)


def find_chromium() -> str | None:
    """The Chromium binary: ``$MAEXLAB_CHROMIUM`` or the first of the usual names on PATH."""
    explicit = os.environ.get("MAEXLAB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol (websocket-client).

    Every request the page attempts is recorded; http(s) requests are blocked as well, so a
    faulty page is caught without reaching the network.
    """

    def __init__(self, binary: str, width: int = WIDTH, height: int = 900):
        import websocket

        self.profile = tempfile.mkdtemp(prefix="maexlab-chromium-")
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{binary} did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            pages = [t for t in json.load(response) if t.get("type") == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for method in ("Page.enable", "Network.enable", "Runtime.enable"):
            self.send(method)
        self.send("Network.setBlockedURLs", urls=["http://*", "https://*", "ws://*", "wss://*", "ftp://*"])
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def send(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def open(self, path: Path) -> list[str]:
        """Load ``path``; return the URL of every request it made other than file: and data:."""
        self.events.clear()
        self.send("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        time.sleep(0.2)  # late requests (fonts, lazy images) would show up now
        self.send("Runtime.evaluate", expression="1")  # drains the events queued meanwhile
        urls = [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        return [u for u in urls if not u.startswith(("file:", "data:"))]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def page_facts(self) -> dict:
        return self.evaluate(
            """({title: document.title, lang: document.documentElement.lang,
                 images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth})),
                 scrollWidth: Math.max(document.body.scrollWidth, document.documentElement.scrollWidth),
                 scripts: document.scripts.length,
                 text: document.body.innerText})"""
        )

    def screenshot(self, height: int) -> bytes:
        shot = self.send(
            "Page.captureScreenshot", format="png", clip={"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


# --- a small run ----------------------------------------------------------------------------------

#: A report notebook of the new kind: parameters, intro, findings, one table, one figure, finish.
FIXTURE_CELLS = [
    (
        "parameters",
        'data_source = "embedded"  # the embedded synthetic data\n'
        "province = None  # one of the 12 provinces, or None for all\n"
        "municipality = None  # CBS code, or None\n"
        "period_start = None  # first year, or None\n"
        "period_end = None  # last year, or None\n"
        "min_group_size = 10  # smallest group shown\n"
        "seed = 20261128  # seed\n"
        'language = "nl"  # report language: "nl" or "en"\n'
        "output_dir = None  # output folder",
    ),
    (
        None,
        "from maexlab.reporting import Col, open_report\n"
        "import matplotlib.pyplot as plt\n"
        'report = open_report("01_funding_gaps", data_source=data_source, province=province, municipality=municipality,\n'
        "                     period_start=period_start, period_end=period_end, min_group_size=min_group_size,\n"
        "                     seed=seed, output_dir=output_dir, language=language)\n"
        "report.intro()",
    ),
    ("nbval-ignore-output", "report.findings_placeholder()"),
    (
        None,
        "funding = report.data.funding\n"
        'table = funding.groupby("source", as_index=False).agg(n=("funding_id", "size"), requested_eur=("amount_requested", "sum"),\n'
        '                                                      granted_eur=("amount_granted", "sum"))\n'
        'table["coverage"] = table["granted_eur"] / table["requested_eur"]\n'
        'report.heading("notebooks.01_funding_gaps.title")\n'
        'report.show(table, "by_source", [Col("source", "term"), Col("n", "count"), Col("requested_eur", "money"),\n'
        '            Col("granted_eur", "money"), Col("coverage", "percent")], keep=("source",))',
    ),
    (
        None,
        "fig, ax = plt.subplots(figsize=(8, 3))\n"
        'ax.bar(range(len(table)), table["coverage"])\n'
        'report.figure(fig, "coverage_by_source")\n'
        'report.headline("columns.coverage", float(table["granted_eur"].sum() / table["requested_eur"].sum()), kind="percent")\n'
        'report.finding("common.findings_none")',
    ),
    (None, "report.finish()"),
]


def fixture_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    for tag, source in FIXTURE_CELLS:
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": [tag]} if tag else {}))
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# A markdown cell the report must not show"))
    nb.metadata["kernelspec"] = {"name": "maexlab", "display_name": "Python (maexlab)", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def notebook_has_language(path: Path) -> bool:
    from maexlab.runner.render import notebook_parameters

    return "language" in notebook_parameters(nbformat.read(str(path), as_version=4))


def run_set(tmp: Path, name: str, notebooks: list[str], grid: str) -> Path:
    spec = tmp / f"{name}.yaml"
    spec.write_text(f"name: {name}\nnotebooks: {json.dumps(notebooks)}\ndefaults: {{}}\n{grid}", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    command = [sys.executable, "-m", "maexlab.cli", "run", str(spec), "--out", str(tmp / "out"), "--notebooks-dir"]
    done = subprocess.run(
        [*command, str(tmp / "notebooks"), "--workers", "2", "--progress", "log"],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp / "out" / name


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> list[Path]:
    """Run folders of a small run: the fixture report and 00_data_profile, in both languages where possible."""
    tmp = tmp_path_factory.mktemp("browser")
    (tmp / "notebooks").mkdir()
    fixture_notebook(tmp / "notebooks" / "01_funding_gaps.ipynb")
    real = ROOT / "notebooks" / "00_data_profile.ipynb"
    shutil.copy(real, tmp / "notebooks" / real.name)
    both = "grid:\n  language: [nl, en]\n"
    if notebook_has_language(real):
        return [run_set(tmp, "small", ["01_funding_gaps.ipynb", real.name], both)]
    # 00_data_profile from before the report languages: one run of its own, in its one language.
    return [run_set(tmp, "small", ["01_funding_gaps.ipynb"], both), run_set(tmp, "legacy", [real.name], "runs:\n  - {}\n")]


def reports_of(run_dir: Path) -> list[tuple[dict, Path]]:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    return [(r, run_dir / r["path"] / r["html"]) for r in manifest["reports"]]


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (make setup installs Debian's chromium as root; or set MAEXLAB_CHROMIUM)")
    try:
        b = Browser(binary)
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"Chromium would not start headless: {exc}")
    yield b
    b.close()


def check_page(browser: Browser, path: Path) -> dict:
    from maexlab.runner.render import external_references

    assert external_references(path.read_text(encoding="utf-8")) == [], path.name
    requests = browser.open(path)
    facts = browser.page_facts()
    assert requests == [], f"{path.name} tried to fetch {requests}"
    assert all(i["complete"] and i["width"] > 0 for i in facts["images"]), f"{path.name}: images not loaded: {facts['images']}"
    assert facts["scrollWidth"] <= WIDTH, f"{path.name} is {facts['scrollWidth']} px wide at a {WIDTH} px window"
    return facts


def test_reports_and_index_in_a_real_browser(small_run, browser):
    from maexlab.reporting.i18n import Messages

    languages_seen = set()
    for run_dir in small_run:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        for entry, html_path in reports_of(run_dir):
            assert entry["status"] == "ok", entry
            facts = check_page(browser, html_path)
            results = json.loads((html_path.parent / "results.json").read_text(encoding="utf-8"))
            figures = list((html_path.parent / "figures").glob("*.png"))
            assert len(facts["images"]) >= len(figures) > 0, (
                f"{html_path.name}: {len(facts['images'])} images, {len(figures)} figures"
            )
            language = entry["params"].get("language")
            if language is None:  # a notebook from before the report languages
                assert facts["lang"] == "en"
            else:
                languages_seen.add(language)
                m = Messages(language)
                assert facts["lang"] == language
                assert facts["title"] == m.text("index.report.title", title=results["title"], place=m.text("index.national"))
                assert m.text("common.synthetic_banner") in facts["text"]
                assert "A markdown cell the report must not show" not in facts["text"]
                assert "report.intro()" not in facts["text"] and "PosixPath" not in facts["text"]
                if html_path.stem == "00_data_profile":  # a framework notebook: its findings were filled in
                    assert m.text("common.findings_pending") not in facts["text"]
                    assert m.text("common.findings_heading") in facts["text"]
            assert facts["scripts"] == 0
        languages_of = {f"{r['path']}/{r['html']}": r["params"].get("language") for r in manifest["reports"]}
        for language in ("nl", "en"):
            index = run_dir / ("index.html" if language == "nl" else "index.en.html")
            facts = check_page(browser, index)
            m = Messages(language)
            assert facts["lang"] == language and facts["title"] == m.text("index.page_title", run=manifest["run"]["name"])
            for entry in manifest["reports"]:
                assert m.text(f"notebooks.{entry['notebook_stem']}.title") in facts["text"]
            hrefs = browser.evaluate("[...document.links].map(a => a.getAttribute('href'))")
            assert ("index.en.html" if language == "nl" else "index.html") in hrefs
            for href in hrefs:
                assert not re.match(r"[a-z]+:", href), href  # relative links only
                assert (run_dir / urllib.request.url2pathname(href)).is_file(), href
            # The main link of each row is the report in the page's language, where the run has one.
            firsts = browser.evaluate(
                "[...document.querySelectorAll('table.reports tbody tr')].map(r => r.querySelector('a').getAttribute('href'))"
            )
            shown = {languages_of[urllib.request.url2pathname(h)] for h in firsts}
            assert shown == ({language} if language in languages_of.values() else set(languages_of.values())), shown
    assert languages_seen == {"nl", "en"}


def test_overview_of_municipality_profiles_sorts_in_the_browser(tmp_path, browser):
    from maexlab.runner.render import write_index

    reports = []
    for code, name, coverage in (("GM0518", "'s-Gravenhage", 0.55), ("GM0363", "Amsterdam", 0.65), ("GM0344", "Utrecht", 0.6)):
        folder = tmp_path / "05_municipality_profile" / code
        folder.mkdir(parents=True)
        overview = {"municipality": code, "name": name, "initiatives": 100, "funnel_position": "within"}
        overview |= {"coverage_shrunk": coverage, "coverage_lo": coverage - 0.05, "coverage_hi": coverage + 0.05}
        (folder / "results.json").write_text(json.dumps({"area_overview": overview}), encoding="utf-8")
        (folder / "nb.html").write_text('<!DOCTYPE html><html lang="nl"><title>x</title>', encoding="utf-8")
        reports.append({"path": f"05_municipality_profile/{code}", "notebook_stem": "05_municipality_profile", "html": "nb.html",
                        "params": {"municipality": code}, "status": "ok"})  # fmt: skip
    check_page(browser, write_index(tmp_path, {"status": "ok", "run": {"name": "m"}, "reports": reports}))
    names = "[...document.querySelectorAll('table.sortable tbody td:first-child')].map(c => c.textContent.split(' (')[0])"
    assert browser.evaluate(names) == ["Amsterdam", "'s-Gravenhage", "Utrecht"]  # 's-Gravenhage under G
    browser.evaluate("document.querySelectorAll('table.sortable thead th')[2].click()")
    assert browser.evaluate(names) == ["'s-Gravenhage", "Utrecht", "Amsterdam"]  # by coverage, ascending
    browser.evaluate("document.querySelectorAll('table.sortable thead th')[2].click()")
    assert browser.evaluate(names) == ["Amsterdam", "Utrecht", "'s-Gravenhage"]
    assert browser.evaluate("document.querySelector('table.sortable caption').textContent") != ""


# --- screenshots for docs/screenshots/ -------------------------------------------------------------


def save_small_png(png: bytes, path: Path, colours: int = 64) -> int:
    """Write ``png`` with a reduced palette (a screenshot of text needs few colours); returns bytes written."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def screenshots(run_dir: Path, out: Path, height: int = 1500) -> list[Path]:
    """Screenshots of both index pages and of one report per language of ``run_dir``."""
    binary = find_chromium()
    if binary is None:
        raise SystemExit("Chromium is not installed")
    out.mkdir(parents=True, exist_ok=True)
    pages = [("index-nl", run_dir / "index.html"), ("index-en", run_dir / "index.en.html")]
    taken: dict[str, Path] = {}
    for entry, html_path in reports_of(run_dir):
        language = entry["params"].get("language") or "en"
        if entry["status"] == "ok" and language not in taken and entry.get("notebook_stem") == "01_funding_gaps":
            taken[language] = html_path
    pages += [(f"report-{lang}", path) for lang, path in sorted(taken.items())]
    browser = Browser(binary, height=height)
    written = []
    try:
        for name, page in pages:
            browser.open(page)
            target = out / f"{name}.png"
            shown = min(height, int(browser.evaluate("Math.ceil(document.querySelector('main').getBoundingClientRect().bottom)")))
            size = save_small_png(browser.screenshot(shown), target)
            print(f"{target}: {size / 1024:.0f} KB")
            written.append(target)
    finally:
        browser.close()
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python tests/test_browser.py RUN_FOLDER OUT_FOLDER")
    screenshots(Path(sys.argv[1]), Path(sys.argv[2]))
