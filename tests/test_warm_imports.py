"""The warm worker imports what the run's notebooks use, so a report imports nothing heavy itself."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from maexlab.runner.cli_run import run
from maexlab.runner.warm_imports import BASE, STACK, analysis_modules, analysis_modules_of

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_notebook_imports_are_read_from_code_cells():
    sources = [
        "%matplotlib inline\nfrom maexlab.funding import sections\nimport numpy as np",
        "!ls\nimport mypackage, os\nfrom . import local",
        "def broken(:\n    import lifelines",  # not Python: no imports read, the report says why
        "from maexlab.reporting import open_report, profile_sections",
    ]
    assert analysis_modules_of(sources) == [
        "maexlab.funding",
        "maexlab.funding.sections",
        "numpy",
        "maexlab.reporting",
        "maexlab.reporting.profile_sections",  # a submodule; open_report is a function
    ]


def test_packages_bring_what_they_import_on_first_use(tmp_path):
    nb = tmp_path / "uses_survival.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["from maexlab.survival import sections"]}]}))
    modules = analysis_modules([str(nb)])
    assert modules[:2] == ["maexlab.survival", "lifelines"]
    assert analysis_modules([str(tmp_path / "missing.ipynb")]) == []
    everything = analysis_modules(None)  # notebooks not known: every maexlab package
    assert {"maexlab.valuation", "maexlab.areas", "sklearn.linear_model", "lifelines"} <= set(everything)


def _lazy_stack_imports(package: Path) -> set[str]:
    """Modules of STACK that the package's functions import inside their bodies."""
    found = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found |= {a.name for a in inner.names}
                elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                    found.add(inner.module)
    return {name for name in found if name.split(".")[0] in STACK}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_lazy_imports_of_a_notebooks_packages_are_preloaded(notebook):
    # What the warm worker imports for this notebook, in a fresh interpreter; then every module that
    # a function of a package it uses imports on first use must already be there.
    wanted = [*BASE, *analysis_modules([str(notebook)])]
    code = (
        "import importlib, json, sys\n"
        f"for m in {wanted!r}:\n    importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout))
    used = sorted({m.split(".")[1] for m in loaded if m.startswith("maexlab.") and m.split(".")[1] != "runner"})
    missing = {pkg: sorted(_lazy_stack_imports(REPO / "maexlab" / pkg) - loaded) for pkg in used}
    assert not any(missing.values()), f"declare these in the package's LAZY_IMPORTS: {missing}"


def test_reports_of_the_shipped_notebooks_import_nothing_heavy_themselves(tmp_path):
    # One report of every shipped notebook on the embedded data, as `make report` runs them: each
    # records in .timings.json the modules it had to import itself; none may be of the analysis stack.
    pset = tmp_path / "all.yaml"
    pset.write_text('name: all\nnotebooks: ["*.ipynb"]\n', encoding="utf-8")
    assert run(pset, notebooks_dir=REPO / "notebooks", out=tmp_path / "out", progress="log") == 0
    manifest = json.loads((tmp_path / "out" / "all" / "manifest.json").read_text(encoding="utf-8"))
    heavy = {}
    for report in manifest["reports"]:
        timings = json.loads((tmp_path / "out" / "all" / report["path"] / ".timings.json").read_text(encoding="utf-8"))
        heavy[report["path"]] = [m for m in timings["imported"] if m.split(".")[0] in STACK]
    assert len(heavy) == len(NOTEBOOKS)
    assert not any(heavy.values()), json.dumps(heavy, indent=1)
