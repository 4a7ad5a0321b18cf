"""aelib: autoencoders in Keras 3, a course and a library of copyable builders."""

from .config import choose_backend, set_seed

choose_backend()  # before Keras is imported: JAX or PyTorch where TensorFlow is not installed


from . import builders, callbacks, checks, corruption, datasets, layers, losses, metrics, notebook, plots, synthetic, timeseries
from .builders import (
    VAE,
    VQVAE,
    Autoencoder,
    ConditionalVAE,
    ContractiveAutoencoder,
    DenseTransposed,
    EncoderDecoderModel,
    LossTermsModel,
    MaskedAutoencoder,
    MaskedConv2D,
    PixelCNNPrior,
    TiedAutoencoder,
    VectorQuantizer,
    autodiff_jacobian,
    conditional_variational_autoencoder,
    contractive_autoencoder,
    conv_autoencoder,
    conv_decoder,
    conv_encoder,
    denoising_autoencoder,
    dense_autoencoder,
    dense_decoder,
    dense_encoder,
    jacobian_frobenius_norm,
    masked_autoencoder,
    pixelcnn_prior,
    recurrent_autoencoder,
    recurrent_decoder,
    recurrent_encoder,
    sparse_autoencoder,
    variational_autoencoder,
    vq_autoencoder,
)
from .callbacks import KLWarmup, Progress, StopOnNaN, TrainingDivergedError
from .corruption import add_gaussian_noise, add_salt_and_pepper, corrupt, mask_blocks, mask_pixels
from .datasets import (
    DatasetCorruptError,
    DatasetNotFoundError,
    flatten,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_movielens_100k,
    read_idx,
    split_ratings,
    subset,
    write_offline_mnist,
)
from .detector import AutoencoderDetector
from .losses import kl_divergence, reconstruction_nll
from .notebook import say
from .synthetic import make_ratings, make_signals
from .tables import ADBENCH_TABLES, KDDCUP99_CATEGORICAL, KDDCUP99_COLUMNS, load_adbench, load_kddcup99

__version__ = "0.2.0"
