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


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every `instructor` import in `path` that runs, i.e. not under
    `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("instructor"):
            if node.module == "instructor":
                found += [(node.lineno, f"instructor.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
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
    """The imports of a module in `layer` that reach a layer above it."""
    rank = {name: i for i, name in enumerate(instructor.LAYERS)}
    return [
        f"line {line}: {module}"
        for line, module in imports
        if rank.get(module.split(".")[1] if "." in module else "", rank[layer]) < rank[layer]
    ]


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
    )
    imports = _runtime_imports(probe)
    assert imports == [(2, "instructor.commands"), (3, "instructor.records.cells")]
    assert _upward(imports, "records") == ["line 2: instructor.commands"]
    assert _upward(imports, "commands") == []
