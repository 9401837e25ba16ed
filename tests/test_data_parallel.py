"""Data-parallel training with Keras's distribution API: on four CPU devices under JAX (in a
subprocess, as JAX fixes its devices at import), and refused plainly on a backend without it."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from synthetic import synthetic_images

from vae_core.config import TrainConfig
from vae_core.distribution import DataParallelError
from vae_core.training import train_vae

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_four_cpu_devices_train_as_one_and_save_a_usable_bundle(tmp_path):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed in this environment (pip install jax to run this)")
    env = dict(os.environ)
    env.update(
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS="--xla_force_host_platform_device_count=4",
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "data_parallel_checks.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0 and completed.stdout.strip().endswith("OK"), completed.stderr[-3000:]


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="this process runs JAX, which has data parallelism")
def test_data_parallel_on_another_backend_says_to_use_jax():
    config = dataclasses.replace(TrainConfig(), data_parallel=True)
    with pytest.raises(DataParallelError, match="KERAS_BACKEND=jax"):
        train_vae(config, synthetic_images(20)[0])
