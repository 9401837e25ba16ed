"""Counts agree with their noun and alternatives read as a sentence."""

from __future__ import annotations

import pytest

from vae_core.wording import count, first_line, one_of


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0 images"), (1, "1 image"), (2, "2 images"), (42_000, "42,000 images")],
)
def test_count_agrees_with_the_number(n, expected):
    assert count(n, "image") == expected


def test_count_takes_an_irregular_plural():
    assert count(1, "batch", "batches") == "1 batch"
    assert count(3, "batch", "batches") == "3 batches"


@pytest.mark.parametrize(
    ("names", "expected"),
    [(["PNG"], "PNG"), (["PNG", "JPEG"], "PNG or JPEG"), (["PNG", "JPEG", "GIF"], "PNG, JPEG or GIF")],
)
def test_one_of_lists_alternatives(names, expected):
    assert one_of(names) == expected


def test_an_error_in_one_line_never_names_the_file():
    assert first_line(FileNotFoundError(2, "No such file or directory", "/srv/models/x/meta.json")) == (
        "No such file or directory"
    )
    assert first_line(ValueError("unsupported op\nat node 7")) == "unsupported op"
    assert first_line(RuntimeError()) == "RuntimeError"
