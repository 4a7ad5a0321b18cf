"""One module per autoencoder family; each builder returns an uncompiled keras.Model whose
sub-models are named "encoder" and "decoder". What they share (checked fit, the custom training
step of models that carry their own loss) is in :mod:`aelib.builders.base`."""

from .base import Autoencoder, EncoderDecoderModel, LossTermsModel, batch_mean
from .conditional import ConditionalVAE, conditional_variational_autoencoder
from .contractive import ContractiveAutoencoder, autodiff_jacobian, contractive_autoencoder, jacobian_frobenius_norm
from .conv import conv_autoencoder, conv_decoder, conv_encoder
from .denoising import denoising_autoencoder
from .dense import DenseTransposed, TiedAutoencoder, dense_autoencoder, dense_decoder, dense_encoder
from .masked import MaskedAutoencoder, masked_autoencoder
from .recurrent import recurrent_autoencoder, recurrent_decoder, recurrent_encoder
from .sparse import sparse_autoencoder
from .variational import VAE, variational_autoencoder
from .vq import VQVAE, VectorQuantizer, vq_autoencoder
