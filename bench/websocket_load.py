"""Many people at once, without a browser each: `python -m bench.websocket_load`.

Starts `streamlit run` for the app (headless, a free port, an empty folder of the user's models)
and connects simulated sessions to it that speak Streamlit's own websocket protocol
(`bench.streamlit_client`: the protobuf messages of `streamlit.proto`, as the frontend sends them).
Each session opens Explore on the flagship (`explore?model=mnist-conv-2d`), then makes `--gestures`
gestures at a person's pace (a seeded pause of 1 to 3 s after each answer): `--per-page` clicks on
random points of the scatter, then it goes to Generate and makes as many releases of the latent pad
at random points, then back, and so on. A click is timed from its message to the ForwardMsg that
carries the server's answer: the clicked image's element given that selection (a browser has drawn
the image already; the server's rerun is what the lens and directions wait for); a release to the
one that carries the nearest images' caption for the released z; a page change to the end of its
script run.

Phases, all on one server: a reference, 1 session with nothing else going (a lone session makes
`--solo-gestures`, so that its p95 rests on more than a handful); then each of `--sessions` above 1
at once with no training (unless `--skip-idle`); then a training run is started from the Train
page's form, over the protocol, by one more session that stays on the Train page (whose progress
redraws every second), and each of `--sessions` at once again while it trains. The simulated
sessions run in this process, on the server's machine: each phase reports what share of the
processors the server, the training run, this process and other processes took.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.command_line import repeat_command
from bench.streamlit_client import (
    StreamlitSession,
    component_data,
    plotly_points,
    trigger_state,
)
from tests.streamlit_server import REPO_ROOT, add_server_python_option, app_with_own_models, descendant_pids
from vae_core.provenance import machine_description
from vae_core.wording import count

EXPLORE = "explore?model=mnist-conv-2d"
SCATTER_KEY = "explore_scatter"
NEAREST = re.compile(rb"nearest test images to ([^:]*):")
TRAINING = re.compile(rb"Epoch (\d+) of (\d+), batch (\d+)")
TARGET_P95_MS = 500


async def click(session: StreamlitSession, rng: random.Random, timeout: float) -> tuple[float | None, bool]:
    """Click a random point of Explore's scatter, as the clicked image's element reports it once the
    browser has drawn it: seconds to the server's answer, that element given the selection (or to the
    run's end where it did not come), and whether it came."""
    chart = session.find("plotly_chart", lambda element: element.proto.id.endswith(SCATTER_KEY))
    clicked = session.find("bidi_component", lambda element: element.proto.component_name.endswith("clicked_image"))
    point = rng.choice(plotly_points(chart.proto.spec))
    index = point[4][0] if isinstance(point[4], list) else point[4]
    report = {"index": int(index), "signature": component_data(clicked)["signature"]}
    answered = re.compile(rf'"selection": ?"{index}"'.encode())
    answer = await session.rerun(
        [trigger_state(clicked, "click", report)],
        fragment_id=clicked.fragment_id,
        marker=lambda raw: answered.search(raw) is not None,
        timeout=timeout,
    )
    return (answer.marker if answer.marker is not None else answer.finished), answer.marker is not None


async def release(session: StreamlitSession, rng: random.Random, timeout: float) -> tuple[float | None, bool]:
    """Release Generate's latent pad at a random z within the test set's ranges: seconds to the
    nearest images' caption for that z (or to the run's end), and whether that caption came."""
    pad = session.find("bidi_component", lambda element: element.proto.component_name.endswith("latent_pad"))
    data = component_data(pad)
    z = np.float32([rng.uniform(low, high) for low, high in data["dimension_ranges"]])  # the pad's Float32Array
    place = np.asarray(data["axes"]) @ (z - np.asarray(data["base"]))  # where the caption says it is
    place = place[:1] if data["is_line"] else place

    def names_place(raw: bytes) -> bool:
        found = NEAREST.search(raw)
        numbers = [float(n) for n in re.findall(rb"= (-?[0-9.]+)", found.group(1))] if found else []
        return len(numbers) == len(place) and all(abs(a - b) <= 0.011 for a, b in zip(numbers, place, strict=True))

    answer = await session.rerun(
        [trigger_state(pad, "z", z.tolist())], fragment_id=pad.fragment_id, marker=names_place, timeout=timeout
    )
    return (answer.marker if answer.marker is not None else answer.finished), answer.marker is not None


async def person(session: StreamlitSession, rng: random.Random, gestures: int, args: argparse.Namespace) -> dict:
    """`gestures` at a person's pace, on the Explore page `session` has opened. A gesture that
    cannot be made (its page did not come back in time, so its widget is missing) counts as lost."""
    times: dict[str, list] = {"click": [], "release": [], "switch": [], "captionless": []}
    await asyncio.sleep(rng.uniform(0, args.pace[1]))  # people do not start in step
    page = "explore"
    for gesture in range(gestures):
        if gesture and gesture % args.per_page == 0:
            page = "generate" if page == "explore" else "explore"
            try:
                times["switch"].append(await session.switch_page(page, timeout=args.timeout))
            except TimeoutError:
                times["switch"].append(None)
        kind, act = ("click", click) if page == "explore" else ("release", release)
        try:
            seconds, captioned = await act(session, rng, args.timeout)
        except KeyError:
            seconds, captioned = None, False
        times[kind].append(seconds)
        if seconds is not None and not captioned:
            times["captionless"].append(kind)
        await asyncio.sleep(rng.uniform(*args.pace))
    return times


async def crowd(url: str, size: int, args: argparse.Namespace, server_pid: int, seed: str) -> dict:
    """`size` sessions opening Explore at the same moment, then making their gestures concurrently;
    with each process group's share of the processors during the gestures."""
    sessions = [StreamlitSession(url) for _ in range(size)]
    opened = await asyncio.gather(*(session.open(EXPLORE) for session in sessions))
    before, started = cpu_seconds(server_pid), time.perf_counter()
    gestures = args.gestures if size > 1 else args.solo_gestures  # enough for a lone session's p95
    runs = await asyncio.gather(
        *(person(tab, random.Random(f"{seed}-{index}"), gestures, args) for index, tab in enumerate(sessions))
    )
    wall = time.perf_counter() - started
    after = cpu_seconds(server_pid)
    await asyncio.gather(*(session.close() for session in sessions))
    shares = {group: (after[group] - before[group]) / (wall * os.cpu_count()) for group in after}
    shares["other processes"] = shares.pop("whole machine") - sum(shares.values())
    merged = {kind: [t for run in runs for t in run[kind]] for kind in runs[0]}
    return {"sessions": size, "open": sorted(opened), "cpu": shares, "wall": wall, **merged}


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """Processor seconds used so far (Linux /proc, user + system, with ended children) by the server
    process, by its children (the training run), by this process (the simulated sessions), and by
    the whole machine."""
    ticks = os.sysconf("SC_CLK_TCK")

    def used(pid: int, own_only: bool = False) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0  # ended
        return sum(int(value) for value in fields[11 : 13 if own_only else 15]) / ticks

    with open("/proc/stat", encoding="ascii") as stat:
        counters = [int(value) for value in stat.readline().split()[1:]]
    return {
        "server": used(server_pid, own_only=True),  # its children are the training run's
        "training": sum(used(pid) for pid, _ in descendant_pids(server_pid)),
        "simulated sessions": used(os.getpid()),
        "whole machine": (sum(counters[:7]) - counters[3] - counters[4]) / ticks,  # less idle and I/O wait
    }


async def start_training(url: str, args: argparse.Namespace) -> tuple[StreamlitSession, dict]:
    """One more session opens Train, fills the form (preset, epochs, a name) and sends it, then
    stays on the page, which redraws the run's progress every second; once the run reports
    batches, it returns with `progress`, the latest progress text it showed."""
    trainer, progress = StreamlitSession(url), {"text": b""}
    trainer.watch = lambda raw: (found := TRAINING.search(raw)) and progress.update(text=found.group(0))
    await trainer.open("train")
    settings = [
        WidgetState(id=trainer.labelled("Preset").proto.id, string_value=args.preset),
        WidgetState(id=trainer.labelled("Epochs").proto.id, double_value=args.train_epochs),
        WidgetState(id=trainer.labelled("Model name").proto.id, string_value="load-run"),
        WidgetState(id=trainer.labelled("Start training").proto.id, trigger_value=True),
    ]
    await trainer.rerun(settings, marker=None, timeout=120)
    started = time.perf_counter()
    while not (found := TRAINING.search(progress["text"])) or found.group(3) == b"0":
        if time.perf_counter() - started > 300:
            raise TimeoutError("the training run reported no batches within 300 s: see the server log")
        await asyncio.sleep(0.5)
    return trainer, progress


async def measure(url: str, server_pid: int, args: argparse.Namespace) -> dict:
    """Every phase `--rounds` times: (sessions, training) -> one result per round."""
    warm = StreamlitSession(url)  # imports TensorFlow, loads the model, prepares the pad's decoder
    cold_open = await warm.open(EXPLORE) + await warm.switch_page("generate")
    await warm.close()
    idle = [1] + ([] if args.skip_idle else [size for size in args.sessions if size > 1])  # 1: the reference
    phases: dict[tuple[int, bool], list[dict]] = {}
    progress = {"text": b""}
    for training, sizes in ((False, idle), (True, args.sessions)):
        trainer = None
        if training:
            trainer, progress = await start_training(url, args)
        for round_ in range(args.rounds):
            for size in sizes:
                at_start = progress["text"].decode()
                phase = await crowd(url, size, args, server_pid, f"{args.seed}-{round_}-{size}-{training}")
                phases.setdefault((size, training), []).append(
                    phase | {"epochs": (at_start, progress["text"].decode())}
                )
                print(f"round {round_ + 1}, {count(size, 'session')}, training {training}: {phase['wall']:.0f} s",
                      file=sys.stderr)  # fmt: skip
        if trainer is not None:
            await trainer.close()
    return {"cold_open": cold_open, "phases": phases}


def p50_p95(times: list[float | None]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank, as bench.browser_latency) of the answered, in ms."""
    ordered = sorted(t for t in times if t is not None)
    if not ordered:
        return float("nan"), float("nan")
    return 1000 * statistics.median(ordered), 1000 * ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(rounds: list[dict]) -> dict[str, float]:
    """A phase's figures, each the median over its rounds: p50 and p95 of clicks, releases and page
    changes (ms), the median open (s), the share of the processors each process group took."""
    figures: dict[str, list[float]] = {}
    for phase in rounds:
        for kind in ("click", "release", "switch"):
            for name, value in zip(("p50", "p95"), p50_p95(phase[kind]), strict=True):
                figures.setdefault(f"{kind} {name}", []).append(value)
        figures.setdefault("open", []).append(statistics.median(phase["open"]))
        for group, share in phase["cpu"].items():
            figures.setdefault(group, []).append(share)
    lost = sum(t is None for phase in rounds for kind in ("click", "release", "switch") for t in phase[kind])
    made = sum(len(phase[kind]) for phase in rounds for kind in ("click", "release", "switch"))
    captionless = sum(len(phase["captionless"]) for phase in rounds)
    return {name: statistics.median(values) for name, values in figures.items()} | {
        "lost": lost, "made": made, "captionless": captionless
    }  # fmt: skip


def report(result: dict, args: argparse.Namespace) -> None:
    print(
        f"machine: {machine_description()}; server: {args.server_python}; simulated sessions in this process; "
        f"{args.gestures} gestures a session ({args.solo_gestures} alone), {args.per_page} a page, a pause of "
        f"{args.pace[0]:g} to {args.pace[1]:g} s after each answer; training: preset {args.preset} on MNIST; "
        f"medians of {args.rounds} rounds; first open of Explore, then Generate: {result['cold_open']:.2f} s"
    )
    kinds = ("click p50", "click p95", "release p50", "release p95", "switch p50", "switch p95")
    print("| sessions | training | " + " | ".join(kinds) + " | p95 / reference's: click, release | open Explore "
          f"| no answer in {args.timeout:g} s | processors: server / training / sessions / others |")  # fmt: skip
    print("| --- " * 12 + "|")
    reference = summary(result["phases"][(1, False)])
    for (size, training), rounds in result["phases"].items():
        figures = summary(rounds)
        ratios = [figures[f"{kind} p95"] / reference[f"{kind} p95"] for kind in ("click", "release")]
        shares = " / ".join(f"{figures[group]:.0%}" for group in rounds[0]["cpu"])
        cells = [str(size), "yes" if training else "no", *(f"{figures[kind]:.0f} ms" for kind in kinds)]
        cells += [f"{ratios[0]:.1f}, {ratios[1]:.1f}", f"{figures['open']:.2f} s"]
        cells += [f"{figures['lost']} of {figures['made']}", shares]
        print("| " + " | ".join(cells) + " |")
        if figures["captionless"]:
            print(f"  ({figures['captionless']} answers came without their caption: timed to the run's end)")
    epochs = [phase["epochs"] for (_, training), rounds in result["phases"].items() if training for phase in rounds]
    if epochs:
        print(f"training: {epochs[0][0]} when the first phase began, {epochs[-1][1]} when the last ended")
    loaded = result["phases"].get((12, True))
    if loaded:
        p95 = summary(loaded)["click p95"]
        verdict = "met" if p95 <= TARGET_P95_MS and not any(None in phase["click"] for phase in loaded) else "NOT met"
        print(f"target: click p95 <= {TARGET_P95_MS} ms with 12 sessions and a run going: {p95:.0f} ms, {verdict}")
    print(repeat_command("bench.websocket_load", args))


def comma_separated(kind: type) -> Callable[[str], list]:
    """A flag's type: numbers of `kind` separated by commas, as `repeat_command` writes a list."""
    return lambda text: [kind(part) for part in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.websocket_load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions",
        type=comma_separated(int),
        default=[1, 12, 50],
        help="session counts, each a phase (default 1,12,50)",
    )
    parser.add_argument("--gestures", type=int, default=20, help="gestures per session (default 20)")
    parser.add_argument("--solo-gestures", type=int, default=40, help="gestures of a lone session (default 40)")
    parser.add_argument("--per-page", type=int, default=5, help="gestures on one page before changing (default 5)")
    parser.add_argument(
        "--pace",
        type=comma_separated(float),
        default=[1.0, 3.0],
        metavar="MIN,MAX",
        help="seconds a person pauses after each answer, drawn uniformly (default 1,3)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every phase, for medians (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-idle", action="store_true", help="no phases without training (only the reference)")
    parser.add_argument("--preset", default="mlp", help="the training run's preset (default mlp)")
    parser.add_argument("--train-epochs", type=int, default=1000, help="epochs asked; the run ends with the benchmark")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a gesture counts as lost")
    add_server_python_option(parser)
    args = parser.parse_args(argv)
    shared_data = REPO_ROOT.parent / "shared" / "data"
    if "VAE_DATA_DIR" not in os.environ and (shared_data / "mnist.npz").exists():
        os.environ["VAE_DATA_DIR"] = str(shared_data)  # the training run's MNIST, as CI finds it
    with tempfile.TemporaryDirectory(prefix="websocket-load-") as folder:
        with app_with_own_models(Path(folder), args.server_python) as server:
            result = asyncio.run(measure(server.url, server.pid, args))
    report(result, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
