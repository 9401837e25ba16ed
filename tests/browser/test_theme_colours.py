"""The latent scatter in a real browser draws its classes in the palette made for the theme the browser
shows: Streamlit reports the theme with each run (`st.context.theme`), and AppTest cannot."""

from __future__ import annotations

from browser_support import open_page

from vae_app.figures import class_colours

TRACE_COLOURS = """() => document.querySelector('.js-plotly-plot')._fullData
    .filter((trace) => trace.mode === 'markers').map((trace) => trace.marker.color)"""


def test_the_scatter_takes_the_palette_of_the_browsers_theme(themed_page, app_url):
    theme, page = themed_page
    open_page(page, app_url, "explore?model=mnist-conv-2d")
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.evaluate(TRACE_COLOURS) == list(class_colours(theme))
