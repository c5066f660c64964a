"""Jobs: one notebook with one parameter dict, its folder, its hash and its done-marker.

A job's *identity* (its folder ``<notebook-stem>/<parameter-slug>``) depends on the notebook's
name and the explicit parameters. Its *hash* also covers the notebook's bytes and the data
fingerprint: ``--resume`` skips a job only when its done-marker holds the same hash, so an
edited notebook or changed data re-runs every report that depends on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from maexlab.runner.slug import canonical_json, param_slug, slugify
from maexlab.runner.worker import atomic_write_text

__all__ = [
    "DONE_MARKER",
    "Job",
    "build_jobs",
    "data_fingerprint",
    "job_spec",
    "read_done",
    "repo_root",
    "write_done",
]

DONE_MARKER = ".done.json"


def repo_root() -> Path:
    """The folder that holds the ``maexlab`` package, ``notebooks/`` and ``data/``."""
    return Path(__file__).resolve().parents[2]


def _sha256_file(h: Any, path: Path) -> None:
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)


@lru_cache(maxsize=64)
def _fingerprint(resolved: str, mtimes: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    root = Path(resolved)
    if root.is_file():
        h.update(root.name.encode())
        _sha256_file(h, root)
    else:
        for rel, _, _ in mtimes:
            h.update(rel.encode("utf-8") + b"\0")
            _sha256_file(h, root / rel)
            h.update(b"\0")
    return "sha256:" + h.hexdigest()


def data_fingerprint(data_source: str, *, base_dir: Path | None = None) -> str:
    """SHA-256 over the dataset's files (relative names and bytes, in sorted order).

    ``"embedded"`` means the files in ``data/embedded/``; a folder means every file below it
    (hidden files excepted); a file (DuckDB) means its bytes.
    """
    if data_source == "embedded":
        path = repo_root() / "data" / "embedded"
    else:
        path = Path(data_source)
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
    path = path.resolve()
    if path.is_file():
        st = path.stat()
        key: tuple[tuple[str, int, int], ...] = ((path.name, st.st_size, st.st_mtime_ns),)
    elif path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        key = tuple((p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    else:
        return "missing:" + str(path)
    return _fingerprint(str(path), key)


@dataclass
class Job:
    notebook: Path
    params: dict[str, Any]  # explicit parameters (identity and slug)
    exec_params: dict[str, Any]  # what papermill gets, without output_dir
    data_source: str
    fingerprint: str
    job_hash: str
    slug: str
    stem: str
    index: int = 0

    @property
    def rel_dir(self) -> str:
        return f"{self.stem}/{self.slug}"

    @property
    def key(self) -> str:
        return f"{self.stem}/{self.slug}"

    def out_dir(self, run_dir: Path) -> Path:
        return Path(run_dir) / self.stem / self.slug

    def files(self) -> dict[str, str]:
        """Names of the report's main files inside its folder."""
        return {"notebook": f"{self.stem}.ipynb", "html": f"{self.stem}.html", "results": "results.json"}


def notebook_stem(notebook: Path) -> str:
    """Folder name of a notebook: its stem, made safe the same way as parameter slugs."""
    stem = notebook.stem
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}", stem):
        return stem
    return slugify(stem, 80).replace("-", "_")


def build_jobs(
    pairs: list[tuple[Path, dict[str, Any]]],
    notebook_defaults: dict[Path, dict[str, Any]],
    *,
    base_dir: Path | None = None,
) -> list[Job]:
    """Turn (notebook, explicit parameters) pairs into jobs with slug, fingerprint and hash."""
    base = base_dir or Path.cwd()
    nb_hashes: dict[Path, str] = {}
    jobs: list[Job] = []
    for i, (nb, params) in enumerate(pairs):
        if nb not in nb_hashes:
            nb_hashes[nb] = hashlib.sha256(nb.read_bytes()).hexdigest()
        source = params.get("data_source", notebook_defaults.get(nb, {}).get("data_source", "embedded"))
        if not isinstance(source, str):
            source = "embedded"
        exec_params = dict(params)
        if source != "embedded" and not Path(source).is_absolute() and "data_source" in params:
            exec_params["data_source"] = str((base / source).resolve())
        fp = data_fingerprint(source, base_dir=base)
        job_hash = hashlib.sha256("\n".join([nb_hashes[nb], canonical_json(params), fp]).encode("utf-8")).hexdigest()
        jobs.append(
            Job(
                notebook=nb,
                params=dict(params),
                exec_params=exec_params,
                data_source=source,
                fingerprint=fp,
                job_hash=job_hash,
                slug=param_slug(params),
                stem=notebook_stem(nb),
                index=i,
            )
        )
    return jobs


def job_spec(
    job: Job,
    staging: Path,
    *,
    kernel_name: str = "maexlab",
    engine: str = "inprocess",
    environ: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON-able instruction for :func:`maexlab.runner.worker.run_report`.

    The report runs in its staging folder (its working directory), and the notebook gets
    ``output_dir = "."``: no absolute or temporary path enters the executed notebook, and the
    folder can be renamed into place when the report has finished.
    """
    return {
        "key": job.key,
        "notebook": str(job.notebook.resolve()),
        "stem": job.stem,
        "staging": str(staging),
        "parameters": {**job.exec_params, "output_dir": "."},
        "engine": engine,
        "kernel_name": kernel_name,
        "pythonpath": str(repo_root()),
        "environ": dict(environ or {}),
    }


def read_done(run_dir: Path, job: Job) -> dict[str, Any] | None:
    """The job's done-marker if it exists, is readable and matches the job's hash."""
    path = job.out_dir(run_dir) / DONE_MARKER
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("job_hash") != job.job_hash or marker.get("status") != "ok":
        return None
    return marker


def write_done(folder: Path, job: Job, record: dict[str, Any]) -> None:
    """Write the done-marker into a report's (staging) folder: the last file of a successful report."""
    atomic_write_text(Path(folder) / DONE_MARKER, json.dumps({**record, "job_hash": job.job_hash}, indent=2))


def clear_done(run_dir: Path, job: Job) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(job.out_dir(run_dir) / DONE_MARKER)
