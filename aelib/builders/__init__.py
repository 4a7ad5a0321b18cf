"""One self-contained file per autoencoder family (each imports only keras, numpy and the standard library, so it
can be copied alone into a project); every builder returns an uncompiled keras.Model with ``.encoder`` and
``.decoder``. The blocks several families need are repeated on purpose, each marked ``# Copied from`` its source
(:mod:`aelib.builders.base` or another family file); ``python -m aelib.copies --check`` keeps them equal."""

from .autoregressive import MaskedConv2D, PixelCNNPrior, pixelcnn_prior
from .base import Autoencoder, EncoderDecoderModel, LossTermsModel, StopOnNaN, TrainingDivergedError, batch_mean
from .conditional import ConditionalVAE, conditional_variational_autoencoder
from .contractive import ContractiveAutoencoder, autodiff_jacobian, contractive_autoencoder, jacobian_frobenius_norm
from .conv import conv_autoencoder, conv_decoder, conv_encoder
from .denoising import CORRUPTIONS, Corruption, denoising_autoencoder
from .dense import DenseTransposed, TiedAutoencoder, dense_autoencoder, dense_decoder, dense_encoder
from .masked import MaskedAutoencoder, masked_autoencoder
from .recurrent import recurrent_autoencoder, recurrent_decoder, recurrent_encoder
from .sparse import KLSparsity, L1Sparsity, kl_bernoulli, sparse_autoencoder
from .variational import VAE, importance_weighted_nll, variational_autoencoder
from .vq import VQVAE, VectorQuantizer, vq_autoencoder
