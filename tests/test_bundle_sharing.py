"""Bundles shared as one .zip: a bundle packed and added back under another name is the same model,
and a zip that could escape, deceive, blow up or hold anything but a usable bundle is refused in one
line, with nothing left in the models folder, not even a hidden staging folder."""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from synthetic import save_tiny_bundle

from vae_core.bundles import sharing
from vae_core.bundles.bundle import load_bundle
from vae_core.bundles.files import ATLAS_FILE, BundleError
from vae_core.bundles.registry import scan_bundles
from vae_core.bundles.sharing import SHARED_FILES, pack_bundle, suggested_name, unpack_bundle
from vae_core.size_limits import unpack_cap


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_tiny_bundle(tmp_path_factory.mktemp("saved") / "good")


@pytest.fixture(scope="module")
def files(saved) -> dict[str, bytes]:
    """The bundle's files by name, for zips put together by hand."""
    return {path.name: path.read_bytes() for path in saved.iterdir()}


def zipped(members: dict[str, bytes], links: tuple[str, ...] = (), method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def in_folder(files: dict[str, bytes], folder: str = "good") -> dict[str, bytes]:
    return {f"{folder}/{name}": data for name, data in files.items()}


def assert_refused(data: bytes, models: Path, expected: str, name: str | None = None) -> str:
    """Unpacking `data` into `models` is refused with one short line holding `expected`, naming no
    server folder, and leaves the models folder as it was: empty."""
    with pytest.raises(BundleError) as refusal:
        unpack_bundle(data, models, name, label="shared.zip")
    message = str(refusal.value)
    assert expected in message, message
    assert "\n" not in message and len(message) < 240 and str(models.parent) not in message
    assert not models.exists() or list(models.iterdir()) == []
    return message


def test_a_bundle_packed_and_added_under_another_name_is_the_same_model(saved, tmp_path):
    data = pack_bundle(saved)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # one folder named after the bundle, its files only
        assert sorted(archive.namelist()) == sorted(f"good/{name}" for name in SHARED_FILES if (saved / name).exists())
    added = unpack_bundle(data, tmp_path / "models", "copy", label="good.zip")
    assert added == tmp_path / "models" / "copy" and sorted(path.name for path in added.iterdir()) == sorted(
        path.name for path in saved.iterdir()
    )
    original, copy = load_bundle(saved), load_bundle(added)
    assert copy.meta.test_metrics == original.meta.test_metrics and copy.meta.created == original.meta.created
    for name, array in original.atlas.to_arrays().items():
        np.testing.assert_array_equal(copy.atlas.to_arrays()[name], array)
    assert [info.name for info in scan_bundles([tmp_path / "models"])[0]] == ["copy"]
    (tmp_path / "new").mkdir()  # an added bundle is as readable as any new folder, not its owner's alone
    assert stat.S_IMODE(added.stat().st_mode) == stat.S_IMODE((tmp_path / "new").stat().st_mode)


def test_the_name_defaults_to_the_zips_folder_else_the_zips_own_and_is_made_safe(saved, files, tmp_path):
    models = tmp_path / "models"
    assert unpack_bundle(pack_bundle(saved), models).name == "good"
    assert unpack_bundle(zipped(files), models, label="From A Friend.zip").name == "from-a-friend"
    assert unpack_bundle(pack_bundle(saved), models, "../../Evil Name").name == "evil-name"
    assert sorted(path.name for path in models.iterdir()) == ["evil-name", "from-a-friend", "good"]


def test_a_name_in_use_is_refused_never_replaced(saved, tmp_path):
    models = tmp_path / "models"
    (models / "good").mkdir(parents=True)
    (models / "good" / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match=r"^A model named 'good' is already in the models folder: choose another"):
        unpack_bundle(pack_bundle(saved), models)
    assert [path.name for path in models.iterdir()] == ["good"]
    assert (models / "good" / "notes.txt").read_text() == "mine"
    with pytest.raises(BundleError, match="The name '-- ..' has no letters or digits"):
        unpack_bundle(pack_bundle(saved), models, "-- ..")


def test_a_name_taken_while_the_zip_was_unpacked_is_refused_and_the_staging_folder_removed(
    saved, tmp_path, monkeypatch
):
    models = tmp_path / "models"

    def someone_else_saves(staging: Path, label: str) -> None:  # another save lands first, under that name
        (models / "good").mkdir()
        (models / "good" / "meta.json").write_text("theirs")

    monkeypatch.setattr(sharing, "_check_staged", someone_else_saves)
    with pytest.raises(BundleError, match="A model named 'good' is already in the models folder"):
        unpack_bundle(pack_bundle(saved), models)
    assert [path.name for path in models.iterdir()] == ["good"]
    assert (models / "good" / "meta.json").read_text() == "theirs"


def test_finders_extras_are_passed_over(files, tmp_path):
    extras = {"__MACOSX/good/._meta.json": b"\0\5\26\7", "good/.DS_Store": b"junk", "good/": b""}
    added = unpack_bundle(zipped(in_folder(files) | extras), tmp_path / "models", label="good.zip")
    assert sorted(path.name for path in added.iterdir()) == sorted(files)


@pytest.mark.parametrize(
    ("members", "links", "expected"),
    [
        ({"../meta.json": b"x"}, (), "shared.zip has a member, '../meta.json', that points outside the zip; refused."),
        ({"/etc/meta.json": b"x"}, (), "that points outside the zip"),
        ({"good/../../meta.json": b"x"}, (), "that points outside the zip"),
        ({"good\\..\\meta.json": b"x"}, (), "that points outside the zip"),
        ({"C:/meta.json": b"x"}, (), "that points outside the zip"),
        ({"good/meta.json": b"/etc/passwd"}, ("good/meta.json",), "shared.zip has a link, 'good/meta.json'"),
        ({"good/inner/meta.json": b"{}"}, (), "holds 'good/inner/meta.json', in a folder within a folder"),
        ({"good/meta.json": b"{}", "good/run.sh": b"rm -rf ~"}, (), "'good/run.sh', which is not part of a model"),
        ({"a/meta.json": b"{}", "b/atlas.npz": b""}, (), "holds files in more than one folder"),
        ({"meta.json": b"{}", "good/atlas.npz": b""}, (), "holds files in more than one folder"),
        ({}, (), "shared.zip holds no files."),
        ({"good/": b"", "__MACOSX/good/._x": b""}, (), "shared.zip holds no files."),
    ],
    ids=[
        "parent", "absolute", "climbs-out", "backslashes", "drive", "link", "nested", "unknown-file", "two-folders",
        "top-and-folder", "empty", "only-folders-and-extras",
    ],
)  # fmt: skip
def test_members_that_escape_deceive_or_do_not_belong_are_refused(tmp_path, members, links, expected):
    message = assert_refused(zipped(members, links), tmp_path / "models", expected)
    assert message.endswith("(Home's Share a model, or vae-bundles pack).")  # what to do


def test_a_file_twice_is_refused(files, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in in_folder(files).items():
            archive.writestr(name, data)
        archive.writestr("good/meta.json", b'{"format": "vae-bundle/1"}')  # read after the real one
    assert_refused(buffer.getvalue(), tmp_path / "models", "shared.zip holds 'good/meta.json' twice; refused.")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"not a zip at all", "shared.zip is not a zip file. Share the model again as a .zip"),
        (b"PK\x05\x06" + bytes(18), "shared.zip holds no files."),  # an empty zip, as `zip` writes one
    ],
    ids=["not-a-zip", "empty-zip"],
)
def test_something_that_is_not_a_zip_of_a_bundle_is_refused(tmp_path, data, expected):
    assert_refused(data, tmp_path / "models", expected)


def test_a_zip_larger_than_any_bundle_or_listing_more_files_is_refused_before_it_is_read(tmp_path, monkeypatch):
    many = zipped({f"good/{index}.txt": b"" for index in range(40)})
    assert_refused(many, tmp_path / "models", "shared.zip lists 40 files; a shared model holds a handful.")
    monkeypatch.setattr(sharing, "MAX_ZIP_BYTES", 1000)
    assert_refused(bytes(2000), tmp_path / "models", "shared.zip is larger than 0 MB, more than a model bundle takes.")


def test_a_zip_bomb_is_refused_from_its_headers_before_anything_is_written(files, tmp_path, monkeypatch):
    huge_meta = in_folder(files) | {"good/meta.json": b" " * (17 * 2**20)}  # 17 MB that compress to 17 KB
    assert_refused(zipped(huge_meta), tmp_path / "models", "says its meta.json unpacks to more than 16 MB")
    monkeypatch.setattr("vae_core.size_limits.MIN_CAP_BYTES", 100_000)
    bomb = zipped(in_folder(files) | {"good/replay.npz": bytes(8 * 2**20)})  # 8 MB of zeros in 8 KB
    cap = unpack_cap(len(bomb)) // 2**20  # 20 times the zip's size, here over its floor
    message = assert_refused(bomb, tmp_path / "models", f"shared.zip says it unpacks to 8 MB, more than {cap} MB")
    assert message.endswith("(the cap is 20 times its size, from 64 MB to 4 GB); refused.")


def test_a_zip_whose_headers_understate_its_sizes_stops_at_what_they_said(files, tmp_path):
    data = bytearray(zipped(in_folder(files)))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # the first member's uncompressed size
        at = data.find(signature) + offset
        data[at : at + 4] = (100).to_bytes(4, "little")
    assert_refused(bytes(data), tmp_path / "models", "could not be unpacked (BadZipFile)")


def test_a_damaged_or_encrypted_or_oddly_compressed_zip_is_refused(files, tmp_path):
    data = bytearray(zipped(in_folder(files)))
    at = data.find(b"PK\x01\x02") + 16  # the first member's CRC, in the list zipfile reads
    data[at] ^= 0xFF
    assert_refused(bytes(data), tmp_path / "models", "shared.zip could not be unpacked (BadZipFile).")
    locked = bytearray(zipped(in_folder(files)))
    at = locked.find(b"PK\x01\x02") + 8  # the first member's flags, in the list
    locked[at] |= 0x1
    assert_refused(bytes(locked), tmp_path / "models", "shared.zip is encrypted; share the model as a zip without")
    bzip2 = zipped(in_folder(files), method=zipfile.ZIP_BZIP2)
    assert_refused(bzip2, tmp_path / "models", "shared.zip is compressed in a way this app does not read (method 12)")


def test_a_bundle_the_app_would_not_list_is_refused_after_unpacking(saved, files, tmp_path):
    missing = {name: data for name, data in files.items() if name != "meta.json"}
    assert_refused(
        zipped(in_folder(missing)),
        tmp_path / "models",
        "shared.zip holds a model the app cannot use: not a complete model bundle: missing meta.json.",
    )
    copy = Path(shutil.copytree(saved, tmp_path / "tampered" / "good"))
    with np.load(copy / ATLAS_FILE) as archive:
        arrays = dict(archive)
    np.savez(copy / ATLAS_FILE, **arrays | {"labels": np.array([{"a": 1}] * 6, dtype=object)})
    tampered = {path.name: path.read_bytes() for path in copy.iterdir()}
    assert_refused(zipped(in_folder(tampered)), tmp_path / "models", "atlas.npz holds pickled Python objects; refused.")


def test_a_check_that_fails_unexpectedly_refuses_the_zip_in_a_line(saved, tmp_path, monkeypatch):
    data = pack_bundle(saved)

    def blind_spot(bundle: Path) -> None:
        raise KeyError("config")

    monkeypatch.setattr(sharing, "check_bundle", blind_spot)
    assert_refused(data, tmp_path / "models", "shared.zip holds a model that could not be checked (KeyError).")


def test_files_dated_before_1980_are_packed(saved, tmp_path):
    copy = Path(shutil.copytree(saved, tmp_path / "old"))
    for path in copy.iterdir():
        os.utime(path, (0, 0))  # 1970, which a zip cannot date
    with zipfile.ZipFile(io.BytesIO(pack_bundle(copy))) as archive:
        assert {member.date_time[0] for member in archive.infolist()} == {1980}


def test_a_folder_that_is_not_a_bundle_is_not_packed(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(BundleError, match=r"^half cannot be shared: not a complete model bundle: missing model.keras"):
        pack_bundle(tmp_path / "half")


def test_the_name_offered_is_the_zips_else_the_next_free_one(saved, files):
    data = pack_bundle(saved)
    assert suggested_name(data, "anything.zip", taken={"mnist-conv-2d"}) == "good"
    assert suggested_name(data, "anything.zip", taken={"good", "good-2"}) == "good-3"
    assert suggested_name(zipped(files), "My Model (1).zip", taken=set()) == "my-model-1"
    long = zipped(in_folder(files, "x" * 64))
    assert suggested_name(long, "long.zip", taken={"x" * 64}) == "x" * 62 + "-2"  # still within 64 characters
    with pytest.raises(BundleError, match="is not a zip file"):
        suggested_name(b"nope", "nope.zip", taken=set())
