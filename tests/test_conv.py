"""The convolutional family (aelib/builders/conv.py): what makes it convolutional (kernels shared across the image,
so a shift of the input shifts the feature maps), any image size through padding and cropping, the three ways up,
batch normalisation, and the encoder and decoder builders on their own. The shared battery (shapes, loss down on real
data, safe-mode round trip, Keras' conventions, bad arguments) is in test_builders.py."""

import keras
import numpy as np
import pytest

import aelib
from aelib.builders.conv import same_padding


def layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_two_stride_2_blocks_take_28x28_to_7x7_and_a_flat_code():
    ae = aelib.conv_autoencoder((28, 28, 1), 16, filters=(32, 64))
    encoder = ae.encoder
    assert encoder.get_layer("encoder_conv_act_1").output.shape == (None, 7, 7, 64)
    assert "ZeroPadding2D" not in layer_types(encoder) and "Cropping2D" not in layer_types(ae.decoder)
    assert encoder.output.shape == (None, 16) and ae.decoder.output.shape == (None, 28, 28, 1)


@pytest.mark.parametrize("size,stride", [(28, 4), (30, 4), (17, 4), (5, 8), (1, 2), (64, 8)])
def test_same_padding_makes_a_multiple_of_the_stride_split_evenly(size, stride):
    before, after = same_padding(size, stride)
    assert (size + before + after) % stride == 0 and 0 <= after - before <= 1 and before + after < stride


def test_odd_images_are_padded_in_the_encoder_and_cropped_back_in_the_decoder():
    ae = aelib.conv_autoencoder((30, 17, 2), 8, filters=(8, 16))
    pad, crop = ae.encoder.get_layer("pad"), ae.decoder.get_layer("crop")
    assert pad.output.shape[1:3] == (32, 20) and crop.input.shape[1:3] == (32, 20)
    x = np.random.default_rng(0).random((4, 30, 17, 2)).astype("float32")
    assert ae.predict(x, verbose=0).shape == x.shape


def test_a_shift_of_the_input_shifts_the_feature_maps():
    """Convolutions share their kernels across the image: moving an object by 4 pixels (two stride-2 blocks) moves
    the last feature maps by one cell, while a dense layer would see a different input altogether."""
    aelib.set_seed(0)
    encoder = aelib.conv_encoder((40, 40, 1), 8, filters=(4, 8))
    features = keras.Model(encoder.inputs, encoder.get_layer("encoder_conv_act_1").output)
    patch = np.random.default_rng(0).random((16, 16)).astype("float32")
    images = np.zeros((2, 40, 40, 1), "float32")
    images[0, 8:24, 8:24, 0] = patch
    images[1, 8:24, 12:28, 0] = patch  # 4 pixels to the right
    maps = features.predict(images, verbose=0)
    np.testing.assert_allclose(maps[1, :, 1:], maps[0, :, :-1], atol=1e-5)
    assert not np.allclose(maps[1], maps[0], atol=1e-3)  # the maps did change: they moved


@pytest.mark.parametrize("upsampling", ["transpose", "nearest", "bilinear"])
def test_the_three_ways_up_give_the_image_back_at_its_size(upsampling):
    decoder = aelib.conv_decoder(8, (28, 28, 3), filters=(16, 8), upsampling=upsampling)
    types = layer_types(decoder)
    if upsampling == "transpose":
        assert types.count("Conv2DTranspose") == 2 and "UpSampling2D" not in types
    else:
        ups = [layer for layer in decoder.layers if isinstance(layer, keras.layers.UpSampling2D)]
        assert len(ups) == 2 and all(layer.interpolation == upsampling for layer in ups)
    # each block doubles the image; only the last convolution works at full size, and it outputs the 3 channels
    full = [layer for layer in decoder.layers if layer.output.shape[1:3] == (28, 28) and "Conv" in type(layer).__name__]
    assert [layer.output.shape[-1] for layer in full] == [3]
    z = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
    assert decoder.predict(z, verbose=0).shape == (2, 28, 28, 3)


def test_batch_norm_replaces_the_biases_and_learns_its_statistics_in_fit(fashion):
    (x, _), _ = fashion
    aelib.set_seed(0)
    ae = aelib.conv_autoencoder((28, 28, 1), 8, filters=(8, 16), batch_norm=True)
    norms = [layer for layer in ae.encoder.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 2 and not ae.encoder.get_layer("encoder_conv_0").use_bias
    before = keras.ops.convert_to_numpy(norms[0].moving_mean).copy()
    ae.compile(optimizer="adam", loss="mse")
    ae.fit(x[:256], epochs=1, batch_size=64, verbose=0)
    assert not np.allclose(keras.ops.convert_to_numpy(norms[0].moving_mean), before)


def test_kernel_size_is_every_convolution_s():
    ae = aelib.conv_autoencoder((28, 28, 1), 8, filters=(8, 16), kernel_size=5)
    kernels = [
        layer.kernel.shape[:2] for model in (ae.encoder, ae.decoder) for layer in model.layers if "Conv" in type(layer).__name__
    ]
    assert len(kernels) == 4 and set(kernels) == {(5, 5)}


def test_the_encoder_and_decoder_builders_are_the_autoencoder_s_parts():
    aelib.set_seed(0)
    ae = aelib.conv_autoencoder((28, 28, 1), 8, filters=(8, 16))
    aelib.set_seed(0)
    encoder = aelib.conv_encoder((28, 28, 1), 8, filters=(8, 16))
    assert [w.shape for w in encoder.weights] == [w.shape for w in ae.encoder.weights]
    assert ae.decoder.count_params() == aelib.conv_decoder(8, (28, 28, 1), filters=(16, 8)).count_params()
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(encoder.predict(x, verbose=0), ae.encoder.predict(x, verbose=0), atol=1e-6)
