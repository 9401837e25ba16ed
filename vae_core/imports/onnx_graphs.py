"""An imported encoder and decoder rewritten to the bundle's contract (`vae_core.model.onnx_codec`),
whatever layout their maker chose: images in as (n, h, w, c), channels first (PyTorch's), flat, or
(n, h, w); the encoder's z mean and log variance as two outputs, the first two of three (Keras's
tutorial adds z), or one output of both halves; the decoder's image in any of the same layouts, as
logits or intensities. The imported graph is kept whole under a prefix; a few standard operators
(Transpose, Reshape, Gather, Sigmoid) before and after it do the rest, so ONNX Runtime Web runs
the result in a browser too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_core.bundles.archives import read_onnx
from vae_core.bundles.files import BundleError

PREFIX = "imported/"
FLOAT = 1  # onnx.TensorProto.FLOAT
CHANNELS_FIRST, CHANNELS_LAST = (0, 3, 1, 2), (0, 2, 3, 1)


def input_shape(value: Any) -> list[int | None]:
    """A graph input's or output's dimensions after the batch's; None where not fixed."""
    return [dim.dim_value or None for dim in value.type.tensor_type.shape.dim][1:]


def normalised_encoder(path: Any, image_shape: tuple[int, int, int]) -> tuple[Any, int, int]:
    """The encoder at `path` as `images` (+ `condition`) -> `z_mean`, `z_log_var`, with its latent
    size and its number of classes (0 unless it takes a second input)."""
    import onnx

    model = _prefixed(read_onnx(path), path.name, image_shape)
    graph, nodes = model.graph, []
    images, *condition = graph.input
    classes = _condition_classes(condition, path.name)
    nodes += _image_into(images, image_shape, "images", path.name)
    means, log_vars, latent_dim = _mean_and_log_var(list(graph.output), path.name, nodes)
    nodes += [
        onnx.helper.make_node("Identity", [means], ["z_mean"]),
        onnx.helper.make_node("Identity", [log_vars], ["z_log_var"]),
    ]
    inputs = [onnx.helper.make_tensor_value_info("images", FLOAT, ["n", *image_shape])]
    inputs += _renamed_condition(condition, classes, nodes)
    latent = [onnx.helper.make_tensor_value_info(name, FLOAT, ["n", latent_dim]) for name in ("z_mean", "z_log_var")]
    return _rewired(model, inputs, latent, nodes), latent_dim, classes


def normalised_decoder(
    path: Any, image_shape: tuple[int, int, int], latent_dim: int, classes: int, logits: bool
) -> Any:
    """The decoder at `path` as `z` (+ `condition`) -> intensities (n, h, w, c), a sigmoid added
    where it gives `logits`."""
    import onnx

    model = _prefixed(read_onnx(path), path.name, image_shape)
    graph, nodes = model.graph, []
    z, *condition = graph.input
    if _condition_classes(condition, path.name) != classes:
        raise BundleError(f"{path.name} and the encoder disagree on the label input: give both the label, or neither.")
    if [d for d in input_shape(z) if d != 1] != [latent_dim]:
        raise BundleError(f"{path.name} takes z of shape {input_shape(z)}; the encoder gives latent size {latent_dim}.")
    nodes += _reshaped("z", z.name, [-1, *input_shape(z)])
    if len(graph.output) != 1:
        raise BundleError(f"{path.name} has {len(graph.output)} outputs; a decoder gives one, the image.")
    image = _image_out_of(graph.output[0], image_shape, path.name, nodes)
    nodes.append(onnx.helper.make_node("Sigmoid" if logits else "Identity", [image], ["intensities"]))
    inputs = [
        onnx.helper.make_tensor_value_info("z", FLOAT, ["n", latent_dim]),
        *_renamed_condition(condition, classes, nodes),
    ]
    output = onnx.helper.make_tensor_value_info("intensities", FLOAT, ["n", *image_shape])
    return _rewired(model, inputs, [output], nodes)


def _prefixed(model: Any, name: str, image_shape: tuple[int, int, int]) -> Any:
    """The model with every name under `PREFIX`, so the names added here never meet its own."""
    import onnx

    for value in (*model.graph.input, *model.graph.output):
        if value.type.tensor_type.elem_type != FLOAT:
            raise BundleError(f"{name} takes or gives {value.name[:40]!r} as other than float32; export it in float32.")
    initialisers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initialisers]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    return onnx.compose.add_prefix(model, PREFIX)


def _condition_classes(condition: list, name: str) -> int:
    if not condition:
        return 0
    if len(condition) > 1 or len(input_shape(condition[0])) != 1 or not input_shape(condition[0])[0]:
        raise BundleError(f"{name} takes more than an image (or z) and a label one-hot of fixed size; refused.")
    return int(input_shape(condition[0])[0])


def _renamed_condition(condition: list, classes: int, nodes: list) -> list:
    import onnx

    if not classes:
        return []
    nodes.append(onnx.helper.make_node("Identity", ["condition"], [condition[0].name]))
    return [onnx.helper.make_tensor_value_info("condition", FLOAT, ["n", classes])]


def _image_into(value: Any, image_shape: tuple[int, int, int], source: str, name: str) -> list:
    """Nodes from `source`, images (n, h, w, c), to the layout `value`, the model's image input, takes."""
    import onnx

    h, w, c = image_shape
    shape = input_shape(value)
    if shape == [h, w, c]:
        return [onnx.helper.make_node("Identity", [source], [value.name])]
    if shape == [c, h, w]:
        return [onnx.helper.make_node("Transpose", [source], [value.name], perm=CHANNELS_FIRST)]
    if shape == [h * w * c] and c == 1 or shape == [h, w] and c == 1:
        return _reshaped(source, value.name, [-1, *shape])
    raise BundleError(f"{name} takes images of shape {shape}; the data's are {list(image_shape)} (h, w, c).")


def _image_out_of(value: Any, image_shape: tuple[int, int, int], name: str, nodes: list) -> str:
    """The name of the decoder's image as (n, h, w, c), nodes added to `nodes` to turn it so."""
    import onnx

    h, w, c = image_shape
    shape = input_shape(value)
    if shape == [h, w, c]:
        return value.name
    if shape == [c, h, w]:
        nodes.append(onnx.helper.make_node("Transpose", [value.name], ["image_nhwc"], perm=CHANNELS_LAST))
        return "image_nhwc"
    if shape == [h * w * c] and c == 1 or shape == [h, w] and c == 1:
        nodes += _reshaped(value.name, "image_nhwc", [-1, h, w, c])
        return "image_nhwc"
    raise BundleError(f"{name} gives images of shape {shape}; the data's are {list(image_shape)} (h, w, c).")


def _mean_and_log_var(outputs: list, name: str, nodes: list) -> tuple[str, str, int]:
    """Names of the encoder's z mean and log variance and the latent size: two outputs, the first
    two of three, or the halves of one."""
    import onnx

    sizes = [input_shape(value) for value in outputs]
    if len(outputs) in (2, 3) and len({tuple(size) for size in sizes[:2]}) == 1 and len(sizes[0]) == 1:
        return outputs[0].name, outputs[1].name, int(sizes[0][0])
    if len(outputs) == 1 and len(sizes[0]) == 1 and sizes[0][0] and sizes[0][0] % 2 == 0:
        half = sizes[0][0] // 2
        for part, start in (("z_mean_part", 0), ("z_log_var_part", half)):
            indices = onnx.numpy_helper.from_array(np.arange(start, start + half, dtype=np.int64), f"{part}_indices")
            nodes.append(onnx.helper.make_node("Constant", [], [indices.name], value=indices))
            nodes.append(onnx.helper.make_node("Gather", [outputs[0].name, indices.name], [part], axis=1))
        return "z_mean_part", "z_log_var_part", half
    raise BundleError(
        f"{name} gives {sizes}; an encoder gives z mean and log variance: two outputs of one size, the first two of"
        " three, or one output holding both halves."
    )


def _reshaped(source: str, target: str, shape: list) -> list:
    """Nodes reshaping `source` to `shape` (None or -1: whatever is left) as `target`."""
    import onnx

    constant = onnx.numpy_helper.from_array(np.array([s or -1 for s in shape], np.int64), f"shape_for_{target}")
    return [
        onnx.helper.make_node("Constant", [], [constant.name], value=constant),
        onnx.helper.make_node("Reshape", [source, constant.name], [target]),
    ]


def _rewired(model: Any, inputs: list, outputs: list, nodes: list) -> Any:
    """`model` with `inputs` and `outputs` as its graph's, and `nodes` around its own, in order."""
    import onnx

    graph = model.graph
    constants = [n for n in nodes if n.op_type == "Constant"]
    ordered = [*constants, *[n for n in nodes if n.op_type != "Constant" and n.output[0] in _fed_by(inputs, nodes)]]
    after = [n for n in nodes if n not in ordered]
    new_nodes = [*ordered, *graph.node, *after]
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.output[:]
    graph.output.extend(outputs)
    onnx.checker.check_model(model)
    return model


def _fed_by(inputs: list, nodes: list) -> set[str]:
    """Outputs of the added nodes that read a new graph input (they go before the imported graph)."""
    names = {value.name for value in inputs}
    return {node.output[0] for node in nodes if set(node.input) & names}
