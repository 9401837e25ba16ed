"""Server memory over training runs on an upload: `python -m bench.server_memory`.

Starts `streamlit run` for the app with an empty folder of the user's models, writes a CSV in
Kaggle's MNIST train.csv layout (header `label,pixel0..pixel783`, seeded random pixels, 42,000 rows,
about 90 MB by default) into a temporary folder, and in headless Debian chromium first visits every
page once (the baseline: the server's resident memory then). Then, in the same session, it trains
`--runs` times from the Train page: upload the CSV ("Your own file"), a new model name, Start, wait
for the run's closing message, and read the server's resident memory (`VmRSS` of the server
process). The training process, a child of its own that the Train page starts while the form is
filled in, is watched from /proc while it runs; its peak (`VmHWM`) is reported beside, and what it
holds while it waits for a run, at the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from playwright.async_api import Page, async_playwright

from bench.app_footprint import APP_PAGES, IDLE, MIB, add_settle_option, memory_bytes, settled_memory
from bench.command_line import repeat_command
from tests.streamlit_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    add_server_python_option,
    app_with_own_models,
    descendant_pids,
)
from vae_core.provenance import machine_description

PIXELS = 784
TARGET_BYTES = 50_000_000  # the target: flat within 50 MB after the first run
ERROR_ALERT = '[data-testid="stAlertContentError"]'


def write_digits_csv(path: Path, rows: int, seed: int = 0, nonzero: float = 0.45) -> int:
    """A CSV in Kaggle's MNIST train.csv layout: header `label,pixel0..pixel783`, then one image a
    row, a label 0-9 and 784 pixels, each 0 or (with probability `nonzero`) 1-255. At 0.45 the
    42,000 rows of Kaggle's file take about 90 MB. Returns the file's size in bytes."""
    rng = np.random.default_rng(seed)
    # Each value's spelling with its separator, padded with zero bytes to four.
    spellings = np.zeros((256, 4), np.uint8)
    for value in range(256):
        spelled = f"{value},".encode()
        spellings[value, : len(spelled)] = list(spelled)
    with open(path, "wb") as out:
        out.write(("label," + ",".join(f"pixel{i}" for i in range(PIXELS)) + "\n").encode())
        for start in range(0, rows, 4096):
            n = min(4096, rows - start)
            pixels = rng.integers(1, 256, (n, PIXELS)) * (rng.random((n, PIXELS)) < nonzero)
            cells = spellings[np.column_stack([rng.integers(0, 10, n), pixels])]
            last = cells[:, -1]
            last[last == ord(",")] = ord("\n")  # the row's last separator ends the line
            flat = cells.reshape(-1)
            out.write(flat[flat != 0].tobytes())
    return path.stat().st_size


async def start_training_on_upload(
    page: Page, csv: Path, name: str, *, preset: str, epochs: int, hidden: str = ""
) -> None:
    """On the Train page: "Your own file", upload `csv`, the preset, hidden sizes, epochs and model
    name, then Start; returns once the page shows the run, or raises with the form's refusal."""
    folded = page.get_by_text(re.compile("^Settings of "))  # the form, folded on the last run's end
    if await folded.count():
        await folded.click()
        await page.get_by_role("button", name="Start training").wait_for()
        await page.wait_for_timeout(1000)  # the unfolding's animation, which moves the fields under the pointer
    selectbox = page.get_by_test_id("stMain").get_by_test_id("stSelectbox")
    await selectbox.filter(has=page.get_by_text("Dataset", exact=True)).click()
    await page.get_by_role("option", name="Your own file", exact=True).click()
    await page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv))
    # The chip's button says "Cancel upload of ..." while uploading, "Remove ..." once uploaded.
    await page.get_by_role("button", name=f"Remove {csv.name}", exact=True).wait_for()
    await selectbox.filter(has=page.get_by_text("Preset", exact=True)).click()
    await page.get_by_role("option", name=preset, exact=True).click()
    await page.get_by_label("Hidden sizes", exact=True).fill(hidden)
    await page.get_by_label("Epochs", exact=True).fill(str(epochs))
    await page.get_by_label("Model name", exact=True).fill(name)
    await page.get_by_role("button", name="Start training").click()
    shown = page.get_by_text(f"Run: {name}", exact=True).or_(page.locator(ERROR_ALERT))
    await shown.first.wait_for()
    if await page.locator(ERROR_ALERT).count():
        raise RuntimeError(f"the Train page refused the run: {await page.locator(ERROR_ALERT).first.inner_text()}")


async def wait_for_run_end(page: Page, name: str, timeout_s: float) -> str:
    """Wait until the Train page shows how run `name` ended; returns that message."""
    ended = page.get_by_text(f"Saved as {name}.").or_(page.locator(ERROR_ALERT))
    await ended.first.wait_for(timeout=timeout_s * 1000)
    await page.locator(IDLE).wait_for()
    if await page.locator(ERROR_ALERT).count():
        raise RuntimeError(f"run {name} failed: {await page.locator(ERROR_ALERT).first.inner_text()}")
    return await page.get_by_text(f"Saved as {name}.").first.inner_text()


class ChildPeaks:
    """Polls the resident peak (`VmHWM`) of every process below `pid` from a thread, so a child that
    ends between two reads is still counted up to its last poll."""

    def __init__(self, pid: int, every_s: float = 0.25) -> None:
        self.pid, self.every_s = pid, every_s
        self.peaks: dict[int, int] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._done.wait(self.every_s):
            for pid, _ in descendant_pids(self.pid):
                try:
                    peak = memory_bytes(pid)["peak"]
                except (OSError, KeyError):
                    continue  # ended, or a zombie without memory fields
                self.peaks[pid] = max(peak, self.peaks.get(pid, 0))

    def restart(self) -> None:
        """Forget the peaks seen so far: a run's training process was started before the run."""
        self.peaks.clear()

    def largest(self) -> int:
        """The largest peak since the last `restart`: the run's process, which trains (a process
        started meanwhile for the next run only waits, holding less)."""
        return max(dict(self.peaks).values(), default=0)


async def visit_every_page(page: Page, url: str) -> None:
    """Open the app, then each page once through the sidebar, with the default model."""
    await page.goto(url)
    await page.locator(IDLE).wait_for()
    navigation = page.get_by_test_id("stSidebar").get_by_test_id("stSidebarNav")
    for title in APP_PAGES:
        await navigation.get_by_role("link", name=title, exact=True).click()
        await page.locator(IDLE).wait_for()
        await page.get_by_test_id("stMain").get_by_role("heading").first.wait_for()


async def measure(url: str, pid: int, csv: Path, args: argparse.Namespace) -> dict:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        await visit_every_page(page, url)
        await page.get_by_test_id("stSidebar").get_by_role("link", name="Train", exact=True).click()
        await page.get_by_label("Model name", exact=True).wait_for()
        await page.locator(IDLE).wait_for()
        baseline = settled_memory(pid, args.settle)["resident"]
        waiting = sum(memory_bytes(child)["resident"] for child, _ in descendant_pids(pid))
        runs = []
        with ChildPeaks(pid) as children:
            for run in range(1, args.runs + 1):
                name = f"memory-run-{run}"
                upload = csv.with_name(f"digits-{run}.csv")  # a new file name: a new upload, a new chip
                os.link(csv, upload)
                children.restart()
                started = time.perf_counter()
                await start_training_on_upload(
                    page, upload, name, preset=args.preset, epochs=args.epochs, hidden=args.hidden
                )
                message = await wait_for_run_end(page, name, args.run_timeout)
                seconds = time.perf_counter() - started
                resident = settled_memory(pid, args.settle)["resident"]
                runs.append({"resident": resident, "child_peak": children.largest(), "seconds": seconds})
                print(f"run {run}: {resident / MIB:.0f} MiB after, {seconds:.0f} s; {message}", flush=True)
        await browser.close()
    return {"baseline": baseline, "waiting": waiting, "runs": runs, "peak": memory_bytes(pid)["peak"]}


def report(result: dict, args: argparse.Namespace, csv_bytes: int) -> None:
    runs, baseline = result["runs"], result["baseline"]
    first = runs[0]["resident"]
    print(
        f"machine: {machine_description()}; server: {args.server_python}; browser: headless chromium; "
        f"upload: {args.rows} rows, {csv_bytes / 1e6:.1f} MB; preset {args.preset}, hidden "
        f"{args.hidden or 'default'}, {args.epochs} epoch(s)"
    )
    print(f"server resident memory after every page once, before training (baseline): {baseline / MIB:.0f} MiB")
    waiting = result["waiting"] / MIB
    print(f"the training process waiting for a run then (VmRSS of the server's children): {waiting:.0f} MiB")
    header = f"{'run':>3}{'server RSS after (MiB)':>24}{'vs baseline':>13}{'vs run 1':>10}"
    print(f"{header}{'child peak (MiB)':>18}{'s':>6}")
    for index, run in enumerate(runs, 1):
        resident = run["resident"]
        print(
            f"{index:>3}{resident / MIB:>24.0f}{(resident - baseline) / MIB:>+13.0f}"
            f"{(resident - first) / MIB:>+10.0f}{run['child_peak'] / MIB:>18.0f}{run['seconds']:>6.0f}"
        )
    later = [run["resident"] - first for run in runs[1:]]
    steps = [b["resident"] - a["resident"] for a, b in zip(runs, runs[1:], strict=False)]
    print(f"server peak resident memory (VmHWM) over the whole benchmark: {result['peak'] / MIB:.0f} MiB")
    if later:
        worst = max(later, key=abs)
        verdict = "met" if all(abs(delta) <= TARGET_BYTES for delta in later) else "NOT met"
        print(
            f"after run 1: largest change {worst / MIB:+.0f} MiB, median change per run "
            f"{statistics.median(steps) / MIB:+.0f} MiB; target: within 50 MB (47.7 MiB) of run 1: {verdict}"
        )
    print(repeat_command("bench.server_memory", args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="training runs, one after the other (default 5)")
    parser.add_argument("--rows", type=int, default=42_000, help="images in the CSV (default 42000, ~90 MB)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--preset", default="mlp", help="the Train page's preset (default mlp)")
    parser.add_argument("--hidden", default="64", help="hidden sizes, as typed on the Train page (default 64)")
    add_settle_option(parser)
    parser.add_argument("--run-timeout", type=float, default=900, help="seconds one run may take (default 900)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the CSV's random pixels")
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="server-memory-") as folder:
        work = Path(folder)
        csv_bytes = write_digits_csv(work / "digits.csv", args.rows, args.seed)
        with app_with_own_models(work, args.server_python) as server:
            result = asyncio.run(measure(server.url, server.pid, work / "digits.csv", args))
    report(result, args, csv_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
