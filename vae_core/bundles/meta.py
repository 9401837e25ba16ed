"""A bundle's meta.json as one typed value, `BundleMeta`: the only place it is read or written.

Readers get the configs as `TrainConfig`/`ModelConfig` and the figures as `TestMetrics`, never
nested dicts. A meta.json written by hand, by an older version or damaged on disk is refused with
the field that is wrong; fields a later version adds are kept as read and written back unchanged.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vae_core.config import ConfigError, ModelConfig, TrainConfig

if TYPE_CHECKING:  # a type only: reading meta.json loads no data
    from vae_core.data.datasets import Dataset

FORMAT = "vae-bundle/1"


@dataclass(frozen=True)
class TestMetrics:
    """What `evaluate` measured; `None` where a metric does not apply (k-NN without labels) or was
    not measured (an evaluation stopped by the user, see `unmeasured`).

    Both bounds are over all `images` test images; the importance-weighted bound's k samples and
    the k-NN accuracy are taken on `scored_images` of them, about every (images / scored_images)-th
    (None in bundles saved before it was recorded, which scored all): where that is not all, the
    bound is their ELBO less the gap between ELBO and bound measured on the scored images.
    """

    neg_elbo: float | None
    reconstruction_nll: float | None
    kl: float | None
    neg_iw_bound: float | None
    iw_samples: int
    images: int
    knn_accuracy: float | None
    knn_k: int
    scored_images: int | None = None

    @classmethod
    def unmeasured(cls, iw_samples: int, knn_k: int = 5) -> TestMetrics:
        """The metrics of a model whose evaluation was stopped: none at all."""
        return cls(None, None, None, None, iw_samples, 0, None, knn_k, 0)

    def to_dict(self) -> dict[str, float | int | None]:
        return dataclasses.asdict(self)


class MetaError(ValueError):
    """meta.json lacks a field or holds a value of the wrong type; the message names the field."""


@dataclass(frozen=True)
class DatasetRecord:
    """What the model was trained on; only `name` is required (hand-made bundles give little more)."""

    name: str
    class_names: tuple[str, ...] | None = None
    source: str | None = None
    image_shape: tuple[int, ...] | None = None
    train_images: int | None = None
    test_images: int | None = None

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetRecord:
        """What a bundle records of the data it was trained, or imported, on."""
        return cls(
            name=dataset.name,
            class_names=tuple(dataset.class_names) if dataset.class_names else None,
            source=dataset.source,
            image_shape=tuple(dataset.image_shape),
            train_images=len(dataset.x_train),
            test_images=len(dataset.x_test),
        )


@dataclass(frozen=True)
class TrainingRecord:
    """How the run went: `status` is `completed`, `stopped` or `diverged`; one history record per epoch."""

    epochs_run: int
    status: str = "completed"
    message: str = ""
    batches_per_epoch: int | None = None
    seconds: float | None = None
    machine: str | None = None
    history: tuple[dict[str, float], ...] = ()


# What an imported model's files were, and what its decoder gave; checked when meta.json is read.
IMPORT_FORMATS, DECODER_OUTPUTS = ("keras", "onnx"), ("logits", "intensities")


@dataclass(frozen=True)
class ImportRecord:
    """Where an imported model came from (`vae_core.imports`): the `format` of the files it was given
    (its bundle holds them as ONNX either way), their names, and whether its decoder gave `logits` or
    `intensities`. Trained models have none."""

    format: str
    encoder: str
    decoder: str
    decoder_output: str


@dataclass(frozen=True)
class BundleMeta:
    """Everything meta.json says about a bundle. `unknown` holds, in meta.json's own nesting, the
    fields this version does not know (written by a later one), so a rewrite loses none of them."""

    created: str
    config: TrainConfig
    dataset: DatasetRecord
    training: TrainingRecord
    test_metrics: TestMetrics
    imported: ImportRecord | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    unknown: Mapping[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> ModelConfig:
        return self.config.model

    def to_json(self) -> dict[str, Any]:
        """The JSON object meta.json holds, format tag first."""
        known = {
            "format": FORMAT,
            "created": self.created,
            "config": self.config.to_dict(),
            "dataset": _plain(dataclasses.asdict(self.dataset)),
            "training": _plain(dataclasses.asdict(self.training)),
            "test_metrics": self.test_metrics.to_dict(),
            "versions": dict(self.versions),
        }
        if self.imported is not None:
            known["imported"] = dataclasses.asdict(self.imported)
        return _merged(known, self.unknown)

    @classmethod
    def from_json(cls, data: Any) -> BundleMeta:
        """Read and check a parsed meta.json; `MetaError` names the first field that is wrong."""
        if not isinstance(data, dict):
            raise MetaError("it holds no JSON object")
        for section in ("config", "dataset", "training", "test_metrics"):
            if not isinstance(data.get(section), dict):
                raise MetaError(f"its {section!r} section is missing")
        if not isinstance(data.get("versions", {}), dict):
            raise MetaError(f"versions should be an object, not {_shown(data['versions'])}")
        _check(data, None, {"created": (True, _text, "a date as text")})
        unknown = {key: value for key, value in data.items() if key not in _TOP_LEVEL}
        sections = {}
        for section, (record, checks) in _SECTIONS.items():
            sections[section], left_over = _record(data[section], section, record, checks)
            if left_over:
                unknown[section] = left_over
        config, left_over = _config(data["config"])
        if left_over:
            unknown["config"] = left_over
        imported, left_over = _imported(data.get("imported"))
        if left_over:
            unknown["imported"] = left_over
        versions = dict(data.get("versions", {}))
        return cls(data["created"], config, **sections, imported=imported, versions=versions, unknown=unknown)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _text_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _count_or_none(value: Any) -> bool:
    return value is None or _count(value)


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool))


def _names_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(name, str) for name in value))


def _counts_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(_count(size) for size in value))


def _records(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(record, dict) for record in value)


# What each type of a record's field must be in JSON: its test, and what a person is told is expected.
_TYPE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (_text, "text"),
    "str | None": (_text_or_none, "text or null"),
    "int": (_count, "a whole number"),
    "int | None": (_count_or_none, "a whole number or null"),
    "float | None": (_number_or_none, "a number or null"),
    "tuple[str, ...] | None": (_names_or_none, "a list of names or null"),
    "tuple[int, ...] | None": (_counts_or_none, "a list of whole numbers or null"),
    "tuple[dict[str, float], ...]": (_records, "a list of per-epoch records"),
}
# Values of the test metrics a bundle may leave out (hand-made ones do), where TestMetrics has none.
_METRIC_DEFAULTS = {"reconstruction_nll": None, "kl": None, "images": 0, "knn_k": 5}
Check = tuple[bool, Callable[[Any], bool], str]


def _checks(record: type) -> dict[str, Check]:
    """Per field of the record, as its type says: (required, test, what is expected). A field is required
    where it has no default, in the record or, for the test metrics, in `_METRIC_DEFAULTS`."""
    defaults = _METRIC_DEFAULTS if record is TestMetrics else {}
    return {
        f.name: (f.default is dataclasses.MISSING and f.name not in defaults, *_TYPE_CHECKS[f.type])
        for f in dataclasses.fields(record)
    }


# Per section: its record type, then its fields' checks.
_SECTIONS: dict[str, tuple[type, dict[str, Check]]] = {
    section: (record, _checks(record))
    for section, record in (("dataset", DatasetRecord), ("training", TrainingRecord), ("test_metrics", TestMetrics))
}
_TOP_LEVEL = ("format", "created", "config", *_SECTIONS, "imported", "versions")
# Sections a meta.json may leave out: an imported model's alone has `imported`.
_OPTIONAL_SECTIONS: dict[str, tuple[type, dict[str, Check]]] = {"imported": (ImportRecord, _checks(ImportRecord))}


def _check(values: dict[str, Any], section: str | None, checks: dict[str, Check]) -> None:
    for key, (required, valid, expected) in checks.items():
        name = key if section is None else f"{section}.{key}"
        if key not in values:
            if required:
                raise MetaError(f"{name} is missing")
        elif not valid(values[key]):
            raise MetaError(f"{name} should be {expected}, not {_shown(values[key])}")


def _record(values: dict[str, Any], section: str, record: type, checks: dict[str, Check]) -> tuple[Any, dict[str, Any]]:
    """The section as its record type (JSON's lists as the tuples it holds), and the keys this version does
    not know."""
    _check(values, section, checks)
    tuples = {f.name for f in dataclasses.fields(record) if f.type.startswith("tuple")}
    known = {key: values[key] for key in checks if key in values}
    known = {key: tuple(value) if key in tuples and value is not None else value for key, value in known.items()}
    if record is TestMetrics:
        known = _METRIC_DEFAULTS | known
    return record(**known), {key: value for key, value in values.items() if key not in checks}


def _imported(values: Any) -> tuple[ImportRecord | None, dict[str, Any]]:
    """The `imported` section as its record (None in a trained model's meta.json), and its unknown keys."""
    if values is None:
        return None, {}
    if not isinstance(values, dict):
        raise MetaError(f"imported should be an object, not {_shown(values)}")
    record, left_over = _record(values, "imported", *_OPTIONAL_SECTIONS["imported"])
    for name, allowed in (("format", IMPORT_FORMATS), ("decoder_output", DECODER_OUTPUTS)):
        if getattr(record, name) not in allowed:
            raise MetaError(
                f"imported.{name} should be one of {', '.join(allowed)}, not {_shown(getattr(record, name))}"
            )
    return record, left_over


def _config(values: dict[str, Any]) -> tuple[TrainConfig, dict[str, Any]]:
    """The run's `TrainConfig`, and the config keys (its model's too) this version does not know."""
    if not isinstance(values.get("model"), dict):
        raise MetaError("its config.model section is missing")
    try:
        known_model, unknown_model = _split(ModelConfig, values["model"])
        known, unknown = _split(TrainConfig, values)
        config = TrainConfig.from_dict(known | {"model": known_model})
    except ConfigError as error:
        raise MetaError(f"its config is not valid ({error})") from None
    except Exception as error:  # a hand-made config can be of any shape: [] where a dict should be
        raise MetaError(f"its config is not valid ({type(error).__name__})") from None
    return config, unknown | ({"model": unknown_model} if unknown_model else {})


def _split(cls: type, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = {f.name for f in dataclasses.fields(cls)} - {"model"}
    return (
        {key: value for key, value in values.items() if key in names},
        {key: value for key, value in values.items() if key not in names and key != "model"},
    )


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """A record's fields as JSON has them: tuples as lists."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}


def _merged(known: dict[str, Any], unknown: Mapping[str, Any]) -> dict[str, Any]:
    """`known` with `unknown` added at the same nesting; a known field always wins."""
    merged = dict(known)
    for key, value in unknown.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        elif key not in merged:
            merged[key] = value
    return merged


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
