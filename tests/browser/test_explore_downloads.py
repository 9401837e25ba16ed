"""Explore's downloads, clicked as a person does: the test set's latent codes as CSV (and, after a
click on the map, the selection's), and the Embedding Projector's zip, each file as the tools read it."""

from __future__ import annotations

import csv
import io
import zipfile

from browser_support import click_point, open_map, open_view, screenshot
from playwright.sync_api import expect

from tests.streamlit_server import REPO_ROOT
from vae_core.bundles.bundle import load_bundle

VIEW = "Download the latent codes (CSV, NPZ, Embedding Projector)"


def downloaded(tab, label: str, path) -> bytes:
    """Click the download button labelled `label`; the file's bytes, saved at `path` on the way."""
    with tab.expect_download() as download:
        tab.get_by_role("button", name=label).click()
    download.value.save_as(path)
    return path.read_bytes()


def test_the_codes_and_the_projector_files_download_from_explore(page, app_url, tmp_path):
    atlas = load_bundle(REPO_ROOT / "pretrained" / "mnist-conv-2d").atlas
    point = open_map(page, app_url)[0]
    click_point(page, point)  # a selection of one: its codes come too
    expect(page.locator(".clicked-image canvas.reconstruction")).to_have_attribute("data-index", str(point[2]))
    open_view(page, VIEW)

    rows = list(csv.DictReader(io.StringIO(downloaded(page, "CSV of every test image", tmp_path / "a.csv").decode())))
    assert len(rows) == len(atlas.z_mean) and rows[0].keys() >= {"index", "label", "z_mean_0", "z_mean_1", "neg_elbo"}
    assert [int(row["label"]) for row in rows[:50]] == atlas.labels[:50].tolist()
    assert abs(float(rows[9]["z_mean_1"]) - atlas.z_mean[9, 1]) < 1e-4

    archive = zipfile.ZipFile(io.BytesIO(downloaded(page, "Embedding Projector files (zip)", tmp_path / "p.zip")))
    assert sorted(archive.namelist()) == [
        "projector/metadata.tsv", "projector/projector_config.pbtxt", "projector/sprite.png", "projector/vectors.tsv"
    ]  # fmt: skip
    assert len(archive.read("projector/vectors.tsv").decode().splitlines()) == len(atlas.z_mean)
    selected = downloaded(page, "CSV of the 1 selected image", tmp_path / "one.csv").decode().splitlines()
    assert len(selected) == 2 and selected[1].split(",")[0] == str(point[2])
    page.get_by_role("button", name="Embedding Projector files (zip)").scroll_into_view_if_needed()
    screenshot(page, "explore-downloads")
