"""Typed, validated settings for a VAE and for its training run.

Two frozen dataclasses, passed explicitly everywhere: `ModelConfig` says what network is built and
how its loss is weighted, `TrainConfig` says how it is fitted. Both check their values on creation
so a bad setting fails before any data is loaded, with a message naming the field.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Any

PRESETS = ("mlp", "conv", "conv-bn", "deep-conv")
# The preset a bundle's config names for a model built elsewhere and imported (`vae_core.imports`):
# nothing here builds or trains it, so no form or flag offers it.
IMPORTED = "imported"
LOSSES = ("bernoulli", "gaussian")
OPTIMIZERS = ("adam", "rmsprop")
LR_SCHEDULES = ("constant", "cosine")
PRECISIONS = ("float32", "mixed_bfloat16")
# Every setting chosen from names, by the name of its config field: the configs check it, the Train form
# and the command line offer it.
CHOICES = {
    "preset": PRESETS,
    "loss": LOSSES,
    "optimizer": OPTIMIZERS,
    "lr_schedule": LR_SCHEDULES,
    "precision": PRECISIONS,
}
# Validation images a run encodes after each epoch, for its training replay.
SNAPSHOT_SIZE = 1000

# Hidden sizes each preset uses when none are given: the dense layers between the image features
# and the latent code, as in the classic Keras tutorials (784-256-2, Conv 32/64 + Dense 16, ...).
DEFAULT_HIDDEN_SIZES = {
    "mlp": (256,),
    "conv": (16,),
    "conv-bn": (16,),
    "deep-conv": (256,),
}

MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 8, 256


@dataclass(frozen=True)
class NumberRange:
    """The values a numeric setting allows: the configs check them, the Train form and the command
    line offer and explain them, so the three never disagree."""

    low: float
    high: float
    whole: bool = True
    low_open: bool = False
    high_open: bool = False

    def allows(self, value: Any) -> bool:
        kind = int if self.whole else (int, float)
        if not isinstance(value, kind) or isinstance(value, bool):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        if self.whole:
            return f"between {self.low} and {self.high}"
        return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


# Every numeric setting's range, by the name of its config field (hidden_sizes: each layer's; side: an image
# folder's pictures', `ImageSettings`).
RANGES = {
    "latent_dim": NumberRange(1, 64),
    "classes": NumberRange(2, 1000),
    "hidden_sizes": NumberRange(1, 4096),
    "beta": NumberRange(0.0, 100.0, whole=False, low_open=True),
    "learning_rate": NumberRange(0.0, 1.0, whole=False, low_open=True),
    "weight_decay": NumberRange(0.0, 1.0, whole=False),
    "batch_size": NumberRange(1, 65536),
    "epochs": NumberRange(1, 10000),
    "validation_split": NumberRange(0.0, 0.5, whole=False, high_open=True),
    "kl_warmup_epochs": NumberRange(0, 10000),
    "seed": NumberRange(0, 2**31 - 1),
    "steps_per_execution": NumberRange(1, 1000),
    "train_limit": NumberRange(1, 2**31 - 1),
    "side": NumberRange(MIN_IMAGE_SIDE, MAX_IMAGE_SIDE),
}


class ConfigError(ValueError):
    """A setting is out of range; the message names the field, the value and what is allowed."""


def parse_hidden_sizes(text: str) -> tuple[int, ...] | None:
    """'64,16,8' -> (64, 16, 8); blank -> None (the preset's default). For forms and flags."""
    if not text.strip():
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"Expected hidden sizes as comma-separated integers such as 256 or 64,16,8. Received: {text!r}"
        ) from None


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _require_in_range(config: Any, name: str) -> None:
    value = getattr(config, name)
    _require(RANGES[name].allows(value), f"Expected {name} {RANGES[name]}. Received: {name}={value!r}")


def _require_choice(config: Any, name: str) -> None:
    value = getattr(config, name)
    _require(value in CHOICES[name], f"Expected {name} in {CHOICES[name]}. Received: {name}={value!r}")


@dataclass(frozen=True)
class ModelConfig:
    """What network to build and how to weigh its loss.

    Args:
        preset: one of `PRESETS`: dense (`mlp`), strided convolutions (`conv`), the same with
            BatchNormalization (`conv-bn`), or convolutions with pooling (`deep-conv`).
        image_shape: (height, width, channels) of the images, e.g. (28, 28, 1) or (32, 32, 3).
        latent_dim: size of the latent code z, 1 to 64.
        hidden_sizes: dense layer sizes between features and z; `None` takes the preset's default.
        loss: `bernoulli` (binary cross-entropy summed over pixels) or `gaussian` (squared
            error summed over pixels).
        beta: weight of the KL term; below 1 trades a less regular latent space for sharper
            reconstructions.
        classes: 0 for a plain VAE; N for a conditional VAE (Sohn et al. 2015) whose encoder and
            decoder both also take the image's label, one-hot over N classes, so z is left to hold
            what the label does not say (the style).
    """

    preset: str = "conv"
    image_shape: tuple[int, int, int] = (28, 28, 1)
    latent_dim: int = 2
    hidden_sizes: tuple[int, ...] | None = None
    loss: str = "bernoulli"
    beta: float = 1.0
    classes: int = 0

    def __post_init__(self) -> None:
        if self.preset != IMPORTED:
            _require_choice(self, "preset")
        _require_choice(self, "loss")
        shape = _whole_numbers(self.image_shape)
        _require(
            shape is not None
            and len(shape) == 3
            and all(MIN_IMAGE_SIDE <= s <= MAX_IMAGE_SIDE for s in shape[:2])
            and shape[2] in (1, 3),
            f"Expected image_shape (height, width, channels) with sides {MIN_IMAGE_SIDE}-"
            f"{MAX_IMAGE_SIDE} and 1 or 3 channels. Received: image_shape={self.image_shape!r}",
        )
        object.__setattr__(self, "image_shape", shape)
        _require_in_range(self, "latent_dim")
        if self.hidden_sizes is None:
            object.__setattr__(
                self, "hidden_sizes", () if self.preset == IMPORTED else DEFAULT_HIDDEN_SIZES[self.preset]
            )
        sizes = _whole_numbers(self.hidden_sizes)
        _require(
            sizes is not None
            and (len(sizes) >= 1 or self.preset == IMPORTED)
            and all(RANGES["hidden_sizes"].allows(s) for s in sizes),
            f"Expected hidden_sizes as one or more integers {RANGES['hidden_sizes']}. "
            f"Received: hidden_sizes={self.hidden_sizes!r}",
        )
        object.__setattr__(self, "hidden_sizes", sizes)
        _require_in_range(self, "beta")
        _require(
            self.classes == 0 or RANGES["classes"].allows(self.classes),
            f"Expected classes 0 (a plain VAE) or {RANGES['classes']} (a conditional one)."
            f" Received: classes={self.classes!r}",
        )

    @property
    def conditional(self) -> bool:
        return self.classes > 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, for meta.json and the model's own Keras config."""
        return dataclasses.asdict(self) | {
            "image_shape": list(self.image_shape),
            "hidden_sizes": list(self.hidden_sizes),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Inverse of `to_dict`; unknown keys are an error so typos do not pass silently."""
        return cls(**_known_fields(cls, values, tuples=("image_shape", "hidden_sizes")))


@dataclass(frozen=True)
class TrainConfig:
    """How to fit a model: optimizer, schedule, data split and seed.

    Args:
        model: the network and loss to train.
        optimizer: `adam` or `rmsprop`.
        learning_rate: step size, in (0, 1].
        weight_decay: each step shrinks every weight by `learning_rate * weight_decay` of itself,
            apart from the gradient (decoupled, as AdamW does), which narrows the gap between the
            training and the test loss that a long run opens; 0 turns it off.
        lr_schedule: `constant`, or `cosine` decay from `learning_rate` to zero over the run, which
            settles the weights into a better optimum in the last epochs.
        batch_size: images per gradient step.
        epochs: passes over the training split.
        validation_split: fraction of the training images held out to report validation losses.
        kl_warmup_epochs: the KL weight rises linearly from 0 to `beta` over this many epochs
            (0 turns warm-up off), which keeps early training from collapsing the posterior.
        seed: seeds weights, shuffling, the validation split and sampling noise.
        precision: compute type while training: `float32`, or `mixed_bfloat16` (bfloat16
            convolutions; float32 weights, dense layers and loss), faster where the processor has
            bfloat16 units and slower where it emulates them (bench/RESULTS.md). Only the conv
            preset's quality has been checked in bfloat16, so float32 is the default. The saved
            model computes in float32 either way.
        steps_per_execution: gradient steps per call into the backend's compiled train function.
            More saves Python overhead per step; progress events and the stop flag act once per
            call, so fewer makes Stop answer sooner.
            Keras's PyTorch backend runs one step per call whatever this says.
        data_parallel: split each batch across every device of the run with Keras's distribution API
            (`keras.distribution.DataParallel`, JAX backend only); `batch_size` is the global batch
            and must divide by the number of devices.
        train_limit: train on the first this many images of the training split only (a quick run,
            whose validation split is taken from them); `None` for all of them.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    batch_size: int = 128
    epochs: int = 30
    validation_split: float = 0.1
    kl_warmup_epochs: int = 0
    seed: int = 0
    precision: str = "float32"
    steps_per_execution: int = 8
    data_parallel: bool = False
    train_limit: int | None = None

    def __post_init__(self) -> None:
        _require_choice(self, "optimizer")
        _require_in_range(self, "learning_rate")
        _require_in_range(self, "weight_decay")
        _require_choice(self, "lr_schedule")
        for name in ("batch_size", "epochs", "validation_split", "kl_warmup_epochs", "seed"):
            _require_in_range(self, name)
        _require(
            self.kl_warmup_epochs <= self.epochs,
            f"Expected kl_warmup_epochs between 0 and epochs ({self.epochs}). "
            f"Received: kl_warmup_epochs={self.kl_warmup_epochs!r}",
        )
        _require_choice(self, "precision")
        _require_in_range(self, "steps_per_execution")
        _require(
            isinstance(self.data_parallel, bool),
            f"Expected data_parallel True or False. Received: data_parallel={self.data_parallel!r}",
        )
        _require(
            self.train_limit is None or RANGES["train_limit"].allows(self.train_limit),
            f"Expected train_limit None (all images) or {RANGES['train_limit']}."
            f" Received: train_limit={self.train_limit!r}",
        )

    def with_data(self, image_shape: tuple[int, int, int], classes: int | None = None) -> TrainConfig:
        """The same settings for the data once it is known: its image shape and, where given, the
        number of classes a conditional model is conditioned on (0 for a plain one)."""
        classes = self.model.classes if classes is None else classes
        model = dataclasses.replace(self.model, image_shape=tuple(image_shape), classes=classes)
        return dataclasses.replace(self, model=model)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, for meta.json."""
        return dataclasses.asdict(self) | {"model": self.model.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of `to_dict`."""
        known = _known_fields(cls, values, tuples=())
        return cls(**known | {"model": ModelConfig.from_dict(values.get("model", {}))})

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> TrainConfig:
        """A config from flat settings, each named as its field in either config (`preset`, `epochs`,
        ...): the one way the Train form and the command line both build a run's; a name neither
        config has is refused."""
        model_fields = {field.name for field in dataclasses.fields(ModelConfig)}
        model = {name: value for name, value in settings.items() if name in model_fields}
        return cls.from_dict(
            {name: value for name, value in settings.items() if name not in model_fields} | {"model": model}
        )

    @classmethod
    def setting_defaults(cls) -> dict[str, Any]:
        """Each setting `from_settings` takes, by its name, with the default it takes when left out (`None` for
        hidden_sizes: the preset's); what the command line's flags fall back on."""
        fields = [*dataclasses.fields(ModelConfig), *dataclasses.fields(cls)]
        return {field.name: field.default for field in fields if field.name != "model"}


def _whole_numbers(values: Any) -> tuple[int, ...] | None:
    """`values` as a tuple of ints, or None when it is not a sequence of integers (so 28.7 is not cut to 28)."""
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        return None


def _known_fields(cls: type, values: dict[str, Any], tuples: tuple[str, ...]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    _require(not unknown, f"Unknown {cls.__name__} fields: {unknown}. Expected some of {sorted(names)}")
    return {k: (tuple(v) if k in tuples and v is not None else v) for k, v in values.items()}


@dataclass(frozen=True)
class ImageSettings:
    """How an image folder's pictures are read: resized to `side` x `side`, with 1 (grayscale) or 3
    (RGB) channels."""

    side: int = 28
    channels: int = 1

    def __post_init__(self) -> None:
        _require(
            RANGES["side"].allows(self.side),
            f"Expected an image side from {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} pixels. Received: side={self.side!r}",
        )
        _require(self.channels in (1, 3), f"Expected 1 or 3 channels. Received: channels={self.channels!r}")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.side, self.side, self.channels
