"""Damaged and tampered bundles are refused in one line a person can read: no traceback, no server
path, no advice to turn off Keras's safe mode; and the registry refuses them before the app offers them."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from synthetic import save_tiny_bundle

from vae_core.bundles.archives import check_atlas_archive
from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.files import ATLAS_FILE, META_FILE, MODEL_FILE, BundleError
from vae_core.bundles.registry import scan_bundles
from vae_core.size_limits import most_test_images


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_tiny_bundle(tmp_path_factory.mktemp("saved") / "good")


@pytest.fixture
def copy(saved, tmp_path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "models" / "damaged"))


def edit_model_config(bundle: Path, edit) -> None:
    """Rewrite model.keras with its config.json changed by `edit`, as a tamperer would."""
    source, rewritten = zipfile.ZipFile(bundle / MODEL_FILE), io.BytesIO()
    with zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config["config"]["encoder"]["config"]["layers"])
                data = json.dumps(config).encode()
            target.writestr(item, data)
    source.close()
    (bundle / MODEL_FILE).write_bytes(rewritten.getvalue())


def lambda_layer(layers: list) -> None:
    code = {"class_name": "__lambda__", "config": {"code": "4wAAAA==", "defaults": None, "closure": None}}
    layers[1] |= {"class_name": "Lambda", "config": {"name": layers[1]["name"], "function": code, "arguments": {}}}


def foreign_function(layers: list) -> None:
    layers[2]["config"]["activation"] = {"module": "os", "class_name": "function", "config": "system"}


def foreign_class(layers: list) -> None:
    layers[2] |= {"module": "evil", "class_name": "EvilLayer"}


def assert_refused_plainly(bundle: Path, expected: str) -> None:
    """Loading and listing both refuse `bundle` with a one-line message holding `expected`."""
    with pytest.raises(BundleError) as refusal:
        load_bundle(bundle)
    message = str(refusal.value)
    assert expected in message
    assert "\n" not in message and len(message) < 200
    assert str(bundle.parent) not in message and "safe_mode" not in message
    found, unusable = scan_bundles([bundle.parent])
    assert found == [] and [(u.name, u.reason) for u in unusable] == [(bundle.name, message)]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda_layer, "model.keras asks to run code when loaded (a Lambda layer); refused."),
        (foreign_function, "model.keras asks to run code from outside Keras (os.system); refused."),
        (foreign_class, "model.keras asks to run code from outside Keras (evil.EvilLayer); refused."),
    ],
    ids=["lambda", "foreign-function", "foreign-class"],
)
def test_a_model_file_that_asks_to_run_code_is_refused(copy, tamper, expected):
    edit_model_config(copy, tamper)
    assert_refused_plainly(copy, expected)


def test_an_empty_model_file_is_called_empty(copy):
    (copy / MODEL_FILE).write_bytes(b"")
    assert_refused_plainly(copy, "model.keras is empty (0 bytes)")


def test_a_model_file_keras_cannot_load_gets_a_short_message(copy):
    source, rewritten = zipfile.ZipFile(copy / MODEL_FILE), io.BytesIO()
    with zipfile.ZipFile(rewritten, "w") as target:  # the weights left out
        target.writestr("config.json", source.read("config.json"))
        target.writestr("metadata.json", source.read("metadata.json"))
    source.close()
    (copy / MODEL_FILE).write_bytes(rewritten.getvalue())

    with pytest.raises(BundleError) as refusal:
        load_bundle(copy)
    message = str(refusal.value)
    assert message.startswith("model.keras could not be loaded (")
    assert "\n" not in message and str(copy) not in message and "safe_mode" not in message


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"labels": np.array([{"a": 1}] * 6, dtype=object)}, "atlas.npz holds pickled Python objects; refused."),
        ({"z_mean": np.zeros((6, 5), np.float32)}, "z_mean has rows of shape (5,), expected (2,)"),
        ({"images": np.zeros((6, 8, 8, 1), np.uint8)}, "images has rows of shape (8, 8, 1), expected (28, 28, 1)"),
        ({"labels": np.zeros((6, 2), np.int64)}, "labels that are not one whole number per image"),
    ],
    ids=["pickled", "latent-size", "image-shape", "label-shape"],
)
def test_a_damaged_atlas_is_refused(copy, arrays, expected):
    with np.load(copy / ATLAS_FILE) as archive:
        current = dict(archive)
    np.savez(copy / ATLAS_FILE, **current | arrays)
    assert_refused_plainly(copy, expected)


def test_an_empty_atlas_is_refused(copy):
    with np.load(copy / ATLAS_FILE) as archive:
        empty = {name: array[:0] for name, array in archive.items()}
    np.savez(copy / ATLAS_FILE, **empty)
    assert_refused_plainly(copy, "atlas.npz holds no test images")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda meta: {"format": meta["format"]}, "its 'config' section is missing"),
        (lambda meta: meta | {"test_metrics": meta["test_metrics"] | {"neg_elbo": "n/a"}}, "test_metrics.neg_elbo"),
        (lambda meta: meta | {"training": {}}, "training.epochs_run is missing"),
        (lambda meta: meta | {"created": 2025}, "created should be a date as text, not 2025"),
        (lambda meta: meta | {"config": meta["config"] | {"epochs": "ten"}}, "its config is not valid"),
        (lambda meta: meta | {"config": {"model": []}}, "its config.model section is missing"),
        (lambda meta: meta | {"dataset": {"name": "x", "class_names": "0123"}}, "dataset.class_names"),
    ],
    ids=["format-only", "text-metric", "no-epochs", "number-date", "bad-config", "list-config", "names-as-text"],
)
def test_meta_with_missing_or_oddly_typed_fields_is_refused(copy, change, expected):
    meta = json.loads((copy / META_FILE).read_text())
    (copy / META_FILE).write_text(json.dumps(change(meta)))
    assert_refused_plainly(copy, expected)


def test_a_meta_file_nested_too_deeply_or_too_large_is_refused(copy):
    (copy / META_FILE).write_text('{"format": "vae-bundle/1", "x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    assert_refused_plainly(copy, "meta.json is not valid JSON (nested too deeply)")
    (copy / META_FILE).write_text('{"format": "vae-bundle/1", "x": "' + "x" * (17 * 2**20) + '"}')
    assert_refused_plainly(copy, "meta.json is larger than 16 MB")


def test_a_stopped_evaluation_leaves_metrics_empty_and_the_bundle_usable(copy):
    meta = json.loads((copy / META_FILE).read_text())
    metrics = meta["test_metrics"] | {"neg_elbo": None, "neg_iw_bound": None}
    (copy / META_FILE).write_text(json.dumps(meta | {"test_metrics": metrics}))
    assert load_bundle(copy).meta.test_metrics.neg_elbo is None


def test_an_atlas_damaged_past_its_headers_is_refused_when_loaded(copy):
    with np.load(copy / ATLAS_FILE) as archive:
        arrays = dict(archive)
    np.savez_compressed(copy / ATLAS_FILE, **arrays)
    data = bytearray((copy / ATLAS_FILE).read_bytes())
    with zipfile.ZipFile(copy / ATLAS_FILE) as archive:
        member = archive.getinfo("images.npy")
    middle = member.header_offset + 30 + len(member.filename) + member.compress_size // 2
    data[middle : middle + 64] = bytes(64)  # the images' compressed bytes, well after their header
    (copy / ATLAS_FILE).write_bytes(bytes(data))

    assert [info.name for info in scan_bundles([copy.parent])[0]] == ["damaged"]  # headers still read
    with pytest.raises(BundleError) as refusal:
        load_bundle(copy)
    assert str(refusal.value) == "atlas.npz is not a readable .npz file. Train or copy the model again."


def test_a_model_file_damaged_inside_its_config_is_refused(copy):
    with zipfile.ZipFile(copy / MODEL_FILE) as archive:
        config = archive.read("config.json")
    with zipfile.ZipFile(copy / MODEL_FILE, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", config)
    data = bytearray((copy / MODEL_FILE).read_bytes())
    data[60:90] = bytes(30)  # inside the deflated config.json
    (copy / MODEL_FILE).write_bytes(bytes(data))
    assert_refused_plainly(copy, "model.keras is not a Keras model file")


def test_an_atlas_of_a_million_blank_images_is_refused_from_its_headers(copy):
    rows = 1_000_000  # 0.76 MB compressed; 830 MB in the server's memory once opened
    blank = {"z_mean": np.zeros((rows, 2), np.float32), "z_log_var": np.zeros((rows, 2), np.float32)}
    blank |= {"reconstruction_error": np.zeros(rows, np.float32), "images": np.zeros((rows, 28, 28, 1), np.uint8)}
    np.savez_compressed(copy / ATLAS_FILE, **blank)
    assert (copy / ATLAS_FILE).stat().st_size < 2**20
    assert_refused_plainly(copy, "atlas.npz holds 1,000,000 test images; a bundle holds at most 10,000")


def test_an_atlas_whose_arrays_unpack_past_the_cap_is_refused_from_its_headers(copy):
    with np.load(copy / ATLAS_FILE) as archive:
        arrays = dict(archive)
    np.savez_compressed(copy / ATLAS_FILE, **arrays, padding=np.zeros((6, 25_000_000), np.uint8))  # 150 MB of zeros
    assert_refused_plainly(copy, "atlas.npz unpacks to 143 MB; a bundle's atlas takes at most 74 MB")


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (256, 256, 3)], ids=["mnist", "largest"])
def test_the_largest_test_split_a_run_saves_is_an_atlas_the_app_accepts(tmp_path, image_shape):
    rows = most_test_images(image_shape)  # what an image folder or an uploaded file holds out, at most

    def atlas(rows: int) -> None:
        latent = np.zeros((rows, 64), np.float64)  # the largest latent size, in the widest float
        arrays = {"z_mean": latent, "z_log_var": latent, "reconstruction_error": np.zeros(rows, np.float64)}
        arrays |= {"images": np.zeros((rows, *image_shape), np.uint8), "labels": np.zeros(rows, np.int64)}
        np.savez_compressed(tmp_path / ATLAS_FILE, **arrays)

    atlas(rows)
    check_atlas_archive(tmp_path, 64, image_shape)
    atlas(rows + 1)
    with pytest.raises(BundleError, match="atlas.npz (holds|unpacks to)"):
        check_atlas_archive(tmp_path, 64, image_shape)
