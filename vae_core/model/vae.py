"""The VAE model: encoder, reparameterised sampling and decoder, trained by Keras's own `fit`.

It overrides `compute_loss` only, so Keras's backend-specific `train_step` does the rest and the
same model trains under TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from vae_core.config import LOSSES, ModelConfig
from vae_core.model.architectures import build_decoder, build_encoder
from vae_core.model.layers import Sampling
from vae_core.model.losses import RECONSTRUCTION_LOSSES, kl_divergence
from vae_core.model.precision import FLOAT32


@keras.saving.register_keras_serializable(package="vae_core")
class VAE(keras.Model):
    """A variational autoencoder whose loss is reconstruction + beta * warm-up * KL.

    `fit` reports `loss`, `reconstruction_loss` and `kl_loss` (and their `val_` twins), each the
    mean over images of a per-image sum, in nats for the Bernoulli likelihood.

    A conditional VAE (`classes` > 0) takes `(images, condition)` wherever a plain one takes images,
    the condition being each image's label one-hot; its loss is then the conditional negative ELBO,
    a bound on -log p(x | label).

    Args:
        encoder: model from images (and, if conditional, the condition) to `[z_mean, z_log_var]`.
        decoder: model from z (and, if conditional, the condition) to per-pixel logits.
        likelihood: `bernoulli` or `gaussian`, the reconstruction term (see `losses`).
        beta: weight of the KL term.
        seed: seed of the sampling noise.
    """

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if likelihood not in LOSSES:
            raise ValueError(f"Expected likelihood in {LOSSES}. Received: likelihood={likelihood!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.beta = float(beta)
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        # Multiplies beta; a KL warm-up schedule moves it from 0 to 1. A variable, not a Python
        # float, so compiled train steps read its current value on every backend.
        self.kl_warmup = self.add_weight(shape=(), initializer="ones", trainable=False, name="kl_warmup")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def latent_dim(self) -> int:
        return int(self.decoder.inputs[0].shape[-1])

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.encoder.inputs[0].shape[1:])

    @property
    def classes(self) -> int:
        """The number of classes the model is conditioned on; 0 for a plain VAE."""
        return int(self.decoder.inputs[1].shape[-1]) if len(self.decoder.inputs) > 1 else 0

    def zeros_input(self) -> Any:
        """One all-zero input of the structure `call` takes, to build the model."""
        images = ops.zeros((1, *self.image_shape))
        return (images, ops.zeros((1, self.classes))) if self.classes else images

    def call(self, inputs: Any, training: bool = False) -> tuple[Any, Any, Any]:
        if self.classes:
            images, condition = inputs
            z_mean, z_log_var = self.encoder([images, condition], training=training)
            z = self.sampling(z_mean, z_log_var)
            return z_mean, z_log_var, self.decoder([z, condition], training=training)
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling(z_mean, z_log_var)
        return z_mean, z_log_var, self.decoder(z, training=training)

    def compute_loss(
        self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None, training: bool = True
    ) -> Any:
        z_mean, z_log_var, logits = y_pred
        images = x[0] if self.classes else x
        logits = ops.cast(logits, FLOAT32)  # bfloat16 under a mixed policy
        reconstruction_loss = ops.mean(RECONSTRUCTION_LOSSES[self.likelihood](images, logits))
        kl_loss = ops.mean(kl_divergence(z_mean, z_log_var))
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return reconstruction_loss + self.beta * self.kl_warmup * kl_loss

    def get_config(self) -> dict[str, Any]:
        base_config = super().get_config()
        config = {
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "likelihood": self.likelihood,
            "beta": self.beta,
            "seed": self.seed,
        }
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VAE:
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def build_vae(config: ModelConfig, seed: int | None = None, dtype_policy: str = FLOAT32) -> VAE:
    """A fresh, built VAE for `config`; weights come from Keras's seeded initialisers.

    `dtype_policy` is the hidden layers' compute type (see `architectures`); weights are float32
    under every policy, so a mixed-precision model's weights load into a float32 one unchanged.
    """
    vae = VAE(
        build_encoder(config, dtype_policy),
        build_decoder(config, dtype_policy),
        likelihood=config.loss,
        beta=config.beta,
        seed=seed,
        name="vae",
    )
    vae(vae.zeros_input())
    return vae
