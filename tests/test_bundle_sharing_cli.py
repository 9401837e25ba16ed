"""`python -m vae_core.cli.bundles pack` and `unpack`: a shipped bundle zipped and added back byte for
byte, into `--models-dir` or the app's models folder, and every refusal one line with exit status 2."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import REPO_ROOT, child_environment

from vae_core.bundles.registry import PRETRAINED_DIR, scan_bundles
from vae_core.cli.bundles import main

SMALLEST = PRETRAINED_DIR / "mnist-mlp-2d"  # 4 MB: the quickest shipped bundle to zip


def refusal(capsys, argv: list[str]) -> str:
    """The one line a refused command prints, once it has exited with status 2."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("python -m vae_core.cli.bundles: error: "), error
    return error.strip()


def test_pack_then_unpack_gives_the_bundle_back_byte_for_byte(capsys, tmp_path):
    shared = tmp_path / "shared.zip"
    assert main(["pack", str(SMALLEST), str(shared)]) == 0
    assert capsys.readouterr().out.startswith(f"Packed {SMALLEST} into {shared} (")
    assert main(["unpack", str(shared), "--name", "from-a-friend", "--models-dir", str(tmp_path / "models")]) == 0
    added = tmp_path / "models" / "from-a-friend"
    assert capsys.readouterr().out == f"Added shared.zip as {added}.\n"
    for original in SMALLEST.iterdir():
        assert (added / original.name).read_bytes() == original.read_bytes(), original.name
    assert [info.name for info in scan_bundles([tmp_path / "models"])[0]] == ["from-a-friend"]
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []  # no partial zip left


def test_pack_names_the_zip_after_the_bundle_and_unpack_adds_to_the_apps_models_folder(
    capsys, tmp_path, models_dir, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(["pack", str(SMALLEST)]) == 0
    with zipfile.ZipFile(tmp_path / "mnist-mlp-2d.zip") as archive:
        assert {Path(name).parent.name for name in archive.namelist()} == {"mnist-mlp-2d"}
    assert main(["unpack", "mnist-mlp-2d.zip"]) == 0  # $VAE_MODELS_DIR, as the app reads it
    assert [path.name for path in models_dir.iterdir()] == ["mnist-mlp-2d"]
    message = refusal(capsys, ["unpack", "mnist-mlp-2d.zip"])
    assert message.endswith("A model named 'mnist-mlp-2d' is already in the models folder: choose another name.")


def test_what_is_not_a_bundle_or_cannot_be_written_is_refused_in_a_line(capsys, tmp_path):
    (tmp_path / "notes.zip").write_text("not a zip")
    assert "notes.zip is not a zip file. Share the model again as a .zip" in refusal(
        capsys, ["unpack", str(tmp_path / "notes.zip")]
    )
    assert "missing.zip cannot be read (No such file or directory)." in refusal(
        capsys, ["unpack", str(tmp_path / "missing.zip")]
    )
    assert "pretrained cannot be shared: not a complete model bundle" in refusal(capsys, ["pack", str(PRETRAINED_DIR)])
    (tmp_path / "taken").mkdir()
    assert "cannot be written (Is a directory): choose another path." in refusal(
        capsys, ["pack", str(SMALLEST), str(tmp_path / "taken")]
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.zip", "taken"]


def test_the_module_runs_as_a_program_without_keras_and_refuses_without_a_traceback(tmp_path):
    (tmp_path / "notes.zip").write_text("not a zip")
    command = [sys.executable, "-m", "vae_core.cli.bundles", "unpack", str(tmp_path / "notes.zip")]
    done = subprocess.run(command, cwd=REPO_ROOT, env=child_environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "python -m vae_core.cli.bundles: error: notes.zip is not a zip file. Share the model again as a .zip"
        " (Home's Share a model, or vae-bundles pack)."
    ]
    imports = "import sys, vae_core.cli.bundles; print('keras' in sys.modules)"
    probe = subprocess.run([sys.executable, "-c", imports], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert probe.stdout.strip() == "False", probe.stderr  # so both commands answer at once
