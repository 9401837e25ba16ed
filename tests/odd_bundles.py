"""Bundles at the edges of what the app can make: every page must work on each, or say what it cannot show.

Each is a real, untrained model saved by `save_bundle`, with an atlas built by the model itself
(or, for the collapsed one, squeezed onto one point), so the pages see what a training run can give.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from synthetic import bundle_meta, synthetic_images

from vae_core.bundles.bundle import Atlas, build_atlas, save_bundle
from vae_core.bundles.meta import BundleMeta
from vae_core.config import ModelConfig, TrainConfig
from vae_core.model.codec import LatentCodec
from vae_core.model.vae import build_vae


@dataclass(frozen=True)
class OddBundle:
    """How to make one odd bundle."""

    name: str
    latent_dim: int = 2
    images: int = 24
    labels: str = "labelled"  # "labelled", "none", "beyond" (labels past the class names) or "hostile"
    collapsed: bool = False


ODD_BUNDLES = (
    OddBundle("one-image", images=1),
    OddBundle("one-image-16d", latent_dim=16, images=1),
    OddBundle("tiny", images=2),
    OddBundle("collapsed-64d", latent_dim=64, collapsed=True),
    OddBundle("line-1d", latent_dim=1),
    OddBundle("wide-64d", latent_dim=64),
    OddBundle("unlabelled", labels="none"),
    OddBundle("labels-beyond-names", labels="beyond"),
    OddBundle("hostile-class-names", labels="hostile"),
)
# Class names as folder names in an uploaded zip can be: Markdown, LaTeX, a link, HTML, a Plotly template.
HOSTILE_CLASS_NAMES = (
    "**BOLD**",
    "$x^2$",
    "[click](javascript:alert(1))",
    "<b>tag</b>",
    "%{x}",
    "_under_",
    "`code`",
    "# heading",
    "~~struck~~",
    ":red[red]",
)


def odd_meta(spec: OddBundle) -> BundleMeta:
    """The meta.json the bundle `spec` describes is saved with."""
    digits = [str(label) for label in range(10)]
    class_names = {"none": None, "beyond": digits[:3], "hostile": list(HOSTILE_CLASS_NAMES)}.get(spec.labels, digits)
    config = TrainConfig(ModelConfig(preset="mlp", latent_dim=spec.latent_dim, hidden_sizes=(8,)), epochs=1)
    return bundle_meta(config, spec.images, class_names)


def save_odd_bundle(directory: Path, spec: OddBundle) -> Path:
    """Save the bundle `spec` describes under `directory`."""
    meta = odd_meta(spec)
    model = build_vae(meta.model, seed=0)
    images, labels = synthetic_images(spec.images, seed=3)
    if spec.labels == "none":
        labels = None
    elif spec.labels == "beyond":
        labels = labels + 5
    atlas = build_atlas(LatentCodec(model), images, labels)
    if spec.collapsed:
        z_mean = np.full_like(atlas.z_mean, 0.25)
        atlas = Atlas(z_mean, np.zeros_like(atlas.z_log_var), atlas.reconstruction_error, atlas.images, labels)
    return save_bundle(directory / spec.name, model, meta, atlas)
