"""Small-area estimates per municipality, through ``one_seed`` of benchmarks/validate_areas.py.

That script (and the estimator it calls, :func:`maexlab.areas.estimates.area_estimates`) is kept
by its own owner; this collector only turns its rows (one per municipality and measure, with the
planted truth, raw and shrunk estimates and their 95% intervals) into the benchmark's schema.
Municipality effects exist only with the planted effects, so this collector runs in mode "on".

Rows of one seed share the dataset, so coverage over municipalities is not a set of independent
trials: the Wilson interval treats them as independent and is too narrow.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path

from .common import estimand

NAME = "areas"
SCRIPT = Path(__file__).resolve().parents[1] / "validate_areas.py"


@cache
def _one_seed():
    spec = importlib.util.spec_from_file_location("validate_areas", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("validate_areas", module)
    spec.loader.exec_module(module)
    return module.one_seed


def collect(seed: int, effects: bool, n_initiatives: int = 1200) -> list[dict]:
    """Raw and shrunk estimate of every municipality and measure on one dataset (mode "on" only)."""
    if not effects:
        return []
    table = _one_seed()(seed, n_initiatives)
    rows = []
    for r in table.itertuples():
        for kind in ("raw", "shrunk"):
            rows.append(
                estimand(
                    NAME, f"{r.measure} per municipality, {kind}", effects, seed, r.truth,
                    getattr(r, kind), getattr(r, f"{kind}_lo"), getattr(r, f"{kind}_hi"),
                    n_initiatives=n_initiatives, unit=str(r.area),
                )
            )  # fmt: skip
    return rows
