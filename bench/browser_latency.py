"""What a person waits for, in a real browser: `python -m bench.browser_latency`.

Starts `streamlit run` for the app and for `bench/reference_app.py` (bare Streamlit, no model) and,
with `--before PATH`, for the app of another checkout (older code, e.g. a git worktree), one after
another in one invocation; drives headless Debian chromium with Playwright, and reports, over 30
interactions each: a slider's key press to the server's new picture painted (in the app, the latent
pad's first dimension slider on Generate, whose change sends z to Python, answered by the nearest
test images beside the pad; in bare Streamlit, an `st.slider` in a fragment driving an `st.image`);
a click on Explore's map to the clicked image's reconstruction painted (bare Streamlit: its scatter's
one picture), and to the page idle again (its script state back at notRunning); the posterior lens
painted for a few images it was not drawn for yet, from opening its view (the code before drew it on
every click: from the click), and from opening it again (cached); and the first page load after
server start. Times are taken inside
the page (performance.now).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, IDLE, REPO_ROOT, add_server_python_option, streamlit_server
from vae_core.provenance import machine_description

# Bare Streamlit's slider, and the latent pad's slider for its first latent dimension (in the
# component's shadow root: Playwright's locators enter it, document.querySelector does not).
STREAMLIT_SLIDER = '[data-testid="stSlider"] input[type="range"]'
PAD = ".latent-pad"
PAD_SLIDER = f"{PAD} .dimensions input[type=range]"
PAD_READY = re.compile("^(browser|server)$")  # its data-mode once it decodes, or has said it cannot
# The caption of the pictures Python draws for a release of the pad: the server's answer.
NEAREST = "nearest test images to"
# Explore's picture for a clicked point: the app's reconstruction, drawn in the browser by the clicked
# image's element (in its shadow root; the index it shows is its data-index), and the code before's,
# a picture the server drew, known by its caption; the lens's view.
CLICKED_ELEMENT = "canvas.reconstruction"
RECONSTRUCTION = "reconstruction from its latent mean"
LENS_VIEW = "Lens on the selected image's posterior"
UNWATCHED = object()  # `timed` watches no picture
# Resolves window.__latency with the milliseconds from the next key press or mouse press to the
# frame after the watched picture changed (checked every frame): with `shadow` set, the canvas that
# selector names inside an element's shadow root, by its data-index; else the first picture whose
# caption holds `needle`, decoded, by its src and caption; for a null needle, the posterior lens
# (the one chart with a heatmap, known by its first cell and its grid's reach). null after 10 s: a
# click that picked the same point changes nothing.
ARM = """([needle, shadow]) => {
    const picture = () => [...document.querySelectorAll('[data-testid="stImage"]')]
        .find((element) => element.innerText.includes(needle));
    const drawn = () => [...document.querySelectorAll('*')].filter((host) => host.shadowRoot)
        .map((host) => host.shadowRoot.querySelector(shadow)).find(Boolean);
    const lens = () => [...document.querySelectorAll('.js-plotly-plot')]
        .map((plot) => (plot._fullData || []).find((trace) => trace.type === 'heatmap')).find(Boolean);
    const state = shadow ? () => drawn()?.dataset.index ?? ''
        : needle === null ? () => { const l = lens(); return l ? `${l.z[0][0]}|${l.x[0]}|${l.y[0]}` : ''; }
        : () => { const f = picture(); return f ? f.querySelector('img').src + '|' + f.innerText : ''; };
    const before = state();
    window.__latency = new Promise((resolve) => {
        let start = null, done = false;
        for (const kind of ['keydown', 'mousedown']) {
            document.addEventListener(kind, () => { start ??= performance.now(); }, {once: true, capture: true});
        }
        const check = async () => {
            if (done) return;
            if (start === null || state() === before || state() === '') return requestAnimationFrame(check);
            done = true;
            if (!shadow && needle !== null) try { await picture().querySelector('img').decode(); } catch (error) {}
            requestAnimationFrame(() => resolve(performance.now() - start));
        };
        setTimeout(() => { done = true; resolve(null); }, 10000);
        requestAnimationFrame(check);
    });
}"""
# Resolves window.__idle with the milliseconds from the next key or mouse press to the page's
# script state back at notRunning after it has left it (a run, or a fragment's, over); null after 10 s.
ARM_IDLE = """() => {
    const state = () => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state');
    window.__idle = new Promise((resolve) => {
        let start = null, ran = false;
        for (const kind of ['keydown', 'mousedown']) {
            document.addEventListener(kind, () => { start ??= performance.now(); }, {once: true, capture: true});
        }
        const observer = new MutationObserver((records) => {
            if (start === null) return;
            ran ||= records.some((record) => record.oldValue === 'notRunning');
            if (ran && state() === 'notRunning') {
                observer.disconnect();
                resolve(performance.now() - start);
            }
        });
        observer.observe(document.body, {
            subtree: true, attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
        setTimeout(() => { observer.disconnect(); resolve(null); }, 10000);
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
        page.evaluate(ARM, [needle, ""])
        handle.press("ArrowRight" if index % 20 < 10 else "ArrowLeft")
        times.append(page.evaluate("window.__latency"))
        page.locator(IDLE).wait_for()
    return [t for t in times if t is not None]


def timed(page: Page, act: Callable[[], None], needle: str | None | object = UNWATCHED, shadow: str = "") -> tuple:
    """ms from `act`'s key or mouse press to the picture captioned with `needle` painted (None: the
    posterior lens; left out: not watched, None returned), or the canvas `shadow` names inside an
    element showing a new index, and to the page idle again."""
    if needle is not UNWATCHED or shadow:
        page.evaluate(ARM, [needle, shadow])
    page.evaluate(ARM_IDLE)
    act()
    painted = None if needle is UNWATCHED and not shadow else page.evaluate("window.__latency")
    idle = page.evaluate("window.__idle")
    page.locator(IDLE).wait_for()
    return painted, idle


def click(page: Page, index: int) -> Callable[[], None]:
    """A click on point `index` of the page's first scatter (its first trace), as a gesture to time."""
    x, y = page.evaluate(POINT, index)
    return lambda: page.mouse.click(x, y)


def click_latencies(page: Page, count: int, needle: str, shadow: str = "", first: int = 0) -> dict[str, list[float]]:
    """Clicks on points `first`, `first` + 7, ... of the map: ms from each to the picture captioned
    with `needle` painted, and to the page idle again (both dropped where the picture did not change
    or no run was seen within 10 s: counted as clicks that changed nothing)."""
    times: dict[str, list[float]] = {"picture": [], "idle": []}
    for index in range(first, first + 7 * count, 7):
        page.locator(".js-plotly-plot").first.wait_for()
        painted, idle = timed(page, click(page, index), needle, shadow)
        if painted is not None and idle is not None:
            times["picture"].append(painted)
            times["idle"].append(idle)
    return times


def lens_latencies(page: Page, count: int, first: int, view: str | None) -> dict[str, list[float]]:
    """ms to the posterior lens painted, for `count` points the page has not shown it for (it is
    cached per image): from opening `view`, the expander it is in, after a click with it closed, then
    from opening it again (cached: what the page and the browser cost without the server's
    computing); with no `view` (the code before, which drew it on every click), from the click."""
    times: dict[str, list] = {"fresh": [], "cached": []}
    for index in range(first, first + 7 * count, 7):
        if view is None:
            times["fresh"].append(timed(page, click(page, index), None)[0])
            continue
        timed(page, click(page, index))
        summary = page.get_by_test_id("stExpander").filter(has_text=view).locator("summary")
        for kind in ("fresh", "cached"):
            times[kind].append(timed(page, summary.click, None)[0])
            timed(page, summary.click)  # closed again
    return {kind: [t for t in found if t is not None] for kind, found in times.items()}


def percentiles(times: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank); not a number for none."""
    if not times:
        return float("nan"), float("nan")
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Subject:
    """What is measured on one server: its slider's page and that page's heading (the first page
    loaded), its map's page, the caption of the picture a click brings (or the canvas, within an
    element's shadow root, that shows it: `clicked_shadow`), its lens (in the expander
    `lens_view`, drawn on every click: `lens_on_click`, or none), and whether its slider is the
    latent pad's (the code before this workspace had Streamlit's sliders: its slider is not measured)."""

    name: str
    heading: str
    slider_page: str
    map_page: str
    clicked: str
    clicked_shadow: str = ""
    lens_view: str | None = None
    lens_on_click: bool = False
    pad_slider: bool = True


REFERENCE = Subject("bare Streamlit", "Reference", "", "", "test image")
APP = Subject("app", "Generate", "generate", "explore", "", CLICKED_ELEMENT, lens_view=LENS_VIEW)
BEFORE = Subject("before", "Generate", "generate", "explore", RECONSTRUCTION, lens_on_click=True, pad_slider=False)


def measure(url: str, subject: Subject, count: int, lens_opens: int) -> dict:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        load = first_load(page, f"{url}/{subject.slider_page}", subject.heading)
        slider = []
        if subject is REFERENCE:
            slider = slider_latencies(page, count, STREAMLIT_SLIDER, "")
        elif subject.pad_slider:
            expect(page.locator(PAD)).to_have_attribute("data-mode", PAD_READY, timeout=120_000)  # WebAssembly loaded
            slider = slider_latencies(page, count)
        page.goto(f"{url}/{subject.map_page}")
        page.locator(IDLE).wait_for()
        clicks = click_latencies(page, count, subject.clicked, subject.clicked_shadow)
        lens: dict[str, list[float]] = {"fresh": [], "cached": []}
        if subject.lens_view or subject.lens_on_click:  # points past the clicks', whose lenses are cached
            lens = lens_latencies(page, lens_opens, 7 * count + 3, subject.lens_view)
        browser.close()
    return {
        "load": load,
        "slider": percentiles(slider),
        "click": percentiles(clicks["picture"]),
        "idle": percentiles(clicks["idle"]),
        "lens": statistics.median(lens["fresh"]) if lens["fresh"] else float("nan"),
        "lens cached": statistics.median(lens["cached"]) if lens["cached"] else float("nan"),
        "counted": len(clicks["picture"]),
        "lenses": len(lens["fresh"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=30)
    parser.add_argument("--lens-opens", type=int, default=5, help="lenses opened, each for a new image (default 5)")
    parser.add_argument(
        "--before", type=Path, help="another checkout of the app (e.g. a git worktree of older code), served too"
    )
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="browser-latency-"))
    served = [("bench/reference_app.py", REFERENCE, REPO_ROOT), ("streamlit_app.py", APP, REPO_ROOT)]
    served += [("streamlit_app.py", BEFORE, args.before.resolve())] if args.before else []
    results = {}
    for script, subject, root in served:
        env = {"VAE_MODELS_DIR": str(logs / "models")}  # none of the user's: the pretrained bundles
        with streamlit_server(script, logs / f"{subject.name}.log", env, args.server_python, root) as server:
            results[subject.name] = measure(server.url, subject, args.interactions, args.lens_opens) | {
                "start": server.seconds_to_healthy
            }
        print(f"{subject.name}: done (load average {Path('/proc/loadavg').read_text().split()[0]})", file=sys.stderr)
    report(results, args)
    return 0


def report(results: dict[str, dict], args: argparse.Namespace) -> None:
    print(
        f"machine: {machine_description()}; server: {args.server_python}; {args.interactions} interactions each; "
        f"lens: median of {args.lens_opens}; browser: headless chromium; before: {args.before}"
    )
    print("slider: the app's is the latent pad's (its change -> the nearest images), bare Streamlit's st.slider")
    print("click -> picture: the reconstruction (bare Streamlit: its one picture); lens: the app's from opening")
    print("its view, the code before's from the click (it drew the lens on every click)")
    names = list(results)
    print(f"{'':<34}" + "".join(f"{name:>16}" for name in names) + f"{'app / bare':>12}")
    for key, label in (("slider", "slider -> picture"), ("click", "click -> picture"), ("idle", "click -> idle")):
        for index, name in enumerate(("p50", "p95")):
            figures = [results[subject][key][index] for subject in names]
            row = f"{label}, {name} (ms)"
            print(f"{row:<34}" + "".join(f"{f:>16.0f}" for f in figures) + f"{figures[1] / figures[0]:>12.2f}")
    for key, label in (("lens", "lens painted, median (ms)"), ("lens cached", "lens reopened, cached (ms)")):
        print(f"{label:<34}" + "".join(f"{results[n][key]:>16.0f}" for n in names))
    for label, key in (("server start to health (s)", "start"), ("first page load (s)", "load")):
        figures = [results[name][key] for name in names]
        print(f"{label:<34}" + "".join(f"{f:>16.2f}" for f in figures) + f"{figures[1] / figures[0]:>12.2f}")
    print("clicks that changed the picture: " + ", ".join(f"{n} {results[n]['counted']}" for n in names))
    print("lenses painted: " + ", ".join(f"{n} {results[n]['lenses']} of {args.lens_opens}" for n in names[1:]))
    app = results[APP.name]
    for label, figure, target in (
        ("click -> reconstruction p50", app["click"][0], 150),
        ("click -> reconstruction p95", app["click"][1], 250),
        ("click -> idle, lens closed, p95", app["idle"][1], 400),
        ("lens opened -> painted, median", app["lens"], 500),
    ):
        print(f"target: {label} <= {target} ms: {figure:.0f} ms, {'met' if figure <= target else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
