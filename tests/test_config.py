"""ModelConfig and TrainConfig: defaults, per-field validation, dict round trips."""

from __future__ import annotations

import dataclasses
import json

import pytest

from vae_core.config import (
    DEFAULT_HIDDEN_SIZES,
    LOSSES,
    OPTIMIZERS,
    PRESETS,
    ConfigError,
    ModelConfig,
    TrainConfig,
)


def test_model_config_defaults():
    config = ModelConfig()
    assert config.preset == "conv"
    assert config.image_shape == (28, 28, 1)
    assert config.latent_dim == 2
    assert config.hidden_sizes == DEFAULT_HIDDEN_SIZES["conv"]
    assert config.loss == "bernoulli"
    assert config.beta == 1.0


def test_train_config_defaults():
    config = TrainConfig()
    assert config.model == ModelConfig()
    assert config.optimizer == "adam"
    assert config.learning_rate == 1e-3
    assert config.lr_schedule == "constant"
    assert config.batch_size == 128
    assert config.epochs == 30
    assert config.validation_split == 0.1
    assert config.kl_warmup_epochs == 0
    assert config.seed == 0


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().latent_dim = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().epochs = 3  # type: ignore[misc]


def _assert_rejected(factory, field_name, value):
    with pytest.raises(ConfigError) as caught:
        factory(**{field_name: value})
    message = str(caught.value)
    assert f"{field_name}={value!r}" in message, message
    assert message.startswith("Expected"), message


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("preset", "resnet"),
        ("preset", ""),
        ("loss", "mse"),
        ("image_shape", (28, 28, 2)),
        ("image_shape", (28, 28)),
        ("image_shape", (7, 28, 1)),
        ("image_shape", (28, 257, 3)),
        ("image_shape", (28, 28, 1, 1)),
        ("image_shape", (28.5, 28, 1)),
        ("image_shape", ("a", 28, 1)),
        ("image_shape", None),
        ("latent_dim", 0),
        ("latent_dim", 65),
        ("latent_dim", -1),
        ("latent_dim", 2.0),
        ("latent_dim", "2"),
        ("hidden_sizes", ()),
        ("hidden_sizes", (0,)),
        ("hidden_sizes", (64, 4097)),
        ("hidden_sizes", (64, 16.5)),
        ("hidden_sizes", 64),
        ("beta", 0.0),
        ("beta", -1.0),
        ("beta", 100.5),
        ("beta", float("nan")),
        ("beta", "1"),
    ],
)
def test_model_config_rejects_bad_value_naming_field_and_value(field_name, value):
    _assert_rejected(ModelConfig, field_name, value)


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("optimizer", "sgd"),
        ("learning_rate", 0.0),
        ("learning_rate", -1e-3),
        ("learning_rate", 1.5),
        ("learning_rate", float("nan")),
        ("lr_schedule", "linear"),
        ("precision", "float16"),
        ("precision", "auto"),
        ("steps_per_execution", 0),
        ("steps_per_execution", 2.0),
        ("batch_size", 0),
        ("batch_size", 65537),
        ("batch_size", 32.0),
        ("epochs", 0),
        ("epochs", 10001),
        ("epochs", "3"),
        ("validation_split", -0.1),
        ("validation_split", 0.5),
        ("validation_split", 1.0),
        ("seed", -1),
        ("seed", 2**31),
        ("seed", 1.0),
        ("seed", None),
        ("train_limit", 0),
        ("train_limit", 2**31),
        ("train_limit", 100.0),
    ],
)
def test_train_config_rejects_bad_value_naming_field_and_value(field_name, value):
    _assert_rejected(TrainConfig, field_name, value)


def test_kl_warmup_longer_than_training_is_rejected():
    with pytest.raises(ConfigError) as caught:
        TrainConfig(epochs=3, kl_warmup_epochs=4)
    message = str(caught.value)
    assert "kl_warmup_epochs=4" in message
    assert "epochs (3)" in message


@pytest.mark.parametrize("warmup", [-1, 1.5])
def test_kl_warmup_must_be_a_non_negative_int(warmup):
    _assert_rejected(lambda **kw: TrainConfig(epochs=5, **kw), "kl_warmup_epochs", warmup)


def test_edge_values_are_accepted():
    low = ModelConfig(image_shape=(8, 8, 1), latent_dim=1, hidden_sizes=(1,), beta=1e-6)
    high = ModelConfig(image_shape=(256, 256, 3), latent_dim=64, hidden_sizes=(4096,), beta=100.0)
    assert (low.latent_dim, high.latent_dim) == (1, 64)
    config = TrainConfig(learning_rate=1.0, batch_size=1, epochs=4, kl_warmup_epochs=4, validation_split=0.0, seed=0)
    assert config.kl_warmup_epochs == config.epochs
    assert TrainConfig(seed=2**31 - 1).seed == 2**31 - 1


@pytest.mark.parametrize("preset", PRESETS)
def test_hidden_sizes_none_resolves_to_the_presets_default(preset):
    config = ModelConfig(preset=preset, hidden_sizes=None)
    assert config.hidden_sizes == DEFAULT_HIDDEN_SIZES[preset]
    assert isinstance(config.hidden_sizes, tuple)


def test_sequences_are_stored_as_int_tuples():
    config = ModelConfig(image_shape=[32, 32, 3], hidden_sizes=[64, 16, 8])
    assert config.image_shape == (32, 32, 3)
    assert config.hidden_sizes == (64, 16, 8)
    assert hash(config) == hash(ModelConfig(image_shape=(32, 32, 3), hidden_sizes=(64, 16, 8)))


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("loss", LOSSES)
def test_train_config_round_trips_through_json(preset, loss):
    model = ModelConfig(preset=preset, image_shape=(32, 32, 3), latent_dim=16, loss=loss, beta=0.5)
    config = TrainConfig(
        model,
        optimizer=OPTIMIZERS[-1],
        learning_rate=3e-4,
        lr_schedule="cosine",
        batch_size=64,
        epochs=7,
        validation_split=0.2,
        kl_warmup_epochs=3,
        seed=42,
    )
    as_json = json.dumps(config.to_dict())
    restored = TrainConfig.from_dict(json.loads(as_json))
    assert restored == config
    assert isinstance(restored.model.image_shape, tuple)
    assert isinstance(restored.model.hidden_sizes, tuple)


def test_model_config_to_dict_is_plain_and_round_trips():
    config = ModelConfig(preset="mlp", hidden_sizes=(64, 16, 8))
    values = config.to_dict()
    assert values == {
        "preset": "mlp",
        "image_shape": [28, 28, 1],
        "latent_dim": 2,
        "hidden_sizes": [64, 16, 8],
        "loss": "bernoulli",
        "beta": 1.0,
        "classes": 0,
    }
    assert ModelConfig.from_dict(json.loads(json.dumps(values))) == config


def test_from_dict_fills_missing_fields_with_defaults():
    assert ModelConfig.from_dict({"latent_dim": 8}) == ModelConfig(latent_dim=8)
    assert TrainConfig.from_dict({"epochs": 3}) == TrainConfig(epochs=3)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError, match=r"Unknown ModelConfig fields: \['latent_dims'\]"):
        ModelConfig.from_dict({"latent_dims": 2})
    with pytest.raises(ConfigError, match=r"Unknown TrainConfig fields: \['epoch'\]"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError, match="Unknown ModelConfig fields"):
        TrainConfig.from_dict({"model": {"preset": "mlp", "colour": "red"}})


def test_from_settings_builds_both_configs_from_one_flat_list_of_names():
    settings = {"preset": "mlp", "latent_dim": 4, "hidden_sizes": [32], "epochs": 2, "train_limit": 1000}
    expected = TrainConfig(ModelConfig("mlp", latent_dim=4, hidden_sizes=(32,)), epochs=2, train_limit=1000)
    assert TrainConfig.from_settings(settings) == expected
    assert TrainConfig.from_settings({}) == TrainConfig() and TrainConfig().train_limit is None
    assert TrainConfig.from_settings(TrainConfig.setting_defaults()) == TrainConfig()
    assert {"preset", "latent_dim", "epochs", "train_limit"} <= set(TrainConfig.setting_defaults())
    assert "model" not in TrainConfig.setting_defaults()
    assert TrainConfig.setting_defaults()["hidden_sizes"] is None  # the preset's, whichever it is
    with pytest.raises(ConfigError, match=r"Unknown TrainConfig fields: \['epoch'\]"):
        TrainConfig.from_settings({"epoch": 3})
    with pytest.raises(ConfigError, match="train_limit=0"):
        TrainConfig.from_settings({"train_limit": 0})


def test_from_dict_still_validates_values():
    with pytest.raises(ConfigError, match="latent_dim=0"):
        TrainConfig.from_dict({"model": {"latent_dim": 0}})


def test_with_data_replaces_only_the_shape_and_classes():
    config = TrainConfig(ModelConfig(preset="conv-bn", latent_dim=8, hidden_sizes=(32,)), epochs=5, seed=3)
    resized = config.with_data([32, 32, 3], classes=10)
    assert resized.model.image_shape == (32, 32, 3)
    assert resized.model.classes == 10 and resized.model.conditional
    assert dataclasses.replace(resized.model, image_shape=(28, 28, 1), classes=0) == config.model
    assert dataclasses.replace(resized, model=config.model) == config
    assert config.model.image_shape == (28, 28, 1)  # the original is unchanged
    assert not config.model.conditional


def test_with_data_validates_the_new_shape_and_classes():
    with pytest.raises(ConfigError, match=r"image_shape=\(28, 28, 4\)"):
        TrainConfig().with_data((28, 28, 4))
    with pytest.raises(ConfigError, match=r"classes=1\b"):
        TrainConfig().with_data((28, 28, 1), classes=1)


def test_a_bundle_from_before_conditional_models_reads_as_a_plain_model():
    assert ModelConfig.from_dict({"preset": "conv", "latent_dim": 2}).classes == 0
    assert ModelConfig.from_dict(ModelConfig(classes=10).to_dict()) == ModelConfig(classes=10)
