"""UMAP and t-SNE maps of latent codes, and the server's making and keeping of them."""

from __future__ import annotations

import time

import numpy as np
import pytest
from support import keep_map

from vae_app.services.map_jobs import MapJobs, map_path, read_map
from vae_core.analysis.code_maps import LAYOUT_STAGE, MIN_CODES, NEIGHBOURS_STAGE, MapError, MapProgress, code_map
from vae_core.analysis.code_maps import _CountsStream as CountsStream


def _clusters(per_cluster: int = 60, dims: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Three tight clusters, far apart in `dims` dimensions, and which each code belongs to."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 4.0, size=(3, dims))
    labels = np.repeat(np.arange(3), per_cluster)
    return (centres[labels] + rng.normal(0.0, 0.2, size=(len(labels), dims))).astype(np.float32), labels


def _nearest_neighbour_agreement(coords: np.ndarray, labels: np.ndarray) -> float:
    """The share of points whose nearest other point on the map has their label."""
    distances = np.linalg.norm(coords[:, None, :] - coords[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    return float(np.mean(labels[distances.argmin(axis=1)] == labels))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["umap", "tsne"])
@pytest.mark.parametrize("dimensions", [2, 3])
def test_a_map_keeps_clusters_apart_reports_its_progress_and_repeats_itself(method, dimensions):
    z, labels = _clusters()
    reports = []

    coords = code_map(z, method, dimensions, seed=0, report=reports.append)

    assert coords.shape == (len(z), dimensions) and coords.dtype == np.float32 and np.isfinite(coords).all()
    assert _nearest_neighbour_agreement(coords, labels) == 1.0
    assert reports[0].stage == NEIGHBOURS_STAGE and reports[-1].stage == LAYOUT_STAGE
    assert reports[-1].done == reports[-1].total > 0
    assert [report.done for report in reports] == sorted(report.done for report in reports)
    np.testing.assert_array_equal(code_map(z, method, dimensions, seed=0), coords)


def test_a_map_refuses_too_few_codes_and_unknown_methods_saying_what_it_needs():
    z, _ = _clusters()
    with pytest.raises(MapError, match=f"at least {MIN_CODES} test images; this model has 5"):
        code_map(z[:5], "umap")
    with pytest.raises(MapError, match="not numbers"):
        code_map(np.where(np.arange(len(z))[:, None] == 3, np.nan, z), "tsne")
    with pytest.raises(ValueError, match="Expected a map method among"):
        code_map(z, "isomap")
    with pytest.raises(ValueError, match="Expected 2 or 3 map dimensions"):
        code_map(z, "tsne", dimensions=4)


def test_a_map_is_kept_under_a_hash_of_the_codes_and_its_settings(tmp_path):
    z, _ = _clusters()
    assert map_path(tmp_path, z, "umap", 2) == map_path(tmp_path, z.astype(np.float64), "umap", 2)
    names = {map_path(tmp_path, z, "umap", 2), map_path(tmp_path, z + 1e-3, "umap", 2)}
    names |= {map_path(tmp_path, z, "tsne", 2), map_path(tmp_path, z, "umap", 3)}
    assert len(names) == 4 and all(path.parent == tmp_path / "maps" for path in names)


def test_a_kept_map_is_read_back_and_a_damaged_one_is_removed_to_be_made_again(tmp_path):
    z, _ = _clusters()
    assert read_map(map_path(tmp_path, z, "umap", 2), len(z), 2) is None  # not made yet
    coords = np.random.default_rng(1).normal(size=(len(z), 2)).astype(np.float32)
    path = keep_map(tmp_path, z, "umap", coords, seconds=12.5)
    read = read_map(path, len(z), 2)
    assert read is not None and np.array_equal(read[0], coords) and read[1] == 12.5

    damages = {
        "empty": lambda: path.write_bytes(b""),
        "not a zip": lambda: path.write_bytes(b"not a zip"),
        "cut short": lambda: path.write_bytes(b"PK\x03\x04 cut short"),
        "the wrong shape": lambda: np.savez(path, coords=coords[:-1], seconds=1.0),
        "words for numbers": lambda: np.savez(path, coords=coords.astype(str), seconds=1.0),
        "no numbers": lambda: np.savez(path, coords=np.full_like(coords, np.nan), seconds=1.0),
        "another array": lambda: np.savez(path, points=coords, seconds=1.0),
    }
    for damage, write in damages.items():
        write()
        assert read_map(path, len(z), 2) is None and not path.exists(), damage


def test_the_server_hands_out_a_kept_map_without_making_it_again(tmp_path):
    z, _ = _clusters()
    coords = np.zeros((len(z), 2), dtype=np.float32)
    keep_map(tmp_path, z, "tsne", coords, seconds=3.0)

    state = MapJobs().state(tmp_path, z, "tsne")

    assert state.coords is not None and np.array_equal(state.coords, coords) and state.seconds == 3.0


def _until_settled(jobs: MapJobs, *request):
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = jobs.state(*request)
        if state.coords is not None or state.error is not None:
            return state
        time.sleep(0.2)
    raise AssertionError("the map was neither made nor failed in 5 minutes")


@pytest.mark.slow
def test_the_server_makes_one_map_at_a_time_in_the_background_and_keeps_it(tmp_path):
    z, labels = _clusters()
    jobs = MapJobs()

    first = jobs.state(tmp_path, z, "tsne")
    second = jobs.state(tmp_path, z, "umap")

    assert first.coords is None and first.progress is not None and second.waiting
    made = _until_settled(jobs, tmp_path, z, "tsne")
    assert made.error is None and made.seconds > 0 and _nearest_neighbour_agreement(made.coords, labels) == 1.0
    assert map_path(tmp_path, z, "tsne", 2).is_file()
    # Another server process (a restart) finds it kept.
    assert np.array_equal(MapJobs().state(tmp_path, z, "tsne").coords, made.coords)


@pytest.mark.slow
def test_a_map_that_cannot_be_made_says_why_until_asked_again(tmp_path):
    z, _ = _clusters()
    jobs = MapJobs()
    jobs.state(tmp_path, z[:5], "umap")

    failed = _until_settled(jobs, tmp_path, z[:5], "umap")

    assert failed.error == "A UMAP map needs at least 10 test images; this model has 5."
    assert jobs.state(tmp_path, z[:5], "umap").error == failed.error  # not started again on every rerun
    jobs.forget_failure(tmp_path, z[:5], "umap")
    assert jobs.state(tmp_path, z[:5], "umap").progress is not None  # tried again


def test_a_cache_that_cannot_be_made_is_said_without_its_path(tmp_path):
    z, _ = _clusters()
    (tmp_path / "a-file").write_text("not a folder")

    state = MapJobs().state(tmp_path / "a-file" / "cache", z, "umap")

    assert state.coords is None and "cache folder cannot be made" in state.error and str(tmp_path) not in state.error


def test_umaps_progress_bar_is_read_as_counts():
    reports = []
    stream = CountsStream(reports.append)
    for text in ("\r0/500\n", "\r", "\r245/500\n", "Epochs completed"):
        stream.write(text)
    assert reports == [MapProgress("laying the map out", 0, 500), MapProgress("laying the map out", 245, 500)]


def test_codes_that_are_no_numbers_make_no_map_and_say_so(tmp_path):
    z, _ = _clusters()
    z[7] = np.nan
    jobs = MapJobs()
    jobs.state(tmp_path, z, "umap")

    failed = _until_settled(jobs, tmp_path, z, "umap")

    assert failed.error == "Some of the codes are not numbers (the model diverged): they make no map."
    assert not map_path(tmp_path, z, "umap", 2).exists()
