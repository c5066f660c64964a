"""The warm worker's preloaded dataset gives a report exactly what a fresh ``load`` gives."""

from __future__ import annotations

import pandas as pd
import pytest

import maexlab
import maexlab.data
import maexlab.data.loader
from maexlab.runner import preload as pl


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (maexlab, maexlab.data, maexlab.data.loader):
        monkeypatch.setattr(module, "load", module.load)  # restored after the test
    monkeypatch.setattr(pl, "_CACHE", {})
    monkeypatch.setattr(pl, "_ORIGINAL", None)


def assert_same(a: maexlab.MaexData, b: maexlab.MaexData) -> None:
    assert (a.source, a.synthetic, a.metadata, a.filters) == (b.source, b.synthetic, b.metadata, b.filters)
    assert a.tables.keys() == b.tables.keys()
    for name, df in a.tables.items():
        if df is None:
            assert b.tables[name] is None, name
        else:
            pd.testing.assert_frame_equal(df, b.tables[name], check_exact=True)


def test_preloaded_data_equals_a_fresh_load(patched):
    fresh_all = maexlab.data.loader.load("embedded")
    fresh_part = maexlab.data.loader.load("embedded", province="Utrecht", period=(2019, 2023))
    assert pl.preload(["embedded", "/no/such/data"]) == [
        "/no/such/data: FileNotFoundError: data source not found: /no/such/data (expected 'embedded', a folder or a .duckdb file)"
    ]
    pl.install()
    assert maexlab.load is pl.cached_load and maexlab.data.loader.load is pl.cached_load
    part = maexlab.load("embedded", province="Utrecht", period=(2019, 2023))
    assert_same(part, fresh_part)
    assert "embedded" not in pl._CACHE  # handed out once
    part.initiatives.loc[:, "province"] = "changed by a notebook"
    assert_same(maexlab.data.load("embedded"), fresh_all)  # a second load reads afresh
    with pytest.raises(FileNotFoundError):  # not preloaded: the real load, with its own error
        maexlab.load("/no/such/data")


def test_in_process_execution_updates_displays_by_id():
    # A report reserves its findings at the top and fills them in at the end (update_display).
    # Run in a fresh process, as the runner does: the engine's shell is a process-wide singleton.
    import json
    import subprocess
    import sys

    code = """
import json, nbformat
from maexlab.runner.inprocess import execute_notebook
nb = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_code_cell('from IPython.display import display, update_display\\n_ = display("pending", display_id="findings")'),
    nbformat.v4.new_code_cell('update_display("final findings", display_id="findings")'),
])
outcome = execute_notebook(nb)
print(json.dumps({"stopped_at": outcome.stopped_at,
                  "first": [o["data"]["text/plain"] for o in nb.cells[0].outputs],
                  "second": nb.cells[1].outputs}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"stopped_at": None, "first": ["'final findings'"], "second": []}


def test_deferred_import_behaves_like_the_real_module():
    # rfc3987_syntax (compiling 39 grammars at import) is deferred until first use, not dropped:
    # jsonschema's "iri" check still rejects a bad IRI. In a fresh process, as the runner starts one.
    import subprocess
    import sys

    code = """
import importlib.util, sys
import maexlab.runner, jsonschema
if importlib.util.find_spec("rfc3987_syntax") is None:
    print("absent"); sys.exit()
print(type(sys.modules["rfc3987_syntax"]).__name__)
v = jsonschema.Draft7Validator({"format": "iri"}, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
print(v.is_valid("https://example.org/caf\\u00e9"), v.is_valid("not an iri \\\\\\\\"))
print(type(sys.modules["rfc3987_syntax"]).__name__)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    lines = done.stdout.split()
    if lines == ["absent"]:
        pytest.skip("rfc3987_syntax is not installed")
    assert lines == ["Deferred", "True", "False", "module"], done.stdout + done.stderr


def test_partial_notebook_journal_gives_the_notebook_after_every_cell(tmp_path):
    # The partial notebook of a running report is the notebook at its start plus a journal of the
    # cells that changed; replayed after any cell it must equal the whole notebook at that point,
    # also when a later cell updates an earlier cell's display (the findings at the top).
    import copy
    import json
    import subprocess
    import sys

    import nbformat

    from maexlab.runner.worker import PartialNotebook, replay_journal

    code = f"""
import json, nbformat
from pathlib import Path
from maexlab.runner.inprocess import execute_notebook
from maexlab.runner.worker import PartialNotebook
nb = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_code_cell('from IPython.display import display, update_display\\n_ = display("pending", display_id="findings")'),
    nbformat.v4.new_markdown_cell('text'),
    nbformat.v4.new_code_cell('print("one")'),
    nbformat.v4.new_code_cell('update_display("filled in", display_id="findings")\\nprint("two")'),
    nbformat.v4.new_code_cell('raise ValueError("stops here")'),
    nbformat.v4.new_code_cell('print("never")'),
])
root = Path({str(tmp_path)!r})
partial = PartialNotebook(root / "p.ipynb", root / "p.jsonl")
partial.save(nb)
snapshots = []
def after(current, changed):
    partial.save(current, changed)
    snapshots.append(json.loads(json.dumps(current)))
    (root / f"journal-{{len(snapshots)}}.jsonl").write_bytes((root / "p.jsonl").read_bytes())
execute_notebook(nb, after_cell=after)
(root / "snapshots.json").write_text(json.dumps(snapshots))
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    snapshots = json.loads((tmp_path / "snapshots.json").read_text())
    assert len(snapshots) == 4  # three cells ran, the fourth failed and stopped the run
    start = nbformat.read(str(tmp_path / "p.ipynb"), as_version=4)
    for step, expected in enumerate(snapshots, 1):
        replayed = replay_journal(copy.deepcopy(start), tmp_path / f"journal-{step}.jsonl")
        assert json.loads(json.dumps(replayed)) == expected, f"after cell {step}"
    assert snapshots[-1]["cells"][0]["outputs"][0]["data"]["text/plain"] == "'filled in'"
    # a line cut short by a kill is left out; the cells before it stay
    cut = (tmp_path / "journal-4.jsonl").read_bytes()[:-20]
    (tmp_path / "cut.jsonl").write_bytes(cut)
    replayed = replay_journal(copy.deepcopy(start), tmp_path / "cut.jsonl")
    assert json.loads(json.dumps(replayed))["cells"][:4] == snapshots[2]["cells"][:4]
    PartialNotebook(tmp_path / "p.ipynb", tmp_path / "p.jsonl").discard()
    assert not (tmp_path / "p.ipynb").exists() and not (tmp_path / "p.jsonl").exists()
