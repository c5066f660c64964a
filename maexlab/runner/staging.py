"""Never lose a finished report: staging folders, one-rename replacement, and the run lock.

A report is written into ``<run>/.staging/<stem>/<slug>/`` while it runs. When it has
finished, :func:`commit` puts it in place of the previous report ``<run>/<stem>/<slug>/``
in one rename: ``renameat2(RENAME_EXCHANGE)`` swaps the two folders atomically (Linux), after
which the old report sits in the staging place and is deleted. Where the exchange is not
available, the old folder is first renamed aside (``<slug>.old``), and :func:`recover`
puts it back if the process died between the two renames. Until the commit the old
report stays complete and readable.

:class:`RunLock` is an exclusive ``flock`` on ``<run>/.lock``, held for the whole run: the
kernel releases it when the process ends, however it ends, so a crashed run never leaves a
stale lock. The file names the holder (pid, host, start, command) for the message a second
run prints.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "new").mkdir(); (root / "new" / "a.txt").write_text("new")
3
>>> (root / "old").mkdir(); (root / "old" / "a.txt").write_text("old")
3
>>> commit(root / "new", root / "old")
>>> (root / "old" / "a.txt").read_text(), (root / "new").exists()
('new', False)
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

__all__ = ["STAGING", "RunBusy", "RunLock", "commit", "discard", "recover", "staging_dir"]

STAGING = ".staging"
LOCK_FILE = ".lock"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def staging_dir(run_dir: Path, rel: str) -> Path:
    """Where the report whose final folder is ``run_dir/rel`` is written while it runs."""
    return Path(run_dir) / STAGING / rel


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False when the system cannot (then the caller falls back)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def commit(staged: Path, final: Path) -> None:
    """Replace ``final`` by the finished report in ``staged``; the old report is removed after."""
    staged, final = Path(staged), Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.rename(staged, final)
        return
    if _exchange(staged, final):
        shutil.rmtree(staged, ignore_errors=True)  # now the previous report
        return
    aside = final.with_name(final.name + ".old")
    shutil.rmtree(aside, ignore_errors=True)
    os.rename(final, aside)
    os.rename(staged, final)
    shutil.rmtree(aside, ignore_errors=True)


def recover(final: Path) -> None:
    """Put back a previous report left aside by an interrupted fallback :func:`commit`."""
    final = Path(final)
    aside = final.with_name(final.name + ".old")
    if aside.is_dir():
        if final.exists():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(aside, final)


def discard(staged: Path) -> None:
    shutil.rmtree(staged, ignore_errors=True)


class RunBusy(RuntimeError):
    """Another run holds the run folder's lock."""


class RunLock:
    """Exclusive lock of a run folder for the lifetime of this object (or ``with`` block)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, info: dict[str, Any]) -> None:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise RunBusy(self._holder()) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "argv": sys.argv, **info}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
        self._fd = fd

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "another maexlab run"
        cmd = " ".join(str(a) for a in info.get("argv") or []) or "?"
        return (
            f"run {info.get('name', '?')!r} (pid {info.get('pid', '?')} on {info.get('host', '?')}, "
            f"started {info.get('started', '?')}, command: {cmd})"
        )

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing drops the flock; the file stays (removing it would race)
            self._fd = None
