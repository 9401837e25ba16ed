"""The decoder as ONNX, so a browser can decode latent points itself (ONNX Runtime Web).

The file maps z, float32 (n, latent_dim), to pixel intensities in [0, 1], float32 (n, h, w, c):
the decoder with its sigmoid; a conditional model's takes a second input, `condition`, float32
(n, classes), the class weights, as `LatentCodec.decode` computes in float32. Keras's own exporter
runs where the backend has one installed (TensorFlow's needs tf2onnx); elsewhere, as under JAX
without jax2onnx, a TensorFlow process exports it again from the saved model file, which is
backend-independent.

    python -m vae_core.bundles.decoder_export MODEL.keras OUT.onnx   (the re-export, run by the core)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras

from vae_core.model.codec import intensity_decoder
from vae_core.model.vae import VAE
from vae_core.wording import first_line

# A TensorFlow process needs a few seconds to start and export; far more means it hangs.
REEXPORT_TIMEOUT_SECONDS = 300
PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the folder holding vae_core


class DecoderExportFailed(RuntimeError):
    """No ONNX decoder could be written; the message says why, in a line."""


def export_decoder(vae: VAE, destination: Path, saved_model: Path | None = None) -> None:
    """Write `vae`'s decoder to `destination` as ONNX, atomically.

    `saved_model` is the model's .keras file, for the TensorFlow re-export when this backend's own
    exporter is not installed; without it such a failure is final. Raises `DecoderExportFailed`.
    """
    destination = Path(destination)
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        try:
            _export_here(vae, partial)
        except ImportError as error:  # this backend's exporter (jax2onnx, onnxscript) is not installed
            if saved_model is None or keras.backend.backend() == "tensorflow":
                raise DecoderExportFailed(f"ONNX export is not available here ({first_line(error)})") from error
            try:
                _export_with_tensorflow(Path(saved_model), partial)
            except (subprocess.SubprocessError, OSError) as failure:  # a hung or unstartable process
                reason = f"ONNX export through TensorFlow failed ({type(failure).__name__})"
                raise DecoderExportFailed(reason) from failure
        except Exception as error:  # an exporter fails in its own ways (unsupported op, converter bug)
            raise DecoderExportFailed(f"ONNX export failed ({type(error).__name__}: {first_line(error)})") from error
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)


def _export_here(vae: VAE, path: Path) -> None:
    decoder = intensity_decoder(vae.decoder)
    zeros = [keras.ops.zeros((1, *tensor.shape[1:])) for tensor in decoder.inputs]
    decoder(zeros if len(zeros) > 1 else zeros[0])  # Keras exports only a model that has been called
    decoder.export(str(path), format="onnx", verbose=False)


def _export_with_tensorflow(saved_model: Path, path: Path) -> None:
    # The child imports this module by name, wherever the caller's working directory is.
    import_path = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-m", __name__, str(saved_model), str(path)],
        env={**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONPATH": import_path},
        capture_output=True,
        text=True,
        timeout=REEXPORT_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise DecoderExportFailed(f"ONNX export through TensorFlow failed ({last})")


def main(argv: list[str]) -> int:
    """The re-export: load a saved model (safe mode) in this process's backend and export its decoder."""
    model_file, destination = argv
    vae = keras.saving.load_model(model_file, safe_mode=True, compile=False)
    _export_here(vae, Path(destination))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
