"""Command line: share a model bundle as one .zip, and add a shared .zip to your models.

    python -m vae_core.cli.bundles pack models/NAME [NAME.zip]
    python -m vae_core.cli.bundles unpack NAME.zip [--name NEW] [--models-dir DIR]

Both check what they are given as the app checks a bundle it lists (`vae_core.bundles.sharing`);
a refusal is one line and exit status 2. No Keras is imported, so both answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

from vae_core.bundles.files import BundleError
from vae_core.bundles.registry import MODELS_DIR_ENV, user_models_dir
from vae_core.bundles.sharing import MAX_ZIP_BYTES, pack_bundle, unpack_bundle
from vae_core.wording import first_line

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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Pack or unpack as the arguments say and print what was written: exit 0, or 2 with the reason."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        print(pack(args.bundle, args.zip) if args.command == "pack" else unpack(args.zip, args.name, args.models_dir))
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


if __name__ == "__main__":
    sys.exit(main())
