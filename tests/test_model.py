"""Loss terms against hand-computed values, the VAE's `.keras` round trip, and a short `fit`."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops
from synthetic import synthetic_images

from vae_core.config import ModelConfig
from vae_core.data.datasets import as_intensities
from vae_core.model.losses import RECONSTRUCTION_LOSSES, bernoulli_nll, gaussian_sse, kl_divergence
from vae_core.model.vae import VAE, build_vae


def _numpy(tensor) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(tensor), np.float64)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


@pytest.fixture(scope="module")
def images_and_logits():
    rng = np.random.default_rng(0)
    images = rng.random((4, 6, 5, 2)).astype(np.float32)
    images[0, 0, 0, 0], images[0, 0, 1, 0] = 0.0, 1.0  # exact 0 and 1 intensities
    logits = rng.normal(0.0, 3.0, images.shape).astype(np.float32)
    return images, logits


def test_bernoulli_nll_is_the_binary_cross_entropy_summed_per_image(images_and_logits):
    images, logits = images_and_logits
    x, p = images.astype(np.float64), _sigmoid(logits.astype(np.float64))
    expected = -np.sum(x * np.log(p) + (1.0 - x) * np.log(1.0 - p), axis=(1, 2, 3))
    result = _numpy(bernoulli_nll(ops.convert_to_tensor(images), ops.convert_to_tensor(logits)))
    assert result.shape == (4,)
    np.testing.assert_allclose(result, expected, rtol=1e-5)


def test_bernoulli_nll_stays_finite_where_the_sigmoid_saturates():
    images = ops.convert_to_tensor(np.array([[1.0, 0.0, 1.0, 0.0]], np.float32))
    logits = ops.convert_to_tensor(np.array([[-100.0, 100.0, 100.0, -100.0]], np.float32))
    # Two confident mistakes cost |logit| each; two confident hits cost ~exp(-100).
    np.testing.assert_allclose(_numpy(bernoulli_nll(images, logits)), [200.0], rtol=1e-6)


def test_gaussian_sse_is_the_squared_error_of_decoded_intensities(images_and_logits):
    images, logits = images_and_logits
    expected = np.sum((images.astype(np.float64) - _sigmoid(logits.astype(np.float64))) ** 2, axis=(1, 2, 3))
    result = _numpy(gaussian_sse(ops.convert_to_tensor(images), ops.convert_to_tensor(logits)))
    assert result.shape == (4,)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    assert RECONSTRUCTION_LOSSES == {"bernoulli": bernoulli_nll, "gaussian": gaussian_sse}


def test_kl_divergence_is_zero_for_the_standard_normal():
    zeros = ops.zeros((3, 7))
    np.testing.assert_allclose(_numpy(kl_divergence(zeros, zeros)), np.zeros(3), atol=1e-7)


def test_kl_divergence_matches_the_closed_form():
    rng = np.random.default_rng(1)
    z_mean = rng.normal(0.0, 2.0, (5, 4)).astype(np.float32)
    z_log_var = rng.normal(0.0, 1.0, (5, 4)).astype(np.float32)
    mean, variance = z_mean.astype(np.float64), np.exp(z_log_var.astype(np.float64))
    # KL(N(m, s^2) || N(0, 1)) = (s^2 + m^2 - 1 - log s^2) / 2 per dimension.
    expected = 0.5 * np.sum(variance + mean**2 - 1.0 - np.log(variance), axis=1)
    result = _numpy(kl_divergence(ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)))
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    assert (result > 0).all()
    shifted = _numpy(kl_divergence(ops.convert_to_tensor(z_mean), ops.zeros((5, 4))))
    np.testing.assert_allclose(shifted, 0.5 * np.sum(mean**2, axis=1), rtol=1e-5)


def test_vae_rejects_an_unknown_likelihood():
    config = ModelConfig(preset="mlp", hidden_sizes=(8,))
    model = build_vae(config)
    with pytest.raises(ValueError, match="likelihood='poisson'"):
        VAE(model.encoder, model.decoder, likelihood="poisson")


def test_get_config_round_trip_keeps_settings():
    model = build_vae(ModelConfig(preset="mlp", hidden_sizes=(8,), loss="gaussian", beta=0.25), seed=5)
    copy = VAE.from_config(model.get_config())
    assert (copy.likelihood, copy.beta, copy.seed) == ("gaussian", 0.25, 5)
    assert (copy.latent_dim, copy.image_shape) == (2, (28, 28, 1))


@pytest.fixture(scope="module")
def trained_conv_bn():
    """A conv-bn VAE after one epoch of fit, so BatchNorm's moving statistics are no longer 0 and 1."""
    images, _ = synthetic_images(64, seed=3)
    model = build_vae(ModelConfig(preset="conv-bn", latent_dim=3), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(as_intensities(images), epochs=1, batch_size=32, verbose=0)
    return model


def test_keras_file_round_trip_decodes_identically(trained_conv_bn, tmp_path):
    model = trained_conv_bn
    moving_means = [w for w in model.decoder.weights if "moving_mean" in w.path]
    assert moving_means and any(np.abs(ops.convert_to_numpy(w)).max() > 0 for w in moving_means)
    path = tmp_path / "vae.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, VAE)
    assert (loaded.likelihood, loaded.beta, loaded.seed) == (model.likelihood, model.beta, model.seed)
    for original, restored in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(ops.convert_to_numpy(original), ops.convert_to_numpy(restored))
    z = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(model.decoder(z, training=False)), ops.convert_to_numpy(loaded.decoder(z, training=False))
    )
    images = as_intensities(synthetic_images(4, seed=9)[0])
    for original, restored in zip(model.encoder(images), loaded.encoder(images), strict=True):
        np.testing.assert_array_equal(ops.convert_to_numpy(original), ops.convert_to_numpy(restored))


@pytest.fixture(scope="module")
def fit_history():
    """Three epochs of `fit` on 192 images in full batches of 64, so epoch means are exact."""
    images, _ = synthetic_images(256, seed=4)
    x = as_intensities(images)
    model = build_vae(ModelConfig(preset="mlp", hidden_sizes=(64,), beta=0.5), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(x[:192], validation_data=(x[192:],), epochs=3, batch_size=64, shuffle=True, verbose=0)
    return history.history


def test_fit_reports_each_loss_term(fit_history):
    expected = {"loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"}
    assert expected <= set(fit_history)
    for name in expected:
        assert len(fit_history[name]) == 3
        assert np.isfinite(fit_history[name]).all()


def test_fit_lowers_the_loss(fit_history):
    assert fit_history["loss"][-1] < fit_history["loss"][0]
    assert fit_history["val_loss"][-1] < fit_history["val_loss"][0]
    assert fit_history["reconstruction_loss"][-1] < fit_history["reconstruction_loss"][0]


def test_loss_is_reconstruction_plus_beta_times_kl(fit_history):
    for prefix in ("", "val_"):
        loss = np.array(fit_history[f"{prefix}loss"])
        parts = np.array(fit_history[f"{prefix}reconstruction_loss"]) + 0.5 * np.array(fit_history[f"{prefix}kl_loss"])
        np.testing.assert_allclose(loss, parts, rtol=1e-4)
    assert min(fit_history["kl_loss"]) > 0


def test_mixed_bfloat16_gradients_follow_float32_ones():
    """Every weight's gradient under mixed bfloat16 points where float32's does, biases included:
    with Keras's own convolution biases, the transposed convolutions' bias gradients were 80-98%
    off on TensorFlow's CPU (see `ChannelBias`) and mixed bfloat16 training fell behind float32.
    Now the worst is a few percent (bfloat16's rounding through the layers)."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradients are taken with tf.GradientTape")
    images, _ = synthetic_images(128, seed=5)
    x = as_intensities(images)
    config = ModelConfig(preset="conv")
    float32_vae = build_vae(config, seed=3)
    bfloat16_vae = build_vae(config, seed=3, dtype_policy="mixed_bfloat16")
    bfloat16_vae.set_weights(float32_vae.get_weights())
    gradients = {}
    for name, vae in (("float32", float32_vae), ("bfloat16", bfloat16_vae)):
        with tf.GradientTape() as tape:  # each model's first draw: the same noise from the same seed
            loss = vae.compute_loss(x, y_pred=vae(x, training=True))
        variables = [v.value for v in vae.trainable_variables]
        gradients[name] = [tf.cast(g, tf.float64).numpy() for g in tape.gradient(loss, variables)]
    pairs = zip(float32_vae.trainable_variables, gradients["float32"], gradients["bfloat16"], strict=True)
    for variable, full, mixed in pairs:
        relative_error = np.linalg.norm(mixed - full) / np.linalg.norm(full)
        assert relative_error < 0.15, f"{variable.path}: {relative_error:.3f}"
