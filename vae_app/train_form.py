"""The Train page's settings form, and turning its values into a started run or a clear refusal."""

from __future__ import annotations

import streamlit as st

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
    with st.form("train_settings"):
        left, middle, right = st.columns(3)
        source = left.selectbox("Dataset", [*SPECS, OWN_FILE], format_func=_dataset_title)
        upload = left.file_uploader("Your own file (CSV or NPZ)", type=["csv", "npz"])
        preset = left.selectbox("Preset", PRESETS, index=PRESETS.index("conv"))
        latent_dim = left.number_input("Latent size", 1, 64, 2)
        hidden = left.text_input("Hidden sizes", "", placeholder="preset default, or e.g. 256 or 64,16,8")
        loss = middle.selectbox("Reconstruction loss", LOSSES)
        beta = middle.number_input("KL weight (beta)", 0.0, 100.0, 1.0, format="%.4g")
        warmup = middle.number_input("KL warm-up epochs", 0, 1000, 0)
        optimizer = middle.selectbox("Optimizer", OPTIMIZERS)
        learning_rate = middle.number_input("Learning rate", 0.0, 1.0, 1e-3, format="%.0e", step=1e-4)
        schedule = middle.selectbox("Learning-rate schedule", LR_SCHEDULES)
        batch_size = right.number_input("Batch size", 1, 4096, 128)
        epochs = right.number_input("Epochs", 1, 1000, 10)
        validation_split = right.number_input("Validation split", 0.0, 0.49, 0.1)
        seed = right.number_input("Seed", 0, 2**31 - 1, 0)
        precision = right.selectbox(
            "Precision",
            PRECISIONS,
            help="mixed_bfloat16 trains about 1.25x faster on processors with bfloat16 units (the same ELBO"
            " on the conv preset); elsewhere it is slower",
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
        )
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
        board.start(config, data, out_dir, owner=owner_token())  # the run opens the data, and says if it cannot
    except (ConfigError, JobBusy, ValueError) as error:
        st.error(plain(str(error)))


def _dataset_title(name: str) -> str:
    return SPECS[name].title if name in SPECS else "Your own file"
