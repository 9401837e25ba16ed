"""docs/bundle-meta.schema.json, meta.json's published JSON Schema: generated from the reader's own types
and tables, and agreeing with the app's reader on what it takes and refuses wherever JSON Schema can
say the rule; where it cannot, the difference is pinned here and listed in docs/bundle-format.md."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from odd_bundles import ODD_BUNDLES, odd_meta
from synthetic import bundle_meta, synthetic_dataset

from vae_core.bundles.files import BUNDLE_FILES, META_FILE, BundleError, read_meta
from vae_core.bundles.meta_schema import (
    FIELD_DESCRIPTIONS,
    REQUIRED,
    SCHEMA_PATH,
    SECTION_DESCRIPTIONS,
    schema_text,
)
from vae_core.bundles.registry import PRETRAINED_DIR
from vae_core.config import CHOICES, RANGES, ModelConfig, TrainConfig
from vae_core.training.pipeline import train_and_save

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
# Epochs at their most, so that kl_warmup_epochs can reach its own.
CONFIG = TrainConfig(ModelConfig(preset="mlp", latent_dim=3, hidden_sizes=(8,)), epochs=10_000)
MODEL_FIELDS = {field.name for field in dataclasses.fields(ModelConfig)}
TRAIN_FIELDS = {field.name for field in dataclasses.fields(TrainConfig)} - {"model"}


def written_meta() -> dict[str, Any]:
    """A meta.json as the app writes it, through JSON text, with a history record."""
    meta = json.loads(json.dumps(bundle_meta(CONFIG, 5, ["a", "b"]).to_json()))
    meta["training"]["history"] = [{"epoch": 1, "batches": 3, "loss": 500.5, "val_loss": 501.0}]
    return meta


def app_reads(meta: Any, folder) -> bool:
    """Whether the app's reader takes `meta` as a bundle's meta.json (`read_meta`, as the registry calls it)."""
    for name in BUNDLE_FILES:
        (folder / name).touch()
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    try:
        read_meta(folder)
    except BundleError:
        return False
    return True


def schema_errors(meta: Any) -> list[str]:
    return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(meta)]


def unnamed(value: Any, schema: dict[str, Any], at: str = "") -> list[str]:
    """The fields of `value` the schema lets through without naming them: none in a meta.json this
    version writes, or the schema has fallen behind the writer."""
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [place for item in value for place in unnamed(item, schema["items"], f"{at}[].")]
    if not isinstance(value, dict) or "properties" not in schema:
        return []
    found = []
    for key, inner in value.items():
        if key in schema["properties"]:
            found += unnamed(inner, schema["properties"][key], f"{at}{key}.")
        elif schema["additionalProperties"] is True:
            found.append(at + key)
    return found


def changed(place: str, value: Any) -> dict[str, Any]:
    """The written meta with the field at the dotted `place` set to `value`."""
    meta = written_meta()
    *sections, name = place.split(".")
    target = meta
    for section in sections:
        target = target[section]
    target[name] = value
    return meta


def test_the_committed_schema_is_the_generated_one():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), "run: python -m vae_core.bundles.meta_schema"


def test_the_schema_is_a_valid_draft_2020_12_schema_describing_every_field():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema" and SCHEMA["$id"] and SCHEMA["title"]
    undescribed = [place for place, schema in properties(SCHEMA) if "description" not in schema]
    assert not undescribed


def properties(schema: dict[str, Any], at: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every property of the schema, nested ones too (history's records'), by its dotted place."""
    found = []
    for name, inner in schema.get("properties", {}).items():
        items = inner.get("items")
        records = properties(items, f"{at}{name}[].") if isinstance(items, dict) else []
        found += [(at + name, inner), *properties(inner, f"{at}{name}."), *records]
    return found


def test_every_description_written_by_hand_describes_a_field():
    records = [place for place, _ in properties(SCHEMA) if place.count(".") == 1 and not place.startswith("config.")]
    assert sorted(FIELD_DESCRIPTIONS) == sorted(records)
    assert set(SECTION_DESCRIPTIONS) == set(SCHEMA["properties"])


@pytest.mark.parametrize("meta_file", sorted(PRETRAINED_DIR.glob("*/meta.json")), ids=lambda path: path.parent.name)
def test_every_pretrained_meta_validates(meta_file):
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    assert not schema_errors(meta) and not unnamed(meta, SCHEMA)


@pytest.mark.parametrize("spec", ODD_BUNDLES, ids=lambda spec: spec.name)
def test_every_odd_bundles_meta_validates(spec, tmp_path):
    meta = json.loads(json.dumps(odd_meta(spec).to_json()))
    assert app_reads(meta, tmp_path) and not schema_errors(meta)


def test_a_meta_the_training_pipeline_writes_validates(tmp_path):
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=2, hidden_sizes=(8,)), batch_size=20, epochs=2)
    train_and_save(config, synthetic_dataset(n_train=60, n_test=10), tmp_path / "bundle", iw_samples=2)
    meta = json.loads((tmp_path / "bundle" / META_FILE).read_text(encoding="utf-8"))
    assert len(meta["training"]["history"]) == 2 and meta["versions"]
    assert not schema_errors(meta) and not unnamed(meta, SCHEMA)


def test_fields_from_a_later_version_validate_at_every_level(tmp_path):
    meta = written_meta()
    meta["decoder"] = {"file": "decoder.onnx", "opset": 17}
    meta["dataset"]["licence"] = "CC BY-SA 3.0"
    meta["config"]["label_smoothing"] = 0.1
    meta["config"]["model"]["conditional"] = True
    meta["test_metrics"]["fid"] = 12.5
    meta["training"]["history"][0]["learning_rate"] = 0.001
    assert app_reads(meta, tmp_path) and not schema_errors(meta)
    later = {"decoder", "dataset.licence", "config.label_smoothing", "config.model.conditional", "test_metrics.fid"}
    assert set(unnamed(meta, SCHEMA)) == later


def test_a_meta_the_app_writes_validates_and_names_every_field(tmp_path):
    meta = written_meta()
    assert app_reads(meta, tmp_path) and not schema_errors(meta) and not unnamed(meta, SCHEMA)


# The hand-broken meta.json files of test_bundle_meta, test_bundle_refusals and test_bundle, and more.
REFUSED = {
    "not-an-object": lambda meta: [1, 2],
    "other-format": lambda meta: meta | {"format": "other/9"},
    "format-only": lambda meta: {"format": meta["format"]},
    "created-missing": lambda meta: {key: value for key, value in meta.items() if key != "created"},
    "number-date": lambda meta: meta | {"created": 2025},
    "dataset-name": lambda meta: meta | {"dataset": {"class_names": ["a"]}},
    "names-as-text": lambda meta: meta | {"dataset": {"name": "x", "class_names": "0123"}},
    "no-epochs": lambda meta: meta | {"training": {}},
    "history-as-object": lambda meta: changed("training.history", {"epoch": 1}),
    "iw-samples": lambda meta: meta | {"test_metrics": {"neg_elbo": 1.0, "neg_iw_bound": 1.0, "knn_accuracy": None}},
    "text-metric": lambda meta: changed("test_metrics.neg_elbo", "n/a"),
    "config-model": lambda meta: meta | {"config": {"epochs": 4}},
    "list-config": lambda meta: meta | {"config": {"model": []}},
    "bad-config": lambda meta: changed("config.epochs", "ten"),
    "latent-dim": lambda meta: changed("config.model.latent_dim", 0),
    "versions": lambda meta: meta | {"versions": []},
}


@pytest.mark.parametrize("change", REFUSED.values(), ids=REFUSED)
def test_a_hand_broken_meta_the_app_refuses_the_schema_refuses(change, tmp_path):
    meta = change(written_meta())
    assert not app_reads(meta, tmp_path)
    assert schema_errors(meta)


@pytest.mark.parametrize("section", REQUIRED)
def test_each_required_section_missing_or_not_an_object_is_refused_by_both(section, tmp_path):
    for meta in (changed(section, []), {key: value for key, value in written_meta().items() if key != section}):
        assert not app_reads(meta, tmp_path) and schema_errors(meta), meta.get(section)


def setting_place(name: str) -> str:
    return f"config.model.{name}" if name in MODEL_FIELDS else f"config.{name}"


def range_cases() -> list[tuple[str, Any, bool]]:
    """Each setting of RANGES at its ends, inside them (taken) and just past them (refused); hidden
    sizes as a list of one."""
    cases = []
    for name, allowed in RANGES.items():
        if name not in MODEL_FIELDS | TRAIN_FIELDS:
            continue
        step = 1 if allowed.whole else 0.001
        low, high = (allowed.low, allowed.low_open), (allowed.high, allowed.high_open)
        ends = [(value, not is_open) for value, is_open in (low, high)]
        past = [(low[0] if low[1] else low[0] - step, False), (high[0] if high[1] else high[0] + step, False)]
        for value, taken in dict(ends + past).items():  # an open end is also the value just past it
            cases.append((setting_place(name), [value] if name == "hidden_sizes" else value, taken))
    return cases


def choice_cases() -> list[tuple[str, Any, bool]]:
    """Each setting of CHOICES at every choice (taken) and at a name that is none (refused)."""
    return [
        (setting_place(name), value, value in choices)
        for name, choices in CHOICES.items()
        for value in (*choices, "nonsense")
    ]


# Rules beyond the tables, and the records' types, each at a value taken and one refused.
FIELD_CASES = [
    ("config.model.image_shape", [32, 32, 3], True),
    ("config.model.image_shape", [28, 28, 2], False),
    ("config.model.image_shape", [7, 28, 1], False),
    ("config.model.image_shape", [28, 28], False),
    ("config.model.image_shape", [28, 28, 1, 1], False),
    ("config.model.hidden_sizes", None, True),
    ("config.model.hidden_sizes", [], False),
    ("config.model.classes", 0, True),
    ("config.model.latent_dim", True, False),
    ("config.train_limit", None, True),
    ("config.data_parallel", "yes", False),
    ("dataset.class_names", None, True),
    ("dataset.class_names", [1, 2], False),
    ("dataset.image_shape", "28x28", False),
    ("dataset.test_images", -1, False),
    ("training.epochs_run", -1, False),
    ("training.seconds", "long", False),
    ("test_metrics.neg_elbo", None, True),
    ("test_metrics.knn_accuracy", 1, True),
    ("test_metrics.iw_samples", -1, False),
    ("test_metrics.scored_images", None, True),
]


@pytest.mark.parametrize(("place", "value", "taken"), range_cases() + choice_cases() + FIELD_CASES, ids=str)
def test_the_app_and_the_schema_agree_on_each_settings_range_and_each_fields_type(place, value, taken, tmp_path):
    meta = changed(place, value)
    assert app_reads(meta, tmp_path) == taken
    assert VALIDATOR.is_valid(meta) == taken, schema_errors(meta)


# Rules JSON Schema cannot say (docs/bundle-format.md lists them): a rule between two fields, and an
# integer written with a fraction, which JSON Schema counts as an integer and the app refuses.
SCHEMA_CANNOT_SAY = [
    pytest.param("config.kl_warmup_epochs", 20, {"epochs": 10}, id="warm-up-past-the-epochs"),
    pytest.param("config.model.latent_dim", 2.0, {}, id="a-setting-of-2.0"),
    pytest.param("test_metrics.iw_samples", 2.0, {}, id="a-count-of-2.0"),
]


@pytest.mark.parametrize(("place", "value", "beside"), SCHEMA_CANNOT_SAY)
def test_what_the_schema_cannot_say_the_app_still_refuses(place, value, beside, tmp_path):
    meta = changed(place, value)
    meta["config"] |= beside
    assert not app_reads(meta, tmp_path)
    assert not schema_errors(meta)


# Where the schema asks more than the reader checks (docs/bundle-format.md lists them): an epoch's
# number and losses as numbers, which the loss charts need, and versions as text, as the app writes them.
SCHEMA_ASKS_MORE = [
    pytest.param("training.history", [{"loss": 1.0}], id="an-epoch-without-its-number"),
    pytest.param("training.history", [{"epoch": 1, "loss": "high"}], id="a-loss-as-text"),
    pytest.param("versions", {"keras": 3}, id="a-version-as-a-number"),
]


@pytest.mark.parametrize(("place", "value"), SCHEMA_ASKS_MORE)
def test_where_the_schema_asks_more_than_the_reader_checks(place, value, tmp_path):
    meta = changed(place, value)
    assert app_reads(meta, tmp_path)
    assert schema_errors(meta)
