"""What the project promises about itself: pyproject.toml describes the dependencies README's
commands install, no pin admits the next minor's pre-releases, and end users get the app without
Streamlit's developer tools."""

from __future__ import annotations

import fnmatch
import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from support import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def requirement_lines(name: str) -> list[str]:
    """The requirements in a requirements file, without comments, blank lines or `-r` includes."""
    lines = (line.split("#")[0].strip() for line in (REPO_ROOT / name).read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-r ")]


def same(lines: list[str]) -> list[str]:
    return sorted(str(Requirement(line)) for line in lines)


def test_pyproject_lists_what_requirements_txt_installs():
    assert same(PYPROJECT["project"]["dependencies"]) == same(requirement_lines("requirements.txt"))


def test_pyprojects_dev_extra_lists_what_requirements_dev_txt_adds():
    assert "-r requirements.txt" in (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert same(dev) == same(requirement_lines("requirements-dev.txt"))


@pytest.mark.parametrize("name", ["keras", "tensorflow", "tensorflow-cpu", "streamlit"])
def test_the_core_pins_admit_neither_the_next_minor_nor_its_pre_releases(name):
    (pin,) = [Requirement(line) for line in requirement_lines("requirements.txt") if Requirement(line).name == name]
    floor = min(Version(spec.version) for spec in pin.specifier)
    for version in (f"{floor.major}.{floor.minor + 1}.0rc0", f"{floor.major}.{floor.minor + 1}.0"):
        assert not pin.specifier.contains(version, prereleases=True), f"{pin} admits {version}"


def test_python_versions_are_those_tensorflow_and_streamlit_support_as_readme_says():
    # TensorFlow 2.21 ships wheels for 3.10 to 3.13; Streamlit 1.67 and Keras 3.15 need 3.11.
    supported = SpecifierSet(PYPROJECT["project"]["requires-python"])
    pythons = ("3.10", "3.11", "3.12", "3.13", "3.14")
    assert [python for python in pythons if python in supported] == ["3.11", "3.12", "3.13"]
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py311"
    assert "Python 3.11 to 3.13" in (REPO_ROOT / "README.md").read_text().split("## ")[0]


def test_end_users_get_no_developer_tools_and_no_email_prompt():
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "viewer"  # no Deploy button, rerun or clear-cache items
    assert config["server"]["showEmailPrompt"] is False
    assert config["browser"]["gatherUsageStats"] is False


def layout_section() -> str:
    """docs/architecture.md's package map."""
    architecture = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return architecture.split("## Package map", 1)[1]


def test_the_package_map_names_every_module_and_folder_there_is():
    layout = layout_section()
    folders = [
        "app_pages",
        "vae_app",
        "vae_app/panels",
        "vae_app/services",
        "vae_core",
        *(f"vae_core/{package}" for package in ("data", "model", "bundles", "analysis", "training", "cli")),
        "bench",
        "scripts",
        "tests",
        "tests/browser",
    ]
    for folder in folders:
        assert f"`{folder}/`" in layout or f"`{folder.split('/')[-1]}/`" in layout, folder
        for module in sorted((REPO_ROOT / folder).glob("*.py")):
            if module.stem != "__init__" and not module.stem.startswith("test_"):
                assert f"`{module.stem}`" in layout or f"{folder}/{module.name}" in layout, f"{folder}/{module.name}"


def test_every_module_the_package_map_names_exists():
    names = set(re.findall(r"`([a-z_]+)`", layout_section()))
    modules = {path.stem for path in REPO_ROOT.glob("*/**/*.py")} | {path.stem for path in REPO_ROOT.glob("*.py")}
    assert names <= modules, sorted(names - modules)


def test_a_wheel_holds_both_packages_and_the_command_line_programs():
    """What `pip wheel .` packs (checked by building one by hand: docs/architecture.md): every folder
    of the two packages is a package setuptools finds, the browser files travel with them, and each
    console script names a `main` that exists."""
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["vae_core*", "vae_app*"]
    for top in ("vae_core", "vae_app"):
        for folder in [REPO_ROOT / top, *(path for path in (REPO_ROOT / top).rglob("*") if path.is_dir())]:
            if folder.name != "__pycache__" and any(folder.glob("*.py")):
                assert (folder / "__init__.py").is_file(), f"{folder.relative_to(REPO_ROOT)} is not a package"
    shipped = PYPROJECT["tool"]["setuptools"]["package-data"]["vae_app"]
    for path in [*(REPO_ROOT / "vae_app").rglob("*.js"), *(REPO_ROOT / "vae_app").rglob("*.css")]:
        inside = path.relative_to(REPO_ROOT / "vae_app").as_posix()
        assert any(fnmatch.fnmatch(inside, pattern) for pattern in shipped), f"{inside} would be left out"
    for script, target in PYPROJECT["project"]["scripts"].items():
        module, function = target.split(":")
        source = (REPO_ROOT / module.replace(".", "/")).with_suffix(".py").read_text(encoding="utf-8")
        assert f"def {function}(" in source, script
    assert PYPROJECT["project"]["license"] == "Apache-2.0" and (REPO_ROOT / "LICENSE").is_file()
