"""Which report to start next: the one expected to take longest (so the workers finish together).

With reports of very different lengths (notebook 00 takes half a second, 01 five), running
them in the parameter set's order leaves one worker idle while the other finishes the last
long reports. :class:`LongestFirst` hands out the report expected to take longest
(longest-processing-time order, a classic bound for the makespan), estimating from, in order:

1. the same report's duration in the previous run of the folder (``manifest.json``);
2. the mean duration of its notebook's reports finished in this run, or in the previous run;
3. for a notebook with reports running but none finished yet: at least the time its
   longest-running report has run so far (ties go to it, since it may well be longer);
4. a notebook never seen: first of all (one report of each notebook starts early, and
   its duration then orders the rest).

Estimates are compared in steps of :data:`STEP` seconds, so reports of about the same length
keep the parameter set's order (and noise in the timings does not reorder them). Only the order of starting changes: every
report runs alone in its own process, so its files do not depend on it, and the manifest
lists reports in the parameter set's order whatever the order they ran in.

>>> s = LongestFirst(["a1", "a2", "b1"], group=lambda k: k[0], clock=iter([0.0, 0.0, 1.0, 9.0]).__next__)
>>> s.take()  # neither notebook seen: the set's order
'a1'
>>> s.take()  # 'a' is running, 'b' never seen: b first
'b1'
>>> s.done("b1", 4.0); s.done("a1", 0.5)
>>> s.take(), s.take()
('a2', None)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any

__all__ = ["STEP", "LongestFirst", "previous_durations"]

#: seconds: estimates closer than this count as equal
STEP = 0.25


class LongestFirst:
    """A thread-safe queue of report keys, taken longest expected first.

    ``group(key)`` names the key's notebook; ``prior`` maps keys (and groups) to seconds
    measured before (see :func:`previous_durations`).
    """

    def __init__(
        self,
        keys: Iterable[Hashable],
        *,
        group: Callable[[Any], Hashable],
        prior: dict[Hashable, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue = list(keys)
        self._group = group
        self._prior = dict(prior or {})
        self._clock = clock
        self._lock = threading.Lock()
        self._finished: dict[Hashable, list[float]] = {}
        self._running: dict[Hashable, dict[Any, float]] = {}

    def __len__(self) -> int:
        return len(self._queue)

    def _estimate(self, key: Any, now: float) -> tuple[float, int]:
        """(steps of :data:`STEP` s, 1 when that is only a lower bound): compared as a pair."""
        if key in self._prior:
            return _steps(self._prior[key]), 0
        g = self._group(key)
        done = self._finished.get(g)
        if done:
            return _steps(sum(done) / len(done)), 0
        if g in self._prior:
            return _steps(self._prior[g]), 0
        running = self._running.get(g)
        if running:
            return _steps(max(now - t for t in running.values())), 1
        return math.inf, 1

    def take(self) -> Any | None:
        """The key to start now (None when nothing is left); it counts as running from now."""
        with self._lock:
            if not self._queue:
                return None
            now = self._clock()
            best = max(range(len(self._queue)), key=lambda i: (self._estimate(self._queue[i], now), -i))
            key = self._queue.pop(best)
            self._running.setdefault(self._group(key), {})[key] = now
            return key

    def done(self, key: Any, seconds: float | None) -> None:
        """Record that ``key`` has finished after ``seconds`` (None: it did not really run)."""
        with self._lock:
            g = self._group(key)
            self._running.get(g, {}).pop(key, None)
            if seconds is not None and math.isfinite(seconds) and seconds >= 0:
                self._finished.setdefault(g, []).append(float(seconds))


def _steps(seconds: float) -> float:
    return float(math.floor(seconds / STEP))


def previous_durations(manifest: dict[str, Any] | None) -> dict[str, float]:
    """From an earlier run's manifest: report path -> seconds, and notebook stem -> mean seconds.

    >>> previous_durations({"reports": [{"path": "00/a", "notebook_stem": "00", "duration": 2.0},
    ...                                 {"path": "00/b", "notebook_stem": "00", "duration": 4.0, "cached": False},
    ...                                 {"path": "01/a", "notebook_stem": "01", "duration": None}]})
    {'00/a': 2.0, '00/b': 4.0, '00': 3.0}
    """
    out: dict[str, float] = {}
    by_notebook: dict[str, list[float]] = {}
    for entry in (manifest or {}).get("reports") or []:
        if not isinstance(entry, dict):
            continue
        seconds, path, stem = entry.get("duration"), entry.get("path"), entry.get("notebook_stem")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
            continue
        if isinstance(path, str):
            out[path] = float(seconds)
        if isinstance(stem, str):
            by_notebook.setdefault(stem, []).append(float(seconds))
    for stem, values in by_notebook.items():
        out.setdefault(stem, sum(values) / len(values))
    return out
