"""`train_vae`: events, the stop flag (same and other thread), the non-finite guard, seeding, KL warm-up."""

from __future__ import annotations

import dataclasses
import queue
import threading

import keras
import numpy as np
import pytest
from backend_checks import PoisonAtEpochTwo
from keras import ops
from synthetic import synthetic_images

from vae_core.config import ModelConfig, TrainConfig
from vae_core.data.batches import Share
from vae_core.training.distribution import ClusterRun
from vae_core.training.events import BatchEnd, EpochEnd, TrainingStarted
from vae_core.training.train import TrainingResult, make_optimizer, split_validation, steps_per_execution, train_vae

# 160 images, 20% held out: 128 training images, 4 full batches of 32 per epoch, 32 validation images.
N_IMAGES, BATCHES_PER_EPOCH, N_VALIDATION = 160, 4, 32
CONFIG = TrainConfig(
    ModelConfig(preset="mlp", latent_dim=3, hidden_sizes=(32,)),
    batch_size=32,
    epochs=2,
    validation_split=0.2,
    seed=1,
    steps_per_execution=1,  # an event per batch; several per execution have their own test
)
THREAD_TIMEOUT_S = 120  # only so that a hung run fails the test instead of the whole session


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return synthetic_images(N_IMAGES, seed=5)[0]


@pytest.fixture(scope="module")
def completed_run(images) -> tuple[TrainingResult, list]:
    events: list = []
    return train_vae(CONFIG, images, listener=events.append), events


def _weights(result: TrainingResult) -> list[np.ndarray]:
    return [np.asarray(w) for w in result.model.get_weights()]


def _assert_usable(result: TrainingResult, images: np.ndarray) -> None:
    z_mean, z_log_var = result.model.encoder.predict_on_batch(images[:8].astype(np.float32) / 255.0)
    assert z_mean.shape == (8, CONFIG.model.latent_dim)
    assert np.isfinite(z_mean).all() and np.isfinite(z_log_var).all()


def test_completed_run_result(completed_run):
    result, _ = completed_run
    assert result.status == "completed"
    assert result.message == "Trained 2 epochs."
    assert result.batches_per_epoch == BATCHES_PER_EPOCH
    assert len(result.validation_indices) == N_VALIDATION
    assert [record["epoch"] for record in result.history] == [1, 2]
    assert [record["batches"] for record in result.history] == [BATCHES_PER_EPOCH] * 2
    for record in result.history:
        for name in ("loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"):
            assert np.isfinite(record[name]), name
    assert result.history[1]["loss"] < result.history[0]["loss"]
    assert result.seconds > 0


def test_a_single_process_run_without_data_parallelism_leaves_everything_as_it_is(completed_run, images):
    cluster = ClusterRun.of(CONFIG)
    assert (cluster.distribution, cluster.share) == (None, Share())
    cluster.require_same_run(images)  # no other process to agree with
    assert cluster.unreadable_anywhere({"a.png"}, images) == {"a.png"}
    model = completed_run[0].model
    assert cluster.local_float32(model) is model


def test_events_arrive_in_order(completed_run):
    result, events = completed_run
    assert events[0] == TrainingStarted(epochs=2, batches_per_epoch=BATCHES_PER_EPOCH)
    assert sum(isinstance(e, TrainingStarted) for e in events) == 1
    batch_ends = [e for e in events if isinstance(e, BatchEnd)]
    assert [(e.epoch, e.batch) for e in batch_ends] == [(ep, b) for ep in (1, 2) for b in range(1, 5)]
    assert all(e.batches_per_epoch == BATCHES_PER_EPOCH and np.isfinite(e.loss) for e in batch_ends)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["TrainingStarted"] + (["BatchEnd"] * 4 + ["EpochEnd"]) * 2


def test_epoch_end_events_carry_the_history_and_latent_snapshot(completed_run):
    result, events = completed_run
    epoch_ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [(e.epoch, e.epochs) for e in epoch_ends] == [(1, 2), (2, 2)]
    assert [e.record for e in epoch_ends] == result.history
    for event in epoch_ends:
        assert event.latent_means.shape == (N_VALIDATION, CONFIG.model.latent_dim)
        assert np.isfinite(event.latent_means).all()
    assert not np.array_equal(epoch_ends[0].latent_means, epoch_ends[1].latent_means)


def test_stop_flag_set_by_the_listener_stops_after_that_batch(images):
    stop = threading.Event()

    def listener(event):
        if isinstance(event, BatchEnd) and (event.epoch, event.batch) == (1, 3):
            stop.set()

    result = train_vae(CONFIG, images, listener=listener, stop_event=stop)
    assert result.status == "stopped"
    assert result.message == "Stopped on request during epoch 1 of 2."
    assert len(result.history) == 1
    assert result.history[0]["batches"] == 3
    assert np.isfinite(result.history[0]["val_loss"])
    _assert_usable(result, images)


def test_stop_flag_set_from_another_thread(images):
    stop, resume = threading.Event(), threading.Event()
    events: queue.Queue = queue.Queue()
    outcome: dict = {}

    def listener(event):
        events.put((threading.get_ident(), event))
        if isinstance(event, BatchEnd) and (event.epoch, event.batch) == (1, 1):
            resume.wait(THREAD_TIMEOUT_S)  # hold training here until the main thread has set the flag

    def run():
        try:
            outcome["result"] = train_vae(CONFIG, images, listener=listener, stop_event=stop)
        except BaseException as error:  # re-raised in the main thread below
            outcome["error"] = error

    def next_event():
        while True:
            try:
                return events.get(timeout=0.1)
            except queue.Empty:
                if not worker.is_alive():
                    raise outcome.get("error") or AssertionError("training ended before its first batch") from None

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        thread_id, event = next_event()
        assert isinstance(event, TrainingStarted)
        thread_id, event = next_event()
        assert isinstance(event, BatchEnd)
        assert thread_id == worker.ident != threading.get_ident()  # events come from the training thread
        stop.set()
    finally:
        resume.set()
        worker.join(THREAD_TIMEOUT_S)
    assert not worker.is_alive()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    assert result.status == "stopped"
    assert [record["batches"] for record in result.history] == [1]
    _assert_usable(result, images)


def test_non_finite_loss_stops_and_restores_the_last_finite_weights(images):
    poison = PoisonAtEpochTwo()
    config = dataclasses.replace(CONFIG, epochs=3)
    events: list = []
    result = train_vae(config, images, listener=events.append, callbacks=[poison])
    assert result.status == "diverged"
    assert "non-finite" in result.message
    assert "epoch 2, batch 1" in result.message
    assert [record["epoch"] for record in result.history] == [1]
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1]
    weights = _weights(result)
    assert all(np.isfinite(w).all() for w in weights)
    assert poison.weights_after_epoch_one is not None
    for restored, expected in zip(weights, poison.weights_after_epoch_one, strict=True):
        np.testing.assert_array_equal(restored, expected)
    _assert_usable(result, images)


def test_same_seed_gives_identical_weights(completed_run, images):
    first, _ = completed_run
    second = train_vae(CONFIG, images)
    for a, b in zip(_weights(first), _weights(second), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [r["loss"] for r in first.history] == [r["loss"] for r in second.history]


def test_different_seed_gives_different_weights(completed_run, images):
    first, _ = completed_run
    other = train_vae(dataclasses.replace(CONFIG, seed=2), images)
    assert not all(np.array_equal(a, b) for a, b in zip(_weights(first), _weights(other), strict=True))
    assert not np.array_equal(first.validation_indices, other.validation_indices)


class _WarmupProbe(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[int, set[float]] = {}
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        value = float(ops.convert_to_numpy(self.model.kl_warmup))
        self.seen.setdefault(self._epoch, set()).add(value)


def test_kl_warmup_starts_at_zero_and_ends_at_one(images):
    probe = _WarmupProbe()
    config = dataclasses.replace(CONFIG, epochs=3, kl_warmup_epochs=2)
    result = train_vae(config, images, callbacks=[probe])
    assert probe.seen == {1: {0.0}, 2: {0.5}, 3: {1.0}}
    assert float(ops.convert_to_numpy(result.model.kl_warmup)) == 1.0
    first, second = result.history[0], result.history[1]
    # With full batches the reported loss is exactly reconstruction + weight * KL.
    np.testing.assert_allclose(first["loss"], first["reconstruction_loss"], rtol=1e-5)
    np.testing.assert_allclose(second["loss"], second["reconstruction_loss"] + 0.5 * second["kl_loss"], rtol=1e-5)


def test_without_warmup_the_kl_weight_stays_one(completed_run):
    result, _ = completed_run
    assert float(ops.convert_to_numpy(result.model.kl_warmup)) == 1.0
    record = result.history[0]
    np.testing.assert_allclose(record["loss"], record["reconstruction_loss"] + record["kl_loss"], rtol=1e-5)


def test_validation_split_zero_trains_on_everything(images):
    events: list = []
    # A cosine schedule too, to see it reach zero after exactly epochs * batches_per_epoch steps.
    config = dataclasses.replace(CONFIG, epochs=1, validation_split=0.0, lr_schedule="cosine")
    result = train_vae(config, images, listener=events.append)
    assert result.status == "completed"
    assert int(ops.convert_to_numpy(result.model.optimizer.iterations)) == N_IMAGES // 32
    assert float(ops.convert_to_numpy(result.model.optimizer.learning_rate)) == pytest.approx(0.0, abs=1e-9)
    assert len(result.validation_indices) == 0
    assert result.batches_per_epoch == N_IMAGES // 32
    assert not any(name.startswith("val_") for name in result.history[0])
    (epoch_end,) = [e for e in events if isinstance(e, EpochEnd)]
    assert epoch_end.latent_means is None


def test_float_images_train_like_uint8(completed_run, images):
    from_uint8, _ = completed_run
    from_float = train_vae(CONFIG, images.astype(np.float32) / 255.0)
    for a, b in zip(_weights(from_uint8), _weights(from_float), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("name", "kind"), [("adam", keras.optimizers.Adam), ("rmsprop", keras.optimizers.RMSprop)])
def test_make_optimizer_constant_and_cosine(name, kind):
    constant = make_optimizer(TrainConfig(optimizer=name, learning_rate=0.01), total_steps=10)
    assert isinstance(constant, kind)
    constant.iterations.assign(10)
    assert float(ops.convert_to_numpy(constant.learning_rate)) == pytest.approx(0.01)
    cosine = make_optimizer(TrainConfig(optimizer=name, learning_rate=0.01, lr_schedule="cosine"), total_steps=10)
    rates = []
    for step in (0, 5, 10):
        cosine.iterations.assign(step)
        rates.append(float(ops.convert_to_numpy(cosine.learning_rate)))
    assert rates == pytest.approx([0.01, 0.005, 0.0], abs=1e-7)


def test_weight_decay_shrinks_each_weight_apart_from_its_gradient():
    """Decoupled decay: with no gradient, a step takes learning_rate * weight_decay of the weight."""
    optimizer = make_optimizer(TrainConfig(learning_rate=0.1, weight_decay=0.5), total_steps=10)
    weight = keras.Variable(np.full(3, 2.0, np.float32))
    optimizer.apply_gradients([(np.zeros(3, np.float32), weight)])
    np.testing.assert_allclose(ops.convert_to_numpy(weight), 2.0 * (1 - 0.1 * 0.5), rtol=1e-6)
    assert make_optimizer(TrainConfig(), total_steps=10).weight_decay is None  # off by default


def test_mismatched_image_shape_is_rejected(images):
    config = CONFIG.with_data((32, 32, 3))
    with pytest.raises(ValueError, match=r"\(28, 28, 1\).*\(32, 32, 3\)"):
        train_vae(config, images)


def test_no_training_images_is_rejected():
    with pytest.raises(ValueError, match="No training images"):
        train_vae(CONFIG, np.zeros((0, 28, 28, 1), np.uint8))


def test_split_validation_is_seeded_disjoint_and_complete():
    train, val = split_validation(100, 0.1, seed=3)
    again_train, again_val = split_validation(100, 0.1, seed=3)
    np.testing.assert_array_equal(train, again_train)
    np.testing.assert_array_equal(val, again_val)
    assert len(val) == 10 and len(train) == 90
    assert not set(train) & set(val)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(100))
    assert (np.diff(train) > 0).all() and (np.diff(val) > 0).all()
    _, other_val = split_validation(100, 0.1, seed=4)
    assert not np.array_equal(val, other_val)


def test_split_validation_edge_cases():
    train, val = split_validation(50, 0.0, seed=0)
    assert len(val) == 0
    np.testing.assert_array_equal(train, np.arange(50))
    assert len(split_validation(5, 0.01, seed=0)[1]) == 1  # a requested split is never empty
    assert len(split_validation(1, 0.3, seed=0)[0]) == 1  # ...unless that would leave no training image


def test_mixed_precision_trains_in_bfloat16_and_returns_a_float32_model(images):
    config = dataclasses.replace(CONFIG, model=ModelConfig(latent_dim=2), epochs=1, precision="mixed_bfloat16")
    seen_policies: list[str] = []

    class PolicyProbe(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            layers = self.model.encoder.layers + self.model.decoder.layers
            seen_policies.extend(layer.dtype_policy.name for layer in layers if isinstance(layer, keras.layers.Conv2D))

    result = train_vae(config, images, callbacks=[PolicyProbe()])
    assert result.status == "completed"
    assert set(seen_policies) == {"mixed_bfloat16"}
    assert np.isfinite(result.history[0]["loss"]) and np.isfinite(result.history[0]["val_loss"])
    assert {layer.dtype_policy.name for layer in result.model.decoder.layers} == {"float32"}
    z_mean, _, logits = result.model(images[:4].astype(np.float32) / 255.0)
    assert {keras.backend.standardize_dtype(t.dtype) for t in (z_mean, logits)} == {"float32"}


def test_several_steps_per_execution_report_and_stop_per_group(images):
    events: list = []
    stop = threading.Event()

    def stop_in_second_epoch(event) -> None:
        events.append(event)
        if isinstance(event, EpochEnd):
            stop.set()

    config = dataclasses.replace(CONFIG, epochs=3, steps_per_execution=3)
    result = train_vae(config, images, listener=stop_in_second_epoch, stop_event=stop)
    batch_ends = [(e.epoch, e.batch) for e in events if isinstance(e, BatchEnd)]
    # 4 batches per epoch in groups of 3: a group of 3, then the last one; the stop acts after a group.
    assert batch_ends == [(1, 3), (1, 4), (2, 3)]
    assert result.status == "stopped"
    assert [record["batches"] for record in result.history] == [4, 3]


def test_steps_per_execution_is_the_configs_within_an_epoch_and_one_on_pytorch():
    config = dataclasses.replace(CONFIG, steps_per_execution=8)
    assert steps_per_execution(config, 100, "tensorflow") == 8
    assert steps_per_execution(config, 100, "jax") == 8
    assert steps_per_execution(config, 3, "jax") == 3
    # Keras's PyTorch trainer raises on more than one (tests/test_backends.py trains there).
    assert steps_per_execution(config, 100, "torch") == 1


def test_steps_per_execution_beyond_an_epoch_is_capped(images):
    config = dataclasses.replace(CONFIG, epochs=1, steps_per_execution=50)
    events: list = []
    result = train_vae(config, images, listener=events.append)
    assert result.status == "completed"
    assert [e.batch for e in events if isinstance(e, BatchEnd)] == [BATCHES_PER_EPOCH]
