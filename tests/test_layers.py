"""Custom layers: Sampling (z = mean + exp(log_var / 2) * eps) and ChannelBias."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from vae_core.model.layers import ChannelBias, Sampling

N_SAMPLES = 20000
MEANS = np.array([0.0, 1.5, -2.0, 10.0], np.float32)
STDS = np.array([1.0, 2.0, 0.5, 0.1], np.float32)


def _draw(layer: Sampling, n: int = N_SAMPLES) -> np.ndarray:
    z_mean = np.tile(MEANS, (n, 1))
    z_log_var = np.tile(2.0 * np.log(STDS), (n, 1))
    return ops.convert_to_numpy(layer(ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)))


def test_samples_have_the_requested_mean_and_standard_deviation():
    samples = _draw(Sampling(seed=1234))
    assert samples.shape == (N_SAMPLES, len(MEANS))
    assert np.isfinite(samples).all()
    # Standard error of the mean is std / sqrt(20000) ~ 0.007 std: 3% of std is a > 4-sigma band.
    assert np.all(np.abs(samples.mean(axis=0) - MEANS) < 0.03 * STDS), samples.mean(axis=0)
    np.testing.assert_allclose(samples.std(axis=0), STDS, rtol=0.03)
    standardised = (samples - MEANS) / STDS
    assert abs(np.corrcoef(standardised.T)[0, 1]) < 0.03  # dimensions draw independent noise


def test_zero_variance_returns_the_mean():
    z_mean = ops.convert_to_tensor(np.array([[0.5, -3.0]], np.float32))
    z_log_var = ops.convert_to_tensor(np.full((1, 2), -200.0, np.float32))
    np.testing.assert_allclose(ops.convert_to_numpy(Sampling(seed=0)(z_mean, z_log_var)), [[0.5, -3.0]], atol=1e-6)


def test_same_seed_gives_identical_samples_in_fresh_layers():
    first, second = _draw(Sampling(seed=7), 100), _draw(Sampling(seed=7), 100)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, _draw(Sampling(seed=8), 100))


def test_successive_calls_draw_new_noise():
    layer = Sampling(seed=7)
    assert not np.array_equal(_draw(layer, 100), _draw(layer, 100))


def test_output_shape_follows_the_mean():
    assert Sampling().compute_output_shape((None, 5), (None, 5)) == (None, 5)
    z = keras.Input(shape=(5,))
    assert Sampling()(z, z).shape == (None, 5)


def test_get_config_round_trip_keeps_the_seed_and_the_noise():
    layer = Sampling(seed=11, name="my_sampling")
    config = layer.get_config()
    assert config["seed"] == 11
    assert config["name"] == "my_sampling"
    restored = Sampling.from_config(config)
    assert restored.seed == 11
    assert restored.name == "my_sampling"
    np.testing.assert_array_equal(_draw(restored, 50), _draw(Sampling(seed=11), 50))


def test_serialization_resolves_the_registered_class():
    serialized = keras.saving.serialize_keras_object(Sampling(seed=3))
    restored = keras.saving.deserialize_keras_object(serialized, safe_mode=True)
    assert isinstance(restored, Sampling)
    assert restored.seed == 3


def test_seed_none_is_allowed():
    assert Sampling(seed=None).seed is None


@pytest.mark.parametrize("seed", ["3", 1.5, [1]])
def test_non_integer_seed_is_rejected(seed):
    with pytest.raises(ValueError, match=r"Expected an integer seed or None\. Received: seed="):
        Sampling(seed=seed)


def test_channel_bias_adds_one_learned_value_per_channel():
    layer = ChannelBias()
    inputs = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    assert tuple(layer(inputs).shape) == (2, 3, 4)
    assert layer.bias.shape == (4,)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(inputs)), inputs)  # starts at zero
    layer.bias.assign(np.array([1.0, -2.0, 0.5, 0.0], np.float32))
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(inputs)), inputs + [1.0, -2.0, 0.5, 0.0])


def test_channel_bias_round_trips_through_safe_deserialization():
    serialized = keras.saving.serialize_keras_object(ChannelBias(name="shift", dtype="mixed_bfloat16"))
    restored = keras.saving.deserialize_keras_object(serialized, safe_mode=True)
    assert isinstance(restored, ChannelBias)
    assert (restored.name, restored.dtype_policy.name) == ("shift", "mixed_bfloat16")


def test_channel_bias_gradient_sums_bfloat16_accurately():
    """The gradient of a bias is a sum over batch and pixels; Keras's own bias (tf.nn.bias_add)
    sums bfloat16 in bfloat16 on CPU and stalls far below this sum of about 25 per channel."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient is taken with tf.GradientTape")
    rng = np.random.default_rng(0)
    upstream = (rng.normal(1e-3, 1e-3, (128, 14, 14, 8))).astype(np.float32)
    upstream_bf16 = tf.cast(upstream, tf.bfloat16)
    exact = tf.cast(upstream_bf16, tf.float64).numpy().sum(axis=(0, 1, 2))
    layer = ChannelBias(dtype="mixed_bfloat16")
    layer.build((None, 14, 14, 8))
    with tf.GradientTape() as tape:
        outputs = layer(tf.zeros((128, 14, 14, 8)))
    assert outputs.dtype == tf.bfloat16
    gradient = tape.gradient(outputs, layer.bias.value, output_gradients=upstream_bf16).numpy()
    assert exact.min() > 20  # far past the point where a bfloat16 running sum stalls
    np.testing.assert_allclose(gradient, exact, rtol=0.01)
