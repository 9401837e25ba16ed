"""Latent-space geometry for exploring a model: grids, paths, projections, neighbours, tiling.

Plain numpy on latent vectors; decoding them is `LatentCodec`'s job. For latent sizes above 2 the
plane being explored is two chosen dimensions (or two principal axes), with every other dimension
held at a base point.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

GRID_MODES = ("linear", "quantile")
# An axis along which the test set spreads less than this is widened to the prior's +-3 around
# its points, so that sliders and grids still have room to move (a collapsed posterior, one image).
MIN_RANGE_WIDTH = 0.1
PRIOR_HALF_WIDTH = 3.0


@dataclass(frozen=True)
class Plane:
    """A 2-D plane through latent space: base + u * axes[0] + v * axes[1]."""

    base: np.ndarray
    axes: np.ndarray  # (2, latent_dim), orthonormal

    def lift(self, uv: np.ndarray) -> np.ndarray:
        """Latent points (n, latent_dim) for plane coordinates (n, 2)."""
        return self.base[None, :] + np.asarray(uv, dtype=np.float64) @ self.axes

    def project(self, z: np.ndarray) -> np.ndarray:
        """Plane coordinates (n, 2) of latent points (n, latent_dim), orthogonal projection."""
        return (np.asarray(z, dtype=np.float64) - self.base[None, :]) @ self.axes.T

    def place(self, z: np.ndarray, uv: np.ndarray) -> np.ndarray:
        """`z` (latent_dim,) moved within the plane to coordinates `uv`, every direction off it kept."""
        z = np.asarray(z, dtype=np.float64)
        return z + (np.asarray(uv, dtype=np.float64) - self.project(z[None, :])[0]) @ self.axes

    @property
    def fingerprint(self) -> str:
        """A short name for this plane: two pages' or runs' planes share it only when they are the same."""
        return hashlib.sha256(np.ascontiguousarray(np.stack([self.base, *self.axes])).tobytes()).hexdigest()[:16]

    @property
    def is_line(self) -> bool:
        """True for a one-dimensional latent space, where only the first plane axis moves z."""
        return not self.axes[1].any()

    def spread(self, z_log_var: np.ndarray) -> np.ndarray:
        """Standard deviation (2,) along each plane axis of a diagonal Gaussian with these log-variances."""
        return np.sqrt((self.axes**2) @ np.exp(np.asarray(z_log_var, dtype=np.float64)))


def dimension_plane(latent_dim: int, dims: tuple[int, int] = (0, 1), base: np.ndarray | None = None) -> Plane:
    """The plane spanned by two latent dimensions, through `base` (the origin by default)."""
    if dims[0] == dims[1] or not all(0 <= d < latent_dim for d in dims):
        raise ValueError(f"Expected two different dimensions in 0..{latent_dim - 1}. Received: dims={dims}")
    axes = np.zeros((2, latent_dim))
    axes[0, dims[0]] = axes[1, dims[1]] = 1.0
    base = np.zeros(latent_dim) if base is None else np.asarray(base, dtype=np.float64).copy()
    base[list(dims)] = 0.0  # the plane's own coordinates replace these two
    return Plane(base, axes)


def line_plane() -> Plane:
    """A one-dimensional latent space drawn as a plane: z0 across, and every point at v = 0."""
    return Plane(np.zeros(1), np.array([[1.0], [0.0]]))


def pca_plane(z: np.ndarray) -> Plane:
    """The plane of the two principal axes of `z`, through its mean: the view that keeps most spread."""
    z = np.asarray(z, dtype=np.float64)
    if z.shape[1] < 2:
        raise ValueError("PCA needs a latent size of at least 2.")
    return Plane(z.mean(axis=0), principal_directions(z, 2))


def principal_directions(z: np.ndarray, count: int) -> np.ndarray:
    """The `count` principal axes of `z` (count, latent_dim), most spread first; where the points have
    fewer directions of spread to rank (one point), the first dimensions stand in for the rest."""
    z = np.asarray(z, dtype=np.float64)
    _, _, components = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
    if len(components) < count:
        components = np.linalg.qr(np.concatenate([components, np.eye(z.shape[1])]).T)[0].T
    return components[:count]


def lda_plane(z: np.ndarray, labels: np.ndarray) -> Plane:
    """The plane of linear discriminant analysis through the mean of `z` (`discriminant_directions`),
    which decodes as any other."""
    z = np.asarray(z, dtype=np.float64)
    if z.shape[1] < 2:
        raise ValueError("LDA needs a latent size of at least 2 and test images of at least two classes.")
    return Plane(z.mean(axis=0), discriminant_directions(z, labels, 2))


def discriminant_directions(z: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """The `count` directions (count, latent_dim) along which the classes' means lie farthest apart for
    their spread within (Fisher's criterion, the generalised eigenproblem S_b v = lambda S_w v), made
    orthonormal, most separating first. With k classes there are k - 1 such directions; the widest
    spread left across them stands in for the rest."""
    z, labels = np.asarray(z, dtype=np.float64), np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2 or not 0 < count <= z.shape[1]:
        raise ValueError("LDA needs test images of at least two classes and no more directions than dimensions.")
    mean = z.mean(axis=0)
    within = sum(np.cov(z[labels == c].T, bias=True) * np.sum(labels == c) for c in classes if np.sum(labels == c) > 1)
    means = np.stack([z[labels == c].mean(axis=0) - mean for c in classes])
    between = (means.T * np.array([np.sum(labels == c) for c in classes])) @ means
    # Whitening by the within-class scatter turns the generalised problem into an ordinary one; the
    # ridge keeps a collapsed dimension (no spread at all) from dividing by zero.
    values, vectors = np.linalg.eigh(
        np.atleast_2d(within) + 1e-6 * np.trace(np.atleast_2d(within)) * np.eye(z.shape[1]) / z.shape[1]
    )
    whitening = vectors / np.sqrt(np.maximum(values, 1e-12))
    _, directions = np.linalg.eigh(whitening.T @ between @ whitening)
    ranked = (whitening @ directions[:, ::-1]).T[: min(count, len(classes) - 1)]  # most separating first
    axes, _ = np.linalg.qr(ranked.T)
    axes = axes.T * np.where(np.sum(axes.T * ranked, axis=1, keepdims=True) < 0, -1.0, 1.0)  # along its direction
    if len(axes) < count:  # the widest spread in the directions across these
        across = np.linalg.svd(axes, full_matrices=True)[2][len(axes) :]  # an orthonormal basis of them
        widest = principal_directions((z - mean) @ across.T, count - len(axes)) @ across
        axes = np.concatenate([axes, widest])
    return axes


def plane_ranges(coords: np.ndarray, coverage: float = 99.0) -> np.ndarray:
    """(2, 2) [[low, high], ...] per plane axis holding `coverage` percent of the points, at least
    `MIN_RANGE_WIDTH` wide."""
    tail = (100.0 - coverage) / 2.0
    ranges = np.percentile(np.asarray(coords, dtype=np.float64), [tail, 100.0 - tail], axis=0).T
    narrow = ranges[:, 1] - ranges[:, 0] < MIN_RANGE_WIDTH
    ranges[narrow] = ranges[narrow].mean(axis=1, keepdims=True) + np.array([-PRIOR_HALF_WIDTH, PRIOR_HALF_WIDTH])
    return ranges


def grid_coordinates(n: int, ranges: np.ndarray, mode: str = "linear") -> np.ndarray:
    """(n * n, 2) plane coordinates, row by row from the top (high v) down, as an image is laid out.

    `linear` spaces points evenly between each range's ends; `quantile` places them at evenly spaced
    quantiles of N(0, 1), the prior, as Kingma & Welling drew their manifolds (ranges ignored).
    """
    if mode not in GRID_MODES:
        raise ValueError(f"Expected mode in {GRID_MODES}. Received: mode={mode!r}")
    if not 2 <= n <= 60:
        raise ValueError(f"Expected a grid size between 2 and 60. Received: n={n}")
    if mode == "quantile":
        values = np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.5 / n, 1 - 0.5 / n, n)])
        u_values, v_values = values, values
    else:
        u_values = np.linspace(ranges[0][0], ranges[0][1], n)
        v_values = np.linspace(ranges[1][0], ranges[1][1], n)
    u, v = np.meshgrid(u_values, v_values[::-1])
    return np.stack([u.ravel(), v.ravel()], axis=1)


def interpolate(start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """(steps, latent_dim) points evenly spaced on the straight line from start to end, both included."""
    if steps < 2:
        raise ValueError(f"Expected at least 2 steps. Received: steps={steps}")
    weights = np.linspace(0.0, 1.0, steps)[:, None]
    return (1.0 - weights) * np.asarray(start, dtype=np.float64) + weights * np.asarray(end, dtype=np.float64)


def prior_samples(n: int, latent_dim: int, seed: int) -> np.ndarray:
    """n draws of z from the prior N(0, I)."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim))


def nearest_indices(query: np.ndarray, points: np.ndarray, k: int = 8) -> np.ndarray:
    """Indices of the k points nearest to one query vector, nearest first (Euclidean)."""
    distances = np.sum((np.asarray(points) - np.asarray(query)[None, :]) ** 2, axis=1)
    k = min(k, len(distances))
    nearest = np.argpartition(distances, k - 1)[:k]
    return nearest[np.argsort(distances[nearest])]


def tile(images: np.ndarray, columns: int, gap: int = 0) -> np.ndarray:
    """Lay images (n, h, w, c) out in rows of `columns` as one (H, W, c) picture, gaps black."""
    images = np.asarray(images)
    n, height, width, channels = images.shape
    rows = -(-n // columns)
    sheet = np.zeros((rows * (height + gap) - gap, columns * (width + gap) - gap, channels), images.dtype)
    for index in range(n):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        sheet[top : top + height, left : left + width] = images[index]
    return sheet
