"""A training run as asked for, by the Train form or the command line: one frozen `RunRequest`, made by
`request_run` with every setting, the destination and any TensorBoard log folder checked before any data
is read, and handed as it is to the training (in the app, to the process that trains)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vae_core.bundles.files import check_destination
from vae_core.bundles.registry import safe_model_name, user_models_dir
from vae_core.config import TrainConfig

if TYPE_CHECKING:  # names only: the data's modules import pandas, which a refused run need not wait for
    from vae_core.data.datasets import Dataset
    from vae_core.data.source import DataSource


@dataclass(frozen=True)
class RunRequest:
    """One training run: its settings, the data to open, the folder its bundle is saved in, whether the
    model is conditional on the data's labels (whose classes are known once the data is open), and the
    folder its TensorBoard logs go into, if any."""

    config: TrainConfig
    source: DataSource
    out_dir: Path
    conditional: bool = False
    tensorboard: Path | None = None

    def open_data(self, unpack_to: Path | None = None) -> Dataset:
        """The run's data, cut to the config's first training images (a quick run); an uploaded archive is
        unpacked into `unpack_to`."""
        return self.source.open(seed=self.config.seed, unpack_to=unpack_to).limited(self.config.train_limit)

    def config_for(self, dataset: Dataset) -> TrainConfig:
        """The run's settings for its open data: the images' shape and, for a conditional model, the data's
        classes (`DatasetError` where it has no labels)."""
        return self.config.with_data(dataset.image_shape, dataset.condition_classes(self.conditional))


def request_run(
    settings: dict[str, Any],
    name: str,
    data: Callable[[], DataSource],
    *,
    out: Path | str | None = None,
    conditional: bool = False,
    replace: bool = True,
    saves: bool = True,
    tensorboard: Path | str | None = None,
) -> RunRequest:
    """The run the form or the flags ask for, refused before anything is read where it cannot go ahead.

    Args:
        settings: the run's settings, each by its config field's name (`TrainConfig.from_settings`);
            `ConfigError` names one out of range.
        name: the model's name, made safe for a folder (`ValueError` when nothing is left of it).
        data: makes the data's source, once the settings and the destination have passed.
        out: the bundle's folder; by default `name` in the models folder.
        conditional: a conditional VAE on the data's labels.
        replace: whether a bundle already there may be replaced (the command line's) or any model
            there refuses the name (the app's, whose models every visitor shares).
        saves: False for a process of a cluster other than the first, which saves nothing: its
            destination is left unchecked. Otherwise `BundleError` says why nothing can be saved there.
        tensorboard: a folder for the run's TensorBoard logs (`tensorboard_logs`); a `ValueError` says
            why they could not be written there.
    """
    folder_name = safe_model_name(name)  # checked even where `out` puts the bundle elsewhere
    config = TrainConfig.from_settings(settings)
    out_dir = Path(out) if out else user_models_dir() / folder_name
    if saves:
        if not replace and out_dir.exists():
            raise ValueError(f"A model named {out_dir.name!r} exists already; choose another name.")
        check_destination(out_dir)
    logs = None
    if tensorboard:
        from vae_core.training.tensorboard_logs import check_log_folder  # only for a run that asks for logs

        logs = check_log_folder(tensorboard, out_dir)
    return RunRequest(config, data(), out_dir, conditional, logs)
