"""Importing a VAE built outside vae_core: plain Keras models (Sequential and functional) as .keras
and as ONNX files, in the layouts other tools write (flat, channels first, one output of both
halves, three outputs, logits or intensities), become bundles the app loads; every file that will
not do is refused with a sentence."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np
import onnx
import pytest

from tests.synthetic import synthetic_dataset
from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.files import BundleError
from vae_core.bundles.sharing import pack_bundle, unpack_bundle
from vae_core.cli import import_model as import_cli
from vae_core.data.datasets import as_intensities
from vae_core.imports.importer import ImportRequest, import_model
from vae_core.imports.keras_files import keras_as_onnx
from vae_core.model.onnx_codec import OnnxModel, codec_for

SHAPE = (12, 12, 1)
LATENT = 2


@pytest.fixture(scope="module")
def dataset():
    return synthetic_dataset(n_train=96, n_test=40, shape=SHAPE)


def sequential_pair(folder: Path, side: int = 12) -> tuple[Path, Path, keras.Model, keras.Model]:
    """A tutorial's MLP VAE as two plain keras.Sequential models: flat pixels in (side x side), one
    output of both halves; the decoder gives logits, flat."""
    keras.utils.set_random_seed(1)
    pixels = side * side
    encoder = keras.Sequential(
        [keras.Input((pixels,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2 * LATENT)]
    )
    decoder = keras.Sequential(
        [keras.Input((LATENT,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(pixels)]
    )
    paths = folder / "encoder.keras", folder / "decoder.keras"
    encoder.save(paths[0])
    decoder.save(paths[1])
    return *paths, encoder, decoder


def channels_first_pair(folder: Path) -> tuple[Path, Path, keras.Model, keras.Model]:
    """PyTorch's layout as ONNX: images (n, 1, 12, 12), z mean, log variance and z as three outputs;
    the decoder gives intensities (n, 1, 12, 12) through its own sigmoid."""
    keras.utils.set_random_seed(2)
    images = keras.Input((1, 12, 12))
    hidden = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(images))
    mean, log_var = keras.layers.Dense(LATENT)(hidden), keras.layers.Dense(LATENT)(hidden)
    encoder = keras.Model(images, [mean, log_var, keras.layers.Add()([mean, log_var])])
    z = keras.Input((LATENT,))
    pixels = keras.layers.Dense(144, activation="sigmoid")(keras.layers.Dense(8, activation="tanh")(z))
    decoder = keras.Model(z, keras.layers.Reshape((1, 12, 12))(pixels))
    paths = []
    for name, model in (("encoder", encoder), ("decoder", decoder)):
        model.save(folder / f"{name}.keras")
        keras_as_onnx(folder / f"{name}.keras", folder / f"{name}.onnx")
        paths.append(folder / f"{name}.onnx")
    return *paths, encoder, decoder


def test_a_sequential_keras_pair_imports_as_a_bundle_that_decodes_as_keras_does(tmp_path, dataset):
    encoder_file, decoder_file, encoder, decoder = sequential_pair(tmp_path)
    steps = []
    meta = import_model(ImportRequest(encoder_file, decoder_file, tmp_path / "mlp", iw_samples=4), dataset,
                        progress=lambda fraction, step: steps.append((fraction, step)))  # fmt: skip
    assert (meta.imported.format, meta.imported.decoder_output, meta.model.preset) == ("keras", "logits", "imported")
    assert [fraction for fraction, _ in steps] == sorted(fraction for fraction, _ in steps) and steps[-1][0] == 1.0
    bundle = load_bundle(tmp_path / "mlp")
    assert isinstance(bundle.model, OnnxModel) and not (tmp_path / "mlp" / "model.keras").exists()
    codec = codec_for(bundle.model)
    x = as_intensities(dataset.x_test[:8])
    both = np.asarray(encoder(x.reshape(8, -1)))
    np.testing.assert_allclose(codec.encode(dataset.x_test[:8])[0], both[:, :LATENT], atol=1e-5)
    np.testing.assert_allclose(bundle.atlas.z_log_var[:8], both[:, LATENT:], atol=1e-5)
    z = np.random.default_rng(0).standard_normal((5, LATENT)).astype(np.float32)
    expected = 1 / (1 + np.exp(-np.asarray(decoder(z)))).reshape(5, *SHAPE)
    np.testing.assert_allclose(codec.decode(z), expected, atol=1e-5)
    figures = meta.test_metrics
    assert figures.neg_elbo > 0 and figures.neg_iw_bound <= figures.neg_elbo + 1e-6 and figures.images == 40
    assert "trained elsewhere" in meta.training.message and meta.training.epochs_run == 0


def test_channels_first_onnx_with_three_outputs_and_intensities_imports(tmp_path, dataset):
    encoder_file, decoder_file, encoder, decoder = channels_first_pair(tmp_path)
    meta = import_model(ImportRequest(encoder_file, decoder_file, tmp_path / "torch-like", iw_samples=4), dataset)
    assert (meta.imported.format, meta.imported.decoder_output) == ("onnx", "intensities")
    codec = codec_for(load_bundle(tmp_path / "torch-like").model)
    x = as_intensities(dataset.x_test[:6])
    mean, log_var, _ = (np.asarray(a) for a in encoder(np.transpose(x, (0, 3, 1, 2))))
    z_mean, z_log_var = codec.encode(dataset.x_test[:6])
    np.testing.assert_allclose(z_mean, mean, atol=1e-5)
    np.testing.assert_allclose(z_log_var, log_var, atol=1e-5)
    expected = np.transpose(np.asarray(decoder(mean)), (0, 2, 3, 1))
    np.testing.assert_allclose(codec.decode(mean), expected, atol=1e-5)
    # log p(x|z) from intensities, clipped: what the same Bernoulli gives in numpy.
    p = np.clip(expected.reshape(6, -1).astype(np.float64), 1e-7, 1 - 1e-7)
    flat = x.reshape(6, -1)
    np.testing.assert_allclose(
        codec.log_likelihood(mean, dataset.x_test[:6]),
        np.sum(flat * np.log(p) + (1 - flat) * np.log1p(-p), axis=1),
        rtol=1e-4,
    )


def test_an_imported_bundle_zips_and_unzips_as_any_bundle(tmp_path, dataset):
    encoder_file, decoder_file, *_ = sequential_pair(tmp_path)
    import_model(ImportRequest(encoder_file, decoder_file, tmp_path / "models" / "mlp", iw_samples=2), dataset)
    copy = unpack_bundle(pack_bundle(tmp_path / "models" / "mlp"), tmp_path / "models", "mlp-copy")
    assert load_bundle(copy).meta.test_metrics == load_bundle(tmp_path / "models" / "mlp").meta.test_metrics


def test_the_decoder_output_can_be_named_rather_than_guessed(tmp_path, dataset):
    encoder_file, decoder_file, *_ = sequential_pair(tmp_path)
    request = ImportRequest(encoder_file, decoder_file, tmp_path / "named", decoder_output="intensities", iw_samples=2)
    assert import_model(request, dataset).imported.decoder_output == "intensities"


def lambda_model(folder: Path) -> Path:
    model = keras.Sequential([keras.Input((144,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(4)])
    model.save(folder / "lambda.keras")
    return folder / "lambda.keras"


def with_custom_operator(path: Path, folder: Path) -> Path:
    model = onnx.load(path)
    model.graph.node[0].domain = "com.example"
    model.opset_import.append(onnx.helper.make_opsetid("com.example", 1))
    onnx.save(model, folder / "custom.onnx")
    return folder / "custom.onnx"


def with_external_data(path: Path, folder: Path) -> Path:
    model = onnx.load(path)
    onnx.save(
        model, folder / "external.onnx", save_as_external_data=True, all_tensors_to_one_file=True, size_threshold=0
    )
    return folder / "external.onnx"


def text_file(folder: Path, name: str) -> Path:
    (folder / name).write_text("not a model")
    return folder / name


@pytest.mark.parametrize(
    ("make", "role", "message"),
    [
        (lambda d, e, dec: lambda_model(d), "encoder", "cannot be loaded safely by Keras .*would run code"),
        (lambda d, e, dec: with_custom_operator(e, d), "encoder", "custom operator com.example"),
        (lambda d, e, dec: with_external_data(e, d), "encoder", "keeps tensor data in other files"),
        (lambda d, e, dec: text_file(d, "broken.onnx"), "decoder", "broken.onnx is not an ONNX model"),
        (lambda d, e, dec: text_file(d, "broken.keras"), "encoder", "broken.keras cannot be loaded safely"),
        (lambda d, e, dec: text_file(d, "notes.txt"), "decoder", "neither a .keras nor an .onnx file"),
        (lambda d, e, dec: dec, "encoder", "gives images of|takes images of shape"),
        (lambda d, e, dec: e, "decoder", "takes z of shape"),
        (lambda d, e, dec: d / "missing.onnx", "encoder", "missing.onnx is not a file"),
    ],
    ids=[
        "lambda-layer",
        "custom-operator",
        "external-data",
        "not-onnx",
        "not-keras",
        "other-suffix",
        "swapped",
        "decoder-is-an-encoder",
        "missing",
    ],  # fmt: skip
)
def test_files_that_will_not_do_are_refused_in_a_sentence(tmp_path, dataset, make, role, message):
    encoder_file, decoder_file, *_ = channels_first_pair(tmp_path)
    bad = make(tmp_path, encoder_file, decoder_file)
    files = {"encoder": encoder_file, "decoder": decoder_file} | {role: bad}
    with pytest.raises(BundleError, match=message) as refused:
        import_model(ImportRequest(files["encoder"], files["decoder"], tmp_path / "refused"), dataset)
    assert str(tmp_path) not in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "refused").exists()


def test_images_of_another_size_than_the_datas_are_refused(tmp_path):
    encoder_file, decoder_file, *_ = sequential_pair(tmp_path)
    other = synthetic_dataset(n_train=32, n_test=8, shape=(16, 16, 1))
    with pytest.raises(BundleError, match=r"takes images of shape \[144\]; the data's are \[16, 16, 1\]"):
        import_model(ImportRequest(encoder_file, decoder_file, tmp_path / "refused"), other)


def test_a_zip_bomb_named_keras_is_refused_without_unpacking(tmp_path, dataset):
    _, decoder_file, *_ = sequential_pair(tmp_path)
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{" + " " * 50_000_000 + "}")
    with pytest.raises(BundleError, match="bomb.keras cannot be loaded safely"):
        import_model(ImportRequest(bomb, decoder_file, tmp_path / "refused"), dataset)


def test_the_command_line_imports_and_refuses_with_status_two(tmp_path, dataset, capsys):
    encoder_file, decoder_file, *_ = sequential_pair(tmp_path)
    data = tmp_path / "data.npz"
    np.savez(
        data, x=np.concatenate([dataset.x_train, dataset.x_test]), y=np.concatenate([dataset.y_train, dataset.y_test])
    )
    out = tmp_path / "models" / "cli-import"
    arguments = [str(encoder_file), str(decoder_file), "--dataset", str(data), "--out", str(out), "--iw-samples", "2"]
    assert import_cli.main(arguments) == 0
    printed = capsys.readouterr().out
    assert "decoder gives logits" in printed and "neg_elbo" in printed
    assert load_bundle(out).meta.imported.encoder == "encoder.keras"
    from vae_core.cli import evaluate as evaluate_cli  # the imported bundle measured again, as any bundle

    assert evaluate_cli.main([str(out), "--iw-samples", "2", "--data", str(data)]) == 0
    assert "neg_iw_bound" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        import_cli.main([str(decoder_file), str(decoder_file), "--dataset", str(data), "--out", str(tmp_path / "no")])
    assert refused.value.code == 2 and "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
def test_the_flagships_own_encoder_and_decoder_through_onnx_measure_as_keras_does(tmp_path):
    """The shipped mnist-conv-2d's encoder and decoder, exported to ONNX and imported, measure as its
    Keras model does with the same seed and k, on 500 test images (the whole split takes minutes; on
    all 10,000 the figures equal its meta.json's: bench/RESULTS.md)."""
    import dataclasses

    from vae_core.analysis.evaluation import evaluate
    from vae_core.bundles.registry import PRETRAINED_DIR
    from vae_core.data.datasets import DatasetUnavailable, load_dataset
    from vae_core.data.image_folder import knn_sample
    from vae_core.model.codec import LatentCodec

    try:
        mnist = load_dataset("mnist")
    except DatasetUnavailable:
        pytest.skip("MNIST is not on this machine (set VAE_DATA_DIR to a folder holding mnist.npz)")
    shipped = load_bundle(PRETRAINED_DIR / "mnist-conv-2d")
    for name, part in (("encoder", shipped.model.encoder), ("decoder", shipped.model.decoder)):
        part.save(tmp_path / f"{name}.keras")
        keras_as_onnx(tmp_path / f"{name}.keras", tmp_path / f"{name}.onnx")
    subset = dataclasses.replace(mnist, x_test=mnist.x_test[:500], y_test=mnist.y_test[:500])
    meta = import_model(
        ImportRequest(tmp_path / "encoder.onnx", tmp_path / "decoder.onnx", tmp_path / "flagship"), subset
    )
    knn_images, knn_labels = knn_sample(subset, 0)
    keras_figures = evaluate(LatentCodec(shipped.model), subset.x_test, subset.y_test, knn_images, knn_labels, seed=0)
    assert meta.imported.decoder_output == "logits"
    for name in ("neg_elbo", "neg_iw_bound", "reconstruction_nll", "kl"):
        assert getattr(meta.test_metrics, name) == pytest.approx(getattr(keras_figures, name), abs=0.05), name
    assert meta.test_metrics.knn_accuracy == keras_figures.knn_accuracy
    decoder = load_bundle(tmp_path / "flagship").model.decoder
    z = shipped.atlas.z_mean[:64]
    import onnxruntime

    browser_pictures = onnxruntime.InferenceSession(str(decoder)).run(None, {"z": z})[0]
    assert np.abs(browser_pictures - LatentCodec(shipped.model).decode(z)).max() <= 2 / 255
