"""What each continuity section needs from the data, checked before anything is estimated.

Table and column needs are :class:`~maexlab.reporting.preconditions.Needs`; the estimand checks
(closures present, follow-up as long as the horizon, a phase recorded, ``joined_on`` present for
delayed entry, the sampling the dataset declares) return a
:class:`~maexlab.reporting.verdicts.Reason` or None, in the survival namespace of the catalogue.

>>> import pandas as pd
>>> d = pd.DataFrame({"duration": [0.5, 0.9], "event": [False, False]})
>>> closures_present(d).key
'survival.reasons.no_closures'
>>> follow_up_reaches(d, 5.0).values["horizon"]
5.0
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from maexlab.reporting.preconditions import Needs
from maexlab.reporting.verdicts import Reason

__all__ = [
    "COX",
    "DURATIONS",
    "MIN_EVENTS_PER_COVARIATE",
    "MIN_TRANSITION_EVENTS",
    "PHASES",
    "closures_present",
    "delayed_entry_recorded",
    "enough_closures",
    "enough_in_phase",
    "enough_transitions",
    "follow_up_reaches",
    "phase_recorded",
    "phases_in",
    "SURVIVAL_BIASED_SAMPLING",
    "sampling_of",
]

DURATIONS = Needs({"initiatives": ("founded_on", "observed_until")})
PHASES = DURATIONS | Needs({"phases": ("phase", "entered_on")})
COX = DURATIONS | Needs({"funding": ("purpose", "status", "decided_on")})
#: Closures per estimated Cox coefficient below which the model is not fitted (Vittinghoff & McCulloch 2007: 5-9).
MIN_EVENTS_PER_COVARIATE = 5


def closures_present(d: pd.DataFrame | None) -> Reason | None:
    """A reason when no initiative closed: survival is then 100% by construction, nothing to estimate."""
    if d is None or len(d) == 0 or not bool(d["event"].any()):
        return Reason("survival.reasons.no_closures")
    return None


def enough_closures(n: int, minimum: int) -> Reason | None:
    """A reason when fewer than ``minimum`` closures occurred."""
    return None if n >= minimum else Reason("survival.reasons.too_few_closures", {"n": int(n), "minimum": int(minimum)})


def follow_up_reaches(d: pd.DataFrame | None, horizon: float) -> Reason | None:
    """A reason when the longest follow-up is shorter than ``horizon`` years (5-year survival needs 5)."""
    longest = float(d["duration"].max()) if d is not None and len(d) else 0.0
    if longest >= horizon:
        return None
    return Reason("survival.reasons.short_follow_up", {"years": longest, "horizon": float(horizon)})


def phase_recorded(phases: pd.DataFrame | None, phase: str) -> Reason | None:
    """A reason when ``phase`` never occurs in the phase history: its estimands are not testable (never 0%)."""
    if phases is None or "phase" not in phases or phase not in set(phases["phase"].dropna()):
        return Reason("survival.reasons.phase_never_recorded", {"phase": phase})
    return None


def delayed_entry_recorded(initiatives: pd.DataFrame | None) -> bool:
    """True when ``joined_on`` is present and holds values: only then is delayed entry corrected."""
    return initiatives is not None and "joined_on" in initiatives and bool(initiatives["joined_on"].notna().any())


def sampling_of(metadata: dict) -> tuple[str, ...]:
    """The sampling a dataset declares in dataset.json (``sampling``: one text or a list), each
    normalised to a catalogue key part ("outcome-selected" -> ``outcome_selected``).

    >>> sampling_of({"sampling": ["outcome-selected", "closures undated"]})
    ('outcome_selected', 'closures_undated')
    """
    value = metadata.get("sampling") if metadata else None
    if not value:
        return ()
    values = value if isinstance(value, list | tuple) else [value]
    return tuple(str(v).strip().lower().replace("-", "_").replace(" ", "_") for v in values if str(v).strip())


#: Declared samplings under which survival does not describe the initiatives (no CBS comparison).
SURVIVAL_BIASED_SAMPLING = ("outcome_selected", "closures_undated")


def phases_in(phases: pd.DataFrame | None) -> Iterable[str]:
    """The phases recorded at least once."""
    return set() if phases is None or "phase" not in phases else set(phases["phase"].dropna())


#: Events per transition below which a transition probability, a cause-specific or a Fine-Gray model is not estimated.
MIN_TRANSITION_EVENTS = 10


def enough_transitions(n: int, transition: str, minimum: int = MIN_TRANSITION_EVENTS) -> Reason | None:
    """A reason when fewer than ``minimum`` moves of ``transition`` (e.g. "start -> growth") are observed.

    >>> enough_transitions(3, "start -> closed").values["minimum"]
    10
    """
    if n >= minimum:
        return None
    return Reason("survival.paths.reason_few_transitions", {"n": int(n), "minimum": int(minimum), "transition": transition})


def enough_in_phase(n: int, phase: str, years: float, minimum: int) -> Reason | None:
    """A reason when fewer than ``minimum`` initiatives are in ``phase`` at ``years`` after founding."""
    if n >= minimum:
        return None
    return Reason(
        "survival.paths.reason_few_in_phase", {"n": int(n), "minimum": int(minimum), "phase": phase, "years": float(years)}
    )
