"""Many users at once while a model trains: `python -m bench.many_users`.

Starts `streamlit run` for the app with an empty folder of the user's models, and drives one
headless Debian chromium (Playwright, async) with a browser context per user. After one session
has opened the Generate page once (the server has then imported TensorFlow and loaded the model),
the reference: one session opens Generate and moves the latent pad's slider for z0 `--moves` times,
nothing else going. Then `--sessions` sessions do the same at once, with no training. Then the
first session starts a training run from the Train page on an uploaded CSV (Kaggle's MNIST layout,
seeded random pixels) and stays on that page, which redraws the run's progress every second; once
the run is through its first batches, `--sessions` new sessions open Generate at the same moment
and move the slider `--moves` times each, concurrently. Slider latency is bench.browser_latency's:
a key press on the pad's slider (whose change sends z to Python, as a release of the pad does) to
the nearest test images Python draws beside the pad, decoded and painted, timed inside each page;
opening is `goto` to the heading shown and the page's script done (the moves start once the pad
has loaded its WebAssembly decoder). The browser runs on the server's machine: each phase reports
what share of the processors the server, the training run, chromium and other processes took.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright, expect

from bench.browser_latency import ARM, IDLE, NEAREST, PAD, PAD_READY, PAD_SLIDER, percentiles
from bench.command_line import repeat_command
from bench.server_memory import start_training_on_upload, write_digits_csv
from tests.streamlit_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    add_server_python_option,
    app_with_own_models,
    descendant_pids,
)
from vae_core.provenance import machine_description

TARGET_P95_MS = 500
VIEWPORT = {"width": 1400, "height": 1000}
PAGE_TIMEOUT_MS = 180_000
TRAINING = re.compile(r"Epoch (?P<epoch>\d+) of \d+, batch (?P<batch>\d+)")


async def open_generate(browser: Browser, url: str) -> tuple[Page, float]:
    """A new browser session on the Generate page; seconds until its heading shows and its script ends."""
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(f"{url}/generate")
    await page.get_by_role("heading", name="Generate").wait_for()
    await page.locator(IDLE).wait_for()
    return page, time.perf_counter() - started


async def slider_latencies(page: Page, moves: int) -> list[float | None]:
    """bench.browser_latency's pad slider measurement, for the async API; None for a move whose
    picture did not change within 10 s (kept, so that a lost move is counted, not dropped)."""
    await expect(page.locator(PAD)).to_have_attribute("data-mode", PAD_READY, timeout=PAGE_TIMEOUT_MS)
    handle = page.locator(PAD_SLIDER).first
    await handle.focus()
    times = []
    for index in range(moves):
        await page.evaluate(ARM, NEAREST)  # the nearest images: Python's answer to the slider's change
        await handle.press("ArrowRight" if index % 20 < 10 else "ArrowLeft")
        times.append(await page.evaluate("window.__latency"))
        await page.locator(IDLE).wait_for()
    return times


async def user(browser: Browser, url: str, moves: int) -> dict:
    """One session: open Generate, move the slider; the session stays open."""
    page, opened = await open_generate(browser, url)
    return {"open": opened, "times": await slider_latencies(page, moves), "page": page}


async def users(browser: Browser, url: str, sessions: int, moves: int, server_pid: int) -> dict:
    """`sessions` users opening Generate at the same moment and moving its slider, concurrently;
    with each process group's share of the machine's processors meanwhile."""
    before, started = cpu_seconds(server_pid), time.perf_counter()
    runs = list(await asyncio.gather(*(user(browser, url, moves) for _ in range(sessions))))
    wall = time.perf_counter() - started
    after = cpu_seconds(server_pid)  # before the sessions close: their renderers' time is counted
    for run in runs:
        await run.pop("page").context.close()
    shares = {
        group: sum(after[group].get(key, 0.0) - before[group].get(key, 0.0) for key in after[group])
        / (wall * os.cpu_count())
        for group in after
    }
    shares["other processes"] = shares.pop("whole machine") - sum(shares.values())
    return summary(runs) | {"cpu": shares, "wall": wall}


def cpu_seconds(server_pid: int) -> dict[str, dict[tuple[int, int], float]]:
    """Processor seconds used so far (user + system, Linux /proc) by each process and its ended
    children, grouped: the server process, its children (the training run), the browser with
    Playwright's driver, and this process; keyed by (pid, start time). And the whole machine's
    busy seconds, which, less these, are what other processes used."""
    server_tree = descendant_pids(server_pid)
    mine = descendant_pids(os.getpid())
    server = [entry for entry in mine if entry[0] == server_pid]
    browser = [entry for entry in mine if entry[0] != server_pid and entry not in server_tree]
    groups = {"server": server, "training": server_tree, "chromium + driver": browser, "benchmark": [(os.getpid(), 0)]}
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, dict[tuple[int, int], float]] = {}
    for group, processes in groups.items():
        used[group] = {}
        for pid, start in processes:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # ended
            # Its own time and its ended children's (a closed page's renderer, reaped by chromium).
            used[group][(pid, start)] = sum(int(value) for value in fields[11:15]) / ticks
    with open("/proc/stat", encoding="ascii") as stat:
        counters = [int(value) for value in stat.readline().split()[1:]]
    idle = counters[3] + counters[4]  # idle and waiting for I/O
    used["whole machine"] = {(0, 0): (sum(counters[:7]) - idle) / ticks}  # user to softirq; guests are in user
    return used


async def training_stage(page: Page) -> str:
    """What the Train page's progress shows now: its text, e.g. 'Epoch 2 of 1000, batch 12 of 85'."""
    bar = page.get_by_test_id("stProgress")
    return await bar.first.inner_text() if await bar.count() else ""


async def measure(url: str, server_pid: int, csv: Path, args: argparse.Namespace) -> dict:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The training session. Its first visit to Generate imports TensorFlow and loads the model,
        # so the sessions measured after it open a warm server, as users after the first do.
        trainer, cold_open = await open_generate(browser, url)
        alone = await users(browser, url, 1, args.moves, server_pid)
        crowd = await users(browser, url, args.sessions, args.moves, server_pid)
        await trainer.goto(f"{url}/train")
        await trainer.get_by_label("Model name", exact=True).wait_for()
        await start_training_on_upload(trainer, csv, "many-users-run", preset=args.preset, epochs=args.train_epochs)
        started = time.perf_counter()
        # Training is going once the child has imported Keras, built the model and reports batches.
        while not (progress := TRAINING.search(await training_stage(trainer))) or progress["batch"] == "0":
            if time.perf_counter() - started > 300:
                raise TimeoutError("the training run did not start within 300 s")
            await asyncio.sleep(0.5)
        at_start = progress.group(0)
        loaded = await users(browser, url, args.sessions, args.moves, server_pid)
        at_end = await training_stage(trainer)
        await browser.close()
    return {"cold_open": cold_open, "phases": (loaded, crowd, alone), "training": (at_start, at_end)}


def summary(runs: list[dict]) -> dict:
    times = [t for run in runs for t in run["times"]]
    counted = [t for t in times if t is not None]
    opens = sorted(run["open"] for run in runs)
    return {
        "slider": percentiles(counted) if counted else (float("nan"),) * 2,
        "moves": len(times),
        "lost": len(times) - len(counted),
        "open": (statistics.median(opens), opens[-1]),
    }


def report(result: dict, args: argparse.Namespace, csv_bytes: int) -> None:
    phases = result["phases"]
    loaded = phases[0]
    print(
        f"machine: {machine_description()}; server: {args.server_python}; browser: one headless chromium, "
        f"a context per session; training: preset {args.preset} on an uploaded CSV of {args.rows} rows "
        f"({csv_bytes / 1e6:.1f} MB), {args.train_epochs} epochs (stopped when the benchmark ends)"
    )
    titles = (f"{args.sessions} sessions + training", f"{args.sessions} sessions", "1 session")
    print(f"{'':<38}{titles[0]:>24}{titles[1]:>14}{titles[2]:>11}{'ratio':>7}")
    rows = (
        ("slider -> picture, p50 (ms)", "slider", 0, 0),
        ("slider -> picture, p95 (ms)", "slider", 1, 0),
        ("open Generate, median (s)", "open", 0, 2),
        ("open Generate, slowest (s)", "open", 1, 2),
    )
    for label, key, index, digits in rows:
        figures = [phase[key][index] for phase in phases]
        print(
            f"{label:<38}{figures[0]:>24.{digits}f}{figures[1]:>14.{digits}f}{figures[2]:>11.{digits}f}"
            f"{figures[0] / figures[2]:>7.2f}"
        )
    counts = [f"{phase['moves']} ({phase['lost']})" for phase in phases]
    print(f"{'moves measured (no picture in 10 s)':<38}{counts[0]:>24}{counts[1]:>14}{counts[2]:>11}")
    print("ratio: with the load against 1 session with no training, measured in the same run")
    for phase, title in zip(phases, titles, strict=True):
        shares = ", ".join(f"{group} {share:.0%}" for group, share in phase["cpu"].items())
        print(f"processor use, {title} ({phase['wall']:.0f} s, share of {os.cpu_count()} CPUs): {shares}")
    print(f"first open of Generate on the fresh server (TensorFlow and model loaded): {result['cold_open']:.2f} s")
    at_start, at_end = result["training"]
    going = TRAINING.search(at_end)
    print(f"training run: at {at_start} when the sessions opened Generate, at {going[0] if going else at_end!r} after")
    verdict = "met" if loaded["slider"][1] <= TARGET_P95_MS and not loaded["lost"] else "NOT met"
    print(f"target: slider p95 <= {TARGET_P95_MS} ms with {args.sessions} sessions and a run going: {verdict}")
    print(repeat_command("bench.many_users", args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.many_users", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=12, help="concurrent sessions on Generate (default 12)")
    parser.add_argument("--moves", type=int, default=20, help="slider moves per session (default 20)")
    parser.add_argument("--rows", type=int, default=12_000, help="images in the uploaded CSV (default 12000)")
    parser.add_argument("--preset", default="conv", help="the training run's preset (default conv, the form's)")
    parser.add_argument(
        "--train-epochs", type=int, default=1000, help="epochs asked for; the run is ended with the benchmark"
    )
    parser.add_argument("--timeout", type=float, default=1200, help="seconds before the benchmark gives up")
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="many-users-") as folder:
        work = Path(folder)
        csv_bytes = write_digits_csv(work / "digits.csv", args.rows)
        with app_with_own_models(work, args.server_python) as server:
            result = asyncio.run(
                asyncio.wait_for(measure(server.url, server.pid, work / "digits.csv", args), args.timeout)
            )
    report(result, args, csv_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
