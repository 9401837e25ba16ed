"""Generate's samples from where the data is: z drawn from a Gaussian mixture fitted to the codes
(`vae_core.analysis.code_mixture`), decoded, and on a 2-D model a map of where the prior and the
mixture put their mass over the test codes, so that the prior's holes show.

The mixture is the bundle's own, fitted to its training codes; a bundle saved without one (older, or
imported) gets one fitted here to its test set's codes, once per process, and the page says so.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from vae_app.figures import code_density_figure
from vae_app.messages import plain
from vae_app.model_picker import LoadedModel
from vae_app.pictures import decoded_pictures, show_with_download
from vae_core.analysis.code_mixture import CodeMixture, DensityMap, density_map, fit_code_mixture, read_code_mixture
from vae_core.analysis.latent_tools import tile
from vae_core.bundles.files import CODE_MIXTURE_FILE, BundleError
from vae_core.wording import count

MAP_POINTS = 3_000  # test codes drawn under the lines: enough to see the data's shape, few enough for a phone


@st.cache_resource(max_entries=16, show_spinner="Reading the codes' mixture…")
def _stored_mixture(path: str, created: str, stamp: tuple | None, latent_dim: int) -> CodeMixture | str | None:
    """The bundle's mixture, None without one, or the reason it cannot be read; `stamp` is in the key
    so that a mixture added to a listed bundle (`vae-bundles mixture`) is read at once."""
    try:
        return read_code_mixture(path, latent_dim)
    except BundleError as error:
        return str(error)


@st.cache_resource(max_entries=16, show_spinner="Fitting a mixture to the test set's codes…")
def _test_codes_mixture(path: str, created: str, _model: LoadedModel) -> CodeMixture | str:
    """A mixture fitted to the atlas's latent means, or why none can be."""
    try:
        return fit_code_mixture(_model.bundle.atlas.z_mean, "test")
    except ValueError as error:
        return str(error)


def mixture_samples(model: LoadedModel, label: int | None) -> None:
    """Samples of z from the codes' mixture as the prior's tab draws them (count, seed, a PNG), what the
    mixture is, and beside them on a 2-D model where both densities lie over the test codes."""
    mixture = _mixture(model)
    if mixture is None:
        return
    samples, density = st.columns(2) if model.codec.latent_dim == 2 else (st.container(), None)
    with samples:
        shown = st.slider("Samples", 8, 64, 32, step=8, key="mixture_sample_count")
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="mixture_sample_seed")
        drawn = decoded_pictures(model.codec, mixture.sample(shown, int(seed)), label, columns=8)
        picture = tile(drawn, columns=8, gap=2)
        show_with_download(picture, f"{shown} samples of z from the codes' mixture", "mixture-samples.png", 900)
        st.caption(_described(mixture, model, label))
    if density is not None:
        with density:
            _density_view(model, mixture)


def _mixture(model: LoadedModel) -> CodeMixture | None:
    """The bundle's mixture, else one fitted to its test codes (a stored one that cannot be read is
    said in a line); None, with the reason shown, where no mixture can be fitted."""
    path = model.bundle.path
    try:
        status = (path / CODE_MIXTURE_FILE).stat()
        stamp = (status.st_mtime_ns, status.st_size)
    except OSError:
        stamp = None
    stored = _stored_mixture(str(path), model.meta.created, stamp, model.codec.latent_dim)
    if isinstance(stored, CodeMixture):
        return stored
    if isinstance(stored, str):
        problem = (
            f"This model's mixture of its training codes cannot be used: {stored} Fitted to its test codes instead."
        )
        st.warning(plain(problem))
    fitted = _test_codes_mixture(str(path), model.meta.created, model)
    if isinstance(fitted, str):
        st.warning(plain(f"No mixture can be fitted to this model's codes: {fitted}"))
        return None
    return fitted


def _described(mixture: CodeMixture, model: LoadedModel, label: int | None) -> str:
    """What the mixture is, as Markdown: its components, how their number was chosen, and to which codes
    it was fitted."""
    tried = ", ".join(str(k) for k in mixture.candidates)
    k = mixture.components
    text = (
        f"A mixture of {count(k, 'Gaussian')} (full covariances; {k} has the lowest BIC of {tried} components),"
        f" fitted to the latent means of {count(mixture.codes, mixture.split + ' image')}"
    )
    if label is not None:
        text += f" of every class; each sample is written as {plain(model.class_names[label])}"
    if mixture.split == "test":
        text += (
            ", here: the bundle holds no usable mixture of its training codes (it was saved by an older version of"
            " the app, or imported); `vae-bundles mixture` adds one"
        )
    return text + "."


def _density_view(model: LoadedModel, mixture: CodeMixture) -> None:
    """The test codes under the lines that hold 50%, 90% and 99% of each density's mass."""
    codes = model.bundle.atlas.z_mean
    shown = codes[:: -(-len(codes) // MAP_POINTS)]
    arrays = (mixture.weights, mixture.means, mixture.covariances)
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(array).tobytes() for array in arrays)).hexdigest()
    view = _density_map(str(model.bundle.path), model.meta.created, digest, mixture, codes)
    st.plotly_chart(
        code_density_figure(view, shown),
        key=f"code_density:{digest[:16]}",  # not the bundle's path: a key can reach the page
        alt="Where the prior and the codes' mixture put their mass, as lines over the test images' latent means",
    )
    st.caption(
        f"Grey: the latent means of {count(len(shown), 'test image')}. Each density draws three lines, around the"
        " 50%, 90% and 99% of its mass where it is densest: the prior N(0, I) dashed, the codes' mixture solid."
        " Where the prior's lines take in ground with no grey points, its samples land where the decoder saw no data."
    )


@st.cache_data(max_entries=16, show_spinner="Mapping both densities…")
def _density_map(path: str, created: str, digest: str, _mixture: CodeMixture, _codes: np.ndarray) -> DensityMap:
    """Both densities over the plane, once per model and mixture (`digest`)."""
    return density_map(_mixture, _codes)
