"""Home's picture of what the app does: a model's test images laid out where its encoder puts them.

Read from the bundle's atlas with numpy alone, so Home still paints before Keras is imported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from vae_core.analysis.latent_tools import plane_ranges, tile
from vae_core.bundles.files import ATLAS_FILE
from vae_core.bundles.registry import BundleInfo

MAP_CELLS = 18  # 18 x 18 tiles of 28 pixels: a 504-pixel square, about half a laptop's screen


def latent_mosaic(coords: np.ndarray, images: np.ndarray, cells: int = MAP_CELLS) -> np.ndarray:
    """A (cells * h, cells * w, c) picture: in each cell of a grid over where the points lie, the
    image whose point is nearest the cell's centre; a cell no point falls in stays black."""
    ranges = plane_ranges(coords)
    size = (ranges[:, 1] - ranges[:, 0]) / cells
    # Columns run along u; rows from the top down along v, as the manifold grids are laid out.
    column = np.floor((coords[:, 0] - ranges[0, 0]) / size[0]).astype(int)
    row = cells - 1 - np.floor((coords[:, 1] - ranges[1, 0]) / size[1]).astype(int)
    inside = np.flatnonzero((column >= 0) & (column < cells) & (row >= 0) & (row < cells))
    centres = ranges[:, 0] + (np.stack([column, cells - 1 - row], axis=1)[inside] + 0.5) * size
    offset = np.sum(((coords[inside] - centres) / size) ** 2, axis=1)
    cell = row[inside] * cells + column[inside]
    nearest_first = np.lexsort((offset, cell))  # by cell, then by distance to its centre
    cell_of, first = np.unique(cell[nearest_first], return_index=True)
    sheet = np.zeros((cells * cells, *images.shape[1:]), images.dtype)
    sheet[cell_of] = images[inside[nearest_first[first]]]
    return tile(sheet, cells)


@st.cache_data(max_entries=4, show_spinner=False)
def atlas_map(path: str, created: str) -> np.ndarray | None:
    """The mosaic of the bundle at `path` on its first two latent dimensions (all of them for a 2-D
    model), or None where its atlas cannot be read; `created` is in the key so a re-saved bundle redraws."""
    try:
        with np.load(Path(path) / ATLAS_FILE, allow_pickle=False) as atlas:
            return latent_mosaic(atlas["z_mean"][:, :2], atlas["images"])
    except Exception:  # damaged data fails in many ways (bad CRC, zlib, truncation); Home goes on without it
        return None


def pictured_model(bundles: list[BundleInfo], wanted: str) -> BundleInfo | None:
    """The bundle Home pictures: `wanted` (the flagship) where it is usable, else the first usable one
    of at least two latent dimensions; None where there is none."""
    planar = [info for info in bundles if info.meta.model.latent_dim >= 2]
    return next((info for info in planar if info.name == wanted and info.pretrained), planar[0] if planar else None)
