"""A .zip of an image folder, unpacked for training without trusting the archive.

An upload can claim anything in its headers. Each member is checked before anything is written: no
absolute paths or `..` that would land outside the destination, no links, no encryption; only image
files are unpacked (other files, `__MACOSX` and such, are passed over); and the bytes actually
unpacked are counted against a cap (20 times the archive's size, from 64 MB up to 4 GB), so a zip
bomb stops at the cap whatever its headers say.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from vae_core.datasets import DatasetError
from vae_core.image_folder import IMAGE_SUFFIXES
from vae_core.wording import count

MAX_MEMBERS = 1_000_000
# PNG and JPEG hardly compress further, BMP some: an honest archive unpacks to a few times its size.
MAX_RATIO, MIN_CAP_BYTES, MAX_UNPACKED_BYTES = 20, 64 * 2**20, 4 * 2**30
CHUNK_BYTES = 1 << 20
DRIVE = re.compile(r"^[A-Za-z]:")  # C:/... would be a path on Windows


def unpack_images(data: bytes, name: str, destination: Path) -> Path:
    """Unpack the image files of zip `data` (called `name`) into `destination`; the folder to open:
    the archive's one top-level folder where it has one, else `destination`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise DatasetError(f"{name} is not a zip archive. Zip a folder of images (one subfolder per class).") from None
    cap = min(MAX_UNPACKED_BYTES, max(MIN_CAP_BYTES, MAX_RATIO * len(data)))
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise DatasetError(f"{name} holds {count(len(members), 'file')}; at most {MAX_MEMBERS:,} are unpacked.")
        images = [member for member in members if _checked_member(member, name)]
        if sum(member.file_size for member in images) > cap:
            raise DatasetError(f"{name} says it unpacks to more than {cap // 2**20} MB of images; refused.")
        try:
            _unpack(archive, images, destination, cap, name)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError) as error:
            raise DatasetError(
                f"{name} could not be unpacked ({type(error).__name__}): zip the folder again."
            ) from None
    tops = {PurePosixPath(member.filename).parts[0] for member in images}
    only = destination / next(iter(tops)) if len(tops) == 1 else None
    return only if only is not None and only.is_dir() else destination


def _unpack(archive: zipfile.ZipFile, images: list[zipfile.ZipInfo], destination: Path, cap: int, name: str) -> None:
    """Write `images` under `destination`, counting the bytes written, whatever the headers claimed."""
    unpacked = 0
    for member in images:
        target = destination.joinpath(*PurePosixPath(member.filename).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, open(target, "wb") as sink:
            while chunk := source.read(CHUNK_BYTES):
                unpacked += len(chunk)
                if unpacked > cap:
                    raise DatasetError(f"{name} unpacks to more than {cap // 2**20} MB of images; refused.")
                sink.write(chunk)


def _checked_member(member: zipfile.ZipInfo, name: str) -> bool:
    """Whether `member` is an image file to unpack; a member that could escape or deceive is refused."""
    path = PurePosixPath(member.filename)
    if member.filename.startswith("/") or ".." in path.parts or "\\" in member.filename or DRIVE.match(member.filename):
        raise DatasetError(f"{name} has a member, {member.filename!r}, that points outside the archive; refused.")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise DatasetError(f"{name} has a link, {member.filename!r}; an archive of plain image files is needed.")
    if member.flag_bits & 0x1:
        raise DatasetError(f"{name} is encrypted; zip the images without a password.")
    hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
    return not member.is_dir() and not hidden and path.suffix.lower() in IMAGE_SUFFIXES
