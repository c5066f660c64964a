"""The corpus of bad inputs (tests/bad_inputs/cases.yaml): each input, its command, the message.

Every case is an input a user really gave (or could give) maexlab, the command they ran, and
the exit code and message they must see: a clear refusal naming file, line or column, never a
traceback, a silent change or an echo of a file that should not have been read.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from maexlab.cli import main
from maexlab.data.yaml_safe import load_yaml_text
from tests.conftest import TINY_TABLES

CASES_FILE = Path(__file__).parent / "bad_inputs" / "cases.yaml"
CASES = load_yaml_text(CASES_FILE.read_text(encoding="utf-8"))["cases"]


def _fill(text: str, folder: Path, tmp: Path) -> str:
    return text.replace("{dir}", str(folder)).replace("{tmp}", str(tmp))


def _build(case: dict, tmp_path: Path) -> tuple[Path, Path]:
    folder, scratch = tmp_path / "input", tmp_path / "scratch"
    folder.mkdir()
    scratch.mkdir()
    if case.get("base") == "tiny":
        for name, text in TINY_TABLES.items():
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    for name, (old, new) in case.get("edit", {}).items():
        text = (folder / name).read_text(encoding="utf-8")
        assert old in text, f"case {case['name']!r}: {old!r} is not in {name}"
        (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    for name, text in case.get("files", {}).items():
        (folder / name).write_text(_fill(text, folder, scratch), encoding="utf-8")
    for step in case.get("setup", []):
        ((action, name),) = step.items()
        target = folder / name
        if target.exists() and action in ("folder", "remove", "link_outside"):
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        if action == "folder":
            target.mkdir()
        elif action == "link_outside":
            outside = scratch / "outside.txt"
            outside.write_text("SECRET FIRST LINE\nsecond line\n", encoding="utf-8")
            target.symlink_to(outside)
    return folder, scratch


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(case: dict, tmp_path: Path, capsys):
    folder, scratch = _build(case, tmp_path)
    if "call" in case:
        module, _, name = case["call"].rpartition(".")
        function = getattr(importlib.import_module(module), name)
        with pytest.raises(ValueError) as caught:
            function(*(_fill(a, folder, scratch) for a in case.get("args", [])))
        said = str(caught.value)
    else:
        code = main([_fill(a, folder, scratch) for a in case["command"]])
        captured = capsys.readouterr()
        said = captured.out + captured.err
        assert code == case["exit"], said
    for expected in case["expected"]:
        assert expected in said, said
    for unexpected in case.get("not_expected", []):
        assert unexpected not in said, said
    if "problems" in case:
        assert f"{case['problems']} problem(s)" in said, said
