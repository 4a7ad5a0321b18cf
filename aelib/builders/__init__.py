"""One module per autoencoder family; each builder returns an uncompiled keras.Model whose
sub-models are named "encoder" and "decoder"."""
from .contractive import ContractiveAutoencoder, contractive_autoencoder, jacobian_frobenius_norm
from .conv import conv_autoencoder, conv_decoder, conv_encoder
from .dense import dense_autoencoder, dense_decoder, dense_encoder
from .denoising import denoising_autoencoder
from .recurrent import recurrent_autoencoder
from .sparse import sparse_autoencoder
from .variational import VAE, KLWarmup, kl_divergence, reconstruction_nll, variational_autoencoder
