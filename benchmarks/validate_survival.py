"""Validation of notebook 03 (continuity) alone: a thin wrapper of benchmarks/validate.py.

Same as ``python benchmarks/validate.py --only survival``; the collector is
benchmarks/validation/survival.py and the method page docs/validation.md. Kept so that the
commands quoted in older notes still run; results go to benchmarks/results/validation_survival*.csv.

Usage::

    python benchmarks/validate_survival.py --seeds 10 --n 1000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import validate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50, help="datasets per mode (default 50)")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--n", type=int, default=validate.COLLECTORS["survival"][1], help="initiatives (subjects) per dataset")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    n = args.n
    forwarded = ["--only", "survival", "--seeds", str(args.seeds), "--first-seed", str(args.first_seed)]
    forwarded += ["--size", f"survival={n}", "--workers", str(args.workers)]
    return validate.main(forwarded)


if __name__ == "__main__":
    raise SystemExit(main())
