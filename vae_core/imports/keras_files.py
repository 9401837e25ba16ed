"""An encoder or decoder saved by Keras (`.keras`), loaded without running code from the file and
written as ONNX, so an import goes one way whatever the files were (`onnx_graphs` takes it on)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from vae_core.bundles.files import BundleError
from vae_core.wording import first_line

# A .keras file is a zip of the config and the weights; the largest preset's encoder is a few MB.
MAX_KERAS_BYTES = 200 * 2**20


def keras_as_onnx(path: Path, destination: Path) -> None:
    """Load the model at `path` in Keras's safe mode (no Lambda layers, no classes from outside Keras)
    and export it to `destination` as ONNX. Raises `BundleError` saying why not."""
    import keras

    if path.stat().st_size > MAX_KERAS_BYTES:
        raise BundleError(f"{path.name} is larger than {MAX_KERAS_BYTES // 2**20} MB.")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types for unsafe, foreign or damaged files
        raise BundleError(f"{path.name} cannot be loaded safely by Keras ({_reason(error, path)}).") from None
    if not isinstance(model, keras.Model) or not model.inputs:
        raise BundleError(
            f"{path.name} holds no Keras model with defined inputs; save a functional or Sequential model."
        )
    zeros = [keras.ops.zeros((1, *tensor.shape[1:])) for tensor in model.inputs]
    try:
        model(zeros if len(zeros) > 1 else zeros[0])  # Keras exports only a model that has been called
        with tempfile.TemporaryDirectory() as folder:
            exported = Path(folder) / "model.onnx"
            model.export(str(exported), format="onnx", verbose=False)
            exported.replace(destination)
    except Exception as error:  # an exporter fails in its own ways (missing converter, unsupported op)
        raise BundleError(f"{path.name} could not be written as ONNX ({_reason(error, path)}).") from None


def _reason(error: Exception, path: Path) -> str:
    """Keras's reason in a line, without where the file sits on the server."""
    text = first_line(error).replace(str(path.resolve().parent), "").replace(str(path.parent), "")
    if "safe_mode" in text or "Lambda" in text:
        return "it would run code from the file: Lambda layers or functions are refused"
    return f"{type(error).__name__}: {text[:160]}"
