"""What leaves the app: the latent codes as CSV and NPZ, the Embedding Projector's files as
TensorBoard's own config message and TSV reader see them, and a run's losses per epoch as CSV."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from support import REPO_ROOT
from synthetic import synthetic_images

from vae_core.bundles.bundle import Atlas
from vae_core.bundles.files import read_meta
from vae_core.exports import projector
from vae_core.exports.latent_codes import latent_codes
from vae_core.exports.loss_history import history_csv
from vae_core.exports.projector import CONFIG, FOLDER, METADATA, SPRITE, VECTORS, projector_files, projector_zip

CLASS_NAMES = ["zero", "one\twith a tab", "two\nlines", *map(str, range(3, 10))]


def atlas_of(count: int, labelled: bool = True, shape: tuple[int, int, int] = (28, 28, 1)) -> Atlas:
    images, labels = synthetic_images(count, shape)
    rng = np.random.default_rng(1)
    return Atlas(
        z_mean=rng.normal(size=(count, 3)).astype(np.float32),
        z_log_var=rng.normal(-2, 0.3, size=(count, 3)).astype(np.float32),
        reconstruction_error=rng.uniform(0, 0.1, count).astype(np.float32),
        images=images,
        labels=labels if labelled else None,
    )


@pytest.mark.parametrize("labelled", [True, False])
def test_the_csv_has_a_row_per_chosen_image_with_its_codes_and_scores(labelled):
    atlas, scores = atlas_of(12, labelled), np.linspace(80, 200, 12)
    chosen = [7, 2, 11]

    rows = list(csv.DictReader(io.StringIO(latent_codes(atlas, scores, chosen).to_csv().decode())))

    assert [int(row["index"]) for row in rows] == chosen
    for row, index in zip(rows, chosen, strict=True):
        assert int(row["label"]) == (atlas.labels[index] if labelled else -1)
        z_mean = [float(row[f"z_mean_{k}"]) for k in range(3)]
        z_std = [float(row[f"z_std_{k}"]) for k in range(3)]
        assert np.allclose(z_mean, atlas.z_mean[index], rtol=1e-5, atol=1e-6)
        assert np.allclose(z_std, np.exp(0.5 * atlas.z_log_var[index]), rtol=1e-5)
        assert float(row["reconstruction_error"]) == pytest.approx(atlas.reconstruction_error[index], rel=1e-5)
        assert float(row["neg_elbo"]) == pytest.approx(scores[index], rel=1e-5)


def test_the_npz_holds_the_same_arrays_by_name():
    atlas, scores = atlas_of(9), np.arange(9.0)

    with np.load(io.BytesIO(latent_codes(atlas, scores).to_npz())) as arrays:
        assert set(arrays.files) == {"index", "label", "z_mean", "z_std", "reconstruction_error", "neg_elbo"}
        assert np.array_equal(arrays["index"], np.arange(9)) and np.array_equal(arrays["label"], atlas.labels)
        assert np.array_equal(arrays["z_mean"], atlas.z_mean) and arrays["z_std"].shape == (9, 3)
        assert np.array_equal(arrays["neg_elbo"], scores.astype(np.float32))


def test_the_projector_files_are_what_tensorboard_reads():
    projector_pb2 = pytest.importorskip("tensorboard.plugins.projector.projector_config_pb2")
    from google.protobuf import text_format

    atlas, scores = atlas_of(30), np.linspace(90, 150, 30)
    codes = latent_codes(atlas, scores)

    with zipfile.ZipFile(io.BytesIO(projector_zip(codes, atlas.images, CLASS_NAMES))) as archive:
        files = {name.removeprefix(f"{FOLDER}/"): archive.read(name) for name in archive.namelist()}
    assert files == projector_files(codes, atlas.images, CLASS_NAMES)

    config = text_format.Parse(files[CONFIG].decode(), projector_pb2.ProjectorConfig())
    (embedding,) = config.embeddings
    assert (embedding.tensor_path, embedding.metadata_path, embedding.sprite.image_path) == (VECTORS, METADATA, SPRITE)
    vectors = np.loadtxt(io.StringIO(files[VECTORS].decode()), delimiter="\t")
    assert vectors.shape == (30, 3) and np.allclose(vectors, atlas.z_mean, atol=1e-5)
    metadata = files[METADATA].decode().splitlines()
    assert len(metadata) == 31 and metadata[0].split("\t") == [
        "index",
        "label",
        "class",
        "reconstruction_error",
        "neg_elbo",
    ]
    assert all(len(line.split("\t")) == 5 for line in metadata)  # a tab or line break in a class name is a space
    with Image.open(io.BytesIO(files[SPRITE])) as sprite:
        side = list(embedding.sprite.single_image_dim)
        assert side == [28, 28] and sprite.size == (6 * 28, 6 * 28)  # 30 images: a 6 x 6 grid
        first = np.asarray(sprite)[:28, :28]
    assert np.array_equal(first, atlas.images[0, ..., 0])


def test_a_large_set_gets_thumbnails_small_enough_for_the_projectors_sprite_limit(monkeypatch):
    monkeypatch.setattr(projector, "MAX_SPRITE_SIDE", 100)
    atlas = atlas_of(50, shape=(32, 32, 3))
    files = projector_files(latent_codes(atlas, np.zeros(50)), atlas.images, CLASS_NAMES)

    with Image.open(io.BytesIO(files[SPRITE])) as sprite:
        assert sprite.mode == "RGB" and sprite.size == (8 * 12, 8 * 12)  # 8 columns of 12-pixel thumbnails
    assert "single_image_dim: 12" in files[CONFIG].decode()


LOSS_COLUMNS = ["epoch", "loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"]


def test_the_losses_csv_holds_each_epochs_losses_as_the_history_does():
    history = [
        {"epoch": 1, "batches": 4, "kl_loss": 3.25, "loss": 190.1234567891, "reconstruction_loss": 186.8734567891}
        | {"val_kl_loss": 3.0, "val_loss": 170.5, "val_reconstruction_loss": 167.5, "val_extra_loss": 0.1},
        {"epoch": 2, "batches": 2, "kl_loss": 4.0, "loss": 150.0, "reconstruction_loss": 146.0},  # no validation
    ]
    header, *rows = list(csv.reader(io.StringIO(history_csv(history))))
    assert header == [*LOSS_COLUMNS, "val_extra_loss"]
    assert [int(row[0]) for row in rows] == [1, 2]
    for record, row in zip(history, rows, strict=True):
        losses = {name: value for name, value in record.items() if name.endswith("loss")}
        assert {name: float(cell) for name, cell in zip(header[1:], row[1:], strict=True) if cell} == losses


def test_a_shipped_bundles_losses_come_one_click_away_from_its_meta_as_it_is():
    history = read_meta(REPO_ROOT / "pretrained" / "mnist-conv-2d").training.history
    header, *rows = list(csv.reader(io.StringIO(history_csv(history))))
    assert header == LOSS_COLUMNS
    assert len(rows) == len(history) and float(rows[-1][4]) == history[-1]["val_loss"]
