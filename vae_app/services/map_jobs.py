"""UMAP and t-SNE maps of a model's test codes, each made once, in the background, and kept.

A map takes tens of seconds (bench/RESULTS.md), so it is made in a child process of its own (spawn,
at a lower priority: pages stay responsive) while the page shows its progress, and written to the
cache folder under a hash of the codes it was made from: every session, and the server after a
restart, finds it there. One map is made at a time; two would only slow each other down on a small
machine. A map that failed says why until it is asked for again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from vae_app.services.static_cache import place, prune
from vae_core.analysis.code_maps import METHODS, MapError, MapProgress, code_map

LOGGER = logging.getLogger(__name__)
MAPS_FOLDER = "maps"  # inside the cache folder: the maps' own
MAP_NICENESS = 10  # added to the child's niceness: the app's pages get the processor first
# Changes with the libraries' settings in `code_maps`, so that a cached map made otherwise is made again.
SETTINGS_VERSION = "1"
# A map not made in this long is taken for hung, and its process ended: far past the slowest measured.
DEADLINE_SECONDS = 1800.0
STOPPED = "The process making the map stopped before it was done."


@dataclass(frozen=True)
class MapState:
    """Where a map stands: made (`coords`, and the `seconds` it took), being made (`progress`, and
    the `seconds` so far), waiting for another map to finish (`waiting`), or failed (`error`)."""

    coords: np.ndarray | None = None
    seconds: float = 0.0
    progress: MapProgress | None = None
    waiting: bool = False
    error: str | None = None


@dataclass(frozen=True)
class _Finished:
    """The child's last word: the map is written (`error` None) or why it is not."""

    seconds: float
    error: str | None = None


class _Job:
    """One map being made: its child process, and a thread that starts it and keeps its latest report.

    The thread starts the child: handing it the codes waits until its interpreter has started and reads
    them, seconds that no page should wait."""

    def __init__(self, z: np.ndarray, method: str, dimensions: int, target: Path) -> None:
        self.started = time.monotonic()
        self.progress = MapProgress("starting")
        self.finished: _Finished | None = None
        work = (z, method, dimensions, target)
        threading.Thread(target=self._run, args=work, name="vae-map-listener", daemon=True).start()

    def _run(self, z: np.ndarray, method: str, dimensions: int, target: Path) -> None:
        """Start the child and keep its reports until its last word; whatever goes wrong, the job
        ends with a `finished` that says so (a job left unfinished would hold every other map back)."""
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
        connection, child_end = context.Pipe(duplex=False)
        process = context.Process(
            target=make_in_child, args=(child_end, z, method, dimensions, target), name="vae-map", daemon=True
        )
        try:
            process.start()
            child_end.close()  # the child holds its own copy; closing ours lets a dead child show as EOF
            self.finished = self._listen(connection)
        except (EOFError, OSError):
            self.finished = _Finished(self.elapsed, STOPPED)
        except Exception:  # a report that cannot be read, a child that cannot be started
            LOGGER.exception("Making a %s map failed", method)
            self.finished = _Finished(self.elapsed, STOPPED)
        finally:
            child_end.close()
            if process.pid is not None:
                process.kill()  # a child past its deadline; one that has ended is not harmed
                process.join()

    def _listen(self, connection: Connection) -> _Finished:
        while time.monotonic() - self.started < DEADLINE_SECONDS:
            if connection.poll(1.0):
                word = connection.recv()
                if isinstance(word, _Finished):
                    return word
                self.progress = word
        LOGGER.error("A map took over %.0f s; its process was ended", DEADLINE_SECONDS)
        return _Finished(self.elapsed, f"It took over {DEADLINE_SECONDS / 60:.0f} minutes and was stopped.")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class MapJobs:
    """The server process's maps: made on request, one at a time, each kept in a cache folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[Path, _Job] = {}
        # Maps read from the cache, kept in memory: every click on a map asks for it again.
        self._made: dict[Path, MapState] = {}

    def state(self, cache: Path, z: np.ndarray, method: str, dimensions: int = 2) -> MapState:
        """The map of codes `z` by `method` in `dimensions`, kept in `cache`; started if no other map
        is being made."""
        target = map_path(cache, z, method, dimensions)
        with self._lock:
            job = self._jobs.get(target)
            if job is not None and job.finished is None:
                return MapState(seconds=job.elapsed, progress=job.progress)
            if job is not None and job.finished.error is not None:
                return MapState(seconds=job.finished.seconds, error=job.finished.error)
            if target in self._made:
                return self._made[target]
            made = read_map(target, len(z), dimensions)
            if made is not None:
                self._jobs.pop(target, None)
                self._made[target] = MapState(coords=made[0], seconds=made[1])
                return self._made[target]
            if any(other.finished is None for other in self._jobs.values()):
                return MapState(waiting=True)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:  # said without the server's paths, after "the map could not be made: "
                reason = error.strerror or type(error).__name__
                return MapState(
                    error=f"its cache folder cannot be made ({reason}); set VAE_CACHE_DIR to a writable one"
                )
            self._jobs[target] = _Job(np.asarray(z, dtype=np.float32), method, dimensions, target)
            return MapState(progress=MapProgress("starting"))

    def forget_failure(self, cache: Path, z: np.ndarray, method: str, dimensions: int = 2) -> None:
        """Let a failed map be tried again on its next request."""
        target = map_path(cache, z, method, dimensions)
        with self._lock:
            job = self._jobs.get(target)
            if job is not None and job.finished is not None:
                del self._jobs[target]


def map_path(cache: Path, z: np.ndarray, method: str, dimensions: int) -> Path:
    """Where the map of codes `z` is kept, in the maps' own folder of `cache`: named by a hash of the
    codes and the map settings, so that a retrained model's codes get a map of their own."""
    codes = np.ascontiguousarray(z, dtype=np.float32)
    digest = hashlib.sha256(f"{SETTINGS_VERSION}|{codes.shape}".encode())
    digest.update(codes.tobytes())
    return cache / MAPS_FOLDER / f"{digest.hexdigest()[:24]}-{method}-{dimensions}d.npz"


def read_map(path: Path, count: int, dimensions: int) -> tuple[np.ndarray, float] | None:
    """The coordinates and seconds kept in `path`, or None where there is no usable map (a damaged
    file, whatever its damage, is removed, to be made again)."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            coords, seconds = stored["coords"], float(stored["seconds"])
    except (FileNotFoundError, NotADirectoryError):
        return None
    except Exception:  # empty, cut short, not an npz, other arrays: np.load has many ways to refuse
        _discard(path)
        return None
    if coords.dtype.kind != "f" or coords.shape != (count, dimensions) or not np.isfinite(coords).all():
        _discard(path)
        return None
    return coords, seconds


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):  # one that cannot be removed is written over when made again
        path.unlink(missing_ok=True)


def make_in_child(connection: Connection, z: np.ndarray, method: str, dimensions: int, target: Path) -> None:
    """The child process: make the map, reporting its progress, write it into place, say it is done."""
    if hasattr(os, "nice"):
        os.nice(MAP_NICENESS)
    # umap-learn imports TensorFlow for its parametric model alone: seconds and memory this map does not need.
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]
    started = time.monotonic()
    try:
        coords = code_map(z, method, dimensions, report=connection.send)
        seconds = time.monotonic() - started

        def write(partial: Path) -> None:
            with open(partial, "wb") as stream:
                np.savez(stream, coords=coords, seconds=seconds)

        place(target, write)
        prune(target.parent, ".npz")
        connection.send(_Finished(seconds))
    except BrokenPipeError:  # the server that asked is gone: no one to tell
        return
    except MapError as error:  # too few codes: said as it is
        _last_word(connection, _Finished(time.monotonic() - started, str(error)))
    except OSError as error:  # a full disk, a folder gone: said without the server's paths
        LOGGER.exception("Writing a %s map failed", method)
        message = f"Writing the map failed: {error.strerror or type(error).__name__}."
        _last_word(connection, _Finished(time.monotonic() - started, message))
    except Exception:  # in full to the server's log; to the page, without the paths a library's error may hold
        LOGGER.exception("Making a %s map failed", method)
        message = f"{METHODS[method]} failed on these codes; the server's log says why."
        _last_word(connection, _Finished(time.monotonic() - started, message))
    connection.close()


def _last_word(connection: Connection, finished: _Finished) -> None:
    with contextlib.suppress(BrokenPipeError):  # the server that asked is gone: no one to tell
        connection.send(finished)
