"""The package layout stays true: imports run one way, and no new top-level module appears.

docs/architecture.md draws the same picture; change both together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "maexlab"

#: What each layer may import (besides itself and the package root, which only re-exports data).
ALLOWED: dict[str, set[str]] = {
    "data": set(),
    "mapping": {"data"},
    "reporting": {"data"},
    "funding": {"data", "reporting"},
    "impact": {"data", "reporting"},
    "survival": {"data", "reporting"},
    "valuation": {"data", "reporting", "funding", "impact"},
    "runner": {"data", "reporting"},
    "areas": {"data", "reporting", "funding", "survival", "impact"},
    "cli": {"data", "mapping", "reporting", "funding", "impact", "survival", "valuation", "runner", "areas"},
}
TOP_LEVEL_MODULES = {"__init__.py", "cli.py"}


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[tuple[str, int]]:
    """(layer, line) for every ``maexlab.<layer>`` an import statement in ``path`` names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "maexlab" else [f"maexlab.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "maexlab" and len(parts) > 1 and parts[1] != "__version__":
                found.add((parts[1], node.lineno))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_only_cli_and_init_at_top_level():
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL_MODULES, f"new top-level modules {sorted(top - TOP_LEVEL_MODULES)}: put them in a package"


def test_every_package_has_a_declared_layer():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED), f"packages without a layer rule: {sorted(packages - set(ALLOWED))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path):
    layer = _layer(path)
    allowed = {"data"} if layer == "__init__" else ALLOWED[layer] | {layer}
    upward = sorted((name, line) for name, line in _imported_layers(path) if name not in allowed)
    assert not upward, f"{path.relative_to(PACKAGE)} imports {upward} (layer {layer!r} may import {sorted(allowed)})"


def test_the_package_never_reads_notebooks_except_the_runner():
    for path in MODULES:
        if _layer(path) in ("runner", "cli"):
            continue
        text = path.read_text(encoding="utf-8")
        assert ".ipynb" not in text, f"{path.relative_to(PACKAGE)} refers to notebooks; only the runner may"


def test_layering_check_catches_an_upward_import(tmp_path: Path):
    # The check itself must be able to fail: an analysis importing the runner is found.
    bad = tmp_path / "bad.py"
    bad.write_text("from maexlab.runner import params\nimport maexlab.reporting.report\n")
    assert {name for name, _ in _imported_layers(bad)} == {"runner", "reporting"}
