"""Zipped image folders from uploads: unpacked and opened, or refused with a sentence when they
would escape the folder, hold links, are encrypted, list or hold too many files, or unpack past the cap."""

from __future__ import annotations

import io
import stat
import struct
import zipfile

import pytest
from PIL import Image

from vae_core.config import ImageSettings
from vae_core.data.datasets import DatasetError
from vae_core.data.image_archive import unpack_images
from vae_core.data.source import DataSource
from vae_core.size_limits import claimed_listing


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (20, 20), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def zipped(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_a_zipped_folder_of_classes_opens_as_a_labelled_dataset(tmp_path):
    members = {f"digits/{label}/{index}.png": png() for label in ("a", "b") for index in range(6)}
    members |= {"digits/readme.txt": b"hello", "__MACOSX/digits/._0.png": b"junk", "digits/a/.DS_Store": b""}
    source = DataSource("digits.zip", zipped(members), images=ImageSettings(16, 1))
    dataset = source.open(seed=0, unpack_to=tmp_path)
    assert dataset.name == "digits" and dataset.source == "image archive digits.zip"
    assert dataset.class_names == ("a", "b") and len(dataset.x_train) + len(dataset.x_test) == 12
    assert not (tmp_path / "__MACOSX").exists() and not (tmp_path / "digits" / "readme.txt").exists()


def test_an_archive_without_a_top_folder_opens_from_where_it_was_unpacked(tmp_path):
    assert unpack_images(zipped({"a/1.png": png(), "b/1.png": png()}), "x.zip", tmp_path) == tmp_path
    assert unpack_images(zipped({"top/a/1.png": png()}), "x.zip", tmp_path / "2") == tmp_path / "2" / "top"


@pytest.mark.parametrize(
    ("members", "links", "expected"),
    [
        ({"../evil.png": b"x"}, (), "points outside the archive"),
        ({"/etc/evil.png": b"x"}, (), "points outside the archive"),
        ({"a/../../evil.png": b"x"}, (), "points outside the archive"),
        ({"C:/evil.png": b"x"}, (), "points outside the archive"),
        ({"a/ok.png": png(), "../late.png": b"x"}, (), "points outside the archive"),
        ({"a\\..\\evil.png": b"x"}, (), "points outside the archive"),
        ({"a/link.png": b"/etc/passwd"}, ("a/link.png",), "has a link"),
    ],
)
def test_members_that_could_escape_or_deceive_are_refused_before_anything_is_written(
    tmp_path, members, links, expected
):
    with pytest.raises(DatasetError, match=expected):
        unpack_images(zipped(members, links), "upload.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.png").exists()


def test_an_encrypted_archive_is_refused(tmp_path):
    data = bytearray(zipped({"a/1.png": png()}))
    for signature in (b"PK\x03\x04", b"PK\x01\x02"):  # the encryption flag, in the local and central headers
        at = data.find(signature)
        flag = at + (6 if signature == b"PK\x03\x04" else 8)
        data[flag] |= 0x1
    with pytest.raises(DatasetError, match="encrypted"):
        unpack_images(bytes(data), "locked.zip", tmp_path)


def test_an_archive_that_says_it_unpacks_past_the_cap_is_refused_before_unpacking(tmp_path, monkeypatch):
    monkeypatch.setattr("vae_core.size_limits.MIN_CAP_BYTES", 100_000)
    bomb = zipped({f"a/{index}.png": b"\0" * 60_000 for index in range(3)})  # 180 KB in a few hundred bytes
    assert len(bomb) < 2_000
    with pytest.raises(DatasetError, match="says it unpacks to more than 0 MB"):
        unpack_images(bomb, "bomb.zip", tmp_path)
    assert not any(tmp_path.iterdir())


def test_an_archive_whose_headers_lie_stops_at_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr("vae_core.size_limits.MIN_CAP_BYTES", 100_000)
    data = bytearray(zipped({"a/0.png": b"\0" * 150_000}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # the uncompressed size fields
        at = data.find(signature) + offset
        data[at : at + 4] = (1000).to_bytes(4, "little")
    with pytest.raises(DatasetError, match="unpacks to more than 0 MB|could not be unpacked"):
        unpack_images(bytes(data), "liar.zip", tmp_path)


def test_a_damaged_member_is_refused_with_a_sentence(tmp_path):
    data = bytearray(zipped({"a/0.png": png(), "a/1.png": png()}))
    at = data.find(b"PK\x01\x02") + 16  # the first member's CRC, in the central directory zipfile reads
    data[at] ^= 0xFF
    with pytest.raises(DatasetError, match=r"could not be unpacked \(BadZipFile\): zip the folder again"):
        unpack_images(bytes(data), "damaged.zip", tmp_path)


def test_names_with_colons_are_fine_where_they_are_not_drives(tmp_path):
    folder = unpack_images(zipped({"shots/2024-01-01T12:30:00.png": png()}), "shots.zip", tmp_path)
    assert (folder / "2024-01-01T12:30:00.png").is_file()


def test_something_that_is_not_a_zip_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="not a zip archive"):
        DataSource("photos.zip", b"not a zip").open(unpack_to=tmp_path)


def tiny_images(n: int) -> bytes:
    """A zip of `n` one-byte files named as PNGs: a few megabytes that would unpack to `n` files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(n):
            archive.writestr(f"a/{index}.png", b"x")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def more_than_mnist() -> bytes:
    return tiny_images(70_001)


def test_each_file_counts_as_the_disk_blocks_it_takes(tmp_path):
    many = tiny_images(20_000)  # 20 KB of images that take 78 MB of 4 KB disk blocks
    with pytest.raises(DatasetError, match="says it unpacks to more than 64 MB on disk"):
        unpack_images(many, "tiny.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_more_image_files_than_mnist_holds_are_refused_before_anything_is_written(tmp_path, more_than_mnist):
    with pytest.raises(DatasetError, match="many.zip holds 70,001 image files; at most 70,000 are unpacked"):
        unpack_images(more_than_mnist, "many.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_list_of_files_claimed_past_its_bound_is_refused_before_zipfile_reads_it(tmp_path):
    data = bytearray(zipped({"a/0.png": png()}))
    at = data.rfind(b"PK\x05\x06") + 12  # the end record's size of the central directory
    data[at : at + 4] = struct.pack("<I", 50 * 2**20)  # a lie zipfile would read 50 MB of entries for
    with pytest.raises(DatasetError, match=r"^liar.zip lists 1 file in 50 MB; at most 200,000 files and 16 MB"):
        unpack_images(bytes(data), "liar.zip", tmp_path)


@pytest.mark.parametrize("layout", ["plain", "comment", "signatures-in-comment", "zip64"])
def test_the_list_is_measured_where_zipfile_finds_it(layout, more_than_mnist):
    data = zipped({"a/0.png": png(), "a/1.png": png()})
    if "comment" in layout:
        buffer = io.BytesIO(data)
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.comment = b"PK\x05\x06 and more than 22 bytes after it" if layout.startswith("sig") else b"hi"
        data = buffer.getvalue()
    elif layout == "zip64":
        data = more_than_mnist  # more than 65,535 entries: the counts sit in the ZIP64 record
    end = zipfile._EndRecData(io.BytesIO(data))  # what zipfile itself reads
    assert claimed_listing(data) == (end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE])
    assert claimed_listing(b"not a zip") == (0, 0)
