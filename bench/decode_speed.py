"""Live decoding speed: what a slider drag and a manifold grid cost. `python -m bench.decode_speed`.

Compares the app's decode path (`LatentCodec.decode`, one compiled call per batch, in the precision
`auto` picks for pictures) and the same path in float32 with the way the tutorials decode,
`decoder.predict` per point, on a shipped model, in one process. Prints the median over repeats of
each and the ratio of the app's path to the tutorial way.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from vae_core.analysis.latent_tools import grid_coordinates
from vae_core.bundles.bundle import load_model
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.model.codec import LatentCodec
from vae_core.model.precision import resolve_precision
from vae_core.provenance import machine_description


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up: compilation and caches are not what a slider drag pays
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decode_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PRETRAINED_DIR / "mnist-conv-2d"))
    parser.add_argument("--repeats", type=int, default=200, help="repeats of the single-point timings")
    parser.add_argument("--grid-repeats", type=int, default=5, help="repeats of the 30x30 timings")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    if model.classes or model.latent_dim != 2:
        parser.error(f"{args.model}: the timings decode 2-D points with a plain model's decoder")
    codec = LatentCodec(model, decode_precision="auto")
    float32_codec = LatentCodec(model)
    decoder = model.decoder
    point = np.array([[0.3, -0.7]], np.float32)
    grid = grid_coordinates(30, np.array([[-3.0, 3.0], [-3.0, 3.0]])).astype(np.float32)

    rows = [
        (
            "one point",
            median_seconds(lambda: codec.decode(point), args.repeats),
            median_seconds(lambda: float32_codec.decode(point), args.repeats),
            median_seconds(lambda: decoder.predict(point, verbose=0), max(20, args.repeats // 10)),
        ),
        (
            "30x30 manifold",
            median_seconds(lambda: codec.decode(grid), args.grid_repeats),
            median_seconds(lambda: float32_codec.decode(grid), args.grid_repeats),
            median_seconds(lambda: [decoder.predict(z[None], verbose=0) for z in grid], max(1, args.grid_repeats // 2)),
        ),
    ]
    print(f"machine: {machine_description()}; model: {args.model}; app decodes in {resolve_precision('auto')}")
    print(f"{'':<16}{'app (ms)':>10}{'float32 (ms)':>14}{'predict (ms)':>14}{'speed-up':>10}")
    for name, ours, float32, reference in rows:
        print(f"{name:<16}{ours * 1e3:>10.2f}{float32 * 1e3:>14.2f}{reference * 1e3:>14.1f}{reference / ours:>9.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
