"""Training throughput against a plain PyTorch loop: `python -m bench.torch_speed`.

Trains the core's `conv` preset through `train_vae`, under whichever Keras backend is active, and
`bench.torch_vae`'s eager PyTorch loop of the same network, on the 60,000 MNIST training images at
batch 128 and at batch 1024, all in one invocation, both in float32, each run in a process of its
own, the contenders taking turns in A B B A order. Prints images per second (the median over every
run's epochs after its first, which compiles or warms up) with the core's ratio to PyTorch, and the
last-epoch training loss of each run, so a reader sees that both learned alike.

On a GPU machine run it as `KERAS_BACKEND=jax python -m bench.torch_speed` (bench/RESULTS.md says how
where TensorFlow is absent). It runs on a CPU too (slowly on JAX's: `--train-limit N` takes the
first N images only).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import keras
import numpy as np
import torch

from bench.torch_vae import TorchConvVAE, train_torch_vae, trainable_parameters
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data.datasets import as_intensities, load_dataset
from vae_core.model.vae import build_vae
from vae_core.provenance import machine_description
from vae_core.training.train import train_vae

BATCH_SIZES = (128, 1024)
T = TypeVar("T")
MODEL = ModelConfig(preset="conv", latent_dim=2)


class EpochTimer(keras.callbacks.Callback):
    """Seconds per epoch. Keras reads each execution's losses back from the device (the core's
    monitor streams them), so an epoch's end is when its work is done, on any backend."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._started)


def train_core(train_limit: int | None, epochs: int, batch_size: int, seed: int) -> tuple[list[float], list[float]]:
    """(seconds per epoch, mean training loss per epoch) of `train_vae` on the `conv` preset."""
    config = TrainConfig(MODEL, batch_size=batch_size, epochs=epochs, validation_split=0.0, seed=seed)
    timer = EpochTimer()
    result = train_vae(config, training_images(train_limit), callbacks=[timer])
    return timer.seconds, [record["loss"] for record in result.history]


def train_torch(train_limit: int | None, epochs: int, batch_size: int, seed: int) -> tuple[list[float], list[float]]:
    """(seconds per epoch, mean training loss per epoch) of the PyTorch loop."""
    return train_torch_vae(training_images(train_limit), epochs, batch_size, seed, torch_device())


def in_fresh_process(train: Callable[..., T], *args: object) -> T:
    """`train(*args)` in a process of its own, so no run shares thread pools, compiled functions or
    device memory with a run of the other framework."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as executor:
        return executor.submit(train, *args).result()


def training_images(train_limit: int | None) -> np.ndarray:
    return as_intensities(load_dataset("mnist").x_train[:train_limit])


def check_same_network() -> int:
    """The trainable parameter count both contenders share; exits if they differ."""
    core = sum(int(np.prod(weight.shape)) for weight in build_vae(MODEL).trainable_weights)
    reference = trainable_parameters(TorchConvVAE(MODEL.latent_dim, MODEL.hidden_sizes[0]))
    if core != reference:
        raise SystemExit(f"bench.torch_vae has {reference} trainable parameters, the core's conv preset {core}")
    return core


def torch_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(device: torch.device) -> str:
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    return f"Keras {keras.__version__} on {keras.backend.backend()}; PyTorch {torch.__version__} on {where}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.torch_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (the first is left out of the rate)")
    parser.add_argument("--seed", type=int, default=0, help="seed of each contender's first run; round r uses seed + r")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each contender per batch size")
    parser.add_argument("--train-limit", type=int, default=None, help="train on the first N images only")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch of each run compiles and is left out")
    parameters = check_same_network()
    count = len(training_images(args.train_limit))
    print(f"machine: {machine_description()}; {describe(torch_device())}")
    print(
        f"{count} training images, {args.epochs} epochs per run, {args.rounds} round(s) of each contender per batch"
        f" size, each run in a process of its own, round r seeded {args.seed} + r, float32, {parameters} trainable"
        " parameters each; images/s: median over every run's epochs after its first"
    )
    print(f"{'batch':>6}{'core':>12}{'PyTorch':>12}{'ratio':>8}   last-epoch training loss of each run: core / PyTorch")
    contenders = {"core": train_core, "PyTorch": train_torch}
    for batch_size in BATCH_SIZES:
        seconds: dict[str, list[float]] = {name: [] for name in contenders}
        losses: dict[str, list[float]] = {name: [] for name in contenders}
        for round_index, name in abba_order(list(contenders), args.rounds):
            epoch_seconds, epoch_losses = in_fresh_process(
                contenders[name], args.train_limit, args.epochs, batch_size, args.seed + round_index
            )
            seconds[name] += epoch_seconds[1:]
            losses[name].append(epoch_losses[-1])
        core_rate, torch_rate = (count / statistics.median(seconds[name]) for name in contenders)
        core_losses, torch_losses = (", ".join(f"{loss:.2f}" for loss in losses[name]) for name in contenders)
        print(
            f"{batch_size:>6}{core_rate:>12.0f}{torch_rate:>12.0f}{core_rate / torch_rate:>8.2f}"
            f"   {core_losses} / {torch_losses}"
        )
    return 0


def abba_order(names: list[str], rounds: int) -> list[tuple[int, str]]:
    """(round, contender) pairs: each round runs every contender, every other round in reverse
    (A B B A ...), so a machine that drifts steadily faster or slower favours none of them."""
    return [(index, name) for index in range(rounds) for name in (names if index % 2 == 0 else names[::-1])]


if __name__ == "__main__":
    raise SystemExit(main())
