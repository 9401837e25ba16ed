"""What a person waits for, in a real browser: `python -m bench.browser_latency`.

Starts `streamlit run` for the app and for `bench/reference_app.py` (bare Streamlit, no model) in one
invocation, drives headless Debian chromium with Playwright, and reports, over 30 interactions each:
a slider's key press to the server's new picture painted (in the app, the latent pad's first
dimension slider on Generate, whose change sends z to Python, answered by the nearest test images
beside the pad; in bare Streamlit, an `st.slider` in a fragment driving an `st.image`), scatter click
to the picked picture painted, and the first page load after server start. Times are taken inside
the page (performance.now).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, add_server_python_option, streamlit_server
from vae_core.provenance import machine_description

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Bare Streamlit's slider, and the latent pad's slider for its first latent dimension (in the
# component's shadow root: Playwright's locators enter it, document.querySelector does not).
STREAMLIT_SLIDER = '[data-testid="stSlider"] input[type="range"]'
PAD = ".latent-pad"
PAD_SLIDER = f"{PAD} .dimensions input[type=range]"
PAD_READY = re.compile("^(browser|server)$")  # its data-mode once it decodes, or has said it cannot
# The caption of the pictures Python draws for a release of the pad: the server's answer.
NEAREST = "nearest test images to"
# Resolves with the milliseconds from the next key press or mouse press to the moment a picture
# whose src or caption changed has been decoded and a frame painted with it.
ARM = """(needle) => {
    const first = () => [...document.querySelectorAll('[data-testid="stImage"]')]
        .find((element) => element.innerText.includes(needle));
    const state = () => { const f = first(); return f ? f.querySelector('img').src + '|' + f.innerText : ''; };
    const before = state();
    window.__latency = new Promise((resolve) => {
        let start = null;
        for (const kind of ['keydown', 'mousedown']) {
            document.addEventListener(kind, () => { start ??= performance.now(); }, {once: true, capture: true});
        }
        const check = async () => {
            if (start === null || state() === before || state() === '') return;
            observer.disconnect();
            try { await first().querySelector('img').decode(); } catch (error) {}
            requestAnimationFrame(() => resolve(performance.now() - start));
        };
        setTimeout(() => resolve(null), 10000);  // a click that picked the same point changes nothing
        const observer = new MutationObserver(check);
        observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    });
}"""
POINT = """(index) => {
    const plot = document.querySelector('.js-plotly-plot');
    const layout = plot._fullLayout, trace = plot._fullData[0], frame = plot.getBoundingClientRect();
    return [frame.left + layout._size.l + layout.xaxis.d2p(trace.x[index]),
            frame.top + layout._size.t + layout.yaxis.d2p(trace.y[index])];
}"""


def first_load(page: Page, url: str, heading: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name=heading).wait_for()
    page.locator(IDLE).wait_for()
    return time.perf_counter() - started


def slider_latencies(page: Page, count: int, slider: str = PAD_SLIDER, needle: str = NEAREST) -> list[float]:
    """Key presses on the first `slider` (10 right, 10 left, ...): ms from each to the new picture
    captioned with `needle` painted. A key press on the pad's slider fires its input (the pad decodes
    in the browser) and its change, which sends z to Python: the server's round trip of a release."""
    handle = page.locator(slider).first
    handle.focus()
    times = []
    for index in range(count):
        page.evaluate(ARM, needle)
        handle.press("ArrowRight" if index % 20 < 10 else "ArrowLeft")
        times.append(page.evaluate("window.__latency"))
        page.locator(IDLE).wait_for()
    return [t for t in times if t is not None]


def click_latencies(page: Page, count: int) -> list[float]:
    times = []
    for index in range(count):
        page.locator(".js-plotly-plot").first.wait_for()
        x, y = page.evaluate(POINT, index * 7)
        page.evaluate(ARM, "test image")  # the picked point's picture
        page.mouse.click(x, y)
        times.append(page.evaluate("window.__latency"))
        page.locator(IDLE).wait_for()
    return [t for t in times if t is not None]


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(url: str, heading: str, slider_path: str, click_path: str, count: int, bare: bool = False) -> dict:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        load = first_load(page, f"{url}/{slider_path}", heading)
        if bare:
            slider = slider_latencies(page, count, STREAMLIT_SLIDER, "")
        else:
            expect(page.locator(PAD)).to_have_attribute("data-mode", PAD_READY, timeout=120_000)  # WebAssembly loaded
            slider = slider_latencies(page, count)
        page.goto(f"{url}/{click_path}")
        page.locator(IDLE).wait_for()
        clicks = click_latencies(page, count)
        browser.close()
    return {"load": load, "slider": percentiles(slider), "click": percentiles(clicks), "counted": len(clicks)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=30)
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="browser-latency-"))
    with streamlit_server("bench/reference_app.py", logs / "reference.log", python=args.server_python) as server:
        reference = measure(server.url, "Reference", "", "", args.interactions, bare=True) | {
            "start": server.seconds_to_healthy
        }
    app_env = {"VAE_MODELS_DIR": str(logs / "models")}
    with streamlit_server("streamlit_app.py", logs / "app.log", app_env, python=args.server_python) as server:
        app = measure(server.url, "Generate", "generate", "explore", args.interactions) | {
            "start": server.seconds_to_healthy
        }
    print(
        f"machine: {machine_description()}; server: {args.server_python}; {args.interactions} interactions each; "
        "browser: headless chromium"
    )
    print("slider: the app's is the latent pad's (its change -> the nearest images), bare Streamlit's st.slider")
    print(f"{'':<34}{'app':>10}{'bare Streamlit':>16}{'ratio':>8}")
    rows = [(f"{key} -> picture, {name} (ms)", key, index) for key in ("slider", "click")
            for name, index in (("p50", 0), ("p95", 1))]  # fmt: skip
    for label, key, index in rows:
        ours, bare = app[key][index], reference[key][index]
        print(f"{label:<34}{ours:>10.0f}{bare:>16.0f}{ours / bare:>8.2f}")
    print(f"clicks that changed the picture: app {app['counted']}, bare {reference['counted']}")
    for label, key in (("server start to health (s)", "start"), ("first page load (s)", "load")):
        print(f"{label:<34}{app[key]:>10.2f}{reference[key]:>16.2f}{app[key] / reference[key]:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
