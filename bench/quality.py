"""Quality against the tutorial: `python -m bench.quality`.

Trains the keras.io recipe (`bench.tutorial_vae`) on the 60,000 MNIST training images, then
evaluates it on the 10,000 test images with the same code, seed and k = 100 importance samples that
measured the shipped `pretrained/mnist-conv-2d` (its meta.json), and prints both side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import keras

from bench.tutorial_vae import as_core_vae, train_tutorial_vae
from vae_core.analysis.evaluation import evaluate
from vae_core.bundles.files import read_meta
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.data.datasets import as_intensities, load_dataset
from vae_core.model.codec import LatentCodec
from vae_core.provenance import machine_description


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="tutorial epochs (the recipe says 30)")
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--ours", default=str(PRETRAINED_DIR / "mnist-conv-2d"), help="bundle to compare")
    args = parser.parse_args(argv)
    if keras.backend.backend() != "tensorflow":
        parser.error("the tutorial reference uses tf.GradientTape: run with the TensorFlow backend")
    # Ours was measured when its bundle was built, by the same `evaluate` with the same seed (0) and
    # k; its meta.json holds those figures. Read first, so a missing bundle fails before training.
    ours = read_meta(args.ours)
    if ours.model.conditional:
        parser.error(f"{args.ours} is conditional: its bounds are on -log p(x | label), the tutorial's on -log p(x)")
    if ours.config.seed != 0 or ours.test_metrics.iw_samples != args.iw_samples:
        parser.error(f"{args.ours} was evaluated with another seed or k; run python -m vae_core.cli.evaluate --save")
    mnist = load_dataset("mnist")
    keras.utils.set_random_seed(0)
    started = time.perf_counter()
    tutorial = train_tutorial_vae(as_intensities(mnist.x_train), epochs=args.epochs, verbose=2)
    tutorial_seconds = time.perf_counter() - started
    tutorial_metrics = evaluate(
        LatentCodec(as_core_vae(tutorial)),
        mnist.x_test,
        mnist.y_test,
        mnist.x_train,
        mnist.y_train,
        iw_samples=args.iw_samples,
    )
    rows = {"tutorial recipe": tutorial_metrics.to_dict(), "ours": ours.test_metrics.to_dict()}
    print(f"machine: {machine_description()}; tutorial training: {args.epochs} epochs, {tutorial_seconds:.0f} s")
    print(f"{'':<18}{'test -ELBO':>12}{'-log p (IW)':>14}{'5-NN acc':>10}")
    for label, row in rows.items():
        print(f"{label:<18}{row['neg_elbo']:>12.2f}{row['neg_iw_bound']:>14.2f}{row['knn_accuracy']:>10.4f}")
    gain = rows["tutorial recipe"]["neg_elbo"] - rows["ours"]["neg_elbo"]
    print(f"ours is {gain:.2f} nats per image better in test negative ELBO")
    print(json.dumps({"tutorial_seconds": round(tutorial_seconds, 1), **rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
