"""Compute precisions: float32, and mixed bfloat16 where the hardware has bfloat16 units.

Mixed bfloat16 (float32 weights, bfloat16 products) decodes pictures faster on a CPU with
AVX512_BF16 and is native on recent GPUs, while on hardware without bfloat16 units it is emulated
and slower than float32 (bench/RESULTS.md). So `auto`, offered where only pictures depend on it (the
app's decoding), looks at the hardware. Training takes an explicit choice (`TrainConfig.precision`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras

from vae_core.config import PRECISIONS

FLOAT32, MIXED_BFLOAT16 = PRECISIONS

# CPU instruction-set extensions with native bfloat16 dot products (Linux /proc/cpuinfo names).
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# NVIDIA GPUs have bfloat16 tensor cores from Ampere (compute capability 8.0) on.
MIN_BFLOAT16_COMPUTE_CAPABILITY = (8, 0)


def resolve_precision(requested: str) -> str:
    """The Keras dtype policy to train with: `auto` becomes `mixed_bfloat16` or `float32`."""
    if requested != "auto":
        return requested
    return MIXED_BFLOAT16 if bfloat16_is_fast() else FLOAT32


def with_dtype_policy(model: keras.Model, dtype_policy: str) -> keras.Model:
    """`model` computing in `dtype_policy`: the model itself for float32, else a functional copy
    whose every layer takes that policy, with the same (float32) weights."""
    if dtype_policy == FLOAT32:
        return model
    copy = keras.models.clone_model(
        model, clone_function=lambda layer: layer.__class__.from_config(layer.get_config() | {"dtype": dtype_policy})
    )
    copy.set_weights(model.get_weights())
    return copy


@functools.cache
def bfloat16_is_fast() -> bool:
    """Whether the device Keras computes on has native bfloat16 arithmetic."""
    capability = _gpu_compute_capability()
    if capability is not None:
        return capability >= MIN_BFLOAT16_COMPUTE_CAPABILITY
    return bool(_cpu_flags() & BFLOAT16_CPU_FLAGS)


def _cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The flags of the first processor listed, or none where /proc/cpuinfo does not exist."""
    try:
        with cpuinfo.open(encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _gpu_compute_capability() -> tuple[int, int] | None:
    """(major, minor) of the first NVIDIA GPU the Keras backend uses, or None when it uses none."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        capability = getattr(device, "compute_capability", None) if device.platform == "gpu" else None
        return tuple(int(part) for part in capability.split(".")[:2]) if capability else None  # type: ignore[return-value]
    if backend == "torch":
        import torch

        return tuple(torch.cuda.get_device_capability(0)) if torch.cuda.is_available() else None  # type: ignore[return-value]
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return tuple(tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0)))
    return None
