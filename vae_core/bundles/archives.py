"""Checks of a bundle's two archives that need no Keras: what the model file asks Keras to build,
and the atlas arrays' types, shapes and sizes, read from their headers without decompressing them.

Keras's `safe_mode` is what keeps code from running; these checks come first so that a tampered or
damaged bundle is refused in one line a person can read, and before the app ever offers it.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vae_core.bundles.files import (
    ATLAS_ARRAYS,
    ATLAS_FILE,
    DECODER_FILE,
    ENCODER_FILE,
    MODEL_FILE,
    BundleError,
    model_files,
    read_meta,
)
from vae_core.bundles.meta import BundleMeta
from vae_core.size_limits import (
    MAX_ATLAS_BYTES,
    MAX_TEST_BYTES,
    MAX_TEST_IMAGES,
    ArrayHeader,
    array_bytes,
    most_test_images,
    npz_headers,
)

# Where every class and function a vae_core model is built from comes from.
KNOWN_MODULES = ("keras", "vae_core")
CODE_CLASS_NAMES = ("Lambda", "__lambda__")


def check_bundle(bundle: Path) -> BundleMeta:
    """The bundle's description, once it and both archives pass every check made without Keras."""
    meta = read_meta(bundle)
    if model_files(meta) == (MODEL_FILE,):
        check_model_archive(bundle)
    else:
        shape, classes = meta.model.image_shape, meta.model.classes
        check_encoder_archive(Path(bundle) / ENCODER_FILE, meta.model.latent_dim, shape, classes)
        check_decoder_archive(Path(bundle) / DECODER_FILE, meta.model.latent_dim, shape, classes)
    check_atlas_archive(bundle, meta.model.latent_dim, meta.model.image_shape)
    return meta


def check_model_archive(bundle: Path) -> None:
    """Refuse a model.keras that is empty, not a Keras archive, or names code outside Keras and vae_core."""
    path = Path(bundle) / MODEL_FILE
    if path.stat().st_size == 0:
        raise BundleError(f"{MODEL_FILE} is empty (0 bytes): its save was cut short. Train or copy the model again.")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except OSError as error:
        raise BundleError(f"{MODEL_FILE} cannot be read ({error.strerror or type(error).__name__}).") from None
    except Exception:  # a damaged or hostile archive fails in many ways (bad CRC, zlib, deep nesting)
        raise BundleError(f"{MODEL_FILE} is not a Keras model file. Train or copy the model again.") from None
    for node in _config_nodes(config):
        class_name, module = node.get("class_name"), node.get("module")
        if class_name in CODE_CLASS_NAMES:
            raise BundleError(f"{MODEL_FILE} asks to run code when loaded (a Lambda layer); refused.")
        if isinstance(module, str) and not _known(module):
            name = node.get("config") if class_name == "function" else class_name
            what = f"{module}.{name}"
            raise BundleError(f"{MODEL_FILE} asks to run code from outside Keras ({what}); refused.")


def check_atlas_archive(bundle: Path, latent_dim: int, image_shape: tuple[int, ...]) -> None:
    """Refuse an atlas.npz whose arrays are missing, pickled, empty, of shapes the model cannot have,
    or larger than any test split a run saves (`size_limits`), so it is never unpacked into memory."""
    try:
        headers = npz_headers(Path(bundle) / ATLAS_FILE)
    except ValueError as error:
        raise BundleError(f"{ATLAS_FILE} is not a readable .npz file. Train or copy the model again.") from error
    row_shapes = ((latent_dim,), (latent_dim,), (), tuple(image_shape))
    expected = dict(zip(ATLAS_ARRAYS, row_shapes, strict=True))
    missing = [name for name in expected if name not in headers]
    if missing:
        raise BundleError(f"{ATLAS_FILE} lacks the arrays {', '.join(missing)}.")
    if any(dtype.hasobject for _, dtype in headers.values()):
        raise BundleError(f"{ATLAS_FILE} holds pickled Python objects; refused.")
    lengths = {shape[0] if shape else None for shape, _ in headers.values()}
    if len(lengths) != 1:
        raise BundleError(f"{ATLAS_FILE} has arrays of different lengths.")
    if lengths == {0}:
        raise BundleError(f"{ATLAS_FILE} holds no test images, so there is nothing to explore.")
    for name, rows in expected.items():
        if headers[name][0][1:] != rows:
            raise BundleError(
                f"{ATLAS_FILE} does not match the model: {name} has rows of shape {headers[name][0][1:]},"
                f" expected {rows}."
            )
    if "labels" in headers and (headers["labels"][0][1:] != () or headers["labels"][1].kind not in "iu"):
        raise BundleError(f"{ATLAS_FILE} has labels that are not one whole number per image.")
    _check_atlas_size(headers, image_shape)


def _check_atlas_size(headers: dict[str, ArrayHeader], image_shape: tuple[int, ...]) -> None:
    """Refuse an atlas of more rows than a test split of these images holds, or of more bytes in all
    (every array counts: `load_atlas` reads them all) than the largest a run saves."""
    rows, most = headers["images"][0][0], most_test_images(image_shape)
    if rows > most:
        raise BundleError(
            f"{ATLAS_FILE} holds {rows:,} test images; a bundle holds at most {most:,} of this size"
            f" (at most {MAX_TEST_IMAGES:,} images and {MAX_TEST_BYTES // 2**20} MB of them); refused."
        )
    unpacked = sum(array_bytes(header) for header in headers.values())
    if unpacked > MAX_ATLAS_BYTES:
        raise BundleError(
            f"{ATLAS_FILE} unpacks to {unpacked / 2**20:.0f} MB; a bundle's atlas takes at most"
            f" {MAX_ATLAS_BYTES / 2**20:.0f} MB; refused."
        )


def _config_nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every dict nested anywhere in a Keras config."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _config_nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _config_nodes(item)


def _known(module: str) -> bool:
    return module.split(".")[0] in KNOWN_MODULES


# An ONNX decoder of the largest preset at 64 latent dimensions is a few tens of megabytes; Streamlit
# serves no static file above 200 MB.
MAX_DECODER_BYTES = 200 * 2**20
# Operator sets every ONNX runtime has (the default domain); others are custom operators.
STANDARD_DOMAINS = ("", "ai.onnx")
# A decoder has no If, Loop or Scan bodies at all; deeper nesting than this is a hostile file.
MAX_SUBGRAPH_DEPTH = 8


def check_decoder_archive(path: Path, latent_dim: int, image_shape: tuple[int, ...], classes: int = 0) -> None:
    """Refuse a decoder.onnx that is too large, not ONNX, leans on files or operators beyond the
    standard ones, or does not map z (n, latent_dim), and a conditional model's condition
    (n, classes), to images (n, *image_shape), before a browser is sent to fetch it."""
    inputs = [("z", [latent_dim]), ("condition", [classes])][: 2 if classes else 1]
    _check_onnx_archive(path, inputs, [(None, list(image_shape))], f"latent size {latent_dim}", "images")


def check_encoder_archive(path: Path, latent_dim: int, image_shape: tuple[int, ...], classes: int = 0) -> None:
    """Refuse an imported model's encoder.onnx as `check_decoder_archive` does a decoder: it maps
    `images` (n, *image_shape) (and `condition`) to `z_mean` and `z_log_var`, (n, latent_dim) each."""
    inputs = [("images", list(image_shape)), ("condition", [classes])][: 2 if classes else 1]
    outputs = [("z_mean", [latent_dim]), ("z_log_var", [latent_dim])]
    _check_onnx_archive(path, inputs, outputs, f"images {tuple(image_shape)}", f"latent size {latent_dim}")


def _check_onnx_archive(path: Path, inputs: list, outputs: list, takes: str, gives: str) -> None:
    """Refuse an ONNX file unless its inputs and outputs are `inputs` and `outputs`, (name, row
    shape) each in order (a None name: any), after `read_onnx`'s checks."""
    graph = read_onnx(path).graph
    if len(graph.input) != len(inputs) or len(graph.output) != len(outputs):
        raise BundleError(
            f"{path.name} should have {len(inputs)} input(s) ({', '.join(name for name, _ in inputs)}) and"
            f" {len(outputs)} output(s)."
        )
    given, wanted = [v.name for v in (*graph.input, *graph.output)], [name for name, _ in (*inputs, *outputs)]
    if any(name is not None and name != found for name, found in zip(wanted, given, strict=True)):
        raise BundleError(f"{path.name} names its inputs and outputs {given}, not {wanted}.")
    values = (*graph.input, *graph.output)
    rows = [[dim.dim_value or None for dim in value.type.tensor_type.shape.dim][1:] for value in values]
    if rows != [shape for _, shape in (*inputs, *outputs)]:
        results = rows[len(inputs) :]
        raise BundleError(
            f"{path.name} maps {rows[: len(inputs)]} to {results[0] if len(results) == 1 else results}, not {takes}"
            + (f" and {inputs[1][1][0]} classes" if len(inputs) > 1 else "")
            + f" to {gives}."
        )


def read_onnx(path: Path) -> Any:
    """An ONNX file's model, once it is no larger than `MAX_DECODER_BYTES`, parses, keeps no tensor in
    other files and uses only standard operators (what ONNX Runtime Web and every runtime has)."""
    import onnx  # only where an ONNX file is read

    if path.stat().st_size > MAX_DECODER_BYTES:
        raise BundleError(f"{path.name} is larger than {MAX_DECODER_BYTES // 2**20} MB.")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # protobuf fails in many ways on a damaged or foreign file
        raise BundleError(f"{path.name} is not an ONNX model.") from None
    for place, tensor in _onnx_tensors(model, path.name):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise BundleError(f"{path.name} keeps tensor data in other files ({place}); refused.")
    local = {function.domain for function in model.functions}
    for node in (node for graph in _onnx_graphs(model, path.name) for node in graph.node):
        if node.domain not in STANDARD_DOMAINS and node.domain not in local:
            raise BundleError(
                f"{path.name} uses the custom operator {node.domain[:40]}.{node.op_type[:40]}, which no standard"
                " ONNX runtime has; export it with standard operators only."
            )
    return model


def _onnx_graphs(model: Any, name: str) -> Iterator[Any]:
    """An ONNX model's graph, its local functions and the bodies of its If, Loop and Scan nodes, to
    any depth up to `MAX_SUBGRAPH_DEPTH`."""
    pending = [(model.graph, 0), *((function, 0) for function in model.functions)]
    while pending:
        graph, depth = pending.pop()
        if depth > MAX_SUBGRAPH_DEPTH:
            raise BundleError(f"{name} nests subgraphs deeper than {MAX_SUBGRAPH_DEPTH} levels; refused.")
        yield graph
        for node in graph.node:
            for attribute in node.attribute:
                bodies = [*attribute.graphs, *([attribute.g] if attribute.HasField("g") else [])]
                pending.extend((body, depth + 1) for body in bodies)


def _onnx_tensors(model: Any, name: str) -> Iterator[tuple[str, Any]]:
    """Every tensor of an ONNX model, with where it sits: initializers and node attributes (a
    Constant node's value), in every graph `_onnx_graphs` finds."""
    for graph in _onnx_graphs(model, name):
        yield from (("an initializer", tensor) for tensor in getattr(graph, "initializer", ()))
        for sparse in getattr(graph, "sparse_initializer", ()):
            yield from (("a sparse initializer", sparse.values), ("a sparse initializer", sparse.indices))
        for node in graph.node:
            for attribute in node.attribute:
                place = f"a {node.op_type[:40]} node's {attribute.name[:40]}"
                # An unset tensor field reads as an empty tensor, which keeps nothing anywhere.
                sparse = [attribute.sparse_tensor, *attribute.sparse_tensors]
                tensors = [attribute.t, *attribute.tensors, *(s.values for s in sparse), *(s.indices for s in sparse)]
                yield from ((place, tensor) for tensor in tensors)
