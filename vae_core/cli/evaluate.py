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

from vae_core.bundles.archives import check_bundle
from vae_core.bundles.files import META_FILE, BundleError, write_meta
from vae_core.cli.train import format_metrics
from vae_core.config import ImageSettings
from vae_core.data.datasets import DatasetError, DatasetUnavailable
from vae_core.wording import count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_core.cli.evaluate", description="Evaluate a model bundle.")
    parser.add_argument("bundle", help="bundle directory (holding model.keras, meta.json, atlas.npz)")
    parser.add_argument(
        "--iw-samples", type=int, default=100, help="samples per image for the importance-weighted bound"
    )
    parser.add_argument(
        "--data", default=None, help="the .csv/.npz file or image folder the model was trained on (for your own data)"
    )
    parser.add_argument("--save", action="store_true", help="write the metrics into the bundle's meta.json")
    args = parser.parse_args(argv)
    if args.iw_samples < 1:
        parser.error(f"--iw-samples must be at least 1, got {args.iw_samples}")
    try:
        meta = check_bundle(args.bundle)
    except BundleError as error:
        parser.error(f"{args.bundle}: {error}")
    from vae_core.analysis.evaluation import evaluate
    from vae_core.bundles.bundle import load_model  # heavy imports only once the bundle looks right
    from vae_core.data.image_folder import knn_sample
    from vae_core.data.source import open_dataset
    from vae_core.model.codec import LatentCodec

    seed = meta.config.seed
    try:
        height, _, channels = meta.model.image_shape  # an image folder is read as the model was trained
        images = ImageSettings(height, channels)
        dataset = open_dataset(args.data or meta.dataset.name, seed=seed, images=images)
        model = load_model(args.bundle)
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
    knn_images, knn_labels = knn_sample(dataset, model.classes)
    metrics = evaluate(
        LatentCodec(model),
        dataset.x_test,
        dataset.y_test,
        knn_images,
        knn_labels,
        iw_samples=args.iw_samples,
        seed=seed,
    )
    print(f"{args.bundle} on {dataset.name} test split ({count(len(dataset.x_test), 'image')}):")
    if model.classes:
        print("Test metrics are conditional: bounds on -log p(x | label), in nats.")
    print(format_metrics(metrics.to_dict()))
    if args.save:
        # A later version's extra metrics were measured with the old figures: they go with them.
        unknown = {key: value for key, value in meta.unknown.items() if key != "test_metrics"}
        write_meta(args.bundle, dataclasses.replace(meta, test_metrics=metrics, unknown=unknown))
        print(f"Saved to {os.path.join(args.bundle, META_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
