"""aelib's registered layers, each defined in the family file that uses it (so that file can be copied alone) and
gathered here: :class:`Sampling` and :class:`Clip` (variational), :class:`KLSparsity` and :class:`L1Sparsity`
(sparse), :class:`Corruption` (denoising; its NumPy twins are in :mod:`aelib.corruption`).

Each is written with ``keras.ops`` and ``keras.random``, validates its arguments in ``__init__`` and round-trips
through ``get_config()``, so a model using it saves to ``.keras`` and loads with ``safe_mode=True``.
"""

from .builders.denoising import CORRUPTIONS, Corruption
from .builders.sparse import KLSparsity, L1Sparsity
from .builders.variational import Clip, Sampling

__all__ = ["Sampling", "Clip", "KLSparsity", "L1Sparsity", "Corruption", "CORRUPTIONS"]
