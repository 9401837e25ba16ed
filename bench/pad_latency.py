"""The latent pad against the server's round trip, in a real browser: `python -m bench.pad_latency`.

Starts `streamlit run` for the app, opens Generate on `mnist-conv-2d` in headless Debian chromium,
and measures in the page (performance.now): a 300-move drag over the pad, from each pointer event to
the frame that shows its decoded picture, counting what the page sends the server during the drag
(HTTP requests and websocket messages); beside it, in the same run, the server's round trip of a
release: a key press on the pad's slider for z0 (its change sends z to Python) to the nearest test
images Python draws for it, painted (as bench.browser_latency measures it); the pad's ready time on a
reload with the model cached; and a 30x30 grid of points decoded as one batch in the browser and by
the server's codec.

The pad's timings come from its benchmark hooks (`static/latent_pad/benchmark.js`: `data-latencies`,
`data-ready-at`, `timeBatchDecode`), which a page has only when it sets `BENCHMARK_HOOKS` before the
pad mounts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from bench.browser_latency import IDLE, percentiles, slider_latencies
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, add_server_python_option, streamlit_server
from vae_core.provenance import machine_description

PAD = ".latent-pad"
# Run before any of the page's scripts (Playwright's add_init_script): the pad then loads its hooks.
BENCHMARK_HOOKS = "window.__latentPadBenchmark = true"
FIRST_PAINT = "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"


def open_pad(page, url: str):
    page.goto(url)
    pad = page.locator(PAD)
    pad.wait_for()
    while pad.get_attribute("data-mode") == "loading":
        time.sleep(0.02)
    if pad.get_attribute("data-mode") != "browser":
        sys.exit(f"The pad decodes on the server here: {pad.locator('.status').inner_text()}")
    return pad


def drag(page, pad, moves: int, sent: list[str]) -> tuple[list[float], int]:
    """Pointer event -> painted frame, in ms, for each move of one drag; and what the page sent the
    server meanwhile: HTTP requests, and the websocket messages `sent` collects."""
    box = pad.locator("canvas.pad").bounding_box()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    messages_before = len(sent)
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    for step in range(moves):
        phase = step / moves * 2 * np.pi
        x = box["x"] + box["width"] * (0.5 + 0.4 * np.cos(phase))
        y = box["y"] + box["height"] * (0.5 + 0.4 * np.sin(3 * phase))
        page.mouse.move(x, y)
        page.wait_for_timeout(4)
    during = len(requests) + len(sent) - messages_before
    page.wait_for_timeout(200)
    latencies = [float(ms) for ms in (pad.get_attribute("data-latencies") or "").split(",") if ms]
    page.mouse.up()
    return latencies[-moves:], during


def server_batch_ms(count: int, repeats: int) -> float:
    from vae_core.bundles.bundle import load_bundle
    from vae_core.bundles.registry import PRETRAINED_DIR
    from vae_core.model.codec import LatentCodec

    codec = LatentCodec(load_bundle(PRETRAINED_DIR / "mnist-conv-2d").model, decode_precision="auto")
    z = np.random.default_rng(0).uniform(-2, 2, (count, codec.latent_dim)).astype(np.float32)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        codec.decode(z)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pad_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--slider-presses", type=int, default=30, help="pad slider presses timed to Python's answer")
    parser.add_argument("--repeats", type=int, default=5, help="reloads, and batch decodes, to take medians of")
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="pad-latency-"))
    env = {"VAE_MODELS_DIR": str(logs / "models")}
    url_path = "generate?model=mnist-conv-2d"
    with streamlit_server("streamlit_app.py", logs / "app.log", env, python=args.server_python) as server:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.add_init_script(BENCHMARK_HOOKS)
            page.set_default_timeout(60_000)
            sent: list[str] = []  # websocket messages to the server (a release's z among them)
            page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(frame)))
            pad = open_pad(page, f"{server.url}/{url_path}")  # loads and caches the model and decoder
            ready, after_paint = [], []
            for _ in range(args.repeats):
                pad = open_pad(page, f"{server.url}/{url_path}")
                ready.append(float(pad.get_attribute("data-ready-at")))
                after_paint.append(ready[-1] - page.evaluate(FIRST_PAINT))
            page.locator(IDLE).wait_for()
            pad_ms, requests = drag(page, pad, args.moves, sent)
            browser_batch = statistics.median(
                pad.evaluate("(root, count) => root.timeBatchDecode(count)", 900) for _ in range(args.repeats)
            )
            page.locator(IDLE).wait_for()
            slider_ms = slider_latencies(page, args.slider_presses)
            browser.close()
    server_batch = server_batch_ms(900, args.repeats)
    pad_p50, pad_p95 = percentiles(pad_ms)
    slider_p50, slider_p95 = percentiles(slider_ms)
    print(f"machine: {machine_description()}; server: {args.server_python}; browser: headless chromium")
    print(f"pad drag, pointer event -> painted frame, {len(pad_ms)} moves: p50 {pad_p50:.1f} ms, p95 {pad_p95:.1f} ms")
    print(f"server requests and websocket messages during the drag: {requests}")
    print(
        f"server round trip, pad slider key press -> nearest images painted, {len(slider_ms)} presses:"
        f" p50 {slider_p50:.0f} ms, p95 {slider_p95:.0f} ms"
    )
    print(f"ratio of p50s (server round trip / pad): {slider_p50 / pad_p50:.1f}")
    print(f"pad ready, model cached, median of {args.repeats} reloads: {statistics.median(ready) / 1000:.2f} s after"
          f" navigation, {statistics.median(after_paint) / 1000:.2f} s after the first contentful paint")  # fmt: skip
    print(f"30x30 grid as one batch: browser {browser_batch:.1f} ms, server (app's codec) {server_batch:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
