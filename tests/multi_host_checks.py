"""Training in a cluster of processes, run by tests/test_data_parallel.py: each process is started
with KERAS_BACKEND=jax and its own CPU devices, joins the cluster, trains on an image folder and on
the same images as an array (a conditional model, on the folder's classes), then on a folder with
damaged files, and prints its step losses and the damaged run's message as one JSON line. Without
a cluster it is the reference: one process over all the devices.

    python tests/multi_host_checks.py FOLDER DAMAGED_FOLDER [COORDINATOR PROCESSES PROCESS_ID]
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from vae_core.config import ImageSettings, ModelConfig, TrainConfig
from vae_core.data.image_folder import open_image_folder
from vae_core.training.distribution import join_cluster, training_devices
from vae_core.training.events import BatchEnd
from vae_core.training.train import train_vae

CONFIG = TrainConfig(
    ModelConfig(preset="conv", latent_dim=2),
    batch_size=32,
    epochs=2,
    validation_split=0.1,
    steps_per_execution=1,
    data_parallel=True,
)


def step_losses(config: TrainConfig, images: object, labels: object) -> dict[str, list[float]]:
    losses: list[float] = []
    keep = lambda event: losses.append(event.loss) if isinstance(event, BatchEnd) else None  # noqa: E731
    result = train_vae(config, images, labels, listener=keep)
    return {"steps": losses, "validation": [record["val_loss"] for record in result.history]}


def main(folder: Path, damaged_folder: Path, cluster: list[str]) -> None:
    if cluster:
        coordinator, processes, process_id = cluster
        join_cluster(coordinator, int(processes), int(process_id))
    dataset = open_image_folder(folder, ImageSettings(28, 1))
    config = CONFIG.with_data(dataset.image_shape, dataset.condition_classes(True))
    files = step_losses(config, dataset.x_train, dataset.y_train)
    arrays = step_losses(config, dataset.x_train.read()[0], dataset.y_train) if cluster else None
    damaged = open_image_folder(damaged_folder, ImageSettings(28, 1)).x_train
    message = train_vae(dataclasses.replace(CONFIG, epochs=1).with_data(damaged.image_shape), damaged).message
    print(json.dumps({"devices": len(training_devices()), "files": files, "arrays": arrays, "damaged": message}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
