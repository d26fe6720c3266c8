"""nbgrader's cell metadata and the markers inside cell sources, spelled in one place.

Every part of the course that asks "is this a test cell?", "which exercise is this?", or "where do
the hidden tests start?" asks here: the grader, the cell rebuilder, feedback, publish and the
tests.
"""

from __future__ import annotations

import re

from nbformat.notebooknode import NotebookNode

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTION_MARKERS = (SOLUTION_BEGIN, SOLUTION_END)
HIDDEN_MARKERS = (HIDDEN_BEGIN, HIDDEN_END)
# Every mistake catalogue (solutions/<id>/mistakes.py, `instructor.diagnosis.catalogue`) holds this
# line.
CATALOGUE_MARKER = "### MISTAKE CATALOGUE: instructor material, never published"
# What must never appear in anything students receive (notebooks/, a published copy).
INSTRUCTOR_MARKERS = (*SOLUTION_MARKERS, *HIDDEN_MARKERS, CATALOGUE_MARKER)
TEST_PREFIXES = ("test_", "hidden_")  # test_<exercise>: its visible check; hidden_<exercise>
# Read-only cells that define the oracle and the checks (`checking_tools`, `checking_tools_<x>`):
# collapsed in the student version, so a student sees exercise, then check.
CHECKING_TOOLS_PREFIX = "checking_tools"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
# A submitted cell larger than this is not graded or run (`too_large`): the grader's own process
# parses exercise cells and nbgrader reads every cell, before any of the student's limits apply.
MAX_CELL_CHARS = 200_000
MAX_CELL_LINES = 5_000


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata ({} for a plain cell)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader id, or None for a plain cell."""
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def is_solution_cell(cell: NotebookNode) -> bool:
    """An exercise cell: the student writes its code."""
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_test_cell(cell: NotebookNode) -> bool:
    """A code cell that awards points and holds no answer: a visible or hidden test."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_checking_tools_cell(cell: NotebookNode) -> bool:
    """A read-only code cell that defines the oracle and the checks the test cells call."""
    name = grade_id(cell)
    return (
        cell.cell_type == "code"
        and is_locked_cell(cell)
        and name is not None
        and name.startswith(CHECKING_TOOLS_PREFIX)
    )


def is_locked_cell(cell: NotebookNode) -> bool:
    """A cell the student may not change (tests, checking tools, read-only prose)."""
    return bool(nbgrader_meta(cell).get("locked"))


_STUB = re.compile(r"#\s*YOUR CODE HERE\s*\n\s*raise NotImplementedError\(\)")


def is_unwritten(source: str) -> bool:
    """An exercise cell still holding the released stub (`CODE_STUB`, as indented there)."""
    return bool(_STUB.search(source))


def too_large(source: str) -> str | None:
    """How a cell's source exceeds the size a submitted cell may have ("N characters" or
    "N lines", the limit), or None when it does not."""
    if len(source) > MAX_CELL_CHARS:
        return f"{MAX_CELL_CHARS} characters"
    if source.count("\n") >= MAX_CELL_LINES:
        return f"{MAX_CELL_LINES} lines"
    return None


def tested_exercise(grade_id: str) -> str | None:
    """The exercise a test cell checks (test_<name> and hidden_<name> both check <name>), or
    None for a grade id that is not a test's."""
    for prefix in TEST_PREFIXES:
        if grade_id.startswith(prefix) and len(grade_id) > len(prefix):
            return grade_id[len(prefix) :]
    return None


def is_hidden_test(grade_id: str) -> bool:
    """A hidden test's grade id (hidden_<exercise>)."""
    return grade_id.startswith(TEST_PREFIXES[1])


def without_block(source: str, begin: str, end: str, keep: str | None = None) -> str:
    """`source` with every begin..end block (marker lines included) removed; `keep`, if given,
    is put where each block was."""
    kept, inside = [], False
    for line in source.splitlines():
        if line.strip() == begin:
            inside = True
            if keep is not None:
                kept.append(keep)
        elif line.strip() == end and inside:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def strip_markers(source: str) -> str:
    """A solution cell's source without the BEGIN/END SOLUTION marker lines."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def released_source(source: str) -> str:
    """A test cell's source as students receive it: hidden tests removed (as nbgrader's
    ClearHiddenTests does)."""
    return without_block(source, HIDDEN_BEGIN, HIDDEN_END)


def python_source(source: str) -> str:
    """IPython cell source as plain Python (magics become get_ipython() calls), as IPython
    writes it, in time linear in the cell's length (`instructor.records.ipython_source`)."""
    from instructor.records.ipython_source import transform_cell

    return transform_cell(source)
