"""The instructor package is laid out by layer (`instructor.LAYERS`, top to bottom): every
module lies in one layer's folder, and imports only from its own layer and the layers below."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import instructor

PACKAGE = Path(instructor.__file__).parent
TOP_LEVEL = {"__init__.py", "cli.py"}  # the package itself and the command line over it


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _package_of(path: Path) -> list[str]:
    """The dotted package a module file belongs to, as parts: ["instructor", "records"]."""
    return ["instructor", *path.relative_to(PACKAGE).parts[:-1]]


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`, exactly (not `not TYPE_CHECKING`)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(path: Path, package: list[str] | None = None) -> list[tuple[int, str]]:
    """(line, module) of every `instructor` import in `path` that runs: relative imports are
    resolved (as from `package`, default the file's own), and only the body of an
    `if TYPE_CHECKING:` is left out (its `else:` runs)."""
    tree = ast.parse(path.read_text())
    package = package if package is not None else _package_of(path)
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = (package[: len(package) - node.level + 1] if node.level else []) + (
                node.module.split(".") if node.module else []
            )
            module = ".".join(base)
            if module == "instructor":  # from instructor import x: x is the module
                found += [(node.lineno, f"instructor.{a.name}") for a in node.names]
            elif module.startswith("instructor."):
                found.append((node.lineno, module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("instructor")]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_lies_in_a_layer():
    stray = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if _layer(p) not in instructor.LAYERS and p.name not in TOP_LEVEL
    ]
    assert not stray, f"modules outside the layers {instructor.LAYERS}: {stray}"
    missing = [name for name in instructor.LAYERS if not (PACKAGE / name / "__init__.py").is_file()]
    assert not missing, f"layers without a package: {missing}"


def _upward(imports: list[tuple[int, str]], layer: str) -> list[str]:
    """The imports of a module in `layer` that reach a layer above it; the top-level modules
    (`instructor.cli`) are above every layer."""
    rank = {name: i for i, name in enumerate(instructor.LAYERS)}
    above_all = {Path(name).stem for name in TOP_LEVEL} - {"__init__"}
    found = []
    for line, module in imports:
        first = module.split(".")[1] if "." in module else ""
        target = -1 if first in above_all else rank.get(first, rank[layer])
        if target < rank[layer]:
            found.append(f"line {line}: {module}")
    return found


@pytest.mark.parametrize(
    "path", [p for p in MODULES if _layer(p)], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_a_module_imports_only_its_layer_and_those_below(path):
    upward = _upward(_runtime_imports(path), _layer(path))
    assert not upward, (
        f"{path.relative_to(PACKAGE)} ({_layer(path)}) imports from a layer above it: {upward}; "
        f"the order is {' > '.join(instructor.LAYERS)}. Move the shared piece down a layer, or "
        "import it under `if TYPE_CHECKING:` if only annotations need it."
    )


def test_the_rule_catches_an_upward_import_and_exempts_annotations(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "from instructor.commands import report\n"
        "import instructor.records.cells\n"
        "if TYPE_CHECKING:\n"
        "    from instructor.cli import main\n"
        "else:\n"
        "    from instructor.coordinator import job\n"
        "if not TYPE_CHECKING:\n"
        "    from instructor.grading import trusted_run\n"
        "from ..commands import export\n"
        "from . import cells\n"
        "from instructor import cli\n"
    )
    imports = _runtime_imports(probe, package=["instructor", "records"])
    assert sorted(imports) == [
        (2, "instructor.commands"),
        (3, "instructor.records.cells"),
        (7, "instructor.coordinator"),
        (9, "instructor.grading"),
        (10, "instructor.commands"),
        (11, "instructor.records"),
        (12, "instructor.cli"),
    ]
    assert _upward(imports, "records") == [f"line {n}: {m}" for n, m in imports if n not in (3, 11)]
    assert _upward(imports, "commands") == ["line 12: instructor.cli"]
