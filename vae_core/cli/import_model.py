"""Command line: import a VAE trained elsewhere, its encoder and decoder as .keras or .onnx files,
with the data to explore it on, as a bundle the app lists.

    python -m vae_core.cli.import_model ENCODER DECODER --dataset mnist --out models/NAME
        [--decoder-output auto|logits|intensities] [--iw-samples 100] [--seed 0] [--scored 1000]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from vae_core.analysis.evaluation_budget import IMPORT_SCORED
from vae_core.bundles.files import BundleError
from vae_core.bundles.meta import DECODER_OUTPUTS
from vae_core.cli.terminal import format_metrics
from vae_core.config import ImageSettings
from vae_core.data.datasets import DatasetError, DatasetUnavailable


def build_parser() -> argparse.ArgumentParser:
    """The two files, the data, where the bundle goes, and what the decoder gives."""
    parser = argparse.ArgumentParser(
        prog="python -m vae_core.cli.import_model", description="Import a VAE's encoder and decoder as a model bundle."
    )
    parser.add_argument("encoder", help="the encoder, .keras or .onnx: images to z mean and log variance")
    parser.add_argument("decoder", help="the decoder, .keras or .onnx: z to the image (logits or intensities)")
    parser.add_argument(
        "--dataset", required=True, help="mnist, fashion_mnist, cifar10, a .csv/.npz file or an image folder"
    )
    parser.add_argument("--out", required=True, help="the bundle's directory, e.g. models/my-vae")
    parser.add_argument(
        "--decoder-output",
        choices=("auto", *DECODER_OUTPUTS),
        default="auto",
        help="what the decoder gives; auto decodes prior samples and takes values outside [0, 1] for logits",
    )
    parser.add_argument(
        "--iw-samples", type=int, default=100, help="samples per image for the importance-weighted bound"
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the test split of a file and the bound's samples")
    parser.add_argument(
        "--scored",
        type=int,
        default=IMPORT_SCORED,
        help=f"test images the bound and k-NN accuracy score, spread over the split (default {IMPORT_SCORED});"
        " 0 scores them all",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Import what the arguments name and print its test figures: exit 0, 2 for files or data refused."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.iw_samples < 1:
        parser.error(f"--iw-samples must be at least 1, got {args.iw_samples}")
    if args.scored < 0:
        parser.error(f"--scored must be 0 (all) or more, got {args.scored}")
    from vae_core.data.source import open_dataset  # heavy imports only once the arguments look right
    from vae_core.imports.importer import ImportRequest, import_model

    request = ImportRequest(
        Path(args.encoder), Path(args.decoder), Path(args.out), args.decoder_output, args.iw_samples, args.seed,
        args.scored or None,
    )  # fmt: skip
    try:
        dataset = open_dataset(args.dataset, seed=args.seed, images=ImageSettings())
        meta = import_model(request, dataset, progress=_printer(sys.stdout.isatty()))
    except (DatasetError, DatasetUnavailable, BundleError) as error:
        parser.error(str(error))
    print(f"Imported as {args.out}: latent size {meta.model.latent_dim}, decoder gives {meta.imported.decoder_output}.")
    print(format_metrics(meta.test_metrics.to_dict()))
    return 0


def _printer(tty: bool) -> Callable[[float, str], None]:
    """Progress as one updating line on a terminal, else a line per step."""
    shown = {"step": None}

    def report(fraction: float, step: str) -> None:
        if tty:
            print(f"\r{step}: {int(fraction * 100)}%   ", end="\n" if fraction >= 1 else "", flush=True)
        elif step != shown["step"]:
            print(f"{step}...", flush=True)
        shown["step"] = step

    return report


if __name__ == "__main__":
    sys.exit(main())
