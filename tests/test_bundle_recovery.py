"""Nothing but a bundle is ever replaced, a destination is checked before training, and what a
killed save leaves behind is finished or rolled back on the next scan."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support import kill_when_printed

from vae_core.bundles import files as bundle_files
from vae_core.bundles.files import (
    MAX_BUNDLE_NAME_BYTES,
    META_FILE,
    STALE_RETIRED_SECONDS,
    STALE_STAGING_SECONDS,
    BundleError,
    check_destination,
    recover_interrupted_saves,
    replace_directory,
)
from vae_core.bundles.registry import scan_bundles
from vae_core.cli import train as train_cli


def folder_with_a_file(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("precious")
    return path


def test_destinations_that_are_not_bundles_are_refused(tmp_path):
    models = folder_with_a_file(tmp_path / "models")
    for destination in (models, tmp_path / "models" / "notes.txt", models / ".."):
        with pytest.raises(BundleError, match="is an existing (folder|file) that is not a model bundle"):
            check_destination(destination)
    with pytest.raises(BundleError, match=f"too long: at most {MAX_BUNDLE_NAME_BYTES} bytes"):
        check_destination(models / ("a" * (MAX_BUNDLE_NAME_BYTES + 1)))
    with pytest.raises(BundleError, match=r"cannot be used \(File name too long\)"):
        check_destination(models / ("a" * 300) / "model")  # a folder on the way too long for the file system
    check_destination(models / "new-model")  # a new name is fine
    (tmp_path / "empty").mkdir()
    check_destination(tmp_path / "empty")  # so is an empty folder
    assert (models / "notes.txt").read_text() == "precious"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into any folder")
def test_a_folder_without_write_access_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(BundleError, match="Cannot write into"):
        check_destination(locked / "model")


def test_replacing_refuses_what_is_not_a_bundle(tmp_path):
    target = folder_with_a_file(tmp_path / "models" / "mine")
    staging = folder_with_a_file(tmp_path / "models" / ".mine.partial-abc")
    with pytest.raises(BundleError, match="is not a model bundle; it was left as it is"):
        replace_directory(staging, target)
    assert (target / "notes.txt").read_text() == "precious"


def test_the_cli_refuses_a_folder_before_training_and_deletes_nothing(tmp_path, capsys):
    models = folder_with_a_file(tmp_path / "models")
    with pytest.raises(SystemExit) as caught:
        train_cli.main(["--dataset", "mnist", "--out", str(models)])
    assert caught.value.code == 2
    error = capsys.readouterr().err
    assert "--out:" in error and "is an existing folder that is not a model bundle" in error
    assert (models / "notes.txt").read_text() == "precious"


def make_leftover(directory: Path, name: str, age_s: float = 0.0) -> Path:
    leftover = directory / name
    leftover.mkdir(parents=True)
    (leftover / META_FILE).write_text("{}")
    if age_s:
        then = time.time() - age_s
        os.utime(leftover, (then, then))
    return leftover


def test_recovery_rolls_back_finishes_and_cleans(tmp_path):
    now, old = int(time.time()), int(time.time()) - STALE_RETIRED_SECONDS - 10
    make_leftover(tmp_path, f".lost.retired-{old}-0123abcd")  # the replacement never arrived
    make_leftover(tmp_path, "done")
    make_leftover(tmp_path, f".done.retired-{now}-4567ef01")  # the replacement arrived; the old copy stayed
    make_leftover(tmp_path, ".dead.partial-x1y2z3", age_s=STALE_STAGING_SECONDS + 60)
    make_leftover(tmp_path, ".busy.partial-a1b2c3")  # a save going on right now
    make_leftover(tmp_path, f".moving.retired-{now}-89abcdef")  # a replace between its two renames

    done = recover_interrupted_saves(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".busy.partial-a1b2c3",
        f".moving.retired-{now}-89abcdef",
        "done",
        "lost",
    ]
    assert len(done) == 3 and any("lost: an interrupted replace was rolled back" in line for line in done)


INTERRUPTED_REPLACE = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    from synthetic import bundle_meta, synthetic_images
    from vae_core.bundles import files as bundle_files
    from vae_core.bundles.bundle import build_atlas, save_bundle
    from vae_core.config import ModelConfig, TrainConfig
    from vae_core.model.codec import LatentCodec
    from vae_core.model.vae import build_vae

    config = TrainConfig(ModelConfig(preset="mlp", hidden_sizes=(8,)))
    model = build_vae(config.model, seed=0)
    images, labels = synthetic_images(4)
    atlas = build_atlas(LatentCodec(model), images, labels)
    path = Path(sys.argv[1]) / "mine"
    save_bundle(path, model, bundle_meta(config, 4, None, version=1), atlas)
    rename = os.rename

    def rename_then_hang(source, target):
        rename(source, target)
        if ".retired-" in str(target):
            print("between renames", flush=True)
            time.sleep(60)

    bundle_files.os.rename = rename_then_hang
    save_bundle(path, model, bundle_meta(config, 4, None, version=2), atlas)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL and select on pipes")
def test_a_replace_killed_between_its_renames_keeps_the_earlier_model(tmp_path, monkeypatch):
    models = tmp_path / "models"
    assert kill_when_printed(INTERRUPTED_REPLACE, models, b"between renames", tmp_path) == -signal.SIGKILL
    assert not (models / "mine").exists()  # killed with the old bundle moved aside
    assert scan_bundles([models]) == ([], [])  # just retired: as far as a scan can tell, still moving
    monkeypatch.setattr(bundle_files, "STALE_RETIRED_SECONDS", -1)  # as if the minute had passed
    found, unusable = scan_bundles([models])
    assert [(info.name, info.meta.unknown["version"]) for info in found] == [("mine", 1)] and unusable == []
    assert [path.name for path in models.iterdir() if path.name.startswith(".mine.retired-")] == []
