"""Command line: measure a saved bundle on its dataset's test split.

    python -m vae_core.cli.evaluate DIR [--iw-samples 100] [--data FILE] [--save]

Prints negative ELBO, the importance-weighted bound and k-NN accuracy; `--save` writes them into
the bundle's meta.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import TYPE_CHECKING

from vae_core.bundles.archives import check_bundle
from vae_core.bundles.files import META_FILE, BundleError, write_meta
from vae_core.bundles.meta import BundleMeta, TestMetrics
from vae_core.cli.terminal import format_metrics
from vae_core.config import ImageSettings
from vae_core.data.datasets import DatasetError, DatasetUnavailable
from vae_core.wording import count

if TYPE_CHECKING:
    from vae_core.data.datasets import Dataset
    from vae_core.model.codec import LatentCodec


def build_parser() -> argparse.ArgumentParser:
    """The bundle to measure, the bound's samples, the data for a model of your own, and whether to save."""
    parser = argparse.ArgumentParser(prog="python -m vae_core.cli.evaluate", description="Evaluate a model bundle.")
    parser.add_argument("bundle", help="bundle directory (holding model.keras, meta.json, atlas.npz)")
    parser.add_argument(
        "--iw-samples", type=int, default=100, help="samples per image for the importance-weighted bound"
    )
    parser.add_argument(
        "--data", default=None, help="the .csv/.npz file or image folder the model was trained on (for your own data)"
    )
    parser.add_argument("--save", action="store_true", help="write the metrics into the bundle's meta.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Measure the bundle the arguments name and print its figures (saved with --save): exit 0, 2 for an
    argument refused, 1 for data or a model that cannot be used."""
    parser = build_parser()
    args = parser.parse_args(argv)
    meta = checked_bundle(parser, args)
    codec, dataset = open_model_and_data(parser, args, meta)
    metrics = measure(codec, dataset, args.iw_samples, meta.config.seed)
    print(f"{args.bundle} on {dataset.name} test split ({count(len(dataset.x_test), 'image')}):")
    if codec.classes:
        print("Test metrics are conditional: bounds on -log p(x | label), in nats.")
    print(format_metrics(metrics.to_dict()))
    if args.save:
        # A later version's extra metrics were measured with the old figures: they go with them.
        unknown = {key: value for key, value in meta.unknown.items() if key != "test_metrics"}
        write_meta(args.bundle, dataclasses.replace(meta, test_metrics=metrics, unknown=unknown))
        print(f"Saved to {os.path.join(args.bundle, META_FILE)}")
    return 0


def checked_bundle(parser: argparse.ArgumentParser, args: argparse.Namespace) -> BundleMeta:
    """The bundle's meta, once its files pass the checks made before Keras loads anything; an argument
    refused ends the program with the reason."""
    if args.iw_samples < 1:
        parser.error(f"--iw-samples must be at least 1, got {args.iw_samples}")
    try:
        return check_bundle(args.bundle)
    except BundleError as error:
        parser.error(f"{args.bundle}: {error}")


def open_model_and_data(
    parser: argparse.ArgumentParser, args: argparse.Namespace, meta: BundleMeta
) -> tuple[LatentCodec, Dataset]:
    """The model and the data it was trained on (an image folder read as the model was trained); either
    unusable, or a conditional model's labels missing from the data, ends the program with the reason."""
    from vae_core.bundles.bundle import load_bundle  # heavy imports only once the bundle looks right
    from vae_core.data.source import open_dataset
    from vae_core.model.onnx_codec import codec_for

    try:
        height, _, channels = meta.model.image_shape
        images = ImageSettings(height, channels)
        dataset = open_dataset(args.data or meta.dataset.name, seed=meta.config.seed, images=images)
        model = load_bundle(args.bundle).model
    except (DatasetError, DatasetUnavailable) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    except BundleError as error:
        parser.exit(1, f"{parser.prog}: error: {args.bundle}: {error}\n")
    if model.classes and (dataset.y_test is None or dataset.y_test.max() >= model.classes):
        message = (
            f"{args.bundle} is a conditional VAE of classes 0 to {model.classes - 1}, measured given each image's"
            f" label, and {dataset.name} has " + ("no labels" if dataset.y_test is None else "labels beyond them")
        )
        parser.exit(1, f"{parser.prog}: error: {message}\n")
    return codec_for(model), dataset


def measure(codec: LatentCodec, dataset: Dataset, iw_samples: int, seed: int) -> TestMetrics:
    """The model's test figures on the dataset's test split, with the seed it was trained with."""
    from vae_core.analysis.evaluation import evaluate
    from vae_core.data.image_folder import knn_sample

    knn_images, knn_labels = knn_sample(dataset, codec.classes)
    return evaluate(codec, dataset.x_test, dataset.y_test, knn_images, knn_labels, iw_samples=iw_samples, seed=seed)


if __name__ == "__main__":
    sys.exit(main())
