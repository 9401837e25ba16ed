"""Training throughput against the tutorial way: `python -m bench.train_speed`.

Trains the keras.io reference (`bench.tutorial_vae`: a `tf.GradientTape` train step, numpy arrays
fed to `fit`) and the core's `conv` preset through `train_vae`, in float32 and, where the processor
has bfloat16 units, in mixed bfloat16, each on the 60,000 MNIST training images at batch 128 for
the same number of epochs. The runs take turns every few seconds (see `Turns`), so a busy neighbour slows
them alike. Prints images per second (median over turns; the first epoch of each run, which
compiles, is left out) with the ratio to the reference, and the test negative ELBO each reaches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass

import keras
import numpy as np

from bench.tutorial_vae import as_core_vae, train_tutorial_vae
from vae_core.analysis.evaluation import importance_weighted_bounds
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data.datasets import as_intensities, load_dataset
from vae_core.model.codec import LatentCodec
from vae_core.model.precision import FLOAT32, MIXED_BFLOAT16, bfloat16_is_fast
from vae_core.model.vae import VAE
from vae_core.provenance import machine_description
from vae_core.training.train import train_vae

BATCH_SIZE = 128
REFERENCE = "tutorial reference"
ELBO_SAMPLES = 10  # z samples per test image for the ELBO's reconstruction term


class Turns:
    """Runs trainings in threads one chunk of batches at a time, round robin, timing each chunk.

    This machine's speed drifts with its neighbours over tens of seconds; chunks of a few seconds
    taken in turn see the same drift, so the contenders' rates compare fairly. The runs start one
    at a time (`start`): each seeds the global random state and draws its initial weights before
    the next begins, so runs with one seed start from the same weights, as they would alone.
    """

    def __init__(self, names: list[str], batches_per_turn: int, images: int) -> None:
        self._condition = threading.Condition()
        self._waiting = list(names)  # whose turn it is first, then the rest in order
        self.batches_per_turn = batches_per_turn
        self.images = images
        self.rates: dict[str, list[float]] = {name: [] for name in names}
        self._started: set[str] = set()

    def start(self, thread: threading.Thread) -> None:
        """Start a run and return once it has built its model and reached its first batch."""
        thread.start()
        with self._condition:
            while thread.name not in self._started and thread.is_alive():
                self._condition.wait(timeout=0.5)

    def report_started(self, name: str) -> None:
        with self._condition:
            self._started.add(name)
            self._condition.notify_all()

    def player(self, name: str) -> keras.callbacks.Callback:
        return _Player(self, name)

    def wait_for(self, name: str) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self._waiting[0] == name)

    def pass_on(self, name: str, finished: bool = False) -> None:
        with self._condition:
            if name in self._waiting:  # a failed run may have passed on already
                self._waiting.remove(name)
            if not finished:
                self._waiting.append(name)
            self._condition.notify_all()


class _Player(keras.callbacks.Callback):
    """Takes its turn, times `batches_per_turn` batches (after the first epoch, which compiles)."""

    def __init__(self, turns: Turns, name: str) -> None:
        super().__init__()
        self.turns, self.name = turns, name
        self.epoch, self.last_batch = 0, -1

    def _start_turn(self) -> None:
        self.turns.wait_for(self.name)
        self.batches_done, self.images_done, self.started = 0, 0, time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.turns.report_started(self.name)
        self._start_turn()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.last_batch = epoch, -1

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        # `batch` is the last batch done; with steps_per_execution > 1 several are done per call.
        for index in range(self.last_batch + 1, batch + 1):
            self.images_done += min(BATCH_SIZE, self.turns.images - index * BATCH_SIZE)
        self.batches_done += batch - self.last_batch
        self.last_batch = batch
        if self.batches_done >= self.turns.batches_per_turn:
            if self.epoch > 0:
                self.turns.rates[self.name].append(self.images_done / (time.perf_counter() - self.started))
            self.turns.pass_on(self.name)
            self._start_turn()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.turns.pass_on(self.name, finished=True)


@dataclass
class Contender:
    """One way of training."""

    label: str
    precision: str

    @property
    def name(self) -> str:
        return f"{self.label} ({self.precision})"


def train_reference(x_train: np.ndarray, epochs: int, seed: int, player: keras.callbacks.Callback) -> VAE:
    keras.utils.set_random_seed(seed)
    tutorial = train_tutorial_vae(x_train, epochs=epochs, batch_size=BATCH_SIZE, callbacks=[player], verbose=0)
    return as_core_vae(tutorial)


def train_core(x_train: np.ndarray, epochs: int, seed: int, precision: str, player: keras.callbacks.Callback) -> VAE:
    config = TrainConfig(
        ModelConfig(preset="conv", latent_dim=2),
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_split=0.0,  # the reference trains on every image; so does this run
        seed=seed,
        precision=precision,
    )
    return train_vae(config, x_train, callbacks=[player]).model


def neg_elbo_on(model: VAE, x_test: np.ndarray) -> float:
    bounds = importance_weighted_bounds(LatentCodec(model), x_test, samples=ELBO_SAMPLES)
    return float(np.mean(bounds["reconstruction_nll"] + bounds["kl"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (the first is left out of the rate)")
    parser.add_argument("--batches-per-turn", type=int, default=40, help="batches each run trains before the next")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-limit", type=int, default=None, help="train on the first N images only")
    args = parser.parse_args(argv)
    if keras.backend.backend() != "tensorflow":
        parser.error("the tutorial reference uses tf.GradientTape: run with the TensorFlow backend")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch of each run compiles and is left out")
    mnist = load_dataset("mnist")
    x_train = as_intensities(mnist.x_train[: args.train_limit])
    x_test = as_intensities(mnist.x_test)
    contenders = [Contender(REFERENCE, FLOAT32), Contender("core conv", FLOAT32)]
    if bfloat16_is_fast():
        contenders.append(Contender("core conv", MIXED_BFLOAT16))
    turns = Turns([c.name for c in contenders], args.batches_per_turn, len(x_train))
    models: dict[str, VAE] = {}

    def run(contender: Contender) -> None:
        player = turns.player(contender.name)
        try:
            if contender.label == REFERENCE:
                models[contender.name] = train_reference(x_train, args.epochs, args.seed, player)
            else:
                models[contender.name] = train_core(x_train, args.epochs, args.seed, contender.precision, player)
        except BaseException:
            turns.pass_on(contender.name, finished=True)  # so the other runs do not wait for its turn
            raise

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c,), name=c.name) for c in contenders]
    for thread in threads:
        turns.start(thread)
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if len(models) != len(contenders):
        print("a training run failed; see the traceback above", file=sys.stderr)
        return 1

    reference_rate = statistics.median(turns.rates[contenders[0].name])
    print(f"machine: {machine_description()}")
    print(
        f"{len(x_train)} training images, batch {BATCH_SIZE}, {args.epochs} epochs each, seed {args.seed},"
        f" taking turns every {args.batches_per_turn} batches ({seconds:.0f} s in all)."
        f" images/s: median over the turns after the first epoch; test -ELBO: {ELBO_SAMPLES} samples per image"
    )
    print(f"{'':<34}{'turns':>6}{'images/s':>10}{'ratio':>7}{'test -ELBO':>12}")
    for contender in contenders:
        rates = turns.rates[contender.name]
        rate = statistics.median(rates)
        elbo = neg_elbo_on(models[contender.name], x_test)
        print(f"{contender.name:<34}{len(rates):>6}{rate:>10.0f}{rate / reference_rate:>7.2f}{elbo:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
