"""The app's Plotly figures: classes told apart without relying on colour vision, the encoded digit
drawn over the test points, and loss curves that differ by more than hue."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import ImageColor
from plotly.colors import qualitative

from vae_app.figures import (
    CLASS_COLOURS,
    ENCODED_COLOUR,
    add_encoded_point,
    class_marker,
    latent_scatter,
    loss_curves,
)

# Machado, Oliveira and Fernandes (2009), full severity, on linear RGB.
COLOUR_BLINDNESS = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
}
# CIE76 colour difference below which two small markers are hard to tell apart.
APART = 15.0


def seen_as(colour: str, vision: str) -> np.ndarray:
    """CIELAB of `colour` as a person with `vision` sees it (sRGB, D65 white)."""
    srgb = np.asarray(ImageColor.getrgb(colour)[:3]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(np.asarray(COLOUR_BLINDNESS[vision]) @ linear, 0, 1)
    to_xyz = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    xyz = np.asarray(to_xyz) @ linear / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(colours, vision: str) -> float:
    return min(np.linalg.norm(seen_as(a, vision) - seen_as(b, vision)) for a, b in itertools.combinations(colours, 2))


@pytest.mark.parametrize("vision", list(COLOUR_BLINDNESS))
def test_the_class_colours_stay_apart_under_colour_blindness(vision):
    assert closest_pair(CLASS_COLOURS, vision) >= APART


def test_the_old_palettes_red_and_green_are_gone():
    old_red, old_green = qualitative.D3[3], qualitative.D3[2]
    assert {old_red.upper(), old_green.upper()}.isdisjoint(colour.upper() for colour in CLASS_COLOURS)
    # The measure above catches what was wrong: D3's orange and green merge under protanopia.
    assert closest_pair(qualitative.D3[:10], "protanopia") < APART


@pytest.mark.parametrize("classes", [10, 12, 40, 70])
def test_every_class_gets_its_own_colour_and_symbol(classes):
    pairs = [class_marker(label) for label in range(classes)]
    assert len(set(pairs)) == classes
    labels = np.arange(classes * 3) % classes
    figure = latent_scatter(np.random.default_rng(0).normal(size=(classes * 3, 2)), labels, [], ("z0", "z1"))
    shown = [(trace.marker.color, trace.marker.symbol) for trace in figure.data]
    assert shown == pairs
    assert all(trace.showlegend is not False for trace in figure.data)
    assert figure.layout.legend.itemsizing == "constant"  # legend markers big enough to show their symbols


def test_the_encoded_digit_is_drawn_last_in_webgl_in_a_colour_no_class_has():
    figure = latent_scatter(np.zeros((10, 2)), np.arange(10), [str(d) for d in range(10)], ("z0", "z1"))
    figure = add_encoded_point(figure, np.array([0.5, -0.5]), np.array([0.2, 0.1]))
    ellipse, star = figure.data[-2:]
    # Browsers stack Plotly's WebGL canvas above its SVG layer: an SVG star would sit under the points.
    assert isinstance(ellipse, go.Scattergl) and isinstance(star, go.Scattergl)
    assert star.marker.symbol == "star" and star.marker.color == ENCODED_COLOUR
    assert ellipse.line.color == ENCODED_COLOUR
    for vision in COLOUR_BLINDNESS:
        assert min(np.linalg.norm(seen_as(ENCODED_COLOUR, vision) - seen_as(c, vision)) for c in CLASS_COLOURS) > 8


def test_training_and_validation_curves_differ_in_line_and_marker_as_well_as_colour():
    history = [{"epoch": 1, "loss": 3.0, "val_loss": 3.5}, {"epoch": 2, "loss": 2.0, "val_loss": 2.5}]
    train, validation = loss_curves(history).data[:2]
    assert (train.name, validation.name) == ("train", "validation")
    assert train.line.color != validation.line.color
    assert train.line.dash != validation.line.dash
    assert train.marker.symbol != validation.marker.symbol
