"""Documentation and environment files agree with the code they describe."""

from __future__ import annotations

import re

from conftest import REPO

from maexlab.data.schema_doc import markdown


def test_data_readme_documents_current_schema():
    text = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    assert markdown() in text, "data/README.md is stale: regenerate its model section with `python -m maexlab.data.schema_doc`"


def test_environment_yml_pins_the_lock_versions():
    lock = dict(
        line.split("==", 1) for line in (REPO / "constraints" / "requirements.lock").read_text().splitlines() if "==" in line
    )
    lock = {name.lower(): version for name, version in lock.items()}
    pins = re.findall(r"^\s+- ([a-z0-9-]+)=([0-9][^\s]*)$", (REPO / "environment.yml").read_text(), flags=re.M)
    assert pins, "environment.yml lists no pinned packages"
    for name, version in pins:
        if name == "python":
            continue
        name = {"python-duckdb": "duckdb"}.get(name, name)
        assert lock.get(name) == version, f"environment.yml pins {name}={version} but the lock has {lock.get(name)}"


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "make test" in ci and "make test" in readme
