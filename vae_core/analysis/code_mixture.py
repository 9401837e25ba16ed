"""A Gaussian mixture fitted to a model's latent codes: a density of where the data is in latent space, to
draw z from beside the prior N(0, I), which also puts mass in the holes between the codes.

Sampling from a density fitted after training to the codes is Ghosh et al.'s "ex-post density estimation"
(ICLR 2020, "From variational to deterministic autoencoders"). The number of components is the one of
`CANDIDATES` with the lowest BIC (Schwarz 1978). A bundle keeps the mixture of its training codes in
code_mixture.npz (`write_code_mixture`), written beside the saved bundle by the training pipeline, or for
an older bundle by `vae-bundles mixture`; a bundle without one is complete. Plain numpy and scikit-learn.
"""

from __future__ import annotations

import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from vae_core.analysis.latent_tools import plane_ranges
from vae_core.bundles.files import CODE_MIXTURE_FILE, MAX_CODE_MIXTURE_BYTES, BundleError, read_arrays
from vae_core.data.datasets import Dataset
from vae_core.data.image_folder import ImageFiles
from vae_core.model.codec import LatentCodec

CANDIDATES = (1, 2, 5, 10, 15, 20)
# The codes the BIC search fits: a 16-D model's twenty components are pinned down by far fewer, and
# each fit's time grows with them.
MOST_CODES = 20_000
CHUNK = 1024  # training images read and encoded at once
SPLITS = ("training", "test")
# A file past these is not one this app wrote, and is refused before it is unpacked.
MAX_COMPONENTS = MAX_CANDIDATES = 64
# Far past where any model's codes lie (a few units from the origin): a file's Gaussians beyond these
# would only decode to blanks or overflow.
MAX_MEAN, MAX_VARIANCE = 1e3, 1e6
MASSES = (0.5, 0.9, 0.99)  # the highest-density regions a map of the densities draws the edges of
DRAWS = 20_000  # each density's own draws that place those edges
PRIOR_REACH = 3.5  # a map reaches past the prior's 99% circle (radius 3.03) on every side
LOG_2PI = float(np.log(2 * np.pi))
ARRAYS = ("weights", "means", "covariances", "candidates", "bic", "codes", "split")


@dataclass(frozen=True)
class CodeMixture:
    """Weights (k,), means (k, d) and covariances (k, d, d) of a Gaussian mixture over latent codes; the
    component counts tried (c,) and each one's BIC (c,); how many codes of which split it was fitted to."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    candidates: np.ndarray
    bic: np.ndarray
    codes: int
    split: str

    @property
    def components(self) -> int:
        return len(self.weights)

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n draws of z (n, d), seeded: a component by its weight, then a draw from its Gaussian."""
        rng = np.random.default_rng(seed)
        chosen = rng.choice(self.components, size=n, p=self.weights / self.weights.sum())
        noise = rng.standard_normal((n, self.means.shape[1]))
        return self.means[chosen] + np.einsum("nij,nj->ni", np.linalg.cholesky(self.covariances)[chosen], noise)

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """log p(z) (n,) under the mixture: log sum_k w_k N(z; mu_k, Sigma_k), through each Cholesky factor."""
        z = np.asarray(z, np.float64)
        per_component = []
        for weight, mean, factor in zip(self.weights, self.means, np.linalg.cholesky(self.covariances), strict=True):
            whitened = solve_triangular(factor, (z - mean).T, lower=True)
            log_det = 2 * np.log(np.diag(factor)).sum()
            per_component.append(np.log(weight) - 0.5 * (np.sum(whitened**2, axis=0) + log_det + len(mean) * LOG_2PI))
        return logsumexp(np.stack(per_component), axis=0)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays code_mixture.npz holds, named as `ARRAYS` (the counts and the split as 0-d arrays)."""
        arrays = {name: np.asarray(getattr(self, name)) for name in ARRAYS}
        return {**arrays, "codes": arrays["codes"].astype(np.int64)}


def prior_log_density(z: np.ndarray) -> np.ndarray:
    """log N(z; 0, I) (n,): the prior's density, to set beside the mixture's."""
    z = np.asarray(z, np.float64)
    return -0.5 * (np.sum(z**2, axis=1) + z.shape[1] * LOG_2PI)


def fit_code_mixture(
    codes: np.ndarray, split: str, candidates: tuple[int, ...] = CANDIDATES, seed: int = 0, most: int = MOST_CODES
) -> CodeMixture:
    """A full-covariance mixture fitted to the codes (n, d) of `split`, with the number of components of
    `candidates` (those no more than the codes) that has the lowest BIC; at most `most` codes, drawn
    with `seed`. `ValueError` where no code is a finite vector."""
    if split not in SPLITS:
        raise ValueError(f"Expected split in {SPLITS}. Received: split={split!r}")
    codes = np.asarray(codes, np.float64)
    codes = codes[np.isfinite(codes).all(axis=1)]
    if not len(codes):
        raise ValueError("There are no latent codes of finite numbers to fit a mixture to.")
    if len(codes) > most:
        codes = codes[np.sort(np.random.default_rng(seed).choice(len(codes), most, replace=False))]
    tried, fitted = [k for k in candidates if k <= len(codes)] or [1], len(codes)
    # scikit-learn fits no fewer than two codes; one Gaussian's fit to one code taken twice is the same point
    # (its covariance the fit's regularisation).
    codes = np.repeat(codes, 2, axis=0) if fitted == 1 else codes
    # One BLAS thread: the matrices are d x d, and more threads cost more than they give, many times over
    # where other work shares the processors. A fit stopped short of convergence still has its BIC.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits = [GaussianMixture(k, covariance_type="full", random_state=seed).fit(codes) for k in tried]
    bic = np.array([fit.bic(codes) for fit in fits])
    best = fits[int(np.argmin(bic))]
    return CodeMixture(best.weights_, best.means_, best.covariances_, np.array(tried), bic, fitted, split)


def training_mixture(codec: LatentCodec, dataset: Dataset) -> CodeMixture:
    """The mixture of a model's training codes, as its bundle keeps it (ValueError where the codes
    make none: no training image read, or codes that are no numbers)."""
    return fit_code_mixture(training_codes(codec, dataset), "training")


def training_codes(codec: LatentCodec, dataset: Dataset, most: int = MOST_CODES, seed: int = 0) -> np.ndarray:
    """Latent means (n, d) of at most `most` training images drawn with `seed` (of an image folder, those
    that decode), each encoded with its label by a conditional model; read and encoded `CHUNK` at a time,
    so that large colour images never sit in memory twenty thousand at once."""
    rows = np.arange(len(dataset.x_train))
    if len(rows) > most:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), most, replace=False))
    codes = [np.empty((0, codec.latent_dim), np.float32)]
    for chunk in np.array_split(rows, max(1, -(-len(rows) // CHUNK))):
        labels = None if not codec.classes or dataset.y_train is None else dataset.y_train[chunk]
        if isinstance(dataset.x_train, ImageFiles):
            images, readable = dataset.x_train[chunk].read()
            images, labels = images[readable], None if labels is None else labels[readable]
        else:
            images = dataset.x_train[chunk]
        if len(images):
            codes.append(codec.encode(images, labels)[0])
    return np.concatenate(codes)


@dataclass(frozen=True)
class DensityMap:
    """The prior's and the mixture's log densities over a 2-D latent space, (steps, steps) with rows along
    z1, and for each the levels whose lines enclose `MASSES` of its mass where it is highest."""

    z0: np.ndarray
    z1: np.ndarray
    prior: np.ndarray
    mixture: np.ndarray
    prior_levels: np.ndarray
    mixture_levels: np.ndarray


def density_map(mixture: CodeMixture, codes: np.ndarray, steps: int = 120, seed: int = 0) -> DensityMap:
    """Both densities on a grid over where the codes (n, 2) and the prior's 99% both lie; the levels are
    quantiles of each density at 20,000 of its own draws (Hyndman 1996, highest-density regions)."""
    ranges = plane_ranges(codes, 99.5)
    low, high = np.minimum(ranges[:, 0], -PRIOR_REACH), np.maximum(ranges[:, 1], PRIOR_REACH)
    z0, z1 = (np.linspace(low[axis], high[axis], steps) for axis in (0, 1))
    points = np.stack(np.meshgrid(z0, z1), axis=-1).reshape(-1, 2)
    prior_draws = np.random.default_rng(seed).standard_normal((DRAWS, 2))
    quantiles = 1.0 - np.asarray(MASSES)
    return DensityMap(
        z0,
        z1,
        prior_log_density(points).reshape(steps, steps),
        mixture.log_density(points).reshape(steps, steps),
        np.quantile(prior_log_density(prior_draws), quantiles),
        np.quantile(mixture.log_density(mixture.sample(DRAWS, seed)), quantiles),
    )


def write_code_mixture(bundle: Path, mixture: CodeMixture) -> None:
    """Write the mixture into a saved bundle's folder as code_mixture.npz: beside it first, flushed to
    disk, then renamed over, so a reader finds the whole file or none."""
    path = Path(bundle) / CODE_MIXTURE_FILE
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        with open(temporary, "wb") as stream:
            np.savez_compressed(stream, **mixture.to_arrays())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_code_mixture(bundle: Path, latent_dim: int) -> CodeMixture | None:
    """The bundle's mixture, None where it has none; `BundleError` for a file that is not one this app
    writes for a model of `latent_dim`, refused from its headers before it is unpacked."""
    path = Path(bundle) / CODE_MIXTURE_FILE
    if not path.is_file():
        return None
    arrays = read_arrays(path, MAX_CODE_MIXTURE_BYTES)
    return _checked(arrays, latent_dim)


def _checked(arrays: dict[str, np.ndarray], latent_dim: int) -> CodeMixture:
    """The arrays as a mixture, once each is of the shape, type and values a fitted mixture has."""
    missing = [name for name in ARRAYS if name not in arrays]
    if missing:
        raise BundleError(f"{CODE_MIXTURE_FILE} lacks the arrays {', '.join(missing)}.")
    weights, means, covariances, candidates, bic, codes, split = (arrays[name] for name in ARRAYS)
    k, c = (len(array) if array.ndim == 1 else 0 for array in (weights, candidates))
    shapes = (
        (means, (k, latent_dim)),
        (covariances, (k, latent_dim, latent_dim)),
        (bic, (c,)),
        (codes, ()),
        (split, ()),
    )
    if not (1 <= k <= MAX_COMPONENTS and 1 <= c <= MAX_CANDIDATES) or any(a.shape != shape for a, shape in shapes):
        raise BundleError(
            f"{CODE_MIXTURE_FILE} should hold a mixture of 1 to {MAX_COMPONENTS} Gaussians over latent codes of"
            f" size {latent_dim}, and the BIC of each of 1 to {MAX_CANDIDATES} numbers of components tried."
        )
    if any(a.dtype.kind != "f" or not np.isfinite(a).all() for a in (weights, means, covariances, bic)):
        raise BundleError(f"{CODE_MIXTURE_FILE} holds weights, means or covariances that are not finite numbers.")
    if np.abs(means).max() > MAX_MEAN or covariances.max() > MAX_VARIANCE:
        raise BundleError(f"{CODE_MIXTURE_FILE} puts its Gaussians farther or wider than any model's codes lie.")
    if (weights <= 0).any() or abs(weights.sum() - 1.0) > 1e-3:
        raise BundleError(f"{CODE_MIXTURE_FILE} has weights that are not positive numbers adding up to 1.")
    covariances = covariances.astype(np.float64)
    if not np.allclose(covariances, covariances.transpose(0, 2, 1)) or not _positive_definite(covariances):
        raise BundleError(f"{CODE_MIXTURE_FILE} has a covariance that is not symmetric and positive definite.")
    if codes.dtype.kind not in "iu" or codes < 1 or split.dtype.kind != "U" or str(split) not in SPLITS:
        raise BundleError(f"{CODE_MIXTURE_FILE} should say how many codes (1 or more) of which split it was fitted to.")
    if candidates.dtype.kind not in "iu" or (candidates < 1).any():
        raise BundleError(f"{CODE_MIXTURE_FILE} should list the numbers of components it tried, each 1 or more.")
    weights = weights.astype(np.float64)
    return CodeMixture(
        weights / weights.sum(), means.astype(np.float64), covariances, candidates.astype(np.int64),
        bic.astype(np.float64), int(codes), str(split),
    )  # fmt: skip


def _positive_definite(covariances: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        return False
    return True
