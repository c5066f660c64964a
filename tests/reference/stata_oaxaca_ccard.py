"""Stata ``oaxaca`` results on statsmodels' ccard data.

Source: statsmodels/stats/tests/test_oaxaca.py (statsmodels 0.15), which states "All of these
stata_results are from using the oaxaca command in STATA" (Jann 2008, The Stata Journal 8(4):453-479).
Model: AVGEXP ~ AGE + INCOME + INCOMESQ (+ constant), groups OWNRENT = 1 (A) and 0 (B); the gap
is A minus B (statsmodels' default swap=True puts the higher-mean group first). Stata reports 4
decimals for these figures (statsmodels tests them to 3).
"""

GAP = 158.7504
#: oaxaca ..., pooled  (reference: pooled model with a group indicator)
POOLED_EXPLAINED = 130.8095
POOLED_UNEXPLAINED = 27.94091
#: oaxaca ..., threefold (viewpoint of group B)
THREEFOLD_ENDOWMENTS = 321.7482
THREEFOLD_COEFFICIENTS = 75.45371
THREEFOLD_INTERACTION = -238.4515
#: oaxaca ..., omega  (Neumark 1988: pooled model without the group indicator)
NEUMARK_EXPLAINED = 139.22577
NEUMARK_UNEXPLAINED = 19.52467
#: oaxaca ..., weight(1) and weight(0): the unexplained part with group A's / group B's coefficients
#: as reference (statsmodels: two_fold_type="self_submitted", submitted_weight=1 / 0, swap=True).
REFERENCE_A_UNEXPLAINED = 75.45371
REFERENCE_B_EXPLAINED = 321.7482
PRECISION = 3  # decimals, as the source tests them
