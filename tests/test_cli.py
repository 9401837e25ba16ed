"""The command lines `python -m vae_core.cli.train` and `python -m vae_core.cli.evaluate`, run as a user runs them."""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import REPO_ROOT, child_environment
from synthetic import synthetic_images
from tensorboard.backend.event_processing.event_accumulator import TENSORS, EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.replay import read_replay
from vae_core.cli import evaluate as evaluate_cli
from vae_core.cli import train as train_cli
from vae_core.config import ModelConfig, TrainConfig
from vae_core.training.tensorboard_logs import NO_TENSORFLOW

pytestmark = pytest.mark.slow  # the command-line programs in processes of their own, training

TIMEOUT_S = 300  # only so that a hung command fails its test instead of the whole session


def _run(module: str, args: list[str], models_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=child_environment(VAE_MODELS_DIR=str(models_dir)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def npz_file(work_dir) -> Path:
    images, labels = synthetic_images(120, seed=8)
    path = work_dir / "squares.npz"
    np.savez(path, x=images[..., 0], y=labels)
    return path


@pytest.fixture(scope="module")
def trained(work_dir, npz_file) -> tuple[subprocess.CompletedProcess, Path]:
    bundle = work_dir / "bundle"
    args = ["--dataset", str(npz_file), "--epochs", "1", "--iw-samples", "2", "--preset", "mlp", "--hidden", "32"]
    args += ["--precision", "mixed_bfloat16", "--tensorboard", str(work_dir / "logs")]
    completed = _run("vae_core.cli.train", [*args, "--batch-size", "32", "--out", str(bundle)], work_dir / "models")
    return completed, bundle


@pytest.fixture(scope="module")
def trained_conditional(work_dir, npz_file) -> tuple[subprocess.CompletedProcess, Path]:
    bundle = work_dir / "conditional"
    args = ["--dataset", str(npz_file), "--conditional", "--epochs", "2", "--iw-samples", "2", "--preset", "conv"]
    completed = _run("vae_core.cli.train", [*args, "--batch-size", "32", "--out", str(bundle)], work_dir / "models")
    return completed, bundle


def test_train_exits_cleanly_and_prints_metrics(trained):
    completed, bundle = trained
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "Training mlp (latent 2) on squares: 108 training images" in completed.stdout
    assert "Trained 1 epoch." in completed.stdout
    assert "Evaluating on the test set: 100%" in completed.stdout  # progress, every 10% off a terminal
    for name in ("neg_elbo", "reconstruction_nll", "kl", "neg_iw_bound", "knn_accuracy"):
        assert f"  {name} " in completed.stdout
    assert f"Saved bundle: {bundle}" in completed.stdout


def test_train_writes_a_loadable_bundle(trained):
    completed, path = trained
    assert completed.returncode == 0, completed.stderr
    bundle = load_bundle(path)
    assert bundle.model.latent_dim == 2
    assert bundle.model.image_shape == (28, 28, 1)
    assert bundle.atlas.z_mean.shape == (12, 2)
    assert bundle.atlas.labels is not None and len(bundle.atlas.labels) == 12
    replay = read_replay(path, 2)  # 11 of the 108 training images held out, encoded after the one epoch
    assert replay.latent_means.shape == (1, 11, 2) and len(replay.labels) == 11


def test_train_writes_tensorboard_logs_of_each_epoch_where_asked(trained, work_dir):
    completed, bundle = trained
    assert completed.returncode == 0, completed.stderr
    assert f"TensorBoard logs, to follow with: tensorboard --logdir {work_dir / 'logs'}" in completed.stdout
    history = load_bundle(bundle).meta.training.history
    for run, loss in (("train", "loss"), ("validation", "val_loss")):
        events = EventAccumulator(str(work_dir / "logs" / run), size_guidance={TENSORS: 0})
        events.Reload()
        (scalar,) = events.Tensors("epoch_loss")  # the one epoch
        assert scalar.step == 0 and float(make_ndarray(scalar.tensor_proto)) == pytest.approx(history[0][loss])
    images = EventAccumulator(str(work_dir / "logs" / "images"), size_guidance={TENSORS: 0})
    images.Reload()
    assert [event.step for event in images.Tensors("latent_snapshot")] == [0]


def test_train_refuses_tensorboard_logs_it_cannot_write_in_a_line(npz_file, tmp_path, capsys, monkeypatch):
    refused = {
        str(npz_file): "is a file, or inside one: name a folder, or a path not taken yet.",
        str(tmp_path / "model" / "logs"): "is in the model's folder, which saving the model replaces",
    }
    for folder, expected in refused.items():
        with pytest.raises(SystemExit) as caught:
            train_cli.main(["--dataset", str(npz_file), "--out", str(tmp_path / "model"), "--tensorboard", folder])
        assert caught.value.code == 2 and expected in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        train_cli.main(["--dataset", str(npz_file), *CLUSTER, "--tensorboard", str(tmp_path / "logs")])
    assert caught.value.code == 2 and "--tensorboard logs a run on one host" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as on a JAX-only install
    with pytest.raises(SystemExit) as caught:
        train_cli.main(["--dataset", str(npz_file), "--tensorboard", str(tmp_path / "logs")])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: {NO_TENSORFLOW}\n")


def test_train_conditional_saves_a_model_conditioned_on_the_datas_classes(trained_conditional):
    completed, path = trained_conditional
    assert completed.returncode == 0, completed.stderr
    assert "Training conditional conv (latent 2) on squares" in completed.stdout
    assert "Test metrics are conditional" in completed.stdout
    bundle = load_bundle(path)
    assert bundle.model.classes == 10 and bundle.meta.model.classes == 10
    assert list(read_replay(path, 2).epochs) == [1, 2]


def test_train_meta_records_the_run(trained):
    completed, path = trained
    assert completed.returncode == 0, completed.stderr
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    metrics = meta["test_metrics"]
    for name in ("neg_elbo", "neg_iw_bound", "knn_accuracy"):
        assert isinstance(metrics[name], float) and math.isfinite(metrics[name]), name
    assert metrics["iw_samples"] == 2 and metrics["images"] == 12
    training = meta["training"]
    assert training["status"] == "completed"
    assert len(training["history"]) == training["epochs_run"] == 1
    assert math.isfinite(training["history"][0]["val_loss"])
    assert isinstance(training["machine"], str) and training["machine"]
    assert {"python", "keras", "backend", "numpy"} <= set(meta["versions"])
    created = datetime.datetime.fromisoformat(meta["created"])
    assert created.tzinfo is not None
    assert meta["config"]["epochs"] == 1
    assert meta["config"]["precision"] == "mixed_bfloat16"
    assert meta["config"]["model"]["hidden_sizes"] == [32]
    assert meta["dataset"]["image_shape"] == [28, 28, 1]
    assert (meta["dataset"]["train_images"], meta["dataset"]["test_images"]) == (108, 12)


def test_evaluate_remeasures_and_saves(trained, npz_file, work_dir):
    completed, bundle = trained
    assert completed.returncode == 0, completed.stderr
    before = json.loads((bundle / "meta.json").read_text(encoding="utf-8"))
    before["decoder"] = {"file": "decoder.onnx"}  # a field from a later version survives the rewrite
    later_metric = before | {"test_metrics": before["test_metrics"] | {"fid": 3.0}}  # but not its old figures
    (bundle / "meta.json").write_text(json.dumps(later_metric), encoding="utf-8")
    args = [str(bundle), "--data", str(npz_file), "--iw-samples", "2", "--save"]
    evaluated = _run("vae_core.cli.evaluate", args, work_dir / "models")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "Traceback" not in evaluated.stderr
    assert "test split (12 images)" in evaluated.stdout
    assert "neg_iw_bound" in evaluated.stdout
    assert "Saved to" in evaluated.stdout
    after = json.loads((bundle / "meta.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in after.items() if k != "test_metrics"} == {
        k: v for k, v in before.items() if k != "test_metrics"
    }
    # Same model, test split, seed and samples as at training time: the same figures.
    for name, value in before["test_metrics"].items():
        assert after["test_metrics"][name] == pytest.approx(value, rel=1e-4), name
    assert "fid" not in after["test_metrics"]


BAD_RUNS = {
    "latent-dim 0": ("vae_core.cli.train", ["--latent-dim", "0"], "latent_dim=0"),
    "unknown preset": ("vae_core.cli.train", ["--preset", "nope"], "nope"),
    "epochs not a number": ("vae_core.cli.train", ["--epochs", "abc"], "abc"),
    "hidden not integers": ("vae_core.cli.train", ["--hidden", "1,x"], "1,x"),
    "no dataset": ("vae_core.cli.train", None, "--dataset"),
    "missing dataset file": ("vae_core.cli.train", ["--dataset", "{missing}"], "does-not-exist.npz"),
    "not a bundle": ("vae_core.cli.evaluate", ["{empty}"], "not a complete model bundle"),
    "conditional without labels": ("vae_core.cli.train", ["--dataset", "{unlabelled}", "--conditional"], "no labels"),
}


@pytest.fixture(scope="module")
def bad_runs(work_dir, npz_file) -> dict[str, subprocess.CompletedProcess]:
    """Every bad command, a few at a time: each spends most of its time importing Keras."""
    empty = work_dir / "empty"
    empty.mkdir()
    unlabelled = work_dir / "unlabelled.npz"
    np.savez(unlabelled, x=synthetic_images(40, seed=9)[0][..., 0])
    places = {"missing": str(work_dir / "does-not-exist.npz"), "empty": str(empty), "unlabelled": str(unlabelled)}
    commands = {}
    for name, (module, args, _) in BAD_RUNS.items():
        if args is None:
            args = ["--epochs", "1"]
        elif module == "vae_core.cli.train" and "--dataset" not in args:
            args = ["--dataset", str(npz_file), *args]
        commands[name] = (module, [arg.format(**places) for arg in args])
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        models_dir = work_dir / "models"
        futures = {name: pool.submit(_run, module, args, models_dir) for name, (module, args) in commands.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", BAD_RUNS)
def test_bad_arguments_fail_with_a_message_and_no_traceback(bad_runs, name):
    completed = bad_runs[name]
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr, completed.stderr
    error_lines = [line for line in completed.stderr.splitlines() if "error:" in line]
    assert error_lines, completed.stderr
    assert BAD_RUNS[name][2] in error_lines[0]
    assert "Saved bundle" not in completed.stdout


# A cluster of two, each flag overridden by any given after it.
CLUSTER = ["--data-parallel", "--coordinator", "10.0.0.1:1234", "--processes", "2", "--process-id", "0"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--latent-dim", "0"], "latent_dim=0"),
        (["--iw-samples", "0"], "--iw-samples must be at least 1"),
        (["--train-limit", "0"], "train_limit=0"),
        (["--scored-images", "0"], "--scored-images must be at least 1"),
        (["--name", "///"], "has no letters or digits"),
        (["--out", "a" * 300], "is too long: at most"),
        (["--out", "a" * 300 + "/model"], "cannot be used (File name too long): choose a shorter or other path"),
        (["--epochs", "2", "--kl-warmup", "3"], "kl_warmup_epochs=3"),
        (["--coordinator", "10.0.0.1:1234"], "needs --data-parallel, --coordinator, --processes and --process-id"),
        ([*CLUSTER, "--coordinator", "10.0.0.1"], "Expected the coordinator as HOST:PORT"),
        ([*CLUSTER, "--processes", "1"], "A cluster joins at least 2 processes"),
        ([*CLUSTER, "--process-id", "2"], "Expected a process id from 0 to 1. Received: 2"),
    ],
)
def test_train_main_rejects_bad_flags_in_process(npz_file, capsys, args, expected):
    with pytest.raises(SystemExit) as caught:
        train_cli.main(["--dataset", str(npz_file), *args])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and expected in err


def test_a_save_that_fails_on_the_file_system_is_said_in_a_line(npz_file, tmp_path, capsys, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "model"))

    monkeypatch.setattr("vae_core.training.pipeline.save_bundle", full_disk)
    args = ["--dataset", str(npz_file), "--epochs", "1", "--iw-samples", "1", "--out", str(tmp_path / "model")]
    with pytest.raises(SystemExit) as caught:
        train_cli.main([*args, "--preset", "mlp", "--hidden", "8", "--train-limit", "16"])
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert "error: the run could not finish (No space left on device); no bundle was saved." in err
    assert str(tmp_path) not in err and not (tmp_path / "model").exists()


def test_evaluate_main_rejects_a_non_bundle_in_process(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        evaluate_cli.main([str(tmp_path)])
    assert caught.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_flags_left_out_take_the_configs_defaults_and_help_gives_its_ranges():
    parser = train_cli.build_parser()
    settings = train_cli.settings_from_args(parser.parse_args(["--dataset", "mnist"]))
    assert TrainConfig.from_settings(settings) == TrainConfig()
    assert "between 1 and 65536 (default 128)" in " ".join(parser.format_help().split())


def test_flags_set_the_configs_fields_the_train_form_sets():
    parser = train_cli.build_parser()
    flags = ["--dataset", "mnist", "--preset", "mlp", "--hidden", "64,16", "--kl-warmup", "2", "--train-limit", "500"]
    config = TrainConfig.from_settings(train_cli.settings_from_args(parser.parse_args(flags)))
    assert config == TrainConfig(ModelConfig("mlp", hidden_sizes=(64, 16)), kl_warmup_epochs=2, train_limit=500)


def test_sizes_parses_hidden_layer_lists():
    assert train_cli.sizes("256") == (256,)
    assert train_cli.sizes("64,16,8") == (64, 16, 8)


def test_train_reads_an_image_folder_at_the_size_and_colour_asked(work_dir):
    from PIL import Image

    folder = work_dir / "photos"
    for label, colour in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
        (folder / label).mkdir(parents=True)
        for index in range(15):
            Image.new("RGB", (30 + index, 24), colour).save(folder / label / f"{index}.jpg")
    (folder / "red" / "broken.jpg").write_bytes(b"not a jpeg")
    args = ["--dataset", str(folder), "--image-size", "12", "--color", "rgb", "--preset", "mlp", "--hidden", "16"]
    args += ["--epochs", "1", "--iw-samples", "2", "--out", str(work_dir / "rgb")]
    completed = _run("vae_core.cli.train", args, work_dir / "models")
    assert completed.returncode == 0, completed.stderr
    assert "Left out 1 file of photos that could not be read as images." in completed.stderr
    bundle = load_bundle(work_dir / "rgb")
    assert bundle.model.image_shape == (12, 12, 3) and bundle.meta.dataset.class_names == ("blue", "red")
    assert bundle.meta.dataset.source == "image folder photos"
