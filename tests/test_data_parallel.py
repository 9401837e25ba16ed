"""Data-parallel training with Keras's distribution API: on four CPU devices under JAX (in a
subprocess, as JAX fixes its devices at import), and refused plainly on a backend without it."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from multi_host_checks import CONFIG
from PIL import Image
from streamlit_server import free_port
from support import REPO_ROOT, child_environment
from synthetic import synthetic_images

from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.replay import read_replay
from vae_core.config import ImageSettings, TrainConfig
from vae_core.data.image_folder import open_image_folder
from vae_core.model.codec import LatentCodec
from vae_core.training.distribution import DataParallelError
from vae_core.training.train import split_validation, train_vae

pytestmark = pytest.mark.slow  # several JAX processes and devices, each training


def jax_environment(devices: int) -> dict[str, str]:
    """This process's environment for a JAX process with `devices` CPU devices (fixed at its import)."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed in this environment (pip install jax to run this)")
    return child_environment(
        KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}"
    )


def test_four_cpu_devices_train_as_one_and_save_a_usable_bundle(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "data_parallel_checks.py"), str(tmp_path)],
        env=jax_environment(4),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0 and completed.stdout.strip().endswith("OK"), completed.stderr[-3000:]


def run_together(commands: list[tuple[list[str], dict[str, str]]], logs: Path) -> list[tuple[int, str, str]]:
    """Start every (command, environment) at once (a cluster waits for all its processes); each one's (exit code,
    output, errors). Output goes to files, so none blocks on a full pipe; should one fail, or all
    take too long, the rest are killed rather than left waiting for it."""
    logs.mkdir()
    processes = []
    for index, (command, env) in enumerate(commands):
        with open(logs / f"{index}.out", "w") as out, open(logs / f"{index}.err", "w") as err:
            processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=err))
    deadline = time.monotonic() + 600
    while any(process.poll() is None for process in processes) and time.monotonic() < deadline:
        if any(process.poll() for process in processes):  # one failed: the others would wait for it
            deadline = min(deadline, time.monotonic() + 5)  # up to 5 s to fail the same way, as they should
        time.sleep(0.2)
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
    return [
        (process.returncode, (logs / f"{index}.out").read_text(), (logs / f"{index}.err").read_text())
        for index, process in enumerate(processes)
    ]


def succeeded(runs: list[tuple[int, str, str]]) -> list[str]:
    """The outputs of runs that must all have succeeded."""
    for code, _, errors in runs:
        assert code == 0, errors[-3000:]
    return [output for _, output, _ in runs]


def write_pictures(folder: Path, count: int) -> Path:
    """`count` synthetic 28x28 PNGs, in a subfolder per class."""
    for index, (picture, label) in enumerate(zip(*synthetic_images(count), strict=True)):
        (folder / f"class-{label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture[..., 0]).save(folder / f"class-{label}" / f"{index}.png")
    return folder


def damage_training_files(folder: Path, damaged: int) -> None:
    """Cut `damaged` of the images a run trains on short: still listed (their headers are whole),
    then failing to decode when read."""
    paths = open_image_folder(folder, ImageSettings(28, 1)).x_train.paths
    train_rows, _ = split_validation(len(paths), CONFIG.validation_split, CONFIG.seed)
    for row in train_rows[: damaged * 10 : 10]:  # none of the last few, which whole shards may leave out
        with open(paths[row], "r+b") as stream:
            stream.truncate(60)


def test_two_processes_of_two_devices_train_as_one_process_of_four(tmp_path):
    """A cluster of two processes (as two hosts would be) sees the batches one process of four
    devices sees, from files and from arrays alike, for a conditional model: the same losses, step by step.
    Damaged files are counted over the cluster, not only those of a process's own shares."""
    folder, damaged = write_pictures(tmp_path / "pictures", 220), write_pictures(tmp_path / "damaged", 80)
    damage_training_files(damaged, 6)
    script = [sys.executable, str(REPO_ROOT / "tests" / "multi_host_checks.py"), str(folder), str(damaged)]
    (reference,) = succeeded(run_together([(script, jax_environment(4))], tmp_path / "single"))
    coordinator = f"127.0.0.1:{free_port()}"
    commands = [([*script, coordinator, "2", str(index)], jax_environment(2)) for index in range(2)]
    cluster = succeeded(run_together(commands, tmp_path / "cluster"))
    single = json.loads(reference.strip().splitlines()[-1])
    assert single["devices"] == 4 and len(single["files"]["steps"]) == 2 * 6  # 176 images: 5 x 32 + 16
    for output in cluster:
        together = json.loads(output.strip().splitlines()[-1])
        assert together["devices"] == 4
        for fed in ("files", "arrays"):
            np.testing.assert_allclose(together[fed]["steps"], single["files"]["steps"], rtol=1e-4)
            np.testing.assert_allclose(together[fed]["validation"], single["files"]["validation"], rtol=1e-4)
    for run in [single, *(json.loads(output.strip().splitlines()[-1]) for output in cluster)]:
        assert "6 image files could not be decoded; another image was used instead." in run["damaged"]


def test_a_cluster_started_from_the_command_line_saves_one_bundle(tmp_path):
    folder, out = write_pictures(tmp_path / "pictures", 120), tmp_path / "bundle"
    command = [sys.executable, "-m", "vae_core.cli.train", "--dataset", str(folder), "--image-size", "28"]
    command += ["--epochs", "1", "--batch-size", "16", "--iw-samples", "2", "--out", str(out), "--data-parallel"]
    command += ["--coordinator", f"127.0.0.1:{free_port()}", "--processes", "2"]
    commands = [([*command, "--process-id", str(index)], jax_environment(2)) for index in range(2)]
    first, second = succeeded(run_together(commands, tmp_path / "logs"))
    assert f"Saved bundle: {out}" in first
    assert "Process 1 of 2 is done: process 0 saves the bundle." in second and "Saved bundle" not in second
    bundle = load_bundle(out)
    assert bundle.meta.config.data_parallel
    # 120 images: 12 held out as the test set; of the other 108, 11 for validation, 8 in whole shards
    # of the four devices, and 96 to train on, in 6 batches of 16.
    assert read_replay(out, 2).latent_means.shape == (1, 8, 2) and bundle.meta.training.batches_per_epoch == 6
    pictures = LatentCodec(bundle.model).decode(np.zeros((3, 2), np.float32))
    assert pictures.shape == (3, 28, 28, 1) and np.isfinite(pictures).all()


def test_processes_with_different_numbers_of_devices_are_refused(tmp_path):
    folder = write_pictures(tmp_path / "pictures", 40)
    command = [sys.executable, "-m", "vae_core.cli.train", "--dataset", str(folder), "--image-size", "28"]
    command += ["--batch-size", "6", "--out", str(tmp_path / "bundle"), "--data-parallel"]
    command += ["--coordinator", f"127.0.0.1:{free_port()}", "--processes", "2"]
    devices = (2, 1)  # JAX fixes its devices at import: one environment each
    commands = [([*command, "--process-id", str(index)], jax_environment(devices[index])) for index in range(2)]
    for code, _, errors in run_together(commands, tmp_path / "logs"):
        assert code == 2 and "have different numbers of devices: give each the same number" in errors, errors[-3000:]


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="this process runs JAX, which has data parallelism")
def test_data_parallel_on_another_backend_says_to_use_jax():
    config = dataclasses.replace(TrainConfig(), data_parallel=True)
    with pytest.raises(DataParallelError, match="KERAS_BACKEND=jax"):
        train_vae(config, synthetic_images(20)[0])
