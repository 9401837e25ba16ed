"""Home's first paint on a fresh server: `python -m bench.cold_start`.

Each repeat starts `streamlit run streamlit_app.py` afresh, and, started the same way, a one-line
Streamlit app (a title and nothing else), so the ratio says what the app adds over Streamlit itself.
Headless Debian chromium opens each once the health check answers; times are taken inside the page,
from the start of navigation (`performance.now()`) to the heading painted, and for the app to Home's
picture decoded as well. Medians over the repeats; each repeat's servers are new, so nothing is cached.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from bench.command_line import repeat_command
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, add_server_python_option, streamlit_server
from vae_core.provenance import machine_description

REFERENCE = 'import streamlit as st; st.title("Reference")\n'
# Resolves, polled every frame, to the milliseconds since navigation began once `selector` is painted
# with a box (an image: decoded too).
PAINTED = """(selector) => {
    const element = document.querySelector(selector);
    const shown = element && element.getBoundingClientRect().height > 0
        && (element.tagName !== 'IMG' || (element.complete && element.naturalWidth > 0));
    return shown ? performance.now() : false;
}"""
HEADING = '[data-testid="stHeading"] h1'
PICTURE = '[data-testid="stMain"] [data-testid="stImage"] img'


def first_paint(browser: Browser, url: str, selectors: tuple[str, ...]) -> list[float]:
    """Seconds from navigation to each of `selectors` painted, in a new browser context (no cache)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = context.new_page()
        tab.goto(url, wait_until="commit")
        return [
            tab.wait_for_function(PAINTED, arg=selector, polling="raf", timeout=120_000).json_value() / 1000
            for selector in selectors
        ]
    finally:
        context.close()


def cold_start(
    browser: Browser, script: str, selectors: tuple[str, ...], env: dict[str, str], logs: Path, python: str
) -> list[float]:
    """A fresh server of `script` under `python`, measured once: [seconds to its health check, then
    seconds from navigation to each of `selectors` painted]."""
    with streamlit_server(script, logs / f"{Path(script).stem}.log", env, python=python) as server:
        return [server.seconds_to_healthy, *first_paint(browser, server.url, selectors)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh servers of each (default 5)")
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="cold-start-"))
    reference = logs / "reference_app.py"
    reference.write_text(REFERENCE, encoding="utf-8")
    app_env = {"VAE_MODELS_DIR": str(logs / "models")}  # the pretrained bundles only
    app, bare = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.repeats):  # interleaved, so a busy moment on the machine falls on both
            bare.append(cold_start(browser, str(reference), (HEADING,), {}, logs, args.server_python))
            app.append(cold_start(browser, "streamlit_app.py", (HEADING, PICTURE), app_env, logs, args.server_python))
        browser.close()
    print(f"{repeat_command('bench.cold_start', args)}\nmachine: {machine_description()}; server: {args.server_python}")
    print(f"{args.repeats} fresh servers each; seconds, median (min-max); browser: headless chromium")
    print(f"{'':<36}{'app':>20}{'one-line Streamlit':>22}{'ratio':>8}")
    rows = (("launch -> health check", 0), ("navigation -> heading painted", 1), ("navigation -> picture painted", 2))
    for label, column in rows:
        ours = [times[column] for times in app]
        theirs = [times[column] for times in bare] if column < 2 else None
        ratio = f"{statistics.median(ours) / statistics.median(theirs):>8.2f}" if theirs else ""
        print(f"{label:<36}{spread(ours):>20}{spread(theirs) if theirs else '':>22}{ratio}")
    return 0


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"


if __name__ == "__main__":
    sys.exit(main())
