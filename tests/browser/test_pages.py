"""What a person clicks, in a real browser: each page loads, a pad slider redraws the digit, a download
saves the picture shown, a scatter click shows the reconstruction, an upload is encoded."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from browser_support import (
    IDLE,
    NEAREST_PLACE,
    PAGES,
    WATCH_SCRIPT_RUNS,
    after_the_rerun,
    assert_the_lens_shows_the_posterior,
    contrast_ratio,
    first_paint,
    in_view,
    let_go_of_pad_slider,
    open_pad,
    open_page,
    open_view,
    picture_pixels,
    plot_to_screen,
    rgb,
    screenshot,
    settled,
    shipped_model,
    shown_pixels,
    viewport_pixels,
    wait_for_the_clicked_image,
)
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from vae_core.analysis.latent_tools import plane_ranges
from vae_core.bundles.bundle import load_bundle


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_without_errors(page, app_url, path):
    open_page(page, app_url, path)
    assert page.locator('[data-testid="stException"]').count() == 0
    if path == "":
        page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()  # the models table draws last
    if path == "train":
        page.get_by_text("Model name", exact=True).wait_for()  # form widgets can paint after the script ends
    screenshot(page, path or "home")


def test_a_dimension_slider_redraws_the_one_picture_and_the_nearest_images_follow(page, app_url):
    pad = open_pad(page, f"{app_url}/generate?model=mnist-conv-2d")
    frames, first = first_paint(pad), picture_pixels(pad)
    assert page.locator('[data-testid="stImage"] img').count() == 1  # the nearest images; the digit is the pad's
    let_go_of_pad_slider(page, pad, 0, 0.9)
    assert int(pad.locator("canvas.picture").get_attribute("data-frames")) > frames
    assert np.abs(picture_pixels(pad).astype(int) - first).max() > 30
    # The answer beside the gesture: the pad, its picture and the nearest images all in the window.
    nearest = page.locator('[data-testid="stImage"]').filter(has_text=NEAREST_PLACE)
    for shown in (pad.locator("canvas.pad"), pad.locator("canvas.picture"), nearest):
        assert in_view(page, shown), shown
    screenshot(page, "generate-after-slider")


def downloaded_png(tab, button, path: Path) -> np.ndarray:
    """Click a download button, save the file at `path`, check it is a PNG; its pixels."""
    with tab.expect_download() as download:
        button.click()
    download.value.save_as(path)
    with Image.open(path) as saved:
        assert saved.format == "PNG"
        return np.asarray(saved)


@pytest.fixture(scope="module")
def flagship_as_served():
    """mnist-conv-2d's atlas, and its codec decoding as the server decodes pictures (mixed bfloat16
    where the processor has it: a few grey levels from the browser's float32 on a deep decoder)."""
    return shipped_model("mnist-conv-2d", decode_precision="auto")


def servers_picture(codec, z: np.ndarray) -> np.ndarray:
    """The server's picture at z, in grey levels."""
    return np.round(codec.decode(np.asarray(z, np.float32))[0, ..., 0] * 255)


def test_download_saves_the_picture_on_screen(page, app_url, tmp_path, flagship_as_served):
    atlas, codec = flagship_as_served
    pad = open_pad(page, f"{app_url}/generate?model=mnist-conv-2d")
    first_paint(pad)
    button = page.get_by_role("button", name="Download this picture (PNG)")
    page.locator(IDLE).wait_for()
    page.evaluate(WATCH_SCRIPT_RUNS)
    first = downloaded_png(page, button, tmp_path / "first.png")
    assert first.shape == (224, 224)  # 28x28 enlarged 8x, no blur
    # The picture of the point on screen, Generate's first: the middle of the test codes' spread (the
    # browser's own picture equals float32's: test_latent_pad.py).
    middle = plane_ranges(atlas.z_mean).mean(axis=1)
    assert np.abs(first[::8, ::8] - servers_picture(codec, middle)).max() <= 1
    page.wait_for_timeout(1000)  # a rerun would start within milliseconds of the click
    assert page.evaluate("window.__runsStarted") == 0, "a download should not rerun the page"
    let_go_of_pad_slider(page, pad, 1, 0.1)
    moved = downloaded_png(page, button, tmp_path / "moved.png")
    assert np.abs(moved[::8, ::8] - servers_picture(codec, json.loads(pad.get_attribute("data-z")))).max() <= 1
    assert not np.array_equal(moved, first)


def open_scatter(tab, url: str):
    """The Explore page, with its Plotly chart drawn."""
    open_page(tab, url, "explore")
    plot = tab.locator(".js-plotly-plot").first
    plot.wait_for()
    return plot


def test_uploading_a_photo_encodes_it(page, app_url, tmp_path):
    paper = Image.new("L", (600, 800), 235)
    ImageDraw.Draw(paper).line([(150, 200), (450, 200), (250, 650)], fill=25, width=6)
    photo = tmp_path / "seven.jpg"
    paper.save(photo, format="JPEG")
    open_page(page, app_url, "encode")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(photo))
    page.get_by_text("its reconstruction").wait_for()
    page.get_by_text("Nearest test images in latent space").wait_for()
    page.locator(IDLE).wait_for()
    assert_a_digit_was_drawn_and_rebuilt(page)
    neighbours = page.locator('[data-testid="stImage"]').last.inner_text()  # "index: label, ..." for 8 images
    assert len(neighbours.split(",")) == 8 and all(":" in entry for entry in neighbours.split(","))
    assert_the_lens_shows_the_posterior(page)
    screenshot(page, "encode-after-upload")


def captioned_pixels(tab, caption: str) -> np.ndarray:
    """The pixels of the picture shown with `caption`, as the browser got them."""
    figure = tab.locator('[data-testid="stImage"]').filter(has_text=caption)
    return shown_pixels(tab, figure.locator("img"))


def assert_a_digit_was_drawn_and_rebuilt(tab) -> None:
    """The preprocessed digit has ink on a dark ground, MNIST-like, and its reconstruction is a picture, not a blank."""
    digit = captioned_pixels(tab, "your digit, preprocessed")
    rebuilt = captioned_pixels(tab, "its reconstruction")
    assert digit.shape == rebuilt.shape == (224, 224)
    assert 0.02 < (digit > 128).mean() < 0.5 and digit[:8].max() == 0  # some ink, and a dark border
    assert rebuilt.std() > 20


def start_a_run_on_an_upload(tab, url: str, table: Path, name: str, **settings: str) -> None:
    """On the Train page: choose "Your own file", upload `table`, set the named fields, Start."""
    open_page(tab, url, "train")
    tab.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    tab.get_by_role("option", name="Your own file").click()
    tab.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(table))
    tab.get_by_role("button", name=f"Remove {table.name}", exact=True).wait_for()  # uploaded
    for label, value in (*settings.items(), ("Model name", name)):
        tab.get_by_label(label, exact=True).fill(value)
    tab.get_by_role("button", name="Start training").click()


def digits_csv(path: Path, seed: int, labelled: bool) -> Path:
    """120 random 28x28 images in Kaggle's CSV layout, with or without a label column."""
    images = np.random.default_rng(seed).integers(0, 256, (120, 784))
    header = [*(["label"] if labelled else []), *(f"pixel{i}" for i in range(784))]
    rows = [[*([index % 10] if labelled else []), *pixels] for index, pixels in enumerate(images)]
    path.write_text("\n".join(",".join(map(str, row)) for row in [header, *rows]) + "\n")
    return path


def test_training_survives_a_reload_and_lands_in_the_model_picker(page, app_url, app_models_dir, tmp_path):
    table = digits_csv(tmp_path / "digits.csv", seed=0, labelled=True)
    start_a_run_on_an_upload(page, app_url, table, "browser-run", Epochs="3", **{"Weight decay": "0.02"})
    page.get_by_text("Run: browser-run").wait_for()
    page.reload()  # the run belongs to the server: a reload neither stops nor repeats it
    page.get_by_text("Run: browser-run").wait_for()
    page.get_by_text("Trained 3 epochs").wait_for(timeout=240_000)
    page.locator(IDLE).wait_for()
    screenshot(page, "train-finished")
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    expect(page.get_by_role("option", name="browser-run")).to_have_count(1)  # the list opens after the click
    assert load_bundle(app_models_dir / "browser-run").meta.config.weight_decay == 0.02  # as typed in the form


def test_drawing_a_digit_encodes_it(page, app_url):
    open_page(page, app_url, "encode")
    canvas = page.locator("canvas.upper-canvas").first  # there on arrival
    canvas.wait_for()
    box = canvas.bounding_box()
    left, top = box["x"], box["y"]
    page.mouse.move(left + 90, top + 60)
    page.mouse.down()
    for x, y in [(190, 60), (170, 120), (140, 180), (120, 240)]:  # a seven: a bar, then a long stroke
        page.mouse.move(left + x, top + y, steps=12)
    page.mouse.up()
    page.get_by_text("its reconstruction").wait_for()
    page.locator(IDLE).wait_for()
    assert_a_digit_was_drawn_and_rebuilt(page)
    screenshot(page, "encode-after-drawing")


def test_box_selection_shows_a_grid_of_the_selected_images(page, app_url):
    open_scatter(page, app_url).hover()
    page.locator('.modebar-btn[data-val="select"]').first.click()  # Plotly's "Box Select" tool
    box = (*plot_to_screen(page, -0.5, 0.5), *plot_to_screen(page, 0.5, -0.5))
    page.mouse.move(box[0], box[1])
    page.mouse.down()
    page.mouse.move(box[2], box[3], steps=10)
    page.mouse.up()
    page.get_by_text("images selected").wait_for()
    page.locator(IDLE).wait_for()
    caption = page.get_by_text("images selected").inner_text()
    inside = int(caption.split()[0].replace(",", ""))  # "1,234 images selected"
    # Plotly selects by screen pixel, the count here by data coordinate: a point on the edge may differ.
    assert abs(inside - page.evaluate(POINTS_IN_THE_SELECTED_BOX)) <= 1, caption
    grid = captioned_pixels(page, "images selected")
    assert grid.ndim == 2 and grid.shape[1] > 224 and grid.std() > 20  # a grid of digits, not a blank
    assert in_view(page, page.locator('[data-testid="stImage"]').filter(has_text="images selected").locator("img"))
    # The clicked image's element steps aside for the group's grid, drawn by the server in its place.
    expect(page.locator(".clicked-image")).to_have_attribute("data-selection", "group")
    screenshot(page, "explore-after-box-select")

    # The selection becomes group A of a direction, towards class 1; the strip and the arrow follow.
    expect(page.locator(".js-plotly-plot .annotation-arrow-g path")).to_have_count(0)  # no direction yet
    open_view(page, "Directions by example")
    with after_the_rerun(page):  # which lists the kept selection among the groups
        page.get_by_role("button", name=f"Keep the selection ({inside} images) as group A").click()
    for label, choice in (("Group A", f"selection kept as group A ({inside} images)"), ("Group B", "class 1")):
        picker = page.get_by_role("combobox", name=label, exact=True)
        changed = picker.input_value() != choice  # group A may be the kept selection already: then no run
        with after_the_rerun(page) if changed else contextlib.nullcontext():
            picker.click()
            picker.fill(choice)
            picker.press("Enter")
        expect(picker).to_have_value(choice)
    strip = f"then moved from -2 to +2 lengths of selection kept as group A ({inside} images) → class 1"
    page.get_by_text(strip, exact=False).wait_for()
    page.locator(IDLE).wait_for()
    expect(page.locator(".js-plotly-plot .annotation-arrow-g path").first).to_be_attached()  # the scatter's arrow
    pixels = captioned_pixels(page, strip)
    assert pixels.std() > 20
    page.get_by_text(strip, exact=False).scroll_into_view_if_needed()
    screenshot(page, "explore-direction")


# How many of the chart's points lie in the box Plotly drew for the selection, in data coordinates.
POINTS_IN_THE_SELECTED_BOX = """() => {
    const plot = document.querySelector('.js-plotly-plot'), box = plot._fullLayout.selections[0];
    const [x0, x1] = [box.x0, box.x1].sort((a, b) => a - b), [y0, y1] = [box.y0, box.y1].sort((a, b) => a - b);
    return plot._fullData.filter(trace => trace.customdata !== undefined).reduce((total, trace) =>
        total + trace.x.filter((x, i) => x >= x0 && x <= x1 && trace.y[i] >= y0 && trace.y[i] <= y1).length, 0);
}"""


# The encoded digit's star on the page's chart: where it is, its colour, the classes' colours, and
# how many test points lie within 8 screen pixels of it (those it must be drawn over).
STAR_AND_CLASSES = """() => {
    const plot = document.querySelector('.js-plotly-plot'), layout = plot._fullLayout;
    const star = plot._fullData.find(t => t.name === 'your digit');
    const classes = plot._fullData.filter(t => !t.name.startsWith('your digit'));
    const px = x => layout.xaxis.d2p(x), py = y => layout.yaxis.d2p(y);
    let covered = 0;
    for (const t of classes) for (let i = 0; i < t.x.length; i++)
        if (Math.hypot(px(t.x[i]) - px(star.x[0]), py(t.y[i]) - py(star.y[0])) < 8) covered++;
    return {x: star.x[0], y: star.y[0], colour: star.marker.color, covered,
            classColours: classes.map(t => t.marker.color)};
}"""
APP_BACKGROUND = "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"


def test_the_encoded_digit_is_drawn_on_top_in_either_theme(themed_page, app_url, tmp_path):
    theme, page = themed_page
    paper = Image.new("L", (600, 800), 235)
    ImageDraw.Draw(paper).line([(150, 200), (450, 200), (250, 650)], fill=25, width=6)  # lands among sevens
    photo = tmp_path / "seven.jpg"
    paper.save(photo, format="JPEG")
    open_page(page, app_url, "encode")
    background = rgb(page.evaluate(APP_BACKGROUND))
    assert (contrast_ratio(background, (0, 0, 0)) > 10) == (theme == "light"), f"not the {theme} theme: {background}"
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(photo))
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot')._fullData?.some((trace) => trace.name === 'your digit')"
    )
    page.locator(IDLE).wait_for()
    plot.scroll_into_view_if_needed()
    marks = page.evaluate(STAR_AND_CLASSES)
    assert marks["covered"] >= 5, "the star should land among test points for this test to mean anything"
    star = rgb(marks["colour"])
    assert all(max(abs(a - b) for a, b in zip(star, rgb(c), strict=True)) > 60 for c in marks["classColours"])
    assert contrast_ratio(star, background) >= 3, f"the star's {marks['colour']} is faint on {background}"
    x, y = (round(v) for v in plot_to_screen(page, marks["x"], marks["y"]))
    # WebGL (software, here) paints a frame or more after the script run ends.
    pixels = settled(
        page,
        lambda: viewport_pixels(page)[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3),
        lambda shown: np.abs(shown.astype(int) - star).max() <= 30,
    )
    off_colour = int(np.abs(pixels.astype(int) - star).max())
    screenshot(page, f"encode-star-{theme}")
    assert off_colour <= 30, f"not the star's {star} on top, but {pixels.tolist()}"


def test_end_users_get_the_apps_icon_and_no_deploy_button_or_developer_menu(page, app_url):
    open_page(page, app_url, "train")
    assert "VAE Explorer" in page.title()
    icon = page.locator('link[rel~="icon"]').first.get_attribute("href")
    assert icon.startswith("data:image/svg+xml"), f"Streamlit's own icon, or one fetched from the network: {icon}"
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    page.locator('[data-testid="stMainMenu"]').click()
    menu = page.locator('[data-testid="stMainMenuList"]')
    menu.wait_for()
    assert "Print" in menu.inner_text()
    assert "Clear cache" not in menu.inner_text() and "Rerun" not in menu.inner_text()
    page.keyboard.press("Escape")
    page.get_by_role("heading", name=PAGES["train"]).click()
    page.keyboard.press("c")  # Streamlit's clear-cache shortcut, which would drop every loaded model
    page.wait_for_timeout(500)
    assert page.get_by_role("dialog").count() == 0


def test_the_browser_that_started_a_run_can_stop_it_after_a_reload(page, app_url, tmp_path):
    table = digits_csv(tmp_path / "long.csv", seed=1, labelled=False)
    start_a_run_on_an_upload(page, app_url, table, "long-run", Epochs="1000", **{"Batch size": "8"})
    page.get_by_text("of 1000, batch", exact=False).wait_for(timeout=240_000)  # training, any epoch
    page.reload()  # a new Streamlit session in the same browser
    # The app's own button: Streamlit's status widget shows a Stop button of its own while a run
    # lasts over half a second, as the progress panel's every-second runs can on a busy machine.
    page.locator(".st-key-stop_training").get_by_role("button", name="Stop").click()
    page.get_by_text("Saved as long-run").wait_for(timeout=240_000)
    assert page.get_by_text("only that browser can stop it").count() == 0
    screenshot(page, "train-stopped-after-reload")


def test_compare_puts_two_mnist_models_side_by_side(page, app_url):
    open_page(page, app_url, "compare")
    picker = page.locator('[data-testid="stMultiSelect"]')
    with after_the_rerun(page):
        picker.get_by_role("button", name="Clear all").click()  # other tests may have added newer models
    page.get_by_text("Pick at least two models.").wait_for()
    for name in ("mnist-conv-2d", "mnist-conv-16d"):
        with after_the_rerun(page):  # the next name is typed into the picker as this run left it
            picker.get_by_role("combobox").fill(name)
            picker.get_by_role("combobox").press("Enter")
    page.get_by_text("mnist-conv-16d: reconstructions from the latent means").wait_for()
    expect(page.get_by_text("mnist-conv-2d: reconstructions from the latent means")).to_have_count(1)
    rows = page.locator('[data-testid="stImage"] img')
    expect(rows).to_have_count(3)  # the test images, then one row per model; no prior samples (latent 2 vs 16)
    expect(page.get_by_text("the same seed draws the same z only for models of one latent size")).to_have_count(1)
    page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()
    screenshot(page, "compare")


def test_explore_colours_by_negative_elbo_and_shows_the_worst_modelled_images(page, app_url):
    open_page(page, app_url, "explore")
    with after_the_rerun(page):
        page.get_by_text("negative ELBO", exact=True).click()
    expect(page.locator(".js-plotly-plot .colorbar").first).to_contain_text("−ELBO (nats)")  # an SVG group
    open_view(page, "The 24 test images this model explains worst")
    page.get_by_text("highest negative ELBO first", exact=False).wait_for()
    page.get_by_text("their reconstructions").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "explore-by-negative-elbo")


@pytest.mark.parametrize("model", ["mnist-conv-2d", "mnist-conv-16d", "fashion-conv-2d"])
def test_why_features_work_on_each_shipped_kind_of_model(page, app_url, model):
    """Outliers, the posterior lens and directions on Explore, and the anomaly score on Encode."""
    page.goto(f"{app_url}/explore?model={model}")
    page.get_by_role("heading", name=PAGES["explore"]).wait_for()
    page.locator(IDLE).wait_for()
    with after_the_rerun(page):
        page.get_by_text("negative ELBO", exact=True).click()
    page.locator(".js-plotly-plot .colorbar").first.wait_for()
    wait_for_the_clicked_image(page)
    point = page.evaluate("() => { const t = document.querySelector('.js-plotly-plot')._fullData[0];"
                          " return [t.x[5], t.y[5]]; }")  # fmt: skip
    page.mouse.click(*plot_to_screen(page, *point))
    page.get_by_text("reconstruction from its latent mean").wait_for()
    page.locator(IDLE).wait_for()
    open_view(page, "Lens on the selected image's posterior")
    assert_the_lens_shows_the_posterior(page)
    open_view(page, "Directions by example")
    page.get_by_text("then moved from -2 to +2 lengths of class").wait_for()  # the default: two classes
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"explore-why-{model}")

    paper = Image.new("L", (600, 800), 235)
    ImageDraw.Draw(paper).line([(150, 200), (450, 200), (250, 650)], fill=25, width=6)
    buffer = io.BytesIO()
    paper.save(buffer, format="PNG")
    open_page(page, app_url, f"encode?model={model}")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "seven.png", "mimeType": "image/png", "buffer": buffer.getvalue()}]
    )
    page.get_by_text(re.compile(r"more unusual than \d+\.\d% of test images")).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
