"""The codes' mixture: the number of components BIC picks, samples that lie where the codes are, the
densities a 2-D map draws, its file written whole and read back (or refused with a sentence), a training
run that saves one, and `vae-bundles mixture`, which adds one to a bundle saved without."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from support import offline_mnist
from synthetic import synthetic_dataset

from vae_core.analysis.code_mixture import (
    MASSES,
    CodeMixture,
    density_map,
    fit_code_mixture,
    prior_log_density,
    read_code_mixture,
    write_code_mixture,
)
from vae_core.bundles.files import CODE_MIXTURE_FILE, BundleError
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.cli.bundles import main
from vae_core.config import ModelConfig, TrainConfig
from vae_core.training.pipeline import train_and_save

# Five tight clusters, none at the origin: the prior's mass falls mostly between them.
CENTRES = np.array([[4.0, 4.0], [-4.0, 4.0], [4.0, -4.0], [-4.0, -4.0], [0.0, 5.0]])


def clustered_codes(per_cluster: int = 400, spread: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([centre + spread * rng.standard_normal((per_cluster, 2)) for centre in CENTRES])


@pytest.fixture(scope="module")
def clusters() -> tuple[np.ndarray, CodeMixture]:
    codes = clustered_codes()
    return codes, fit_code_mixture(codes, "training")


def nearest_code_distances(points: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return np.sqrt(((points[:, None, :] - codes[None, :, :]) ** 2).sum(axis=2)).min(axis=1)


def test_bic_picks_as_many_components_as_there_are_clusters(clusters):
    codes, mixture = clusters
    assert mixture.components == 5 and list(mixture.candidates) == [1, 2, 5, 10, 15, 20]
    assert int(mixture.candidates[np.argmin(mixture.bic)]) == 5
    np.testing.assert_allclose(np.sort(mixture.weights), 0.2, atol=0.01)
    found = mixture.means[np.argsort(nearest_code_distances(mixture.means, CENTRES))]
    assert nearest_code_distances(found, CENTRES).max() < 0.1
    assert mixture.codes == len(codes) and mixture.split == "training"


def test_mixture_samples_lie_where_the_codes_are_and_prior_samples_do_not(clusters):
    codes, mixture = clusters
    from_mixture = nearest_code_distances(mixture.sample(500, seed=1), codes)
    from_prior = nearest_code_distances(np.random.default_rng(1).standard_normal((500, 2)), codes)
    assert np.median(from_mixture) < 0.1 and np.median(from_prior) > 1.0
    assert np.median(from_prior) > 20 * np.median(from_mixture)
    np.testing.assert_array_equal(mixture.sample(8, seed=3), mixture.sample(8, seed=3))  # seeded
    assert not np.array_equal(mixture.sample(8, seed=3), mixture.sample(8, seed=4))


def test_the_mixtures_density_is_high_on_the_codes_and_the_priors_is_the_standard_normal(clusters):
    codes, mixture = clusters
    gap = np.array([[0.0, 0.0], [0.0, -4.0]])  # between clusters, where the prior is densest
    assert mixture.log_density(codes).min() > mixture.log_density(gap).max() + 10
    np.testing.assert_allclose(prior_log_density(np.zeros((1, 2))), [-np.log(2 * np.pi)])
    # Against scikit-learn's own density of the same mixture.
    from sklearn.mixture import GaussianMixture

    fitted = GaussianMixture(5, covariance_type="full", random_state=0).fit(codes)
    np.testing.assert_allclose(mixture.log_density(codes[:50]), fitted.score_samples(codes[:50]), atol=1e-6)


def test_a_map_draws_each_densitys_lines_around_the_share_of_its_mass_they_name(clusters):
    codes, mixture = clusters
    view = density_map(mixture, codes, steps=60)
    assert view.prior.shape == view.mixture.shape == (60, 60)
    assert view.z0[0] <= codes[:, 0].min() + 0.5 and view.z0[-1] >= 4.0 and view.z1[0] <= -3.5
    # The prior's highest-density region of mass m is the disc of radius sqrt(-2 log(1 - m)) in 2-D.
    radii = np.sqrt(-2 * np.log(1 - np.asarray(MASSES)))
    np.testing.assert_allclose(view.prior_levels, prior_log_density(np.c_[radii, np.zeros(3)]), atol=0.05)
    held = [np.mean(mixture.log_density(mixture.sample(5000, seed=9)) >= level) for level in view.mixture_levels]
    np.testing.assert_allclose(held, MASSES, atol=0.02)


def test_codes_that_are_few_alike_or_not_numbers_still_fit_or_are_refused_in_a_sentence():
    one = fit_code_mixture(np.array([[0.5, -1.0]]), "test")
    assert one.components == 1 and one.codes == 1 and np.allclose(one.sample(3, 0), [0.5, -1.0], atol=0.01)
    alike = fit_code_mixture(np.zeros((24, 64)), "test")  # a collapsed posterior: every code the same
    assert alike.components == 1 and np.isfinite(alike.log_density(alike.sample(4, 0))).all()
    with_nan = np.r_[clustered_codes(50), [[np.nan, 0.0]]]
    assert fit_code_mixture(with_nan, "test").codes == 250
    with pytest.raises(ValueError, match="no latent codes of finite numbers"):
        fit_code_mixture(np.full((5, 2), np.nan), "test")
    with pytest.raises(ValueError, match="Expected split"):
        fit_code_mixture(clustered_codes(10), "validation")


def test_many_codes_are_subsampled_for_the_search():
    mixture = fit_code_mixture(clustered_codes(400), "training", most=500)
    assert mixture.codes == 500 and mixture.components == 5


def test_a_mixture_round_trips_through_its_file_written_whole(clusters, tmp_path):
    _, mixture = clusters
    assert read_code_mixture(tmp_path, 2) is None  # a bundle without one
    write_code_mixture(tmp_path, mixture)
    read = read_code_mixture(tmp_path, 2)
    for name in ("weights", "means", "covariances", "candidates", "bic"):
        np.testing.assert_array_equal(getattr(read, name), getattr(mixture, name))
    assert (read.codes, read.split) == (mixture.codes, mixture.split)
    assert [path.name for path in tmp_path.iterdir()] == [CODE_MIXTURE_FILE]  # no temporary file left
    with np.load(tmp_path / CODE_MIXTURE_FILE, allow_pickle=False) as archive:  # plain arrays, no pickles
        assert archive["split"].dtype.kind == "U"


def _rewritten(folder, mixture: CodeMixture, **changes: object) -> None:
    arrays = {**mixture.to_arrays(), **changes}
    np.savez(folder / CODE_MIXTURE_FILE, **{name: value for name, value in arrays.items() if value is not None})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"means": None}, "lacks the arrays means"),
        ({"means": np.zeros((5, 3))}, "over latent codes of size 2"),
        ({"weights": np.full(5, 0.3)}, "adding up to 1"),
        ({"covariances": -np.stack([np.eye(2)] * 5)}, "not symmetric and positive definite"),
        ({"means": np.full((5, 2), np.inf)}, "not finite numbers"),
        ({"split": np.asarray("validation")}, "of which split"),
        ({"candidates": np.array([0, 2, 5, 10, 15, 20])}, "components it tried"),
    ],
)
def test_a_damaged_or_foreign_file_is_refused_with_what_is_wrong(clusters, tmp_path, changes, expected):
    _rewritten(tmp_path, clusters[1], **changes)
    with pytest.raises(BundleError, match=expected):
        read_code_mixture(tmp_path, 2)


def test_a_file_that_is_no_npz_or_too_large_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    (tmp_path / CODE_MIXTURE_FILE).write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a readable .npz file"):
        read_code_mixture(tmp_path, 2)
    monkeypatch.setattr("vae_core.analysis.code_mixture.MAX_CODE_MIXTURE_BYTES", 100)
    np.savez(tmp_path / CODE_MIXTURE_FILE, weights=np.zeros(1000))
    with pytest.raises(BundleError, match="larger than"):
        read_code_mixture(tmp_path, 2)


def test_a_training_run_saves_the_mixture_of_its_training_codes(tmp_path):
    dataset = synthetic_dataset(n_train=80, n_test=16)
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2, hidden_sizes=(8,)), batch_size=40, epochs=1)
    train_and_save(config, dataset, tmp_path / "bundle", iw_samples=2)
    mixture = read_code_mixture(tmp_path / "bundle", 2)
    assert mixture.split == "training" and mixture.codes == 80 and 1 <= mixture.components <= 20
    assert [path.name for path in (tmp_path / "bundle").iterdir() if path.name.startswith(".")] == []


def test_vae_bundles_mixture_adds_one_to_a_bundle_saved_without(tmp_path, monkeypatch, capsys):
    offline_mnist(tmp_path, monkeypatch, train_images=120)
    bundle = shutil.copytree(PRETRAINED_DIR / "mnist-mlp-2d", tmp_path / "older")
    (bundle / CODE_MIXTURE_FILE).unlink(missing_ok=True)
    from vae_core.bundles.bundle import load_bundle

    assert load_bundle(bundle).atlas.z_mean.shape[1] == 2  # a bundle without one reads as before
    assert main(["mixture", str(bundle)]) == 0
    added = read_code_mixture(bundle, 2)
    assert added.split == "training" and added.codes == 120
    assert capsys.readouterr().out == (
        f"Added {CODE_MIXTURE_FILE} to {bundle}: a mixture of {added.components} Gaussian"
        f"{'' if added.components == 1 else 's'}, fitted to the latent means of 120 training images of mnist.\n"
    )
    assert load_bundle(bundle).atlas.z_mean.shape[1] == 2  # and with one


def test_vae_bundles_mixture_refuses_data_the_model_was_not_trained_on_in_a_line(tmp_path, monkeypatch, capsys):
    bundle = shutil.copytree(PRETRAINED_DIR / "mnist-mlp-2d", tmp_path / "older")
    offline_mnist(tmp_path, monkeypatch, train_images=20)
    np.savez(tmp_path / "wide.npz", x=np.zeros((30, 8, 8), np.uint8))
    with pytest.raises(SystemExit) as exited:
        main(["mixture", str(bundle), "--data", str(tmp_path / "wide.npz")])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "name the data it was trained on with --data" in error, error
