"""Command line: train a VAE and save it as a bundle.

    python -m vae_core.cli.train --dataset mnist --preset conv --latent-dim 2 --epochs 30 --out DIR

Intentionally short: it parses flags and calls `vae_core.training.pipeline`, where the logic can be tested.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from typing import TYPE_CHECKING, Any

from vae_core.bundles.files import BundleError
from vae_core.cli.terminal import EvaluationPrinter, format_metrics
from vae_core.config import (
    CHOICES,
    RANGES,
    ConfigError,
    ImageSettings,
    TrainConfig,
    parse_hidden_sizes,
)
from vae_core.data.datasets import DatasetError, DatasetUnavailable
from vae_core.training.run_request import RunRequest, request_run
from vae_core.wording import count, first_line

if TYPE_CHECKING:
    from vae_core.bundles.meta import TestMetrics
    from vae_core.data.datasets import Dataset
    from vae_core.training.train import TrainingResult

DEFAULTS = TrainConfig.setting_defaults()
# Each numeric flag: the setting it sets (its default the config's, its range in the help), its type, its meaning.
NUMERIC_FLAGS = {
    "--latent-dim": ("latent_dim", int, "size of the latent code z"),
    "--beta": ("beta", float, "KL weight"),
    "--kl-warmup": ("kl_warmup_epochs", int, "epochs of linear KL warm-up"),
    "--learning-rate": ("learning_rate", float, "optimizer step size"),
    "--weight-decay": ("weight_decay", float, "decoupled weight decay, 0 for none"),
    "--batch-size": ("batch_size", int, "images per gradient step"),
    "--epochs": ("epochs", int, "passes over the training split"),
    "--validation-split": ("validation_split", float, "share held out"),
    "--seed": ("seed", int, "seeds weights, shuffling, split and noise"),
    "--steps-per-execution": (
        "steps_per_execution",
        int,
        "gradient steps per compiled call; progress and Stop act once per call",
    ),
}
# Each flag naming a choice after the model's: the setting it sets (its choices and default the config's), its help.
CHOICE_FLAGS = {
    "--loss": ("loss", None),
    "--optimizer": ("optimizer", None),
    "--lr-schedule": ("lr_schedule", None),
    "--precision": (
        "precision",
        "mixed_bfloat16: faster on TensorFlow with AVX512_BF16, same ELBO (see bench/RESULTS.md)",
    ),
}


def sizes(text: str) -> tuple[int, ...] | None:
    """--hidden's type: `parse_hidden_sizes`, with its error turned into argparse's."""
    try:
        return parse_hidden_sizes(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """The flags, in the order --help lists them: the data, the model and its fitting, the devices, and
    what the run measures and where it is saved."""
    parser = argparse.ArgumentParser(
        prog="python -m vae_core.cli.train", description="Train a VAE and save a model bundle."
    )
    add_data_flags(parser)
    add_setting_flags(parser)
    add_device_flags(parser)
    add_run_flags(parser)
    return parser


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """What to train on, and how an image folder's pictures are read."""
    parser.add_argument(
        "--dataset", required=True, help="mnist, fashion_mnist, cifar10, a .csv/.npz file, or a folder of images"
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=ImageSettings.side,
        help=f"an image folder's pictures are resized to this side, {RANGES['side']} (default {ImageSettings.side})",
    )
    parser.add_argument(
        "--color", choices=("grayscale", "rgb"), default="grayscale", help="how an image folder's pictures are read"
    )


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """The network and how it is fitted, each flag stored under its config setting's name so that the
    configs check it, and left out, taking the configs' default."""
    parser.add_argument("--preset", choices=CHOICES["preset"], default=DEFAULTS["preset"])
    for flag, (setting, kind, meaning) in NUMERIC_FLAGS.items():
        default = DEFAULTS[setting]
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
    for flag, (setting, meaning) in CHOICE_FLAGS.items():
        parser.add_argument(flag, dest=setting, choices=CHOICES[setting], default=DEFAULTS[setting], help=meaning)


def add_device_flags(parser: argparse.ArgumentParser) -> None:
    """Data-parallel training, on this host's devices or on several hosts'."""
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


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """How many images the run trains on and scores, the bundle's name and folder, and its TensorBoard logs."""
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
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        default=None,
        help="also write TensorBoard logs there: each epoch's losses and latent snapshot (needs TensorFlow)",
    )


def main(argv: list[str] | None = None) -> int:
    """Train as the flags ask and save the bundle: exit 0 once the run has ended, 3 when it diverged; 2
    for a flag refused, 1 for data that cannot be trained on or a run that cannot finish."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    request = request_from_args(parser, args)
    if request.config.data_parallel:
        join_devices(parser, args, request.config.batch_size)
    dataset, config = open_data(parser, request)
    kind = "conditional " if config.model.conditional else ""
    print(
        f"Training {kind}{config.model.preset} (latent {config.model.latent_dim}) on {dataset.name}: "
        f"{count(len(dataset.x_train), 'training image')} from {dataset.source}"
    )
    if request.tensorboard:
        print(f"TensorBoard logs, to follow with: tensorboard --logdir {request.tensorboard}")
    result, metrics = run(parser, args, config, dataset, request)
    print(result.message)
    if metrics is None:
        print(f"Process {args.process_id} of {args.processes} is done: process 0 saves the bundle.")
    else:
        if config.model.conditional:
            print("Test metrics are conditional: bounds on -log p(x | label), in nats.")
        print(format_metrics(metrics.to_dict()))
        print(f"Saved bundle: {request.out_dir}")
    return 3 if result.status == "diverged" else 0


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse what no config checks: the evaluation's numbers, a cluster named in part or without
    --data-parallel, and TensorBoard logs of a cluster's run."""
    if args.iw_samples < 1:
        parser.error(f"--iw-samples must be at least 1, got {args.iw_samples}")
    if args.scored_images is not None and args.scored_images < 1:
        parser.error(f"--scored-images must be at least 1, got {args.scored_images}")
    cluster = (args.coordinator, args.processes, args.process_id)
    if any(value is not None for value in cluster) and (None in cluster or not args.data_parallel):
        parser.error("a run on several hosts needs --data-parallel, --coordinator, --processes and --process-id")
    if args.coordinator is not None and args.tensorboard:
        parser.error("--tensorboard logs a run on one host: leave it out of a run on several hosts")


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings among the parsed flags, each stored under its setting's name."""
    return {name: value for name, value in vars(args).items() if name in DEFAULTS}


def request_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> RunRequest:
    """The run the flags ask for (`request_run`); a setting, a name, an --out or a --tensorboard refused, or
    data that cannot be read, ends the program with the reason."""
    from vae_core.data.source import named_source  # heavy imports only once the flags are valid

    name = args.name or f"{os.path.basename(args.dataset).split('.')[0]}-{args.preset}-{args.latent_dim}d"
    try:
        images = ImageSettings(args.image_size, 1 if args.color == "grayscale" else 3)
        data = functools.partial(named_source, args.dataset, images)
        saves = not args.process_id  # the other processes of a cluster save nothing
        return request_run(
            settings_from_args(args),
            name,
            data,
            out=args.out,
            conditional=args.conditional,
            saves=saves,
            tensorboard=args.tensorboard,
        )
    except BundleError as error:
        parser.error(f"--out: {error}")
    except DatasetError as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except ValueError as error:  # a setting out of range (`ConfigError`), a name without letters or digits
        parser.error(str(error))


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


def open_data(parser: argparse.ArgumentParser, request: RunRequest) -> tuple[Dataset, TrainConfig]:
    """The run's data, its warnings said, and the settings made for it; data that cannot be trained on
    ends the program with the reason."""
    try:
        dataset = request.open_data()
        for note in dataset.notes:
            print(f"{parser.prog}: warning: {note}", file=sys.stderr)
        return dataset, request.config_for(dataset)
    except (DatasetError, DatasetUnavailable, ConfigError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")


def run(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    config: TrainConfig,
    dataset: Dataset,
    request: RunRequest,
) -> tuple[TrainingResult, TestMetrics | None]:
    """Train, evaluate and save, alone or as one process of a cluster (whose others' metrics are None);
    a run that cannot finish ends the program with the reason, in a line."""
    from vae_core.training.pipeline import train_and_save, train_in_cluster  # imports Keras

    tty = sys.stdout.isatty()
    settings = {
        "listener": EvaluationPrinter(tty),
        "verbose": 1 if tty else 2,
        "iw_samples": args.iw_samples,
        "scored": args.scored_images,
    }
    try:
        if args.coordinator is None:
            return train_and_save(config, dataset, request.out_dir, tensorboard=request.tensorboard, **settings)
        return train_in_cluster(config, dataset, request.out_dir, args.process_id, **settings)
    except ConfigError as error:  # e.g. a validation split too small for the devices
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except OSError as error:  # a full disk, a folder removed mid-run: said in a line, not a traceback
        parser.exit(1, f"{parser.prog}: error: the run could not finish ({first_line(error)}); no bundle was saved.\n")


if __name__ == "__main__":
    sys.exit(main())
