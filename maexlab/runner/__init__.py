"""Reports at scale: run notebooks over parameter sets (``maexlab run``); see docs/runner.md.

Modules: :mod:`~maexlab.runner.params` (parameter sets and validation),
:mod:`~maexlab.runner.slug`, :mod:`~maexlab.runner.jobs` (job = notebook x parameters),
:mod:`~maexlab.runner.cli_run` (the CLI command), :mod:`~maexlab.runner.staging` (staging
folders renamed into place, the run lock), :mod:`~maexlab.runner.executors` (local, Dask;
supervision of each report), :mod:`~maexlab.runner.zygote` (the warm worker that forks one
process per report), :mod:`~maexlab.runner.preload` (datasets loaded once per run),
:mod:`~maexlab.runner.worker` (one report in one process), :mod:`~maexlab.runner.inprocess`
and :mod:`~maexlab.runner.kernel_engine` (the two ways to execute a notebook),
:mod:`~maexlab.runner.record` (the papermill-compatible, byte-stable notebook record),
:mod:`~maexlab.runner.render` (HTML, index), :mod:`~maexlab.runner.manifest`,
:mod:`~maexlab.runner.notebook_exec` (``make notebooks``).
"""

from maexlab.runner.deferred import defer_slow_imports

defer_slow_imports()  # before anything below imports nbformat (and so jsonschema): see deferred.py
