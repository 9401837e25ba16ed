"""The core under JAX and PyTorch: training, stop flag, non-finite guard and bundle round trip.

Keras fixes its backend at import, so each backend runs in a subprocess (KERAS_BACKEND=jax or
torch). JAX keeps model state outside the Keras variables during `fit` and syncs it back at epoch
ends, and Keras's PyTorch trainer refuses more than one step per execution, which is why the
default config, the stop flag, the warm-up variable and the restore-on-NaN logic are checked here
again. JAX is in requirements-dev.txt; PyTorch is not (its default Linux wheel is several GB), so
its run skips unless `pip install torch` has been done.
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

    from tests.synthetic import bundle_meta, synthetic_dataset
    from vae_core.bundle import build_atlas, load_bundle, save_bundle
    from vae_core.config import ModelConfig, TrainConfig
    from vae_core.inference import LatentCodec
    from vae_core.events import BatchEnd
    from vae_core.training import train_vae

    backend, out_dir = sys.argv[1], Path(sys.argv[2])
    assert keras.backend.backend() == backend, keras.backend.backend()
    dataset = synthetic_dataset(n_train=160, n_test=32)
    config = TrainConfig(
        ModelConfig(preset="conv", latent_dim=2),
        batch_size=32, epochs=2, validation_split=0.2, kl_warmup_epochs=1, seed=0,
    )

    # ChannelBias's bfloat16 gradient, summed over 128x14x14 positions: about 25 per channel. A
    # bfloat16 running sum stalls far below that (JAX sums a bfloat16 addition's gradient so).
    import ml_dtypes
    from vae_core.layers import ChannelBias
    bias_layer = ChannelBias(dtype="mixed_bfloat16")
    bias_layer.build((None, 14, 14, 8))
    upstream = np.random.default_rng(0).normal(1e-3, 1e-3, (128, 14, 14, 8)).astype(ml_dtypes.bfloat16)
    exact = np.asarray(upstream, np.float64).sum(axis=(0, 1, 2))
    np.testing.assert_allclose(bias_gradient(bias_layer, upstream), exact, rtol=0.01)

    # Training with the default steps per execution (Keras's PyTorch trainer refuses more than
    # one): losses fall, validation losses are reported, warm-up ends at 1.
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
    save_bundle(out_dir / "bundle", result.model, bundle_meta(config, len(dataset.x_test), None), atlas)
    bundle = load_bundle(out_dir / "bundle")
    z = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_array_equal(LatentCodec(bundle.model).decode(z), codec.decode(z))
    np.testing.assert_array_equal(bundle.atlas.z_mean, atlas.z_mean)
    print("OK")
    """
)

# Defines `bias_gradient(layer, upstream)` for SCRIPT: the gradient of a bfloat16 ChannelBias's bias
# for an upstream gradient (a bfloat16 numpy array), through the backend's own autodiff, as float64.
BIAS_GRADIENT = {
    "jax": textwrap.dedent(
        """
        def bias_gradient(layer, upstream):
            import jax
            import jax.numpy as jnp

            inputs = jnp.zeros(upstream.shape, jnp.bfloat16)
            outputs, pullback = jax.vjp(lambda bias: layer.stateless_call([bias], [], inputs)[0], layer.bias.value)
            assert outputs.dtype == jnp.bfloat16, outputs.dtype
            return np.asarray(pullback(jnp.asarray(upstream))[0], np.float64)
        """
    ),
    "torch": textwrap.dedent(
        """
        def bias_gradient(layer, upstream):
            import torch

            outputs = layer(torch.zeros(upstream.shape, dtype=torch.bfloat16))
            assert outputs.dtype == torch.bfloat16, outputs.dtype
            upstream = torch.tensor(upstream.astype(np.float32), dtype=torch.bfloat16)
            return torch.autograd.grad(outputs, layer.bias.value, upstream)[0].double().cpu().numpy()
        """
    ),
}


@pytest.mark.parametrize("backend", sorted(BIAS_GRADIENT))
def test_core_trains_stops_guards_and_saves_under(backend, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed in this environment (pip install {backend} to run this)")
    env = dict(os.environ)
    python_path = [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        KERAS_BACKEND=backend,
        PYTHONPATH=os.pathsep.join(python_path),
        VAE_MODELS_DIR=str(tmp_path / "models"),
        JAX_PLATFORMS=env.get("JAX_PLATFORMS", "cpu"),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    completed = subprocess.run(
        [sys.executable, "-c", BIAS_GRADIENT[backend] + SCRIPT, backend, str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert "OK" in completed.stdout.splitlines()
