"""Command line: share a model bundle as one .zip, add a shared .zip to your models, and add to a bundle
saved without one the mixture of its training codes.

    python -m vae_core.cli.bundles pack models/NAME [NAME.zip]
    python -m vae_core.cli.bundles unpack NAME.zip [--name NEW] [--models-dir DIR]
    python -m vae_core.cli.bundles mixture models/NAME [--data FILE]

The first two check what they are given as the app checks a bundle it lists (`vae_core.bundles.sharing`),
and import no Keras, so both answer at once; `mixture` loads the model and its training data
(`vae_core.analysis.code_mixture`). A refusal is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

from vae_core.bundles.files import CODE_MIXTURE_FILE, BundleError
from vae_core.bundles.registry import MODELS_DIR_ENV, user_models_dir
from vae_core.bundles.sharing import MAX_ZIP_BYTES, pack_bundle, unpack_bundle
from vae_core.config import ImageSettings
from vae_core.data.datasets import DatasetError, DatasetUnavailable
from vae_core.wording import count, first_line

REFUSED = 2


def build_parser() -> argparse.ArgumentParser:
    """`pack` and `unpack`, each with what it reads and where it writes."""
    parser = argparse.ArgumentParser(
        prog="python -m vae_core.cli.bundles", description="Share model bundles as .zip files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    pack = commands.add_parser("pack", help="zip a bundle's folder, to share it")
    pack.add_argument("bundle", type=Path, help="bundle directory (holding model.keras, meta.json, atlas.npz)")
    pack.add_argument("zip", type=Path, nargs="?", help="the .zip to write (default: NAME.zip here); replaced if there")
    unpack = commands.add_parser("unpack", help="add a shared .zip to your models")
    unpack.add_argument("zip", type=Path, help="a .zip made by `pack` or by the app's Share a model")
    unpack.add_argument("--name", default=None, help="the model's name (default: the zip's folder name)")
    unpack.add_argument(
        "--models-dir", type=Path, default=None, help=f"where to add it (default: ${MODELS_DIR_ENV}, else models/)"
    )
    mixture = commands.add_parser(
        "mixture", help=f"fit a Gaussian mixture to a bundle's training codes and add it as {CODE_MIXTURE_FILE}"
    )
    mixture.add_argument("bundle", type=Path, help="bundle directory (holding model.keras, meta.json, atlas.npz)")
    mixture.add_argument(
        "--data", default=None, help="the .csv/.npz file or image folder the model was trained on (for your own data)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Pack or unpack as the arguments say and print what was written: exit 0, or 2 with the reason."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "pack":
            print(pack(args.bundle, args.zip))
        elif args.command == "unpack":
            print(unpack(args.zip, args.name, args.models_dir))
        else:
            print(add_mixture(args.bundle, args.data))
    except BundleError as error:
        parser.exit(REFUSED, f"{parser.prog}: error: {error}\n")
    return 0


def pack(bundle: Path, destination: Path | None) -> str:
    """Write the bundle's zip to `destination`; what was written, in a line."""
    data = pack_bundle(bundle)
    destination = destination or Path(f"{Path(os.path.abspath(bundle)).name}.zip")
    write_whole(destination, data)
    return f"Packed {bundle} into {destination} ({len(data) / 2**20:.1f} MB)."


def write_whole(destination: Path, data: bytes) -> None:
    """Write `data` beside `destination`, then rename it over: no half-written zip is ever there."""
    partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}")
    try:
        partial.write_bytes(data)
        os.replace(partial, destination)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BundleError(f"{destination} cannot be written ({first_line(error)}): choose another path.") from None


def unpack(archive: Path, name: str | None, models_dir: Path | None) -> str:
    """Add the zip's bundle to `models_dir` (default: the app's); where it went, in a line."""
    try:
        if archive.stat().st_size > MAX_ZIP_BYTES:
            raise BundleError(f"{archive.name} is larger than {MAX_ZIP_BYTES // 2**20} MB, more than a bundle takes.")
        data = archive.read_bytes()
    except OSError as error:
        raise BundleError(f"{archive} cannot be read ({first_line(error)}).") from None
    added = unpack_bundle(data, models_dir or user_models_dir(), name, label=archive.name)
    return f"Added {archive.name} as {added}."


def add_mixture(bundle: Path, data: str | None) -> str:
    """Fit the mixture of the bundle's training codes (of `data`, else its dataset's name) and write it
    into the bundle, replacing any there; what was written, in a line."""
    from vae_core.analysis.code_mixture import training_mixture, write_code_mixture  # scikit-learn
    from vae_core.bundles.bundle import load_bundle  # Keras: only for this command
    from vae_core.data.source import open_dataset
    from vae_core.model.onnx_codec import codec_for

    try:
        loaded = load_bundle(bundle)
    except BundleError as error:
        raise BundleError(f"{bundle}: {error}") from None
    config = loaded.meta.config
    height, _, channels = config.model.image_shape
    try:
        dataset = open_dataset(
            data or loaded.meta.dataset.name, seed=config.seed, images=ImageSettings(height, channels)
        )
    except (DatasetError, DatasetUnavailable) as error:
        raise BundleError(f"{error} Name the data the model was trained on with --data.") from None
    if dataset.image_shape != config.model.image_shape:
        raise BundleError(
            f"{dataset.name} holds images of shape {dataset.image_shape}, and the model takes"
            f" {config.model.image_shape}: name the data it was trained on with --data."
        )
    if config.model.classes and dataset.y_train is None:
        raise BundleError(f"{dataset.name} has no labels, and this conditional model encodes each image with its own.")
    try:
        mixture = training_mixture(codec_for(loaded.model), dataset.limited(config.train_limit))
    except ValueError as error:  # no training image could be read, or the codes are no numbers
        raise BundleError(f"No mixture can be fitted to {loaded.meta.dataset.name}'s training codes: {error}") from None
    try:
        write_code_mixture(bundle, mixture)
    except OSError as error:
        raise BundleError(f"{bundle} cannot be written to ({first_line(error)}).") from None
    return (
        f"Added {CODE_MIXTURE_FILE} to {bundle}: a mixture of {count(mixture.components, 'Gaussian')},"
        f" fitted to the latent means of {mixture.codes:,} training images of {dataset.name}."
    )


if __name__ == "__main__":
    sys.exit(main())
