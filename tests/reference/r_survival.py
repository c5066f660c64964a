"""R results for competing risks and for Cox with delayed entry.

1. Cumulative incidence with tied times: R ``cmprsk::cuminc(ftime, fstat)`` on the data below,
   as published in statsmodels' test suite (statsmodels/duration/tests/test_survfunc.py,
   ``test_incidence``; statsmodels 0.15), evaluated at the distinct times 1, 2, 4, 6, 7, 8, 9.
2. Cox with delayed entry: R ``coxph(Surv(entry, time, status) ~ exog, ties = "efron")`` on
   survival_data_50_2.csv and survival_data_100_5.csv (columns: time, status, entry, covariates),
   produced by statsmodels' script statsmodels/duration/tests/results/survival.R and shipped as
   survival_r_results.py (``coef_50_2_et_efr`` ...). R prints 7 significant digits; the test
   compares to 4 decimals (lifelines' optimiser stops at a tolerance near 1e-7).
"""

FTIME = [1, 1, 2, 4, 4, 4, 6, 6, 7, 8, 9, 9, 9, 1, 2, 2, 4, 4]
FSTAT = [1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
CUMINC_TIMES = [1, 2, 4, 6, 7, 8, 9]
CUMINC = {
    1: [0.11111111, 0.17037037, 0.17037037, 0.17037037, 0.17037037, 0.17037037, 0.17037037],
    2: [0.0, 0.0, 0.20740741, 0.20740741, 0.20740741, 0.20740741, 0.20740741],
    3: [0.0, 0.0, 0.0, 0.17777778, 0.26666667, 0.26666667, 0.26666667],
}

COXPH_ENTRY_EFRON = {
    "survival_data_50_2.csv": {"coef": [-0.4092002, 0.4871344], "se": [0.1968905, 0.2608527]},
    "survival_data_100_5.csv": {
        "coef": [-0.4338666, -0.2140139, -0.1397387, 0.3535993, 0.5768645],
        "se": [0.1756485, 0.1527244, 0.138298, 0.1488427, 0.1716654],
    },
}
