"""Shared fixtures (a small synthetic dataset, an isolated models directory) and the test tiers:
every test under `tests/browser/` is marked `browser`, so `-m "not browser and not slow"` is the
fast tier README gives for editing."""

from __future__ import annotations

import os
from pathlib import Path

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


BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
