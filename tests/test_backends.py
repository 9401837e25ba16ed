"""The core under JAX and PyTorch: training, stop flag, non-finite guard and bundle round trip, for
the plain and the conditional VAE.

Keras fixes its backend at import, so each backend runs in a subprocess (KERAS_BACKEND=jax or
torch). JAX keeps model state outside the Keras variables during `fit` and syncs it back at epoch
ends, and Keras's PyTorch trainer refuses more than one step per execution, which is why the
default config, the stop flag, the warm-up variable and the restore-on-NaN logic are checked here
again, by tests/backend_checks.py. JAX is in requirements-dev.txt; PyTorch is not (its default
Linux wheel is several GB), so its run skips unless `pip install torch` has been done.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from support import REPO_ROOT, child_environment

pytestmark = pytest.mark.slow  # the core trained under each backend in a process of its own

BACKENDS = ("jax", "torch")


@pytest.mark.parametrize("backend", BACKENDS)
def test_core_trains_stops_guards_and_saves_under(backend, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed in this environment (pip install {backend} to run this)")
    env = child_environment(
        KERAS_BACKEND=backend,
        VAE_MODELS_DIR=str(tmp_path / "models"),
        JAX_PLATFORMS=os.environ.get("JAX_PLATFORMS", "cpu"),
    )
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "backend_checks.py"), backend, str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert "OK" in completed.stdout.splitlines()
