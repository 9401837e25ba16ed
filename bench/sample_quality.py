"""Sample quality, the prior against the codes' mixture: `python -m bench.sample_quality`.

For each shipped MNIST model, 10,000 z drawn from the prior N(0, I) and 10,000 from the mixture of its
training codes (`vae_core.analysis.code_mixture`: the bundle's code_mixture.npz, else fitted here as
training fits it) are decoded, and each set's Fréchet distance to the 10,000 MNIST test images is taken in
the 64 features before the output of a small classifier trained here (`bench/mnist_classifier.keras`,
trained with seed 0 where absent): FID's measure (Heusel et al. 2017) in a feature space that needs no
download. Lower is nearer the data. Also the classifier's mean top-class probability, a rougher figure of
how much samples look like some digit. Medians over `--seeds`. The conditional model's samples are
written as labels drawn from the training labels, the same for prior and mixture. The floor is 10,000
training images against the test images.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from bench.command_line import repeat_command
from vae_core.analysis.code_mixture import read_code_mixture, training_mixture
from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.data.datasets import Dataset, as_intensities, load_dataset
from vae_core.model.codec import LatentCodec
from vae_core.provenance import machine_description

CLASSIFIER = Path(__file__).resolve().parent / "mnist_classifier.keras"
MODELS = ("mnist-conv-2d", "mnist-mlp-2d", "mnist-conv-16d", "mnist-cvae-2d")
SAMPLES = 10_000


def build_classifier() -> keras.Model:
    """Two small convolutions and a 64-unit layer (the features) before the ten logits: 57,000 weights."""
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(16, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Dense(64, activation="relu", name="features")(keras.layers.Flatten()(x))
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))


def classifier(path: Path, x_train: np.ndarray, y_train: np.ndarray, epochs: int) -> keras.Model:
    """The classifier saved at `path`, trained there first (seed 0, Adam, batch 128) where absent."""
    if path.is_file():
        return keras.saving.load_model(path, safe_mode=True)
    keras.utils.set_random_seed(0)
    model = build_classifier()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)
    saved = build_classifier()  # without the optimizer's state, which would triple the file
    saved.set_weights(model.get_weights())
    saved.save(path)
    return saved


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^(1/2) S_b S_a^(1/2))^(1/2)) between Gaussians fitted to two
    feature sets: the trace of (S_a S_b)^(1/2) through symmetric matrices, whose square roots stay real where
    some features never fire (a covariance of rank below 64)."""
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def scores(net: keras.Model, features: keras.Model, reference: np.ndarray, images: np.ndarray) -> tuple[float, float]:
    """The images' Fréchet distance to the reference features, and the classifier's mean top-class probability."""
    logits = net.predict(images, batch_size=512, verbose=0)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    confidence = float((probabilities.max(axis=1) / probabilities.sum(axis=1)).mean())
    return frechet_distance(features.predict(images, batch_size=512, verbose=0), reference), confidence


def model_row(
    name: str, seeds: list[int], mnist: Dataset, measure: Callable[[np.ndarray], tuple[float, float]]
) -> dict:
    """The model's figures for prior and mixture samples, medians over `seeds`."""
    bundle = load_bundle(PRETRAINED_DIR / name)
    codec = LatentCodec(bundle.model)
    mixture, source = read_code_mixture(bundle.path, codec.latent_dim), "code_mixture.npz"
    if mixture is None:
        mixture, source = training_mixture(codec, mnist), "fitted here"
    figures: dict[str, list[tuple[float, float]]] = {"prior": [], "mixture": []}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        labels = rng.choice(mnist.y_train, SAMPLES) if codec.classes else None
        draws = {"prior": rng.standard_normal((SAMPLES, codec.latent_dim)), "mixture": mixture.sample(SAMPLES, seed)}
        for kind, z in draws.items():
            figures[kind].append(measure(np.concatenate(list(codec.decode_batches(z, labels)))))
    row = {"model": name, "latent": codec.latent_dim, "components": mixture.components, "mixture": source}
    for kind, values in figures.items():
        row[f"{kind}_fd"] = statistics.median(fd for fd, _ in values)
        row[f"{kind}_confidence"] = statistics.median(confidence for _, confidence in values)
        row[f"{kind}_fd_per_seed"] = [round(fd, 2) for fd, _ in values]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sample_quality", description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=lambda text: text.split(","), default=list(MODELS))
    parser.add_argument("--seeds", type=lambda text: [int(s) for s in text.split(",")], default=[0, 1, 2])
    parser.add_argument("--classifier-epochs", type=int, default=3, help="epochs of a classifier trained here")
    args = parser.parse_args(argv)
    mnist = load_dataset("mnist")
    x_test = as_intensities(mnist.x_test)
    net = classifier(CLASSIFIER, as_intensities(mnist.x_train), mnist.y_train, args.classifier_epochs)
    accuracy = float(np.mean(np.argmax(net.predict(x_test, batch_size=512, verbose=0), axis=1) == mnist.y_test))
    features = keras.Model(net.inputs, net.get_layer("features").output)
    reference = features.predict(x_test, batch_size=512, verbose=0)
    floor = scores(net, features, reference, as_intensities(mnist.x_train[:SAMPLES]))
    print(repeat_command("bench.sample_quality", args))
    print(f"date: {datetime.date.today()}; machine: {machine_description()}")
    print(f"classifier test accuracy {accuracy:.4f}; floor (10,000 training images): FD {floor[0]:.2f}, confidence"
          f" {floor[1]:.3f}")  # fmt: skip
    rows = []
    for name in args.models:
        rows.append(model_row(name, args.seeds, mnist, lambda images: scores(net, features, reference, images)))
        print(json.dumps(rows[-1]), flush=True)
    print("| model | latent | K (BIC) | FD, prior | FD, mixture | mixture / prior | confidence, prior | mixture |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        fd = f"{row['prior_fd']:.2f} | {row['mixture_fd']:.2f} | {row['mixture_fd'] / row['prior_fd']:.2f}"
        confidence = f"{row['prior_confidence']:.3f} | {row['mixture_confidence']:.3f}"
        print(f"| {row['model']} | {row['latent']} | {row['components']} | {fd} | {confidence} |")
    print(json.dumps({"classifier_accuracy": accuracy, "floor": floor, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
