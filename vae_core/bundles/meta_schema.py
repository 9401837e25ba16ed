"""meta.json's JSON Schema, generated from what the app reads meta.json into, so the published file
(docs/bundle-meta.schema.json) cannot drift from the reader.

Fields, types and which are required come from `BundleMeta`'s records as `meta` checks them; the
settings' choices and ranges from `config`'s CHOICES and RANGES, their descriptions from the configs'
docstrings. Written here is only what those cannot say: the records' descriptions, and the three
settings whose rule is more than a table entry. Every object allows fields it does not name, as the
reader keeps those of later versions. A type, record or setting without its entry here fails loudly.

    python -m vae_core.bundles.meta_schema   (rewrites docs/bundle-meta.schema.json)
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from vae_core.bundles.meta import (
    _METRIC_DEFAULTS,
    _OPTIONAL_SECTIONS,
    _SECTIONS,
    DECODER_OUTPUTS,
    FORMAT,
    IMPORT_FORMATS,
)
from vae_core.config import (
    CHOICES,
    IMPORTED,
    MAX_IMAGE_SIDE,
    MIN_IMAGE_SIDE,
    RANGES,
    ModelConfig,
    NumberRange,
    TrainConfig,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "bundle-meta.schema.json"
# The format tag's own version: a new tag gets a new schema and id.
SCHEMA_ID = f"urn:vae-explorer:bundle-meta:{FORMAT.rsplit('/', 1)[1]}"
# Top-level fields without which the app refuses a bundle (`files.read_meta`, `BundleMeta.from_json`).
REQUIRED = ("format", "created", "config", "dataset", "training", "test_metrics")

SECTION_DESCRIPTIONS = {
    "format": f"The format tag; a meta.json without this exact value is not a {FORMAT} bundle.",
    "created": "When the bundle was saved, as text (the app writes ISO 8601 with its UTC offset).",
    "config": "The run's settings (TrainConfig), enough to repeat it. A setting left out takes its default.",
    "dataset": "What the model was trained on.",
    "training": "How the run went.",
    "test_metrics": "What the evaluation measured on the test split, in nats per test image where a loss.",
    "versions": "Versions of Python, Keras, its backend and numpy that trained the model, by name.",
    "imported": "Only in an imported model's meta.json (its bundle holds encoder.onnx and decoder.onnx in place of"
    " model.keras): what it was imported from.",
}
FIELD_DESCRIPTIONS = {
    "dataset.name": "The dataset's name: mnist, fashion_mnist, cifar10, or an uploaded file's or folder's.",
    "dataset.class_names": "Each class's name, by class number; null where the data had no labels.",
    "dataset.source": "Where the images were read from, for people to read.",
    "dataset.image_shape": "(height, width, channels) of the images.",
    "dataset.train_images": "Training images (after config.train_limit), the validation split among them.",
    "dataset.test_images": "Test images: the rows of atlas.npz.",
    "training.epochs_run": "Epochs run, one history record each (a stopped run's last may be partial).",
    "training.status": "How the run ended: completed, stopped (by a person) or diverged (a non-finite loss).",
    "training.message": "How the run ended, in a sentence, as the app shows it.",
    "training.batches_per_epoch": "Gradient steps in a whole epoch.",
    "training.seconds": "How long training took, in seconds (evaluation and saving left out).",
    "training.machine": "The processor, its core count and any accelerator, in a line.",
    "training.history": "One record per epoch run, in order.",
    "test_metrics.neg_elbo": "Negative ELBO over the test images; null where not measured.",
    "test_metrics.reconstruction_nll": "The ELBO's reconstruction term, -E_q[log p(x|z)].",
    "test_metrics.kl": "The ELBO's KL term, KL(q(z|x) || p(z)).",
    "test_metrics.neg_iw_bound": "Negative importance-weighted bound with iw_samples samples (Burda et al. 2016).",
    "test_metrics.iw_samples": "Samples per image of the importance-weighted bound.",
    "test_metrics.images": "Test images both bounds are over; 0 where the evaluation was stopped.",
    "test_metrics.knn_accuracy": "Share of scored test images whose knn_k nearest training images (by latent"
    " mean) vote their label; null without labels, for a conditional model, or where not measured.",
    "test_metrics.knn_k": "Neighbours that vote in knn_accuracy.",
    "test_metrics.scored_images": "Test images the importance-weighted bound and knn_accuracy scored (about"
    " every images / scored_images-th; the bound is their ELBO less their gap to it); null: all of them.",
}
FIELD_DESCRIPTIONS |= {
    "imported.format": "The format of the files it was given (keras or onnx); the bundle holds them as ONNX.",
    "imported.encoder": "The encoder's file name, as given.",
    "imported.decoder": "The decoder's file name, as given.",
    "imported.decoder_output": "What the decoder gave: logits (the bundle's decoder.onnx adds a sigmoid) or"
    " intensities in [0, 1].",
}
# Record fields that take one of a few names, as `meta` checks them.
RECORD_ENUMS = {"imported.format": IMPORT_FORMATS, "imported.decoder_output": DECODER_OUTPUTS}
HISTORY_RECORD = {
    "description": "One epoch: its number from 1, the batches it ran, and Keras's logged losses in nats per"
    " image (loss, reconstruction_loss, kl_loss, and val_ ones where images were held out).",
    "type": "object",
    "properties": {
        "epoch": {
            "description": "The epoch's number, from 1; the loss charts' x axis.",
            "type": "integer",
            "minimum": 1,
        },
        "batches": {"description": "Gradient steps the epoch ran.", "type": "integer", "minimum": 0},
    },
    "required": ["epoch"],
    "additionalProperties": {"type": "number"},
}
_COUNT = {"type": "integer", "minimum": 0}
# Each record field's type (as annotated) in JSON, as `meta` checks it: whole numbers are counts.
RECORD_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "str | None": {"type": ["string", "null"]},
    "int": _COUNT,
    "int | None": {"type": ["integer", "null"], "minimum": 0},
    "float | None": {"type": ["number", "null"]},
    "tuple[str, ...] | None": {"type": ["array", "null"], "items": {"type": "string"}},
    "tuple[int, ...] | None": {"type": ["array", "null"], "items": _COUNT},
    "tuple[dict[str, float], ...]": {"type": "array", "items": HISTORY_RECORD},
}
# Each setting's type (as annotated) in JSON; its range or choices come from `config`'s tables.
SETTING_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "int | None": ["integer", "null"],
    "tuple[int, ...] | None": ["array", "null"],
    "tuple[int, int, int]": "array",
}


def _bounds(allowed: NumberRange) -> dict[str, float]:
    """A range's JSON Schema keywords, open ends as exclusive ones."""
    low = "exclusiveMinimum" if allowed.low_open else "minimum"
    high = "exclusiveMaximum" if allowed.high_open else "maximum"
    return {low: allowed.low, high: allowed.high}


_SIDE = {"type": "integer", "minimum": MIN_IMAGE_SIDE, "maximum": MAX_IMAGE_SIDE}
# The settings `ModelConfig` checks by more than a range or a list of choices.
SETTING_RULES = {
    "image_shape": {"prefixItems": [_SIDE, _SIDE, {"enum": [1, 3]}], "items": False, "minItems": 3},
    "hidden_sizes": {"items": {"type": "integer", **_bounds(RANGES["hidden_sizes"])}},
    "preset": {"enum": [*CHOICES["preset"], IMPORTED]},
    "classes": {"anyOf": [{"const": 0}, _bounds(RANGES["classes"])]},
}


def meta_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a meta.json this version reads."""
    properties = {
        "format": {"description": SECTION_DESCRIPTIONS["format"], "const": FORMAT},
        "created": {"description": SECTION_DESCRIPTIONS["created"], "type": "string"},
        "config": _config(),
        **{section: _record(section) for section in (*_SECTIONS, *_OPTIONAL_SECTIONS)},
        "versions": {
            "description": SECTION_DESCRIPTIONS["versions"],
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"meta.json of a VAE Explorer model bundle ({FORMAT})",
        **_object(
            "A trained model's description: its settings, data, training, test figures and software.",
            properties,
            REQUIRED,
        ),
    }


def schema_text() -> str:
    """The schema as the docs hold it: indented JSON ending in a newline, so diffs stay readable."""
    return json.dumps(meta_schema(), indent=2, ensure_ascii=False) + "\n"


def _object(description: str, properties: dict[str, Any], required: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """An object's schema; fields it does not name are allowed (a later version's, which the reader keeps)."""
    needed = {"required": list(required)} if required else {}
    return {
        "description": description,
        "type": "object",
        "properties": properties,
        **needed,
        "additionalProperties": True,
    }


def _record(section: str) -> dict[str, Any]:
    """A record section, each field typed, required and defaulted as `meta` reads it."""
    record, checks = {**_SECTIONS, **_OPTIONAL_SECTIONS}[section]
    defaults = _METRIC_DEFAULTS if section == "test_metrics" else {}
    properties = {
        field.name: {
            "description": FIELD_DESCRIPTIONS[f"{section}.{field.name}"],
            **RECORD_TYPES[field.type],
            **(
                {"enum": list(RECORD_ENUMS[f"{section}.{field.name}"])}
                if f"{section}.{field.name}" in RECORD_ENUMS
                else {}
            ),
            **_default(field, defaults),
        }
        for field in dataclasses.fields(record)
    }
    required = [name for name, (needed, _, _) in checks.items() if needed]
    return _object(SECTION_DESCRIPTIONS[section], properties, required)


def _config() -> dict[str, Any]:
    """The config section: every setting optional, but the model's own section present."""
    model_docs, train_docs = _documented_arguments(ModelConfig), _documented_arguments(TrainConfig)
    model = _object(
        train_docs["model"], {field.name: _setting(field, model_docs) for field in dataclasses.fields(ModelConfig)}, ()
    )
    # Hidden sizes: at least one for a model trained here; none for an imported one, whose layers are its own.
    model |= {
        "if": {"properties": {"preset": {"const": IMPORTED}}, "required": ["preset"]},
        "else": {"properties": {"hidden_sizes": {"minItems": 1}}},
    }
    settings = {
        field.name: model if field.name == "model" else _setting(field, train_docs)
        for field in dataclasses.fields(TrainConfig)
    }
    return _object(SECTION_DESCRIPTIONS["config"], settings, ("model",))


def _setting(field: dataclasses.Field, docs: dict[str, str]) -> dict[str, Any]:
    """A setting's schema: its type, then its rule, choices or range, and its default."""
    schema: dict[str, Any] = {"description": docs[field.name], "type": SETTING_TYPES[field.type]}
    if field.name in SETTING_RULES:
        schema |= SETTING_RULES[field.name]
    elif field.name in CHOICES:
        schema["enum"] = list(CHOICES[field.name])
    elif field.name in RANGES:
        schema |= _bounds(RANGES[field.name])
    return schema | _default(field, {})


def _default(field: dataclasses.Field, defaults: dict[str, Any]) -> dict[str, Any]:
    """The value the reader takes for a field left out, as JSON; none for a required field."""
    value = defaults.get(field.name, field.default)
    if value is dataclasses.MISSING:
        return {}
    return {"default": list(value) if isinstance(value, tuple) else value}


def _documented_arguments(cls: type) -> dict[str, str]:
    """Each argument's text in a class's Google-style `Args:` section, on one line, capitalised, with JSON's null."""
    docs: dict[str, str] = {}
    name = None
    for line in inspect.getdoc(cls).split("Args:", 1)[1].splitlines():
        entry = re.fullmatch(r" {4}(\w+): (.*)", line)
        if entry:
            name, docs[entry[1]] = entry[1], entry[2]
        elif name and line.strip():
            docs[name] += " " + line.strip()
    return {name: (text[0].upper() + text[1:]).replace("`None`", "null") for name, text in docs.items()}


def main(argv: list[str]) -> int:
    """Write the schema to the path given, or to docs/bundle-meta.schema.json."""
    path = Path(argv[0]) if argv else SCHEMA_PATH
    path.write_text(schema_text(), encoding="utf-8")
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
