"""Reports at scale: run notebooks over parameter sets (``maexlab run``); see docs/runner.md.

Modules: :mod:`~maexlab.runner.params` (parameter sets and validation),
:mod:`~maexlab.runner.slug`, :mod:`~maexlab.runner.jobs` (job = notebook x parameters),
:mod:`~maexlab.runner.executors` (local processes, Dask), :mod:`~maexlab.runner.worker`
(one report in one process), :mod:`~maexlab.runner.render` (HTML, index),
:mod:`~maexlab.runner.manifest`, :mod:`~maexlab.runner.cli_run` (the CLI command).
"""
