"""The shape of the code, checked from its imports: the core's packages form layers that import only
downwards, no module imports itself round a circle, and the core knows nothing of the app or of
Streamlit. Imports under `if TYPE_CHECKING:` are left out: they name types and run nothing. And no
function of the two packages runs past fifty lines."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from support import REPO_ROOT

# The core's packages, highest first: each may import from its own layer and those below it.
# Modules directly in vae_core/ (config, wording, size_limits, provenance) are the floor.
CORE_LAYERS = ("cli", "imports", "training", "exports", "analysis", "bundles", "model", "data")
LARGEST_PACKAGE = 12  # modules in one folder of the core, beyond which it wants splitting


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """The vae_core and vae_app modules `path` imports when it runs (at the top or in a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from package import module` imports the module
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
    return {name for name in found if name.split(".")[0] in {"vae_core", "vae_app", "streamlit"}}


MODULES = {module_name(path): path for top in ("vae_core", "vae_app") for path in (REPO_ROOT / top).rglob("*.py")}
IMPORTS = {name: runtime_imports(path) for name, path in MODULES.items()}


def core_layer(module: str) -> int:
    """The layer's height (0 the highest); the floor of modules directly in vae_core is the lowest."""
    parts = module.split(".")
    return CORE_LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in CORE_LAYERS else len(CORE_LAYERS)


def imports_where(importer: str, wrong: Callable[[str, str], bool]) -> list[str]:
    """Every `module -> imported` line of modules under `importer` whose import is `wrong`."""
    return sorted(
        f"{module} -> {imported}"
        for module, imported_names in IMPORTS.items()
        if module.startswith(importer)
        for imported in imported_names
        if wrong(module, imported)
    )


def test_the_core_imports_only_downwards():
    def upward_in_the_core(module: str, imported: str) -> bool:
        return imported.startswith("vae_core") and core_layer(imported) < core_layer(module)

    upward = imports_where("vae_core", upward_in_the_core)
    assert not upward, "imports up the layers " + " > ".join(CORE_LAYERS) + ":\n" + "\n".join(upward)


def test_the_core_knows_nothing_of_the_app_or_streamlit():
    leaks = imports_where("vae_core", lambda module, imported: not imported.startswith("vae_core"))
    assert not leaks, "\n".join(leaks)


def test_no_module_imports_itself_round_a_circle():
    graph = {module: {name for name in names if name in MODULES} for module, names in IMPORTS.items()}
    circles = []
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                circles.append(" -> ".join([*trail[trail.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("package", sorted({path.parent for path in (REPO_ROOT / "vae_core").rglob("*.py")}))
def test_each_core_package_is_small_and_says_what_lives_in_it(package):
    modules = [path for path in package.glob("*.py") if path.name != "__init__.py"]
    assert len(modules) <= LARGEST_PACKAGE, f"{package.name} holds {len(modules)} modules"
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
    assert docstring, f"{package.relative_to(REPO_ROOT)}/__init__.py should say what lives there"


def test_the_apps_services_run_without_streamlit():
    allowed = ("vae_core", "vae_app.services")  # not Streamlit, nor the app's drawing modules
    drawing = imports_where("vae_app.services", lambda _, imported: not imported.startswith(allowed))
    assert not drawing, "\n".join(drawing)


MAX_FUNCTION_LINES = 50


def test_no_function_runs_past_fifty_lines():
    """A function that needs more has more than one thing to say: name the parts (signature and
    docstring counted)."""
    functions = [
        (module, node)
        for module, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    lines = [(f"{module}.{node.name}", node.end_lineno - node.lineno + 1) for module, node in functions]
    long = [f"{name}: {count} lines" for name, count in lines if count > MAX_FUNCTION_LINES]
    assert not long, "\n".join(long)
