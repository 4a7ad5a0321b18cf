"""The registry: one module per task, each declaring ``TASK`` (name, help, run, goals, headline).

Adding a task: write ``benchmarks/tasks/<name>.py`` with its ``TASK`` and add the module below.
Importing this package is cheap: each task imports Keras and aelib only when it runs.
"""

from . import anomaly, compression, denoising, features, generation, hashing, speed, tabular

# Run order (the CLI's --only keeps it)
REGISTRY = {m.TASK.name: m.TASK for m in (speed, compression, denoising, generation, anomaly, features, tabular, hashing)}
TASKS = tuple(REGISTRY)
# The order of the goals in results.md and the README, and of the README's headline rows
GOAL_ORDER = ("compression", "denoising", "anomaly", "features", "speed", "tabular", "hashing", "generation")
HEADLINE_ORDER = ("compression", "denoising", "generation", "anomaly", "features", "tabular", "hashing", "speed")
