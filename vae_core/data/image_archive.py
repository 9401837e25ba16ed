"""A .zip of an image folder, unpacked for training without trusting the archive.

An upload can claim anything in its headers. Before `zipfile` reads the archive's list of files, the
list's claimed length is bounded, so a list of millions of entries is never parsed. Each member is
checked before anything is written: no absolute paths or `..` that would land outside the
destination, no links, no encryption; only image files are unpacked (other files, `__MACOSX` and
such, are passed over), at most `MAX_IMAGE_FILES` of them. What they take on disk, each file and
folder rounded up to whole 4 KB blocks, is counted against `size_limits.unpack_cap` of the
archive's size, from the headers first and then as the bytes are actually written, so a zip bomb
stops at the cap whatever its headers say.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from vae_core.data.datasets import DatasetError
from vae_core.data.image_folder import IMAGE_SUFFIXES
from vae_core.size_limits import UNPACK_RULE, claimed_listing, unpack_cap
from vae_core.wording import count

MAX_IMAGE_FILES = 70_000  # all of MNIST, training and test images
# Every image with its folder and the `__MACOSX` twin macOS adds; the list of them, at 80 bytes an
# entry, is some 16 MB, and `zipfile` holds about ten times its list's size while it reads it.
MAX_MEMBERS, MAX_LISTING_BYTES = 200_000, 16 * 2**20
BLOCK_BYTES = 4096  # what a file system gives a file at least: a 1-byte file takes a whole block
CHUNK_BYTES = 1 << 20
DRIVE = re.compile(r"^[A-Za-z]:")  # C:/... would be a path on Windows


def unpack_images(data: bytes, name: str, destination: Path) -> Path:
    """Unpack the image files of zip `data` (called `name`) into `destination`; the folder to open:
    the archive's one top-level folder where it has one, else `destination`."""
    entries, listing_bytes = claimed_listing(data)
    if entries > MAX_MEMBERS or listing_bytes > MAX_LISTING_BYTES:
        raise DatasetError(
            f"{name} lists {count(entries, 'file')} in {listing_bytes / 2**20:.0f} MB; at most {MAX_MEMBERS:,}"
            f" files and {MAX_LISTING_BYTES // 2**20} MB are read. Zip at most {MAX_IMAGE_FILES:,} images."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise DatasetError(f"{name} is not a zip archive. Zip a folder of images (one subfolder per class).") from None
    cap = unpack_cap(len(data))
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise DatasetError(f"{name} holds {len(members):,} files; at most {MAX_MEMBERS:,} are read.")
        images = [member for member in members if _checked_member(member, name)]
        if len(images) > MAX_IMAGE_FILES:
            raise DatasetError(
                f"{name} holds {len(images):,} image files; at most {MAX_IMAGE_FILES:,} are unpacked. Zip fewer images."
            )
        if _folders_on_disk(images) + sum(_on_disk(member.file_size) for member in images) > cap:
            raise DatasetError(
                f"{name} says it unpacks to more than {cap // 2**20} MB on disk, each file taking whole 4 KB blocks"
                f" (the cap is {UNPACK_RULE}); refused."
            )
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
    """Write `images` under `destination`, counting the disk they take as written, whatever the headers claimed."""
    used = _folders_on_disk(images)
    for member in images:
        target = destination.joinpath(*PurePosixPath(member.filename).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with archive.open(member) as source, open(target, "wb") as sink:
            while chunk := source.read(CHUNK_BYTES):
                written += len(chunk)
                if used + _on_disk(written) > cap:
                    raise DatasetError(f"{name} unpacks to more than {cap // 2**20} MB on disk; refused.")
                sink.write(chunk)
        used += _on_disk(written)


def _on_disk(size: int) -> int:
    """The bytes a file of `size` takes on disk: whole blocks, and one even when empty."""
    return max(1, -(-size // BLOCK_BYTES)) * BLOCK_BYTES


def _folders_on_disk(images: list[zipfile.ZipInfo]) -> int:
    """The bytes the folders that hold `images` take on disk, a block each."""
    folders = {folder for member in images for folder in PurePosixPath(member.filename).parents}
    return len(folders - {PurePosixPath(".")}) * BLOCK_BYTES


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
