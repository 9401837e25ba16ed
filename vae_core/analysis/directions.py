"""Directions by example: the difference between two groups' mean latent codes, in the whole
latent space, to move any image along; kept as JSON files that say which latent size they fit."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

FORMAT = "vae-directions/1"
# A strip runs from -2 to +2 lengths of the direction: from one group's side well past the other's.
STRIP_LENGTHS = np.linspace(-2.0, 2.0, 9)

MAX_FILE_BYTES = 1 << 20
# The file nests object > list > object > list; a little slack, and json.loads never recurses deeper.
MAX_DEPTH = 6
# This page writes a number in at most 24 characters ("-1.2345678901234567e-308"); int() of thousands
# of digits is slow, or refused past 4,300.
MAX_NUMBER_CHARS = 32
# Latent codes under the N(0, I) prior lie within a few units of zero: a direction component beyond
# this was not made on this page, and would only decode to noise.
MAX_COMPONENT = 1000.0
# Directions are kept one at a time, by hand, and listed in a menu: a file with more was not made here.
MAX_DIRECTIONS = 100

_NOT_JSON = "The file is not JSON. Choose a directions file downloaded from this page."
# A JSON string: runs of plain characters or escapes, never given back, to its quote or the end of the
# file; so a match cannot fail, and the scan stays linear even on '"\"\"\"...' left open.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class DirectionFileError(ValueError):
    """A directions file cannot be used; the message says why and what to do, in a sentence."""


@dataclass(frozen=True)
class Direction:
    """A named vector in latent space, from group A's mean code to group B's."""

    name: str
    vector: np.ndarray  # (latent_dim,)


def direction_between(group_a: np.ndarray, group_b: np.ndarray) -> np.ndarray:
    """mean(z of B) - mean(z of A), over every latent dimension; zero for two identical groups."""
    if len(group_a) == 0 or len(group_b) == 0:
        raise ValueError("Both groups need at least one image.")
    return np.asarray(group_b, np.float64).mean(axis=0) - np.asarray(group_a, np.float64).mean(axis=0)


def walk(z: np.ndarray, vector: np.ndarray, lengths: np.ndarray = STRIP_LENGTHS) -> np.ndarray:
    """Latent points (len(lengths), d): z moved by each multiple of the direction."""
    return np.asarray(z, np.float64)[None, :] + np.asarray(lengths)[:, None] * np.asarray(vector)[None, :]


def directions_to_json(directions: list[Direction], model: str) -> str:
    """The directions as a JSON file's text, naming the model and latent size they were made on."""
    latent_dim = len(directions[0].vector) if directions else 0
    entries = [{"name": d.name, "vector": [float(x) for x in d.vector]} for d in directions]
    return json.dumps({"format": FORMAT, "model": model, "latent_dim": latent_dim, "directions": entries}, indent=1)


def directions_from_json(data: bytes, latent_dim: int) -> list[Direction]:
    """Directions read from a file made by `directions_to_json`, checked to fit a model of `latent_dim`."""
    content = _read_json(data)
    entries = content.get("directions") if isinstance(content, dict) and content.get("format") == FORMAT else None
    if not isinstance(entries, list):
        raise DirectionFileError("The file is JSON but not a directions file. Choose one downloaded from this page.")
    if len(entries) > MAX_DIRECTIONS:
        raise DirectionFileError(
            f"The file holds {len(entries)} directions, more than the {MAX_DIRECTIONS} a file can bring;"
            " keep the ones you need in a smaller file."
        )
    directions = []
    for entry in entries:
        name, vector = (entry.get("name"), entry.get("vector")) if isinstance(entry, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(vector, list):
            raise DirectionFileError("A direction in the file lacks its name or vector; download the file again.")
        name = name[:80]
        if len(vector) != latent_dim:
            raise DirectionFileError(
                f"The direction {name!r} has {len(vector)} latent dimensions, and this model has {latent_dim}:"
                " load it with a model of that latent size."
            )
        if not all(isinstance(x, float) for x in vector):  # every JSON number was read as a float
            raise DirectionFileError(f"The direction {name!r} holds values that are not numbers; download it again.")
        if not all(abs(x) <= MAX_COMPONENT for x in vector):  # also refuses 1e400, read as inf
            raise DirectionFileError(
                f"The direction {name!r} has a value beyond ±{MAX_COMPONENT:g}, far outside the latent space"
                " a model draws from; make the direction again on this page."
            )
        directions.append(Direction(name, np.array(vector, np.float64)))
    return directions


def _read_json(data: bytes) -> object:
    """The file's JSON, refused in a sentence if too large, too deeply nested for json.loads's recursion,
    or holding numbers too long to convert, NaN or Infinity."""
    if len(data) > MAX_FILE_BYTES:
        raise DirectionFileError("The file is larger than a directions file can be (1 MB); choose one from this page.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DirectionFileError(_NOT_JSON) from None
    if _nesting_depth(data) > MAX_DEPTH:
        raise DirectionFileError(
            "The file nests lists and objects more deeply than a directions file does;"
            " choose a directions file downloaded from this page."
        )
    try:
        return json.loads(text, parse_int=_short_number, parse_float=_short_number, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise DirectionFileError(_NOT_JSON) from None


def _nesting_depth(data: bytes) -> int:
    """How deeply the JSON's lists and objects nest, counted without recursion: strings are dropped
    first, so brackets in a name do not count; the depth is then a running sum of +1 and -1."""
    brackets = np.frombuffer(_STRING.sub(b"", data).translate(None, _NOT_BRACKETS), np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(steps.cumsum().max(initial=0))


def _short_number(text: str) -> float:
    """A JSON number as a float, refused before conversion if longer than any this page writes."""
    if len(text) > MAX_NUMBER_CHARS:
        raise DirectionFileError(
            f"The file holds a number {len(text)} characters long, and a directions file's numbers are at most"
            f" {MAX_NUMBER_CHARS}; choose a directions file downloaded from this page."
        )
    return float(text)


def _no_constant(text: str) -> float:
    """Refuses NaN, Infinity and -Infinity, which json.loads accepts but no direction can hold."""
    raise DirectionFileError(
        f"The file holds {text}, which is not a finite number; choose a directions file downloaded from this page."
    )
