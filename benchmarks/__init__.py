"""aelib benchmarks: quality and speed of aelib's autoencoders side by side with baselines.

Run ``python -m benchmarks`` (full Fashion-MNIST, ~30-40 minutes on 2 CPU cores) or
``python -m benchmarks --quick`` (3,000 / 1,000 images, a few minutes); see ``--help``.
Tasks live in :mod:`benchmarks.run`, result rows, goals and the Markdown table in
:mod:`benchmarks.results`.
"""
