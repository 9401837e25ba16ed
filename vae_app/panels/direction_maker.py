"""Explore's directions by example: pick two groups, move an image from one towards the other, and
keep, download or load the directions found."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.messages import plain
from vae_app.model_picker import LoadedModel
from vae_app.pictures import show
from vae_core.analysis.directions import (
    STRIP_LENGTHS,
    Direction,
    DirectionFileError,
    direction_between,
    directions_from_json,
    directions_to_json,
    walk,
)
from vae_core.analysis.latent_tools import Plane, tile
from vae_core.data.datasets import as_intensities


def _groups(model: LoadedModel) -> dict[str, np.ndarray]:
    """The groups on offer: selections kept as A or B, then every class; each as test-image indices."""
    atlas, kept = model.bundle.atlas, _kept_groups(model)
    groups = {f"selection kept as group {g} ({len(ids)} images)": np.asarray(ids) for g, ids in kept.items()}
    if atlas.labels is not None:
        classes = enumerate(model.class_names)
        groups |= {f"class {name}": np.flatnonzero(atlas.labels == label) for label, name in classes}
    return {name: indices for name, indices in groups.items() if len(indices)}


def _chosen(model: LoadedModel, groups: dict[str, np.ndarray]) -> tuple[str, str] | None:
    """The names of groups A and B as the panel's pickers hold them (the first two before any pick)."""
    names = list(groups)
    if len(names) < 2:
        return None
    first = st.session_state.get(f"direction_a:{model.bundle.path}", names[0])
    second = st.session_state.get(f"direction_b:{model.bundle.path}", names[1])
    return (first if first in groups else names[0]), (second if second in groups else names[1])


def _made_key(model: LoadedModel) -> str:
    return f"direction_made:{model.bundle.path}"


def _mark_made(model: LoadedModel) -> None:
    st.session_state[_made_key(model)] = True


def direction_arrow(model: LoadedModel, plane: Plane) -> np.ndarray | None:
    """(2, 2): group A's and group B's mean codes on the plane, for the scatter's arrow, once the person
    has made a direction (kept a group or picked one); None before. Drawn from the same state the panel
    shows, so the scatter is the same figure on every run: a new figure would drop its selection."""
    if not st.session_state.get(_made_key(model)):
        return None
    groups = _groups(model)
    chosen = _chosen(model, groups)
    if chosen is None:
        return None
    z_mean = model.bundle.atlas.z_mean
    return plane.project(np.stack([z_mean[groups[name]].mean(axis=0) for name in chosen]))


def direction_maker(model: LoadedModel, selection: list[int]) -> None:
    """The panel; `selection` is the scatter's current selection of test images."""
    atlas, path = model.bundle.atlas, str(model.bundle.path)
    kept_groups, kept = _kept_groups(model), kept_directions(model)
    st.caption(
        "The direction from group A to group B is the difference of their mean codes, in every latent dimension."
        " Select points on the scatter and keep them as a group, or use a class."
    )
    left, right = st.columns(2)

    def keep(group: str) -> None:  # before the groups below are listed
        kept_groups[group] = list(selection)
        _mark_made(model)

    for column, group in ((left, "A"), (right, "B")):
        column.button(
            f"Keep the selection ({len(selection)} images) as group {group}",
            disabled=not selection,
            on_click=keep,
            args=(group,),
        )
    groups = _groups(model)
    chosen = _chosen(model, groups)
    if chosen is None:
        st.info("Select points on the scatter and keep them as group A, then others as group B.")
        return
    names = list(groups)
    first = left.selectbox("Group A", names, index=names.index(chosen[0]), key=f"direction_a:{path}",
                           on_change=_mark_made, args=(model,))  # fmt: skip
    second = right.selectbox("Group B", names, index=names.index(chosen[1]), key=f"direction_b:{path}",
                             on_change=_mark_made, args=(model,))  # fmt: skip
    vector = direction_between(atlas.z_mean[groups[first]], atlas.z_mean[groups[second]])
    choices = {f"{first} → {second}": vector} | {f"kept: {d.name}": d.vector for d in kept}
    chosen_direction = st.selectbox("Direction to apply", list(choices), key=f"direction_use:{path}")
    index = int(selection[0]) if len(selection) == 1 else None
    index = st.number_input("Image to move (a clicked point, or any test image)", 0, len(atlas.images) - 1,
                            index or 0, key=f"direction_image:{path}:{index}")  # fmt: skip
    move_along(model, atlas.z_mean[index], atlas.images[index], f"test image {index}", chosen_direction,
               choices[chosen_direction], model.labels_at(index))  # fmt: skip
    _keep_and_share(kept, vector, f"{first} → {second}", model)


def _kept_groups(model: LoadedModel) -> dict[str, list[int]]:
    """The selections kept as group A or B for this model in this session, by group."""
    return st.session_state.setdefault(f"direction_groups:{model.bundle.path}", {})


def kept_directions(model: LoadedModel) -> list[Direction]:
    """The directions kept for this model in this session (Encode moves an upload along them)."""
    return st.session_state.setdefault(f"directions:{model.bundle.path}", [])


def move_along(
    model: LoadedModel, z: np.ndarray, image: np.ndarray, what: str, name: str, vector: np.ndarray, label: int | None
) -> None:
    """A slider moves the image along the direction; beside it, the strip from -2 to +2 lengths. A
    conditional model keeps the image's class, `label`, all along."""
    slider, picture = st.columns([3, 1])
    label_text = plain(f"Lengths of {name} to move {what} by")
    length = slider.slider(label_text, float(STRIP_LENGTHS[0]), float(STRIP_LENGTHS[-1]), 1.0, 0.1,
                           key=f"direction_length:{model.bundle.path}")  # fmt: skip
    moved = model.codec.decode(z + length * vector, label)[0]
    show(moved, f"{what} moved {length:+.1f} lengths", side=160, container=picture)
    strip = model.codec.decode(walk(z, vector), label)
    pictures = np.concatenate([as_intensities(np.asarray(image)[None]), strip])
    lengths = f"from {STRIP_LENGTHS[0]:+g} to {STRIP_LENGTHS[-1]:+g} lengths of {name}"
    show(tile(pictures, columns=len(pictures), gap=2), f"{what}, then moved {lengths}", side=1100)


def _keep_and_share(kept: list[Direction], vector: np.ndarray, suggested: str, model: LoadedModel) -> None:
    name_column, keep_column = st.columns([3, 1])
    name_key = f"direction_name:{model.bundle.path}:{suggested}"  # a new pair of groups, a new suggestion
    name_column.text_input("Name for this direction", suggested, key=name_key)

    def keep() -> None:  # before the next run lists the directions, with the name as typed by then
        kept.append(Direction(st.session_state[name_key].strip() or suggested, vector))

    keep_column.button("Keep it", key=f"direction_keep:{model.bundle.path}", on_click=keep)
    download, upload = st.columns(2)
    download.download_button(
        f"Download the kept directions ({len(kept)})",
        directions_to_json(kept, model.bundle.path.name),
        file_name=f"directions-{model.bundle.path.name}.json",
        mime="application/json",
        disabled=not kept,
        on_click="ignore",
    )
    loaded = upload.file_uploader("Load directions (JSON)", type=["json"], key=f"direction_file:{model.bundle.path}")
    if loaded is not None:
        try:
            new = directions_from_json(loaded.getvalue(), model.bundle.model.latent_dim)
        except DirectionFileError as error:
            upload.error(plain(str(error)))
        else:
            known = {d.name for d in kept}
            kept.extend(d for d in new if d.name not in known)
            upload.success(plain(f"Loaded {', '.join(d.name for d in new) or 'no directions'}."))
