"""Memory and start-up of the app server: `python -m bench.app_footprint`.

Starts `streamlit run` for the app and for `bench/reference_app.py` (bare Streamlit, no model) in one
invocation. For each: seconds from launch to the health check answering and to the first page
shown in headless Debian chromium, and the server's resident memory (Linux /proc). The app is then
driven through every page with every model in its picker, in one browser session as a person
clicks, and its resident memory and peak are read again.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.streamlit_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    RunningServer,
    add_server_python_option,
    streamlit_server,
)
from vae_core.provenance import machine_description

APP_PAGES = ("Home", "Train", "Explore", "Generate", "Encode")
MIB = 1024 * 1024


def memory_bytes(pid: int) -> dict[str, int]:
    """Resident memory now (`VmRSS`) and at its peak (`VmHWM`), in bytes."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) * 1024
    return {"resident": fields["VmRSS"], "peak": fields["VmHWM"]}


def settled_memory(pid: int, settle: float) -> dict[str, int]:
    """`memory_bytes` after `settle` seconds: time for the last rerun's frees to land, which nothing on the
    page shows."""
    time.sleep(settle)
    return memory_bytes(pid)


def add_settle_option(parser: argparse.ArgumentParser) -> None:
    """`--settle`: the seconds `settled_memory` waits."""
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait before reading memory")


def open_first_page(page: Page, server: RunningServer, heading: str) -> tuple[float, float]:
    """Load the server's default page. Seconds from the server's launch until the page is shown,
    and until its script has finished (the app has then loaded its default model)."""
    page.goto(server.url)
    page.get_by_role("heading", name=heading).wait_for()
    shown = time.perf_counter() - server.started
    page.locator(IDLE).wait_for()
    return shown, time.perf_counter() - server.started


def visit_every_page_with_every_model(page: Page) -> list[str]:
    """Pick each model in the sidebar, then open each page through the sidebar's navigation."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").click()
    models = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    for model in models:
        sidebar.get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name=model, exact=True).click()
        page.locator(IDLE).wait_for()
        for title in APP_PAGES:
            sidebar.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
            page.locator(IDLE).wait_for()
            page.get_by_test_id("stMain").get_by_role("heading").first.wait_for()
    return models


def measure(server: RunningServer, heading: str, tour: bool) -> dict:
    idle = memory_bytes(server.pid)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        first_page, first_page_done = open_first_page(page, server, heading)
        after_first = memory_bytes(server.pid)
        models = visit_every_page_with_every_model(page) if tour else []
        browser.close()
    return {
        "healthy": server.seconds_to_healthy,
        "first_page": first_page,
        "first_page_done": first_page_done,
        "idle": idle,
        "after_first": after_first,
        "after_tour": memory_bytes(server.pid),
        "models": models,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app_footprint", description=__doc__.splitlines()[0])
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="app-footprint-"))
    python = args.server_python
    with streamlit_server("bench/reference_app.py", logs / "reference.log", python=python) as server:
        bare = measure(server, "Reference", tour=False)
    # An empty folder of the user's models: the pretrained bundles are what gets loaded.
    app_env = {"VAE_MODELS_DIR": str(logs / "models")}
    with streamlit_server("streamlit_app.py", logs / "app.log", app_env, python=python) as server:
        app = measure(server, "VAE Explorer", tour=True)
    print(f"machine: {machine_description()}; server: {python}; browser: headless chromium; logs in {logs}")
    print(f"app tour: {len(APP_PAGES)} pages x {len(app['models'])} models ({', '.join(app['models'])})")
    print(f"{'':<42}{'app':>10}{'bare Streamlit':>16}{'ratio':>8}")
    timings = (
        ("launch to health check (s)", "healthy"),
        ("launch to first page shown (s)", "first_page"),
        ("launch to first page's script done (s)", "first_page_done"),
    )
    for label, key in timings:
        print(f"{label:<42}{app[key]:>10.2f}{bare[key]:>16.2f}{app[key] / bare[key]:>8.2f}")
    rows = [
        ("resident memory, idle server (MiB)", "idle", "resident"),
        ("resident memory, first page done (MiB)", "after_first", "resident"),
    ]
    for label, stage, kind in rows:
        ours, reference = app[stage][kind] / MIB, bare[stage][kind] / MIB
        print(f"{label:<42}{ours:>10.0f}{reference:>16.0f}{ours / reference:>8.2f}")
    print(f"{'resident memory, after the tour (MiB)':<42}{app['after_tour']['resident'] / MIB:>10.0f}")
    print(f"{'peak resident memory (MiB)':<42}{app['after_tour']['peak'] / MIB:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
