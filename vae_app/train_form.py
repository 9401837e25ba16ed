"""The Train page's settings form, and turning its values into a started run or a clear refusal."""

from __future__ import annotations

import os

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from vae_app.messages import plain
from vae_app.services.jobs import JobBoard, JobBusy
from vae_app.training_panel import owner_token
from vae_core.bundle_files import BundleError, check_destination
from vae_core.config import (
    LOSSES,
    LR_SCHEDULES,
    OPTIMIZERS,
    PRECISIONS,
    PRESETS,
    RANGES,
    ConfigError,
    ModelConfig,
    TrainConfig,
    parse_hidden_sizes,
)
from vae_core.data_source import DataSource
from vae_core.datasets import SPECS
from vae_core.registry import safe_model_name, user_models_dir

OWN_FILE = "own"


def settings_form(board: JobBoard) -> None:
    """Draw the form; on submit, check every value and start the run, or say what is wrong."""
    defaults = TrainConfig()
    with st.form("train_settings"):
        left, middle, right = st.columns(3)
        source = left.selectbox("Dataset", [*SPECS, OWN_FILE], format_func=_dataset_title)
        upload = left.file_uploader("Your own file (CSV or NPZ)", type=["csv", "npz"])
        preset = left.selectbox("Preset", PRESETS, index=PRESETS.index(defaults.model.preset))
        latent_dim = _number(left, "Latent size", "latent_dim", defaults.model.latent_dim)
        hidden = left.text_input("Hidden sizes", "", placeholder="preset default, or e.g. 256 or 64,16,8")
        conditional = left.checkbox(
            "Conditional on the label",
            help="A conditional VAE: encoder and decoder also take each image's class, so you can ask for a"
            " class when generating and z keeps the style. Needs labelled data.",
        )
        loss = middle.selectbox("Reconstruction loss", LOSSES, index=LOSSES.index(defaults.model.loss))
        beta = _number(middle, "KL weight (beta)", "beta", defaults.model.beta, format="%.4g")
        warmup = _number(middle, "KL warm-up epochs", "kl_warmup_epochs", defaults.kl_warmup_epochs)
        optimizer = middle.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(defaults.optimizer))
        learning_rate = _number(
            middle, "Learning rate", "learning_rate", defaults.learning_rate, format="%.0e", step=1e-4
        )
        schedule = middle.selectbox(
            "Learning-rate schedule", LR_SCHEDULES, index=LR_SCHEDULES.index(defaults.lr_schedule)
        )
        batch_size = _number(right, "Batch size", "batch_size", defaults.batch_size)
        epochs = _number(right, "Epochs", "epochs", defaults.epochs)
        validation_split = _number(right, "Validation split", "validation_split", defaults.validation_split)
        seed = _number(right, "Seed", "seed", defaults.seed)
        precision = right.selectbox(
            "Precision",
            PRECISIONS,
            index=PRECISIONS.index(defaults.precision),
            help="mixed_bfloat16 trains faster on processors with bfloat16 units (the same ELBO on the conv"
            " preset); elsewhere it is slower",
        )
        devices = parallel_devices()
        parallel = devices > 1 and right.checkbox(
            f"Data parallel on {devices} devices",
            help="Each batch is split among the devices (Keras DataParallel); the batch size must divide by"
            f" {devices}.",
        )
        name = right.text_input("Model name", "my-vae")
        if not st.form_submit_button("Start training", type="primary"):
            return
    try:
        model = ModelConfig(
            preset, latent_dim=int(latent_dim), hidden_sizes=parse_hidden_sizes(hidden), loss=loss, beta=beta
        )
        config = TrainConfig(
            model,
            optimizer=optimizer,
            learning_rate=learning_rate,
            lr_schedule=schedule,
            batch_size=int(batch_size),
            epochs=int(epochs),
            validation_split=validation_split,
            kl_warmup_epochs=int(warmup),
            seed=int(seed),
            precision=precision,
            data_parallel=parallel,
        )
        if parallel:
            from vae_core.distribution import data_parallel

            data_parallel(config.batch_size)  # refuses a batch that does not split among the devices
        out_dir = user_models_dir() / safe_model_name(name)
        if out_dir.exists():
            raise ValueError(f"A model named {out_dir.name!r} exists already; choose another name.")
        try:
            check_destination(out_dir)
        except BundleError:
            raise ValueError("This app cannot save models: its models folder is not writable.") from None
        if source == OWN_FILE and upload is None:
            raise ValueError("Choose a CSV or NPZ file to train on your own data.")
        data = DataSource(source) if source != OWN_FILE else DataSource(upload.name, upload.getvalue())
        # The run opens the data, and says if it cannot (or has no labels for a conditional model).
        board.start(config, data, out_dir, owner=owner_token(), conditional=conditional)
    except (ConfigError, JobBusy, ValueError) as error:
        st.error(plain(str(error)))


def _number(container: DeltaGenerator, label: str, setting: str, default: float, **shown: object) -> float:
    """A number input bounded by the setting's range in the config; an open end (beta > 0) is the
    config's to refuse, with its message."""
    allowed = RANGES[setting]
    return container.number_input(label, allowed.low, allowed.high, default, help=f"Allowed: {allowed}.", **shown)


def parallel_devices() -> int:
    """The devices data-parallel training would split batches among; 0 unless training runs on JAX,
    which is imported then (under TensorFlow the Train page loads no Keras)."""
    if os.environ.get("KERAS_BACKEND") != "jax":
        return 0
    from vae_core.distribution import local_devices

    return len(local_devices())


def _dataset_title(name: str) -> str:
    return SPECS[name].title if name in SPECS else "Your own file"
