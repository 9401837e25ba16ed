"""Model bundles: an exact save/load round trip, clear errors for damaged bundles, and atomic saves."""

from __future__ import annotations

import dataclasses
import re
import shutil
import signal
import stat
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from support import kill_when_printed
from synthetic import bundle_meta, synthetic_images

from vae_core.bundles.bundle import Atlas, build_atlas, load_atlas, load_bundle, save_bundle
from vae_core.bundles.files import ATLAS_FILE, BUNDLE_FILES, DECODER_FILE, META_FILE, MODEL_FILE, BundleError, read_meta
from vae_core.bundles.meta import FORMAT
from vae_core.bundles.registry import scan_bundles
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import VAE, build_vae

MODEL_CONFIG = ModelConfig(preset="mlp", hidden_sizes=(32,))
META = bundle_meta(TrainConfig(MODEL_CONFIG), test_images=24, class_names=None, name="tiny")


@pytest.fixture(scope="module")
def model() -> VAE:
    return build_vae(MODEL_CONFIG, seed=0)


@pytest.fixture(scope="module")
def codec(model) -> LatentCodec:
    return LatentCodec(model)


@pytest.fixture(scope="module")
def atlas(codec) -> Atlas:
    images, labels = synthetic_images(24)
    return build_atlas(codec, images, labels)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, model, atlas) -> Path:
    """One bundle saved for the whole module; tests that damage it work on a copy."""
    return save_bundle(tmp_path_factory.mktemp("bundles") / "tiny", model, META, atlas)


@pytest.fixture(scope="module")
def loaded(saved):
    return load_bundle(saved)


@pytest.fixture
def bundle_copy(saved, tmp_path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "copy"))


def test_save_writes_the_bundles_files_and_its_browser_decoder(saved):
    assert sorted(p.name for p in saved.iterdir()) == sorted([*BUNDLE_FILES, DECODER_FILE])
    assert [p.name for p in saved.parent.iterdir()] == ["tiny"]  # no staging directory left behind


def test_a_saved_bundle_can_be_read_by_whoever_can_read_any_new_folder(saved, tmp_path):
    (tmp_path / "new").mkdir()  # the umask's permissions, as `mkdir` gives everyone
    assert stat.S_IMODE(saved.stat().st_mode) == stat.S_IMODE((tmp_path / "new").stat().st_mode)


def test_atlas_describes_every_test_image(atlas, model):
    assert atlas.z_mean.shape == atlas.z_log_var.shape == (24, model.latent_dim)
    assert atlas.reconstruction_error.shape == (24,) and np.all(atlas.reconstruction_error > 0)
    assert atlas.images.dtype == np.uint8 and atlas.images.shape == (24, 28, 28, 1)


def test_loaded_model_decodes_exactly_like_the_saved_one(loaded, codec):
    z = np.random.default_rng(0).standard_normal((16, codec.latent_dim)).astype(np.float32)

    np.testing.assert_allclose(LatentCodec(loaded.model).decode(z), codec.decode(z), rtol=0, atol=1e-6)


def test_loaded_weights_are_identical(loaded, model):
    for saved_weights, loaded_weights in zip(model.get_weights(), loaded.model.get_weights(), strict=True):
        np.testing.assert_array_equal(saved_weights, loaded_weights)
    assert loaded.model.likelihood == model.likelihood and loaded.model.beta == model.beta


def test_atlas_round_trip(loaded, atlas):
    for name in ("z_mean", "z_log_var", "reconstruction_error", "images", "labels"):
        np.testing.assert_array_equal(getattr(loaded.atlas, name), getattr(atlas, name), err_msg=name)


def test_unlabelled_atlas_round_trip(tmp_path, model, atlas):
    unlabelled = Atlas(atlas.z_mean, atlas.z_log_var, atlas.reconstruction_error, atlas.images)

    path = save_bundle(tmp_path / "unlabelled", model, META, unlabelled)

    assert load_atlas(path).labels is None


def test_meta_round_trip(loaded, saved):
    assert loaded.meta == META
    assert read_meta(saved) == loaded.meta
    assert loaded.path == saved


def test_model_file_loads_in_safe_mode(saved, model):
    restored = keras.saving.load_model(saved / MODEL_FILE, safe_mode=True, compile=False)

    assert isinstance(restored, VAE)
    assert restored.latent_dim == model.latent_dim and restored.image_shape == model.image_shape


def test_load_bundle_accepts_a_string_path(saved):
    assert load_bundle(str(saved)).atlas.images.shape == (24, 28, 28, 1)


@pytest.mark.parametrize("missing", BUNDLE_FILES)
def test_missing_file_is_named(bundle_copy, missing):
    (bundle_copy / missing).unlink()

    for read in (read_meta, load_bundle):
        with pytest.raises(BundleError, match=re.escape(f"not a complete model bundle: missing {missing}.") + "$"):
            read(bundle_copy)


def test_missing_directory(tmp_path):
    with pytest.raises(BundleError, match="is not a directory"):
        load_bundle(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "meta.json is not valid JSON"),
        ("[1, 2]", f"meta.json does not describe a {FORMAT} bundle"),
        ('{"format": "other/9"}', f"meta.json does not describe a {FORMAT} bundle"),
    ],
    ids=["corrupt", "list", "other-format"],
)
def test_bad_meta(bundle_copy, content, expected):
    (bundle_copy / META_FILE).write_text(content, encoding="utf-8")

    with pytest.raises(BundleError, match=expected):
        load_bundle(bundle_copy)


def test_meta_that_is_not_utf8(bundle_copy):
    (bundle_copy / META_FILE).write_bytes(b'{"format": "\xff"}')

    with pytest.raises(BundleError, match="meta.json is not valid JSON"):
        read_meta(bundle_copy)


def test_atlas_with_another_latent_size(bundle_copy, atlas):
    arrays = atlas.to_arrays() | {"z_mean": np.zeros((24, 3), np.float32), "z_log_var": np.zeros((24, 3), np.float32)}
    np.savez_compressed(bundle_copy / ATLAS_FILE, **arrays)

    with pytest.raises(
        BundleError, match=r"does not match the model: z_mean has rows of shape \(3,\), expected \(2,\)"
    ):
        load_bundle(bundle_copy)


def test_atlas_with_another_image_shape(bundle_copy, atlas):
    np.savez_compressed(bundle_copy / ATLAS_FILE, **atlas.to_arrays() | {"images": np.zeros((24, 32, 32, 3), np.uint8)})

    with pytest.raises(BundleError, match=r"images has rows of shape \(32, 32, 3\), expected \(28, 28, 1\)"):
        load_bundle(bundle_copy)


def test_atlas_missing_an_array(bundle_copy, atlas):
    arrays = atlas.to_arrays()
    del arrays["reconstruction_error"]
    np.savez_compressed(bundle_copy / ATLAS_FILE, **arrays)

    with pytest.raises(BundleError, match=r"atlas.npz lacks the arrays reconstruction_error\.$"):
        load_bundle(str(bundle_copy))


def test_atlas_arrays_of_different_lengths(bundle_copy, atlas):
    np.savez_compressed(bundle_copy / ATLAS_FILE, **atlas.to_arrays() | {"labels": np.zeros(5, np.int64)})

    with pytest.raises(BundleError, match="atlas.npz has arrays of different lengths"):
        load_bundle(bundle_copy)


def test_corrupt_atlas(bundle_copy):
    (bundle_copy / ATLAS_FILE).write_bytes(b"garbage")

    with pytest.raises(BundleError, match="atlas.npz is not a readable .npz file"):
        load_bundle(bundle_copy)


def test_corrupt_model_file(bundle_copy):
    (bundle_copy / MODEL_FILE).write_bytes(b"not a keras archive")

    with pytest.raises(BundleError, match="model.keras is not a Keras model file"):
        load_bundle(bundle_copy)


def test_saving_over_a_bundle_replaces_it(tmp_path, model, atlas):
    path = tmp_path / "models" / "tiny"
    save_bundle(path, model, dataclasses.replace(META, unknown={"version": 1}), atlas)
    (path / "stray.txt").write_text("from the first save")
    smaller = Atlas(atlas.z_mean[:5], atlas.z_log_var[:5], atlas.reconstruction_error[:5], atlas.images[:5])

    save_bundle(path, model, dataclasses.replace(META, unknown={"version": 2}), smaller)

    assert read_meta(path).unknown == {"version": 2}
    assert len(load_atlas(path).images) == 5
    assert sorted(p.name for p in path.iterdir()) == sorted([*BUNDLE_FILES, DECODER_FILE])
    assert [p.name for p in path.parent.iterdir()] == ["tiny"]  # no .partial- or .retired- leftovers


def test_failed_save_leaves_the_old_bundle_and_no_leftovers(tmp_path, model, atlas):
    path = tmp_path / "models" / "tiny"
    save_bundle(path, model, META, atlas)

    with pytest.raises(ValueError):
        save_bundle(path, model, dataclasses.replace(META, unknown={"loss": float("nan")}), atlas)  # not JSON

    assert read_meta(path) == META
    assert [p.name for p in path.parent.iterdir()] == ["tiny"]


INTERRUPTED_SAVE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    import numpy as np

    from vae_core.bundles.bundle import build_atlas, save_bundle
    from vae_core.config import ModelConfig, TrainConfig
    from vae_core.model.codec import LatentCodec
    from vae_core.model.vae import build_vae

    model = build_vae(ModelConfig(preset="mlp", hidden_sizes=(32,)), seed=0)
    atlas = build_atlas(LatentCodec(model), np.zeros((4, 28, 28, 1), np.uint8), None)
    write_atlas = np.savez_compressed

    def write_then_hang(*args, **kwargs):
        write_atlas(*args, **kwargs)
        print("writing", flush=True)
        time.sleep(60)

    np.savez_compressed = write_then_hang
    save_bundle(Path(sys.argv[1]) / "interrupted", model, {"created": "2025"}, atlas)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL and select on pipes")
def test_save_killed_midway_leaves_nothing_the_registry_lists(models_dir, tmp_path):
    models_dir.mkdir(parents=True)
    assert kill_when_printed(INTERRUPTED_SAVE, models_dir, b"writing", tmp_path) == -signal.SIGKILL
    leftovers = list(models_dir.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".interrupted.partial-")  # killed mid-save
    assert (leftovers[0] / ATLAS_FILE).is_file() and not (leftovers[0] / META_FILE).exists()
    assert not (models_dir / "interrupted").exists()
    assert scan_bundles([models_dir]) == ([], [])
