"""Test-set metrics (ELBO, importance-weighted bound, k-NN) and the `LatentCodec` they run on."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from keras import ops
from synthetic import synthetic_dataset

from vae_core.analysis import evaluation, evaluation_budget
from vae_core.analysis.evaluation import evaluate, importance_weighted_bounds, kl_from_prior, knn_accuracy
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data.datasets import Dataset, as_intensities
from vae_core.model.codec import LatentCodec
from vae_core.training.train import train_vae

LATENT_DIM = 2


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return synthetic_dataset()


@pytest.fixture(scope="module")
def trained(dataset):
    config = TrainConfig(ModelConfig("mlp", latent_dim=LATENT_DIM, hidden_sizes=(64,)), batch_size=32, epochs=3)
    result = train_vae(config, dataset.x_train)
    assert result.status == "completed"
    return result.model, LatentCodec(result.model)


@pytest.fixture(scope="module")
def bounds(trained, dataset):
    _, codec = trained
    return {k: importance_weighted_bounds(codec, dataset.x_test, samples=k, seed=0) for k in (1, 5, 50)}


def _neg_elbo(bound: dict[str, np.ndarray]) -> np.ndarray:
    return bound["reconstruction_nll"] + bound["kl"]


def test_bounds_have_one_finite_value_per_image(bounds, dataset):
    for bound in bounds.values():
        assert set(bound) == {"reconstruction_nll", "kl", "neg_iw_bound"}
        for values in bound.values():
            assert values.shape == (len(dataset.x_test),)
            assert np.isfinite(values).all()
        assert (bound["reconstruction_nll"] > 0).all()
        assert (bound["kl"] >= 0).all()


def test_importance_weighted_bound_is_tighter_than_the_elbo(bounds):
    many = bounds[50]
    assert many["neg_iw_bound"].mean() < _neg_elbo(many).mean()
    assert np.mean(many["neg_iw_bound"] < _neg_elbo(many)) >= 0.9


def test_more_samples_do_not_loosen_the_bound(bounds):
    assert bounds[50]["neg_iw_bound"].mean() <= bounds[5]["neg_iw_bound"].mean() + 0.5
    assert bounds[5]["neg_iw_bound"].mean() <= bounds[1]["neg_iw_bound"].mean() + 0.5


def test_one_sample_bound_estimates_the_elbo(bounds):
    one = bounds[1]
    # With k = 1 both are unbiased estimates of the same ELBO; they differ by Monte Carlo noise only.
    np.testing.assert_allclose(one["neg_iw_bound"].mean(), _neg_elbo(one).mean(), rtol=0.02)


def test_kl_term_is_the_closed_form_of_the_encoder_output(bounds, trained, dataset):
    _, codec = trained
    z_mean, z_log_var = (a.astype(np.float64) for a in codec.encode(dataset.x_test))
    expected = 0.5 * np.sum(np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=1)
    np.testing.assert_allclose(bounds[5]["kl"], expected, rtol=1e-6)


def test_bounds_are_seeded_and_independent_of_chunking(trained, dataset, bounds):
    _, codec = trained
    again = importance_weighted_bounds(codec, dataset.x_test, samples=5, seed=0, chunk_images=7)
    for name, values in bounds[5].items():
        np.testing.assert_allclose(again[name], values, rtol=1e-5, err_msg=name)
    other = importance_weighted_bounds(codec, dataset.x_test, samples=5, seed=1)
    assert not np.allclose(other["neg_iw_bound"], bounds[5]["neg_iw_bound"])


def test_chunks_of_large_pictures_are_held_to_their_bytes(trained, dataset, bounds, monkeypatch):
    _, codec = trained
    seen = []
    monkeypatch.setattr(evaluation, "CHUNK_BYTES", 5 * 3 * dataset.x_test[0].nbytes)  # 3 images of 5 samples
    monkeypatch.setattr(evaluation, "kl_from_prior", lambda m, v: seen.append(len(m)) or kl_from_prior(m, v))
    bounded = importance_weighted_bounds(codec, dataset.x_test, samples=5, seed=0)
    assert max(seen) == 3
    for name, values in bounds[5].items():
        np.testing.assert_allclose(bounded[name], values, rtol=1e-5, err_msg=name)


def test_evaluate_reports_consistent_metrics(trained, dataset):
    _, codec = trained
    metrics = evaluate(codec, dataset.x_test, dataset.y_test, dataset.x_train, dataset.y_train, iw_samples=5)
    assert isinstance(metrics, evaluation.TestMetrics)  # not imported by name: pytest would collect it
    assert metrics.images == len(dataset.x_test)
    assert (metrics.iw_samples, metrics.knn_k) == (5, 5)
    assert metrics.neg_elbo == pytest.approx(metrics.reconstruction_nll + metrics.kl)
    assert metrics.neg_iw_bound <= metrics.neg_elbo
    for value in (metrics.neg_elbo, metrics.reconstruction_nll, metrics.kl, metrics.neg_iw_bound):
        assert np.isfinite(value)
    # Ten well separated square positions: k-NN in the latent space beats chance (0.1) by far.
    assert 0.3 < metrics.knn_accuracy <= 1.0
    assert json.loads(json.dumps(metrics.to_dict())) == metrics.to_dict()


def test_evaluate_without_labels_has_no_knn(trained, dataset):
    _, codec = trained
    assert evaluate(codec, dataset.x_test, iw_samples=1).knn_accuracy is None
    assert evaluate(codec, dataset.x_test, dataset.y_test, iw_samples=1).knn_accuracy is None
    assert evaluate(codec, dataset.x_test, None, dataset.x_train, None, iw_samples=1).knn_accuracy is None


def test_evaluate_reports_its_progress_step_by_step_up_to_the_end(trained, dataset):
    _, codec = trained
    reports = []
    evaluate(
        codec,
        dataset.x_test,
        dataset.y_test,
        dataset.x_train,
        dataset.y_train,
        iw_samples=2,
        progress=lambda fraction, step: reports.append((fraction, step)),
        scored=40,
    )
    fractions = [fraction for fraction, _ in reports]
    assert len(fractions) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert 0.0 < fractions[0] < 1.0
    steps = list(dict.fromkeys(step for _, step in reports))  # in the order they ran
    assert steps == ["importance-weighted bound", "ELBO of every test image", "5-NN accuracy"]
    knn = [fraction for fraction, step in reports if step == "5-NN accuracy"]
    assert len(knn) >= 2 and knn[0] < knn[-1]  # the vote moves the bar too, chunk by chunk


def test_a_quick_runs_evaluation_scores_images_spread_over_the_split_and_the_elbo_of_all(trained, dataset):
    _, codec = trained
    metrics = evaluate(codec, dataset.x_test, dataset.y_test, dataset.x_train, dataset.y_train, iw_samples=5, scored=16)
    assert (metrics.images, metrics.scored_images) == (len(dataset.x_test), 16)  # every 4th of 64
    spread = importance_weighted_bounds(codec, dataset.x_test[::4], samples=5, seed=0)
    every = importance_weighted_bounds(codec, dataset.x_test, samples=50, seed=3)
    assert metrics.neg_elbo == pytest.approx(_neg_elbo(every).mean(), rel=0.02)  # all 64 images, one z each
    # The bound of all 64: their ELBO less the gap measured on the 16 scored.
    gap = (_neg_elbo(spread) - spread["neg_iw_bound"]).mean()
    assert metrics.neg_iw_bound == pytest.approx(metrics.neg_elbo - gap)
    assert metrics.neg_iw_bound == pytest.approx(every["neg_iw_bound"].mean(), rel=0.02)
    assert metrics.knn_accuracy == knn_accuracy(
        codec.encode(dataset.x_train)[0], dataset.y_train, codec.encode(dataset.x_test[::4])[0], dataset.y_test[::4]
    )


def test_scoring_every_image_measures_as_before(trained, dataset, bounds):
    _, codec = trained
    metrics = evaluate(codec, dataset.x_test, iw_samples=5)
    assert metrics.scored_images == metrics.images == len(dataset.x_test)
    assert metrics.neg_iw_bound == pytest.approx(bounds[5]["neg_iw_bound"].mean())
    assert metrics.neg_elbo == pytest.approx(_neg_elbo(bounds[5]).mean())


@pytest.mark.parametrize(
    ("training_seconds", "seconds_per_image", "scored"),
    [
        (8.0, 2e-3, 1_000),  # a quick mlp run: a quarter of 8 s scores 1,000 images at 2 ms each
        (8.0, 50e-3, 200),  # the same on a costly decoder: never fewer than 200...
        (600.0, 2e-3, 10_000),  # ...and a long run's share scores every test image
    ],
)
def test_a_run_scores_as_many_images_as_a_share_of_its_training_time_affords(
    training_seconds, seconds_per_image, scored
):
    assert evaluation_budget.affordable_images(training_seconds, seconds_per_image, 10_000) == scored
    assert evaluation_budget.affordable_images(training_seconds, seconds_per_image, 12) == 12  # a small split: all


def test_scoring_one_image_is_timed_as_the_bound_and_the_vote_make_it(trained, dataset):
    _, codec = trained
    bound_alone = evaluation_budget.scoring_seconds(codec, dataset.x_test[0], None, 100, references=0)
    started = time.perf_counter()
    importance_weighted_bounds(codec, dataset.x_test[:20], samples=100)
    assert 0 < bound_alone < 10 * (time.perf_counter() - started) / 20  # within an order of the bound's own
    with_the_vote = evaluation_budget.scoring_seconds(codec, dataset.x_test[0], None, 100, references=60_000)
    assert with_the_vote > bound_alone


def test_a_stop_ends_the_evaluation_at_the_next_chunk(trained, dataset):
    _, codec = trained
    stop, seen = threading.Event(), []

    def stop_after_the_first_chunk(fraction: float, step: str) -> None:
        seen.append(fraction)
        stop.set()

    with pytest.raises(evaluation.EvaluationStopped):
        evaluate(codec, dataset.x_test, iw_samples=2, stop=stop, progress=stop_after_the_first_chunk)
    assert len(seen) == 1


@pytest.mark.parametrize("samples", [0, -3])
def test_evaluate_rejects_fewer_than_one_sample(trained, dataset, samples):
    _, codec = trained
    with pytest.raises(ValueError, match=f"iw_samples={samples}"):
        evaluate(codec, dataset.x_test, iw_samples=samples)


def _clusters(n: int, labels_seed: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centers = np.random.default_rng(labels_seed).normal(0.0, 10.0, (6, 4))
    labels = rng.integers(0, 6, n)
    return centers[labels] + rng.normal(0.0, 0.1, (n, 4)), labels


def test_knn_is_perfect_on_well_separated_clusters():
    rng = np.random.default_rng(0)
    train_z, train_labels = _clusters(300, 7, rng)
    test_z, test_labels = _clusters(1100, 7, rng)  # several chunks
    assert knn_accuracy(train_z, train_labels, test_z, test_labels, k=5) == 1.0


def test_knn_with_k_one_finds_the_point_itself():
    rng = np.random.default_rng(1)
    z, labels = rng.normal(size=(50, 3)), rng.integers(0, 4, 50)
    assert knn_accuracy(z, labels, z, labels, k=1) == 1.0


def test_knn_with_fewer_training_points_than_k_votes_with_all_of_them():
    train_z, train_labels = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]]), np.array([1, 1, 2])
    assert knn_accuracy(train_z, train_labels, np.array([[0.0, 0.1]]), np.array([1]), k=5) == 1.0


def test_knn_on_shuffled_labels_is_near_chance():
    rng = np.random.default_rng(2)
    train_z, train_labels = rng.normal(size=(1000, 2)), rng.integers(0, 10, 1000)
    test_z, test_labels = rng.normal(size=(2000, 2)), rng.integers(0, 10, 2000)
    accuracy = knn_accuracy(train_z, train_labels, test_z, test_labels, k=5)
    assert 0.05 < accuracy < 0.16  # chance is 0.1; the standard error over 2000 points is 0.007


def test_codec_encode_shapes_and_values(trained, dataset):
    model, codec = trained
    assert (codec.latent_dim, codec.image_shape) == (LATENT_DIM, (28, 28, 1))
    z_mean, z_log_var = codec.encode(dataset.x_test)
    assert z_mean.shape == z_log_var.shape == (len(dataset.x_test), LATENT_DIM)
    expected_mean, expected_log_var = model.encoder(as_intensities(dataset.x_test))
    np.testing.assert_allclose(z_mean, ops.convert_to_numpy(expected_mean), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(z_log_var, ops.convert_to_numpy(expected_log_var), rtol=1e-5, atol=1e-5)


def test_codec_encode_of_no_images_is_empty(trained):
    _, codec = trained
    z_mean, z_log_var = codec.encode(np.zeros((0, 28, 28, 1), np.uint8))
    assert z_mean.shape == z_log_var.shape == (0, LATENT_DIM)


def test_codec_treats_uint8_and_float_images_alike(trained, dataset):
    _, codec = trained
    images = dataset.x_test[:10]
    as_uint8 = codec.encode(images)
    as_float = codec.encode(images.astype(np.float32) / 255.0)
    for a, b in zip(as_uint8, as_float, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(as_intensities(images), images.astype(np.float32) / 255.0)


def test_codec_decode_is_the_sigmoid_of_the_decoder(trained):
    model, codec = trained
    z = np.random.default_rng(0).normal(0.0, 2.0, (7, LATENT_DIM)).astype(np.float32)
    decoded = codec.decode(z)
    assert decoded.shape == (7, 28, 28, 1)
    assert decoded.dtype == np.float32
    assert decoded.min() >= 0.0 and decoded.max() <= 1.0
    logits = ops.convert_to_numpy(model.decoder(z)).astype(np.float64)
    np.testing.assert_allclose(decoded, 1.0 / (1.0 + np.exp(-logits)), atol=1e-6)


def test_codec_decodes_in_bfloat16_close_to_float32(trained):
    model, codec = trained
    fast = LatentCodec(model, decode_precision="mixed_bfloat16")
    z = np.random.default_rng(1).normal(0.0, 2.0, (50, LATENT_DIM)).astype(np.float32)
    exact, approximate = codec.decode(z), fast.decode(z)
    assert approximate.dtype == np.float32 and approximate.shape == exact.shape
    assert np.abs(approximate - exact).max() < 0.05
    assert np.abs(approximate - exact).mean() < 0.005
    # Encoding stays float32 whatever the decode precision.
    images = np.random.default_rng(2).random((3, 28, 28, 1)).astype(np.float32)
    for a, b in zip(fast.encode(images), codec.encode(images), strict=True):
        np.testing.assert_array_equal(a, b)


def test_codec_decodes_a_single_vector(trained):
    _, codec = trained
    z = np.array([0.3, -1.2], np.float32)
    single = codec.decode(z)
    assert single.shape == (1, 28, 28, 1)
    np.testing.assert_allclose(single, codec.decode(z[None, :]), atol=1e-7)
    assert codec.decode(np.zeros((0, LATENT_DIM))).shape == (0, 28, 28, 1)


def test_codec_batches_large_inputs(trained, dataset, monkeypatch):
    _, codec = trained
    whole = codec.encode(dataset.x_test[:40])
    z = whole[0]
    decoded = codec.decode(z)
    monkeypatch.setattr("vae_core.model.codec.BATCH_SIZE", 16)
    for a, b in zip(codec.encode(dataset.x_test[:40]), whole, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(codec.decode(z), decoded, atol=1e-6)


def test_codec_log_likelihood_is_the_bernoulli_log_probability(trained, dataset):
    model, codec = trained
    z = np.random.default_rng(3).normal(size=(5, LATENT_DIM)).astype(np.float32)
    images = dataset.x_test[:5]
    result = codec.log_likelihood(z, images)
    assert result.shape == (5,) and result.dtype == np.float64
    x = as_intensities(images).astype(np.float64)
    logits = ops.convert_to_numpy(model.decoder(z)).astype(np.float64)
    log_p, log_not_p = -np.logaddexp(0.0, -logits), -np.logaddexp(0.0, logits)
    expected = np.sum(x * log_p + (1.0 - x) * log_not_p, axis=(1, 2, 3))
    np.testing.assert_allclose(result, expected, rtol=1e-5)
