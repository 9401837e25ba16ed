"""Data-parallel training on four CPU devices, run by tests/test_data_parallel.py in a subprocess
started with KERAS_BACKEND=jax and XLA_FLAGS=--xla_force_host_platform_device_count=4 (JAX fixes
its devices at import). Prints OK once every check passed.

    python tests/data_parallel_checks.py OUT_DIR
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import sys
from pathlib import Path

import keras
import numpy as np

from tests.synthetic import synthetic_dataset, synthetic_images
from vae_core.bundles.bundle import load_bundle
from vae_core.cli import train as train_cli
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.training.distribution import DataParallelError, training_devices
from vae_core.training.events import BatchEnd
from vae_core.training.pipeline import train_and_save
from vae_core.training.train import TrainingResult, train_vae

CONFIG = TrainConfig(
    ModelConfig(preset="conv", latent_dim=2), batch_size=32, epochs=2, validation_split=0.1, steps_per_execution=1
)


def batch_losses(config: TrainConfig, images: np.ndarray) -> tuple[list[float], TrainingResult]:
    losses: list[float] = []
    result = train_vae(config, images, listener=lambda e: losses.append(e.loss) if isinstance(e, BatchEnd) else None)
    return losses, result


def check_losses_match_one_device() -> None:
    """The same seed, data and global batch: the same losses, step by step, as on one device.
    200 images split 180 / 20, both multiples of 4, so neither run leaves any out."""
    images = synthetic_dataset(n_train=200, n_test=2).x_train
    parallel, _ = batch_losses(dataclasses.replace(CONFIG, data_parallel=True), images)
    single, _ = batch_losses(CONFIG, images)
    assert len(parallel) == len(single) == 2 * 6  # 5 batches of 32 and one of 20, twice
    np.testing.assert_allclose(parallel, single, rtol=1e-4)


def check_splits_that_do_not_divide_lose_their_last_few_images() -> None:
    """198 images split 178 / 20: the training split loses 2, so its last batch (16) splits in four."""
    images = synthetic_dataset(n_train=198, n_test=2).x_train
    losses, result = batch_losses(dataclasses.replace(CONFIG, data_parallel=True), images)
    assert result.status == "completed" and len(result.validation_indices) == 20
    assert len(losses) == 2 * 6 and result.batches_per_epoch == 6  # 176 = 5 x 32 + 16


def assert_refused(config: TrainConfig, images: np.ndarray, reason: str) -> None:
    """Training as `config` says is refused with a `DataParallelError` that gives `reason`."""
    try:
        train_vae(config, images)
    except DataParallelError as error:
        assert reason in str(error), error
    else:
        raise AssertionError(f"expected a refusal saying {reason!r}")


def check_a_batch_that_does_not_split_is_refused() -> None:
    images = synthetic_dataset(n_train=40, n_test=2).x_train
    config = dataclasses.replace(CONFIG, batch_size=30, data_parallel=True)
    assert_refused(config, images, "does not split evenly among 4 devices")


def check_a_validation_split_smaller_than_the_devices_is_refused() -> None:
    images = synthetic_dataset(n_train=30, n_test=2).x_train  # 10% holds out 3 images, one per device short
    config = dataclasses.replace(CONFIG, batch_size=8, data_parallel=True)
    assert_refused(config, images, "holds 3 images, fewer than the 4 devices")


def check_the_command_line_says_why_a_validation_split_is_refused(out_dir: Path) -> None:
    folder = out_dir.parent / "pictures.npz"
    x, y = synthetic_images(30)
    np.savez(folder, x=x, y=y)
    arguments = ["--dataset", str(folder), "--data-parallel", "--batch-size", "8", "--out", str(out_dir)]
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            train_cli.main(arguments)
        except SystemExit as leaving:
            assert leaving.code == 1, leaving.code
        else:
            raise AssertionError("3 validation images on 4 devices should end the program")
    said = errors.getvalue()
    assert "error: The validation split holds 3 images, fewer than the 4 devices" in said, said


def check_the_saved_model_loads_and_decodes(out_dir: Path) -> None:
    dataset = synthetic_dataset(n_train=198, n_test=20)
    result, _ = train_and_save(dataclasses.replace(CONFIG, data_parallel=True), dataset, out_dir, iw_samples=2)
    bundle = load_bundle(out_dir)
    assert bundle.meta.config.data_parallel
    z = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(LatentCodec(bundle.model).decode(z), LatentCodec(result.model).decode(z), atol=1e-6)


def main(out_dir: Path) -> None:
    assert keras.backend.backend() == "jax" and len(training_devices()) == 4, training_devices()
    check_losses_match_one_device()
    check_splits_that_do_not_divide_lose_their_last_few_images()
    check_a_batch_that_does_not_split_is_refused()
    check_a_validation_split_smaller_than_the_devices_is_refused()
    check_the_command_line_says_why_a_validation_split_is_refused(out_dir / "refused")
    check_the_saved_model_loads_and_decodes(out_dir / "bundle")
    print("OK")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
