"""Collectors of the validation benchmark (benchmarks/validate.py): one module per notebook area.

Each ``collect(seed, effects, n_initiatives)`` generates one dataset and returns rows in the
schema of :mod:`validation.common` (one per estimand or verdict rule).
"""
