"""Training on an image folder from the Train page, in a real browser: a zipped folder uploaded,
and a folder under the server's data root picked from the list."""

from __future__ import annotations

import zipfile

from browser_support import IDLE, open_page, screenshot
from playwright.sync_api import expect
from support import FILE_INPUT
from synthetic import write_image_folder


def choose(tab, label: str, option: str) -> None:
    tab.get_by_test_id("stSelectbox").filter(has=tab.get_by_text(label, exact=True)).click()
    tab.get_by_role("option", name=option, exact=True).click()


def fill_small_run(tab, name: str) -> None:
    choose(tab, "Preset", "mlp")
    for label, value in {"Hidden sizes": "16", "Epochs": "1", "Batch size": "8", "Image size": "16"}.items():
        tab.get_by_label(label, exact=True).fill(value)
    tab.get_by_label("Model name", exact=True).fill(name)


def finish(tab, name: str) -> None:
    tab.get_by_role("button", name="Start training").click()
    tab.get_by_text(f"Saved as {name}.").wait_for(timeout=240_000)
    tab.locator(IDLE).wait_for()


def test_a_zipped_image_folder_trains_from_the_train_page(page, app_url, tmp_path):
    folder = write_image_folder(tmp_path / "squares", per_class=10, side=20)
    archive = tmp_path / "squares.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*.png")):
            zipped.write(path, path.relative_to(tmp_path).as_posix())
    open_page(page, app_url, "train")
    choose(page, "Dataset", "Your own file")
    page.locator(FILE_INPUT).set_input_files(str(archive))
    page.get_by_role("button", name="Remove squares.zip", exact=True).wait_for()
    fill_small_run(page, "zipped-squares")
    finish(page, "zipped-squares")
    assert page.get_by_text("Trained 1 epoch.", exact=False).count() >= 1
    screenshot(page, "train-from-zip")


def test_a_folder_under_the_data_root_is_offered_and_trains(page, app_url, app_data_root):
    write_image_folder(app_data_root / "server-squares", per_class=10, side=20)
    open_page(page, app_url, "train")
    choose(page, "Dataset", "A folder on this server")
    choose(page, "Folder on this server", "server-squares")
    fill_small_run(page, "server-squares-run")
    finish(page, "server-squares-run")
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    expect(page.get_by_role("option", name="server-squares-run")).to_have_count(1)  # the list opens after the click
