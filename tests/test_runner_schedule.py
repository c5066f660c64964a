"""Reports start longest expected first, so the workers finish together (no idle tail)."""

from __future__ import annotations

import math

from maexlab.runner.schedule import STEP, LongestFirst, previous_durations


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def notebook(key: str) -> str:
    return key.split("/", 1)[0]


def simulate(keys: list[str], seconds: dict[str, float], workers: int, prior: dict[str, float] | None = None) -> float:
    """Run ``keys`` on ``workers`` slots with the scheduler; return when the last one finishes."""
    clock = Clock()
    order = LongestFirst(keys, group=notebook, prior=prior, clock=clock)
    running: list[tuple[float, str]] = []
    while True:
        while len(running) < workers and (key := order.take()) is not None:
            running.append((clock.now + seconds[notebook(key)], key))
        if not running:
            return clock.now
        running.sort()
        end, key = running.pop(0)
        clock.now = end
        order.done(key, seconds[notebook(key)])


def test_long_reports_first_without_any_prior():
    # the benchmark's shape: 15 short reports (00) listed before 15 long ones (01), two workers
    keys = [f"00/{i}" for i in range(15)] + [f"01/{i}" for i in range(15)]
    seconds = {"00": 0.6, "01": 4.5}
    makespan = simulate(keys, seconds, workers=2)
    ideal = (15 * 0.6 + 15 * 4.5) / 2
    assert makespan <= ideal + 0.6 + 1e-9  # at most one short report of imbalance
    in_set_order = 15 * 0.6 / 2 + math.ceil(15 / 2) * 4.5  # what FIFO gives: one worker idles at the end
    assert makespan < in_set_order - 1.5


def test_prior_durations_order_the_reports():
    order = LongestFirst(["a/1", "a/2", "b/1"], group=notebook, prior={"a/2": 9.0, "b": 3.0, "a": 1.0}, clock=Clock())
    assert [order.take(), order.take(), order.take(), order.take()] == ["a/2", "b/1", "a/1", None]


def test_about_equal_estimates_keep_the_set_order():
    prior = {"x/1": 0.05, "x/2": 0.07, "x/3": 0.06 + STEP / 10}
    order = LongestFirst(["x/1", "x/2", "x/3"], group=notebook, prior=prior, clock=Clock())
    assert [order.take() for _ in range(3)] == ["x/1", "x/2", "x/3"]


def test_each_notebook_is_probed_early_and_a_running_one_counts_as_at_least_its_time():
    clock = Clock()
    order = LongestFirst(["s/1", "s/2", "s/3", "l/1", "l/2"], group=notebook, clock=clock)
    assert order.take() == "s/1"  # nothing known: the set's order
    assert order.take() == "l/1"  # a notebook never seen goes before one already running
    clock.now = 0.6
    order.done("s/1", 0.6)
    assert order.take() == "l/2"  # l/1 has run 0.6 s and is not done: at least as long as s
    clock.now = 1.2
    order.done("l/1", 5.0)
    assert order.take() == "s/2"


def test_a_report_that_did_not_run_teaches_nothing():
    order = LongestFirst(["a/1", "a/2", "b/1"], group=notebook, clock=Clock())
    order.take()
    order.done("a/1", None)
    order.done("zzz", 3.0)  # unknown keys are ignored, not an error
    assert len(order) == 2


def test_previous_durations_skip_what_is_not_a_duration():
    manifest = {
        "reports": [
            {"path": "00/a", "notebook_stem": "00", "duration": 1.0},
            {"path": "00/b", "notebook_stem": "00", "duration": float("nan")},
            {"path": "00/c", "notebook_stem": "00", "duration": True},
            {"path": "01/a", "notebook_stem": "01", "duration": -1},
            "not an entry",
        ]
    }
    assert previous_durations(manifest) == {"00/a": 1.0, "00": 1.0}
    assert previous_durations(None) == {} and previous_durations({"reports": None}) == {}
