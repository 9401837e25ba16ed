"""Training on an image folder read from disk against the same images loaded as numpy:
`python -m bench.folder_memory`.

Writes `--images` generated 64x64 grayscale PNGs (ten classes of shapes with noise, seeded) into a
temporary folder, unless `--folder` names one made before. Then, each in a fresh process so that
its peak resident memory (`VmHWM`) is its own, it trains one epoch of the `conv` preset on them:
once streamed by `FileBatches` (`vae_core.data.image_folder`), once after reading every training image
into one uint8 array, as an in-memory dataset is trained. Reported per way: peak memory, training
images per second (the epoch's, time to read the array apart), and the time to read the array.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIDE = 64
MIB = 2**20


def write_images(folder: Path, count: int, seed: int = 0) -> None:
    """`count` PNGs in ten class folders: class k is a shape with k + 3 corners, placed and sized at random."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    centres, radii, turns = rng.uniform(20, 44, (count, 2)), rng.uniform(10, 20, count), rng.uniform(0, np.pi, count)
    for label in range(10):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)

    def draw(index: int) -> None:
        picture = Image.new("L", (SIDE, SIDE), 0)
        angles = np.linspace(0, 2 * np.pi, labels[index] + 3, endpoint=False) + turns[index]
        x, y = centres[index, 0] + radii[index] * np.cos(angles), centres[index, 1] + radii[index] * np.sin(angles)
        ImageDraw.Draw(picture).polygon(list(zip(x, y, strict=True)), fill=230)
        picture.save(folder / str(labels[index]) / f"{index}.png")

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(draw, range(count)))


def peak_resident_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def train_once(folder: str, way: str, batch_size: int) -> dict:
    """One epoch in this process, the images streamed (`files`) or read into memory first (`array`)."""
    from vae_core.config import ImageSettings, ModelConfig, TrainConfig
    from vae_core.data.image_folder import open_image_folder
    from vae_core.training.train import train_vae

    dataset = open_image_folder(Path(folder), ImageSettings(SIDE, 1))
    config = TrainConfig(ModelConfig("conv", latent_dim=2), batch_size=batch_size, epochs=1).with_data(
        dataset.image_shape
    )
    started = time.perf_counter()
    images = dataset.x_train if way == "files" else dataset.x_train.read()[0]
    read_seconds = time.perf_counter() - started
    result = train_vae(config, images)
    trained = len(images) - len(result.validation_indices)
    return {
        "way": way,
        "peak_bytes": peak_resident_bytes(),
        "images_per_second": trained / result.seconds,
        "read_seconds": read_seconds,
        "train_images": trained,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.folder_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--folder", default=None, help="a folder written by an earlier run (skips writing)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--child", choices=("files", "array"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(train_once(args.folder, args.child, args.batch_size)))
        return 0
    with tempfile.TemporaryDirectory(prefix="vae-folder-bench-") as scratch:
        folder = Path(args.folder or scratch)
        if args.folder is None:
            started = time.perf_counter()
            write_images(folder, args.images)
            print(f"wrote {args.images} PNGs of {SIDE}x{SIDE} in {time.perf_counter() - started:.0f} s", flush=True)
        rows = []
        for way in ("files", "array"):
            command = [sys.executable, "-m", "bench.folder_memory", "--folder", str(folder), "--child", way]
            completed = subprocess.run(
                [*command, "--batch-size", str(args.batch_size)], capture_output=True, text=True, check=True
            )
            rows.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    from vae_core.provenance import machine_description

    print(f"machine: {machine_description()}; {rows[0]['train_images']} training images, batch {args.batch_size}")
    print(f"{'way':<8}{'peak memory (MiB)':>19}{'images/s':>10}{'read first (s)':>16}")
    for row in rows:
        peak, speed, read = row["peak_bytes"] / MIB, row["images_per_second"], row["read_seconds"]
        print(f"{row['way']:<8}{peak:>19.0f}{speed:>10.0f}{read:>16.1f}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
