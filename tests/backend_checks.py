"""The core's checks under one Keras backend, run by tests/test_backends.py in a subprocess whose
KERAS_BACKEND names it (Keras fixes its backend at import). Prints OK once every check passed.

    KERAS_BACKEND=jax python tests/backend_checks.py jax OUT_DIR
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path

import keras
import ml_dtypes
import numpy as np

from tests.synthetic import bundle_meta, synthetic_dataset
from vae_core.bundles.bundle import build_atlas, load_bundle, save_bundle
from vae_core.bundles.files import DECODER_FILE
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data.datasets import Dataset
from vae_core.model.codec import LatentCodec
from vae_core.model.layers import ChannelBias
from vae_core.training.events import BatchEnd, Event
from vae_core.training.train import TrainingResult, train_vae

CONFIG = TrainConfig(
    ModelConfig(preset="conv", latent_dim=2), batch_size=32, epochs=2, validation_split=0.2, kl_warmup_epochs=1
)
CONDITIONAL = dataclasses.replace(CONFIG, model=dataclasses.replace(CONFIG.model, classes=10))


def bias_gradient(layer: ChannelBias, upstream: np.ndarray) -> np.ndarray:
    """The gradient of a bfloat16 ChannelBias's bias for a bfloat16 upstream gradient, through the
    backend's own autodiff, as float64."""
    if keras.backend.backend() == "jax":
        import jax
        import jax.numpy as jnp

        inputs = jnp.zeros(upstream.shape, jnp.bfloat16)
        outputs, pullback = jax.vjp(lambda bias: layer.stateless_call([bias], [], inputs)[0], layer.bias.value)
        assert outputs.dtype == jnp.bfloat16, outputs.dtype
        return np.asarray(pullback(jnp.asarray(upstream))[0], np.float64)
    import torch

    outputs = layer(torch.zeros(upstream.shape, dtype=torch.bfloat16))
    assert outputs.dtype == torch.bfloat16, outputs.dtype
    upstream = torch.tensor(upstream.astype(np.float32), dtype=torch.bfloat16)
    return torch.autograd.grad(outputs, layer.bias.value, upstream)[0].double().cpu().numpy()


def check_channel_bias_sums_its_gradient_accurately() -> None:
    """Summed over 128x14x14 positions the gradient is about 25 per channel; a bfloat16 running sum
    stalls far below that (JAX sums a bfloat16 addition's gradient so)."""
    layer = ChannelBias(dtype="mixed_bfloat16")
    layer.build((None, 14, 14, 8))
    upstream = np.random.default_rng(0).normal(1e-3, 1e-3, (128, 14, 14, 8)).astype(ml_dtypes.bfloat16)
    exact = np.asarray(upstream, np.float64).sum(axis=(0, 1, 2))
    np.testing.assert_allclose(bias_gradient(layer, upstream), exact, rtol=0.01)


def check_training(dataset: Dataset, config: TrainConfig = CONFIG) -> TrainingResult:
    """With the default steps per execution (Keras's PyTorch trainer refuses more than one): losses
    fall, validation losses are reported, warm-up ends at 1, the replay has each epoch."""
    result = train_vae(config, dataset.x_train, dataset.y_train)
    assert result.status == "completed", result.message
    assert len(result.history) == 2
    assert result.history[1]["loss"] < result.history[0]["loss"], result.history
    assert all(np.isfinite(r["val_loss"]) and np.isfinite(r["val_kl_loss"]) for r in result.history)
    # Epoch 1 ran with KL weight 0, so its loss is its reconstruction term alone.
    np.testing.assert_allclose(result.history[0]["loss"], result.history[0]["reconstruction_loss"], rtol=1e-5)
    assert float(keras.ops.convert_to_numpy(result.model.kl_warmup)) == 1.0
    assert result.replay.latent_means.shape == (2, 32, 2), result.replay.latent_means.shape
    return result


def check_stop_flag(dataset: Dataset) -> None:
    """Set after batch 2 of epoch 1 (one batch per execution, so one event per batch)."""
    stop = threading.Event()

    def stop_after_two(event: Event) -> None:
        if isinstance(event, BatchEnd) and (event.epoch, event.batch) == (1, 2):
            stop.set()

    one_step = dataclasses.replace(CONFIG, steps_per_execution=1)
    stopped = train_vae(one_step, dataset.x_train, listener=stop_after_two, stop_event=stop)
    assert stopped.status == "stopped", stopped.message
    assert [r["batches"] for r in stopped.history] == [2]


class PoisonAtEpochTwo(keras.callbacks.Callback):
    """Keeps the weights as epoch 1 left them, then fills the `z_mean` kernel with NaN: a run that diverges,
    for the non-finite guard to stop, here and in tests/test_training.py."""

    def __init__(self) -> None:
        super().__init__()
        self.weights_after_epoch_one: list[np.ndarray] | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == 1:
            self.weights_after_epoch_one = [np.array(w) for w in self.model.get_weights()]
            kernel = self.model.encoder.get_layer("z_mean").kernel
            kernel.assign(np.full(tuple(kernel.shape), np.nan, np.float32))


def check_non_finite_guard(dataset: Dataset, config: TrainConfig = CONFIG) -> None:
    """Epoch 1's weights come back when epoch 2 turns them to NaN."""
    poison = PoisonAtEpochTwo()
    diverged = train_vae(dataclasses.replace(config, epochs=3), dataset.x_train, dataset.y_train, callbacks=[poison])
    assert diverged.status == "diverged", diverged.message
    assert "non-finite" in diverged.message
    assert len(diverged.history) == 1
    weights = diverged.model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    for restored, expected in zip(weights, poison.weights_after_epoch_one, strict=True):
        np.testing.assert_array_equal(restored, expected)


def check_bundle_round_trip(result: TrainingResult, dataset: Dataset, out_dir: Path) -> None:
    """The loaded model decodes exactly as the trained one."""
    codec = LatentCodec(result.model)
    atlas = build_atlas(codec, dataset.x_test, dataset.y_test)
    save_bundle(out_dir, result.model, bundle_meta(result.config, len(dataset.x_test), None), atlas)
    bundle = load_bundle(out_dir)
    z = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    labels = np.arange(5)  # a plain model ignores them
    np.testing.assert_array_equal(LatentCodec(bundle.model).decode(z, labels), codec.decode(z, labels))
    np.testing.assert_array_equal(bundle.atlas.z_mean, atlas.z_mean)
    check_browser_decoder(out_dir / DECODER_FILE, codec)


def check_browser_decoder(path: Path, codec: LatentCodec) -> None:
    """The bundle's ONNX decoder, however this backend wrote it, decodes as the model does."""
    import onnxruntime

    z = np.random.default_rng(1).normal(size=(10, codec.latent_dim)).astype(np.float32)
    labels = np.arange(10) % max(codec.classes, 1)
    inputs = {"z": z} | ({"condition": codec.condition(labels, 10)} if codec.classes else {})
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, inputs)[0], codec.decode(z, labels), atol=1e-5)


def main(backend: str, out_dir: Path) -> None:
    assert keras.backend.backend() == backend, keras.backend.backend()
    dataset = synthetic_dataset(n_train=160, n_test=32)
    check_channel_bias_sums_its_gradient_accurately()
    result = check_training(dataset)
    check_stop_flag(dataset)
    check_non_finite_guard(dataset)
    check_bundle_round_trip(result, dataset, out_dir / "bundle")
    conditional = check_training(dataset, CONDITIONAL)
    assert conditional.model.classes == 10
    check_non_finite_guard(dataset, CONDITIONAL)
    check_bundle_round_trip(conditional, dataset, out_dir / "conditional")
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
