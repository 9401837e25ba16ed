"""A run's TensorBoard logs: the losses of each epoch through Keras's own `keras.callbacks.TensorBoard`
(its `train/` and `validation/` runs), and after each epoch a picture of the validation images' latent
means, the snapshot the Train page shows (an `images/` run of its own, tag `latent_snapshot`).

Imported only where a run asks for logs, and TensorFlow only once they are about to be written:
`tf.summary` is TensorFlow's, which the app's process and a JAX or PyTorch run need not wait for.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vae_core.training.events import EpochEnd, Event, TrainingStarted
from vae_core.wording import first_line

IMAGES_RUN, IMAGE_TAG = "images", "latent_snapshot"
IMAGE_SIDE, MARGIN, DOT_RADIUS = 320, 12, 2
AXIS_GREY, TEXT_GREY = "#d0d0d0", "#606060"
# Petroff's ten class colours as the app's light theme draws them (vae_app/figures.py), on white.
CLASS_COLOURS = (
    "#507BAD", "#B97200", "#6D2200", "#556565", "#5B2EB3",
    "#735040", "#A34400", "#877F5C", "#7B818C", "#00464E",
)  # fmt: skip
NO_TENSORFLOW = (
    "TensorBoard logs are written with TensorFlow's tf.summary, and TensorFlow is not installed here:"
    " install it (pip install tensorflow) or train without TensorBoard logs."
)


def check_log_folder(folder: Path | str, bundle: Path) -> Path:
    """`folder`, once the run's logs can be written there: TensorFlow is installed, and the folder is no
    file, lies outside the bundle's folder (which saving replaces) and in a folder that may be written
    into. Otherwise a `ValueError` says what to do; checked before any data is read."""
    if importlib.util.find_spec("tensorflow") is None:
        raise ValueError(NO_TENSORFLOW)
    folder = Path(folder)
    try:
        resolved, replaced = folder.resolve(), Path(bundle).resolve()
        existing = next(parent for parent in (resolved, *resolved.parents) if parent.exists())
    except OSError as error:  # a name too long, a loop of links, a folder we may not look into
        raise ValueError(
            f"The TensorBoard log folder {folder} cannot be used ({first_line(error)}): choose another path."
        ) from None
    if resolved == replaced or replaced in resolved.parents:
        raise ValueError(
            f"The TensorBoard log folder {folder} is in the model's folder, which saving the model replaces:"
            " put the logs elsewhere, such as beside it."
        )
    # Said with the path as given: the app's form shows no other path of its server's.
    if not existing.is_dir():
        raise ValueError(
            f"The TensorBoard log folder {folder} is a file, or inside one: name a folder, or a path not taken yet."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"The TensorBoard log folder {folder} cannot be written to: name a folder you can write to.")
    return folder


class TensorBoardLogs:
    """A run's listener that writes each epoch's latent snapshot to `folder/images` and passes every
    event on to `listener`; `losses` is the Keras callback that writes the losses beside it."""

    def __init__(self, folder: Path, listener: Callable[[Event], None] | None = None) -> None:
        import keras
        import tensorflow as tf

        if keras.backend.backend() != "tensorflow":
            # TensorFlow only writes files here: leave the accelerators to the backend that trains.
            with contextlib.suppress(RuntimeError):  # too late once TensorFlow has started
                tf.config.set_visible_devices([], "GPU")
        # No graph: the subclassed VAE has no Keras graph to draw, and its compiled step's is large.
        self.losses = keras.callbacks.TensorBoard(log_dir=str(folder), write_graph=False)
        self._summary = tf.summary
        self._writer = tf.summary.create_file_writer(str(Path(folder) / IMAGES_RUN))
        self._listener, self._labels, self._limit = listener, None, 0.0

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrainingStarted):
            self._labels = event.snapshot_labels
        elif isinstance(event, EpochEnd) and event.latent_means is not None:
            self._limit = max(self._limit, axis_limit(event.latent_means))  # axes that never shrink
            picture = scatter_picture(event.latent_means, self._labels, self._limit)
            with self._writer.as_default():
                # At the step of its epoch's losses: Keras's callback counts epochs from 0.
                self._summary.image(IMAGE_TAG, picture[None], step=event.epoch - 1)
            self._writer.flush()  # there for TensorBoard now, not when the run ends
        if self._listener is not None:
            self._listener(event)


def axis_limit(latent_means: np.ndarray) -> float:
    """A round number (1, 2 or 5 times a power of ten) at or beyond 99.5% of the first two coordinates."""
    reach = max(float(np.percentile(np.abs(latent_means[:, :2]), 99.5)), 1e-3)
    power = 10.0 ** math.floor(math.log10(reach))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= reach)


def scatter_picture(latent_means: np.ndarray, labels: np.ndarray | None, limit: float) -> np.ndarray:
    """The first two latent coordinates (a 1-D code's on a line) as dots coloured by class, on a white
    square whose axes run from -limit to +limit: uint8 (IMAGE_SIDE, IMAGE_SIDE, 3)."""
    picture = Image.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), "white")
    draw = ImageDraw.Draw(picture)
    middle, scale = IMAGE_SIDE / 2, (IMAGE_SIDE / 2 - MARGIN) / limit
    draw.line([(middle, 0), (middle, IMAGE_SIDE)], fill=AXIS_GREY)
    draw.line([(0, middle), (IMAGE_SIDE, middle)], fill=AXIS_GREY)
    plane = np.zeros((len(latent_means), 2))
    plane[:, : min(2, latent_means.shape[1])] = latent_means[:, :2]
    points = middle + np.clip(plane, -limit, limit) * scale * np.array([1.0, -1.0])  # z1 upwards
    classes = np.zeros(len(points), np.int64) if labels is None else np.asarray(labels, np.int64)
    for (x, y), label in zip(points, classes, strict=True):
        box = [x - DOT_RADIUS, y - DOT_RADIUS, x + DOT_RADIUS, y + DOT_RADIUS]
        draw.ellipse(box, fill=CLASS_COLOURS[label % len(CLASS_COLOURS)])
    axes = "z0, z1" if latent_means.shape[1] > 1 else "z0"
    draw.text((4, 4), f"{axes} from {-limit:g} to {limit:g}", fill=TEXT_GREY)
    return np.asarray(picture)
