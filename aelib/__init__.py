"""aelib: autoencoders in Keras 3, a course and a library of copyable builders."""
from .config import is_quick, pick, set_seed
from .datasets import (
    DatasetCorruptError,
    DatasetNotFoundError,
    add_gaussian_noise,
    add_salt_and_pepper,
    corrupt,
    flatten,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    mask_blocks,
    read_idx,
    subset,
)

__version__ = "0.1.0"
