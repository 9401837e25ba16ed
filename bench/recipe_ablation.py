"""What each part of a shipped recipe buys: `python -m bench.recipe_ablation VARIANT [...] [--bundle NAME]`.

Each variant is a shipped recipe (`scripts.build_pretrained.RECIPES`; `mnist-conv-2d` unless
`--bundle` names another) with one setting changed;
`--on OTHER` applies the change to variant OTHER instead (how the rows measured on the previous
recipe are reproduced). It trains on the 60,000 MNIST training images through the same pipeline
the shipped bundles are built with, measures the 10,000 test images with the same seed and
k = 100, and prints one JSON line per variant (append them to a file with `--out` to build the
table in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable

from scripts.build_pretrained import RECIPES
from vae_core.analysis.evaluation import evaluate
from vae_core.config import TrainConfig
from vae_core.data.datasets import load_dataset
from vae_core.model.codec import LatentCodec
from vae_core.provenance import machine_description
from vae_core.training.train import train_vae

# A variant: what it does to a recipe, so that it can change the recipe or another variant.
Change = Callable[[TrainConfig], TrainConfig]


def _setting(**changes: object) -> Change:
    return lambda config: dataclasses.replace(config, **changes)


def _model_setting(**changes: object) -> Change:
    return lambda config: dataclasses.replace(config, model=dataclasses.replace(config.model, **changes))


# The variants, by what they change from the recipe (the flagship's: conv, three dense layers of 256
# on each side, KL warm-up over 3 epochs, cosine decay, 50 epochs).
VARIANTS: dict[str, Change] = {
    "recipe": _setting(),
    "two-dense-256": _model_setting(hidden_sizes=(256, 256)),  # the flagship's before its third layer
    "dense-256": _model_setting(hidden_sizes=(256,)),  # the recipe before the two-layer one
    "dense-512": _model_setting(hidden_sizes=(512,)),
    "three-dense-256": _model_setting(hidden_sizes=(256, 256, 256)),
    "deep-conv": _model_setting(preset="deep-conv"),  # two convolutions a block, pooling between
    "tutorial-dense-16": _model_setting(hidden_sizes=(16,)),
    "no-warmup": _setting(kl_warmup_epochs=0),
    "warmup-10": _setting(kl_warmup_epochs=10),
    "constant-lr": _setting(lr_schedule="constant"),
    "20-epochs": _setting(epochs=20),
    "100-epochs": _setting(epochs=100),
    "batch-64": _setting(batch_size=64),
    "weight-decay-0.1": _setting(weight_decay=0.1),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recipe_ablation", description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    parser.add_argument("--on", choices=sorted(VARIANTS), default="recipe", help="change this variant, not the recipe")
    parser.add_argument("--bundle", choices=sorted(RECIPES), default="mnist-conv-2d", help="this bundle's recipe")
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--train-limit", type=int, default=None, help="first N training images (a smoke test)")
    parser.add_argument("--out", default=None, help="append each result as a JSON line to this file")
    args = parser.parse_args(argv)
    dataset_name, recipe = RECIPES[args.bundle]
    dataset = load_dataset(dataset_name)
    x_train = dataset.x_train[: args.train_limit]
    for name in args.variants:
        config = VARIANTS[name](VARIANTS[args.on](recipe)).with_data(dataset.image_shape)
        started = time.perf_counter()
        result = train_vae(config, x_train, verbose=2)
        seconds = time.perf_counter() - started
        metrics = evaluate(
            LatentCodec(result.model),
            dataset.x_test,
            dataset.y_test,
            x_train,
            dataset.y_train[: args.train_limit],
            iw_samples=args.iw_samples,
            seed=config.seed,
        )
        row = {
            "variant": name,
            "on": args.on,
            "bundle": args.bundle,
            "config": config.to_dict(),
            "train_images": len(x_train),
            "seconds": round(seconds),
            "machine": machine_description(),
            **metrics.to_dict(),
        }
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
