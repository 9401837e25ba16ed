"""How well each plane and map keeps the classes apart, and how long a map takes to make:
`python -m bench.code_maps [--bundle PATH] [--repeats N]`.

Separation is the 5-NN accuracy of the test codes' 2-D (or 3-D) coordinates: the neighbours are
the first half of the test set, the scored images the second half; the reference is the same
measure on the codes themselves, in all their dimensions. LDA is fitted on the first half alone (it
sees labels); PCA, UMAP and t-SNE see no labels and lay out all the codes. A map's time is what a
person waits for on Explore: made by the app's own `MapJobs`, in a fresh process, into an empty
cache, from the request to the kept file; the median of `--repeats` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vae_app.services.map_jobs import MapJobs
from vae_core.analysis.code_maps import METHODS
from vae_core.analysis.evaluation import knn_accuracy
from vae_core.analysis.latent_tools import discriminant_directions, principal_directions
from vae_core.bundles.registry import PRETRAINED_DIR


def made_in_a_fresh_process(z: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    """The map's coordinates, and the seconds from asking for it to having it, as the app makes it."""
    with tempfile.TemporaryDirectory() as cache:
        jobs, started = MapJobs(), time.perf_counter()
        while (state := jobs.state(Path(cache), z, method)).coords is None:
            if state.error is not None:
                raise RuntimeError(state.error)
            time.sleep(0.1)
        return state.coords, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.code_maps", description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=PRETRAINED_DIR / "mnist-conv-16d")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    # Imported here, not above: each map's process imports this module again, and Keras with these
    # would cost that process seconds the app's own map processes do not spend.
    from vae_core.bundles.bundle import load_atlas
    from vae_core.provenance import machine_description

    atlas = load_atlas(args.bundle)
    z, labels = atlas.z_mean.astype(np.float64), atlas.labels
    half = len(z) // 2

    def separation(coords: np.ndarray) -> float:
        return knn_accuracy(coords[:half], labels[:half], coords[half:], labels[half:])

    reference = separation(z)
    centred = z - z[:half].mean(axis=0)
    rows = [("the codes themselves", z.shape[1], reference, "")]
    for count in (2, 3):
        rows.append(("PCA", count, separation(centred @ principal_directions(z, count).T), ""))
        rows.append(("LDA", count, separation(centred @ discriminant_directions(z[:half], labels[:half], count).T), ""))
    for method, name in METHODS.items():
        made = [made_in_a_fresh_process(z, method) for _ in range(args.repeats)]
        seconds = [run_seconds for _, run_seconds in made]
        timing = f"{statistics.median(seconds):.1f} s (runs {', '.join(f'{s:.1f}' for s in seconds)})"
        rows.append((name, 2, separation(made[0][0].astype(np.float64)), timing))
    print(f"{args.bundle.name}: {len(z):,} test codes, {z.shape[1]} dimensions; {machine_description()}")
    print("| coordinates | dimensions | 5-NN accuracy | against the codes themselves | made in (median) |")
    print("| --- | --- | --- | --- | --- |")
    for name, dimensions, accuracy, timing in rows:
        print(f"| {name} | {dimensions} | {accuracy:.1%} | {accuracy / reference:.2f} | {timing} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
