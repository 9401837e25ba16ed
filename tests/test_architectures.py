"""Encoders and decoders of every preset: output shapes for any allowed image shape, and layer makeup."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
from keras import layers, ops

from vae_core.config import PRESETS, ModelConfig
from vae_core.model.architectures import build_decoder, build_encoder
from vae_core.model.layers import ChannelBias
from vae_core.model.vae import VAE, build_vae

SHAPES = [(28, 28, 1), (32, 32, 3)]
BATCH = 3

# Latent sizes 1 and 64 (the limits) for every preset and shape; 2 and 16 for each preset on one shape.
GRID = [(p, s, d) for p, s, d in itertools.product(PRESETS, SHAPES, (1, 64))] + [
    (preset, SHAPES[i % 2], latent) for i, (preset, latent) in enumerate(itertools.product(PRESETS, (2, 16)))
]


def _check_shapes(vae: VAE, config: ModelConfig) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((BATCH, *config.image_shape), dtype=np.float32)
    z_mean, z_log_var = vae.encoder(images)
    assert tuple(z_mean.shape) == (BATCH, config.latent_dim)
    assert tuple(z_log_var.shape) == (BATCH, config.latent_dim)
    z = rng.standard_normal((BATCH, config.latent_dim)).astype(np.float32)
    assert tuple(vae.decoder(z).shape) == (BATCH, *config.image_shape)
    outputs = vae(images)
    assert len(outputs) == 3
    assert [tuple(t.shape) for t in outputs] == [
        (BATCH, config.latent_dim),
        (BATCH, config.latent_dim),
        (BATCH, *config.image_shape),
    ]
    assert all(np.isfinite(ops.convert_to_numpy(t)).all() for t in outputs)
    assert vae.latent_dim == config.latent_dim
    assert vae.image_shape == config.image_shape


@pytest.mark.parametrize(
    ("preset", "image_shape", "latent_dim"), GRID, ids=[f"{p}-{'x'.join(map(str, s))}-z{d}" for p, s, d in GRID]
)
def test_shapes_for_every_preset_image_shape_and_latent_size(preset, image_shape, latent_dim):
    config = ModelConfig(preset=preset, image_shape=image_shape, latent_dim=latent_dim)
    _check_shapes(build_vae(config, seed=0), config)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("image_shape", [(20, 24, 1), (17, 30, 3), (8, 8, 1)], ids=["20x24x1", "17x30x3", "8x8x1"])
def test_odd_image_shapes_are_padded_and_cropped_back(preset, image_shape):
    config = ModelConfig(preset=preset, image_shape=image_shape, latent_dim=2)
    _check_shapes(build_vae(config, seed=0), config)


def _layers_of(model: keras.Model, kind: type) -> list:
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_conv_presets_pad_only_when_the_size_is_not_a_multiple_of_the_downsampling():
    aligned = ModelConfig(preset="conv", image_shape=(28, 28, 1))  # 28 = 4 * 7
    assert not _layers_of(build_encoder(aligned), layers.ZeroPadding2D)
    assert not _layers_of(build_decoder(aligned), layers.Cropping2D)
    odd = ModelConfig(preset="deep-conv", image_shape=(28, 28, 1))  # deep-conv halves three times
    (padding,) = _layers_of(build_encoder(odd), layers.ZeroPadding2D)
    assert padding.padding == ((2, 2), (2, 2))
    (cropping,) = _layers_of(build_decoder(odd), layers.Cropping2D)
    assert cropping.cropping == ((2, 2), (2, 2))


def test_conv_bn_uses_batch_normalization_without_conv_biases():
    config = ModelConfig(preset="conv-bn")
    encoder, decoder = build_encoder(config), build_decoder(config)
    assert len(_layers_of(encoder, layers.BatchNormalization)) == 4
    assert len(_layers_of(decoder, layers.BatchNormalization)) == 4
    assert [layer.name for layer in _layers_of(encoder, ChannelBias) + _layers_of(decoder, ChannelBias)] == ["logits"]
    plain = ModelConfig(preset="conv")
    assert not _layers_of(build_encoder(plain), layers.BatchNormalization)


@pytest.mark.parametrize("preset", [p for p in PRESETS if p != "mlp"])
def test_every_convolution_takes_its_bias_from_the_next_layer(preset):
    """No convolution adds its own bias (see `ChannelBias`); BatchNorm or a ChannelBias follows each."""
    config = ModelConfig(preset=preset)
    for model in (build_encoder(config), build_decoder(config)):
        for index, layer in enumerate(model.layers):
            if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
                assert not layer.use_bias, layer.name
                assert isinstance(model.layers[index + 1], (ChannelBias, layers.BatchNormalization)), layer.name


def test_deep_conv_pools_after_each_block():
    config = ModelConfig(preset="deep-conv", image_shape=(32, 32, 3))
    encoder, decoder = build_encoder(config), build_decoder(config)
    assert len(_layers_of(encoder, layers.MaxPooling2D)) == 3
    assert len(_layers_of(decoder, layers.UpSampling2D)) == 3
    assert [layer.filters for layer in _layers_of(encoder, layers.Conv2D)] == [32, 32, 64, 64, 128, 128]


def test_mlp_hidden_sizes_give_those_dense_layers():
    config = ModelConfig(preset="mlp", latent_dim=3, hidden_sizes=(64, 16, 8))
    encoder, decoder = build_encoder(config), build_decoder(config)
    assert [layer.units for layer in _layers_of(encoder, layers.Dense)] == [64, 16, 8, 3, 3]
    assert [layer.units for layer in _layers_of(decoder, layers.Dense)] == [8, 16, 64, 28 * 28]
    assert not _layers_of(encoder, layers.Conv2D)


def test_encoder_names_its_outputs_for_lookup():
    encoder = build_encoder(ModelConfig(latent_dim=5))
    assert encoder.get_layer("z_mean").units == 5
    assert encoder.get_layer("z_log_var").units == 5
    assert build_decoder(ModelConfig()).get_layer("logits") is not None


@pytest.mark.parametrize("preset", PRESETS)
def test_mixed_policy_applies_to_convolutions_only(preset):
    config = ModelConfig(preset=preset)
    encoder = build_encoder(config, "mixed_bfloat16")
    decoder = build_decoder(config, "mixed_bfloat16")
    z_mean, z_log_var = encoder(np.zeros((2, *config.image_shape), np.float32))
    assert [keras.backend.standardize_dtype(t.dtype) for t in (z_mean, z_log_var)] == ["float32", "float32"]
    dense = [layer for model in (encoder, decoder) for layer in model.layers if isinstance(layer, layers.Dense)]
    assert {layer.dtype_policy.name for layer in dense} == {"float32"}
    convolution = (layers.Conv2D, layers.Conv2DTranspose)  # not one class hierarchy in Keras 3
    convolutions = [layer for layer in encoder.layers + decoder.layers if isinstance(layer, convolution)]
    assert {layer.dtype_policy.name for layer in convolutions} <= {"mixed_bfloat16"}
    # Convolutional logits stay in bfloat16 (the loss casts them, see VAE.compute_loss); dense ones are float32.
    logits_dtype = keras.backend.standardize_dtype(decoder(np.zeros((2, 2), np.float32)).dtype)
    assert logits_dtype == ("float32" if preset == "mlp" else "bfloat16")
