"""Definitions shared by the valuation modules.

The financial fundamentals and value-model indicators every model uses, the fewest rows a model
is fitted on, what each section of notebook 02 needs from the data (:data:`NEEDS`, for
``report.requires``), the outcome and investor-group types, and :class:`NotComputable`.
"""

from __future__ import annotations

from typing import Literal

#: Financial fundamentals used by every model.
FUNDAMENTALS: tuple[str, ...] = ("log_revenue", "growth", "margin", "earned_income_share")
#: Value-model indicators (reference: commercial).
VALUE_MODEL_DUMMIES: tuple[str, ...] = ("hybrid", "social")
#: Fewest rows a model is fitted on; below it a section says so instead of fitting.
MIN_MODEL_ROWS = 30


_ASSESS_COLS = ("investor_type", "instrument", "assessed_on", "decision")
_FIN_COLS = ("revenue", "costs", "earned_income")
#: What each section needs (table -> columns); pass to ``report.requires``.
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "features": {"assessments": _ASSESS_COLS, "initiatives": ("value_model",), "financials": _FIN_COLS},
    "valuation model": {
        "assessments": (*_ASSESS_COLS, "valuation"),
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "loan-rate model": {
        "assessments": (*_ASSESS_COLS, "interest_rate"),
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "decision model": {
        "assessments": _ASSESS_COLS,
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "decomposition": {
        "assessments": (*_ASSESS_COLS, "valuation"),
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "blended value": {
        "assessments": (*_ASSESS_COLS, "valuation"),
        "initiatives": ("value_model",),
        "phases": ("phase", "entered_on"),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
    "predictive audit": {
        "assessments": _ASSESS_COLS,
        "initiatives": ("value_model",),
        "financials": _FIN_COLS,
        "impact": ("quantity",),
        "proxies": ("euro_per_unit",),
    },
}
NEEDS["willingness to pay"] = NEEDS["loan-rate model"]

Group = Literal["mainstream", "impact"]
Outcome = Literal["log_valuation", "interest_rate_pp", "accepted"]


class NotComputable(ValueError):
    """Raised when the data cannot support a computation; the message says why."""
