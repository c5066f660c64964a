"""maexlab's survival estimators against R (cmprsk::cuminc, survival::coxph with entry times).

Figures and sources: tests/reference/r_survival.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference import r_survival as r

from maexlab.survival import baseline_cox
from maexlab.survival.multistate import aalen_johansen

REFERENCE = Path(__file__).resolve().parent / "reference"


def test_cumulative_incidence_with_tied_times_matches_cmprsk():
    cif = aalen_johansen(np.array(r.FTIME, float), np.array(r.FSTAT), None, r.CUMINC_TIMES)
    for cause, expected in r.CUMINC.items():
        np.testing.assert_allclose(cif[cause], expected, atol=1e-7)


@pytest.mark.parametrize("name", sorted(r.COXPH_ENTRY_EFRON))
def test_cox_with_delayed_entry_matches_coxph(name):
    raw = pd.read_csv(REFERENCE / name, sep=r"\s+", header=None)
    covariates = [f"x{i}" for i in range(1, raw.shape[1] - 2)]
    frame = raw.set_axis(["duration", "event", "entry", *covariates], axis=1)
    fit = baseline_cox(frame, covariates)
    table = fit["table"].set_index("covariate").loc[covariates]
    expected = r.COXPH_ENTRY_EFRON[name]
    np.testing.assert_allclose(table["coef"], expected["coef"], atol=1e-4)
    np.testing.assert_allclose(table["se"], expected["se"], atol=1e-4)
