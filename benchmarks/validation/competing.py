"""Competing-risks methods on data drawn from a Fine-Gray model (one draw per seed and mode).

Data from :func:`maexlab.survival.competing_risks.simulate_fine_gray` (the design of Fine and
Gray 1999, section 5): cause-1 log subdistribution hazard ratio ``beta_z1`` for ``z1`` (0.5 with
effects, 0 without) and -0.5 for ``z2``. Checked:

* :func:`~maexlab.survival.competing_risks.fine_gray` (robust SE), right-censored only and with
  delayed entry (half the subjects enter late, uniform on (0, 1)): coverage of the 95% interval
  of both log-SHRs;
* :func:`~maexlab.survival.competing_risks.gray_test` of the cause-1 incidence between
  ``z1 = 0`` and ``z1 = 1``: rejection at 5% (nominal 5% without effects; power with).

Notebook 03 applies the same functions to closure from start (``fine_gray_from_start``) and to
closure by value model.
"""

from __future__ import annotations

import math

import numpy as np

from maexlab.survival.competing_risks import fine_gray, gray_test, simulate_fine_gray

from .common import estimand, verdict

NAME = "competing"
PLANTED_Z1 = 0.5
PLANTED_Z2 = -0.5


def collect(seed: int, effects: bool, n_initiatives: int = 300) -> list[dict]:
    """Fine-Gray coverage (two entry designs) and Gray's test on draws of ``n_initiatives`` subjects."""
    b1 = PLANTED_Z1 if effects else 0.0
    rows: list[dict] = []
    for label, entry_max in (("right-censored", 0.0), ("delayed entry", 1.0)):
        d = simulate_fine_gray(n_initiatives, beta1=(b1, PLANTED_Z2), entry_max=entry_max, seed=seed)
        fit = fine_gray(d["duration"], d["cause"], d["entry"], d[["z1", "z2"]])
        for z, planted in (("z1", b1), ("z2", PLANTED_Z2)):
            r = fit.summary.loc[z] if fit.converged else None
            rows.append(
                estimand(
                    NAME, f"Fine-Gray log SHR {z}, {label}", effects, seed, planted,
                    *((r["coef"], math.log(r["lo"]), math.log(r["hi"]), r["se"]) if r is not None
                      else (None, None, None, None)),
                    n_initiatives=len(d), unit="log SHR", note="" if r is not None else "did not converge",
                )
            )  # fmt: skip
    d = simulate_fine_gray(n_initiatives, beta1=(b1, PLANTED_Z2), beta2=(0.0, 0.5), seed=seed)
    test = gray_test(d["duration"], d["cause"], d["z1"])
    reached = "not_testable" if not np.isfinite(test.p_value) else ("rejected" if test.p_value < 0.05 else "not rejected")
    rows.append(
        verdict(NAME, "Gray's test rejects at 5% (z1)", effects, seed, reached, "rejected", None if effects else 0.05,
                n_initiatives=len(d))
    )  # fmt: skip
    return rows
