"""Directions by example: the vector between two groups, walking along it, and files that say
plainly why they cannot be used."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vae_core.analysis import directions


def test_a_direction_between_two_identical_groups_is_zero_and_its_strip_constant():
    group = np.random.default_rng(0).normal(size=(20, 5))
    vector = directions.direction_between(group, group.copy())

    assert not vector.any()
    strip = directions.walk(group[0], vector)
    assert strip.shape == (len(directions.STRIP_LENGTHS), 5) and np.all(strip == group[0])


def test_the_direction_goes_from_group_as_mean_to_group_bs_in_every_dimension():
    group_a, group_b = np.zeros((3, 4)), np.array([[1.0, 2, 3, 4], [3, 2, 1, 0]])
    vector = directions.direction_between(group_a, group_b)

    np.testing.assert_allclose(vector, [2, 2, 2, 2])
    np.testing.assert_allclose(
        directions.walk(np.zeros(4), vector, np.array([-1.0, 0.0, 1.0])), [[-2] * 4, [0] * 4, [2] * 4]
    )
    with pytest.raises(ValueError, match="at least one image"):
        directions.direction_between(group_a, group_b[:0])


def test_directions_survive_a_file_round_trip():
    kept = [
        directions.Direction("thickness", np.array([0.5, -1.0])),
        directions.Direction("slant", np.array([0.0, 2.0])),
    ]
    text = directions.directions_to_json(kept, "mnist-conv-2d")

    loaded = directions.directions_from_json(text.encode(), latent_dim=2)

    assert [d.name for d in loaded] == ["thickness", "slant"]
    np.testing.assert_array_equal(loaded[0].vector, kept[0].vector)
    assert json.loads(text)["model"] == "mnist-conv-2d" and json.loads(text)["latent_dim"] == 2


_HEAD = b'{"format": "vae-directions/1", "directions": '


def _file(*vectors: bytes) -> bytes:
    """A directions file whose vectors are written exactly as given, as an outside tool might."""
    entries = b", ".join(b'{"name": "d%d", "vector": [%s]}' % (i, v) for i, v in enumerate(vectors))
    return _HEAD + b"[" + entries + b"]}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"\xff\xfe not text", "not JSON", id="binary"),
        pytest.param(b"{not json", "not JSON", id="broken-json"),
        pytest.param(b'{"format": "something else"}', "not a directions file", id="other-json"),
        pytest.param(_HEAD + b'[{"name": "x"}]}', "lacks its name or vector", id="no-vector"),
        pytest.param(_file(b"1, 2, 3"), "has 3 latent", id="wrong-size"),
        pytest.param(b" " * (2 << 20), "larger than", id="huge"),
        # The security test's file: json.loads would recurse 200,000 deep and raise RecursionError.
        pytest.param(_HEAD + b"[" * 200_000 + b"]" * 200_000 + b"}", "nests", id="nested-200000"),
        pytest.param(_HEAD + b"[" * 12 + b"]" * 12 + b"}", "nests", id="nested-13"),
        # int() would raise OverflowError converting to float, or ValueError past 4,300 digits.
        pytest.param(_file(b"1" + b"0" * 400 + b", 0"), "401 characters", id="int-401-digits"),
        pytest.param(_file(b"1" + b"0" * 4999 + b", 0"), "5000 characters", id="int-5000-digits"),
        pytest.param(_file(b"0." + b"1" * 5000 + b", 0"), "5002 characters", id="float-5002-chars"),
        pytest.param(_file(b"1e400, 0"), "beyond", id="float-1e400"),
        pytest.param(_file(b"1e300, 0"), "beyond", id="float-1e300"),
        pytest.param(_file(b"0, -1000.5"), "beyond", id="component-over-1000"),
        pytest.param(_file(b"1, NaN"), "NaN, which is not a finite number", id="nan"),
        pytest.param(_file(b"Infinity, 0"), "Infinity, which is not a finite number", id="infinity"),
        pytest.param(_file(b"-Infinity, 0"), "-Infinity, which is not a finite number", id="minus-infinity"),
        pytest.param(_file(b"true, 0"), "not numbers", id="boolean"),
        pytest.param(_file(*[b"0, 1"] * 101), "101 directions", id="too-many-directions"),
    ],
)
def test_a_file_that_cannot_be_used_says_why(data, expected):
    with pytest.raises(directions.DirectionFileError, match=expected):
        directions.directions_from_json(data, latent_dim=2)


def test_a_well_formed_file_at_the_limits_still_loads():
    """Brackets inside a name are not nesting; integers, exponents and +-1000 are fair components."""
    data = (
        b'{"format": "vae-directions/1", "model": "m", "latent_dim": 2, "directions": ['
        b'{"name": "[[[[[[[[[[{{{{\\"", "vector": [1000, -1e3]}, {"name": "b", "vector": [0, 2.5e-5]}]}'
    )

    loaded = directions.directions_from_json(data, latent_dim=2)

    assert [d.name for d in loaded] == ['[[[[[[[[[[{{{{"', "b"]
    np.testing.assert_array_equal(loaded[0].vector, [1000.0, -1000.0])
    np.testing.assert_array_equal(loaded[1].vector, [0.0, 2.5e-5])
    assert len(directions.directions_from_json(_file(*[b"0, 1"] * 100), latent_dim=2)) == 100
