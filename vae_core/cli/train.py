"""Command line: train a VAE and save it as a bundle.

    python -m vae_core.cli.train --dataset mnist --preset conv --latent-dim 2 --epochs 30 --out DIR

Intentionally short: it parses flags and calls `vae_core.training.pipeline`, where the logic can be tested.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vae_core.bundles.files import BundleError, check_destination
from vae_core.bundles.registry import safe_model_name, user_models_dir
from vae_core.config import (
    LOSSES,
    LR_SCHEDULES,
    MAX_IMAGE_SIDE,
    MIN_IMAGE_SIDE,
    OPTIMIZERS,
    PRECISIONS,
    PRESETS,
    RANGES,
    ConfigError,
    ImageSettings,
    ModelConfig,
    TrainConfig,
    parse_hidden_sizes,
)
from vae_core.data.datasets import DatasetError, DatasetUnavailable
from vae_core.wording import count, first_line

SETTINGS = TrainConfig.setting_names()


def sizes(text: str) -> tuple[int, ...] | None:
    """--hidden's type: `parse_hidden_sizes`, with its error turned into argparse's."""
    try:
        return parse_hidden_sizes(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    defaults, model_defaults = TrainConfig(), ModelConfig()
    parser = argparse.ArgumentParser(
        prog="python -m vae_core.cli.train", description="Train a VAE and save a model bundle."
    )
    parser.add_argument(
        "--dataset", required=True, help="mnist, fashion_mnist, cifar10, a .csv/.npz file, or a folder of images"
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=ImageSettings.side,
        help=f"an image folder's pictures are resized to this side, {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE}"
        f" (default {ImageSettings.side})",
    )
    parser.add_argument(
        "--color", choices=("grayscale", "rgb"), default="grayscale", help="how an image folder's pictures are read"
    )
    parser.add_argument("--preset", choices=PRESETS, default=model_defaults.preset)
    numbers = {
        "--latent-dim": ("latent_dim", int, model_defaults.latent_dim, "size of the latent code z"),
        "--beta": ("beta", float, model_defaults.beta, "KL weight"),
        "--kl-warmup": ("kl_warmup_epochs", int, defaults.kl_warmup_epochs, "epochs of linear KL warm-up"),
        "--learning-rate": ("learning_rate", float, defaults.learning_rate, "optimizer step size"),
        "--weight-decay": ("weight_decay", float, defaults.weight_decay, "decoupled weight decay, 0 for none"),
        "--batch-size": ("batch_size", int, defaults.batch_size, "images per gradient step"),
        "--epochs": ("epochs", int, defaults.epochs, "passes over the training split"),
        "--validation-split": ("validation_split", float, defaults.validation_split, "share held out"),
        "--seed": ("seed", int, defaults.seed, "seeds weights, shuffling, split and noise"),
        "--steps-per-execution": (
            "steps_per_execution",
            int,
            defaults.steps_per_execution,
            "gradient steps per compiled call; progress and Stop act once per call",
        ),
    }
    for flag, (setting, kind, default, meaning) in numbers.items():
        parser.add_argument(
            flag, dest=setting, type=kind, default=default, help=f"{meaning}; {RANGES[setting]} (default {default})"
        )
    parser.add_argument(
        "--hidden",
        dest="hidden_sizes",
        type=sizes,
        default=None,
        help="dense sizes, e.g. 256 or 64,16,8 (default: preset's)",
    )
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="a conditional VAE: encoder and decoder also take each image's label (labelled data only)",
    )
    parser.add_argument("--loss", choices=LOSSES, default=model_defaults.loss)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=defaults.lr_schedule)
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=defaults.precision,
        help="mixed_bfloat16: faster on TensorFlow with AVX512_BF16, same ELBO (see bench/RESULTS.md)",
    )
    parser.add_argument(
        "--data-parallel",
        action="store_true",
        help="split each batch across every device (Keras DataParallel; needs KERAS_BACKEND=jax)",
    )
    cluster = parser.add_argument_group(
        "several hosts", "with --data-parallel: start one process per host, each with the same flags but its own id"
    )
    cluster.add_argument("--coordinator", default=None, help="HOST:PORT where process 0 listens")
    cluster.add_argument("--processes", type=int, default=None, help="how many processes train together")
    cluster.add_argument("--process-id", type=int, default=None, help="this one's number, 0 to processes - 1")
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument(
        "--iw-samples", type=int, default=100, help="samples per image for the importance-weighted bound"
    )
    parser.add_argument(
        "--scored-images",
        type=int,
        default=None,
        help="score the importance-weighted bound and the 5-NN accuracy on about N test images only, spread"
        " evenly over the split (the ELBO takes every one; default: all)",
    )
    parser.add_argument("--name", default=None, help="model name (default: dataset-preset-<latent>d)")
    parser.add_argument("--out", default=None, help="bundle directory (default: the models dir / name)")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's settings from parsed flags, each stored under its setting's name; `ConfigError`
    names a value out of range."""
    return TrainConfig.from_settings({name: value for name, value in vars(args).items() if name in SETTINGS})


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        name = safe_model_name(
            args.name or f"{os.path.basename(args.dataset).split('.')[0]}-{args.preset}-{args.latent_dim}d"
        )
    except ValueError as error:
        parser.error(str(error))
    if args.iw_samples < 1:
        parser.error(f"--iw-samples must be at least 1, got {args.iw_samples}")
    if args.scored_images is not None and args.scored_images < 1:
        parser.error(f"--scored-images must be at least 1, got {args.scored_images}")
    try:
        config = config_from_args(args)
        images = ImageSettings(args.image_size, 1 if args.color == "grayscale" else 3)
    except ConfigError as error:
        parser.error(str(error))
    out = args.out or os.path.join(user_models_dir(), name)
    cluster = (args.coordinator, args.processes, args.process_id)
    if any(value is not None for value in cluster) and (None in cluster or not config.data_parallel):
        parser.error("a run on several hosts needs --data-parallel, --coordinator, --processes and --process-id")
    try:
        if not args.process_id:  # the others of a cluster save nothing
            check_destination(Path(out))
    except BundleError as error:
        parser.error(f"--out: {error}")
    if config.data_parallel:
        join_devices(parser, args, config.batch_size)
    from vae_core.data.source import open_dataset  # heavy imports only once the flags are valid
    from vae_core.training.events import EvaluationProgress
    from vae_core.training.pipeline import train_and_save, train_in_cluster

    try:
        dataset = open_dataset(args.dataset, seed=args.seed, images=images)
    except (DatasetError, DatasetUnavailable) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    for note in dataset.notes:
        print(f"{parser.prog}: warning: {note}", file=sys.stderr)
    dataset = dataset.limited(config.train_limit)
    try:
        config = config.with_data(dataset.image_shape, dataset.condition_classes(args.conditional))
    except (DatasetError, ConfigError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    kind = "conditional " if config.model.conditional else ""
    print(
        f"Training {kind}{config.model.preset} (latent {config.model.latent_dim}) on {dataset.name}: "
        f"{count(len(dataset.x_train), 'training image')} from {dataset.source}"
    )
    tty, show = sys.stdout.isatty(), EvaluationPrinter(sys.stdout.isatty())

    def listener(event: object) -> None:
        if isinstance(event, EvaluationProgress):
            show(event.fraction)

    settings = {
        "listener": listener,
        "verbose": 1 if tty else 2,
        "iw_samples": args.iw_samples,
        "scored": args.scored_images,
    }
    try:
        if args.coordinator is None:
            result, metrics = train_and_save(config, dataset, out, **settings)
        else:
            result, metrics = train_in_cluster(config, dataset, out, args.process_id, **settings)
    except ConfigError as error:  # e.g. a validation split too small for the devices
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except OSError as error:  # a full disk, a folder removed mid-run: said in a line, not a traceback
        parser.exit(1, f"{parser.prog}: error: the run could not finish ({first_line(error)}); no bundle was saved.\n")
    print(result.message)
    if metrics is None:
        print(f"Process {args.process_id} of {args.processes} is done: process 0 saves the bundle.")
        return 0 if result.status != "diverged" else 3
    if config.model.conditional:
        print("Test metrics are conditional: bounds on -log p(x | label), in nats.")
    print(format_metrics(metrics.to_dict()))
    print(f"Saved bundle: {out}")
    return 0 if result.status != "diverged" else 3


def join_devices(parser: argparse.ArgumentParser, args: argparse.Namespace, batch_size: int) -> None:
    """Join the cluster the flags name, if any (before anything else runs on JAX), and check that
    `batch_size` splits among the devices; a refusal ends the program with its reason."""
    from vae_core.training.distribution import DataParallelError, data_parallel, join_cluster

    try:
        if args.coordinator is not None:
            join_cluster(args.coordinator, args.processes, args.process_id)
        data_parallel(batch_size)
    except DataParallelError as error:
        parser.error(str(error) if args.coordinator else f"--data-parallel: {error}")


class EvaluationPrinter:
    """Prints the test-set evaluation's progress: one updating line on a terminal, else every 10%."""

    def __init__(self, tty: bool) -> None:
        self.tty, self.shown = tty, -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if self.tty and percent != self.shown:
            print(f"\rEvaluating on the test set: {percent}%", end="\n" if percent == 100 else "", flush=True)
        elif not self.tty and percent // 10 != self.shown // 10:
            print(f"Evaluating on the test set: {percent // 10 * 10}%", flush=True)
        self.shown = percent


def format_metrics(metrics: dict) -> str:
    """Metrics as aligned 'name  value' lines for a terminal; 'not measured' where evaluation was stopped."""
    return "\n".join(
        f"  {name:<20} {value:.4f}"
        if isinstance(value, float)
        else f"  {name:<20} {'not measured' if value is None else value}"
        for name, value in metrics.items()
    )


if __name__ == "__main__":
    sys.exit(main())
