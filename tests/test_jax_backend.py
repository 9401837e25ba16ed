"""The core under JAX: training, stop flag, non-finite guard and bundle round trip in a KERAS_BACKEND=jax process.

Keras fixes its backend at import, so this runs in a subprocess. JAX keeps model state outside the
Keras variables during `fit` and syncs it back at epoch ends, which is why the stop flag, the warm-up
variable and the restore-on-NaN logic are checked here again.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import dataclasses
    import sys
    import threading
    from pathlib import Path

    import keras
    import numpy as np

    from tests.synthetic import synthetic_dataset
    from vae_core.bundle import build_atlas, load_bundle, save_bundle
    from vae_core.config import ModelConfig, TrainConfig
    from vae_core.inference import LatentCodec
    from vae_core.monitor import BatchEnd
    from vae_core.training import train_vae

    assert keras.backend.backend() == "jax", keras.backend.backend()
    out_dir = Path(sys.argv[1])
    dataset = synthetic_dataset(n_train=160, n_test=32)
    config = TrainConfig(
        ModelConfig(preset="conv", latent_dim=2),
        batch_size=32, epochs=2, validation_split=0.2, kl_warmup_epochs=1, seed=0,
    )

    # ChannelBias sums its bfloat16 gradient in float32 (JAX would sum a bfloat16 addition's in
    # bfloat16, stalling far below the true sum of about 25 per channel).
    import jax
    import jax.numpy as jnp
    from vae_core.layers import ChannelBias
    bias_layer = ChannelBias(dtype="mixed_bfloat16")
    bias_layer.build((None, 14, 14, 8))
    upstream = jnp.asarray(np.random.default_rng(0).normal(1e-3, 1e-3, (128, 14, 14, 8)), jnp.bfloat16)
    def biased(bias):
        return bias_layer.stateless_call([bias], [], jnp.zeros((128, 14, 14, 8), jnp.bfloat16))[0]
    outputs, pullback = jax.vjp(biased, bias_layer.bias.value)
    assert outputs.dtype == jnp.bfloat16
    exact = np.asarray(upstream, np.float64).sum(axis=(0, 1, 2))
    np.testing.assert_allclose(np.asarray(pullback(upstream)[0], np.float64), exact, rtol=0.01)

    # Training: losses fall, validation losses are reported, warm-up ends at 1.
    result = train_vae(config, dataset.x_train)
    assert result.status == "completed", result.message
    assert len(result.history) == 2
    assert result.history[1]["loss"] < result.history[0]["loss"], result.history
    assert all(np.isfinite(r["val_loss"]) and np.isfinite(r["val_kl_loss"]) for r in result.history)
    # Epoch 1 ran with KL weight 0, so its loss is its reconstruction term alone.
    np.testing.assert_allclose(result.history[0]["loss"], result.history[0]["reconstruction_loss"], rtol=1e-5)
    assert float(keras.ops.convert_to_numpy(result.model.kl_warmup)) == 1.0

    # Stop flag: set after batch 2 of epoch 1 (one batch per execution, so one event per batch).
    stop = threading.Event()
    def stop_after_two(event):
        if isinstance(event, BatchEnd) and (event.epoch, event.batch) == (1, 2):
            stop.set()
    one_step = dataclasses.replace(config, steps_per_execution=1)
    stopped = train_vae(one_step, dataset.x_train, listener=stop_after_two, stop_event=stop)
    assert stopped.status == "stopped", stopped.message
    assert [r["batches"] for r in stopped.history] == [2]

    # Non-finite guard: NaN in the z_mean kernel at the start of epoch 2; epoch 1's weights come back.
    class Poison(keras.callbacks.Callback):
        saved = None
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                Poison.saved = [np.array(w) for w in self.model.get_weights()]
                kernel = self.model.encoder.get_layer("z_mean").kernel
                kernel.assign(np.full(tuple(kernel.shape), np.nan, np.float32))
    diverged = train_vae(dataclasses.replace(config, epochs=3), dataset.x_train, callbacks=[Poison()])
    assert diverged.status == "diverged", diverged.message
    assert "non-finite" in diverged.message
    assert len(diverged.history) == 1
    weights = diverged.model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    for restored, expected in zip(weights, Poison.saved, strict=True):
        np.testing.assert_array_equal(restored, expected)

    # Bundle round trip: the loaded model decodes exactly as the trained one.
    codec = LatentCodec(result.model)
    atlas = build_atlas(codec, dataset.x_test, dataset.y_test)
    save_bundle(out_dir / "bundle", result.model, {"created": "now"}, atlas)
    bundle = load_bundle(out_dir / "bundle")
    z = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_array_equal(LatentCodec(bundle.model).decode(z), codec.decode(z))
    np.testing.assert_array_equal(bundle.atlas.z_mean, atlas.z_mean)
    print("OK")
    """
)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed in this environment")
def test_core_trains_stops_guards_and_saves_under_jax(tmp_path):
    env = dict(os.environ)
    python_path = [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        KERAS_BACKEND="jax",
        PYTHONPATH=os.pathsep.join(python_path),
        VAE_MODELS_DIR=str(tmp_path / "models"),
        JAX_PLATFORMS=env.get("JAX_PLATFORMS", "cpu"),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert "OK" in completed.stdout.splitlines()
