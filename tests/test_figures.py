"""The app's Plotly figures: classes told apart by shape as well as colour, in the colours made for
the browser's theme (tests/test_palette.py checks the colours themselves), the encoded digit drawn
over the test points, and loss curves that differ by more than hue."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import vae_app.figures
from vae_app.figures import (
    ENCODED_COLOUR,
    add_encoded_point,
    class_colours,
    class_marker,
    compared_loss_curves,
    kl_bars,
    latent_scatter,
    loss_panels,
)

THEMES = ["light", "dark"]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("classes", [10, 12, 40, 70])
def test_every_class_gets_its_own_colour_and_symbol(classes, theme):
    pairs = [class_marker(label, theme) for label in range(classes)]
    assert len(set(pairs)) == classes
    labels = np.arange(classes * 3) % classes
    figure = latent_scatter(np.random.default_rng(0).normal(size=(classes * 3, 2)), labels, [], ("z0", "z1"), theme)
    shown = [(trace.marker.color, trace.marker.symbol) for trace in figure.data]
    assert shown == pairs
    assert all(trace.showlegend is not False for trace in figure.data)
    assert figure.layout.legend.itemsizing == "constant"  # legend markers big enough to show their symbols


def test_figures_take_the_browsers_theme_unless_told(monkeypatch):
    assert class_colours("light") != class_colours("dark")
    history = {"a": [{"epoch": 1, "loss": 3.0}], "b": [{"epoch": 1, "loss": 2.0}]}
    for theme in THEMES:
        monkeypatch.setattr(vae_app.figures, "page_theme", lambda theme=theme: theme)
        scatter = latent_scatter(np.zeros((2, 2)), np.arange(2), [], ("z0", "z1"))
        curves = loss_panels([{"epoch": 1, "loss": 3.0, "val_loss": 3.5}])[0]
        compared = compared_loss_curves(history)
        for figure in (scatter, curves, compared):
            assert [trace.marker.color or trace.line.color for trace in figure.data] == list(class_colours(theme)[:2])


def test_the_encoded_digit_is_drawn_last_in_webgl_in_its_own_colour():
    figure = latent_scatter(np.zeros((10, 2)), np.arange(10), [str(d) for d in range(10)], ("z0", "z1"))
    figure = add_encoded_point(figure, np.array([0.5, -0.5]), np.array([0.2, 0.1]))
    ellipse, star = figure.data[-2:]
    # Browsers stack Plotly's WebGL canvas above its SVG layer: an SVG star would sit under the points.
    assert isinstance(ellipse, go.Scattergl) and isinstance(star, go.Scattergl)
    assert star.marker.symbol == "star" and star.marker.color == ENCODED_COLOUR
    assert ellipse.line.color == ENCODED_COLOUR


@pytest.mark.parametrize("theme", THEMES)
def test_training_and_validation_curves_differ_in_line_and_marker_as_well_as_colour(theme):
    history = [{"epoch": 1, "loss": 3.0, "val_loss": 3.5}, {"epoch": 2, "loss": 2.0, "val_loss": 2.5}]
    train, validation = loss_panels(history, theme)[0].data
    assert (train.name, validation.name) == ("train", "validation")
    assert (train.line.color, validation.line.color) == class_colours(theme)[:2]
    assert train.line.dash != validation.line.dash
    assert train.marker.symbol != validation.marker.symbol


def test_the_kl_bars_name_their_threshold_outside_the_bars_where_no_bar_word_can_cover_it():
    kl = np.array([1.5, 0.001, 2.0, 0.002])  # the last dimension inactive: its word sits at the line's height
    figure = kl_bars(kl, 0.01)
    assert list(figure.data[0].text) == ["active", "inactive", "active", "inactive"]
    (name,) = figure.layout.annotations
    assert name.text == "0.01 nats" and name.y == 0.01
    assert (name.xref, name.x, name.xanchor) == ("paper", 1, "left")  # right of the plot area
    assert figure.layout.margin.r >= 60  # with room to be read
