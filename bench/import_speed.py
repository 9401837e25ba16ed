"""What importing a VAE costs. `python -m bench.import_speed`.

Exports a shipped bundle's encoder and decoder to ONNX, then times `import_model` on MNIST (its
10,000 test images: the atlas, the ELBO of every image, the bound and 5-NN accuracy on the default
1,000 scored) against the reference in the same process: the same measuring done natively, the
atlas and `evaluate` with Keras's `LatentCodec` on the same images. Prints the medians, their ratio,
and the two sets of figures side by side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.decode_speed import median_seconds
from vae_core.analysis.evaluation import evaluate
from vae_core.analysis.evaluation_budget import IMPORT_SCORED
from vae_core.bundles.bundle import build_atlas, load_bundle
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.data.datasets import load_dataset
from vae_core.data.image_folder import knn_sample
from vae_core.imports.importer import ImportRequest, import_model
from vae_core.imports.keras_files import keras_as_onnx
from vae_core.model.codec import LatentCodec
from vae_core.provenance import machine_description


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PRETRAINED_DIR / "mnist-mlp-2d"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    shipped, mnist = load_bundle(Path(args.model)), load_dataset("mnist")
    folder = Path(tempfile.mkdtemp(prefix="import-speed-"))
    for name, part in (("encoder", shipped.model.encoder), ("decoder", shipped.model.decoder)):
        part.save(folder / f"{name}.keras")
        keras_as_onnx(folder / f"{name}.keras", folder / f"{name}.onnx")
    imported = []

    def run_import() -> None:
        out = folder / f"imported-{len(imported)}"
        imported.append(import_model(ImportRequest(folder / "encoder.onnx", folder / "decoder.onnx", out), mnist))

    native = []

    def run_native() -> None:
        codec = LatentCodec(shipped.model)
        build_atlas(codec, mnist.x_test, mnist.y_test)
        knn_images, knn_labels = knn_sample(mnist, 0)
        native.append(evaluate(codec, mnist.x_test, mnist.y_test, knn_images, knn_labels, scored=IMPORT_SCORED))

    seconds = median_seconds(run_import, args.repeats)
    reference = median_seconds(run_native, args.repeats)
    print(f"python -m bench.import_speed --model {args.model} --repeats {args.repeats}  ({machine_description()})")
    print(
        f"  import through ONNX ({len(mnist.x_test):,} test images, {IMPORT_SCORED:,} scored): median {seconds:.1f} s"
    )
    print(f"  the same measured natively (Keras): median {reference:.1f} s; ratio {seconds / reference:.2f}")
    for name in ("neg_elbo", "neg_iw_bound", "knn_accuracy"):
        print(
            f"  {name}: imported {getattr(imported[-1].test_metrics, name):.4f}, native {getattr(native[-1], name):.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
