"""Where a figure or a model came from: the software versions and the machine, written into every
bundle's metadata and beside every benchmark's figures."""

from __future__ import annotations

import importlib.metadata
import os
import platform

import keras


def software_versions() -> dict[str, str]:
    """Versions of Python and the libraries that decide what the saved model computes."""
    backend = keras.backend.backend()
    package = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend, backend)
    versions = {"python": platform.python_version(), "keras": keras.__version__, "backend": backend}
    for name in ("numpy", package):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = _installed_variant(name)
    return versions


def _installed_variant(module: str) -> str:
    """Version of the distribution, such as tensorflow-cpu, that provides the module `module`."""
    distributions = importlib.metadata.packages_distributions().get(module)
    return importlib.metadata.version(distributions[0]) if distributions else "unknown"


def machine_description() -> str:
    """A line naming the processor, core count and, on JAX, the accelerator the run used."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            cpu = next((line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), cpu)
    except OSError:
        pass
    description = f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} logical CPUs"
    if keras.backend.backend() == "jax":
        import jax

        devices = jax.devices()
        if devices and devices[0].platform != "cpu":
            description += f", {len(devices)} x {devices[0].device_kind}"
    return description
