"""Image folders as datasets: listing (classes by subfolder, or none), files that are not images,
EXIF orientation, resizing, batches read from disk, and training on them end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic import write_image_folder

from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.replay import read_replay
from vae_core.config import ConfigError, ImageSettings, ModelConfig, TrainConfig
from vae_core.data import image_folder
from vae_core.data.batches import Share
from vae_core.data.datasets import DatasetError
from vae_core.data.image_folder import FileBatches, ImageFiles, open_image_folder, read_image
from vae_core.training.pipeline import train_and_save
from vae_core.training.train import train_vae

SIDE = 16
GRAY = ImageSettings(SIDE, 1)


def square(brightness: int, size: int = 40, mode: str = "L") -> Image.Image:
    """A dark picture with a bright square in its top-left quarter."""
    picture = Image.new(mode, (size, size), 0)
    picture.paste(brightness if mode == "L" else (brightness, 0, 0), (0, 0, size // 2, size // 2))
    return picture


@pytest.fixture
def labelled(tmp_path):
    """Two classes in subfolders, 12 images each in three formats, a non-image, a hidden file."""
    root = write_image_folder(tmp_path / "shapes", suffixes=("png", "jpg", "bmp"))
    (root / "bright" / "notes.png").write_text("not a picture")
    (root / "dim" / ".hidden.png").write_bytes(b"")
    return root


def test_subfolders_are_the_classes_and_files_that_are_not_images_are_counted(labelled):
    dataset = open_image_folder(labelled, GRAY, seed=0)
    assert dataset.class_names == ("bright", "dim")
    assert len(dataset.x_train) + len(dataset.x_test) == 24
    assert isinstance(dataset.x_train, ImageFiles) and dataset.x_test.shape == (2, SIDE, SIDE, 1)
    assert dataset.notes == ("Left out 1 file of shapes that could not be read as images.",)
    bright = dataset.x_test[dataset.y_test == 0]
    assert all(image[: SIDE // 2, : SIDE // 2].mean() > 200 for image in bright)


def test_a_folder_of_images_alone_is_unlabelled(tmp_path):
    for index in range(5):
        square(200).save(tmp_path / f"{index}.png")
    dataset = open_image_folder(tmp_path, ImageSettings(SIDE, 3))
    assert dataset.class_names is None and dataset.y_train is None and dataset.y_test is None
    assert dataset.x_test.shape == (1, SIDE, SIDE, 3)
    with pytest.raises(DatasetError, match="has no labels"):
        dataset.condition_classes(True)


@pytest.mark.parametrize("contents", ["nothing", "text"])
def test_a_folder_without_images_is_refused_with_a_reason(tmp_path, contents):
    if contents == "text":
        (tmp_path / "a.png").write_text("no")
    with pytest.raises(DatasetError, match="holds 0 readable images"):
        open_image_folder(tmp_path, GRAY)


def test_a_missing_folder_and_an_impossible_size_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        open_image_folder(tmp_path / "nowhere", GRAY)
    with pytest.raises(ConfigError, match="side from 8 to 256"):
        ImageSettings(4, 1)


def test_images_are_turned_upright_as_their_exif_says_and_resized(tmp_path):
    picture = square(255, size=40)
    exif = picture.getexif()
    exif[0x0112] = 3  # rotated 180 degrees: upright, the square is bottom-right
    picture.save(tmp_path / "turned.jpg", exif=exif)
    pixels = read_image(tmp_path / "turned.jpg", (SIDE, SIDE, 1))
    assert pixels.shape == (SIDE, SIDE, 1)
    assert pixels[SIDE // 2 :, SIDE // 2 :].mean() > 200 and pixels[: SIDE // 2, : SIDE // 2].mean() < 50


def test_batches_are_read_from_disk_reshuffled_each_epoch_and_carry_conditions(labelled):
    dataset = open_image_folder(labelled, GRAY)
    batches = FileBatches(dataset.x_train, dataset.y_train, 2, batch_size=8, shuffle_seed=0)
    ((x, c),) = batches[0]
    assert len(batches) == 3 and x.shape == (8, SIDE, SIDE, 1) and x.dtype == np.float32 and x.max() <= 1.0
    np.testing.assert_array_equal(c.argmax(axis=1), dataset.y_train[batches.order[:8]])
    first = batches.order.copy()
    batches.on_epoch_end()
    assert not np.array_equal(first, batches.order)


def test_an_image_that_fails_to_decode_is_stood_in_for_and_counted(labelled):
    dataset = open_image_folder(labelled, GRAY)
    batches = FileBatches(dataset.x_train, None, 0, batch_size=len(dataset.x_train))
    broken = dataset.x_train.paths[3]
    with open(broken, "r+b") as stream:
        stream.truncate(60)  # listed while whole, cut short since
    x = batches[0]
    assert x.shape == (len(dataset.x_train), SIDE, SIDE, 1)
    assert batches.unreadable == {broken}
    np.testing.assert_array_equal(x[3], x[0])


def test_a_share_of_a_batch_that_is_all_damaged_stands_in_the_first_readable_image(labelled):
    dataset = open_image_folder(labelled, GRAY)
    files = dataset.x_train[:6]
    for path in files.paths[:2]:  # the first process's share of the first batch of four
        truncate(path)
    (element,) = FileBatches(files, np.arange(6) % 2, 2, batch_size=4, share=Share(0, 2))[0]
    x, conditions = element
    first_readable = read_image(files.paths[2], GRAY.image_shape).astype(np.float32) / 255
    np.testing.assert_array_equal(x, np.stack([first_readable] * 2))
    assert conditions.tolist() == [[1, 0], [1, 0]]  # the label of the image that stood in, row 2


@pytest.mark.slow
def test_training_reads_the_folder_batch_by_batch_and_saves_a_bundle(labelled, tmp_path):
    dataset = open_image_folder(labelled, GRAY)
    config = TrainConfig(
        ModelConfig(preset="conv", latent_dim=2, classes=2), batch_size=8, epochs=2, validation_split=0.2
    ).with_data(dataset.image_shape)
    result, metrics = train_and_save(config, dataset, tmp_path / "bundle", iw_samples=2)
    assert result.status == "completed", result.message
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.atlas.images.shape == (2, SIDE, SIDE, 1) and bundle.model.classes == 2
    assert read_replay(tmp_path / "bundle", 2).latent_means.shape == (2, 4, 2)  # 20% of 22
    assert metrics.knn_accuracy is None  # conditional


@pytest.mark.slow
def test_training_on_files_equals_training_on_the_same_images_read(labelled):
    """Up to the order of batches: the first epoch's loss on one and the other agree closely."""
    dataset = open_image_folder(labelled, GRAY)
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2, hidden_sizes=(16,)), batch_size=22, epochs=1)
    config = config.with_data(dataset.image_shape)
    from_files = train_vae(config, dataset.x_train)
    from_memory = train_vae(config, dataset.x_train.read()[0])
    assert from_files.history[0]["val_loss"] == pytest.approx(from_memory.history[0]["val_loss"], rel=0.02)


def truncate(path: str | Path) -> None:
    with open(path, "r+b") as stream:
        stream.truncate(60)  # the header still opens; the pixels no longer decode


def image_paths(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if p.suffix in (".png", ".jpg", ".bmp") and p.stat().st_size > 100}


def test_a_damaged_test_image_is_left_out_of_the_atlas_and_counted(labelled):
    first = open_image_folder(labelled, GRAY)
    test_paths = sorted(image_paths(labelled) - set(first.x_train.paths))
    truncate(test_paths[0])
    again = open_image_folder(labelled, GRAY)
    assert len(again.x_test) == len(first.x_test) - 1 == len(again.y_test)
    assert again.notes == ("Left out 2 files of shapes that could not be read as images.",)


def test_any_failure_to_decode_marks_the_image_unreadable(labelled, monkeypatch):
    dataset = open_image_folder(labelled, GRAY)
    failing = dataset.x_train.paths[1]
    real = image_folder.read_image

    def flaky(path, shape):
        if path == failing:
            raise SyntaxError("broken PNG file")  # what Pillow raises for a bad chunk
        return real(path, shape)

    monkeypatch.setattr(image_folder, "read_image", flaky)
    images, readable = dataset.x_train[:3].read()
    assert list(readable) == [True, False, True] and images[1].max() == 0


def test_files_of_other_formats_are_not_decoded_whatever_their_name(tmp_path):
    write_image_folder(tmp_path / "mixed", per_class=3)
    Image.new("L", (20, 20), 255).save(tmp_path / "mixed" / "bright" / "really.png", format="GIF")
    Image.new("L", (20, 20), 255).save(tmp_path / "mixed" / "dim" / "really.jpg", format="TIFF")
    dataset = open_image_folder(tmp_path / "mixed", GRAY)
    assert len(dataset.x_train) + len(dataset.x_test) == 6
    assert dataset.notes == ("Left out 2 files of mixed that could not be read as images.",)


@pytest.mark.slow
def test_a_damaged_training_image_still_ends_in_a_saved_bundle(labelled, tmp_path):
    dataset = open_image_folder(labelled, GRAY)
    for path in dataset.x_train.paths[:2]:  # among the images the 5-NN classifier is fitted on
        truncate(path)
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2, hidden_sizes=(8,)), batch_size=8, epochs=1)
    result, metrics = train_and_save(config.with_data(dataset.image_shape), dataset, tmp_path / "b", iw_samples=2)
    assert "2 image files could not be decoded; another image was used instead." in result.message
    assert load_bundle(tmp_path / "b").meta.training.status == "completed"
    assert metrics.knn_accuracy is not None


def test_an_unpacked_archive_is_named_after_the_archive_in_every_message(tmp_path):
    (tmp_path / "unpacked-xyz").mkdir()
    (tmp_path / "unpacked-xyz" / "a.png").write_text("no")
    with pytest.raises(DatasetError) as refused:
        open_image_folder(tmp_path / "unpacked-xyz", GRAY, name="holiday")
    assert "holiday holds 0 readable images" in str(refused.value) and "xyz" not in str(refused.value)
