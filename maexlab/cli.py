"""The ``maexlab`` command: data generation, import and validation, and report runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from maexlab.data import synth

    synth.write_embedded(
        Path(args.out),
        seed=args.seed,
        n_initiatives=args.n,
        effects=not args.no_effects,
        municipality_effects=args.municipality_effects,
    )
    extra = " with planted municipality effects" if args.municipality_effects else ""
    print(f"wrote a synthetic dataset (seed {args.seed}){extra} to {args.out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from maexlab.data.loader import load
    from maexlab.data.validation import DataValidationError

    try:
        data = load(args.source, allow_outside_links=args.allow_outside_links)
    except (DataValidationError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    print(data.notice())
    print(data.row_counts().to_string(index=False))
    warnings = data.warnings()
    for warning in warnings:
        print(f"warning: {warning}")
    print(f"{args.source}: valid" + (f", with {len(warnings)} warning(s) above" if warnings else ""))
    return 0


def _share(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.5 or 50%, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1 (or 0% to 100%), got {text!r}")
    return value


def _import(args: argparse.Namespace) -> int:
    from maexlab import mapping

    return mapping.import_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maexlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="generate, import and validate datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)

    generate = data_commands.add_parser("generate", help="write the synthetic MAEX-like dataset")
    generate.add_argument("--seed", type=int, default=20261128)
    generate.add_argument("--out", required=True, help="folder to write")
    generate.add_argument("--n", type=int, default=2500, help="number of initiatives (default 2500)")
    planted = generate.add_mutually_exclusive_group()
    planted.add_argument("--no-effects", action="store_true", help="switch every planted effect off")
    planted.add_argument(
        "--municipality-effects",
        action="store_true",
        help=(
            "also plant a random effect per municipality (approval log-odds SD 0.40, log closure hazard SD 0.35); "
            "the truth per municipality goes to planted_effects.json under municipality_effects "
            "(docs/small_area.md, docs/planted_effects.md)"
        ),
    )
    generate.set_defaults(handler=_generate)

    validate = data_commands.add_parser("validate", help="check a canonical dataset (folder or .duckdb)")
    validate.add_argument("source")
    validate.add_argument(
        "--allow-outside-links", action="store_true", help="follow symbolic links that lead out of the dataset folder"
    )
    validate.set_defaults(handler=_validate)

    importer = data_commands.add_parser("import", help="import external tables through a mapping file")
    importer.add_argument("mapping", help="mapping YAML file")
    importer.add_argument("--out", required=True, help="folder for the canonical dataset")
    importer.add_argument("--source", action="append", metavar="NAME=PATH", help="override a source path (repeatable)")
    importer.add_argument(
        "--max-quarantine",
        type=_share,
        default=0.5,
        metavar="SHARE",
        help="refuse the import when a block quarantines more than this share of its rows (default 0.5; 1 never refuses)",
    )
    importer.add_argument("--allow-empty", action="store_true", help="accept a table the mapping fills ending up empty")
    importer.set_defaults(handler=_import)

    from maexlab.runner.cli_run import add_run_parser, run_command

    add_run_parser(commands).set_defaults(handler=run_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
