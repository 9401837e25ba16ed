"""Import a VAE trained elsewhere: its encoder and decoder (`.keras` or `.onnx` files) and a dataset
become a bundle like those this project trains, explored the same way: atlas, test figures, a
browser decoder. Nothing trained it here, so it has no loss history and no training replay.

Its test figures read the decoder's output as Bernoulli means on [0, 1] intensities, as every
bundle's are: exact for a decoder trained with binary cross-entropy (logits or a sigmoid), an
approximation for one trained with squared error, which meta.json's message says.
"""

from __future__ import annotations

import datetime
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_core.analysis.evaluation import evaluate
from vae_core.analysis.evaluation_budget import IMPORT_SCORED
from vae_core.bundles.bundle import build_atlas, save_onnx_bundle
from vae_core.bundles.files import BundleError, check_destination
from vae_core.bundles.meta import DECODER_OUTPUTS, BundleMeta, DatasetRecord, ImportRecord, TestMetrics, TrainingRecord
from vae_core.config import IMPORTED, ModelConfig, TrainConfig
from vae_core.data.datasets import Dataset
from vae_core.data.image_folder import knn_sample
from vae_core.imports.keras_files import keras_as_onnx
from vae_core.imports.onnx_graphs import normalised_decoder, normalised_encoder
from vae_core.model.onnx_codec import OnnxCodec, OnnxModel
from vae_core.provenance import machine_description, software_versions

SUFFIXES = (".keras", ".onnx")
# Prior samples the decoder decodes to tell logits from intensities: one value outside [0, 1] says logits.
RANGE_PROBES = 64
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportRequest:
    """What to import: the two files, where the bundle goes, what the decoder gives (`auto`: decode
    prior samples and look), and how the test figures are measured (`evaluate`'s `scored`)."""

    encoder: Path
    decoder: Path
    out_dir: Path
    decoder_output: str = "auto"
    iw_samples: int = 100
    seed: int = 0
    scored: int | None = IMPORT_SCORED


def import_model(request: ImportRequest, dataset: Dataset, progress: Progress | None = None) -> BundleMeta:
    """Write the bundle of the model `request` names, measured on `dataset`'s test split; its meta.
    Raises `BundleError` with a sentence a person can act on when the files will not do."""
    report = progress or (lambda fraction, step: None)
    started = time.perf_counter()
    check_destination(Path(request.out_dir))
    if request.decoder_output not in ("auto", *DECODER_OUTPUTS):
        raise BundleError(f"decoder output should be auto, logits or intensities, not {request.decoder_output!r}.")
    report(0.0, "Reading the encoder and decoder")
    with tempfile.TemporaryDirectory(prefix="vae-import-") as folder:
        encoder, decoder, kind, logits = _normalised(request, Path(folder), tuple(dataset.image_shape))
        model = OnnxModel(Path(folder) / "encoder.onnx", Path(folder) / "decoder.onnx", *kind)
        encoder_bytes, decoder_bytes = encoder.SerializeToString(), decoder.SerializeToString()
        model.encoder.write_bytes(encoder_bytes)
        model.decoder.write_bytes(decoder_bytes)
        codec = OnnxCodec(model)
        _check_labels(codec.classes, dataset)
        report(0.05, "Encoding the test images")
        atlas = build_atlas(codec, dataset.x_test, dataset.y_test)
        metrics = _measured(codec, dataset, request, report)
        output = "logits" if logits else "intensities"
        meta = _meta(request, dataset, model, metrics, output, time.perf_counter() - started)
        report(0.98, "Saving")
        save_onnx_bundle(request.out_dir, encoder_bytes, decoder_bytes, meta, atlas)
    report(1.0, "Imported")
    return meta


def _normalised(request: ImportRequest, folder: Path, image_shape: tuple[int, int, int]) -> tuple:
    """The encoder and decoder as ONNX models of the bundle's contract, (latent size, image shape,
    classes), and whether the decoder gave logits."""
    onnx_files = [
        _as_onnx(Path(path), folder / f"given-{role}.onnx")
        for role, path in (("encoder", request.encoder), ("decoder", request.decoder))
    ]
    encoder, latent_dim, classes = normalised_encoder(onnx_files[0], image_shape)
    logits = request.decoder_output == "logits"
    if request.decoder_output == "auto":
        plain = normalised_decoder(onnx_files[1], image_shape, latent_dim, classes, logits=False)
        logits = _gives_logits(plain, latent_dim, classes, request.seed)
    decoder = normalised_decoder(onnx_files[1], image_shape, latent_dim, classes, logits=logits)
    return encoder, decoder, (latent_dim, image_shape, classes), logits


def _as_onnx(path: Path, destination: Path) -> Path:
    """The file as ONNX: itself, or a .keras file exported to `destination`."""
    if not path.is_file():
        raise BundleError(f"{path.name} is not a file.")
    if path.suffix.lower() not in SUFFIXES:
        raise BundleError(f"{path.name} is neither a .keras nor an .onnx file.")
    if path.suffix.lower() == ".onnx":
        return path
    keras_as_onnx(path, destination)
    return destination


def _gives_logits(decoder: object, latent_dim: int, classes: int, seed: int) -> bool:
    """Whether the decoder's outputs for prior samples leave [0, 1], as logits do and intensities never."""
    import onnxruntime

    session = onnxruntime.InferenceSession(decoder.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    feeds = {"z": rng.standard_normal((RANGE_PROBES, latent_dim)).astype(np.float32)}
    if classes:
        feeds["condition"] = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, RANGE_PROBES)]
    images = session.run(None, feeds)[0]
    return bool(images.min() < 0.0 or images.max() > 1.0)


def _check_labels(classes: int, dataset: Dataset) -> None:
    if classes and (dataset.y_test is None or int(np.max(dataset.y_test)) >= classes):
        raise BundleError(
            f"The model takes a label one-hot over {classes} classes, but the data's test images"
            f" {'have no labels' if dataset.y_test is None else 'have labels beyond them'}."
        )


def _measured(codec: OnnxCodec, dataset: Dataset, request: ImportRequest, report: Progress) -> TestMetrics:
    knn_images, knn_labels = knn_sample(dataset, codec.classes)
    return evaluate(
        codec,
        dataset.x_test,
        dataset.y_test,
        knn_images,
        knn_labels,
        iw_samples=request.iw_samples,
        seed=request.seed,
        progress=lambda fraction, step: report(0.1 + 0.85 * fraction, step),
        scored=request.scored,
    )


def _meta(
    request: ImportRequest, dataset: Dataset, model: OnnxModel, metrics: TestMetrics, output: str, seconds: float
) -> BundleMeta:
    config = ModelConfig(IMPORTED, tuple(model.image_shape), model.latent_dim, classes=model.classes)
    given = f"{Path(request.encoder).name} and {Path(request.decoder).name}"
    return BundleMeta(
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        config=TrainConfig(model=config, seed=request.seed),
        dataset=DatasetRecord.of(dataset),
        training=TrainingRecord(
            epochs_run=0,
            message=f"Imported from {given}, trained elsewhere: no loss history or training replay. Test figures"
            f" take the decoder's output as a Bernoulli likelihood's {'logits' if output == 'logits' else 'means'}.",
            seconds=round(seconds, 2),
            machine=machine_description(),
        ),
        test_metrics=metrics,
        imported=ImportRecord(
            "keras" if Path(request.encoder).suffix.lower() == ".keras" else "onnx",
            Path(request.encoder).name,
            Path(request.decoder).name,
            output,
        ),  # fmt: skip
        versions=software_versions(),
    )
