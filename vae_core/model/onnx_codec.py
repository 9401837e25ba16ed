"""An imported model's encoder and decoder run by ONNX Runtime, behind `LatentCodec`'s methods, so
every page and analysis takes a model built with PyTorch or any tool that writes ONNX.

The two files are the ones an import writes (`vae_core.imports.onnx_graphs`): `encoder.onnx` maps
`images`, float32 (n, h, w, c) in [0, 1] (and `condition`, (n, classes), for a conditional model),
to `z_mean` and `z_log_var`, (n, latent_dim); `decoder.onnx` maps `z` (and `condition`) to pixel
intensities (n, h, w, c), as every bundle's browser decoder does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_core.model.codec import BatchRunner, LatentCodec
from vae_core.model.precision import FLOAT32
from vae_core.model.vae import VAE

# Where a decoder gives intensities with no logits to read, log p(x|z) takes them clipped this far
# from 0 and 1, as float32 holds them.
INTENSITY_FLOOR = 1e-7
# ONNX operators after a decoder's sigmoid that leave its pixels in the same order.
ORDER_KEEPING_STEPS = ("Reshape", "Identity", "Flatten", "Squeeze", "Unsqueeze")


@dataclass(frozen=True)
class OnnxModel:
    """An imported model kept as its two ONNX files: a bundle's model where it has no model.keras."""

    encoder: Path
    decoder: Path
    latent_dim: int
    image_shape: tuple[int, int, int]
    classes: int = 0


class OnnxCodec(LatentCodec):
    """`LatentCodec` over ONNX Runtime sessions. log p(x|z) is Bernoulli, from the decoder's logits
    where its last step is a sigmoid (an import that was given logits adds one), else from its
    intensities clipped by `INTENSITY_FLOOR`."""

    def __init__(self, model: OnnxModel) -> None:
        self.latent_dim, self.image_shape, self.classes = model.latent_dim, tuple(model.image_shape), model.classes
        encoder = _session(Path(model.encoder).read_bytes())
        decoder_bytes, logits = _with_logits_output(Path(model.decoder).read_bytes())
        decoder = _session(decoder_bytes)
        self._encode_batch = _runner(encoder, ["images", "condition"], ["z_mean", "z_log_var"])
        decode = _runner(decoder, ["z", "condition"], [decoder.get_outputs()[0].name, *([logits] if logits else [])])
        self._decode_batch = lambda chunk: decode(chunk)[0]
        self._log_likelihood_batch = lambda chunk: _bernoulli_log_likelihood(
            decode([chunk[0], *chunk[2:]]), chunk[1], from_logits=logits is not None
        )


def codec_for(model: VAE | OnnxModel, decode_precision: str = FLOAT32) -> LatentCodec:
    """The codec of a bundle's model, whichever kind it is (`decode_precision` is Keras's alone)."""
    if isinstance(model, OnnxModel):
        return OnnxCodec(model)
    return LatentCodec(model, decode_precision=decode_precision)


def _session(model_bytes: bytes) -> Any:
    import onnxruntime  # only where an imported model is opened

    return onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])


def _runner(session: Any, input_names: list[str], output_names: list[str]) -> BatchRunner:
    """A batch's arrays, in `input_names`' order (the condition only where the model takes one),
    through `session`; the outputs named, in order."""
    names = input_names[: len(session.get_inputs())]
    return lambda chunk: session.run(
        output_names, dict(zip(names, [np.asarray(a, np.float32) for a in chunk], strict=True))
    )


def _with_logits_output(model_bytes: bytes) -> tuple[bytes, str | None]:
    """The decoder with its last sigmoid's input as a second output, and that output's name, where
    only steps that keep the pixels' order (reshapes) follow the sigmoid, as in Keras's exports; the
    decoder unchanged and None where no such sigmoid makes its output."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    producers = {output: node for node in model.graph.node for output in node.output}
    node = producers.get(model.graph.output[0].name)
    while node is not None and node.domain in ("", "ai.onnx") and node.op_type in ORDER_KEEPING_STEPS:
        node = producers.get(node.input[0])
    if node is None or node.op_type != "Sigmoid" or node.domain not in ("", "ai.onnx"):
        return model_bytes, None
    model.graph.output.append(onnx.helper.make_tensor_value_info(node.input[0], onnx.TensorProto.FLOAT, None))
    return model.SerializeToString(), node.input[0]


def _bernoulli_log_likelihood(outputs: list[np.ndarray], images: np.ndarray, from_logits: bool) -> np.ndarray:
    """log p(x|z) per row, summed over pixels, from the decoder's logits (softplus form, exact in
    float32) or its intensities."""
    x = np.asarray(images, np.float64).reshape(len(images), -1)
    if from_logits:
        logits = np.asarray(outputs[1], np.float64).reshape(len(x), -1)
        return np.sum(x * logits - np.logaddexp(0.0, logits), axis=1)
    p = np.clip(np.asarray(outputs[0], np.float64).reshape(len(x), -1), INTENSITY_FLOOR, 1 - INTENSITY_FLOOR)
    return np.sum(x * np.log(p) + (1 - x) * np.log1p(-p), axis=1)
