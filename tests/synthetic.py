"""Small synthetic image sets for tests: structured enough to train on, made in milliseconds.

A module of its own, not conftest, because tests/browser has a conftest too and `from conftest
import ...` would find whichever comes first on sys.path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from vae_core.bundles.meta import BundleMeta, DatasetRecord, TestMetrics, TrainingRecord
from vae_core.config import TrainConfig
from vae_core.data.datasets import Dataset


def synthetic_images(n: int, shape: tuple[int, int, int] = (28, 28, 1), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images of ten classes: class k is a bright square at one of ten positions, plus noise.

    Structured enough that a VAE's loss falls within an epoch and labels are recoverable from z.
    """
    rng = np.random.default_rng(seed)
    height, width, channels = shape
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 40, (n, *shape)).astype(np.uint8)
    size = height // 4
    for index, label in enumerate(labels):
        row, column = divmod(int(label), 4)
        top = min(row * size + 2, height - size)
        left = min(column * size + 2, width - size)
        images[index, top : top + size, left : left + size, :] = 255
    return images, labels.astype(np.int64)


def synthetic_dataset(n_train: int = 256, n_test: int = 64, shape: tuple[int, int, int] = (28, 28, 1)) -> Dataset:
    x_train, y_train = synthetic_images(n_train, shape, seed=1)
    x_test, y_test = synthetic_images(n_test, shape, seed=2)
    return Dataset("synthetic", x_train, y_train, x_test, y_test, tuple(str(c) for c in range(10)), "synthetic")


def bundle_meta(config: TrainConfig, test_images: int, class_names: list[str] | None, **unknown: object) -> BundleMeta:
    """A bundle description with every field readers use, as `pipeline.run_meta` makes it;
    `unknown` adds top-level fields this version does not know, as a later version might."""
    return BundleMeta(
        created="2026-01-01T00:00:00+00:00",
        config=config,
        dataset=DatasetRecord("synthetic", tuple(class_names) if class_names else None, test_images=test_images),
        training=TrainingRecord(epochs_run=1, message="Trained 1 epoch."),
        test_metrics=TestMetrics(500.0, None, None, 499.0, 2, test_images, None, 5),
        unknown=unknown,
    )


def write_image_folder(root: Path, per_class: int = 12, side: int = 40, suffixes: tuple[str, ...] = ("png",)) -> Path:
    """An image folder of two classes, `bright` and `dim`: dark pictures with a square of that
    brightness in the top-left quarter, `per_class` each, in turn in each format of `suffixes`."""
    for name, brightness in (("bright", 250), ("dim", 90)):
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            picture = Image.new("L", (side, side), 0)
            picture.paste(brightness, (0, 0, side // 2, side // 2))
            picture.save(root / name / f"{index}.{suffixes[index % len(suffixes)]}")
    return root


def save_tiny_bundle(path: Path) -> Path:
    """A small mlp bundle of six synthetic test images, saved at `path`: the least a check can read."""
    from vae_core.bundles.bundle import build_atlas, save_bundle
    from vae_core.config import ModelConfig
    from vae_core.model.codec import LatentCodec
    from vae_core.model.vae import build_vae

    config = TrainConfig(ModelConfig(preset="mlp", hidden_sizes=(8,)))
    model = build_vae(config.model, seed=0)
    images, labels = synthetic_images(6)
    atlas = build_atlas(LatentCodec(model), images, labels)
    return save_bundle(path, model, bundle_meta(config, test_images=6, class_names=None), atlas)
