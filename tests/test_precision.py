"""`precision`: `auto` picks bfloat16 only where the hardware computes it natively."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vae_core.model import precision


@pytest.fixture(autouse=True)
def fresh_cache():
    precision.bfloat16_is_fast.cache_clear()
    yield
    precision.bfloat16_is_fast.cache_clear()


@pytest.mark.parametrize("requested", ["float32", "mixed_bfloat16"])
def test_an_explicit_precision_is_kept(requested, monkeypatch):
    monkeypatch.setattr(precision, "bfloat16_is_fast", lambda: pytest.fail("hardware looked at"))
    assert precision.resolve_precision(requested) == requested


@pytest.mark.parametrize(
    ("gpu", "flags", "expected"),
    [
        (None, {"avx2", "avx512f", "avx512_bf16"}, "mixed_bfloat16"),
        (None, {"amx_bf16", "avx512f"}, "mixed_bfloat16"),
        (None, {"avx2", "avx512f"}, "float32"),
        (None, set(), "float32"),
        ((9, 0), set(), "mixed_bfloat16"),
        ((8, 0), set(), "mixed_bfloat16"),
        ((7, 5), {"avx512_bf16"}, "float32"),  # the GPU computes, not the CPU
    ],
)
def test_auto_follows_the_hardware(gpu, flags, expected, monkeypatch):
    monkeypatch.setattr(precision, "_gpu_compute_capability", lambda: gpu)
    monkeypatch.setattr(precision, "_cpu_flags", lambda: frozenset(flags))
    assert precision.resolve_precision("auto") == expected


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx512f avx512_bf16\n\n"
        "processor\t: 1\nflags\t\t: fpu\n",
        encoding="utf-8",
    )
    assert precision._cpu_flags(cpuinfo) == {"fpu", "sse2", "avx512f", "avx512_bf16"}
    assert precision._cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="reads this machine's /proc/cpuinfo")
def test_this_machine_gets_the_policy_its_processor_flags_call_for():
    flags = set(Path("/proc/cpuinfo").read_text(encoding="utf-8").split())  # read here, not by the code under test
    if precision._gpu_compute_capability() is not None:
        pytest.skip("a GPU computes here: its compute capability decides, as tested above")
    expected = "mixed_bfloat16" if {"avx512_bf16", "amx_bf16"} & flags else "float32"
    assert precision.resolve_precision("auto") == expected


def test_with_dtype_policy_copies_weights_into_the_policy():
    from vae_core.config import ModelConfig
    from vae_core.model.architectures import build_decoder

    decoder = build_decoder(ModelConfig())
    assert precision.with_dtype_policy(decoder, "float32") is decoder
    copy = precision.with_dtype_policy(decoder, "mixed_bfloat16")
    assert copy is not decoder
    assert {layer.dtype_policy.name for layer in copy.layers[1:]} == {"mixed_bfloat16"}
    for a, b in zip(copy.get_weights(), decoder.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
