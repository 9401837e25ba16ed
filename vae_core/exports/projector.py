"""The latent codes as TensorFlow's Embedding Projector opens them: vectors and metadata as TSV, a
sprite of the images, and a `projector_config.pbtxt` naming them, in one zip. Unzipped into a
TensorBoard log folder (`tensorboard --logdir FOLDER`), the Projector tab shows them as they are;
projector.tensorflow.org takes the two TSV files (and the sprite, from a URL) the same way.
"""

from __future__ import annotations

import io
import math
import re
import zipfile

import numpy as np
from PIL import Image

from vae_core.data.datasets import as_uint8
from vae_core.exports.latent_codes import LatentCodes

FOLDER = "projector"
VECTORS, METADATA, SPRITE, CONFIG = "vectors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt"
# The Projector refuses a sprite beyond 8192 pixels a side: more images get smaller thumbnails.
MAX_SPRITE_SIDE = 8192
TENSOR_NAME = "latent_means"


def projector_files(codes: LatentCodes, images: np.ndarray, class_names: list[str]) -> dict[str, bytes]:
    """The four files by name, for the test images `codes` holds (`images` in the same order)."""
    thumbnail, sprite = _sprite(images)
    return {
        VECTORS: _tsv_rows(codes.z_mean, "{:.6g}"),
        METADATA: _metadata(codes, class_names),
        SPRITE: sprite,
        CONFIG: _config(thumbnail).encode("utf-8"),
    }


def projector_zip(codes: LatentCodes, images: np.ndarray, class_names: list[str]) -> bytes:
    """The four files in a folder of a zip (the images stored, the PNG already compressed)."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in projector_files(codes, images, class_names).items():
            archive.writestr(f"{FOLDER}/{name}", content)
    return stream.getvalue()


def _tsv_rows(matrix: np.ndarray, number: str) -> bytes:
    return "".join("\t".join(number.format(value) for value in row) + "\n" for row in matrix).encode("utf-8")


def _metadata(codes: LatentCodes, class_names: list[str]) -> bytes:
    """A header row (the Projector wants one where there are several columns), then a row a point."""
    lines = ["index\tlabel\tclass\treconstruction_error\tneg_elbo"]
    rows = zip(codes.index, codes.label, codes.reconstruction_error, codes.neg_elbo, strict=True)
    for index, label, error, score in rows:
        name = "-" if label < 0 else (class_names[label] if label < len(class_names) else str(label))
        lines.append(f"{index}\t{label}\t{_cell(name)}\t{error:.6g}\t{score:.6g}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cell(text: str) -> str:
    """A class name as one TSV cell: tabs and line breaks, which would split it, become spaces."""
    return re.sub(r"[\t\r\n\v\f]+", " ", text).strip() or "-"


def _sprite(images: np.ndarray) -> tuple[int, bytes]:
    """(thumbnail side, PNG): the images row by row in a square grid, as the Projector reads it."""
    images = as_uint8(images)
    count, height, width = images.shape[:3]
    columns = max(1, math.ceil(math.sqrt(count)))
    side = min(max(height, width), MAX_SPRITE_SIDE // columns)
    mode = "L" if images.shape[-1] == 1 else "RGB"
    sheet = Image.new(mode, (columns * side, columns * side))
    for position, image in enumerate(images):
        picture = Image.fromarray(image[..., 0] if mode == "L" else image, mode)
        row, column = divmod(position, columns)
        sheet.paste(picture.resize((side, side), Image.Resampling.BILINEAR), (column * side, row * side))
    stream = io.BytesIO()
    sheet.save(stream, format="PNG")
    return side, stream.getvalue()


def _config(thumbnail: int) -> str:
    return (
        "embeddings {\n"
        f'  tensor_name: "{TENSOR_NAME}"\n'
        f'  tensor_path: "{VECTORS}"\n'
        f'  metadata_path: "{METADATA}"\n'
        "  sprite {\n"
        f'    image_path: "{SPRITE}"\n'
        f"    single_image_dim: {thumbnail}\n"
        f"    single_image_dim: {thumbnail}\n"
        "  }\n"
        "}\n"
    )
