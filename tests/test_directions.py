"""Directions by example: the vector between two groups, walking along it, and files that say
plainly why they cannot be used."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vae_core.directions import (
    STRIP_LENGTHS,
    Direction,
    DirectionFileError,
    direction_between,
    directions_from_json,
    directions_to_json,
    walk,
)


def test_a_direction_between_two_identical_groups_is_zero_and_its_strip_constant():
    group = np.random.default_rng(0).normal(size=(20, 5))
    vector = direction_between(group, group.copy())

    assert not vector.any()
    strip = walk(group[0], vector)
    assert strip.shape == (len(STRIP_LENGTHS), 5) and np.all(strip == group[0])


def test_the_direction_goes_from_group_as_mean_to_group_bs_in_every_dimension():
    group_a, group_b = np.zeros((3, 4)), np.array([[1.0, 2, 3, 4], [3, 2, 1, 0]])
    vector = direction_between(group_a, group_b)

    np.testing.assert_allclose(vector, [2, 2, 2, 2])
    np.testing.assert_allclose(walk(np.zeros(4), vector, np.array([-1.0, 0.0, 1.0])), [[-2] * 4, [0] * 4, [2] * 4])
    with pytest.raises(ValueError, match="at least one image"):
        direction_between(group_a, group_b[:0])


def test_directions_survive_a_file_round_trip():
    kept = [Direction("thickness", np.array([0.5, -1.0])), Direction("slant", np.array([0.0, 2.0]))]
    text = directions_to_json(kept, "mnist-conv-2d")

    loaded = directions_from_json(text.encode(), latent_dim=2)

    assert [d.name for d in loaded] == ["thickness", "slant"]
    np.testing.assert_array_equal(loaded[0].vector, kept[0].vector)
    assert json.loads(text)["model"] == "mnist-conv-2d" and json.loads(text)["latent_dim"] == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe not text", "not JSON"),
        (b"{not json", "not JSON"),
        (b'{"format": "something else"}', "not a directions file"),
        (b'{"format": "vae-directions/1", "directions": [{"name": "x"}]}', "lacks its name or vector"),
        (b'{"format": "vae-directions/1", "directions": [{"name": "x", "vector": [1, 2, 3]}]}', "has 3 latent"),
        (b'{"format": "vae-directions/1", "directions": [{"name": "x", "vector": [1, NaN]}]}', "not finite"),
        (b" " * (2 << 20), "larger than"),
    ],
    ids=["binary", "broken-json", "other-json", "no-vector", "wrong-size", "nan", "huge"],
)
def test_a_file_that_cannot_be_used_says_why(data, expected):
    with pytest.raises(DirectionFileError, match=expected):
        directions_from_json(data, latent_dim=2)
