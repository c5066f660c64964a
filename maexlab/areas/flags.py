"""Flag rules: where a place sits in the funnel, and the verdict on "this place lags the country".

Funnel position (Spiegelhalter 2005): ``within`` the 95% limits, ``above``/``below`` outside them
(an alert), ``far_above``/``far_below`` outside the 99.8% limits (an alarm). About 5% of places
fall outside the 95% limits and 0.2% outside the 99.8% limits by chance alone when every place
has the national rate, so a flag is a reason to look, not a verdict on the place.

The verdict on the shrunk estimate uses the one vocabulary of :mod:`maexlab.reporting.verdicts`:
the difference shrunk - national, with the shrunk estimate's 95% interval, decides the direction
claim "lower than the country" (the national value is the fixed reference line, as in the funnel).

>>> simple_position("far_below")
'below'
"""

from __future__ import annotations

from maexlab.reporting.verdicts import Verdict, direction_verdict, not_testable

__all__ = ["POSITIONS", "expected_outside", "lag_verdict", "simple_position"]

POSITIONS = ("within", "above", "below", "far_above", "far_below", "unknown")


def simple_position(position: str) -> str:
    """``within``, ``above`` or ``below`` (the 99.8% alarm folded into the 95% alert), or ``unknown``."""
    return {"far_above": "above", "far_below": "below"}.get(position, position)


def expected_outside(n_places: int, level: float = 0.95) -> float:
    """How many of ``n_places`` are expected outside the ``level`` limits by chance alone.

    >>> expected_outside(73)
    3.65
    """
    return round(n_places * (1 - level), 2)


def lag_verdict(claim: str, shrunk: float | None, lo: float | None, hi: float | None, national: float | None) -> Verdict:
    """Verdict on "the place is below the national level", from its shrunk estimate and interval."""
    if national is None or shrunk is None:
        return not_testable(claim, "common.reasons.no_estimate")
    diff = [None if v is None else v - national for v in (shrunk, lo, hi)]
    return direction_verdict(claim, diff[0], diff[1], diff[2], claimed_sign=-1, kind="signed2")
