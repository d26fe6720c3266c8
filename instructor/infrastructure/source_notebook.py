"""The instructor's notebook of an assignment (`solutions/<id>/<id>.ipynb`), read once into what
grading needs: the set-up cell, the checking tools, the test cells and each exercise's model
solution (the functions it defines, their parameters, whether it works on torch objects).

The trusted test run and the model solutions it answers a student's calls with
(`instructor.grading.trusted_run`), diagnosis (`instructor.diagnosis.replay`) and the table of
known mistakes (`instructor.diagnosis.known_mistakes_table`) all read a source notebook through
`parse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode

from instructor.infrastructure.sandbox.static import (
    defined_functions,
    function_codes,
    positional_parameters,
    uses_torch,
)
from instructor.records.cells import (
    grade_id,
    is_hidden_test,
    is_locked_cell,
    is_solution_cell,
    is_test_cell,
    python_source,
    strip_markers,
    tested_exercise,
)


@dataclass(frozen=True)
class Model:
    """One exercise cell's model solution: its grade id (`model <i>` for a cell without one),
    its Python source (solution markers removed), the functions it defines, their positional
    parameters, and those whose code names torch."""

    label: str
    source: str
    functions: tuple[str, ...]
    parameters: dict[str, tuple[str, ...]]
    with_torch: frozenset[str]

    @property
    def needs_torch(self) -> bool:
        return bool(self.with_torch)


@dataclass(frozen=True)
class SourceNotebook:
    """What grading reads of an instructor's notebook (see `parse`)."""

    setup_cell: str  # the set-up cell as written (IPython source)
    setup: str  # ... as plain Python
    tools: list[tuple[str, str]]  # (label, IPython source) of the locked non-test code cells
    tests: list[NotebookNode]  # the test cells, visible and hidden, in order
    models: list[Model] = field(default_factory=list)

    @property
    def owner(self) -> dict[str, str]:
        """Function name -> the grade id of the exercise cell defining it."""
        return {name: m.label for m in self.models for name in m.functions}

    @property
    def with_torch(self) -> set[str]:
        """The functions whose model solution works on torch objects."""
        return {name for m in self.models for name in m.with_torch}

    @property
    def parameters(self) -> dict[str, tuple[str, ...]]:
        """Function name -> its positional parameters, as the model solution names them."""
        return {name: p for m in self.models for name, p in m.parameters.items()}

    def visible_tests(self) -> dict[str, str]:
        """Exercise -> the source of its visible test cell."""
        found = {}
        for cell in self.tests:
            name = grade_id(cell) or ""
            if not is_hidden_test(name) and tested_exercise(name):
                found[tested_exercise(name)] = cell.source
        return found


def _model(index: int, cell: NotebookNode) -> Model:
    source = python_source(strip_markers(cell.source))
    codes = function_codes(source)
    return Model(
        grade_id(cell) or f"model {index}",
        source,
        tuple(defined_functions(source)),
        {name: positional_parameters(code) for name, code in codes.items()},
        frozenset(uses_torch(source)),
    )


def parse(source_nb: NotebookNode) -> SourceNotebook:
    """Read an instructor's notebook: its first code cell is the set-up, its locked code cells
    that are not tests the checking tools, its exercise cells the model solutions."""
    code = [c for c in source_nb.cells if c.cell_type == "code"]
    setup_cell = code[0].source if code else ""
    return SourceNotebook(
        setup_cell=setup_cell,
        setup=python_source(setup_cell),
        tools=[
            (grade_id(c) or "tools", c.source)
            for c in code[1:]
            if is_locked_cell(c) and not is_test_cell(c)
        ],
        tests=[c for c in code if is_test_cell(c)],
        models=[_model(i, c) for i, c in enumerate(c for c in code if is_solution_cell(c))],
    )
