"""What many tests need and each would otherwise write again: the environment of a child Python,
waiting on a state rather than for a time, a child killed at a line it prints, an offline MNIST
stand-in, the drawn seven users upload, and filling the Train form under AppTest.

A module of its own, not conftest, for the reason `synthetic` gives.
"""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit_server import REPO_ROOT
from synthetic import synthetic_images

import vae_core.data.datasets

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from streamlit.testing.v1 import AppTest

APP = str(REPO_ROOT / "streamlit_app.py")
# The file input inside Streamlit's file uploader, which a real browser's tab hands files to.
FILE_INPUT = '[data-testid="stFileUploader"] input[type="file"]'


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment for a child Python that imports the project and the tests' shared modules
    (the repository and tests/ first on PYTHONPATH), with TensorFlow's info logs off, then `extra`."""
    python_path = [str(REPO_ROOT), str(REPO_ROOT / "tests"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(python_path), "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def wait_until(condition: Callable[[], object], what: str, seconds: float = 120.0) -> None:
    """Poll `condition` until it holds; fail the test, saying `what` never happened, after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:g} s")
        time.sleep(0.05)


def _wait_for_line(process: subprocess.Popen, expected: bytes, stderr: Path, timeout_s: float = 120) -> None:
    """Read the child's stdout until `expected` arrives; fail with its stderr if it exits or hangs first."""
    deadline, output = time.monotonic() + timeout_s, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        chunk = os.read(process.stdout.fileno(), 4096) if ready else b""
        output += chunk
        if expected in output.splitlines():
            return
        if ready and not chunk:  # the child closed stdout: it exited
            break
    process.kill()
    process.wait()
    pytest.fail(f"the saving subprocess never printed {expected!r}; stderr:\n{stderr.read_text()[-3000:]}")


def kill_when_printed(script: str, directory: Path, expected: bytes, tmp_path: Path) -> int:
    """Run `script` with `directory` as its argument, SIGKILL it once it prints `expected`; its return code."""
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "wb") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(directory)],
            cwd=REPO_ROOT,
            env=child_environment(TF_CPP_MIN_LOG_LEVEL="3"),
            stdout=subprocess.PIPE,
            stderr=stderr_file,
        )
    try:
        _wait_for_line(process, expected, stderr)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
    return process.returncode


def offline_mnist(folder: Path, monkeypatch: pytest.MonkeyPatch, train_images: int) -> None:
    """An MNIST stand-in of `train_images` synthetic images (and 40 test ones) in VAE_DATA_DIR, with Keras's
    download refused, so that a training run on "mnist" takes seconds and never reaches the network."""
    x_train, y_train = synthetic_images(train_images, seed=3)
    x_test, y_test = synthetic_images(40, seed=4)
    np.savez(folder / "mnist.npz", x_train=x_train[..., 0], y_train=y_train, x_test=x_test[..., 0], y_test=y_test)
    monkeypatch.setenv("VAE_DATA_DIR", str(folder))
    monkeypatch.setattr(
        vae_core.data.datasets, "download_with_keras", lambda name: (_ for _ in ()).throw(OSError("offline"))
    )


def png_of_a_seven(stroke: int = 8) -> bytes:
    """A photo-sized PNG of a seven drawn with a dark pen `stroke` pixels wide on light paper, as a person
    uploads one to Encode."""
    paper = Image.new("L", (600, 800), 235)
    ImageDraw.Draw(paper).line([(150, 200), (450, 200), (250, 650)], fill=25, width=stroke)
    buffer = io.BytesIO()
    paper.save(buffer, format="PNG")
    return buffer.getvalue()


def upload_a_seven(tab: Page, stroke: int = 8) -> None:
    """Hand `png_of_a_seven` to the file uploader of the page in a real browser's tab."""
    seven = {"name": "seven.png", "mimeType": "image/png", "buffer": png_of_a_seven(stroke)}
    tab.locator(FILE_INPUT).set_input_files(seven)


def set_form(app: AppTest, **values: object) -> None:
    """Set the Train form's number, text, select and checkbox widgets named by their labels."""
    for widget in [*app.number_input, *app.text_input, *app.selectbox, *app.checkbox]:
        if widget.label in values:
            widget.set_value(values[widget.label])


def start_training(app: AppTest, **values: object) -> None:
    """Fill the Train form by its widgets' labels and press Start training; the form must take the values."""
    set_form(app, **values)
    next(button for button in app.button if button.label == "Start training").click().run()
    assert not app.error, [error.value for error in app.error]


def keep_map(cache: Path, z: np.ndarray, method: str, coords: np.ndarray, seconds: float) -> Path:
    """A map of codes `z` kept in `cache` as the app keeps one it has made: no process made it here."""
    from vae_app.services.map_jobs import map_path

    path = map_path(cache, z, method, coords.shape[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, coords=coords, seconds=seconds)
    return path


def app_from_link(page: str, model: str, **params: str):
    """The app as a shared link opens it: `page` of `model`, with the address's other `params` (such as
    `plane`); the model checked to be the one the sidebar picked."""
    from streamlit.testing.v1 import AppTest

    from vae_app.model_picker import MODEL_PARAM

    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params[MODEL_PARAM] = model
    for name, value in params.items():
        app.query_params[name] = value
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.sidebar.selectbox[0].value == model
    return app


def shipped_mixture_components(name: str, latent_dim: int) -> int:
    """How many components the shipped bundle `name`'s code mixture has: BIC's choice when it was built."""
    from vae_core.analysis.code_mixture import read_code_mixture
    from vae_core.bundles.registry import PRETRAINED_DIR

    return len(read_code_mixture(PRETRAINED_DIR / name, latent_dim).weights)
