"""Maps of latent codes that untangle what no flat plane can: UMAP and t-SNE lay the codes out so
that codes near each other in z stay near on the map, bending the space to do it. A point of such a
map between two codes is no latent point, so these maps show codes and cannot be decoded.

Both report their progress through `report`, for a page that waits on them: UMAP through its
progress bar's output (`tqdm_kwds`), openTSNE through its optimiser's callbacks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

METHODS = {"umap": "UMAP", "tsne": "t-SNE"}  # method -> the name a person knows it by
# Fewer codes than this make no map worth the name (and leave UMAP's and t-SNE's neighbourhoods empty).
MIN_CODES = 10
UMAP_NEIGHBOURS, TSNE_PERPLEXITY = 15, 30.0  # the libraries' defaults, shrunk for small test sets
# openTSNE's schedule: early exaggeration, then the optimisation proper; a report every so many steps.
TSNE_EARLY_STEPS, TSNE_STEPS, TSNE_REPORT_EVERY = 250, 500, 25
NEIGHBOURS_STAGE = "finding each code's nearest neighbours"
LAYOUT_STAGE = "laying the map out"


class MapError(ValueError):
    """These codes make no map: said to the person as it is."""


@dataclass(frozen=True)
class MapProgress:
    """How far a map has got: its `stage`, and `done` of `total` steps of the layout (0 of 0 before it)."""

    stage: str
    done: int = 0
    total: int = 0


Report = Callable[[MapProgress], None]


def code_map(
    z: np.ndarray, method: str, dimensions: int = 2, seed: int = 0, report: Report = lambda _: None
) -> np.ndarray:
    """The codes `z` (n, latent_dim) laid out by `method` ("umap" or "tsne") in `dimensions` (2 or 3)
    coordinates each, (n, dimensions) float32; the same for the same codes and seed."""
    if method not in METHODS:
        raise ValueError(f"Expected a map method among {sorted(METHODS)}. Received: method={method!r}")
    if dimensions not in (2, 3):
        raise ValueError(f"Expected 2 or 3 map dimensions. Received: dimensions={dimensions}")
    z = np.asarray(z, dtype=np.float32)
    if len(z) < MIN_CODES:
        raise MapError(f"A {METHODS[method]} map needs at least {MIN_CODES} test images; this model has {len(z)}.")
    if not np.isfinite(z).all():
        raise MapError("Some of the codes are not numbers (the model diverged): they make no map.")
    report(MapProgress(NEIGHBOURS_STAGE))
    layout = _umap if method == "umap" else _tsne
    return np.asarray(layout(z, dimensions, seed, report), dtype=np.float32)


def _umap(z: np.ndarray, dimensions: int, seed: int, report: Report) -> np.ndarray:
    import umap  # imported here: numba's start-up is paid only by a process that draws a map

    # UMAP's progress bar is tqdm's; a bar format of bare counts, written to `_CountsStream`, reports them.
    bar = {"disable": False, "file": _CountsStream(report), "bar_format": "{n}/{total}\n", "mininterval": 0.5}
    neighbours = min(UMAP_NEIGHBOURS, len(z) - 1)
    mapper = umap.UMAP(  # one thread: a seeded UMAP is reproducible only so
        n_components=dimensions, n_neighbors=neighbours, random_state=seed, n_jobs=1, tqdm_kwds=bar
    )
    return mapper.fit_transform(z)


def _tsne(z: np.ndarray, dimensions: int, seed: int, report: Report) -> np.ndarray:
    import openTSNE

    total, steps = TSNE_EARLY_STEPS + TSNE_STEPS, [0]

    def step(*_: object) -> bool:  # the optimiser's callback; False carries on
        steps[0] += TSNE_REPORT_EVERY
        report(MapProgress(LAYOUT_STAGE, min(steps[0], total), total))
        return False

    perplexity = min(TSNE_PERPLEXITY, (len(z) - 1) / 3)  # t-SNE needs 3 x perplexity neighbours
    tsne = openTSNE.TSNE(
        n_components=dimensions,
        perplexity=perplexity,
        early_exaggeration_iter=TSNE_EARLY_STEPS,
        n_iter=TSNE_STEPS,
        n_jobs=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        random_state=seed,
        callbacks=step,
        callbacks_every_iters=TSNE_REPORT_EVERY,
        # Barnes-Hut below openTSNE's FFT method, which lays out only 1-D and 2-D maps fast.
        negative_gradient_method="fft" if dimensions < 3 else "bh",
    )
    return np.asarray(tsne.fit(z))


class _CountsStream:
    """A file for tqdm whose every write is "done/total": each becomes a layout report."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def write(self, text: str) -> None:
        counts = re.search(r"(\d+)/(\d+)", text)
        if counts:
            self.report(MapProgress(LAYOUT_STAGE, int(counts[1]), int(counts[2])))

    def flush(self) -> None:
        """Nothing is buffered."""
