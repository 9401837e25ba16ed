"""Encoder and decoder networks for each named preset.

Every preset works for any image shape a `ModelConfig` allows: convolutional presets pad the input
up to a multiple of their total downsampling factor and the decoder crops back, so 28x28 MNIST and
32x32 CIFAR-10 use the same code. Decoders end in logits; `VAE.decode` applies the sigmoid.

A conditional model's encoder and decoder take a second input, the label one-hot (a `condition`).
It joins the encoder at its dense layers, beside the image's features, and the decoder beside z:
the dense layers are where the two meet in the conditional VAE of Sohn et al. (2015).
"""

from __future__ import annotations

import math
from collections import Counter

import keras
from keras import layers

from vae_core.config import ModelConfig
from vae_core.model.layers import ChannelBias
from vae_core.model.precision import FLOAT32

# Filters and strides of the strided presets. `conv` is the keras.io tutorial's encoder; `conv-bn`
# the 8/16/32/64 BatchNorm family. Both downsample by 4 in total.
CONV_LAYERS = {"conv": ((32, 2), (64, 2)), "conv-bn": ((8, 1), (16, 2), (32, 2), (64, 1))}
# `deep-conv`: two convolutions then 2x2 max-pooling per block, as in CIFAR-10 tutorials.
DEEP_CONV_BLOCKS = (32, 64, 128)


def build_encoder(config: ModelConfig, dtype_policy: str = FLOAT32) -> keras.Model:
    """Image -> (z_mean, z_log_var), the parameters of the diagonal Gaussian q(z|x).

    `dtype_policy` is the convolutions' compute type: `mixed_bfloat16` trains faster on hardware
    with bfloat16 units. Dense layers, z_mean and z_log_var compute in float32 under every policy:
    they are a sliver of the arithmetic, and bfloat16's 3 significant digits would blur a 2-D
    code (the decoder's first layer would see z rounded to steps of 1/64 near 3).
    """
    layer = LayerArgs("encoder", dtype_policy)
    images = keras.Input(shape=config.image_shape, name="image")
    x = _feature_extractor(config, images, layer)
    x = layers.Flatten(**layer("flatten"))(x)
    inputs = [images]
    if config.conditional:
        condition = condition_input(config)
        inputs.append(condition)
        x = layers.Concatenate(**layer.full_precision("concatenate"))([x, condition])
    for size in config.hidden_sizes:
        x = layers.Dense(size, activation="relu", **layer.full_precision("dense"))(x)
    z_mean = layers.Dense(config.latent_dim, name="z_mean", dtype=FLOAT32)(x)
    z_log_var = layers.Dense(config.latent_dim, name="z_log_var", dtype=FLOAT32)(x)
    return keras.Model(inputs if config.conditional else images, [z_mean, z_log_var], name="encoder")


def build_decoder(config: ModelConfig, dtype_policy: str = FLOAT32) -> keras.Model:
    """z -> per-pixel logits of the image, the same shape as the encoder's input.

    The convolutional presets' logits come out in the policy's compute type (the loss casts them
    to float32): a float32 last convolution on bfloat16 features cost more than bfloat16 gained.
    """
    layer = LayerArgs("decoder", dtype_policy)
    z = keras.Input(shape=(config.latent_dim,), name="z")
    x, inputs = z, z
    if config.conditional:
        condition = condition_input(config)
        inputs = [z, condition]
        x = layers.Concatenate(**layer.full_precision("concatenate"))([z, condition])
    for size in reversed(config.hidden_sizes):
        x = layers.Dense(size, activation="relu", **layer.full_precision("dense"))(x)
    if config.preset == "mlp":
        x = layers.Dense(math.prod(config.image_shape), name="logits", dtype=FLOAT32)(x)
        logits = layers.Reshape(config.image_shape, **layer.full_precision("reshape"))(x)
        return keras.Model(inputs, logits, name="decoder")
    feature_shape = _feature_shape(config)
    x = layers.Dense(math.prod(feature_shape), activation="relu", **layer.full_precision("dense"))(x)
    x = layers.Reshape(feature_shape, **layer("reshape"))(x)
    x = _feature_generator(config, x, layer)
    # A stride-1 transposed convolution is a convolution with its kernel flipped, the same family
    # of functions; with one or three filters oneDNN runs it about twice as fast as Conv2D.
    x = layers.Conv2DTranspose(config.image_shape[2], 3, padding="same", use_bias=False, **layer("deconv"))(x)
    x = ChannelBias(name="logits", dtype=layer.dtype_policy)(x)
    crop = _padding(config)
    logits = layers.Cropping2D(crop, **layer("crop"))(x) if any(sum(p) for p in crop) else x
    return keras.Model(inputs, logits, name="decoder")


def condition_input(config: ModelConfig) -> keras.KerasTensor:
    """The label as a float vector over `config.classes`: one-hot, or a mix of classes for a morph."""
    return keras.Input(shape=(config.classes,), name="condition")


def _downsampling(config: ModelConfig) -> int:
    if config.preset == "deep-conv":
        return 2 ** len(DEEP_CONV_BLOCKS)
    return math.prod(stride for _, stride in CONV_LAYERS.get(config.preset, ()))


def _padding(config: ModelConfig) -> tuple[tuple[int, int], tuple[int, int]]:
    """Symmetric zero-padding that makes height and width divisible by the downsampling factor."""
    factor = _downsampling(config)
    extra = [-side % factor for side in config.image_shape[:2]]
    return tuple((e // 2, e - e // 2) for e in extra)  # type: ignore[return-value]


def _feature_shape(config: ModelConfig) -> tuple[int, int, int]:
    factor = _downsampling(config)
    height, width = (-(-side // factor) for side in config.image_shape[:2])
    filters = DEEP_CONV_BLOCKS[-1] if config.preset == "deep-conv" else CONV_LAYERS[config.preset][-1][0]
    return height, width, filters


def _feature_extractor(config: ModelConfig, x: keras.KerasTensor, layer: LayerArgs) -> keras.KerasTensor:
    if config.preset == "mlp":
        return x
    padding = _padding(config)
    if any(sum(p) for p in padding):
        x = layers.ZeroPadding2D(padding, **layer("pad"))(x)
    if config.preset == "deep-conv":
        for filters in DEEP_CONV_BLOCKS:
            x = _two_convolutions(x, filters, layer)
            x = layers.MaxPooling2D(2, **layer("pool"))(x)
        return x
    batch_norm = config.preset == "conv-bn"
    for filters, stride in CONV_LAYERS[config.preset]:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, **layer("conv"))(x)
        x = _activate(x, batch_norm, layer)
    return x


def _feature_generator(config: ModelConfig, x: keras.KerasTensor, layer: LayerArgs) -> keras.KerasTensor:
    """Mirror of `_feature_extractor`: upsample the feature map back to the padded image size."""
    if config.preset == "deep-conv":
        for filters in reversed(DEEP_CONV_BLOCKS):
            x = layers.UpSampling2D(2, **layer("upsample"))(x)
            x = _two_convolutions(x, filters, layer)
        return x
    batch_norm = config.preset == "conv-bn"
    for filters, stride in reversed(CONV_LAYERS[config.preset]):
        x = layers.Conv2DTranspose(filters, 3, strides=stride, padding="same", use_bias=False, **layer("deconv"))(x)
        x = _activate(x, batch_norm, layer)
    return x


def _two_convolutions(x: keras.KerasTensor, filters: int, layer: LayerArgs) -> keras.KerasTensor:
    """The deep-conv preset's block body: two same-size 3x3 convolutions, each with bias and ReLU."""
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, **layer("conv"))(x)
        x = _activate(x, False, layer)
    return x


def _activate(x: keras.KerasTensor, batch_norm: bool, layer: LayerArgs) -> keras.KerasTensor:
    """A convolution's bias (BatchNorm's shift where it normalises, else `ChannelBias`), then ReLU."""
    if batch_norm:
        x = layers.BatchNormalization(**layer("batchnorm"))(x)
    else:
        x = ChannelBias(**layer("bias"))(x)
    return layers.Activation("relu", **layer("relu"))(x)


class LayerArgs:
    """Keyword arguments for each layer of one model: an explicit name and the compute dtype.

    Names (`encoder_conv_2`) are numbered per model: Keras numbers unnamed layers with counters kept
    per thread, so two models built or loaded in different threads of one process (the app's pages
    run on several) could end up with two layers of one name. The dtype is passed to every layer rather than
    set as Keras's global policy, which is per thread and reset by `keras.backend.clear_session`.
    """

    def __init__(self, prefix: str, dtype_policy: str) -> None:
        self.prefix = prefix
        self.dtype_policy = dtype_policy
        self.counts: Counter[str] = Counter()

    def __call__(self, kind: str) -> dict[str, str]:
        self.counts[kind] += 1
        return {"name": f"{self.prefix}_{kind}_{self.counts[kind]}", "dtype": self.dtype_policy}

    def full_precision(self, kind: str) -> dict[str, str]:
        """Arguments for a layer that computes in float32 under every policy (see `build_encoder`)."""
        return self(kind) | {"dtype": FLOAT32}
