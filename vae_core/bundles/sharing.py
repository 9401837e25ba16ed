"""Bundles shared as one .zip: packed from a bundle's folder, and added to a models folder from a zip
that is not trusted.

A shared zip holds one folder named after the bundle with the bundle's files in it (`NAME/meta.json`,
...), so unzipping it by hand gives the bundle back; a zip of the files alone, made inside the folder,
is taken too. Unpacking reads the zip as `size_limits` and `image_archive` read uploads: its list of
files bounded before `zipfile` parses it; no absolute paths, `..`, links, encryption, folders within
the folder, files a bundle does not hold, or a file twice (what macOS's Finder adds is passed over);
sizes counted against `size_limits.unpack_cap` from the headers and again as the bytes are written.
The files go to a hidden staging folder (`.NAME.partial-*`, which `files.recover_interrupted_saves`
clears if the process dies), get the checks every listed bundle gets (`archives.check_bundle`), and
only then are renamed to NAME. An upload never replaces a model: a name in use is refused.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Collection
from pathlib import Path, PurePosixPath

from vae_core.bundles.archives import MAX_DECODER_BYTES, check_bundle
from vae_core.bundles.files import (
    BUNDLE_FILES,
    CODE_MIXTURE_FILE,
    DECODER_FILE,
    ENCODER_FILE,
    MAX_CODE_MIXTURE_BYTES,
    MAX_META_BYTES,
    META_FILE,
    REPLAY_FILE,
    BundleError,
    staging_directory,
)
from vae_core.bundles.registry import MAX_NAME_LENGTH, safe_model_name
from vae_core.size_limits import UNPACK_RULE, claimed_listing, unpack_cap
from vae_core.wording import abridged, first_line

# Every file a bundle may hold, an imported model's encoder among them.
SHARED_FILES = (*BUNDLE_FILES, DECODER_FILE, REPLAY_FILE, ENCODER_FILE, CODE_MIXTURE_FILE)
# The pretrained bundles zip to 4 to 15 MB; larger presets and images have room, and an upload stays
# within what a server may hold in memory for one session. The app's upload limit too.
MAX_ZIP_BYTES = 256 * 2**20
# A bundle's files and their folder, and the twins and .DS_Store files Finder adds beside them.
MAX_MEMBERS, MAX_LISTING_BYTES = 32, 64 * 2**10
FINDER_FOLDER, FINDER_FILE = "__MACOSX", ".DS_Store"
FILE_CAPS = {
    META_FILE: MAX_META_BYTES,
    DECODER_FILE: MAX_DECODER_BYTES,
    ENCODER_FILE: MAX_DECODER_BYTES,
    CODE_MIXTURE_FILE: MAX_CODE_MIXTURE_BYTES,
}
CHUNK_BYTES = 1 << 20
DRIVE = re.compile(r"^[A-Za-z]:")  # C:/... would be a path on Windows
LOGGER = logging.getLogger(__name__)
ZIP_ADVICE = "Share the model again as a .zip (Home's Share a model, or vae-bundles pack)."


def pack_bundle(bundle: Path) -> bytes:
    """The bundle as a zip of one folder of its name, once it passes the checks the app makes of a
    listed bundle: nobody is handed a bundle the app would refuse."""
    bundle = Path(os.path.abspath(bundle))  # "." and "models/x/.." named as their folders are
    try:
        check_bundle(bundle)
    except BundleError as error:
        raise BundleError(f"{abridged(bundle.name)} cannot be shared: {error}") from None
    buffer = io.BytesIO()
    # Files dated before 1980 (a checkout's or a store's epoch dates) are dated 1980, not refused.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, strict_timestamps=False) as archive:
        for name in SHARED_FILES:
            if (bundle / name).is_file():
                archive.write(bundle / name, f"{bundle.name}/{name}")
    return buffer.getvalue()


def unpack_bundle(data: bytes, models_dir: Path, name: str | None = None, label: str = "The zip") -> Path:
    """Add the bundle zipped in `data` (a file called `label`) to `models_dir` as `name`, by default
    the zip's folder's name; its new folder. Anything wrong is a `BundleError` saying what to do,
    and leaves nothing behind."""
    models_dir = Path(models_dir)
    with _opened(data, label) as archive:
        members, folder = _bundle_members(archive, label)
        name = _free(name or folder or Path(label).stem, models_dir)
        try:
            models_dir.mkdir(parents=True, exist_ok=True)
            staging = staging_directory(models_dir / name)
        except OSError as error:
            raise BundleError(f"The models folder cannot be written to ({first_line(error)}).") from None
        try:
            _extract(archive, members, staging, unpack_cap(len(data)), label)
            _check_staged(staging, label)
            return _move_into_place(staging, models_dir / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone by now where the move was made


def suggested_name(data: bytes, label: str, taken: Collection[str]) -> str:
    """The name to offer for the bundle zipped in `data`: its folder's name, else the zip's, made safe,
    with -2, -3, ... added until it is none of `taken`. A zip that holds no bundle is refused as
    `unpack_bundle` refuses it."""
    with _opened(data, label) as archive:
        _, folder = _bundle_members(archive, label)
    wanted = _safe(folder or Path(label).stem)
    numbered = (f"{wanted[: MAX_NAME_LENGTH - 1 - len(str(n))]}-{n}" for n in range(2, len(taken) + 3))
    return next(name for name in (wanted, *numbered) if name not in taken)


def _opened(data: bytes, label: str) -> zipfile.ZipFile:
    """The zip, once its size and its list of files are within what a bundle needs."""
    if len(data) > MAX_ZIP_BYTES:
        raise BundleError(f"{label} is larger than {MAX_ZIP_BYTES // 2**20} MB, more than a model bundle takes.")
    entries, listing_bytes = claimed_listing(data)
    if entries > MAX_MEMBERS or listing_bytes > MAX_LISTING_BYTES:
        raise BundleError(f"{label} lists {entries:,} files; a shared model holds a handful. {ZIP_ADVICE}")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # not a zip, or a damaged one, fails in many ways
        raise BundleError(f"{label} is not a zip file. {ZIP_ADVICE}") from None


def _bundle_members(archive: zipfile.ZipFile, label: str) -> tuple[list[zipfile.ZipInfo], str | None]:
    """The bundle files the zip holds and the one folder they are in (None at the top level); every
    member that could escape, deceive or does not belong is refused."""
    files: dict[PurePosixPath, zipfile.ZipInfo] = {}
    for member in archive.infolist():
        path, quoted = _checked_path(member, label), repr(abridged(member.filename))
        if member.is_dir() or path.parts[0] == FINDER_FOLDER or path.name == FINDER_FILE:
            continue
        if len(path.parts) > 2:
            raise BundleError(f"{label} holds {quoted}, in a folder within a folder; refused. {ZIP_ADVICE}")
        if path.name not in SHARED_FILES:
            raise BundleError(f"{label} holds {quoted}, which is not part of a model bundle; refused. {ZIP_ADVICE}")
        if path in files:
            raise BundleError(f"{label} holds {quoted} twice; refused. {ZIP_ADVICE}")
        files[path] = member
    if not files:
        raise BundleError(f"{label} holds no files. {ZIP_ADVICE}")
    folders = {path.parent for path in files}
    if len(folders) > 1:
        raise BundleError(f"{label} holds files in more than one folder; a shared model is one folder. {ZIP_ADVICE}")
    folder = folders.pop()
    return list(files.values()), None if folder == PurePosixPath(".") else folder.name


def _checked_path(member: zipfile.ZipInfo, label: str) -> PurePosixPath:
    """The member's path, once it is relative, stays inside the zip, and is a plain file or folder,
    stored or deflated as every zip tool writes them."""
    name, quoted = member.filename, repr(abridged(member.filename))
    path = PurePosixPath(name)
    if not path.parts or name.startswith("/") or ".." in path.parts or "\\" in name or DRIVE.match(name):
        raise BundleError(f"{label} has a member, {quoted}, that points outside the zip; refused. {ZIP_ADVICE}")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise BundleError(f"{label} has a link, {quoted}; a shared model holds plain files only. {ZIP_ADVICE}")
    if member.flag_bits & 0x1:
        raise BundleError(f"{label} is encrypted; share the model as a zip without a password.")
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BundleError(
            f"{label} is compressed in a way this app does not read (method {member.compress_type}). {ZIP_ADVICE}"
        )
    return path


def _extract(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], staging: Path, cap: int, label: str) -> None:
    """Write each member into `staging` under its file name, counting its bytes against `cap` in all
    and its file's own cap as they are written, whatever the headers claimed."""
    _check_claimed_sizes(members, cap, label)
    used = 0
    try:
        for member in members:
            name = PurePosixPath(member.filename).name
            written, limit = 0, FILE_CAPS.get(name, cap)
            with archive.open(member) as source, open(staging / name, "xb") as sink:
                while chunk := source.read(CHUNK_BYTES):
                    written, used = written + len(chunk), used + len(chunk)
                    if used > cap or written > limit:
                        raise BundleError(f"{label} unpacks to more than its headers say; refused. {ZIP_ADVICE}")
                    sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise BundleError(f"{label} could not be unpacked ({type(error).__name__}). {ZIP_ADVICE}") from None
    except OSError as error:  # writing: a full disk, a folder made read-only
        raise BundleError(f"{label} could not be unpacked here ({first_line(error)}).") from None


def _check_claimed_sizes(members: list[zipfile.ZipInfo], cap: int, label: str) -> None:
    """Refuse, before anything is written, a zip whose headers claim more than it may unpack to."""
    for member in members:
        name = PurePosixPath(member.filename).name
        if name in FILE_CAPS and member.file_size > FILE_CAPS[name]:
            limit = FILE_CAPS[name] // 2**20
            raise BundleError(f"{label} says its {name} unpacks to more than {limit} MB, larger than a bundle's.")
    claimed = sum(member.file_size for member in members)
    if claimed > cap:
        raise BundleError(
            f"{label} says it unpacks to {claimed / 2**20:.0f} MB, more than {cap // 2**20} MB (the cap is"
            f" {UNPACK_RULE}); refused."
        )


def _check_staged(staging: Path, label: str) -> None:
    """Refuse the unpacked bundle as the app refuses a listed one, before it gets a name."""
    try:
        check_bundle(staging)
    except BundleError as error:
        raise BundleError(f"{label} holds a model the app cannot use: {error}") from None
    except Exception as error:  # a check's own blind spot: refused as the registry refuses it, not raised
        LOGGER.exception("Could not check the bundle in %s", label)
        raise BundleError(f"{label} holds a model that could not be checked ({type(error).__name__}).") from None


def _move_into_place(staging: Path, target: Path) -> Path:
    """Rename the staged bundle to `target` in one step; a name taken meanwhile is refused, not replaced."""
    if target.exists() or target.is_symlink():
        raise _taken(target.name)
    try:
        os.rename(staging, target)
    except OSError as error:  # a folder of that name, with files in it, made since the check
        if target.exists():
            raise _taken(target.name) from None
        raise BundleError(f"The model could not be added ({first_line(error)}).") from None
    return target


def _free(name: str, models_dir: Path) -> str:
    """`name` made safe, once no file or folder of that name is in `models_dir`."""
    safe = _safe(name)
    if (models_dir / safe).exists() or (models_dir / safe).is_symlink():
        raise _taken(safe)
    return safe


def _safe(name: str) -> str:
    try:
        return safe_model_name(name)
    except ValueError:
        raise BundleError(
            f"The name {abridged(name)!r} has no letters or digits: choose a name like 'mnist-2d'."
        ) from None


def _taken(name: str) -> BundleError:
    return BundleError(f"A model named {name!r} is already in the models folder: choose another name.")
