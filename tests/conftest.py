"""Shared fixtures: a small synthetic dataset and an isolated models directory."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest
from synthetic import synthetic_dataset

from vae_core.data.datasets import Dataset


@pytest.fixture
def tiny_dataset() -> Dataset:
    return synthetic_dataset()


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    directory = tmp_path / "models"
    monkeypatch.setenv("VAE_MODELS_DIR", str(directory))
    return directory
