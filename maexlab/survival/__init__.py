"""How long initiatives keep going: durations, Kaplan-Meier, log-rank tests and Cox models.

Modules
    :mod:`~maexlab.survival.duration_tables`
        cohorts, durations since founding or since entering a phase, risk windows
    :mod:`~maexlab.survival.kaplan_meier`
        Kaplan-Meier fits and tables (S(t), median, RMST with its variance), the delayed-entry
        bias, survival curves with the CBS and Eurostat reference figures
    :mod:`~maexlab.survival.logrank_tests`
        k-sample and pairwise log-rank tests with delayed entry
    :mod:`~maexlab.survival.start_stop`
        start-stop rows with time-varying covariates for the Cox models
    :mod:`~maexlab.survival.cox`
        time-varying and baseline Cox models, proportional-hazards checks, Poisson cross-check
    :mod:`~maexlab.survival.hazard`
        smoothed and piecewise closure hazard since start, and its plot
    :mod:`~maexlab.survival.plots`
        the hazard-ratio forest plot
    :mod:`~maexlab.survival.verdicts`
        verdicts on the continuity claims (supported / contradicted / inconclusive / not testable)
    :mod:`~maexlab.survival.needs`
        what each section needs from the data (preconditions)
    :mod:`~maexlab.survival.sections`
        the notebook-facing sections of notebook 03 and ``SECTIONS``

Every public name is re-exported here: ``from maexlab import survival as sv; sv.km_table(...)``.

Durations
    Time is in years (365.25 days) since founding (or since entering a phase). An initiative is
    followed until ``closed_on`` (event) or ``observed_until`` (right-censored).

Delayed entry (left truncation)
    Initiatives enter the data when they join the platform (``joined_on``), possibly years after
    founding; those that closed before joining never appear. Treating every initiative as
    observed from founding over-represents survivors and inflates survival. Every estimator here
    therefore starts an initiative's time at risk at ``entry = joined_on - founded_on``
    (lifelines ``entry=`` / ``entry_col``, or the first start-stop interval starting at entry).
    :func:`delayed_entry_bias` shows the size of the bias.
"""

from maexlab.survival.cox import (
    DUMMY_GROUPS,
    MIN_SPLIT_CLOSURES,
    MISSING_REASONS,
    after_cut,
    baseline_cox,
    cox_covariates,
    entry_covariates,
    fit_cox_tv,
    fit_errors,
    missing_covariates,
    ph_check_time_split,
    phase_reference,
    poisson_closure_model,
    schoenfeld_test,
    try_fit_cox_tv,
)
from maexlab.survival.duration_tables import COHORTS, cohort_of, durations, phase_durations, risk_window, start_to_closure
from maexlab.survival.hazard import piecewise_hazard, plot_smoothed_hazard, smoothed_hazard
from maexlab.survival.kaplan_meier import (
    CBS_REFERENCE,
    EUROSTAT_REFERENCE,
    Z95,
    delayed_entry_bias,
    km_fit,
    km_table,
    plot_km,
    rmst_variance,
)
from maexlab.survival.logrank_tests import logrank, pairwise_logrank
from maexlab.survival.plots import plot_hazard_ratios
from maexlab.survival.start_stop import COX_COVARIATES, PHASE_DUMMIES, counting_process, first_grant_dates
from maexlab.survival.verdicts import (
    CBS_EQUIVALENCE_MARGIN,
    CLAIMS,
    verdict_cbs,
    verdict_few_move_on,
    verdict_hazard_ratio,
    verdict_valley,
)

#: Modules this package's functions import on first use (the runner's warm worker imports
#: them before it forks the reports of a notebook that uses this package).
LAZY_IMPORTS = (
    "lifelines",
    "statsmodels.base.covtype",
    "statsmodels.genmod.families",
    "statsmodels.genmod.generalized_linear_model",
)

__all__ = [
    "CBS_EQUIVALENCE_MARGIN",
    "CBS_REFERENCE",
    "CLAIMS",
    "COHORTS",
    "COX_COVARIATES",
    "DUMMY_GROUPS",
    "EUROSTAT_REFERENCE",
    "MIN_SPLIT_CLOSURES",
    "MISSING_REASONS",
    "PHASE_DUMMIES",
    "Z95",
    "after_cut",
    "baseline_cox",
    "cohort_of",
    "counting_process",
    "cox_covariates",
    "delayed_entry_bias",
    "durations",
    "entry_covariates",
    "first_grant_dates",
    "fit_cox_tv",
    "fit_errors",
    "km_fit",
    "km_table",
    "logrank",
    "missing_covariates",
    "pairwise_logrank",
    "ph_check_time_split",
    "phase_durations",
    "phase_reference",
    "piecewise_hazard",
    "plot_hazard_ratios",
    "plot_km",
    "plot_smoothed_hazard",
    "poisson_closure_model",
    "risk_window",
    "rmst_variance",
    "schoenfeld_test",
    "smoothed_hazard",
    "start_to_closure",
    "try_fit_cox_tv",
    "verdict_cbs",
    "verdict_few_move_on",
    "verdict_hazard_ratio",
    "verdict_valley",
]
