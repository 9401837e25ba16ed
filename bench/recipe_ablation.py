"""What each part of the `mnist-conv-2d` recipe buys: `python -m bench.recipe_ablation VARIANT [...]`.

Each variant is the shipped recipe (`scripts.build_pretrained.RECIPES`) with one setting changed.
It trains on the 60,000 MNIST training images through the same pipeline the shipped bundles are
built with, measures the 10,000 test images with the same seed and k = 100, and prints one JSON
line per variant (append them to a file with `--out` to build the table in bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from scripts.build_pretrained import RECIPES
from vae_core.config import TrainConfig
from vae_core.datasets import load_dataset
from vae_core.evaluation import evaluate
from vae_core.inference import LatentCodec
from vae_core.pipeline import machine_description
from vae_core.training import train_vae

RECIPE = RECIPES["mnist-conv-2d"][1]


def _with_model(**changes: object) -> TrainConfig:
    return dataclasses.replace(RECIPE, model=dataclasses.replace(RECIPE.model, **changes))


# The variants, by what they change from the recipe.
VARIANTS = {
    "recipe": RECIPE,
    "tutorial-dense-16": _with_model(hidden_sizes=(16,)),
    "no-warmup": dataclasses.replace(RECIPE, kl_warmup_epochs=0),
    "constant-lr": dataclasses.replace(RECIPE, lr_schedule="constant"),
    "20-epochs": dataclasses.replace(RECIPE, epochs=20),
    "100-epochs": dataclasses.replace(RECIPE, epochs=100),
    "dense-512": _with_model(hidden_sizes=(512,)),
    "dense-256x2": _with_model(hidden_sizes=(256, 256)),
    "batch-64": dataclasses.replace(RECIPE, batch_size=64),
    "warmup-10": dataclasses.replace(RECIPE, kl_warmup_epochs=10),
    "weight-decay-0.1": dataclasses.replace(RECIPE, weight_decay=0.1),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recipe_ablation", description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--train-limit", type=int, default=None, help="first N training images (a smoke test)")
    parser.add_argument("--out", default=None, help="append each result as a JSON line to this file")
    args = parser.parse_args(argv)
    mnist = load_dataset("mnist")
    x_train = mnist.x_train[: args.train_limit]
    for name in args.variants:
        config = VARIANTS[name].with_data(mnist.image_shape)
        started = time.perf_counter()
        result = train_vae(config, x_train, verbose=2)
        seconds = time.perf_counter() - started
        metrics = evaluate(
            LatentCodec(result.model),
            mnist.x_test,
            mnist.y_test,
            x_train,
            mnist.y_train[: args.train_limit],
            iw_samples=args.iw_samples,
            seed=config.seed,
        )
        row = {
            "variant": name,
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
