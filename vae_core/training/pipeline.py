"""From a config and a dataset to a saved, evaluated bundle: what the CLI and the Train page run."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import keras

from vae_core.analysis.code_mixture import training_mixture, write_code_mixture
from vae_core.analysis.evaluation import EvaluationStopped, evaluate
from vae_core.analysis.evaluation_budget import MIN_SCORED, affordable_images, scoring_seconds
from vae_core.bundles.bundle import build_atlas, save_bundle
from vae_core.bundles.files import CODE_MIXTURE_FILE, check_destination
from vae_core.bundles.meta import BundleMeta, DatasetRecord, TestMetrics, TrainingRecord
from vae_core.config import TrainConfig
from vae_core.data.datasets import Dataset
from vae_core.data.image_folder import knn_sample
from vae_core.model.codec import LatentCodec
from vae_core.provenance import machine_description, software_versions
from vae_core.training.distribution import leave_cluster
from vae_core.training.events import EvaluationProgress, EvaluationStarted, Event, Saving
from vae_core.training.train import TrainingResult, train_vae

TIMING_STEP = "timing the scoring"
LOGGER = logging.getLogger(__name__)


def train_and_save(
    config: TrainConfig,
    dataset: Dataset,
    out_dir: Path,
    *,
    listener: Callable[[Event], None] | None = None,
    stop_event: threading.Event | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
    iw_samples: int = 100,
    scored: int | None = None,
    affordable: bool = False,
    tensorboard: Path | None = None,
) -> tuple[TrainingResult, TestMetrics]:
    """Train on the dataset's training split (its first `config.train_limit` images), evaluate on its
    test split (`evaluate_and_save`, which says what `scored` and `affordable` do), save a bundle at `out_dir`;
    with TensorBoard logs in `tensorboard` where it names a folder (`tensorboard_logs`).

    A stopped or diverged run is still evaluated and saved: what was learned is kept, and its meta.json says how
    the run ended. A stop that ended training is then cleared, so that a second one during the evaluation saves
    the model unmeasured. A destination that could not be saved to is refused first.
    """
    check_destination(Path(out_dir))
    dataset = dataset.limited(config.train_limit)
    if tensorboard is not None:
        from vae_core.training.tensorboard_logs import TensorBoardLogs  # imports TensorFlow

        listener = TensorBoardLogs(tensorboard, listener)
        callbacks = [*callbacks, listener.losses]
    result = train_vae(
        config,
        dataset.x_train,
        dataset.y_train,
        listener=listener,
        stop_event=stop_event,
        callbacks=callbacks,
        verbose=verbose,
    )
    if stop_event is not None:
        stop_event.clear()
    return evaluate_and_save(
        result,
        dataset,
        out_dir,
        listener=listener,
        stop_event=stop_event,
        iw_samples=iw_samples,
        scored=scored,
        affordable=affordable,
    )


def train_in_cluster(
    config: TrainConfig,
    dataset: Dataset,
    out_dir: Path,
    process_id: int,
    *,
    listener: Callable[[Event], None] | None = None,
    verbose: int = 0,
    iw_samples: int = 100,
    scored: int | None = None,
) -> tuple[TrainingResult, TestMetrics | None]:
    """One process of a cluster (`distribution.join_cluster`): train together, leave the cluster, and
    in process 0 alone evaluate and save; the others' metrics are None. Process 0 checks `out_dir` first."""
    if process_id == 0:
        check_destination(Path(out_dir))
    dataset = dataset.limited(config.train_limit)
    result = train_vae(config, dataset.x_train, dataset.y_train, verbose=verbose if process_id == 0 else 0)
    leave_cluster()
    if process_id:
        return result, None
    return evaluate_and_save(result, dataset, out_dir, listener=listener, iw_samples=iw_samples, scored=scored)


def evaluate_and_save(
    result: TrainingResult,
    dataset: Dataset,
    out_dir: Path,
    *,
    listener: Callable[[Event], None] | None = None,
    stop_event: threading.Event | None = None,
    iw_samples: int = 100,
    scored: int | None = None,
    affordable: bool = False,
) -> tuple[TrainingResult, TestMetrics]:
    """Evaluate a finished run on the dataset's test split and save its bundle at `out_dir`, then the
    mixture of its training codes beside it (`save_code_mixture`); a stop
    during the evaluation saves the model without test metrics. The bound and the k-NN accuracy
    score about `scored` test images (`evaluate`); all of them when None, unless `affordable` asks for as
    many as fit in their share of the training time (`evaluation_budget`)."""
    emit = listener or (lambda event: None)
    emit(EvaluationStarted(result.status, result.message))
    codec = LatentCodec(result.model)
    try:
        knn_images, knn_labels = knn_sample(dataset, codec.classes)
        if scored is None and affordable and len(dataset.x_test) > MIN_SCORED:
            emit(EvaluationProgress(0.0, TIMING_STEP))
            label = None if dataset.y_test is None or not codec.classes else int(dataset.y_test[0])
            references = 0 if knn_images is None or dataset.y_test is None else len(knn_images)
            seconds = scoring_seconds(codec, dataset.x_test[0], label, iw_samples, references)
            scored = affordable_images(result.seconds, seconds, len(dataset.x_test))
        metrics = evaluate(
            codec,
            dataset.x_test,
            dataset.y_test,
            knn_images,
            knn_labels,
            iw_samples=iw_samples,
            seed=result.config.seed,
            stop=stop_event,
            progress=lambda fraction, step: emit(EvaluationProgress(fraction, step)),
            scored=scored,
        )
    except EvaluationStopped:
        metrics = TestMetrics.unmeasured(iw_samples)
        message = f"{result.message} Evaluation was stopped: the model is saved without test metrics."
        status = "stopped" if result.status == "completed" else result.status  # "diverged" stays
        result = dataclasses.replace(result, status=status, message=message)
    emit(Saving())
    atlas = build_atlas(codec, dataset.x_test, dataset.y_test)
    save_bundle(out_dir, result.model, run_meta(result, dataset, metrics), atlas, result.replay)
    save_code_mixture(codec, dataset, out_dir)
    return result, metrics


def save_code_mixture(codec: LatentCodec, dataset: Dataset, out_dir: Path) -> None:
    """Add to the saved bundle the mixture of its training codes, which Generate samples from where the
    data is (`code_mixture`). It is optional: where it cannot be made (a diverged run's codes are no
    numbers, an image folder's files went away, a full disk), the bundle, already saved, stays without
    it and the app fits one to the test codes."""
    try:
        write_code_mixture(out_dir, training_mixture(codec, dataset))
    except Exception:  # said in the server's log; the run and its bundle stand
        LOGGER.warning("Saved %s without %s", Path(out_dir).name, CODE_MIXTURE_FILE, exc_info=True)


def run_meta(result: TrainingResult, dataset: Dataset, metrics: TestMetrics) -> BundleMeta:
    """What meta.json records about a run: enough to reproduce it and to compare it with others."""
    return BundleMeta(
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        config=result.config,
        dataset=DatasetRecord.of(dataset),
        training=TrainingRecord(
            epochs_run=len(result.history),
            status=result.status,
            message=result.message,
            batches_per_epoch=result.batches_per_epoch,
            seconds=round(result.seconds, 2),
            machine=machine_description(),
            history=tuple(result.history),
        ),
        test_metrics=metrics,
        versions=software_versions(),
    )
