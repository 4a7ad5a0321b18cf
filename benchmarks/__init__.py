"""aelib benchmarks: quality and speed of aelib's autoencoders side by side with baselines.

Run ``python -m benchmarks`` (full Fashion-MNIST, ~30-40 minutes on 2 CPU cores) or
``python -m benchmarks --quick`` (3,000 / 1,000 images, a few minutes); see ``--help``.
Each task is one module of :mod:`benchmarks.tasks` (its run, goals and README line, registered
in ``benchmarks/tasks/__init__.py``); what the tasks share is in :mod:`benchmarks.common`; result
rows, goal verdicts and the Markdown table in :mod:`benchmarks.results`.
"""
