"""aelib: autoencoders in Keras 3, a course and a library of copyable builders."""
from . import datasets, layers, losses, metrics, plots, synthetic
from .builders import (
    VAE,
    ContractiveAutoencoder,
    KLWarmup,
    contractive_autoencoder,
    conv_autoencoder,
    conv_decoder,
    conv_encoder,
    dense_autoencoder,
    dense_decoder,
    dense_encoder,
    denoising_autoencoder,
    jacobian_frobenius_norm,
    kl_divergence,
    reconstruction_nll,
    recurrent_autoencoder,
    sparse_autoencoder,
    variational_autoencoder,
)
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
    load_movielens_100k,
    make_ratings,
    make_signals,
    split_ratings,
    mask_blocks,
    mask_pixels,
    read_idx,
    subset,
)

__version__ = "0.1.0"
