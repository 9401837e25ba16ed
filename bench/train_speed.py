"""Training throughput against the tutorial way: `python -m bench.train_speed`.

Trains the keras.io reference (`bench.tutorial_vae`: a `tf.GradientTape` train step, numpy arrays
fed to `fit`) and the core's `conv` preset through `train_vae`, in float32 and in the precision
`auto` picks on this machine, each on the 60,000 MNIST training images at batch 128 for the same
number of epochs. The runs alternate, repeat after repeat, so a busy neighbour slows them alike.
Prints images per second (median over epochs, the first of each run left out: it compiles) with
the ratio to the reference, and the test negative ELBO each model reaches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field

import keras
import numpy as np

from bench.tutorial_vae import as_core_vae, train_tutorial_vae
from vae_core.config import ModelConfig, TrainConfig
from vae_core.datasets import load_dataset
from vae_core.evaluation import importance_weighted_bounds
from vae_core.inference import LatentCodec, as_intensities
from vae_core.model import VAE
from vae_core.pipeline import machine_description
from vae_core.precision import FLOAT32, resolve_precision
from vae_core.training import train_vae

BATCH_SIZE = 128
ELBO_SAMPLES = 10  # z samples per test image for the ELBO's reconstruction term


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch, validation and other epoch-end work included."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._started)


@dataclass
class Contender:
    """One way of training, with what its runs measured."""

    label: str
    precision: str
    images_per_second: list[float] = field(default_factory=list)
    neg_elbos: list[float] = field(default_factory=list)


def train_reference(x_train: np.ndarray, epochs: int, seed: int, timer: EpochTimer) -> VAE:
    keras.utils.set_random_seed(seed)
    tutorial = train_tutorial_vae(x_train, epochs=epochs, batch_size=BATCH_SIZE, callbacks=[timer], verbose=0)
    return as_core_vae(tutorial)


def train_core(x_train: np.ndarray, epochs: int, seed: int, precision: str, timer: EpochTimer) -> VAE:
    config = TrainConfig(
        ModelConfig(preset="conv", latent_dim=2),
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_split=0.0,  # the reference trains on every image; so does this run
        seed=seed,
        precision=precision,
    )
    return train_vae(config, x_train, callbacks=[timer]).model


def neg_elbo_on(model: VAE, x_test: np.ndarray) -> float:
    bounds = importance_weighted_bounds(LatentCodec(model), x_test, samples=ELBO_SAMPLES)
    return float(np.mean(bounds["reconstruction_nll"] + bounds["kl"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (the first is left out of the rate)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each contender, seeds 0, 1, ...")
    parser.add_argument("--train-limit", type=int, default=None, help="train on the first N images only")
    args = parser.parse_args(argv)
    if keras.backend.backend() != "tensorflow":
        parser.error("the tutorial reference uses tf.GradientTape: run with the TensorFlow backend")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch of each run compiles and is left out")
    mnist = load_dataset("mnist")
    x_train = as_intensities(mnist.x_train[: args.train_limit])
    x_test = as_intensities(mnist.x_test)
    fastest = resolve_precision("auto")
    contenders = [Contender("tutorial reference", FLOAT32), Contender("core conv", FLOAT32)]
    if fastest != FLOAT32:
        contenders.append(Contender("core conv", fastest))
    for seed in range(args.repeats):
        for contender in contenders:
            timer = EpochTimer()
            if contender.label == "tutorial reference":
                model = train_reference(x_train, args.epochs, seed, timer)
            else:
                model = train_core(x_train, args.epochs, seed, contender.precision, timer)
            contender.images_per_second += [len(x_train) / seconds for seconds in timer.seconds[1:]]
            contender.neg_elbos.append(neg_elbo_on(model, x_test))
            print(f"{contender.label} ({contender.precision}), seed {seed}: {timer.seconds} s per epoch", flush=True)

    reference_rate = statistics.median(contenders[0].images_per_second)
    print(f"machine: {machine_description()}")
    print(
        f"{len(x_train)} training images, batch {BATCH_SIZE}, {args.epochs} epochs x {args.repeats} runs;"
        f" test -ELBO: mean over runs, {ELBO_SAMPLES} samples per test image"
    )
    print(f"{'':<20}{'precision':>16}{'images/s':>10}{'ratio':>7}{'test -ELBO':>12}")
    for contender in contenders:
        rate = statistics.median(contender.images_per_second)
        elbo = statistics.mean(contender.neg_elbos)
        print(f"{contender.label:<20}{contender.precision:>16}{rate:>10.0f}{rate / reference_rate:>7.2f}{elbo:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
