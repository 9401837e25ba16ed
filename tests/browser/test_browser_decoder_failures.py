"""A decoder that passes the app's checks but that ONNX Runtime Web cannot start, or cannot run: the
pad says so in a sentence (ONNX Runtime's own message goes to the console) and the page decodes on
the server; on Explore, the server draws the clicked image in the browser's place."""

from __future__ import annotations

import re

import onnx
import pytest
from browser_support import (
    IDLE,
    first_paint,
    in_view,
    open_pad,
    open_page,
    plot_to_screen,
    screenshot,
    settled,
    wait_for_the_clicked_image,
)
from odd_bundles import OddBundle, save_odd_bundle
from onnx import TensorProto, helper
from playwright.sync_api import expect

from vae_core.bundles.files import DECODER_FILE

# The map as Streamlit draws it where its own point selection is on (`selection_mode` with "points").
CHART_SELECTS_POINTS = "() => document.querySelector('.js-plotly-plot')?._fullLayout?.clickmode === 'event+select'"
RAW_RUNTIME_WORDS = re.compile("ERROR_CODE|ERROR_MESSAGE|OrtRun|session", re.IGNORECASE)


def decoder(nodes: list, initializers: list) -> onnx.ModelProto:
    """A decoder of the right inputs and outputs for a 2-d model of 28x28x1 images, made of `nodes`."""
    graph = helper.make_graph(
        nodes,
        "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 28, 28, 1])],
        initializers,
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8
    )  # one ONNX Runtime Web reads


DECODERS = {
    # Session creation fails: a Reshape whose shape is not integers (a custom operator would be
    # refused by the server's own check, before a browser is sent the file).
    "ill-typed-node": decoder(
        [helper.make_node("Reshape", ["z", "shape"], ["image"])],
        [helper.make_tensor("shape", TensorProto.FLOAT, [4], [-1, 28, 28, 1])],
    ),
    # The session starts; every run fails: two numbers cannot become 784 pixels.
    "impossible-reshape": decoder(
        [helper.make_node("Reshape", ["z", "shape"], ["image"])],
        [helper.make_tensor("shape", TensorProto.INT64, [4], [-1, 28, 28, 1])],
    ),
}


@pytest.mark.parametrize("failure", DECODERS)
def test_a_decoder_the_browser_cannot_run_is_said_in_a_sentence(page, app_url, app_models_dir, failure):
    bundle = save_odd_bundle(app_models_dir, OddBundle(f"decoder-{failure}"))
    onnx.save(DECODERS[failure], str(bundle / DECODER_FILE))
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)

    pad = open_pad(page, f"{app_url}/generate?model=decoder-{failure}")

    expect(pad).to_have_attribute("data-mode", "server")  # a run's failure comes after the session starts
    status = pad.locator(".status").inner_text()
    assert status.startswith("Decoding on the server: this model's decoder does not run in your browser.")
    assert not RAW_RUNTIME_WORDS.search(status), status
    # ONNX Runtime's words, for developers (console messages reach this process as events, soon after).
    said = settled(page, lambda: " | ".join(warnings), lambda text: "does not run in your browser" in text)
    assert "does not run in your browser" in said, said
    assert page.locator('[data-testid="stException"]').count() == 0
    first_paint(pad)  # the server's picture, in the pad's place
    screenshot(page, f"generate-pad-{failure}")


@pytest.mark.parametrize("failure", DECODERS)
def test_where_the_browser_cannot_decode_the_server_draws_the_clicked_image(page, app_url, app_models_dir, failure):
    name = f"explore-decoder-{failure}"
    bundle = save_odd_bundle(app_models_dir, OddBundle(name))
    onnx.save(DECODERS[failure], str(bundle / DECODER_FILE))
    open_page(page, app_url, f"explore?model={name}")
    page.locator(".js-plotly-plot").first.wait_for()
    page.locator(IDLE).wait_for()
    wait_for_the_clicked_image(page)
    if page.locator(".clicked-image").get_attribute("data-mode") == "server":  # the session could not start:
        page.wait_for_function(CHART_SELECTS_POINTS)  # the rerun that hands clicks to the chart comes next
    index = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData[0].customdata[0]")
    x, y = page.evaluate(
        "() => { const t = document.querySelector('.js-plotly-plot')._fullData[0]; return [t.x[0], t.y[0]]; }"
    )

    page.mouse.click(*plot_to_screen(page, x, y))

    # The element steps aside (at once where the session cannot start, at the click where a run fails)
    # and the server draws the image and its reconstruction in its place, beside the map.
    expect(page.locator(".clicked-image")).to_have_attribute("data-mode", "server")
    server_drawn = page.locator('[data-testid="stImage"]').filter(has_text="reconstruction from its latent mean")
    server_drawn.wait_for()
    assert in_view(page, server_drawn.locator("img"))
    expect(page.locator('[data-testid="stImage"]').filter(has_text=f"test image {index}: ")).to_have_count(1)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"explore-click-{failure}")
