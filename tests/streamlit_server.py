"""A `streamlit run` server on a free local port and headless Debian chromium, for the browser
tests and the browser benchmark alike."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The page once its script has run to the end: what a browser test or benchmark waits for after a gesture.
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Flags for a closed network: without the background ones chromium keeps dialling Google's hosts.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ServerFailed(RuntimeError):
    """The server exited or did not answer its health check in time; the message names its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class RunningServer:
    """A started server: where it answers, its process, and `started`, its `time.perf_counter()`
    at launch, from which `seconds_to_healthy` passed before its health check answered."""

    url: str
    pid: int
    started: float
    seconds_to_healthy: float


@contextlib.contextmanager
def streamlit_server(
    script: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
    root: Path = REPO_ROOT,
) -> Iterator[RunningServer]:
    """Run `streamlit run script` with the interpreter `python` from the checkout at `root` (its
    modules, settings and models; another checkout serves older code) until the block ends; yield
    it once it answers its health check."""
    port = free_port()
    command = [python, "-m", "streamlit", "run", script, "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
    started = time.perf_counter()
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=root, env={**os.environ, **(env or {})}, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            yield RunningServer(url, server.pid, started, _wait_until_healthy(server, url, log_path, started))
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_healthy(server: subprocess.Popen, url: str, log_path: Path, started: float) -> float:
    deadline = started + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return time.perf_counter() - started
        except OSError:
            if server.poll() is not None or time.perf_counter() > deadline:
                raise ServerFailed(f"streamlit did not start; see {log_path}") from None
            time.sleep(0.1)


def add_server_python_option(parser: argparse.ArgumentParser) -> None:
    """`--server-python`: the interpreter the servers run under. The development environment has JAX,
    which TensorFlow imports when it is there (about 0.4 s more to import TensorFlow); an environment
    made from requirements.txt alone, as README's app command makes, measures what users get."""
    parser.add_argument(
        "--server-python",
        default=sys.executable,
        help="Python of the environment to serve from, e.g. a venv made from requirements.txt "
        "(default: this interpreter)",
    )


def descendant_pids(pid: int) -> list[tuple[int, int]]:
    """Every process below `pid` (children, theirs, ...) from Linux /proc, as (pid, start time)
    pairs: the start time tells a process apart from a later one given the same id."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while listed
        children.setdefault(int(fields[1]), []).append((int(entry.name), int(fields[19])))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child[0])
    return found


def end_processes(processes: list[tuple[int, int]]) -> list[int]:
    """Kill those of `processes` ((pid, start time) pairs from `descendant_pids`) still running,
    for instance a server's worker that outlived it; returns the ids it ended."""
    ended = []
    for pid, start in processes:
        try:
            if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]) != start:
                continue  # the id now names another process
            os.kill(pid, signal.SIGKILL)
            ended.append(pid)
        except (OSError, IndexError, ValueError):
            continue  # already gone
    return ended


@contextlib.contextmanager
def app_with_own_models(work: Path, python: str | None = None) -> Iterator[RunningServer]:
    """The app served with an empty models folder under `work`. On the way out the processes it
    started (a training run) are ended too, and if anything failed the server log's tail is printed."""
    log, leftovers = work / "app.log", []
    try:
        with streamlit_server(
            "streamlit_app.py", log, {"VAE_MODELS_DIR": str(work / "models")}, python=python
        ) as server:
            try:
                yield server
            finally:
                leftovers = descendant_pids(server.pid)
    except BaseException:
        print(f"server log, last lines:\n{log.read_text()[-3000:]}", file=sys.stderr)
        raise
    finally:
        end_processes(leftovers)
