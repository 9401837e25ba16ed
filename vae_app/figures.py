"""Plotly figures the pages show: latent scatters, the posterior lens and loss curves, in colours made
for the browser's theme."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from vae_app.messages import plain_for_plotly
from vae_app.theme import page_theme

if TYPE_CHECKING:  # the Train page draws figures before, and without, Keras
    from vae_core.analysis.code_mixture import DensityMap
    from vae_core.analysis.posterior_lens import LensGrid

# Class colours per theme. Each class keeps its hue in Petroff's ten (matplotlib's "petroff10";
# arXiv:2107.02270) to within 20 degrees of CIELAB hue; lightness and chroma were searched (differential
# evolution) for the ten farthest apart under protanopia, deuteranopia and tritanopia that, drawn at
# MARKER_OPACITY, stand 3:1 off the theme's background (WCAG 2.1's floor for graphics, 1.4.11).
# tests/test_palette.py checks both.
CLASS_PALETTES = {  # Petroff's order: blue, orange, red, grey, purple, brown, dark orange, tan, slate, cyan
    "light": ("#507BAD", "#B97200", "#6D2200", "#556565", "#5B2EB3",
              "#735040", "#A34400", "#877F5C", "#7B818C", "#00464E"),
    "dark": ("#4274AE", "#FDA900", "#EA0002", "#93A5A3", "#C6B1FF",
             "#936958", "#FFDAC1", "#ACA276", "#6F727A", "#B7EBEE"),
}  # fmt: skip
# Points a little translucent, so that where two classes overlap both show; the palettes allow for it.
MARKER_OPACITY = 0.85
# Shapes WebGL draws, so classes differ without colour too; 7 is coprime with the 10 colours, so
# classes 0-69 each get their own (colour, symbol) pair.
CLASS_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "cross")
# The user's digit: no class's colour, 3:1 contrast (WCAG's floor for graphics) on white and on
# Streamlit's dark background alike, outlined in black for the light theme.
ENCODED_COLOUR = "#FF00FF"
LOSS_PANEL_HEIGHT = 280
LOSS_TERMS = (("loss", "total"), ("reconstruction_loss", "reconstruction"), ("kl_loss", "KL"))
# Training and validation curves: the palette's blue and orange, and a dashed line with square markers
# for validation, so the two differ without colour too. (key prefix, legend name, class colour, dash, symbol)
LOSS_SPLITS = (("", "train", 0, "solid", "circle"), ("val_", "validation", 1, "dash", "square"))


def class_colours(theme: str | None = None) -> tuple[str, ...]:
    """The class colours made for `theme` ("light" or "dark"; None: the theme the browser shows)."""
    return CLASS_PALETTES[theme or page_theme()]


def class_marker(label: int, theme: str | None = None) -> tuple[str, str]:
    """The (colour, symbol) pair that marks class `label`, so classes differ by shape as well as hue."""
    colours = class_colours(theme)
    return colours[label % len(colours)], CLASS_SYMBOLS[label % len(CLASS_SYMBOLS)]


def latent_scatter(
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    axis_titles: tuple[str, str],
    theme: str | None = None,
) -> go.Figure:
    """WebGL scatter of plane coordinates, one trace per class so the legend names the classes and
    shows each one's colour and symbol, in the colours made for `theme` (None: the browser's).

    Each point carries its test-set index as customdata; selections report it back.
    """
    figure = go.Figure()
    for index, name, colour, symbol in _classes(len(coords), labels, class_names, theme or page_theme()):
        figure.add_trace(
            go.Scattergl(
                x=coords[index, 0],
                y=coords[index, 1],
                mode="markers",
                name=name,
                customdata=index,
                marker={"size": 5, "color": colour, "symbol": symbol, "opacity": MARKER_OPACITY},
                # The name by reference: a class named "%{x}" would otherwise be read as a template.
                hovertemplate="index %{customdata}<br>label %{fullData.name}<extra></extra>",
            )
        )
    figure.update_layout(legend={"itemsizing": "constant", "title": "label"})
    return _latent_plane_layout(figure, axis_titles)


def _classes(
    count: int, labels: np.ndarray | None, class_names: Sequence[str], theme: str
) -> Iterator[tuple[np.ndarray, str, str, str]]:
    """Each class among `count` points: its points' indices, its name as Plotly shows it, its colour and
    symbol. Unlabelled points are one class."""
    labels = np.zeros(count, np.int64) if labels is None else labels
    for label in np.unique(labels):
        name = class_names[label] if len(class_names) > label else str(label)
        yield np.flatnonzero(labels == label), plain_for_plotly(name), *class_marker(int(label), theme)


def latent_scatter_3d(
    coords: np.ndarray, labels: np.ndarray | None, class_names: Sequence[str], axis_titles: tuple[str, ...], theme: str
) -> go.Figure:
    """3-D scatter of the codes in three coordinates, one trace per class as on the 2-D map, the
    three axes at one scale (cube-shaped ranges would stretch the narrow ones)."""
    figure = go.Figure()
    for index, name, colour, _ in _classes(len(coords), labels, class_names, theme):
        figure.add_trace(
            go.Scatter3d(
                x=coords[index, 0],
                y=coords[index, 1],
                z=coords[index, 2],
                mode="markers",
                name=name,
                customdata=index,
                marker={"size": 2, "color": colour, "opacity": MARKER_OPACITY},
                hovertemplate="index %{customdata}<br>label %{fullData.name}<extra></extra>",
            )
        )
    titles = {f"{axis}axis_title": title for axis, title in zip("xyz", axis_titles, strict=True)}
    figure.update_layout(
        scene={"aspectmode": "data", **titles},
        # Below the scene, across: beside it, the legend would take a phone's width from the scene.
        legend={"itemsizing": "constant", "title": "label", "orientation": "h", "x": 0, "y": 0, "yanchor": "top"},
        margin={"l": 0, "r": 0, "t": 30, "b": 10},
        height=600,
    )
    return figure


def _latent_plane_layout(figure: go.Figure, axis_titles: tuple[str, str]) -> go.Figure:
    """The layout every scatter of a latent plane shares: titled axes at one scale, panning by default."""
    figure.update_layout(
        xaxis_title=axis_titles[0],
        yaxis_title=axis_titles[1],
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=600,
        dragmode="pan",
    )
    figure.update_yaxes(scaleanchor="x", scaleratio=1)
    return figure


def score_scatter(coords: np.ndarray, scores: np.ndarray, score_title: str, axis_titles: tuple[str, str]) -> go.Figure:
    """The latent scatter coloured by a per-image score (a colour scale with its bar), each point
    carrying its test-set index as customdata, as `latent_scatter`'s do."""
    figure = go.Figure(
        go.Scattergl(
            x=coords[:, 0],
            y=coords[:, 1],
            mode="markers",
            customdata=np.arange(len(coords)),
            marker={
                "size": 5,
                "color": scores,
                "colorscale": "Viridis",
                "colorbar": {"title": {"text": score_title}},
                "opacity": 0.8,
            },
            hovertemplate=f"index %{{customdata}}<br>{score_title} %{{marker.color:.3g}}<extra></extra>",
            showlegend=False,
        )
    )
    return _latent_plane_layout(figure, axis_titles)


def add_direction_arrow(figure: go.Figure, start: np.ndarray, end: np.ndarray) -> go.Figure:
    """An arrow on a latent scatter from one group's mean code to another's, in plane coordinates."""
    figure.add_annotation(
        x=end[0], y=end[1], ax=start[0], ay=start[1], xref="x", yref="y", axref="x", ayref="y",
        showarrow=True, arrowhead=3, arrowwidth=3, arrowcolor=ENCODED_COLOUR,
    )  # fmt: skip
    return figure


def add_encoded_point(figure: go.Figure, uv: np.ndarray, spread: np.ndarray) -> go.Figure:
    """Mark an encoded image on a latent scatter, with its 2-sigma posterior ellipse.

    Both are WebGL traces added last: browsers stack Plotly's WebGL canvas above its SVG layer, so an
    SVG mark would sit under the test points it lands among.
    """
    figure.add_trace(two_sigma_ellipse(uv, spread, "your digit: 2σ"))
    figure.add_trace(
        go.Scattergl(
            x=[uv[0]],
            y=[uv[1]],
            mode="markers",
            marker={"symbol": "star", "size": 20, "color": ENCODED_COLOUR, "line": {"color": "black", "width": 1.5}},
            name="your digit",
            hovertemplate="your digit<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
        )
    )
    return figure


def two_sigma_ellipse(
    centre: np.ndarray, spread: np.ndarray, name: str, trace: type[go.Scatter | go.Scattergl] = go.Scattergl
) -> go.Scatter | go.Scattergl:
    """The dotted 2-sigma ellipse of a diagonal Gaussian q(z|x) on a plane: WebGL over a map's WebGL
    points, to stay above them; SVG over a heatmap, where a WebGL context would cost its figure's
    opening more than all else it draws."""
    angles = np.linspace(0, 2 * np.pi, 60)
    return trace(
        x=centre[0] + 2 * spread[0] * np.cos(angles),
        y=centre[1] + 2 * spread[1] * np.sin(angles),
        mode="lines",
        line={"color": ENCODED_COLOUR, "dash": "dot", "width": 2},
        name=name,
        hoverinfo="skip",
    )


def kl_bars(kl: np.ndarray, threshold: float) -> go.Figure:
    """KL from the prior per latent dimension as bars: the active ones (above `threshold`) in the
    palette's first colour, the others grey, and the threshold as a dotted line named outside the
    bars; each bar says its value and whether it is active, so colour is never the only sign."""
    kl = np.asarray(kl, dtype=np.float64)
    active = kl > threshold
    figure = go.Figure(
        go.Bar(
            x=[f"z{d}" for d in range(len(kl))],
            y=kl,
            marker_color=[class_colours()[0] if on else "#9a9a9a" for on in active],
            text=["active" if on else "inactive" for on in active],
            textposition="outside",
            hovertemplate="%{x}: %{y:.3f} nats (%{text})<extra></extra>",
        )
    )
    figure.add_hline(y=threshold, line_dash="dot")
    # Named in the right margin, beside its line: inside the plot it would sit on an inactive bar's word.
    figure.add_annotation(text=f"{threshold} nats", x=1, xref="paper", xanchor="left", y=threshold, showarrow=False)
    figure.update_layout(
        height=300,
        margin={"t": 30, "b": 10, "r": 70},
        xaxis_title="latent dimension",
        yaxis_title="KL from the prior (nats)",
    )
    return figure


def lens_figure(view: LensGrid, axis_titles: tuple[str, str]) -> go.Figure:
    """The posterior lens: a heatmap of the log joint over the plane, with q's 2-sigma ellipse and mean."""
    figure = go.Figure(
        go.Heatmap(
            x=view.u,
            y=view.v,
            z=np.maximum(view.log_joint, view.log_joint.max() - 60.0),  # 60 nats below the peak is nothing
            colorscale="Viridis",
            # The cells blended by the browser's own image scaling: the posterior is smooth between
            # them, and "best" (interpolated in JavaScript) costs the lens's opening much more.
            zsmooth="fast",
            colorbar={"title": {"text": "log p(x, z)"}},
            hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.1f}<extra></extra>",
        )
    )
    figure.add_trace(two_sigma_ellipse(view.centre, view.spread, "q(z|x): 2σ", go.Scatter))
    mean = {"color": ENCODED_COLOUR, "size": 9}
    figure.add_trace(go.Scatter(x=[0], y=[0], mode="markers", marker=mean, name="q's mean"))
    figure.update_layout(
        xaxis_title=f"{axis_titles[0]} from q's mean",
        yaxis_title=f"{axis_titles[1]} from q's mean",
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def loss_panels(history: Sequence[dict[str, float]], theme: str | None = None) -> list[go.Figure]:
    """Total, reconstruction and KL per epoch, training and validation, a figure each, in the colours
    made for `theme` (None: the browser's): three panels of one figure squeeze into each other at a
    phone's width, where three figures in columns stack."""
    epochs = [record["epoch"] for record in history]
    colours = class_colours(theme)
    panels = []
    for key, title in LOSS_TERMS:
        panel = go.Figure()
        for prefix, split, colour_index, dash, symbol in LOSS_SPLITS:
            values = [record.get(prefix + key) for record in history]
            if any(v is not None for v in values):
                panel.add_trace(
                    go.Scatter(
                        x=epochs,
                        y=values,
                        mode="lines+markers",
                        name=split,
                        showlegend=not panels,
                        line={"color": colours[colour_index], "dash": dash},
                        marker={"symbol": symbol},
                    )
                )
        panel.update_layout(
            title=title,
            height=LOSS_PANEL_HEIGHT,
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
            xaxis_title="epoch",
            yaxis_title="nats per image",
        )
        panels.append(panel)
    return panels


def compared_loss_curves(histories: dict[str, Sequence[dict[str, float]]], theme: str | None = None) -> go.Figure:
    """Each model's validation loss per epoch (its training loss where it held none out), overlaid, in
    the colours made for `theme` (None: the browser's)."""
    figure = go.Figure()
    theme = theme or page_theme()
    for index, (name, history) in enumerate(histories.items()):
        key = "val_loss" if any("val_loss" in record for record in history) else "loss"
        colour, symbol = class_marker(index, theme)
        figure.add_trace(
            go.Scatter(
                x=[record["epoch"] for record in history],
                y=[record.get(key) for record in history],
                mode="lines+markers",
                name=plain_for_plotly(f"{name} ({'validation' if key == 'val_loss' else 'training'})"),
                line={"color": colour},
                marker={"symbol": symbol},
            )
        )
    figure.update_xaxes(title_text="epoch")
    figure.update_yaxes(title_text="loss (nats per image)")
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return figure


def selected_indices(event: object) -> list[int]:
    """Test-set indices of the points a plotly selection event picked (clicked, boxed or lassoed)."""
    selection = getattr(event, "selection", None) or (event.get("selection") if isinstance(event, dict) else None)
    if not selection:
        return []
    points = selection.get("points", []) if isinstance(selection, dict) else getattr(selection, "points", [])
    indices = []
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list):
            custom = custom[0] if custom else None
        if custom is not None:
            indices.append(int(custom))
    return sorted(set(indices))


# The test codes under a map's lines: a grey that stands off white and Streamlit's dark background alike.
CODE_GREY = "#8C8C8C"


def code_density_figure(view: DensityMap, codes: np.ndarray, theme: str | None = None) -> go.Figure:
    """Test codes (n, 2) as small grey points under the lines that hold 50%, 90% and 99% of the prior's
    mass (dashed, the palette's first colour) and of the codes' mixture's (solid, its second), in the
    colours made for `theme` (None: the browser's): where the prior's lines take in empty ground, it puts
    mass the data does not. SVG throughout, so the lines stay above the points."""
    colours = class_colours(theme)
    figure = go.Figure(
        go.Scatter(
            x=codes[:, 0],
            y=codes[:, 1],
            mode="markers",
            marker={"size": 3, "color": CODE_GREY, "opacity": 0.6},
            name="test codes",
            hoverinfo="skip",
        )
    )
    densities = (
        ("prior N(0, I)", view.prior, view.prior_levels, colours[0], "dash"),
        ("codes' mixture", view.mixture, view.mixture_levels, colours[1], "solid"),
    )
    for name, log_density, levels, colour, dash in densities:
        for index, level in enumerate(levels):
            figure.add_trace(
                go.Contour(
                    x=view.z0,
                    y=view.z1,
                    z=log_density,
                    contours={"start": level, "end": level, "size": 1.0, "coloring": "none"},
                    line={"color": colour, "dash": dash, "width": 2},
                    name=name,
                    legendgroup=name,
                    showlegend=index == 0,
                    showscale=False,
                    hoverinfo="skip",
                )
            )
    _latent_plane_layout(figure, ("z0", "z1"))
    return figure.update_layout(height=480, legend={"orientation": "h", "y": -0.15})
