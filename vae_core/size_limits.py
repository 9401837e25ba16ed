"""How much an upload or a bundle may make the app allocate, measured from headers before anything
is unpacked.

`np.load` allocates the shape an .npy header claims, and a zip claims what it likes: 100 MB of
blank images compress to 95 KB. So uploads and atlases are measured here first, and refused in a
sentence past these bounds:

- an upload (a zipped image folder, an .npz) may unpack to `unpack_cap` of its size;
- a test split, which becomes a bundle's atlas and stays in the server's memory while its model is
  open, holds at most `most_test_images`; an atlas is refused past the same numbers, so no run
  saves an atlas the app would then refuse;
- a zip's list of files is measured from its end record (`claimed_listing`) before `zipfile` reads it.
"""

from __future__ import annotations

import math
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

# PNG and JPEG hardly compress further, BMP and raw pixels some: an honest upload unpacks to a few
# times its size, a small one to anything under the floor.
MAX_RATIO, MIN_CAP_BYTES, MAX_UNPACKED_BYTES = 20, 64 * 2**20, 4 * 2**30
UNPACK_RULE = f"{MAX_RATIO} times its size, from {MIN_CAP_BYTES // 2**20} MB to {MAX_UNPACKED_BYTES // 2**30} GB"
# The built-in test sets hold 10,000 images; 64 MB is 5,461 RGB images of 64 x 64, 341 of 256 x 256.
# With what the pages compute from it, the largest atlas keeps the server within 200 MB of where it
# was before the bundle was opened (bench/RESULTS.md).
MAX_TEST_IMAGES, MAX_TEST_BYTES = 10_000, 64 * 2**20
# Beside its image, an atlas row holds two latent vectors (64 float64s at most), an error and a label.
ATLAS_ROW_EXTRA_BYTES = 2 * 64 * 8 + 8 + 8
MAX_ATLAS_BYTES = MAX_TEST_BYTES + MAX_TEST_IMAGES * ATLAS_ROW_EXTRA_BYTES

ArrayHeader = tuple[tuple[int, ...], np.dtype]
# The signatures of a zip's end record, its ZIP64 end record and the locator of that (APPNOTE 4.3.14-16).
END_RECORD, END_RECORD_64, END_LOCATOR_64 = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"


def unpack_cap(archive_bytes: int) -> int:
    """The bytes an upload of `archive_bytes` may unpack to (`UNPACK_RULE`)."""
    return min(MAX_UNPACKED_BYTES, max(MIN_CAP_BYTES, MAX_RATIO * archive_bytes))


def most_test_images(image_shape: tuple[int, ...]) -> int:
    """The most images of `image_shape` (uint8) a test split, and so an atlas, may hold."""
    return min(MAX_TEST_IMAGES, MAX_TEST_BYTES // math.prod(image_shape))


def array_bytes(header: ArrayHeader) -> int:
    """What `np.load` allocates for an array of this header."""
    shape, dtype = header
    return math.prod(shape) * dtype.itemsize


def npz_headers(file: Path | BinaryIO) -> dict[str, ArrayHeader]:
    """Shape and dtype of each array in an .npz, named as `np.load` names them, from the .npy
    headers alone; `ValueError` for anything that is not an .npz of .npy files."""
    headers = {}
    try:
        with zipfile.ZipFile(file) as archive:
            for member in archive.namelist():
                with archive.open(member) as stream:
                    version = np.lib.format.read_magic(stream)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(stream)
                headers[member.removesuffix(".npy")] = (tuple(shape), dtype)
    except Exception as error:  # damaged data fails in many ways (bad zip, bad header, zlib, permissions)
        raise ValueError(f"{type(error).__name__}: {error}") from error
    return headers


def claimed_listing(data: bytes) -> tuple[int, int]:
    """How many entries the archive's central directory holds and its bytes, as its end record
    claims and found as `zipfile` finds it (the record at the very end, else the last in the
    64 KB comment before it, and the ZIP64 record before that where there is one); (0, 0) without
    an end record, which `zipfile` refuses."""
    at = len(data) - 22
    if at < 0 or data[at : at + 4] != END_RECORD or data[-2:] != b"\0\0":
        at = data.rfind(END_RECORD, max(0, len(data) - 22 - (1 << 16)))
        if at < 0 or at + 22 > len(data):
            return 0, 0
    entries, size = struct.unpack_from("<HI", data, at + 10)
    record = at - 20 - 56
    if record >= 0 and data[at - 20 : at - 16] == END_LOCATOR_64 and data[record : record + 4] == END_RECORD_64:
        entries, size = struct.unpack_from("<QQ", data, record + 32)
    return entries, size
