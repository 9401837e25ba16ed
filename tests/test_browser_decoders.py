"""Decoders handed to browsers: the bundle's own, or one exported once for a bundle without it,
and never a file that cannot decode the model's z."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from synthetic import bundle_meta, synthetic_images

from vae_app.services.browser_decoders import DecoderUnavailable, served_decoder
from vae_core.bundles.archives import MAX_SUBGRAPH_DEPTH, check_decoder_archive
from vae_core.bundles.bundle import build_atlas, save_bundle
from vae_core.bundles.decoder_export import export_decoder
from vae_core.bundles.files import DECODER_FILE, BundleError
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import build_vae

CONFIG = TrainConfig(ModelConfig("mlp", latent_dim=3, hidden_sizes=(16,)))


@pytest.fixture(scope="module")
def model():
    return build_vae(CONFIG.model, seed=5)


@pytest.fixture
def bundle(model, tmp_path):
    images, labels = synthetic_images(4)
    atlas = build_atlas(LatentCodec(model), images, labels)
    return save_bundle(tmp_path / "bundles" / "small", model, bundle_meta(CONFIG, 4, None), atlas)


def decodes_like(path, model) -> bool:
    z = np.random.default_rng(0).normal(size=(6, model.latent_dim)).astype(np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.allclose(session.run(None, {"z": z})[0], LatentCodec(model).decode(z), atol=1e-5)


def test_the_bundles_own_decoder_is_served_once_under_its_content_hash(bundle, model, tmp_path):
    cache = tmp_path / "static" / "decoders"
    name = served_decoder(bundle, model, cache)

    assert (cache / name).read_bytes() == (bundle / DECODER_FILE).read_bytes()
    assert served_decoder(bundle, model, cache) == name and [p.name for p in cache.iterdir()] == [name]


def test_a_bundle_without_one_gets_one_exported_into_the_cache_not_the_bundle(bundle, model, tmp_path):
    (bundle / DECODER_FILE).unlink()
    cache = tmp_path / "static" / "decoders"

    name = served_decoder(bundle, model, cache)

    assert name.endswith("-exported.onnx") and decodes_like(cache / name, model)
    assert not (bundle / DECODER_FILE).exists()


def with_a_custom_operator(path: Path, other: Path) -> None:
    """The decoder with a node of an operator set no standard runtime has."""
    decoder = onnx.load(str(path))
    decoder.graph.node[0].domain = "example.mystery"
    decoder.graph.node[0].op_type = "Mystery"
    decoder.opset_import.append(onnx.helper.make_opsetid("example.mystery", 1))
    onnx.save(decoder, str(path))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda path, other: path.write_bytes(b"\x00not onnx at all" * 100), "is not an ONNX model"),
        (lambda path, other: shutil.copyfile(other, path), "maps [[4]] to [28, 28, 1], not latent size 3"),
        (with_a_custom_operator, "uses the custom operator example.mystery.Mystery"),
    ],
    ids=["garbage", "another-models-decoder", "custom-operator"],
)
def test_a_decoder_that_cannot_decode_this_model_is_refused_with_the_reason(bundle, model, tmp_path, damage, expected):
    other = build_vae(ModelConfig("mlp", latent_dim=4, hidden_sizes=(8,)), seed=1)
    export_decoder(other, tmp_path / "other.onnx")
    damage(bundle / DECODER_FILE, tmp_path / "other.onnx")
    cache = tmp_path / "static" / "decoders"

    with pytest.raises(DecoderUnavailable, match=expected.replace("[", r"\[").replace("]", r"\]")):
        served_decoder(bundle, model, cache)
    assert list(cache.iterdir()) == []  # nothing half-checked left for a browser to fetch


def test_a_cache_that_cannot_be_written_is_a_reason_not_a_traceback(bundle, model, tmp_path):
    not_a_folder = tmp_path / "static"
    not_a_folder.write_text("a file where the cache folder should be")

    with pytest.raises(DecoderUnavailable, match=r"could not be prepared for the browser \(\w+Error\)"):
        served_decoder(bundle, model, not_a_folder / "decoders")


def test_the_cache_keeps_the_latest_decoders_and_drops_killed_writes(bundle, model, tmp_path, monkeypatch):
    from vae_app.services import static_cache

    monkeypatch.setattr(static_cache, "MAX_CACHED_FILES", 2)
    cache = tmp_path / "decoders"
    cache.mkdir()
    newest, older, oldest = (f"{digit * 24}.onnx" for digit in "abc")
    left = f".{'d' * 24}-exported.onnx.{'e' * 32}"  # a killed write's partial file
    foreign = ["notes.onnx", ".bashrc", f"{'f' * 24}.onnx.bak"]  # not the app's: a shared folder keeps them
    for age, name in enumerate([newest, older, oldest, left, *foreign]):
        (cache / name).write_bytes(b"x")
        os.utime(cache / name, (time.time() - 7200 * (age + 1),) * 2)

    name = served_decoder(bundle, model, cache)

    assert sorted(path.name for path in cache.iterdir()) == sorted([name, newest, older, *foreign])


def constant_kept_elsewhere(output: str) -> onnx.NodeProto:
    """A Constant node whose value tensor lies in a file beside the model, which no browser is sent."""
    value = onnx.helper.make_tensor("value", onnx.TensorProto.FLOAT, [1], bytes(4), raw=True)
    onnx.external_data_helper.set_external_data(value, location="weights.bin")
    value.ClearField("raw_data")
    return onnx.helper.make_node("Constant", [], [output], value=value)


def nested_in_branches(node: onnx.NodeProto, depth: int) -> onnx.NodeProto:
    """`node` inside `depth` If nodes, each holding the next in its branches."""
    for level in range(depth):
        output = f"branch{level}"
        body = onnx.helper.make_graph(
            [node],
            f"body{level}",
            [],
            [onnx.helper.make_tensor_value_info(node.output[0], onnx.TensorProto.FLOAT, [1])],
        )
        node = onnx.helper.make_node("If", ["always"], [output], then_branch=body, else_branch=body)
    return node


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (constant_kept_elsewhere("unused"), "keeps tensor data in other files"),
        (nested_in_branches(constant_kept_elsewhere("unused"), 3), "keeps tensor data in other files"),
        (  # one level past the limit: each level holds the last twice, so deeper costs twice as much to build
            nested_in_branches(onnx.helper.make_node("Identity", ["always"], ["unused"]), MAX_SUBGRAPH_DEPTH + 1),
            "nests subgraphs deeper",
        ),
    ],
    ids=["constant-node", "constant-in-an-if-branch", "deeply-nested-branches"],
)
def test_a_decoder_whose_tensors_a_browser_cannot_fetch_is_refused_in_a_sentence(
    bundle, model, tmp_path, extra, expected
):
    decoder = onnx.load(str(bundle / DECODER_FILE))
    decoder.graph.initializer.append(onnx.helper.make_tensor("always", onnx.TensorProto.BOOL, [], [True]))
    decoder.graph.node.append(extra)  # an unused output: z still maps to images as the model asks
    onnx.save(decoder, str(bundle / DECODER_FILE))

    with pytest.raises(BundleError, match=rf"^decoder\.onnx {expected}.*; refused\.$"):
        check_decoder_archive(bundle / DECODER_FILE, model.latent_dim, model.image_shape)
    with pytest.raises(DecoderUnavailable, match=expected):
        served_decoder(bundle, model, tmp_path / "static" / "decoders")


def test_a_cached_decoder_of_another_latent_size_is_not_served_for_this_model(bundle, model, tmp_path):
    other = build_vae(ModelConfig("mlp", latent_dim=4, hidden_sizes=(8,)), seed=1)
    other_bundle = tmp_path / "other"
    other_bundle.mkdir()
    export_decoder(other, other_bundle / DECODER_FILE)
    cache = tmp_path / "static" / "decoders"
    cached = served_decoder(other_bundle, other, cache)  # right for the other model, and now in the cache
    shutil.copyfile(other_bundle / DECODER_FILE, bundle / DECODER_FILE)

    with pytest.raises(DecoderUnavailable, match=r"maps \[\[4\]\] to \[28, 28, 1\], not latent size 3"):
        served_decoder(bundle, model, cache)
    assert served_decoder(other_bundle, other, cache) == cached  # still served to the model it fits
