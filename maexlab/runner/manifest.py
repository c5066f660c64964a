"""``manifest.json``: what ran, with what software, on what data, and how it went."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from maexlab.runner.worker import atomic_write_text

__all__ = ["DEPENDENCIES", "environment", "git_commit", "write_manifest"]

DEPENDENCIES = (
    "maexlab",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "lifelines",
    "matplotlib",
    "duckdb",
    "pyarrow",
    "pandera",
    "papermill",
    "nbformat",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "jupyter_client",
    "dask",
    "distributed",
    "pyyaml",
    "tqdm",
)


def package_versions(names: tuple[str, ...] = DEPENDENCIES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if out.get("maexlab") is None:
        try:
            import maexlab

            out["maexlab"] = getattr(maexlab, "__version__", None)
        except Exception:  # noqa: BLE001 - version reporting must never break a run
            pass
    return out


def git_commit(repo: Path) -> str | None:
    """``git rev-parse HEAD`` in ``repo``, or None outside a repository / without git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": package_versions(),
    }


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> Path:
    path = Path(run_dir) / "manifest.json"
    atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
