"""Directions by example: the difference between two groups' mean latent codes, in the whole
latent space, to move any image along; kept as JSON files that say which latent size they fit."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

FORMAT = "vae-directions/1"
MAX_FILE_BYTES = 1 << 20
# A strip runs from -2 to +2 lengths of the direction: from one group's side well past the other's.
STRIP_LENGTHS = np.linspace(-2.0, 2.0, 9)


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
    if len(data) > MAX_FILE_BYTES:
        raise DirectionFileError("The file is larger than a directions file can be (1 MB); choose one from this page.")
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DirectionFileError("The file is not JSON. Choose a directions file downloaded from this page.") from None
    entries = content.get("directions") if isinstance(content, dict) and content.get("format") == FORMAT else None
    if not isinstance(entries, list):
        raise DirectionFileError("The file is JSON but not a directions file. Choose one downloaded from this page.")
    directions = []
    for entry in entries:
        name, vector = (entry.get("name"), entry.get("vector")) if isinstance(entry, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(vector, list):
            raise DirectionFileError("A direction in the file lacks its name or vector; download the file again.")
        if len(vector) != latent_dim:
            raise DirectionFileError(
                f"The direction {name!r} has {len(vector)} latent dimensions, and this model has {latent_dim}:"
                " load it with a model of that latent size."
            )
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vector):
            raise DirectionFileError(f"The direction {name!r} holds values that are not finite numbers.")
        directions.append(Direction(name[:80], np.array(vector, np.float64)))
    return directions
