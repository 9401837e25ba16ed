"""The class colours: 3:1 against each theme's background as the scatter draws them, and apart from
one another, and from the encoded digit's magenta, as people with each colour-vision deficiency see them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import ImageColor
from plotly.colors import qualitative

from vae_app.figures import CLASS_PALETTES, ENCODED_COLOUR, MARKER_OPACITY, class_colours

# Streamlit 1.67's themes (its frontend's bgColor), and the dark one of earlier versions.
BACKGROUNDS = {"light": ("#FFFFFF",), "dark": ("#171614", "#0E1117")}
# Machado, Oliveira and Fernandes (2009), full severity, on linear RGB.
COLOUR_BLINDNESS = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
}
VISIONS = ["typical", *COLOUR_BLINDNESS]
# CIEDE2000 between two classes: no lower than Petroff's own ten reach (11.9, under protanopia), the
# palette these were made from; small marks need differences many times the just-noticeable one (~1).
APART = 12.0
ENCODED_APART = 10.0  # the star is large and outlined, and differs in shape from every class


def linear_rgb(colour: str | np.ndarray) -> np.ndarray:
    """sRGB (a CSS hex string, or values in [0, 1]) decoded to linear light (IEC 61966-2-1)."""
    srgb = np.asarray(ImageColor.getrgb(colour)[:3]) / 255 if isinstance(colour, str) else np.asarray(colour)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def drawn(colour: str, background: str, opacity: float) -> np.ndarray:
    """The sRGB values of `colour` painted at `opacity` over `background`: browsers blend in sRGB."""
    rgb = [np.asarray(ImageColor.getrgb(c)[:3]) / 255 for c in (colour, background)]
    return opacity * rgb[0] + (1 - opacity) * rgb[1]


def contrast_ratio(first: str | np.ndarray, second: str | np.ndarray) -> float:
    """WCAG 2's contrast ratio, (L1 + 0.05) / (L2 + 0.05) of relative luminances, lighter over darker."""
    darker, lighter = sorted(float(np.dot([0.2126, 0.7152, 0.0722], linear_rgb(c))) for c in (first, second))
    return (lighter + 0.05) / (darker + 0.05)


def seen_as(colour: str, vision: str) -> np.ndarray:
    """CIELAB (D65 white) of `colour` as a person with `vision` sees it."""
    linear = linear_rgb(colour)
    if vision in COLOUR_BLINDNESS:
        linear = np.clip(np.asarray(COLOUR_BLINDNESS[vision]) @ linear, 0, 1)
    to_xyz = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    xyz = np.asarray(to_xyz) @ linear / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(first: np.ndarray, second: np.ndarray) -> float:
    """The CIEDE2000 colour difference of two CIELAB colours (Sharma, Wu and Dalal 2005, eqs. 1-22)."""
    (l1, a1, b1), (l2, a2, b2) = first, second
    mean_c = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(mean_c**7 / (mean_c**7 + 25**7)))
    c1, c2 = np.hypot((1 + g) * a1, b1), np.hypot((1 + g) * a2, b2)
    h1, h2 = (np.degrees(np.arctan2(b, (1 + g) * a)) % 360 for a, b in ((a1, b1), (a2, b2)))
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    dl, dc, d_big_h = l2 - l1, c2 - c1, 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    mean_l, mean_c = (l1 + l2) / 2, (c1 + c2) / 2
    mean_h = h1 + h2 if c1 * c2 == 0 else ((h1 + h2) / 2 + (180 if abs(h1 - h2) > 180 else 0)) % 360
    t = (1 - 0.17 * np.cos(np.radians(mean_h - 30)) + 0.24 * np.cos(np.radians(2 * mean_h))
         + 0.32 * np.cos(np.radians(3 * mean_h + 6)) - 0.20 * np.cos(np.radians(4 * mean_h - 63)))  # fmt: skip
    s_l = 1 + 0.015 * (mean_l - 50) ** 2 / np.sqrt(20 + (mean_l - 50) ** 2)
    s_c, s_h = 1 + 0.045 * mean_c, 1 + 0.015 * mean_c * t
    r_t = -2 * np.sqrt(mean_c**7 / (mean_c**7 + 25**7)) * np.sin(np.radians(60 * np.exp(-(((mean_h - 275) / 25) ** 2))))
    return float(np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (d_big_h / s_h) ** 2 + r_t * dc / s_c * d_big_h / s_h))


def closest_pair(colours, vision: str) -> float:
    return min(ciede2000(seen_as(a, vision), seen_as(b, vision)) for a, b in itertools.combinations(colours, 2))


def test_the_measures_match_their_published_values():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.005)  # WebAIM's 4.5:1 grey
    pairs = [  # Sharma, Wu and Dalal (2005), table 1: pairs 1, 7, 17 and 25
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, 0, 0), (50, -1, 2), 2.3669),
        ((50, 2.5, 0), (73, 25, -18), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ]
    for first, second, expected in pairs:
        assert ciede2000(np.array(first), np.array(second)) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("theme", list(BACKGROUNDS))
def test_every_class_colour_stands_3_to_1_off_its_themes_background_as_drawn(theme):
    assert set(CLASS_PALETTES) == set(BACKGROUNDS) and len(class_colours(theme)) == 10
    for background in BACKGROUNDS[theme]:
        for colour in class_colours(theme):
            assert contrast_ratio(drawn(colour, background, MARKER_OPACITY), background) >= 3, (colour, background)
        assert contrast_ratio(ENCODED_COLOUR, background) >= 3


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("theme", list(BACKGROUNDS))
def test_the_class_colours_stay_apart_for_every_colour_vision(theme, vision):
    assert closest_pair(class_colours(theme), vision) >= APART


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("theme", list(BACKGROUNDS))
def test_the_encoded_digit_stays_apart_from_every_class(theme, vision):
    star = seen_as(ENCODED_COLOUR, vision)
    assert min(ciede2000(star, seen_as(colour, vision)) for colour in class_colours(theme)) >= ENCODED_APART


def test_the_measures_catch_what_was_wrong_before():
    # D3's orange and green, the app's first palette, merge under protanopia.
    assert closest_pair(qualitative.D3[:10], "protanopia") < 2
    old_red, old_green = qualitative.D3[3], qualitative.D3[2]
    assert {old_red, old_green}.isdisjoint(itertools.chain(*CLASS_PALETTES.values()))
    # Petroff's ten, the next, are apart but faint: cyan 1.6:1 on white, purple 2.7:1 on the old dark.
    assert contrast_ratio("#92DADD", "#FFFFFF") < 1.7 and contrast_ratio("#832DB6", "#0E1117") < 2.8
