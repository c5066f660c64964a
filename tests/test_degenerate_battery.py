"""Every notebook's sections on every degenerate variant and on the real example registers.

Each must complete; every verdict that lacks its evidence says not testable (with the reason)
or inconclusive; no output shows a traceback, a raw warning or NaN as a number; and on data
without ``joined_on`` no output claims the delayed-entry correction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from battery import (
    NOTEBOOK_SECTIONS,
    VARIANTS,
    base_tables,
    problems_in,
    run_sections,
    sections_of,
    verdict_problems,
    write_variant,
)
from conftest import REPO

NOTEBOOKS = sorted(NOTEBOOK_SECTIONS)
SHARED_REAL = REPO.parent / "shared" / "data" / "real"


@pytest.fixture(scope="module")
def variant_folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("variants")
    return {name: write_variant(name, base_tables(), root) for name in VARIANTS}


def _check(notebook: str, source: Path, out: Path, **parameters) -> str:
    if sections_of(notebook) is None:
        pytest.fail(f"{NOTEBOOK_SECTIONS[notebook]} is missing: every notebook needs its section functions")
    text, results = run_sections(notebook, source, out, **parameters)
    problems = problems_in(text) + verdict_problems(results)
    assert not problems, "\n".join(problems)
    return text


@pytest.mark.parametrize("notebook", NOTEBOOKS)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_sections_survive_degenerate_data(variant, notebook, variant_folders, tmp_path):
    text = _check(notebook, variant_folders[variant], tmp_path / "out")
    if variant == "no_joined_on":
        for claim in ("with delayed entry (correct", "(delayed entry,", "delayed entry, 95%"):
            assert claim not in text, f"claims a delayed-entry correction on data without joined_on: {claim!r}"


def _import_example(mapping: str, tmp_path: Path) -> Path:
    from maexlab.mapping import import_mapping

    path = REPO / "docs" / "examples" / mapping
    if not path.exists():
        pytest.fail(f"docs/examples/{mapping} is missing")
    if "shared/data/real" in path.read_text(encoding="utf-8") and not SHARED_REAL.is_dir():
        pytest.skip(f"shared real data not present at {SHARED_REAL}")
    out = tmp_path / "imported"
    import_mapping(path, out)
    return out


REAL_EXAMPLES = ["kiva.yaml", "ni-charities.yaml", "subsidieregister.yaml"]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
@pytest.mark.parametrize("mapping", REAL_EXAMPLES)
def test_sections_on_real_and_example_registers(mapping, notebook, tmp_path):
    source = _import_example(mapping, tmp_path)
    _check(notebook, source, tmp_path / "out")


def test_battery_finds_what_it_must(tmp_path):
    # The checks themselves can fail: a NaN, a raw warning and an undecided verdict without reason are caught.
    assert problems_in("coverage nan%") and problems_in("RuntimeWarning: invalid value") and not problems_in("Financiën 59%")
    bad = {
        "verdicts": {
            "x": {"verdict": "not_testable", "reasons": []},
            "y": {"verdict": "supported", "estimate": 1, "lo": None, "hi": 2},
        }
    }
    assert len(verdict_problems(bad)) == 2
