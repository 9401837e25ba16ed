"""What a bundle's meta.json must hold for the app, the CLI and the benchmarks to read it.

A meta.json written by hand, by an older version or damaged on disk is refused here, with the
field that is wrong, so no page has to guard each read against a missing key or an odd type.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from vae_core.config import ConfigError, TrainConfig


class MetaError(ValueError):
    """meta.json lacks a field or holds a value of the wrong type; the message names the field."""


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def _names_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(name, str) for name in value))


# Every field a reader relies on: (section, key, required, test, what a person is told is expected).
FIELDS: tuple[tuple[str | None, str, bool, Callable[[Any], bool], str], ...] = (
    (None, "created", True, _text, "a date as text"),
    ("dataset", "name", True, _text, "text"),
    ("dataset", "class_names", False, _names_or_none, "a list of names or null"),
    ("training", "epochs_run", True, _count, "a whole number"),
    ("test_metrics", "neg_elbo", True, _number_or_none, "a number or null"),
    ("test_metrics", "neg_iw_bound", True, _number_or_none, "a number or null"),
    ("test_metrics", "iw_samples", True, _count, "a whole number"),
    ("test_metrics", "knn_accuracy", True, _number_or_none, "a number or null"),
)


def check_meta(meta: Any) -> None:
    """Raise `MetaError` naming the first field that is missing or of the wrong type."""
    if not isinstance(meta, dict):
        raise MetaError("it holds no JSON object")
    for section in ("config", "dataset", "training", "test_metrics"):
        if not isinstance(meta.get(section), dict):
            raise MetaError(f"its {section!r} section is missing")
    for section, key, required, valid, expected in FIELDS:
        values = meta if section is None else meta[section]
        name = key if section is None else f"{section}.{key}"
        if key not in values:
            if required:
                raise MetaError(f"{name} is missing")
        elif not valid(values[key]):
            raise MetaError(f"{name} should be {expected}, not {_shown(values[key])}")
    try:
        TrainConfig.from_dict(meta["config"])
    except ConfigError as error:
        raise MetaError(f"its config is not valid ({error})") from None
    except Exception as error:  # a hand-made config can be of any shape: [] where a dict should be
        raise MetaError(f"its config is not valid ({type(error).__name__})") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
