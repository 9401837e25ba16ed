"""The registry: safe directory names, and which bundles exist (newest first, problems reported)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from synthetic import bundle_meta

from vae_core.bundles import registry
from vae_core.bundles.files import ATLAS_FILE, BUNDLE_FILES, META_FILE, MODEL_FILE
from vae_core.bundles.registry import MAX_NAME_LENGTH, safe_model_name, scan_bundles, user_models_dir
from vae_core.config import ModelConfig, TrainConfig

SAFE_NAME = re.compile(r"[a-z0-9_][a-z0-9._-]*")


def fake_bundle(directory: Path, name: str, created: str = "2024-01-01", files=BUNDLE_FILES) -> Path:
    """A bundle directory that passes every check made without Keras: the listing loads no model."""
    path = directory / name
    path.mkdir(parents=True)
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2))
    if MODEL_FILE in files:
        with zipfile.ZipFile(path / MODEL_FILE, "w") as archive:
            archive.writestr("config.json", json.dumps({"module": "vae_core.model.vae", "class_name": "VAE"}))
    if ATLAS_FILE in files:
        arrays = {"z_mean": np.zeros((3, 2)), "z_log_var": np.zeros((3, 2)), "reconstruction_error": np.zeros(3)}
        np.savez(path / ATLAS_FILE, **arrays, images=np.zeros((3, 28, 28, 1), np.uint8))
    if META_FILE in files:
        meta = bundle_meta(config, 3, None, name=name).to_json() | {"created": created}
        (path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("My Model!", "my-model"),
        (".hidden", "hidden"),
        ("mnist-conv-2d", "mnist-conv-2d"),
        ("fashion_mnist v1.2", "fashion_mnist-v1.2"),
        ("a..b", "a-b"),
        ("..", None),
        ("Modèle été", "mod-le-t"),
        ("  spaced  ", "spaced"),
        ("C:\\Users\\me", "c-users-me"),
    ],
)
def test_safe_model_name(name, expected):
    if expected is None:
        with pytest.raises(ValueError, match="has no letters or digits"):
            safe_model_name(name)
    else:
        assert safe_model_name(name) == expected


@pytest.mark.parametrize("name", ["", "   ", "...", "/", "日本語", "-.-"])
def test_names_without_letters_or_digits_are_refused(name):
    with pytest.raises(ValueError, match=re.escape(f"Model name {name!r} has no letters or digits")):
        safe_model_name(name)


@pytest.mark.parametrize(
    "name",
    ["x" * 200, "a" * 63 + "-b", "a" * 63 + ".." + "b" * 10, "../" * 40 + "z", "Über-Modell 😀 " * 10],
    ids=["long", "cut-at-dash", "cut-at-dots", "many-dots", "unicode"],
)
def test_safe_names_are_short_visible_and_stay_inside(name):
    cleaned = safe_model_name(name)

    assert 1 <= len(cleaned) <= MAX_NAME_LENGTH
    assert SAFE_NAME.fullmatch(cleaned), cleaned
    assert ".." not in cleaned and not cleaned.endswith(("-", "."))
    assert (Path("/models") / cleaned).parent == Path("/models")


def test_long_name_is_cut_to_the_limit():
    assert safe_model_name("x" * 200) == "x" * MAX_NAME_LENGTH
    assert safe_model_name("a" * 63 + "-b") == "a" * 63


def test_scan_lists_newest_first(tmp_path):
    fake_bundle(tmp_path, "old", "2024-01-05T10:00:00")
    fake_bundle(tmp_path, "new", "2025-03-01T09:00:00")
    fake_bundle(tmp_path, "middle", "2024-12-31T23:59:59")

    found, problems = scan_bundles([tmp_path])

    assert [info.name for info in found] == ["new", "middle", "old"]
    assert problems == []
    assert found[0].meta.created == "2025-03-01T09:00:00" and found[0].path == tmp_path / "new"
    assert not any(info.pretrained for info in found)


def test_scan_merges_directories(tmp_path):
    fake_bundle(tmp_path / "a", "first", "2024-01-01")
    fake_bundle(tmp_path / "b", "second", "2025-01-01")

    found, _ = scan_bundles([tmp_path / "a", tmp_path / "b"])

    assert [info.name for info in found] == ["second", "first"]


def test_scan_skips_hidden_directories_and_files(tmp_path):
    fake_bundle(tmp_path, "visible", "2024-01-01")
    fake_bundle(tmp_path, ".hidden", "2025-01-01")
    (tmp_path / ".visible.partial-abc123").mkdir()  # an interrupted save
    (tmp_path / "notes.txt").write_text("not a bundle")

    found, problems = scan_bundles([tmp_path])

    assert [info.name for info in found] == ["visible"]
    assert problems == []


def test_scan_reports_incomplete_directories(tmp_path):
    fake_bundle(tmp_path, "good", "2024-01-01")
    fake_bundle(tmp_path, "no-atlas", "2024-01-01", files=(MODEL_FILE, META_FILE))
    (tmp_path / "empty").mkdir()
    fake_bundle(tmp_path, "bad-meta", "2024-01-01")
    (tmp_path / "bad-meta" / META_FILE).write_text("{", encoding="utf-8")

    found, problems = scan_bundles([tmp_path])

    assert [info.name for info in found] == ["good"]
    reasons = {problem.name: problem.reason for problem in problems}
    assert sorted(reasons) == ["bad-meta", "empty", "no-atlas"]
    assert reasons["no-atlas"] == "not a complete model bundle: missing atlas.npz."
    assert reasons["empty"] == "not a complete model bundle: missing model.keras, meta.json, atlas.npz."
    assert reasons["bad-meta"].startswith("meta.json is not valid JSON")
    assert not any(str(tmp_path) in str(problem) for problem in problems)  # names, never server paths


def test_scan_ignores_missing_directories(tmp_path):
    fake_bundle(tmp_path / "present", "only", "2024-01-01")

    found, problems = scan_bundles([tmp_path / "absent", tmp_path / "present", tmp_path / "also" / "absent"])

    assert [info.name for info in found] == ["only"]
    assert problems == []


def test_scan_marks_pretrained_bundles(tmp_path, monkeypatch):
    pretrained = tmp_path / "pretrained"
    fake_bundle(pretrained, "shipped", "2024-01-01")
    fake_bundle(tmp_path / "mine", "trained", "2025-01-01")
    monkeypatch.setattr(registry, "PRETRAINED_DIR", pretrained.resolve())
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path / "mine"))

    found, _ = scan_bundles()

    assert [(info.name, info.pretrained) for info in found] == [("trained", False), ("shipped", True)]


def test_user_models_dir_honours_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.MODELS_DIR_ENV, str(tmp_path / "elsewhere"))

    assert user_models_dir() == tmp_path / "elsewhere"


@pytest.mark.parametrize("value", [None, ""])
def test_user_models_dir_defaults_to_the_repository(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(registry.MODELS_DIR_ENV, raising=False)
    else:
        monkeypatch.setenv(registry.MODELS_DIR_ENV, value)

    assert user_models_dir() == registry.REPO_ROOT / "models"


def test_models_dir_fixture_isolates_user_models(models_dir):
    assert user_models_dir() == models_dir
