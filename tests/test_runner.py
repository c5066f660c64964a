"""Tests for maexlab.runner (``maexlab run``): parameter sets, slugs, local and Dask runs, resume."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from maexlab.data.schema import PROVINCES
from maexlab.runner import params as params_mod
from maexlab.runner.cli_run import add_run_parser, run_command
from maexlab.runner.params import ParamsError, load_parameter_set, normalise_municipality
from maexlab.runner.slug import param_slug, slugify

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
FAKE_DATA = {"GM0363": "Noord-Holland", "GM0796": "Noord-Brabant", "GM0080": "Fryslân", "GM0599": "Zuid-Holland"}


#: Prefix of a runner started in a subprocess that a test interrupts: Python ignores Ctrl-C
#: in a process that starts with SIGINT ignored (as a background job of a script, e.g. a CI
#: runner's), so the child gets the default handler back, as in a terminal.
INTERRUPTIBLE = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "


@pytest.fixture
def nbdir(tmp_path: Path) -> Path:
    d = tmp_path / "notebooks"
    d.mkdir()
    shutil.copy(FIXTURES / "tiny_report.ipynb", d / "tiny_report.ipynb")
    return d


@pytest.fixture
def fake_data(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def lookup(source: str) -> dict[str, str | None]:
        calls.append(source)
        return dict(FAKE_DATA)

    monkeypatch.setattr(params_mod, "municipalities_in_data", lookup)
    return calls


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A stable stand-in data folder (its fingerprint enters the job hash)."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "initiatives.csv").write_text("initiative_id,municipality_code\nI1,GM0363\n", encoding="utf-8")
    return d


def write(tmp_path: Path, text: str, name: str = "set.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def errors_of(path: Path, nbdir: Path) -> str:
    with pytest.raises(ParamsError) as info:
        load_parameter_set(path, nbdir)
    return str(info.value)


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "runs:\n  - {colour: red}\n",
            r"set\.yaml: runs\[0\]\.colour: unknown parameter 'colour' for notebook tiny_report\.ipynb",
        ),
        (
            "defaults: {min_group_size: ten}\n",
            r"set\.yaml: defaults\.min_group_size: wrong type for 'min_group_size'.*expected int",
        ),
        ("defaults: {min_group_size: true}\n", r"defaults\.min_group_size: wrong type .*got bool"),
        ("defaults: {fail: 1}\n", r"defaults\.fail: wrong type for 'fail'.*expected bool"),
        ("runs:\n  - {mode: sloppy}\n", r"runs\[0\]\.mode: 'sloppy' is not an option of 'mode'.*one of: quick, thorough"),
        ("runs:\n  - {province: Frisland}\n", r"runs\[0\]\.province: 'Frisland' is not a province \(did you mean 'Fryslân'\?\)"),
        ("grid:\n  province: [utrecht]\n", r"grid\.province: 'utrecht' is not a province \(did you mean 'Utrecht'\?\)"),
        (
            "runs:\n  - {municipality: GM9999}\n",
            r"runs\[0\]\.municipality: municipality 'GM9999' is not in data_source 'embedded'",
        ),
        ("runs:\n  - {municipality: Amsterdam}\n", r"runs\[0\]\.municipality: 'Amsterdam' is not a CBS municipality code"),
        (
            "runs:\n  - {province: Utrecht, municipality: '0363'}\n",
            r"runs\[0\]\.municipality: municipality 'GM0363' lies in Noord-Holland, not in Utrecht",
        ),
        ("defaults: {output_dir: /tmp/x}\n", r"defaults\.output_dir: 'output_dir' is set by the runner"),
        ("runs:\n  - {province: all}\n", r"runs\[0\]\.province: 'all' is only allowed in grid"),
        ("runs:\n  - {period_start: 2024, period_end: 2020}\n", r"period_start 2024 is after period_end 2020"),
        ("notebooks: [missing_*]\n", r"set\.yaml: notebooks\[0\]: 'missing_\*' matches no notebook"),
        ("gird:\n  province: all\n", r"set\.yaml: gird: unknown key \(did you mean 'grid'\?\)"),
        ("runs: {province: Utrecht}\n", r"set\.yaml: runs: expected a list"),
        ("grid:\n  province: []\n", r"grid\.province: empty list"),
        ("runs:\n  - {province: Utrecht\n", r"set\.yaml: malformed YAML \(line \d+, column \d+\)"),
        ("defaults: !!python/object/apply:os.system ['true']\n", r"set\.yaml: malformed YAML.*python/object"),
        ("- just\n- a list\n", r"set\.yaml: expected a mapping"),
        ("", r"set\.yaml: the file is empty"),
    ],
)
def test_validation_errors(tmp_path, nbdir, fake_data, yaml_text, expected):
    message = errors_of(write(tmp_path, yaml_text), nbdir)
    assert re.search(expected, message), message


def test_all_errors_reported_at_once(tmp_path, nbdir, fake_data):
    message = errors_of(write(tmp_path, "runs:\n  - {province: Nowhere}\n  - {seed: abc}\n"), nbdir)
    assert "runs[0].province" in message and "runs[1].seed" in message


def test_data_lookup_failure_is_reported(tmp_path, nbdir, monkeypatch):
    def broken(source):
        raise FileNotFoundError("no such dataset")

    monkeypatch.setattr(params_mod, "municipalities_in_data", broken)
    message = errors_of(write(tmp_path, "grid:\n  municipality: all_in_data\n"), nbdir)
    assert "grid.municipality: cannot list the municipalities" in message and "no such dataset" in message


def test_missing_data_source_folder(tmp_path, nbdir, fake_data):
    message = errors_of(write(tmp_path, "defaults: {data_source: /no/such/folder}\n"), nbdir)
    assert "defaults.data_source: data source '/no/such/folder' does not exist" in message


def test_municipality_codes_stay_text(tmp_path, nbdir, fake_data):
    text = 'runs:\n  - {municipality: 0363}\n  - {municipality: "0599"}\n  - {municipality: gm0796}\n  - {municipality: 80}\n'
    pset = load_parameter_set(write(tmp_path, text), nbdir)
    assert [c.params["municipality"] for c in pset.combinations] == ["GM0363", "GM0599", "GM0796", "GM0080"]
    grid = load_parameter_set(write(tmp_path, "grid:\n  municipality: [0363, 0599]\n", "g.yaml"), nbdir)
    assert [c.params["municipality"] for c in grid.combinations] == ["GM0363", "GM0599"]
    with pytest.raises(ValueError, match="write it as text"):
        normalise_municipality(363)


# --- slugs ---------------------------------------------------------------------------------


def test_slugs_are_safe_deterministic_and_unique():
    places = ["'s-Hertogenbosch", "Fryslân", "Súdwest-Fryslân", "a/b\\c", "..", "Den Haag", "ÆØ ß", "名古屋", ""]
    slugs = [param_slug({"municipality": p}) for p in places] + [param_slug({"province": p}) for p in PROVINCES]
    for s in slugs:
        assert re.fullmatch(r"[a-z0-9_-]+", s), s
        assert len(s) <= 100
    assert len(set(slugs)) == len(slugs)
    assert param_slug({"province": "Fryslân"}) == param_slug({"province": "Fryslân"})
    assert param_slug({"province": "Fryslân"}) != param_slug({"province": "Fryslan"})
    assert param_slug({"a": 1, "b": 2}) == param_slug({"b": 2, "a": 1})
    assert slugify("'s-Hertogenbosch") == "s-hertogenbosch"
    assert slugify("Fryslân") == "fryslan"
    assert param_slug({"province": "Fryslân"}).startswith("province-fryslan-")


# --- grid expansion ------------------------------------------------------------------------


def test_grid_all_provinces(tmp_path, nbdir, fake_data):
    pset = load_parameter_set(write(tmp_path, "name: p\ngrid:\n  province: all\n  mode: [quick, thorough]\n"), nbdir)
    combos = [c.params for c in pset.combinations]
    assert len(combos) == 24
    assert {c["province"] for c in combos} == set(PROVINCES)
    assert len(pset.jobs()) == 24


def test_grid_all_in_data_and_runs_union(tmp_path, nbdir, fake_data):
    text = "defaults: {seed: 1}\nruns:\n  - {}\ngrid:\n  municipality: all_in_data\n"
    pset = load_parameter_set(write(tmp_path, text), nbdir)
    combos = [c.params for c in pset.combinations]
    assert combos[0] == {"seed": 1}
    assert sorted(c["municipality"] for c in combos[1:]) == sorted(FAKE_DATA)
    assert all(c["seed"] == 1 for c in combos)
    assert fake_data == ["embedded"]


def test_grid_provinces_times_municipalities_keeps_consistent_pairs(tmp_path, nbdir, fake_data):
    pset = load_parameter_set(write(tmp_path, "grid:\n  province: all\n  municipality: all_in_data\n"), nbdir)
    pairs = {(c.params["province"], c.params["municipality"]) for c in pset.combinations}
    assert pairs == {(p, m) for m, p in FAKE_DATA.items()}


def test_defaults_only_is_one_job_and_duplicates_dropped(tmp_path, nbdir, fake_data):
    assert len(load_parameter_set(write(tmp_path, "name: x\n"), nbdir).combinations) == 1
    dup = load_parameter_set(write(tmp_path, "runs:\n  - {province: Utrecht}\n  - {province: Utrecht}\n", "d.yaml"), nbdir)
    assert len(dup.combinations) == 1


def test_shipped_parameter_sets_parse(fake_data):
    root = Path(__file__).resolve().parents[1]
    for name in ("default.yaml", "provinces.yaml", "municipalities.yaml"):
        doc = params_mod.load_yaml(root / "params" / name)
        assert isinstance(doc, dict) and doc.get("name"), name
    prov = load_parameter_set(root / "params" / "provinces.yaml", FIXTURES)
    assert len(prov.combinations) == len(PROVINCES)
    muni = load_parameter_set(root / "params" / "municipalities.yaml", FIXTURES)
    assert sorted(c.params["municipality"] for c in muni.combinations) == sorted(FAKE_DATA)


# --- end to end ----------------------------------------------------------------------------


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="maexlab")
    sub = parser.add_subparsers(dest="command", required=True)
    add_run_parser(sub)
    args = parser.parse_args(list(argv))
    assert args.func is run_command
    return args.func(args)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def check_index(run_dir: Path) -> list[str]:
    parser = _Links()
    parser.feed((run_dir / "index.html").read_text(encoding="utf-8"))
    assert parser.hrefs
    for href in parser.hrefs:
        assert not href.startswith(("/", "http:", "https:", "file:")), href
        assert (run_dir / unquote(href)).is_file(), href
    return parser.hrefs


def three_jobs(tmp_path: Path, data_dir: Path, fail: str = "true") -> Path:
    return write(
        tmp_path,
        f"name: e2e\nnotebooks: [tiny_report.ipynb]\ndefaults: {{data_source: '{data_dir}'}}\n"
        f"runs:\n  - {{province: Fryslân}}\n  - {{province: Utrecht, fail: {fail}}}\n  - {{municipality: '0363'}}\n",
    )


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def assert_failed_then_fixed(tmp_path: Path, nbdir: Path, data_dir: Path, executor_args: list[str], resume_unchanged: bool):
    out = tmp_path / "out"
    args = ["run", "--notebooks-dir", str(nbdir), "--out", str(out), "--workers", "2", "--progress", "log", *executor_args]
    path = three_jobs(tmp_path, data_dir)
    assert cli(*args, str(path)) == 1
    run_dir = out / "e2e"
    m = manifest(run_dir)
    assert m["status"] == "failed"
    by_province = {r["params"].get("province") or r["params"].get("municipality"): r for r in m["reports"]}
    assert by_province["Fryslân"]["status"] == "ok" and by_province["GM0363"]["status"] == "ok"
    failed = by_province["Utrecht"]
    assert failed["status"] == "failed" and "deliberate failure" in failed["error"]
    failed_dir = run_dir / failed["path"]
    assert (failed_dir / "tiny_report.ipynb").is_file()  # partly executed notebook kept
    assert (failed_dir / "tiny_report.html").is_file()
    assert not (failed_dir / ".done.json").exists()
    ok_dir = run_dir / by_province["Fryslân"]["path"]
    for rel in ("tiny_report.ipynb", "tiny_report.html", "results.json", "figures/dot.png", "tables/summary.csv", ".done.json"):
        assert (ok_dir / rel).is_file(), rel
    html = (ok_dir / "tiny_report.html").read_text(encoding="utf-8")
    assert "rng = random.Random(seed)" not in html  # code cells excluded
    assert by_province["Fryslân"]["headline"]["Place"] == "Fryslân"
    assert m["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", m["git_commit"])
    assert m["environment"]["packages"]["papermill"]
    assert m["data"][str(data_dir)].startswith("sha256:")
    index_text = (run_dir / "index.html").read_text(encoding="utf-8")
    assert "deliberate failure" in index_text and "Fryslân" in index_text
    check_index(run_dir)
    ok_marker_mtime = (ok_dir / ".done.json").stat().st_mtime_ns

    if resume_unchanged:  # the failure is still there: only that report runs again
        assert cli(*args, "--resume", str(path)) == 1
        m = manifest(run_dir)
        assert m["summary"]["ran"] == 1 and m["summary"]["skipped"] == 2

    path = three_jobs(tmp_path, data_dir, fail="false")  # fix the parameter set
    assert cli(*args, "--resume", str(path)) == 0
    m = manifest(run_dir)
    assert m["status"] == "ok"
    assert m["summary"]["ran"] == 1 and m["summary"]["skipped"] == 2
    assert sum(r["cached"] for r in m["reports"]) == 2
    assert (ok_dir / ".done.json").stat().st_mtime_ns == ok_marker_mtime
    hrefs = check_index(run_dir)
    assert sum(h.endswith("tiny_report.html") for h in hrefs) == 3


def test_local_run_failure_and_resume(tmp_path, nbdir, data_dir, fake_data):
    assert_failed_then_fixed(tmp_path, nbdir, data_dir, ["--executor", "local"], resume_unchanged=True)


def test_dask_run_failure_and_resume(tmp_path, nbdir, data_dir, fake_data):
    pytest.importorskip("distributed")
    assert_failed_then_fixed(tmp_path, nbdir, data_dir, ["--executor", "dask"], resume_unchanged=False)


def test_timeout_kills_report_and_keeps_partial_notebook(tmp_path, nbdir, data_dir, fake_data):
    path = write(tmp_path, f"name: slow\ndefaults: {{data_source: '{data_dir}'}}\nruns:\n  - {{sleep: 60.0}}\n")
    out = tmp_path / "out"
    rc = cli("run", str(path), "--notebooks-dir", str(nbdir), "--out", str(out), "--timeout", "12", "--progress", "log")
    assert rc == 1
    (report,) = manifest(out / "slow")["reports"]
    assert report["status"] == "timeout" and "timed out after 12 s" in report["error"]
    assert report["duration"] < 40
    nb = json.loads((out / "slow" / report["path"] / "tiny_report.ipynb").read_text(encoding="utf-8"))
    assert nb["cells"]  # the partly executed notebook is kept
    check_index(out / "slow")


def test_invalid_set_runs_nothing(tmp_path, nbdir, fake_data, capsys):
    path = write(tmp_path, "runs:\n  - {province: Atlantis}\n")
    out = tmp_path / "out"
    assert cli("run", str(path), "--notebooks-dir", str(nbdir), "--out", str(out)) == 2
    assert "runs[0].province: 'Atlantis' is not a province" in capsys.readouterr().err
    assert not out.exists()


def test_interrupt_kills_reports_and_writes_manifest(tmp_path, nbdir, data_dir):
    psutil = pytest.importorskip("psutil")
    path = write(tmp_path, f"name: stop\ndefaults: {{data_source: '{data_dir}', sleep: 60.0}}\ngrid:\n  seed: [1, 2, 3]\n")
    out = tmp_path / "out"
    code = (
        INTERRUPTIBLE + "import sys; from maexlab.runner.cli_run import run; "
        f"sys.exit(run({str(path)!r}, notebooks_dir={str(nbdir)!r}, out={str(out)!r}, workers=2, progress='log'))"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(out.glob("stop/.staging/*/*/.tiny_report.partial.ipynb"))) < 2:
            time.sleep(0.2)
        time.sleep(1.0)  # both reports are in their sleeping cell
        started = psutil.Process(proc.pid).children(recursive=True)
        assert len(started) >= 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, [p.cmdline() for p in alive]
    m = manifest(out / "stop")
    assert m["status"] == "interrupted"
    statuses = sorted(r["status"] for r in m["reports"])
    assert statuses == ["interrupted", "interrupted", "not-run"], statuses  # the third was still queued
    for r in m["reports"]:
        if r["status"] == "interrupted":  # the notebook so far, with an HTML that says it is incomplete
            html = (out / "stop" / r["path"] / "tiny_report.html").read_text(encoding="utf-8")
            assert "maexlab-incomplete" in html and "Interrupted" in html
    assert not (out / "stop" / ".staging").exists()
    check_index(out / "stop")


def test_index_escapes_text_and_links_relative(tmp_path):
    from maexlab.runner.render import write_index

    report = tmp_path / "nb x" / "slug-1"
    (report / "figures").mkdir(parents=True)
    (report / "figures" / "a b&c.png").write_bytes(b"png")
    (report / "nb x.html").write_text("<p>report</p>", encoding="utf-8")
    (report / "results.json").write_text(json.dumps({"headline": {"<i>n</i>": "<script>x</script>"}}), encoding="utf-8")
    m = {
        "status": "failed",
        "run": {"name": "<run>"},
        "reports": [
            {
                "path": "nb x/slug-1",
                "notebook_name": "nb x.ipynb",
                "notebook": "nb x.ipynb",
                "html": "nb x.html",
                "params": {"municipality": "'s-Hertogenbosch <b>"},
                "status": "failed",
                "error": "ValueError: <script>alert(1)</script>",
                "headline": {"<i>n</i>": "<script>x</script>"},
            }
        ],
    }
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    text = write_index(tmp_path, m).read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>" not in text and "<i>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&#x27;s-Hertogenbosch" in text
    hrefs = check_index(tmp_path)
    assert "nb%20x/slug-1/figures/a%20b%26c.png" in hrefs


def test_relative_out_folder_collects_each_reports_files(tmp_path, nbdir, data_dir, fake_data, monkeypatch):
    """Kernels run in the notebooks folder, so a relative --out must not land there."""
    monkeypatch.chdir(tmp_path)
    spec = write(
        tmp_path,
        f"name: rel\nnotebooks: [tiny_report.ipynb]\ndefaults: {{data_source: '{data_dir}'}}\nruns:\n  - {{province: Utrecht}}\n",
    )
    assert (
        cli("run", str(spec), "--out", "relative_outputs", "--notebooks-dir", str(nbdir), "--workers", "1", "--progress", "log")
        == 0
    )
    run_dir = tmp_path / "relative_outputs" / "rel"
    (report,) = manifest(run_dir)["reports"]
    folder = run_dir / report["path"]
    assert (folder / "results.json").is_file() and (folder / "figures" / "dot.png").is_file()
    assert report["headline"]["Place"] == "Utrecht"
    assert not (nbdir / "relative_outputs").exists()


def test_index_says_when_reports_use_synthetic_data(tmp_path):
    from maexlab.runner.render import read_data_notice, write_index

    report_dir = tmp_path / "nb" / "default"
    report_dir.mkdir(parents=True)
    (report_dir / "results.json").write_text(json.dumps({"synthetic": True, "data_notice": "SYNTHETIC DATA: <made up>"}))
    notice = read_data_notice(report_dir)
    assert notice == "SYNTHETIC DATA: <made up>"
    manifest = {"run": {"name": "t"}, "reports": [{"path": "nb/default", "status": "ok", "data_notice": notice}]}
    page = write_index(tmp_path, manifest).read_text(encoding="utf-8")
    assert 'class="maexlab-banner maexlab-synthetic synthetic"' in page  # the banner in the page's language
    (report_dir / "results.json").write_text(json.dumps({"synthetic": False}))
    assert read_data_notice(report_dir) is None


# --- validation: every problem once, Unicode, suggestions -----------------------------------


def test_every_problem_of_an_entry_is_listed_once(tmp_path, nbdir, fake_data):
    text = "runs:\n  - {data_source: /no/such, period_start: 2024, period_end: 2020, colour: red, municipality: Amsterdam}\n"
    with pytest.raises(ParamsError) as info:
        load_parameter_set(write(tmp_path, text), nbdir)
    errors = info.value.errors
    assert len(errors) == len(set(errors)) == 4, errors
    joined = "\n".join(errors)
    for part in (
        "data source '/no/such' does not exist",
        "period_start 2024 is after period_end 2020",
        "unknown parameter 'colour'",
        "'Amsterdam' is not a CBS municipality code",
    ):
        assert joined.count(part) == 1, (part, errors)


@pytest.mark.parametrize(
    ("given", "suggested"),
    [
        ("friesland", "Fryslân"),
        ("Friesland", "Fryslân"),
        ("fryslan", "Fryslân"),
        ("noord holland", "Noord-Holland"),
        ("Zeland", "Zeeland"),
        ("Limberg", "Limburg"),
    ],
)
def test_province_suggestions_compare_whole_names(tmp_path, nbdir, fake_data, given, suggested):
    message = errors_of(write(tmp_path, f"runs:\n  - {{province: {given}}}\n"), nbdir)
    assert f"(did you mean {suggested!r}?)" in message, message


def test_decomposed_unicode_is_the_same_name(tmp_path, nbdir, fake_data):
    decomposed = "Frysla\u0302n"  # 'a' + combining circumflex, as some editors and file systems write it
    pset = load_parameter_set(write(tmp_path, f"runs:\n  - {{province: {decomposed}}}\n"), nbdir)
    assert pset.combinations[0].params["province"] == "Fryslân"
    grid = load_parameter_set(write(tmp_path, f"grid:\n  province: [{decomposed}]\n", "g.yaml"), nbdir)
    assert grid.combinations[0].params["province"] == "Fryslân"
