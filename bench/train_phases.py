"""What a quick run on the Train page costs, phase by phase, as a person sees it: `python -m bench.train_phases`.

Serves the app with an empty models folder, opens the Train page in headless Debian chromium at
1400 x 1000, fills the form as a person would (MNIST, preset `mlp`, `--epochs` epochs, the rest at
its defaults), taking `--think` seconds over it, and reads the progress text every 0.1 s, noting
when each phase first shows: training started (the first "Epoch" text), its first batch, the
evaluation (and the longest its bar stood still), the end. Repeats `--runs` times on one server and
prints each run's seconds from Start with the medians, and the page's own account of each step
where it gives one ("Took ...").
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench.app_footprint import IDLE
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, add_server_python_option, app_with_own_models
from vae_core.provenance import machine_description

ENDED = re.compile(r"Saved as |failed|cannot", re.IGNORECASE)
PHASES = ("training", "first batch", "evaluating", "ended")


def start_run(page: Page, url: str, name: str, epochs: int, think: float) -> float:
    """Open Train, fill the form for a quick MLP run on MNIST over `think` seconds, click Start; the
    click's time."""
    page.goto(f"{url}/train")
    page.get_by_role("heading", name="Train a VAE").wait_for()
    page.locator(IDLE).wait_for()
    page.wait_for_timeout(think * 1000)
    folded = page.get_by_text(re.compile("^Settings of "))  # the form, folded on the last run's end
    if folded.count():
        folded.click()
        page.get_by_role("button", name="Start training").wait_for()
        page.wait_for_timeout(1000)  # the unfolding's animation, which moves the fields under the pointer
    page.get_by_test_id("stSelectbox").filter(has_text="Preset").click()
    page.get_by_role("option", name="mlp", exact=True).click()
    page.get_by_label("Epochs", exact=True).fill(str(epochs))
    page.get_by_label("Model name", exact=True).fill(name)
    clicked = time.perf_counter()
    page.get_by_role("button", name="Start training").click()
    return clicked


def watch(page: Page, clicked: float, name: str, epochs: int) -> dict[str, float]:
    """Seconds from Start to each phase's first sight, and the longest the evaluation's bar stood still."""
    page.get_by_text(f"Run: {name}").wait_for()  # until then the page may show the previous run's end
    seen: dict[str, float] = {}
    last_percent, still_since, longest_still = None, 0.0, 0.0
    while "ended" not in seen:
        now = time.perf_counter() - clicked
        text = page.locator("body").inner_text()
        if re.search(rf"Epoch 1 of {epochs}", text):
            seen.setdefault("training", now)
        if re.search(rf"Epoch 1 of {epochs}, batch [1-9]", text):
            seen.setdefault("first batch", now)
        percent = re.search(r"valuating[^\n]*?(\d+)%", text)
        if percent:
            seen.setdefault("evaluating", now)
            if percent.group(1) != last_percent:
                last_percent, still_since = percent.group(1), now
            longest_still = max(longest_still, now - still_since)
        if ENDED.search(text):
            seen["ended"] = now
        if now > 900:
            raise TimeoutError(f"no end after 900 s; the page says: {text[-400:]}")
        page.wait_for_timeout(100)
    took = re.search(r"Took [^\n]*", page.locator("body").inner_text())
    print(took.group(0) if took else "(the page gives no account of its steps)")
    return seen | {"evaluation still": longest_still}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_phases", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--think", type=float, default=15.0, help="seconds spent on the form before Start")
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    runs = []
    with (
        tempfile.TemporaryDirectory(prefix="train-phases-") as work,
        app_with_own_models(Path(work), args.server_python) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        for run in range(args.runs):
            clicked = start_run(page, server.url, f"phases-{run}", args.epochs, args.think)
            runs.append(watch(page, clicked, f"phases-{run}", args.epochs))
        browser.close()
    print(
        f"machine: {machine_description()}; {args.epochs}-epoch mlp on MNIST from the Train page, {args.think:g} s"
        " on the form; seconds from Start"
    )
    columns = [*PHASES, "evaluation still"]
    print("run  " + "".join(f"{name:>18}" for name in columns))
    for index, seen in enumerate(runs, start=1):
        print(f"{index:<5}" + "".join(f"{seen.get(name, float('nan')):>18.1f}" for name in columns))
    medians = [statistics.median(seen.get(name, float("nan")) for seen in runs) for name in columns]
    print("med  " + "".join(f"{value:>18.1f}" for value in medians))
    return 0


if __name__ == "__main__":
    sys.exit(main())
