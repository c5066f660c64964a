"""The committed embedded dataset validates and regenerates byte for byte from its recorded seed."""

from __future__ import annotations

import json

from conftest import REPO

import maexlab
from maexlab.cli import main

EMBEDDED = REPO / "data" / "embedded"


def test_embedded_data_validates_and_is_flagged_synthetic(capsys):
    assert main(["data", "validate", str(EMBEDDED)]) == 0
    printed = capsys.readouterr().out
    assert "SYNTHETIC DATA" in printed and "valid" in printed
    data = maexlab.load("embedded")
    assert data.synthetic and 2000 <= len(data.initiatives) <= 3000


def test_regenerating_with_the_recorded_seed_is_byte_identical(tmp_path):
    meta = json.loads((EMBEDDED / "dataset.json").read_text(encoding="utf-8"))
    out = tmp_path / "regenerated"
    assert main(["data", "generate", "--seed", str(meta["seed"]), "--n", str(meta["n_initiatives"]), "--out", str(out)]) == 0
    committed = sorted(p.name for p in EMBEDDED.iterdir())
    assert committed == sorted(p.name for p in out.iterdir())
    for name in committed:
        assert (EMBEDDED / name).read_bytes() == (out / name).read_bytes(), f"{name} differs from its regeneration"
