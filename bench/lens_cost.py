"""What opening the posterior lens costs. `python -m bench.lens_cost`.

Times `posterior_lens` for a test image of a shipped model on the grid the app draws and on the
64 x 64 grid it drew before (the reference, in the same process), with its 1,000 importance samples
in both, and its two halves apart: the grid (`posterior_grid`, which the page draws as soon as it is
decoded) and the numbers (`posterior_evidence`, which follow it); prints the medians and the ratios.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.decode_speed import median_seconds
from vae_core.analysis.posterior_lens import GRID_SIDE, posterior_evidence, posterior_grid, posterior_lens
from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.model.codec import LatentCodec
from vae_core.provenance import machine_description

REFERENCE_SIDE = 64


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lens_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PRETRAINED_DIR / "mnist-conv-2d"))
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    bundle = load_bundle(args.model)
    codec = LatentCodec(bundle.model, decode_precision="auto")  # as the app's pages hold it
    axes = np.eye(bundle.model.latent_dim)[:2]
    image = bundle.atlas.images[0]
    seconds = {
        side: median_seconds(lambda side=side: posterior_lens(codec, image, axes, grid_side=side), args.repeats)
        for side in (GRID_SIDE, REFERENCE_SIDE)
    }
    grid = median_seconds(lambda: posterior_grid(codec, image, axes), args.repeats)
    numbers = median_seconds(lambda: posterior_evidence(codec, image), args.repeats)
    print(f"python -m bench.lens_cost --model {args.model} --repeats {args.repeats}  ({machine_description()})")
    for side, median in seconds.items():
        print(f"  {side} x {side} grid + 1,000 importance samples: median {median * 1000:.0f} ms")
    print(f"  ratio {GRID_SIDE}/{REFERENCE_SIDE}: {seconds[GRID_SIDE] / seconds[REFERENCE_SIDE]:.2f}")
    reference = seconds[REFERENCE_SIDE]
    print(f"  {GRID_SIDE} x {GRID_SIDE} grid alone (drawn first): median {grid * 1000:.0f} ms, {grid / reference:.2f}")
    print(f"  1,000 importance samples alone (the numbers): median {numbers * 1000:.0f} ms, {numbers / reference:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
