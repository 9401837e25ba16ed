"""The Train page's settings form, folded while a run is watched, and turning its values into a
started run or a clear refusal."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from vae_app.messages import plain
from vae_app.panels.training_progress import owner_token
from vae_app.services.jobs import JobBoard, JobBusy, TrainingJob
from vae_app.services.server_folders import server_folder, server_folders
from vae_core.bundles.files import BundleError
from vae_core.bundles.registry import safe_model_name, tensorboard_logs_dir
from vae_core.config import (
    CHOICES,
    RANGES,
    ConfigError,
    ImageSettings,
    ModelConfig,
    TrainConfig,
    parse_hidden_sizes,
)
from vae_core.data.datasets import SPECS
from vae_core.data.source import DataSource
from vae_core.training.run_request import RunRequest, request_run
from vae_core.wording import count

OWN_FILE, SERVER_FOLDER = "own", "server folder"
COLOURS = {"grayscale": 1, "RGB": 3}


def settings_form(board: JobBoard) -> None:
    """The settings, in a form folded into a one-line summary of the latest run while it runs (and,
    once it has ended, for the browser that started it), so that its progress is what the eye meets;
    a click unfolds it. On submit, check every value and start the run, or say what is wrong."""
    job = board.latest()
    folded = job is not None and (job.running or job.owner == owner_token())
    with st.expander(run_summary(job) if folded else "Settings", expanded=not folded):
        with st.form("train_settings"):
            left, middle, right = st.columns(3)
            data = data_widgets(left)
            settings, hidden, conditional = _model_widgets(left)
            settings |= _training_widgets(middle, right)
            name = right.text_input("Model name", "my-vae")
            logs = right.checkbox(
                "Write TensorBoard logs",
                help=f"Each epoch's losses and latent snapshot, also as TensorBoard logs in"
                f" {tensorboard_logs_dir().name}/MODEL-NAME on the server (`$VAE_TENSORBOARD_DIR` moves it), to"
                f" follow with `tensorboard --logdir {tensorboard_logs_dir().name}`. Needs TensorFlow.",
            )
            if not st.form_submit_button("Start training", type="primary"):
                return
    try:
        settings |= {"hidden_sizes": parse_hidden_sizes(hidden)}
        # The run opens the data, and says if it cannot (or has no labels for a conditional model).
        folder = str(tensorboard_logs_dir() / safe_model_name(name)) if logs else ""
        board.start(form_request(settings, name, data, conditional, folder), owner=owner_token())
    except (ConfigError, JobBusy, ValueError) as error:
        st.error(plain(str(error)))
        return
    st.rerun()  # the page again, with the form folded and the run's progress where the form was


def form_request(
    settings: dict[str, object], name: str, data: Callable[[], DataSource], conditional: bool, logs: str
) -> RunRequest:
    """The run the form asks for (`request_run`): a new model in the app's models folder, its batch split
    evenly among the devices, TensorBoard logs in the folder `logs` names if any; a `ValueError` says what
    is wrong, without the server's paths other than the one typed in."""
    try:
        request = request_run(settings, name, data, conditional=conditional, replace=False, tensorboard=logs)
    except BundleError:
        raise ValueError("This app cannot save models: its models folder is not writable.") from None
    config, devices = request.config, parallel_devices()
    if config.data_parallel and config.batch_size % devices:
        raise ValueError(
            f"A batch of {config.batch_size} images does not split evenly among {devices} devices: use a"
            f" batch size that is a multiple of {devices}."
        )
    return request


def run_summary(job: TrainingJob) -> str:
    """The latest run's settings in a line, the label of the folded form."""
    config, data = job.config, SPECS[job.data_name].title if job.data_name in SPECS else job.data_name
    images = "" if config.train_limit is None else f", first {config.train_limit:,} images"
    return plain(
        f"Settings of {job.out_dir.name}: {config.model.preset}, latent size {config.model.latent_dim},"
        f" {count(config.epochs, 'epoch')} of batch {config.batch_size}, on {data}{images}"
    )


def _model_widgets(column: DeltaGenerator) -> tuple[dict[str, object], str, bool]:
    """The network's settings, the hidden sizes as typed (read once the form is sent), and whether
    the model is conditional on the data's labels."""
    defaults = ModelConfig()
    settings = {
        "preset": _choice(column, "Preset", "preset", defaults.preset),
        "latent_dim": int(_number(column, "Latent size", "latent_dim", defaults.latent_dim)),
    }
    hidden = column.text_input("Hidden sizes", "", placeholder="preset default, or e.g. 256 or 64,16,8")
    conditional = column.checkbox(
        "Conditional on the label",
        help="A conditional VAE: encoder and decoder also take each image's class, so you can ask for a"
        " class when generating and z keeps the style. Needs labelled data.",
    )
    return settings, hidden, conditional


def _training_widgets(middle: DeltaGenerator, right: DeltaGenerator) -> dict[str, object]:
    """The loss's weighting and how the model is fitted, by the names of their config fields."""
    defaults = TrainConfig()
    settings = {
        "loss": _choice(middle, "Reconstruction loss", "loss", defaults.model.loss),
        "beta": _number(middle, "KL weight (beta)", "beta", defaults.model.beta, format="%.4g"),
        "kl_warmup_epochs": int(_number(middle, "KL warm-up epochs", "kl_warmup_epochs", defaults.kl_warmup_epochs)),
        "optimizer": _choice(middle, "Optimizer", "optimizer", defaults.optimizer),
        "learning_rate": _number(
            middle, "Learning rate", "learning_rate", defaults.learning_rate, format="%.0e", step=1e-4
        ),
        "lr_schedule": _choice(middle, "Learning-rate schedule", "lr_schedule", defaults.lr_schedule),
        "weight_decay": _number(middle, "Weight decay", "weight_decay", defaults.weight_decay, format="%.3g"),
        "batch_size": int(_number(right, "Batch size", "batch_size", defaults.batch_size)),
        "epochs": int(_number(right, "Epochs", "epochs", defaults.epochs)),
        "train_limit": _train_limit(right),
        "validation_split": _number(right, "Validation split", "validation_split", defaults.validation_split),
        "seed": int(_number(right, "Seed", "seed", defaults.seed)),
        "precision": _choice(
            right,
            "Precision",
            "precision",
            defaults.precision,
            help="mixed_bfloat16 trains faster on processors with bfloat16 units (the same ELBO on the conv"
            " preset); elsewhere it is slower",
        ),
    }
    devices = parallel_devices()
    settings["data_parallel"] = devices > 1 and right.checkbox(
        f"Data parallel on {devices} devices",
        help=f"Each batch is split among the devices (Keras DataParallel); the batch size must divide by {devices}.",
    )
    return settings


def data_widgets(column: DeltaGenerator) -> Callable[[], DataSource]:
    """The form's data choices: a built-in dataset, your own file (CSV, NPZ, or a .zip of an image
    folder) or, where the server's owner set a data root, a folder there; an image folder's size and
    colour. Returns what makes the `DataSource` once the form is sent, or says what is missing."""
    folders = server_folders()
    choices = [*SPECS, OWN_FILE, *([SERVER_FOLDER] if folders else [])]
    source = column.selectbox("Dataset", choices, format_func=_dataset_title)
    upload = column.file_uploader("Your own file (CSV, NPZ, or a .zip of an image folder)", type=["csv", "npz", "zip"])
    folder = column.selectbox("Folder on this server", folders) if folders else None
    side, colour = column.columns(2)
    images_help = "How an image folder's pictures are read; other data keeps its own size."
    allowed = RANGES["side"]
    size = side.number_input("Image size", allowed.low, allowed.high, ImageSettings.side, help=images_help)
    channels = COLOURS[colour.selectbox("Colour", list(COLOURS), help=images_help)]

    def data() -> DataSource:
        images = ImageSettings(int(size), channels)
        if source == OWN_FILE:
            if upload is None:
                raise ValueError("Choose a CSV, NPZ or zip file to train on your own data.")
            return DataSource(upload.name, upload.getvalue(), images=images)
        if source == SERVER_FOLDER:
            return DataSource(folder, folder=server_folder(folder), images=images)
        return DataSource(source)

    return data


def _train_limit(column: DeltaGenerator) -> int | None:
    """How many of the training images a quick run takes, the first ones; None (0 in the form) for all."""
    images = column.number_input(
        "Train on the first N images",
        0,
        RANGES["train_limit"].high,
        0,
        help="A quick run on part of the training split (its validation images come from these too);"
        " 0 trains on all of it.",
    )
    return int(images) or None


def _number(container: DeltaGenerator, label: str, setting: str, default: float, **shown: object) -> float:
    """A number input bounded by the setting's range in the config; an open end (beta > 0) is the
    config's to refuse, with its message."""
    allowed = RANGES[setting]
    return container.number_input(label, allowed.low, allowed.high, default, help=f"Allowed: {allowed}.", **shown)


def _choice(container: DeltaGenerator, label: str, setting: str, default: str, **shown: object) -> str:
    """A select box of the names the config allows for the setting, at its default."""
    names = CHOICES[setting]
    return container.selectbox(label, names, index=names.index(default), **shown)


@functools.cache
def parallel_devices() -> int:
    """The devices data-parallel training would split batches among; 0 unless training runs on JAX.
    Counted once, in a short-lived process: the app's own imports no Keras or JAX, which on a GPU
    would hold device memory for as long as the app runs."""
    if os.environ.get("KERAS_BACKEND") != "jax":
        return 0
    count = "from vae_core.training.distribution import training_devices; print(len(training_devices()))"
    try:
        answer = subprocess.run([sys.executable, "-c", count], capture_output=True, text=True, timeout=120, check=True)
        return int(answer.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError):  # no devices to offer, then
        return 0


def _dataset_title(name: str) -> str:
    titles = {OWN_FILE: "Your own file", SERVER_FOLDER: "A folder on this server"}
    return SPECS[name].title if name in SPECS else titles[name]
