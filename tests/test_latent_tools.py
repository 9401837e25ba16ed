"""Latent geometry used by the Explore and Generate pages."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from vae_core.analysis.latent_tools import (
    dimension_plane,
    discriminant_directions,
    grid_coordinates,
    interpolate,
    lda_plane,
    nearest_indices,
    pca_plane,
    plane_ranges,
    principal_directions,
    prior_samples,
    tile,
)


def test_dimension_plane_lifts_and_projects_back():
    plane = dimension_plane(5, (3, 1), base=np.arange(5.0))
    z = plane.lift(np.array([[2.0, -1.0]]))
    np.testing.assert_array_equal(z, [[0.0, -1.0, 2.0, 2.0, 4.0]])
    np.testing.assert_array_equal(plane.project(z), [[2.0, -1.0]])


def test_placing_z_on_the_plane_keeps_every_direction_off_it():
    plane = pca_plane(np.random.default_rng(0).normal(size=(200, 5)) * [3, 2, 1, 1, 1])
    z = np.array([0.5, -1.0, 2.0, 0.3, -0.7])

    placed = plane.place(z, np.array([1.5, -0.25]))

    np.testing.assert_allclose(plane.project(placed[None, :])[0], [1.5, -0.25], atol=1e-12)
    off_plane = np.eye(5) - plane.axes.T @ plane.axes  # projection onto the plane's complement
    np.testing.assert_allclose(off_plane @ placed, off_plane @ z, atol=1e-12)


def test_a_planes_fingerprint_changes_with_its_axes_and_held_point():
    first = dimension_plane(16, (0, 1))
    assert first.fingerprint == dimension_plane(16, (0, 1)).fingerprint
    assert first.fingerprint != dimension_plane(16, (0, 9)).fingerprint
    assert first.fingerprint != dimension_plane(16, (0, 1), base=np.ones(16)).fingerprint


def test_spread_along_plane_axes_of_a_diagonal_gaussian():
    plane = dimension_plane(3, (2, 0))
    np.testing.assert_allclose(plane.spread(np.log([4.0, 9.0, 16.0])), [4.0, 2.0])
    diagonal = pca_plane(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.1]]))
    np.testing.assert_allclose(diagonal.spread(np.log([1.0, 1.0])), [1.0, 1.0], atol=1e-9)


@pytest.mark.parametrize("dims", [(0, 0), (0, 5), (-1, 1)])
def test_dimension_plane_rejects_bad_dimensions(dims):
    with pytest.raises(ValueError, match="two different dimensions"):
        dimension_plane(5, dims)


def test_pca_plane_finds_the_direction_of_most_spread():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2000, 4)) * np.array([0.1, 5.0, 0.1, 2.0]) + 3.0
    plane = pca_plane(z)
    np.testing.assert_allclose(np.abs(plane.axes[0]), [0, 1, 0, 0], atol=0.02)
    np.testing.assert_allclose(np.abs(plane.axes[1]), [0, 0, 0, 1], atol=0.02)
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-9)
    np.testing.assert_allclose(plane.project(z).mean(axis=0), [0, 0], atol=1e-9)


def test_pca_plane_of_one_point_is_still_a_plane_through_it():
    z = np.array([[0.5, -1.0, 2.0, 0.0]])
    plane = pca_plane(z)
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-9)
    np.testing.assert_allclose(plane.project(z), [[0.0, 0.0]], atol=1e-9)


def test_plane_ranges_cover_the_requested_share():
    coords = np.random.default_rng(1).standard_normal((10000, 2)) * [1.0, 3.0]
    ranges = plane_ranges(coords, coverage=95.0)
    np.testing.assert_allclose(ranges, [[-1.96, 1.96], [-5.88, 5.88]], rtol=0.06)


def test_linear_grid_is_laid_out_like_an_image():
    grid = grid_coordinates(3, np.array([[-1.0, 1.0], [0.0, 4.0]]))
    assert grid.shape == (9, 2)
    np.testing.assert_array_equal(grid[:3], [[-1, 4], [0, 4], [1, 4]])  # top row: highest v
    np.testing.assert_array_equal(grid[-1], [1, 0])


def test_quantile_grid_uses_gaussian_quantiles():
    grid = grid_coordinates(4, np.zeros((2, 2)), mode="quantile")
    expected = [NormalDist().inv_cdf(p) for p in (0.125, 0.375, 0.625, 0.875)]
    np.testing.assert_allclose(grid[:4, 0], expected)
    np.testing.assert_allclose(grid[::4, 1], expected[::-1])


@pytest.mark.parametrize(("n", "mode"), [(1, "linear"), (61, "linear"), (5, "spiral")])
def test_grid_rejects_bad_arguments(n, mode):
    with pytest.raises(ValueError):
        grid_coordinates(n, np.zeros((2, 2)), mode=mode)


def test_interpolation_includes_both_ends_evenly():
    path = interpolate(np.array([0.0, 0.0]), np.array([4.0, -2.0]), 5)
    np.testing.assert_allclose(path, [[0, 0], [1, -0.5], [2, -1], [3, -1.5], [4, -2]])
    with pytest.raises(ValueError):
        interpolate(np.zeros(2), np.ones(2), 1)


def test_prior_samples_are_seeded_standard_normal():
    samples = prior_samples(20000, 3, seed=7)
    np.testing.assert_array_equal(samples, prior_samples(20000, 3, seed=7))
    np.testing.assert_allclose(samples.mean(axis=0), 0, atol=0.03)
    np.testing.assert_allclose(samples.std(axis=0), 1, atol=0.03)


def test_nearest_indices_are_sorted_by_distance():
    points = np.array([[0.0, 0.0], [5.0, 5.0], [1.0, 0.0], [0.2, 0.1]])
    np.testing.assert_array_equal(nearest_indices(np.array([0.0, 0.0]), points, k=3), [0, 3, 2])
    assert len(nearest_indices(np.zeros(2), points, k=10)) == 4


def test_tile_lays_out_rows_with_gaps():
    images = np.stack([np.full((2, 3, 1), i + 1, np.uint8) for i in range(5)])
    sheet = tile(images, columns=3, gap=1)
    assert sheet.shape == (5, 11, 1)
    assert sheet[0, 0, 0] == 1 and sheet[0, 4, 0] == 2 and sheet[3, 0, 0] == 4
    assert sheet[2, :, 0].max() == 0 and sheet[3, 8:, 0].max() == 0  # gap row; empty last cell


def clusters_hidden_from_pca(per_class: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four classes in 8-D apart along dimensions 5 and 6 only, under wide noise in 0 and 1: the
    principal axes see the noise, the discriminant ones the classes."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), per_class)
    z = rng.normal(0.0, 0.3, (len(labels), 8))
    z[:, :2] *= 20.0
    z[:, 5] += np.array([0, 3, 0, 3])[labels]
    z[:, 6] += np.array([0, 0, 3, 3])[labels]
    return z, labels


def test_the_lda_plane_is_orthonormal_and_separates_what_pca_mixes():
    from vae_core.analysis.evaluation import knn_accuracy

    z, labels = clusters_hidden_from_pca()
    train, test = np.arange(len(z)) % 2 == 0, np.arange(len(z)) % 2 == 1
    lda = lda_plane(z[train], labels[train])
    np.testing.assert_allclose(lda.axes @ lda.axes.T, np.eye(2), atol=1e-9)
    np.testing.assert_allclose(lda.base, z[train].mean(axis=0))
    assert np.abs(lda.axes[:, [5, 6]]).sum() > 1.9  # the plane lies along the classes' dimensions
    scores = {
        name: knn_accuracy(plane.project(z[train]), labels[train], plane.project(z[test]), labels[test])
        for name, plane in (("lda", lda), ("pca", pca_plane(z[train])))
    }
    assert scores["lda"] > 0.95 and scores["pca"] < 0.5, scores


def test_two_classes_give_their_direction_then_the_widest_spread_across_it():
    z, labels = clusters_hidden_from_pca()
    two = labels < 2  # apart along dimension 5 alone
    plane = lda_plane(z[two], labels[two])
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-9)
    assert abs(plane.axes[0, 5]) > 0.95 and np.linalg.norm(plane.axes[1, :2]) > 0.95
    with pytest.raises(ValueError, match="at least two classes"):
        lda_plane(z[labels == 0], labels[labels == 0])


def test_each_traversal_row_moves_its_own_dimension_and_nothing_else():
    from vae_core.analysis.traversals import dimensions_by_kl, traversal_codes, traversal_values

    centre = np.array([0.5, -1.0, 2.0, 0.0])
    order = dimensions_by_kl(np.array([0.2, 3.0, 0.0, 1.5]))
    assert order.tolist() == [1, 3, 0, 2]
    values = traversal_values()
    codes = traversal_codes(centre, order, values).reshape(len(order), len(values), 4)
    for row, dimension in enumerate(order):
        np.testing.assert_array_equal(codes[row][:, dimension], values)  # -3 ... +3 along its dimension
        others = np.delete(codes[row], dimension, axis=1)
        np.testing.assert_array_equal(others, np.tile(np.delete(centre, dimension), (len(values), 1)))
    assert values[0] == -3 and values[-1] == 3 and len(values) == 9


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_three_discriminant_directions_are_orthonormal_and_begin_with_the_planes(classes):
    rng = np.random.default_rng(classes)
    labels = np.repeat(np.arange(classes), 40)
    z = rng.normal(size=(len(labels), 6)) + np.eye(6)[labels % 6] * 5.0

    axes = discriminant_directions(z, labels, 3)

    np.testing.assert_allclose(axes @ axes.T, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(axes[:2], lda_plane(z, labels).axes, atol=1e-9)


def test_directions_of_collapsed_codes_are_still_orthonormal():
    z, labels = np.zeros((20, 5)), np.repeat([0, 1], 10)
    z[labels == 1, 0] = 1.0  # the classes differ along z0 alone, nothing else spreads

    for axes in (discriminant_directions(z, labels, 3), principal_directions(z[:1], 3)):
        np.testing.assert_allclose(axes @ axes.T, np.eye(3), atol=1e-9)


def test_the_discriminant_plane_spans_what_scikit_learns_lda_finds():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(4), 100)
    z = rng.normal(size=(len(labels), 6)) @ rng.normal(size=(6, 6)) + rng.normal(0, 3, size=(4, 6))[labels]

    ours = discriminant_directions(z, labels, 2)
    scalings = LinearDiscriminantAnalysis(solver="eigen").fit(z, labels).scalings_[:, :2]
    theirs = np.linalg.qr(scalings)[0].T

    np.testing.assert_allclose(ours.T @ ours, theirs.T @ theirs, atol=1e-4)  # the same plane
