"""Each latent dimension on its own, as the beta-VAE papers show it: which dimensions carry most
(their KL from the prior, `comparison.kl_per_dimension`) and what moving along one alone does to the
picture, every other dimension held at a chosen code: the traversal grid, a row per dimension."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Columns of the grid: the prior's values from -3 to +3 standard deviations, where nearly all of its
# mass lies.
TRAVERSAL_REACH, TRAVERSAL_STEPS = 3.0, 9


def dimensions_by_kl(kl: np.ndarray) -> np.ndarray:
    """The latent dimensions, the one carrying most (highest KL) first; ties in dimension order."""
    return np.argsort(-np.asarray(kl, dtype=np.float64), kind="stable")


def traversal_values(steps: int = TRAVERSAL_STEPS, reach: float = TRAVERSAL_REACH) -> np.ndarray:
    """Evenly spaced values of one dimension from -reach to +reach."""
    return np.linspace(-reach, reach, steps)


def traversal_codes(centre: np.ndarray, dimensions: Sequence[int], values: np.ndarray) -> np.ndarray:
    """(len(dimensions) * len(values), latent size): row by row, `centre` with only that row's
    dimension set to each value in turn."""
    centre = np.asarray(centre, dtype=np.float64)
    codes = np.repeat(centre[np.newaxis], len(dimensions) * len(values), axis=0)
    for row, dimension in enumerate(dimensions):
        codes[row * len(values) : (row + 1) * len(values), dimension] = values
    return codes
