"""The reference: the classic keras.io convolutional VAE, written the tutorial way.

Conv2D 32/64 stride 2, Dense 16, latent 2, a mirrored Conv2DTranspose decoder ending in a sigmoid,
binary cross-entropy summed over pixels plus KL, a TensorFlow `GradientTape` `train_step`, Adam 1e-3,
batch 128, numpy arrays fed to `fit`. Kept as the tutorial has it (TensorFlow backend only), with the
two changes Keras 3 needs: the sampling layer draws from a `SeedGenerator`, and the loss trackers are
listed in `metrics` so `fit` reports them.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from vae_core.model.vae import VAE

LATENT_DIM = 2


class TutorialSampling(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def tutorial_encoder() -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(LATENT_DIM, name="z_mean")(x)
    z_log_var = layers.Dense(LATENT_DIM, name="z_log_var")(x)
    z = TutorialSampling()([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def tutorial_decoder() -> keras.Model:
    latent_inputs = keras.Input(shape=(LATENT_DIM,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, outputs, name="decoder")


class TutorialVAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def train_tutorial_vae(x_train: np.ndarray, epochs: int = 30, batch_size: int = 128, **fit_kwargs) -> TutorialVAE:
    """The tutorial's training: float32 [0, 1] images in (n, 28, 28, 1), Adam 1e-3, no validation."""
    vae = TutorialVAE(tutorial_encoder(), tutorial_decoder())
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
    vae.fit(x_train, epochs=epochs, batch_size=batch_size, **fit_kwargs)
    return vae


def as_core_vae(tutorial: TutorialVAE) -> VAE:
    """The trained tutorial networks behind the core's `VAE` interface, for the same evaluation.

    The tutorial decoder outputs probabilities p; the core expects logits, log p - log(1 - p),
    taken on p clipped to Keras's epsilon exactly as the tutorial's binary cross-entropy clips it.
    """
    encoder = keras.Model(tutorial.encoder.inputs, tutorial.encoder.outputs[:2])
    z = keras.Input(shape=(LATENT_DIM,))
    probabilities = ops.clip(tutorial.decoder(z), keras.config.epsilon(), 1.0 - keras.config.epsilon())
    decoder = keras.Model(z, ops.log(probabilities) - ops.log1p(-probabilities))
    return VAE(encoder, decoder)
