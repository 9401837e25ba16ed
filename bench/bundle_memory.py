"""Server memory of the largest bundle the app accepts: `python -m bench.bundle_memory`.

Saves into a temporary models folder an untrained `mlp` bundle (hidden size 8, as a hostile bundle
may be) whose atlas is at the caps of `vae_core.size_limits`: `most_test_images` rows of seeded
random uint8 images (64x64x3 and latent size 16 by default: 5,461 rows, 64 MiB of images), checked
by `check_bundle`. Then, per repeat, a fresh `streamlit run` serves that folder, and headless Debian
chromium opens Home, Explore, Generate and Encode with the default pretrained model, twice (each a
new session through its address, waiting for the script to end): the server's `VmRSS` then is the
steady state. Then Explore, Generate and Encode through a link naming the bundle (`?model=NAME`),
and Explore again coloured by negative ELBO (scoring every test image), `VmRSS` read after each.
Each stage's growth is its reading less the steady state, its peak its `VmHWM` (reset as the stage
starts, through Linux's clear_refs) less the steady state. Medians over `--repeats` fresh servers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, sync_playwright

from bench.app_footprint import IDLE, MIB, add_settle_option, settled_memory
from bench.command_line import repeat_command
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, add_server_python_option, app_with_own_models
from tests.synthetic import bundle_meta
from vae_core.provenance import machine_description
from vae_core.size_limits import most_test_images

TARGET_BYTES = 200_000_000  # issue 24: growth from any single upload or bundle within 200 MB of steady
BUNDLE_NAME = "largest-atlas"
DEFAULT_MODEL = "mnist-conv-2d"  # the app's flagship (vae_app.model_picker.DEFAULT_MODEL)
HEADINGS = {"": "VAE Explorer", "explore": "Explore the latent space", "generate": "Generate",
            "encode": "Encode your own digit"}  # fmt: skip
ELBO_STAGE = "Explore by −ELBO"  # the scatter coloured by negative ELBO: every test image scored
STAGES = {"Explore": "explore", "Generate": "generate", "Encode": "encode", ELBO_STAGE: "explore"}
# The points of every trace on the page's first Plotly chart, once Plotly has laid it out.
SCATTER_POINTS = """() => {
    const plot = document.querySelector('.js-plotly-plot');
    if (!plot || !plot._fullLayout || !plot._fullData) return 0;
    return plot._fullData.reduce((n, trace) => n + (trace.x ? trace.x.length : 0), 0);
}"""


def save_largest_bundle(models: Path, image_shape: tuple[int, int, int], latent_dim: int, seed: int) -> dict:
    """Save the bundle at the atlas caps under `models`; its row count and its atlas's bytes."""
    from vae_core.bundles.archives import check_bundle
    from vae_core.bundles.bundle import build_atlas, save_bundle  # imports TensorFlow: only here
    from vae_core.config import ModelConfig, TrainConfig
    from vae_core.model.codec import LatentCodec
    from vae_core.model.vae import build_vae

    config = TrainConfig(
        ModelConfig(preset="mlp", image_shape=image_shape, latent_dim=latent_dim, hidden_sizes=(8,)), epochs=1
    )
    rows, rng = most_test_images(image_shape), np.random.default_rng(seed)
    images = rng.integers(0, 256, (rows, *image_shape), dtype=np.uint8)
    labels = rng.integers(0, 10, rows)
    model = build_vae(config.model, seed=seed)
    atlas = build_atlas(LatentCodec(model), images, labels)
    meta = bundle_meta(config, rows, [str(label) for label in range(10)])
    check_bundle(save_bundle(models / BUNDLE_NAME, model, meta, atlas))
    arrays = atlas.to_arrays().values()
    return {"rows": rows, "images": atlas.images.nbytes, "atlas": sum(array.nbytes for array in arrays)}


def open_page(page: Page, url: str, path: str, model: str | None = None, points: int = 1) -> None:
    """Open a page from its address (a new session), wait for its heading, for its script to end and,
    on Explore, for `points` points on the scatter; raise if it shows an error or another model."""
    page.goto(f"{url}/{path}" + (f"?model={model}" if model else ""))
    page.get_by_role("heading", name=HEADINGS[path]).first.wait_for()
    page.locator(IDLE).wait_for()
    if path == "explore":
        page.wait_for_function(f"() => ({SCATTER_POINTS})() >= {points}")
    check_page(page, model or DEFAULT_MODEL)


def check_page(page: Page, model: str) -> None:
    """Raise if the page shows an exception or an error, or the sidebar another model than `model`."""
    problems = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    if problems.count():
        raise RuntimeError(f"the page shows an error: {problems.first.inner_text()}")
    picked = page.get_by_role("combobox", name="Model").input_value()  # "NAME (pretrained)" for a shipped one
    if picked.removesuffix(" (pretrained)") != model:
        raise RuntimeError(f"the sidebar shows {picked!r}, not {model!r}")


def colour_by_elbo(page: Page, rows: int) -> None:
    """On Explore: colour the scatter by negative ELBO, which scores every test image on the server."""
    page.get_by_test_id("stMain").get_by_text("negative ELBO", exact=True).click()
    page.locator(".js-plotly-plot .colorbar").first.wait_for()
    page.locator(IDLE).wait_for()
    page.wait_for_function(f"() => ({SCATTER_POINTS})() >= {rows}")
    check_page(page, BUNDLE_NAME)


def reset_peak(pid: int) -> None:
    """Set the process's peak (`VmHWM`) to its resident memory now (Linux's clear_refs, value 5), so
    the peak read later is that of what happened since."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def measure(url: str, pid: int, rows: int, settle: float) -> dict:
    """The steady state with the default model, then each stage with the bundle: resident memory after
    each stage and its peak."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(300_000)
        tours = []
        for _ in range(2):  # the second tour finds every cache filled: what stays is the steady state
            for path in ("", "explore", "generate", "encode"):
                open_page(page, url, path)
            tours.append(settled_memory(pid, settle)["resident"])
        after, peaks = [], []
        for stage in STAGES:
            reset_peak(pid)
            open_page(page, url, STAGES[stage], BUNDLE_NAME, points=rows)
            if stage == ELBO_STAGE:
                colour_by_elbo(page, rows)
            memory = settled_memory(pid, settle)
            after.append(memory["resident"])
            peaks.append(memory["peak"])
        browser.close()
    return {"first_tour": tours[0], "steady": tours[1], "after": after, "peaks": peaks}


def median_run(runs: list[dict]) -> dict:
    """A row of medians: of the tours and seconds, and of each stage's growth over its own server's
    steady state (added back to the median steady state, so the row reads as the others)."""
    middle = {key: statistics.median(run[key] for run in runs) for key in ("first_tour", "steady", "seconds")}
    for key in ("after", "peaks"):
        grown = [statistics.median(run[key][i] - run["steady"] for run in runs) for i in range(len(STAGES))]
        middle[key] = [middle["steady"] + value for value in grown]
    return middle


def print_table(runs: list[dict]) -> None:
    print(f"server RSS (MiB) after each tour of {DEFAULT_MODEL}; then MiB above the steady state (tour 2) after")
    print("each stage with the bundle, and at that stage's peak (VmHWM, reset as the stage starts):")
    titles = "".join(f"{stage:>18}" for stage in STAGES)
    print(f"{'server':<8}{'tour 1':>8}{'steady':>8}{'':>7}{titles}{'s':>6}")
    named = [(str(index), run) for index, run in enumerate(runs, 1)]
    for name, run in named + ([("median", median_run(runs))] if len(runs) > 1 else []):
        after = "".join(f"{(value - run['steady']) / MIB:>+18.0f}" for value in run["after"])
        peaks = "".join(f"{(value - run['steady']) / MIB:>+18.0f}" for value in run["peaks"])
        tours = f"{run['first_tour'] / MIB:>8.0f}{run['steady'] / MIB:>8.0f}"
        print(f"{name:<8}{tours}{'after':>7}{after}{run['seconds']:>6.0f}")
        print(f"{'':<24}{'peak':>7}{peaks}")


def report(runs: list[dict], bundle: dict, args: argparse.Namespace) -> None:
    print(f"machine: {machine_description()}; server: {args.server_python}; browser: headless chromium")
    print(
        f"bundle: {BUNDLE_NAME}, untrained mlp (hidden 8), images {args.image_shape}, latent {args.latent_dim}; atlas "
        f"{bundle['rows']:,} rows, images {bundle['images'] / MIB:.1f} MiB, all arrays {bundle['atlas'] / MIB:.1f} MiB"
    )
    print_table(runs)
    growth = statistics.median(run["after"][-1] - run["steady"] for run in runs)
    peak = statistics.median(max(run["peaks"]) - run["steady"] for run in runs)
    for what, value in (("growth after the last stage", growth), ("highest peak", peak)):
        verdict = "met" if value <= TARGET_BYTES else "NOT met"
        print(f"median {what}: {value / MIB:+.0f} MiB; target <= 200 MB ({TARGET_BYTES / MIB:.1f} MiB): {verdict}")
    print(repeat_command("bench.bundle_memory", args))


def image_shape(text: str) -> tuple[int, int, int]:
    """'64,64,3' -> (64, 64, 3), for `--image-shape`."""
    height, width, channels = (int(part) for part in text.split(","))
    return height, width, channels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bundle_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh servers, one after the other (default 3)")
    parser.add_argument("--image-shape", type=image_shape, default=(64, 64, 3), help="height,width,channels")
    parser.add_argument("--latent-dim", type=int, default=16)
    add_settle_option(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of the images, labels and weights")
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bundle-memory-") as folder:
        work = Path(folder)
        bundle = save_largest_bundle(work / "models", args.image_shape, args.latent_dim, args.seed)
        print(f"saved {BUNDLE_NAME}: {bundle['rows']:,} rows, {bundle['images'] / MIB:.1f} MiB of images", flush=True)
        runs = []
        for repeat in range(1, args.repeats + 1):
            started = time.perf_counter()
            with app_with_own_models(work, args.server_python) as server:
                run = measure(server.url, server.pid, bundle["rows"], args.settle)
            runs.append({**run, "seconds": time.perf_counter() - started})
            growth = (run["after"][-1] - run["steady"]) / MIB
            print(f"server {repeat}: steady {run['steady'] / MIB:.0f} MiB, growth {growth:+.0f} MiB", flush=True)
    report(runs, bundle, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
